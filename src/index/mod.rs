//! The on-disk index: its schema, its documents, and opening it safely.
//!
//! Every commit carries a payload naming the schema version, so an index
//! built by another version of kontakt is refused with a way out instead of
//! answering wrongly.

pub mod document;
pub mod schema;

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tantivy::Index;

pub use schema::{Fields, IndexSchema};

/// The commit payload.
#[derive(Serialize, Deserialize)]
pub struct CommitPayload {
    pub schema_version: u32,
}

impl CommitPayload {
    pub fn current(schema: &IndexSchema) -> String {
        serde_json::to_string(&CommitPayload {
            schema_version: schema.version,
        })
        .expect("payload serializes")
    }
}

/// True when `dir` holds a committed index.
pub fn exists(dir: &Path) -> bool {
    dir.join("meta.json").is_file()
}

/// Creates an empty index in `dir` (which must be empty or absent).
pub fn create(dir: &Path, schema: &IndexSchema) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Index::create_in_dir(dir, schema.schema.clone())
        .with_context(|| format!("creating an index in {}", dir.display()))
}

/// Opens the index in `dir`, refusing one of another schema version.
pub fn open(dir: &Path, schema: &IndexSchema) -> anyhow::Result<Index> {
    let index =
        Index::open_in_dir(dir).with_context(|| format!("opening the index in {}", dir.display()))?;
    let metas = index.load_metas()?;
    let found = metas
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<CommitPayload>(p).ok())
        .map(|p| p.schema_version);
    if found != Some(schema.version) || index.schema() != schema.schema {
        let found = found.map_or("an unknown".to_owned(), |v| format!("version {v} of the"));
        anyhow::bail!(
            "the index in {dir} was built with {found} schema, but this kontakt needs schema \
             version {want}. Rebuild it: `kontakt index --companies FILE --contacts FILE --index {dir}`, \
             or delete {dir} and `kontakt serve` rebuilds it from the bundled sample data.",
            dir = dir.display(),
            want = schema.version
        );
    }
    Ok(index)
}
