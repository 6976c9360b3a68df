//! `kontakt export`: an index's records written back as JSON Lines.
//!
//! Every document stores its record as JSON (a company, or a contact with
//! its company's summary), in every schema version. So an index, writes
//! included, can be turned back into the two files `kontakt index` reads,
//! whatever version built it: this is how an index moves to a release with
//! another schema version without losing the writes made since it was
//! built, and a backup that needs no kontakt to read.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tantivy::TantivyDocument;
use tantivy::schema::Value as _;

use crate::index::schema::columns;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSummary {
    pub companies: usize,
    pub contacts: usize,
}

/// Writes `out/companies.jsonl` and `out/contacts.jsonl` from the index in
/// `index_dir` (any schema version; it is only read). The files appear
/// under their names only once complete.
pub fn export(index_dir: &Path, out: &Path) -> anyhow::Result<ExportSummary> {
    if !crate::index::exists(index_dir) {
        anyhow::bail!("{} holds no index", index_dir.display());
    }
    let index = crate::index::open_any_version(index_dir)?;
    let record = index
        .schema()
        .get_field("record")
        .map_err(|_| anyhow::anyhow!("the index in {} stores no records", index_dir.display()))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut companies = Output::create(out, "companies.jsonl")?;
    let mut contacts = Output::create(out, "contacts.jsonl")?;
    let mut summary = ExportSummary {
        companies: 0,
        contacts: 0,
    };
    let searcher = index.reader()?.searcher();
    for segment in searcher.segment_readers() {
        let ids = segment.fast_fields().u64(columns::ID)?;
        // One block kept: documents are read in order, block by block.
        let store = segment.get_store_reader(1)?;
        for doc in segment.doc_ids_alive() {
            let stored: TantivyDocument = store.get(doc)?;
            let json = stored
                .get_first(record)
                .and_then(|v| v.as_bytes())
                .ok_or_else(|| anyhow::anyhow!("document {doc} stores no record"))?;
            // Company records carry id 0 (`document::company_document`).
            if ids.first(doc).unwrap_or(0) == 0 {
                companies.line(json)?;
                summary.companies += 1;
            } else {
                contacts.line(&contact_line(json)?)?;
                summary.contacts += 1;
            }
        }
    }
    companies.finish()?;
    contacts.finish()?;
    Ok(summary)
}

/// A stored contact as a line of `contacts.jsonl`: without the company
/// summary the API adds (the line names its company by `company_id`).
fn contact_line(json: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(json).context("a stored contact is not a JSON object")?;
    value.remove("company");
    Ok(serde_json::to_vec(&value)?)
}

/// A file written under a temporary name and renamed when complete.
struct Output {
    partial: PathBuf,
    done: PathBuf,
    file: BufWriter<File>,
}

impl Output {
    fn create(dir: &Path, name: &str) -> anyhow::Result<Output> {
        let done = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        let file =
            File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        Ok(Output {
            partial,
            done,
            file: BufWriter::with_capacity(1 << 20, file),
        })
    }

    fn line(&mut self, json: &[u8]) -> anyhow::Result<()> {
        self.file.write_all(json)?;
        self.file.write_all(b"\n")?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.partial, &self.done)
            .with_context(|| format!("writing {}", self.done.display()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::index::document::contact_document;
    use crate::index::{CommitPayload, IndexSchema};
    use crate::ingest::build::build_index_with_threads;
    use crate::ingest::{parse_company, parse_contact};
    use crate::model::Industries;

    fn fixtures() -> (PathBuf, PathBuf) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        (root.join("companies.jsonl"), root.join("contacts.jsonl"))
    }

    /// The records of a JSON Lines file, by id, as the build reads them.
    fn records<T>(
        path: &Path,
        parse: impl Fn(&str) -> T,
        id: impl Fn(&T) -> u64,
    ) -> HashMap<u64, T> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse(l.trim_start_matches('\u{feff}')))
            .map(|r| (id(&r), r))
            .collect()
    }

    #[test]
    fn an_export_rebuilds_the_same_records() {
        let tmp = tempfile::tempdir().unwrap();
        let (companies, contacts) = fixtures();
        let first = tmp.path().join("first");
        // Several segments, so that every segment is read.
        build_index_with_threads(&companies, &contacts, &first, 2).unwrap();
        let t = Industries::bundled();
        let company = |l: &str| parse_company(l, t).unwrap();
        let contact = |l: &str| parse_contact(l).unwrap();
        let want_companies = records(&companies, company, |c| c.id);
        let mut want_contacts = records(&contacts, contact, |c| c.id);

        // Writes after the build, as the server makes them: one contact
        // changed (deleted, added again), one deleted.
        let schema = IndexSchema::declared().unwrap();
        let f = &schema.fields;
        let index = crate::index::open(&first, &schema).unwrap();
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut ids: Vec<u64> = want_contacts.keys().copied().collect();
        ids.sort_unstable();
        let (changed, deleted) = (ids[10], ids[20]);
        let mut c = want_contacts[&changed].clone();
        c.job_title = Some("Exportansvarig".into());
        writer.delete_term(tantivy::Term::from_field_u64(f.id, changed));
        writer
            .add_document(contact_document(f, t, &c, &want_companies[&c.company_id]))
            .unwrap();
        want_contacts.insert(changed, c);
        writer.delete_term(tantivy::Term::from_field_u64(f.id, deleted));
        want_contacts.remove(&deleted);
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(&CommitPayload::current(&schema));
        prepared.commit().unwrap();

        let out = tmp.path().join("out");
        let summary = export(&first, &out).unwrap();
        assert_eq!(
            summary,
            ExportSummary {
                companies: want_companies.len(),
                contacts: want_contacts.len()
            }
        );
        // Every record read back from the export is the one the build read.
        assert_eq!(
            records(&out.join("companies.jsonl"), company, |c| c.id),
            want_companies
        );
        assert_eq!(
            records(&out.join("contacts.jsonl"), contact, |c| c.id),
            want_contacts
        );
        assert!(!out.join("contacts.jsonl.partial").exists());

        // And the export builds an index again.
        let second = tmp.path().join("second");
        let rebuilt = build_index_with_threads(
            &out.join("companies.jsonl"),
            &out.join("contacts.jsonl"),
            &second,
            1,
        )
        .unwrap();
        assert_eq!(rebuilt.contacts, want_contacts.len());
        assert_eq!(rebuilt.companies, want_companies.len());
    }

    #[test]
    fn a_directory_without_an_index_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let err = export(tmp.path(), &tmp.path().join("out")).unwrap_err();
        assert!(err.to_string().contains("holds no index"), "{err}");
        assert!(!tmp.path().join("out").exists());
    }
}
