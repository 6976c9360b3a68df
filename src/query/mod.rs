//! From a query string to a Tantivy query: `params` validates, `plan`
//! builds the query, `cursor` encodes and checks page positions, `scope`
//! opens scoped keys (their filters are parsed by `params` and planned by
//! `plan`, and a request carries its scope, so they live with them).

pub mod cursor;
pub mod params;
pub mod plan;
pub mod scope;
