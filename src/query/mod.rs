//! From a query string to a Tantivy query: `params` reads and validates
//! the parameters that `param_defs` defines into the `request` types,
//! `plan` builds the query, `cursor` encodes and checks page positions.
//! `search` needs only `request` (and `plan`, `cursor`). `scope` opens
//! scoped keys (their filters are parsed by `params` and planned by `plan`,
//! and a request carries its scope, so they live here too).

pub mod cursor;
pub mod param_defs;
pub mod params;
pub mod plan;
pub mod request;
pub mod scope;
