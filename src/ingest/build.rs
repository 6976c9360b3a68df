//! `kontakt index`: build a whole index from JSON Lines files.
//!
//! Files are streamed in chunks of lines; each chunk is parsed, validated and
//! turned into documents in parallel (rayon), then handed to the index writer
//! in line order. The index is built in a sibling directory and moved into
//! place only once committed, so a bad line (or a crash) leaves any index
//! already at the destination as it was.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use tantivy::{IndexWriter, TantivyDocument};

use super::{RecordError, is_blank, parse_company, parse_contact};
use crate::index::document::{company_document, contact_document};
use crate::index::{self, CommitPayload, IndexSchema};
use crate::model::{Company, FieldError, Industries};

/// Lines parsed together.
const CHUNK_LINES: usize = 16_384;
/// Index writer memory, shared by its threads.
const WRITER_MEMORY: usize = 1 << 30;

/// A contact's id and document, or why its line was refused.
type Built = Result<(u64, TantivyDocument), FieldError>;

/// A bad input line: stops the build.
#[derive(Debug)]
pub struct InputError {
    pub file: PathBuf,
    pub error: RecordError,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.error)
    }
}

impl std::error::Error for InputError {}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub companies: usize,
    pub contacts: usize,
    pub elapsed: Duration,
    pub bytes: u64,
}

/// Reads numbered lines in chunks, never the whole file.
struct Chunks {
    reader: BufReader<File>,
    line_no: usize,
}

impl Chunks {
    fn open(path: &Path) -> anyhow::Result<Chunks> {
        if path.is_dir() {
            anyhow::bail!("{} is a directory, not a JSON Lines file", path.display());
        }
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Chunks {
            reader: BufReader::with_capacity(1 << 20, file),
            line_no: 0,
        })
    }

    /// The next chunk of (line number, line), blank lines left out; empty at
    /// the end of the file. Invalid UTF-8 is reported as a line error.
    fn next_chunk(&mut self) -> anyhow::Result<Vec<(usize, Result<String, FieldError>)>> {
        let mut out = Vec::with_capacity(CHUNK_LINES);
        let mut buf = Vec::new();
        while out.len() < CHUNK_LINES {
            buf.clear();
            if self.reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            self.line_no += 1;
            if self.line_no == 1 {
                let bom = buf.len() - super::strip_bom(&buf).len();
                buf.drain(..bom);
            }
            match String::from_utf8(std::mem::take(&mut buf)) {
                Ok(line) if is_blank(&line) => {}
                Ok(line) => out.push((self.line_no, Ok(line))),
                Err(_) => out.push((
                    self.line_no,
                    Err(FieldError::syntax("line is not valid UTF-8")),
                )),
            }
        }
        Ok(out)
    }
}

fn progress(path: &Path, unit: &'static str) -> anyhow::Result<ProgressBar> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("opening {}", path.display()))?
        .len();
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {unit} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{msg}} ({{elapsed}})"
        ))
        .expect("valid template"),
    );
    Ok(bar)
}

fn read_companies(path: &Path, industries: &Industries) -> anyhow::Result<HashMap<u64, Company>> {
    let bad = |error: RecordError| InputError {
        file: path.to_owned(),
        error,
    };
    let mut companies = HashMap::new();
    let mut chunks = Chunks::open(path)?;
    loop {
        let chunk = chunks.next_chunk()?;
        if chunk.is_empty() {
            return Ok(companies);
        }
        let parsed: Vec<_> = chunk
            .into_par_iter()
            .map(|(line, text)| (line, text.and_then(|t| parse_company(&t, industries))))
            .collect();
        for (line, company) in parsed {
            let company = company.map_err(|e| bad(RecordError::new(line, e)))?;
            if companies.contains_key(&company.id) {
                Err(bad(RecordError::new(
                    line,
                    FieldError {
                        field: Some("id".into()),
                        reason: format!("duplicate company id {}", company.id),
                    },
                )))?;
            }
            companies.insert(company.id, company);
        }
    }
}

/// Builds a fresh index at `dest` from the two files.
pub fn build_index(
    companies_path: &Path,
    contacts_path: &Path,
    dest: &Path,
) -> anyhow::Result<BuildSummary> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8);
    build_index_with_threads(companies_path, contacts_path, dest, threads)
}

/// `build_index` with `threads` indexing threads. Each writes segments of
/// its own, so a small dataset ends in up to that many segments: tests use
/// it to search several segments without millions of contacts.
pub fn build_index_with_threads(
    companies_path: &Path,
    contacts_path: &Path,
    dest: &Path,
    threads: usize,
) -> anyhow::Result<BuildSummary> {
    let started = Instant::now();
    // Held until the new index has replaced the old one.
    let dest_lock = claim_destination(dest)?;
    let schema = IndexSchema::declared()?;
    let industries = Industries::bundled();
    let companies = read_companies(companies_path, industries)?;

    let staging = sibling(dest, "building")?;
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| -> anyhow::Result<BuildSummary> {
        let index = index::create(&staging, &schema)?;
        let mut writer: IndexWriter = index.writer_with_num_threads(threads, WRITER_MEMORY)?;
        index::writer::make_ready(&writer, &schema.fields);
        let f = &schema.fields;
        for company in companies.values() {
            writer.add_document(company_document(f, company))?;
        }
        let contacts = add_contacts(&mut writer, &schema, industries, &companies, contacts_path)?;
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&CommitPayload::current(&schema));
        prepared.commit()?;
        writer.wait_merging_threads()?;
        Ok(BuildSummary {
            companies: companies.len(),
            contacts,
            elapsed: started.elapsed(),
            bytes: dir_size(&staging)?,
        })
    })();
    // What was absent or empty may hold an index by now (another `serve`
    // built one meanwhile and may be writing to it): claimed again.
    let result = result.and_then(|summary| {
        let late_lock = match dest_lock {
            None => claim_destination(dest)?,
            held => held,
        };
        Ok((summary, late_lock))
    });
    match result {
        Ok((summary, _lock)) => {
            replace_dir(&staging, dest)?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

fn add_contacts(
    writer: &mut IndexWriter,
    schema: &IndexSchema,
    industries: &Industries,
    companies: &HashMap<u64, Company>,
    path: &Path,
) -> anyhow::Result<usize> {
    let bad = |error: RecordError| InputError {
        file: path.to_owned(),
        error,
    };
    let bar = progress(path, "contacts")?;
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut chunks = Chunks::open(path)?;
    let mut count = 0usize;
    // Parsing (rayon) runs a chunk ahead of indexing (Tantivy's threads),
    // so neither waits for the other.
    let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<(u64, Vec<(usize, Built)>)>>(2);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        scope.spawn(move || {
            loop {
                let chunk = match chunks.next_chunk() {
                    Ok(c) if c.is_empty() => return,
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let bytes: u64 = chunk
                    .iter()
                    .map(|(_, l)| l.as_ref().map_or(0, |l| l.len() as u64))
                    .sum();
                let docs: Vec<(usize, Built)> = chunk
                    .into_par_iter()
                    .map(|(line, text)| {
                        let built = text.and_then(|t| parse_contact(&t)).and_then(|c| {
                            let company =
                                companies.get(&c.company_id).ok_or_else(|| FieldError {
                                    field: Some("company_id".into()),
                                    reason: format!("no company with id {}", c.company_id),
                                })?;
                            Ok((
                                c.id,
                                contact_document(&schema.fields, industries, &c, company),
                            ))
                        });
                        (line, built)
                    })
                    .collect();
                // The receiver is gone when indexing stopped at a bad line.
                if tx.send(Ok((bytes, docs))).is_err() {
                    return;
                }
            }
        });
        for parsed in rx {
            let (bytes, docs) = parsed?;
            for (line, built) in docs {
                let (id, doc) = built.map_err(|e| bad(RecordError::new(line, e)))?;
                if !seen.insert(id) {
                    Err(bad(RecordError::new(
                        line,
                        FieldError {
                            field: Some("id".into()),
                            reason: format!("duplicate contact id {id}"),
                        },
                    )))?;
                }
                writer.add_document(doc)?;
                count += 1;
            }
            bar.inc(bytes);
            let rate = count as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{count} contacts, {rate:.0}/s"));
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(count)
}

/// `<dest>.<what>` next to `dest`, so a rename stays on one file system.
pub(crate) fn sibling(dest: &Path, what: &str) -> anyhow::Result<PathBuf> {
    let name = dest
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("{} is not a directory name", dest.display()))?;
    let mut s = name.to_os_string();
    s.push(format!(".{what}-{}", std::process::id()));
    Ok(dest.with_file_name(s))
}

/// Checks that `dest` may be replaced: absent, an empty directory, or an
/// index no server is writing to (its writer lock is taken and returned,
/// so none can start before the swap). Anything else is refused before any
/// work: a server writing to the old index would go on committing into the
/// new one's directory, and a directory that is not an index holds someone
/// else's files.
fn claim_destination(dest: &Path) -> anyhow::Result<Option<tantivy::directory::DirectoryLock>> {
    use tantivy::directory::{Directory, MmapDirectory};
    let Ok(meta) = std::fs::metadata(dest) else {
        return Ok(None);
    };
    if !meta.is_dir() {
        anyhow::bail!("{} exists and is not a directory", dest.display());
    }
    if index::exists(dest) {
        let dir = MmapDirectory::open(dest)?;
        return match dir.acquire_lock(&tantivy::directory::INDEX_WRITER_LOCK) {
            Ok(lock) => Ok(Some(lock)),
            Err(tantivy::directory::error::LockError::LockBusy) => Err(anyhow::anyhow!(
                "the index in {} is in use by a running server; stop it first",
                dest.display()
            )),
            Err(e) => Err(anyhow::anyhow!(
                "locking the index in {}: {e}",
                dest.display()
            )),
        };
    }
    if std::fs::read_dir(dest)?.next().is_some() {
        anyhow::bail!(
            "{} is not empty and holds no index; refusing to replace it",
            dest.display()
        );
    }
    Ok(None)
}

/// Moves the finished index at `new` to `dest`, replacing what was there.
fn replace_dir(new: &Path, dest: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    if dest.exists() {
        let old = sibling(dest, "old")?;
        std::fs::rename(dest, &old)?;
        std::fs::rename(new, dest)?;
        std::fs::remove_dir_all(&old)?;
    } else {
        std::fs::rename(new, dest)?;
    }
    Ok(())
}

fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPANY: &str = r#"{"id": 1, "name": "Acme AB", "country_code": "SE"}"#;
    const CONTACT: &str = r#"{"id": 1, "company_id": 1, "full_name": "Anna Svensson", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}"#;

    fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
        let (co, ct) = (dir.join("companies.jsonl"), dir.join("contacts.jsonl"));
        std::fs::write(&co, COMPANY).unwrap();
        std::fs::write(&ct, CONTACT).unwrap();
        (co, ct)
    }

    #[test]
    fn only_an_absent_or_empty_directory_or_an_idle_index_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let (co, ct) = inputs(tmp.path());
        let message = |dest: &Path| build_index(&co, &ct, dest).unwrap_err().to_string();

        // A directory with someone else's files: refused, files kept.
        let junk = tmp.path().join("junk");
        std::fs::create_dir_all(junk.join("sub")).unwrap();
        std::fs::write(junk.join("readme.txt"), "mine").unwrap();
        assert!(message(&junk).contains("holds no index"));
        assert_eq!(
            std::fs::read_to_string(junk.join("readme.txt")).unwrap(),
            "mine"
        );
        // A file: refused, left alone.
        let file = tmp.path().join("file");
        std::fs::write(&file, "mine").unwrap();
        assert!(message(&file).contains("not a directory"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

        // Empty, then an existing index no one writes to: built, replaced.
        let schema = IndexSchema::declared().unwrap();
        let docs = |dest: &Path| {
            let index = index::open(dest, &schema).unwrap();
            index.reader().unwrap().searcher().num_docs()
        };
        let dest = tmp.path().join("index");
        std::fs::create_dir(&dest).unwrap();
        build_index(&co, &ct, &dest).unwrap();
        assert_eq!(docs(&dest), 2, "a company and a contact");
        let two = tmp.path().join("two.jsonl");
        std::fs::write(
            &two,
            format!("{CONTACT}\n{}", CONTACT.replace("\"id\": 1,", "\"id\": 2,")),
        )
        .unwrap();
        assert_eq!(build_index(&co, &two, &dest).unwrap().contacts, 2);
        assert_eq!(docs(&dest), 3, "the new build replaced the old one");
        // An index a server writes to (its writer lock held): refused, and
        // the server's index is untouched and still takes commits.
        let live = index::open(&dest, &schema).unwrap();
        let mut writer: IndexWriter = live.writer_with_num_threads(1, 15_000_000).unwrap();
        assert!(message(&dest).contains("in use by a running server"));
        let mut commit = writer.prepare_commit().unwrap();
        commit.set_payload(&CommitPayload::current(&schema));
        commit.commit().unwrap();
        assert_eq!(docs(&dest), 3);
        drop(writer);
        build_index(&co, &ct, &dest).unwrap();
        assert_eq!(docs(&dest), 2);
        // No sibling left behind by the refusals or the builds.
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| !n.contains(".building-") && !n.contains(".old-")),
            "{names:?}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let (co, ct) = inputs(tmp.path());
        std::fs::write(&ct, format!("\u{feff}{CONTACT}")).unwrap();
        let built = build_index(&co, &ct, &tmp.path().join("index")).unwrap();
        assert_eq!(built.contacts, 1);
    }

    #[test]
    fn a_missing_input_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let (co, _) = inputs(tmp.path());
        let missing = tmp.path().join("nope.jsonl");
        let err = build_index(&co, &missing, &tmp.path().join("index")).unwrap_err();
        assert!(format!("{err:#}").contains("nope.jsonl"), "{err:#}");
        let err = build_index(&co, tmp.path(), &tmp.path().join("index")).unwrap_err();
        assert!(format!("{err:#}").contains("is a directory"), "{err:#}");
    }
}
