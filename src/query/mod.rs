//! From a query string to a Tantivy query: `params` validates, `plan`
//! builds the query, `cursor` encodes and checks page positions.

pub mod cursor;
pub mod params;
pub mod plan;
