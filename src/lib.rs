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
//! The modules are layers, declared below bottom-up: a module imports only
//! modules declared above it, so no two import each other, and a change
//! to a layer can break only the layers above it. `tests/layers.rs` reads
//! this order from this file and fails on any `crate::` path that points
//! up, naming the file and line.
//!
//! `main` (the `kontakt` binary) sits on top of them all.

// The domain (industries, companies, contacts); no HTTP, no index.
pub mod model;
// `normalize` and `tokens` of docs/api.md, used everywhere text is compared.
pub mod text;
// The stable error codes of the API, one spelling each.
pub mod error;
// The process-wide Prometheus registry, recorded into by the writer, the
// replicator and the request middleware, rendered by `GET /metrics`.
pub mod metrics;
// Scheduling tiers for background threads (nice, `SCHED_IDLE`).
pub mod priority;
// The schema (declared in `index_schema/schema.json`) and how a contact
// becomes a document: edge n-grams for `q`, whole title tokens for
// `job_title`, industry ids for the industry filters, fast fields for
// sorting and facets.
pub mod index;
// Query string → validated request → plan of keyed clauses; cursors;
// scoped keys (whose filters are query filters).
pub mod query;
// Runs plans: kept clause bitsets and sort permutations per segment
// (`cache`), orders and pages (`order`), facets, suggest.
pub mod search;
// JSON Lines in, validated, into a fresh index.
pub mod ingest;
// An index's records back out as JSON Lines, from any schema version.
pub mod export;
// The deterministic synthetic dataset (imports nothing of the crate).
pub mod generate;
// The bundled sample: the generator's output for one fixed seed, indexed
// by `kontakt serve` when its directory holds no index.
pub mod sample;
// Live upserts and deletes: one writer thread, group commit, an answer
// only once the batch is on disk.
pub mod write;
// A primary publishes its commits to an object store; read-only replicas
// follow them.
pub mod replicate;
// The HTTP API: routes, auth, limits, errors, OpenAPI; every rule it
// applies lives in a layer below.
pub mod http;
