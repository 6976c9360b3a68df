//! kontakt: find decision-makers and their contact details across Nordic
//! companies.
//!
//! Data flows one way:
//!
//! ```text
//! query string ─ query::params  ─▶ SearchRequest (validated, canonical)
//!              ─ query::plan    ─▶ FilterPlan (keyed clauses, each a Tantivy
//!                                  query) + query::cursor (position)
//!              ─ search::engine ─▶ per segment: clause bitsets ANDed, then
//!                                  total, facets, first k after the cursor
//!              ─ http           ─▶ JSON
//! ```
//!
//! * `model` — the domain (industries, companies, contacts); no HTTP, no index.
//! * `text` — `normalize` and `tokens` of docs/api.md, used everywhere text
//!   is compared.
//! * `index` — the schema (declared in `index_schema/schema.json`) and how a
//!   contact becomes a document: edge n-grams for `q`, whole title tokens
//!   for `job_title`, industry ids for the industry filters, fast fields
//!   for sorting and facets.
//! * `search` — runs plans: kept clause bitsets and sort permutations per
//!   segment (`cache`), orders and pages (`order`), facets, suggest.
//! * `ingest` — JSON Lines in, validated, into a fresh index.
//! * `write` — live upserts and deletes: one writer thread, group commit,
//!   an answer only once the batch is on disk.
//! * `replicate` — a primary publishes its commits to an object store,
//!   read-only replicas follow them.
//! * `generate` — the deterministic synthetic dataset.
//! * `sample` — the bundled sample: the generator's output for one fixed
//!   seed, indexed by `kontakt serve` when its directory holds no index.

pub mod generate;
pub mod http;
pub mod index;
pub mod ingest;
pub mod model;
pub mod priority;
pub mod query;
pub mod replicate;
pub mod sample;
pub mod scope;
pub mod search;
pub mod text;
pub mod write;
