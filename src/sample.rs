//! The bundled sample: what `kontakt serve` indexes when its directory holds
//! no index yet.
//!
//! The sample is not read from disk: it is the deterministic generator's
//! output for one fixed seed, so the binary serves it from any working
//! directory with nothing beside it (`cargo install` copies only the
//! binary). `fixtures/companies.jsonl` and `fixtures/contacts.jsonl` are the
//! same bytes, checked in for tests and for reading; a test below keeps the
//! two from drifting apart.

use std::path::Path;

use anyhow::Context;

use crate::generate::{GenerateOptions, generate};
use crate::ingest::build::{BuildSummary, build_index, sibling};

/// The seed and sizes the sample was generated with.
pub const SEED: u64 = 20261126;
pub const COMPANIES: usize = 1500;
pub const CONTACTS: usize = 20000;

/// Generates the sample next to `dest` and builds it into a fresh index at
/// `dest` (with the guarantees of [`build_index`]); the generated files are
/// removed afterwards, whether the build succeeded or not.
pub fn build(dest: &Path) -> anyhow::Result<BuildSummary> {
    let staging = sibling(dest, "sample")?;
    let result = (|| {
        generate(&GenerateOptions {
            companies: COMPANIES,
            contacts: CONTACTS,
            seed: SEED,
            out: staging.clone(),
        })
        .context("generating the sample data")?;
        build_index(
            &staging.join("companies.jsonl"),
            &staging.join("contacts.jsonl"),
            dest,
        )
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::generate_to;

    #[test]
    fn the_generated_sample_is_byte_identical_to_the_checked_in_fixtures() {
        let (mut companies, mut contacts) = (Vec::new(), Vec::new());
        generate_to(COMPANIES, CONTACTS, SEED, &mut companies, &mut contacts).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let on_disk = |name: &str| std::fs::read(fixtures.join(name)).unwrap();
        assert!(companies == on_disk("companies.jsonl"), "companies differ");
        assert!(contacts == on_disk("contacts.jsonl"), "contacts differ");
    }
}
