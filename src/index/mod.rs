//! The on-disk index: its schema, its documents, and opening it safely.
//!
//! Every commit carries a payload naming the schema version, so an index
//! built by another version of kontakt is refused with a way out instead of
//! answering wrongly. An index opened to be served (or a snapshot just
//! copied) has every file of its last commit checked against the checksum
//! Tantivy keeps in the file's footer, so a file that rotted on disk is
//! refused by name rather than answering wrongly.

pub mod directory;
pub mod document;
pub mod footer;
pub mod merge;
pub mod schema;
pub mod tag;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tantivy::index::SegmentComponent;
use tantivy::{Index, IndexSettings};

pub use directory::{CommitDirectory, Storage};
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

/// Stored records come back a page at a time, each from a different
/// place: with 4 KB store blocks (Tantivy's default is 16 KB) a hit
/// decompresses about ten records rather than forty.
pub fn settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: 4096,
        ..IndexSettings::default()
    }
}

/// Creates an empty index in `dir` (which must be empty or absent).
pub fn create(dir: &Path, schema: &IndexSchema) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let directory = CommitDirectory::open(dir)
        .with_context(|| format!("opening the directory {}", dir.display()))?;
    if Index::exists(&directory)? {
        anyhow::bail!("{} already holds an index", dir.display());
    }
    Index::create(directory, schema.schema.clone(), settings())
        .with_context(|| format!("creating an index in {}", dir.display()))
}

/// Opens the index in `dir`, refusing one of another schema version.
pub fn open(dir: &Path, schema: &IndexSchema) -> anyhow::Result<Index> {
    Ok(open_with_storage(dir, schema)?.0)
}

/// Opens the index in `dir` to serve it: [`open`], then [`verify`]. Also
/// returns the state of its storage (for the writer and `/ready`).
pub fn open_verified(dir: &Path, schema: &IndexSchema) -> anyhow::Result<(Index, Arc<Storage>)> {
    let (index, storage) = open_with_storage(dir, schema).map_err(|e| unreadable_file(dir, e))?;
    verify(&index, dir).map_err(|e| unreadable_file(dir, e))?;
    Ok((index, storage))
}

/// An opening error that names a file of the index Tantivy could not read
/// (missing, or a footer that no longer parses: a flipped byte there fails
/// before any checksum is compared) as [`Damaged`], with its way out.
fn unreadable_file(dir: &Path, e: anyhow::Error) -> anyhow::Error {
    use tantivy::directory::error::OpenReadError;
    let file = e.chain().find_map(
        |cause| match cause.downcast_ref::<tantivy::TantivyError>()? {
            tantivy::TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(path)) => {
                Some((path.clone(), "cannot be read: it is missing".to_owned()))
            }
            tantivy::TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
                Some((filepath.clone(), format!("cannot be read: {io_error}")))
            }
            _ => None,
        },
    );
    match file {
        Some(file) => Damaged {
            dir: dir.to_path_buf(),
            files: vec![file],
        }
        .into(),
        None => e,
    }
}

/// Opens the index in `dir` whatever its schema version, to read it only
/// (`export` reads the records of an index of an older version).
pub fn open_any_version(dir: &Path) -> anyhow::Result<Index> {
    let directory = CommitDirectory::open(dir)
        .with_context(|| format!("opening the index in {}", dir.display()))?;
    Index::open(directory).with_context(|| format!("opening the index in {}", dir.display()))
}

fn open_with_storage(dir: &Path, schema: &IndexSchema) -> anyhow::Result<(Index, Arc<Storage>)> {
    let directory = CommitDirectory::open(dir)
        .with_context(|| format!("opening the index in {}", dir.display()))?;
    let storage = directory.storage();
    let index = Index::open(directory)
        .with_context(|| format!("opening the index in {}", dir.display()))?;
    check_schema(&index, dir, schema)?;
    Ok((index, storage))
}

/// Files of an index that do not match their checksum (or are missing or
/// unreadable), each with why.
#[derive(Debug)]
pub struct Damaged {
    pub dir: PathBuf,
    pub files: Vec<(PathBuf, String)>,
}

impl std::fmt::Display for Damaged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (first, why) = &self.files[0];
        let dir = self.dir.display();
        write!(
            f,
            "the index in {dir} is damaged: {} {why}",
            first.display()
        )?;
        if self.files.len() > 1 {
            let all: Vec<String> = self
                .files
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            write!(f, " ({} files in all: {})", all.len(), all.join(", "))?;
        }
        write!(
            f,
            ". It is not served. Restore it from a copy made by `kontakt snapshot` \
             (`kontakt serve --index COPY`), or rebuild it: `kontakt index --companies FILE \
             --contacts FILE --index {dir}`"
        )
    }
}

impl std::error::Error for Damaged {}

/// Checks every file of the last commit of `index` (in `dir`) against the
/// CRC32 in its footer: what a write that never reached the disk whole, a
/// bit flipped by the device or a stray write leaves. Reads every byte once
/// (files in parallel). A mismatch is a [`Damaged`] error.
pub fn verify(index: &Index, dir: &Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let metas = index.load_metas()?;
    let mut files = Vec::new();
    for segment in &metas.segments {
        // Tantivy lists the delete file of a segment without deletes too.
        files.extend(
            COMPONENTS
                .iter()
                .map(|c| segment.relative_path(c.clone()))
                .chain(
                    segment
                        .has_deletes()
                        .then(|| segment.relative_path(SegmentComponent::Delete)),
                ),
        );
    }
    let mut damaged: Vec<(PathBuf, String)> = files
        .par_iter()
        .filter_map(|path| {
            let full = dir.join(path);
            if !full.is_file() {
                return Some((path.clone(), "cannot be read: it is missing".to_owned()));
            }
            let why = match footer::check_file(&full) {
                Ok(true) => return None,
                Ok(false) => "does not match its checksum".to_owned(),
                Err(e) => format!("cannot be read: {e:#}"),
            };
            Some((path.clone(), why))
        })
        .collect();
    let bytes: u64 = files
        .iter()
        .filter_map(|p| std::fs::metadata(dir.join(p)).ok())
        .map(|m| m.len())
        .sum();
    tracing::info!(
        files = files.len(),
        bytes,
        ms = started.elapsed().as_millis() as u64,
        damaged = damaged.len(),
        "checked the index files against their checksums"
    );
    if damaged.is_empty() {
        damaged = meta_disagreements(index)?;
    }
    if damaged.is_empty() {
        return Ok(());
    }
    damaged.sort();
    Err(Damaged {
        dir: dir.to_path_buf(),
        files: damaged,
    }
    .into())
}

/// `meta.json` has no checksum, but what it says of each segment (its
/// documents, and how many are deleted) must agree with the segment's own
/// whole files: the id column and the delete file.
fn meta_disagreements(index: &Index) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let metas = index.load_metas()?;
    let reader: tantivy::IndexReader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let mut out = Vec::new();
    for seg in searcher.segment_readers() {
        let Some(meta) = metas.segments.iter().find(|m| m.id() == seg.segment_id()) else {
            continue;
        };
        let rows = seg.fast_fields().u64(schema::columns::ID)?.num_docs();
        let why = if rows != meta.max_doc() {
            format!(
                "says segment {} has {} documents; its files hold {rows}",
                meta.id().uuid_string(),
                meta.max_doc()
            )
        } else if seg.num_docs() != meta.num_docs() {
            format!(
                "says segment {} has {} live documents; its delete file leaves {}",
                meta.id().uuid_string(),
                meta.num_docs(),
                seg.num_docs()
            )
        } else {
            continue;
        };
        out.push((PathBuf::from("meta.json"), why));
    }
    Ok(out)
}

/// The files every segment has (a delete file only with deletes).
const COMPONENTS: &[SegmentComponent] = &[
    SegmentComponent::Postings,
    SegmentComponent::Positions,
    SegmentComponent::Terms,
    SegmentComponent::Store,
    SegmentComponent::FastFields,
    SegmentComponent::FieldNorms,
];

/// Refuses an index of another schema version, with the way out.
fn check_schema(index: &Index, dir: &Path, schema: &IndexSchema) -> anyhow::Result<()> {
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
             version {want}. Rebuild it from its own records: `kontakt export --index {dir} \
             --out EXPORT`, then `kontakt index --companies EXPORT/companies.jsonl --contacts \
             EXPORT/contacts.jsonl --index {dir}`; or delete {dir} and `kontakt serve` rebuilds \
             it from the bundled sample data.",
            dir = dir.display(),
            want = schema.version
        );
    }
    Ok(())
}

/// Copies the last commit of the index in `src` to `out` (new or empty),
/// while `src` may be serving and taking writes: the commit's segment files
/// are copied first and its `meta.json` last, and a copy that loses a race
/// with a merge (a file removed under it) starts again. Returns the number
/// of files copied.
pub fn snapshot(src: &Path, out: &Path) -> anyhow::Result<usize> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::bail!("{} is not empty", out.display());
    }
    let schema = IndexSchema::declared()?;
    // What is not an index (or not one this version reads) is said as such,
    // before anything is created.
    if !exists(src) {
        anyhow::bail!("{} holds no index", src.display());
    }
    open(src, &schema)?;
    let mut last_error = None;
    for _attempt in 0..20 {
        let _ = std::fs::remove_dir_all(out);
        std::fs::create_dir_all(out)?;
        match copy_commit(src, out, &schema) {
            Ok(n) => return Ok(n),
            // Committed files never change: a mismatch is no race.
            Err(e) if e.is::<Damaged>() => {
                let _ = std::fs::remove_dir_all(out);
                // Whose fault: the source's (said with its way out), or the copy's.
                verify(&open(src, &schema)?, src)
                    .context(format!("nothing was copied to {}", out.display()))?;
                return Err(e.context(format!(
                    "the copy of {} went wrong (the source is whole); {} was removed",
                    src.display(),
                    out.display()
                )));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error
        .expect("an error")
        .context("the index kept changing under the copy"))
}

fn copy_commit(src: &Path, out: &Path, schema: &IndexSchema) -> anyhow::Result<usize> {
    let index = open(src, schema)?;
    let metas = index.load_metas()?;
    let prefixes: Vec<String> = metas
        .segments
        .iter()
        .map(|s| s.id().uuid_string())
        .collect();
    let mut copied = 0;
    for entry in std::fs::read_dir(src)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            std::fs::copy(src.join(&*name), out.join(&*name))
                .with_context(|| format!("copying {name}"))?;
            copied += 1;
        }
    }
    let meta = serde_json::to_vec_pretty(&metas)?;
    let tmp = out.join("meta.json.tmp");
    std::fs::write(&tmp, meta)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, out.join("meta.json"))?;
    // The copy must open, match its checksums and read like the original
    // commit did.
    let copy = open(out, schema)?;
    verify(&copy, out)?;
    let reader = copy.reader()?;
    anyhow::ensure!(
        reader.searcher().num_docs()
            == metas
                .segments
                .iter()
                .map(|s| u64::from(s.num_docs()))
                .sum::<u64>(),
        "the copy does not hold the commit's documents"
    );
    Ok(copied + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_another_schema_version_is_refused_with_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let schema = IndexSchema::declared().unwrap();
        let index = create(dir.path(), &schema).unwrap();
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(r#"{"schema_version": 0}"#);
        prepared.commit().unwrap();
        drop(writer);
        let err = open(dir.path(), &schema).unwrap_err().to_string();
        assert!(
            err.contains("version 0") && err.contains("kontakt index"),
            "{err}"
        );

        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(&CommitPayload::current(&schema));
        prepared.commit().unwrap();
        drop(writer);
        assert!(open(dir.path(), &schema).is_ok());
        assert!(exists(dir.path()));
    }
}
