//! `kontakt index`: build a whole index from JSON Lines files.
//!
//! Companies are streamed in chunks of lines. Contacts are read twice: a
//! first pass, alongside the companies, finds each line and the company it
//! names (in parallel pieces of the file), and the second takes the lines
//! grouped by company (within windows of the file that the page cache can
//! hold; see `add_contacts` for why), parses, validates and turns them
//! into documents in parallel (rayon), and hands them to the index writer. A bad line is reported as reading the file in order would
//! report it. The index is built in a sibling directory and moved into
//! place only once committed, so a bad line (or a crash) leaves any index
//! already at the destination as it was.

use std::collections::HashMap;
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

/// An input file, or an error naming it.
fn open_input(path: &Path) -> anyhow::Result<File> {
    if path.is_dir() {
        anyhow::bail!("{} is a directory, not a JSON Lines file", path.display());
    }
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

/// A line that is not text.
fn not_utf8() -> FieldError {
    FieldError::syntax("line is not valid UTF-8")
}

/// Reads numbered lines in chunks, never the whole file.
struct Chunks {
    reader: BufReader<File>,
    line_no: usize,
}

impl Chunks {
    fn open(path: &Path) -> anyhow::Result<Chunks> {
        let file = open_input(path)?;
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
                Err(_) => out.push((self.line_no, Err(not_utf8()))),
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
    build(companies_path, contacts_path, dest, threads, window_bytes())
}

/// The build, with contacts ordered by company within windows of `window`
/// bytes of input (see `add_contacts`).
fn build(
    companies_path: &Path,
    contacts_path: &Path,
    dest: &Path,
    threads: usize,
    window: usize,
) -> anyhow::Result<BuildSummary> {
    let started = Instant::now();
    // Held until the new index has replaced the old one.
    let dest_lock = claim_destination(dest)?;
    let schema = IndexSchema::declared()?;
    let industries = Industries::bundled();
    // The contacts' first pass needs no company: it runs alongside.
    let (companies, contacts) = rayon::join(
        || read_companies(companies_path, industries),
        || ContactLines::read(contacts_path),
    );
    let companies = companies?;
    let mut contacts = contacts?;
    tracing::debug!(
        companies = companies.len(),
        elapsed_s = started.elapsed().as_secs_f64(),
        "companies read"
    );

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
        let contacts = add_contacts(
            &mut writer,
            &schema,
            industries,
            &companies,
            &mut contacts,
            window,
        )?;
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

/// The contacts file's bytes: mapped when it is a regular file, read whole
/// otherwise (a pipe), since the second pass reads its lines out of order.
enum Input {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl Input {
    fn open(path: &Path) -> anyhow::Result<Input> {
        let mut file = open_input(path)?;
        let regular = file.metadata().is_ok_and(|m| m.is_file() && m.len() > 0);
        if regular {
            // SAFETY: the map is only read, as bytes. A file rewritten
            // under the build gives wrong lines, as any reader would; one
            // truncated under it ends the process (SIGBUS) before the
            // commit, which leaves the destination as it was.
            // Mapped in one go: the first pass reads every page anyway, and
            // faulting them in one by one took 11 s more system time at 10M.
            let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(Input::Mapped(map));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(Input::Read(bytes))
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Input::Mapped(map) => map,
            Input::Read(bytes) => bytes,
        }
    }
}

/// The contacts file and its lines (the first pass).
struct ContactLines {
    path: PathBuf,
    input: Input,
    entries: Vec<Entry>,
}

impl ContactLines {
    fn read(path: &Path) -> anyhow::Result<ContactLines> {
        let started = Instant::now();
        let input = Input::open(path)?;
        let read = started.elapsed();
        let entries = entries(input.bytes());
        tracing::debug!(
            lines = entries.len(),
            read_s = read.as_secs_f64(),
            scanned_s = (started.elapsed() - read).as_secs_f64(),
            "contacts: first pass"
        );
        Ok(ContactLines {
            path: path.to_owned(),
            input,
            entries,
        })
    }
}

/// A line of the contacts file, found by the first pass: where it is and
/// which company it names (`company_group`).
#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    end: usize,
    group: u32,
}

/// The company a contact line names, as a grouping only: the digits after
/// its `"company_id"` key. Inside a JSON string that key's quotes would be
/// escaped, so a match is a key (at worst of a nested object); a line this
/// cannot read gets group 0, and the second pass checks every line in full.
fn company_group(line: &[u8]) -> u32 {
    const KEY: &[u8] = b"\"company_id\"";
    let Some(at) = memchr::memmem::find(line, KEY) else {
        return 0;
    };
    let rest = line[at + KEY.len()..].trim_ascii_start();
    let Some(rest) = rest.strip_prefix(b":") else {
        return 0;
    };
    let id = rest
        .trim_ascii_start()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |n, b| {
            n.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
        });
    (id ^ (id >> 32)) as u32
}

/// The lines of `data`, with their company groups (first pass), found in
/// parallel: pieces of the file, each starting after a newline, are
/// scanned at once (a single scan kept one core busy for 10 s at 10M
/// contacts while the other waited).
fn entries(data: &[u8]) -> Vec<Entry> {
    entries_in_pieces(data, 16 << 20)
}

/// `entries`, scanning pieces of about `piece` bytes.
fn entries_in_pieces(data: &[u8], piece: usize) -> Vec<Entry> {
    let first = data.len() - super::strip_bom(data).len();
    let mut bounds = vec![first];
    let mut at = first;
    while at + piece < data.len() {
        match memchr::memchr(b'\n', &data[at + piece..]) {
            Some(nl) => at += piece + nl + 1,
            None => break,
        }
        bounds.push(at);
    }
    bounds.push(data.len());
    let pieces: Vec<Vec<Entry>> = bounds
        .par_windows(2)
        .map(|w| {
            let (from, to) = (w[0], w[1]);
            let mut out = Vec::new();
            let mut start = from;
            let ends = memchr::memchr_iter(b'\n', &data[from..to]).map(|nl| from + nl);
            for end in ends.chain(std::iter::once(to)) {
                if end > start {
                    out.push(Entry {
                        start,
                        end,
                        group: company_group(&data[start..end]),
                    });
                }
                start = end + 1;
            }
            out
        })
        .collect();
    pieces.concat()
}

/// Input bytes ordered and indexed together: as much of the file as the
/// page cache can be expected to hold, since the second pass reads these
/// lines in company order, not file order.
fn window_bytes() -> usize {
    const FALLBACK: usize = 2 << 30;
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemAvailable:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kib| kib.saturating_mul(1024))
    });
    available.map_or(FALLBACK, |a| (a / 2).clamp(256 << 20, 16 << 30))
}

/// What the parsing thread hands to the indexing loop.
enum Parsed {
    /// Input bytes covered, and each non-blank line's start and document.
    Lines(u64, Vec<(usize, Built)>),
    /// Every line of an ordering window has been sent.
    WindowEnd,
}

/// Adds the contacts, ordered by company within windows of the file.
///
/// Contacts of a company share terms (their e-mail domain's prefixes, the
/// company tag): indexed one after another, those terms stay in the CPU's
/// caches instead of being fetched again from a table of millions, and a
/// segment holds fewer companies' terms. On 10M generated contacts in
/// random company order this cut the build's CPU time from 448 s to
/// 374–382 s.
///
/// Errors are still those of the file read in order: after the first bad
/// line of a window nothing more is indexed, the rest of the window is
/// checked (parsed, no longer made into documents), and the bad line that
/// comes first in the file is reported (a duplicate id at the later of its
/// two lines).
fn add_contacts(
    writer: &mut IndexWriter,
    schema: &IndexSchema,
    industries: &Industries,
    companies: &HashMap<u64, Company>,
    contacts: &mut ContactLines,
    window: usize,
) -> anyhow::Result<usize> {
    let path = &contacts.path;
    let bar = progress(path, "contacts")?;
    let data = contacts.input.bytes();
    let all = &mut contacts.entries;
    let started = Instant::now();
    // Sized for every line up front and hashed cheaply: growing a SipHash
    // map to ten million ids was 2 % of a build's CPU.
    let mut seen: HashMap<u64, usize, rustc_hash::FxBuildHasher> =
        HashMap::with_capacity_and_hasher(all.len(), rustc_hash::FxBuildHasher);
    let mut count = 0usize;
    let mut first_error: Option<(usize, FieldError)> = None;
    // Parsing (rayon) runs a chunk ahead of indexing (Tantivy's threads),
    // so neither waits for the other.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Parsed>(2);
    // Set at the first bad line: the rest of the window is only checked.
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let failed = &failed;
        scope.spawn(move || {
            let mut rest: &mut [Entry] = all;
            while !rest.is_empty() {
                let mut bytes = 0;
                let n = rest
                    .iter()
                    .take_while(|e| {
                        bytes += e.end - e.start;
                        bytes <= window
                    })
                    .count()
                    .max(1);
                let (win, tail) = std::mem::take(&mut rest).split_at_mut(n);
                rest = tail;
                let sorting = Instant::now();
                win.par_sort_unstable_by_key(|e| (e.group, e.start));
                tracing::debug!(
                    lines = win.len(),
                    sorted_s = sorting.elapsed().as_secs_f64(),
                    "contacts: window ordered by company"
                );
                for chunk in win.chunks(CHUNK_LINES) {
                    // With each line's newline, so the bar reaches the end.
                    let bytes = chunk.iter().map(|e| (e.end - e.start + 1) as u64).sum();
                    let docs: Vec<(usize, Built)> = chunk
                        .par_iter()
                        .filter_map(|e| {
                            let built = match std::str::from_utf8(&data[e.start..e.end]) {
                                Ok(line) if is_blank(line) => return None,
                                Ok(line) => contact_doc(
                                    line,
                                    schema,
                                    industries,
                                    companies,
                                    !failed.load(std::sync::atomic::Ordering::Relaxed),
                                ),
                                Err(_) => Err(not_utf8()),
                            };
                            Some((e.start, built))
                        })
                        .collect();
                    // The receiver is gone when indexing stopped at a bad line.
                    if tx.send(Parsed::Lines(bytes, docs)).is_err() {
                        return;
                    }
                }
                if tx.send(Parsed::WindowEnd).is_err() {
                    return;
                }
            }
        });
        for parsed in rx {
            let (bytes, docs) = match parsed {
                Parsed::Lines(bytes, docs) => (bytes, docs),
                Parsed::WindowEnd if first_error.is_some() => break,
                Parsed::WindowEnd => continue,
            };
            for (start, built) in docs {
                let (id, doc) = match built {
                    Ok(built) => built,
                    Err(e) => {
                        note(&mut first_error, start, e);
                        continue;
                    }
                };
                match seen.entry(id) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(start);
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        let other = *o.get();
                        note(
                            &mut first_error,
                            start.max(other),
                            FieldError {
                                field: Some("id".into()),
                                reason: format!("duplicate contact id {id}"),
                            },
                        );
                        // The earliest line keeps the id, so a third copy
                        // is reported where reading in order would.
                        o.insert(start.min(other));
                        continue;
                    }
                }
                if first_error.is_none() {
                    writer.add_document(doc)?;
                    count += 1;
                }
            }
            if first_error.is_some() {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            bar.inc(bytes);
            let rate = count as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{count} contacts, {rate:.0}/s"));
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    match first_error {
        Some((start, error)) => {
            let line = memchr::memchr_iter(b'\n', &data[..start]).count() + 1;
            Err(InputError {
                file: path.to_owned(),
                error: RecordError::new(line, error),
            }
            .into())
        }
        None => Ok(count),
    }
}

/// Keeps the error of the line that comes first in the file.
fn note(first: &mut Option<(usize, FieldError)>, start: usize, e: FieldError) {
    if first.as_ref().is_none_or(|(s, _)| start < *s) {
        *first = Some((start, e));
    }
}

/// One contact line checked against its company and made a document
/// (an empty one when `make` is false: the line is only checked).
fn contact_doc(
    line: &str,
    schema: &IndexSchema,
    industries: &Industries,
    companies: &HashMap<u64, Company>,
    make: bool,
) -> Built {
    let c = parse_contact(line)?;
    let company = companies.get(&c.company_id).ok_or_else(|| FieldError {
        field: Some("company_id".into()),
        reason: format!("no company with id {}", c.company_id),
    })?;
    let doc = if make {
        contact_document(&schema.fields, industries, &c, company)
    } else {
        TantivyDocument::default()
    };
    Ok((c.id, doc))
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

    /// Reads `contacts` in order the way the build promises to judge it: the
    /// first bad line and what is wrong with it (a duplicate id at its
    /// second line), or the ids of the contacts, in file order.
    fn in_order(contacts: &[u8], company_ids: &[u64]) -> Result<Vec<u64>, RecordError> {
        let mut ids = Vec::new();
        let body = super::super::strip_bom(contacts);
        for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
            let line = i + 1;
            let bad = |e| RecordError::new(line, e);
            let text = std::str::from_utf8(raw).map_err(|_| bad(not_utf8()))?;
            if is_blank(text) {
                continue;
            }
            let c = parse_contact(text).map_err(bad)?;
            if !company_ids.contains(&c.company_id) {
                return Err(bad(FieldError {
                    field: Some("company_id".into()),
                    reason: format!("no company with id {}", c.company_id),
                }));
            }
            if ids.contains(&c.id) {
                return Err(bad(FieldError {
                    field: Some("id".into()),
                    reason: format!("duplicate contact id {}", c.id),
                }));
            }
            ids.push(c.id);
        }
        Ok(ids)
    }

    fn contact_line(id: u64, company: u64) -> String {
        CONTACT
            .replace("\"id\": 1,", &format!("\"id\": {id},"))
            .replace("\"company_id\": 1,", &format!("\"company_id\": {company},"))
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]

        /// Lines are indexed in company order, within windows of the file,
        /// but judged as if read in order: the same first bad line (and
        /// field), or every good contact indexed once.
        #[test]
        fn company_order_reports_what_reading_in_order_would(
            lines in proptest::collection::vec((0u8..40, 1u64..30, 1u64..4), 1..60),
            bom in proptest::bool::ANY,
            window in proptest::prop_oneof![1usize..300, 300usize..20_000],
            clean in proptest::bool::weighted(0.3),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let company_ids = [1u64, 2, 3];
            let companies: Vec<String> = company_ids
                .iter()
                .map(|id| COMPANY.replace("\"id\": 1,", &format!("\"id\": {id},")))
                .collect();
            let co = tmp.path().join("companies.jsonl");
            std::fs::write(&co, companies.join("\n")).unwrap();
            let mut body: Vec<u8> = if bom { "\u{feff}".into() } else { Vec::new() };
            for (i, &(kind, id, company)) in lines.iter().enumerate() {
                if i > 0 {
                    body.push(b'\n');
                }
                // A clean file: good lines (and blank ones), unique ids.
                let (kind, id, company) = if clean {
                    (kind.min(34), i as u64 + 1, company)
                } else {
                    (kind, id, company)
                };
                match kind {
                    // Mostly good lines (ids repeat: duplicates).
                    0..=33 => body.extend(contact_line(id, company).as_bytes()),
                    34 => body.extend(b"  \r"),
                    35 => body.extend(b"{\"id\": "),
                    36 => body.extend(b"\xff\xfe"),
                    37 => body.extend(contact_line(id, company).replace("50,", "500,").as_bytes()),
                    // No such company.
                    38 => body.extend(contact_line(id, 9).as_bytes()),
                    // A company id as a string: no group in the first pass.
                    _ => body.extend(
                        contact_line(id, company)
                            .replace(
                                &format!("\"company_id\": {company},"),
                                &format!("\"company_id\": \"{company}\","),
                            )
                            .as_bytes(),
                    ),
                }
            }
            let ct = tmp.path().join("contacts.jsonl");
            std::fs::write(&ct, &body).unwrap();
            let expected = in_order(&body, &company_ids);
            let dest = tmp.path().join("index");
            let got = build(&co, &ct, &dest, 2, window);
            match (got, expected) {
                (Ok(summary), Ok(mut ids)) => {
                    proptest::prop_assert_eq!(summary.contacts, ids.len());
                    // Every contact indexed once (companies carry id 0).
                    let schema = IndexSchema::declared().unwrap();
                    let searcher = index::open(&dest, &schema).unwrap().reader().unwrap().searcher();
                    let mut indexed = Vec::new();
                    for segment in searcher.segment_readers() {
                        let column = segment.fast_fields().u64(index::schema::columns::ID).unwrap();
                        indexed.extend(
                            segment.doc_ids_alive().filter_map(|d| column.first(d)).filter(|&id| id != 0),
                        );
                    }
                    indexed.sort_unstable();
                    ids.sort_unstable();
                    proptest::prop_assert_eq!(indexed, ids);
                }
                (Err(e), Err(expected)) => {
                    let e = e.downcast::<InputError>().unwrap();
                    proptest::prop_assert_eq!(e.error, expected);
                    proptest::prop_assert!(!dest.exists(), "a refused build leaves no index");
                }
                (got, expected) => proptest::prop_assert!(
                    false,
                    "build {:?}, reading in order {:?}",
                    got.map(|s| s.contacts),
                    expected
                ),
            }
        }
    }

    proptest::proptest! {
        /// Scanned in pieces, a file gives the lines a single scan gives.
        #[test]
        fn lines_found_in_pieces_are_the_lines_of_the_file(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("\n".to_owned()),
                    proptest::strategy::Just("\u{feff}".to_owned()),
                    proptest::strategy::Just(r#"{"company_id": 12}"#.to_owned()),
                    "[a-z ]{0,5}",
                ],
                0..30,
            ),
            piece in 1usize..40,
        ) {
            let data = parts.concat();
            let data = data.as_bytes();
            let mut expected = Vec::new();
            let mut start = data.len() - super::super::strip_bom(data).len();
            for (i, &b) in data.iter().enumerate().skip(start) {
                if b == b'\n' {
                    if i > start {
                        expected.push((start, i, company_group(&data[start..i])));
                    }
                    start = i + 1;
                }
            }
            if data.len() > start {
                expected.push((start, data.len(), company_group(&data[start..])));
            }
            let got: Vec<_> = entries_in_pieces(data, piece)
                .iter()
                .map(|e| (e.start, e.end, e.group))
                .collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_line_is_grouped_by_its_company_id_key() {
        let group = |line: &str| company_group(line.as_bytes());
        assert_eq!(group(r#"{"id": 9, "company_id" :  42, "x": 1}"#), 42);
        assert_eq!(group(r#"{"company_id":42}"#), 42);
        // The key's quotes inside a string are escaped: no match there.
        assert_eq!(group(r#"{"t": "\"company_id\": 7", "company_id": 42}"#), 42);
        let big = (5u64 << 32) | 3;
        assert_eq!(group(&format!(r#"{{"company_id": {big}}}"#)), 5 ^ 3);
        for unread in [r#"{"company_id": "42"}"#, r#"{"id": 1}"#, "{", ""] {
            assert_eq!(group(unread), 0, "{unread}");
        }
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
