//! Live writes (docs/api.md, Writing): one writer thread owns the Tantivy `IndexWriter` and
//! applies batches in arrival order with group commit.
//!
//! Handlers parse and validate a body on their own, then queue it here and
//! wait. The thread takes every queued job at once, applies each one
//! completely or not at all and commits once (fsync, then `meta.json`
//! replaced atomically). A second thread, the publisher, then reloads the
//! reader and only then answers every job of the group, while the writer
//! already indexes the next group. So concurrent writers share one commit,
//! an answer means the batch is on disk, a search started after the answer
//! sees it, and no reader ever sees half a batch: Tantivy publishes nothing
//! between two commits.
//!
//! With replication (`replicate::publish`), the publisher hands the
//! answers to a `CommitHook` instead, which sends them at once or once the
//! commit is in the object store, and which may refuse new writes.
//!
//! Jobs that need to look at the index (company changes, deletes) first
//! commit what is pending, so what they read is everything applied so far.
//!
//! A commit that fails is rolled back: the writer goes back to the last
//! commit and collects the failed commit's files (their space and handles
//! go). Its writes are refused as `insufficient_storage` when the disk was
//! full (the next write may succeed), as `storage_failed` once an fsync
//! failed (the directory then refuses every commit until a restart, see
//! `index::directory`).
//!
//! Small groups come from writers that send one write, wait, and send the
//! next. Taking the queue as soon as a commit ends splits them into two
//! groups that alternate (those answered by the last publish are still on
//! their way back), so every write waits for two commits. After a small
//! group of several writers, the writer therefore first waits for that
//! group's answers to go out and a moment more (`REGROUP`), and the next
//! commit carries all of them: one commit per round instead of two (write
//! benchmark, 8 single-record writers: p50 34–37 → 23–26 ms, 200–210 →
//! 270–300 writes/s).

pub mod batch;
mod queued;

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use rayon::prelude::*;
use tantivy::collector::DocSetCollector;
use tantivy::directory::error::LockError;
use tantivy::indexer::UserOperation;
use tantivy::query::{TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexWriter, Term};

use crate::error::ErrorCode;
use crate::index::CommitPayload;
use crate::index::document::{company_document, contact_document};
use crate::index::tag::Tag;
use crate::model::{Company, Contact};
use crate::priority::Tier;
use crate::search::SearchService;
use queued::{InFlight, Queued};

/// Memory of the live index writer.
const WRITER_MEMORY: usize = 256 << 20;
/// Name prefixes of the threads Tantivy starts for the writer that
/// acknowledgements wait for (indexing, document store compression,
/// commits); they yield to searches.
const TANTIVY_WRITING: &[&str] = &["thrd-tantivy", "docstore", "segment_updater"];
/// Its merge threads: nothing waits for them.
const TANTIVY_MERGING: &[&str] = &["merge_thread"];
/// Operations per `IndexWriter::run` of a large group: 1,000 contacts.
const STAGED_CHUNK: usize = 2_000;
/// Records in a group below which it is answered, not throughput, that
/// matters (see the module documentation).
const SMALL_GROUP: usize = 64;
/// How long, after a small group's answers went out, the writer waits for
/// its writers' next writes: a localhost round trip and a little more.
const REGROUP: std::time::Duration = std::time::Duration::from_micros(500);
/// The longest the writer waits for a publish before going on anyway.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// A change to apply; records carry their line numbers for errors.
#[derive(Debug)]
pub enum WriteOp {
    PutCompanies(Vec<(usize, Company)>),
    PutContacts(Vec<(usize, Contact)>),
    DeleteContact(u64),
    DeleteCompany(u64),
}

/// What a successful write did.
#[derive(Debug, PartialEq, Eq)]
pub enum WriteOutcome {
    Upserted(usize),
    Deleted,
}

/// Why a write was refused; nothing of it was applied.
#[derive(Debug)]
pub enum WriteError {
    InvalidRecords(batch::BadLines),
    NotFound(String),
    Conflict(String),
    /// The commit failed for lack of space; nothing was applied, and the
    /// next write may succeed once space is freed.
    InsufficientStorage(String),
    /// An fsync failed: no write is applied until kontakt restarts.
    StorageFailed(String),
    /// Anything else, with its cause (logged, never sent).
    Internal(anyhow::Error),
    /// `503` with a stable code: this server may not write now (see
    /// `replicate`).
    Unavailable(ErrorCode, String),
}

impl WriteError {
    /// The code of the answer this error becomes.
    pub fn code(&self) -> ErrorCode {
        match self {
            WriteError::InvalidRecords(_) => ErrorCode::InvalidRecord,
            WriteError::NotFound(_) => ErrorCode::NotFound,
            WriteError::Conflict(_) => ErrorCode::Conflict,
            WriteError::InsufficientStorage(_) => ErrorCode::InsufficientStorage,
            WriteError::StorageFailed(_) => ErrorCode::StorageFailed,
            WriteError::Internal(_) => ErrorCode::Internal,
            WriteError::Unavailable(code, _) => *code,
        }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::InvalidRecords(bad) => bad.fmt(f),
            WriteError::NotFound(m)
            | WriteError::Conflict(m)
            | WriteError::InsufficientStorage(m)
            | WriteError::StorageFailed(m)
            | WriteError::Unavailable(_, m) => f.write_str(m),
            WriteError::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WriteError::InvalidRecords(bad) => Some(bad),
            WriteError::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

struct Job {
    op: WriteOp,
    reply: tokio::sync::oneshot::Sender<Result<WriteOutcome, WriteError>>,
}

enum Message {
    Job(Job),
    /// Finish what is queued before it, then stop.
    Stop,
}

/// The handle handlers use to write.
#[derive(Clone)]
pub struct WriteService {
    tx: mpsc::Sender<Message>,
    /// The companies as of the last applied write (the writer thread keeps
    /// it; handlers read it to report unknown companies with the other
    /// bad lines of a batch).
    companies: Arc<RwLock<HashMap<u64, Company>>>,
    hook: Option<Arc<dyn CommitHook>>,
}

/// Replication's view of the writer (see `replicate::publish`): it is handed
/// the answers of each commit once the reader shows it, and sends them (at
/// once, or once the commit is in the object store); it can refuse new
/// writes.
pub trait CommitHook: Send + Sync {
    fn committed(&self, answers: Vec<Answer>);
    fn refusal(&self) -> Option<WriteError>;
}

impl WriteService {
    /// Starts the writer thread. It stops when every `WriteService` clone is
    /// dropped, after answering the jobs it has.
    pub fn start(search: Arc<SearchService>) -> anyhow::Result<(WriteService, JoinHandle<()>)> {
        Self::start_with(search, None)
    }

    /// `start`, with commits handed to `hook` instead of answered directly.
    pub fn start_with(
        search: Arc<SearchService>,
        hook: Option<Arc<dyn CommitHook>>,
    ) -> anyhow::Result<(WriteService, JoinHandle<()>)> {
        // Two indexing threads; a small commit still writes one segment
        // (see `Writer::flush_staged`).
        let writer: IndexWriter<Queued> = search
            .index
            .writer_with_num_threads(2, WRITER_MEMORY)
            .map_err(|e| match e {
                tantivy::TantivyError::LockFailure(LockError::LockBusy, _) => anyhow::anyhow!(
                    "the index in {} is in use: another kontakt process is serving it (or \
                     building into it); stop that one first, or pass another --index",
                    search.dir.display()
                ),
                e => anyhow::Error::new(e)
                    .context(format!("opening a writer on {}", search.dir.display())),
            })?;
        crate::index::writer::make_ready(&writer, &search.schema.fields);
        // Files a crash left between their creation and their commit go
        // before any new file is written: Tantivy names some files by
        // opstamp (a segment's deletes, `<segment>.<opstamp>.del`), and the
        // opstamps start again from the last commit.
        crate::index::directory::remove_strays(&search.index, &search.dir)?;
        // Not fatal: on a full disk the list of files may not be writable
        // yet; the files went, and the list goes with the next commit.
        if let Err(e) = writer.garbage_collect_files().wait() {
            tracing::warn!(error = %e, "collecting unused index files at start failed");
        }
        // Searches first (see `priority`). The indexing threads Tantivy
        // starts again at each commit are started by the writer thread and
        // so inherit its tier.
        crate::priority::lower_threads_named(TANTIVY_WRITING, Tier::Writing);
        crate::priority::lower_threads_named(TANTIVY_MERGING, Tier::Background);
        let companies = Arc::new(RwLock::new(load_companies(&search)?));
        let (tx, rx) = mpsc::channel::<Message>();
        let (publish, published) = mpsc::channel::<Vec<Answer>>();
        let (answered, answers_out) = mpsc::channel::<u64>();
        let publisher = {
            let search = search.clone();
            let hook = hook.clone();
            std::thread::Builder::new()
                .name("kontakt-publish".into())
                .spawn(move || {
                    crate::priority::lower_this_thread(Tier::Writing);
                    publish_commits(&search, &published, &answered, hook.as_deref());
                })?
        };
        let space_seen = search.storage.space_errors();
        let mut state = Writer {
            search,
            writer,
            in_flight: Arc::default(),
            staged: Vec::new(),
            companies: companies.clone(),
            publish,
            view_stale: false,
            commits: 0,
            handed: 0,
            answered: 0,
            answers_out,
            regroup: None,
            space_seen,
        };
        let handle = std::thread::Builder::new()
            .name("kontakt-writer".into())
            .spawn(move || {
                crate::priority::lower_this_thread(Tier::Writing);
                let mut stopping = false;
                while !stopping && let Ok(first) = rx.recv() {
                    state.regroup();
                    let mut group = Vec::new();
                    for msg in std::iter::once(first).chain(rx.try_iter()) {
                        match msg {
                            Message::Job(job) => group.push(job),
                            Message::Stop => {
                                stopping = true;
                                break;
                            }
                        }
                    }
                    state.run_group(group);
                }
                // The publisher answers what it was handed, then stops.
                drop(state);
                let _ = publisher.join();
            })?;
        Ok((
            WriteService {
                tx,
                companies,
                hook,
            },
            handle,
        ))
    }

    /// The companies as of the last applied write, for checking contact
    /// lines as a body is parsed.
    pub fn companies(&self) -> batch::Companies {
        self.companies.clone()
    }

    /// Asks the writer thread to stop once the jobs queued so far are done.
    pub fn stop(&self) {
        let _ = self.tx.send(Message::Stop);
    }

    /// Queues `op` and waits until it is committed (or refused).
    pub async fn submit(&self, op: WriteOp) -> Result<WriteOutcome, WriteError> {
        if let Some(refused) = self.hook.as_ref().and_then(|h| h.refusal()) {
            return Err(refused);
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.tx
            .send(Message::Job(Job { op, reply }))
            .map_err(|_| WriteError::Internal(anyhow::anyhow!("the writer has stopped")))?;
        answer
            .await
            .map_err(|_| WriteError::Internal(anyhow::anyhow!("the writer has stopped")))?
    }
}

/// The threads that parse write bodies and build their documents: apart
/// from the pool searches use, and in the background (see `priority`).
pub fn pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .thread_name(|i| format!("kontakt-write-{i}"))
            .start_handler(|_| crate::priority::lower_this_thread(Tier::Writing))
            .build()
            .expect("starting the write threads")
    })
}

/// Every company record in the index.
fn load_companies(search: &SearchService) -> anyhow::Result<HashMap<u64, Company>> {
    let searcher = search.searcher();
    let mut out = HashMap::new();
    let industries = search.industries;
    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
        let ids = seg.fast_fields().u64(crate::index::schema::columns::ID)?;
        for doc in 0..seg.max_doc() {
            if seg.is_deleted(doc) || ids.first(doc).unwrap_or(0) > 0 {
                continue;
            }
            let record = search.record(&searcher, tantivy::DocAddress::new(ord as u32, doc))?;
            let company = Company::from_json(&record, industries)
                .map_err(|e| anyhow::anyhow!("stored company is invalid: {e}"))?;
            out.insert(company.id, company);
        }
    }
    Ok(out)
}

fn missing_companies(
    companies: &HashMap<u64, Company>,
    records: &[(usize, Contact)],
) -> Option<batch::BadLines> {
    let mut missing = records
        .iter()
        .filter(|(_, c)| !companies.contains_key(&c.company_id));
    let first: Vec<_> = missing
        .by_ref()
        .take(batch::MAX_REPORTED)
        .map(|(line, c)| batch::unknown_company(*line, c.company_id))
        .collect();
    let total = first.len() + missing.count();
    (total > 0).then_some(batch::BadLines { first, total })
}

struct Writer {
    search: Arc<SearchService>,
    writer: IndexWriter<Queued>,
    /// Documents queued for indexing (see `queued`).
    in_flight: Arc<InFlight>,
    /// Contact operations applied since the last commit, not yet handed to
    /// Tantivy (see `flush_staged`). Any other job commits first, so these
    /// always come before its operations.
    staged: Vec<UserOperation<Queued>>,
    companies: Arc<RwLock<HashMap<u64, Company>>>,
    /// Answers of committed groups, for the publisher.
    publish: mpsc::Sender<Vec<Answer>>,
    /// A commit happened that the reader may not show yet (the publisher
    /// reloads it too, but the writer cannot tell when).
    view_stale: bool,
    /// Commits made, to tell whether a group committed anything.
    commits: u64,
    /// Groups handed to the publisher, and groups it has answered.
    handed: u64,
    answered: u64,
    answers_out: mpsc::Receiver<u64>,
    /// When the last group was handed to the publisher, if it was small and
    /// had several writers (see the module documentation).
    regroup: Option<std::time::Instant>,
    /// Writes refused for lack of space (`Storage::space_errors`) as of the
    /// last commit or rollback: more after a failed commit means it failed
    /// for lack of space.
    space_seen: u64,
}

pub type Reply = Result<WriteOutcome, WriteError>;
/// A writer's answer channel and what to tell it.
pub type Answer = (tokio::sync::oneshot::Sender<Reply>, Reply);

/// The publisher thread: for each committed group (several at once when
/// they queue up), reloads the reader so that searches see the commit,
/// starts the cache warm-up, and answers. A commit whose reload fails is on
/// disk but not visible: its writers get an error rather than a success a
/// search would contradict (a retry is harmless: writes are upserts).
/// Tells the writer how many groups it answered.
fn publish_commits(
    search: &Arc<SearchService>,
    published: &mpsc::Receiver<Vec<Answer>>,
    answered: &mpsc::Sender<u64>,
    hook: Option<&dyn CommitHook>,
) {
    while let Ok(first) = published.recv() {
        let mut answers = first;
        let mut groups = 1;
        for more in published.try_iter() {
            answers.extend(more);
            groups += 1;
        }
        let started = std::time::Instant::now();
        let reloaded = search.reload();
        crate::metrics::observe_reload(started.elapsed().as_secs_f64());
        search.warm_in_background();
        if let Err(e) = &reloaded {
            tracing::error!(error = %e, "reloading the reader after a commit failed");
        }
        let answers: Vec<Answer> = answers
            .into_iter()
            .map(|(reply, result)| match (&reloaded, result) {
                (Err(e), Ok(_)) => (
                    reply,
                    Err(WriteError::Internal(anyhow::Error::new(e.clone()).context(
                        "committed, but the index could not be reopened to show it",
                    ))),
                ),
                (_, result) => (reply, result),
            })
            .collect();
        match hook {
            Some(hook) if reloaded.is_ok() => hook.committed(answers),
            _ => {
                for (reply, result) in answers {
                    let _ = reply.send(result);
                }
            }
        }
        let _ = answered.send(groups);
    }
}

impl Writer {
    /// Before taking the next group: after a small group of several
    /// writers, waits until it is answered, then `REGROUP` (see the module
    /// documentation).
    fn regroup(&mut self) {
        for n in self.answers_out.try_iter() {
            self.answered += n;
        }
        // Long after that group, its writers are not on their way back.
        match self.regroup.take() {
            Some(handed) if handed.elapsed() < PUBLISH_WAIT => {}
            _ => return,
        }
        let deadline = std::time::Instant::now() + PUBLISH_WAIT;
        while self.answered < self.handed {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.answers_out.recv_timeout(left) {
                Ok(n) => self.answered += n,
                Err(_) => break,
            }
        }
        std::thread::sleep(REGROUP);
    }

    fn run_group(&mut self, group: Vec<Job>) {
        if let Some(why) = self.search.storage.fenced() {
            for job in group {
                let _ = job.reply.send(Err(fenced(&why)));
            }
            return;
        }
        let commits_before = self.commits;
        let records: usize = group
            .iter()
            .map(|job| match &job.op {
                WriteOp::PutContacts(r) => r.len(),
                WriteOp::PutCompanies(r) => r.len(),
                WriteOp::DeleteContact(_) | WriteOp::DeleteCompany(_) => 1,
            })
            .sum();
        let writers = group.len();
        let mut results: Vec<Option<Reply>> = Vec::with_capacity(group.len());
        // Jobs applied but not yet committed.
        let mut pending: Vec<usize> = Vec::new();
        let mut replies = Vec::with_capacity(group.len());
        for (i, job) in group.into_iter().enumerate() {
            replies.push(job.reply);
            let needs_view = !matches!(job.op, WriteOp::PutContacts(_));
            if needs_view && !pending.is_empty() {
                self.commit_pending(&mut pending, &mut results);
            }
            if needs_view && self.view_stale {
                // What it reads must include every commit so far.
                if let Err(e) = self.search.reload() {
                    results.push(Some(Err(internal(
                        anyhow::Error::new(e).context("reopening the index"),
                    ))));
                    continue;
                }
                self.view_stale = false;
            }
            let result = self.apply(job.op);
            if result.is_ok() {
                pending.push(i);
            }
            results.push(Some(result));
        }
        if !pending.is_empty() {
            self.commit_pending(&mut pending, &mut results);
        }
        let answers: Vec<Answer> = replies
            .into_iter()
            .zip(results)
            .map(|(reply, result)| {
                (
                    reply,
                    result.unwrap_or_else(|| Err(WriteError::Internal(anyhow::anyhow!("lost")))),
                )
            })
            .collect();
        if self.commits == commits_before {
            // Nothing committed: nothing to show first.
            for (reply, result) in answers {
                let _ = reply.send(result);
            }
        } else {
            self.handed += 1;
            self.regroup = (writers > 1 && records < SMALL_GROUP).then(std::time::Instant::now);
            if let Err(mpsc::SendError(answers)) = self.publish.send(answers) {
                // The publisher is gone (it cannot be while the writer runs).
                for (reply, _) in answers {
                    let _ = reply.send(Err(WriteError::Internal(anyhow::anyhow!(
                        "the publisher stopped"
                    ))));
                }
            }
        }
    }

    /// Commits; on failure the pending jobs are answered with an error and
    /// the writer goes back to the last commit.
    fn commit_pending(&mut self, pending: &mut Vec<usize>, results: &mut [Option<Reply>]) {
        if let Err(e) = self.commit() {
            let storage = &self.search.storage;
            let fenced_by = storage.fenced();
            let out_of_space = storage.space_errors() > self.space_seen;
            let refusal = || match &fenced_by {
                Some(why) => fenced(why),
                None if out_of_space => WriteError::InsufficientStorage(
                    "the disk holding the index is full: the write was not applied; \
                     free space and retry"
                        .into(),
                ),
                // Each waiting write gets its own copy of the cause.
                None => WriteError::Internal(anyhow::anyhow!("commit failed: {e:#}")),
            };
            crate::metrics::count_failed_commit(refusal().code());
            tracing::error!(error = format!("{e:#}"), code = %refusal().code(), "commit failed; rolling back");
            for &i in pending.iter() {
                results[i] = Some(Err(refusal()));
            }
            self.staged.clear();
            // A new Tantivy writer from the last commit: the failed one's
            // threads and open files go.
            match self.writer.rollback() {
                Ok(_) => crate::index::writer::make_ready(&self.writer, &self.search.schema.fields),
                Err(e) => tracing::error!(error = %e, "rolling the writer back failed"),
            }
            crate::priority::lower_threads_named(TANTIVY_MERGING, Tier::Background);
            // The failed commit's files go, and their space with them; some
            // are named by opstamps the writer reaches again (see `start`).
            if let Err(e) = self.writer.garbage_collect_files().wait() {
                // On a full disk: the files went, the list of files waits
                // for the next commit.
                tracing::warn!(error = %e, "collecting the failed commit's files reported an error");
            }
            self.space_seen = storage.space_errors();
            // The companies as of the last commit: reload first, the
            // publisher may not have shown the last commits yet.
            if let Err(e) = self.search.reload() {
                tracing::error!(error = %e, "reloading after a rollback failed");
            }
            self.view_stale = false;
            match load_companies(&self.search) {
                Ok(c) => *self.companies.write().unwrap_or_else(|e| e.into_inner()) = c,
                Err(e) => tracing::error!(error = %e, "reloading companies failed"),
            }
        }
        pending.clear();
    }

    /// Hands the staged contact operations to Tantivy's indexing threads.
    /// Tantivy indexes the operations of one `run` in one segment: a small
    /// group goes as one run (one segment to write and merge), a large one
    /// in chunks that the threads index side by side.
    fn flush_staged(&mut self) -> anyhow::Result<()> {
        let staged = std::mem::take(&mut self.staged);
        let chunk = if staged.len() < 2 * STAGED_CHUNK {
            staged.len()
        } else {
            STAGED_CHUNK
        };
        let mut ops = staged.into_iter();
        while ops.len() > 0 {
            self.in_flight.wait_for_room();
            self.writer.run(ops.by_ref().take(chunk))?;
        }
        Ok(())
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        self.flush_staged()?;
        let mut prepared = self.writer.prepare_commit()?;
        let indexed = started.elapsed();
        prepared.set_payload(&CommitPayload::current(&self.search.schema));
        prepared.commit()?;
        let committed = started.elapsed();
        crate::metrics::observe_commit(committed.as_secs_f64());
        self.space_seen = self.search.storage.space_errors();
        // The publisher reloads the reader before answering.
        self.view_stale = true;
        self.commits += 1;
        tracing::debug!(
            indexed_ms = indexed.as_secs_f64() * 1e3,
            committed_ms = (committed - indexed).as_secs_f64() * 1e3,
            "committed"
        );
        Ok(())
    }

    fn apply(&mut self, op: WriteOp) -> Reply {
        match op {
            WriteOp::PutContacts(records) => self.put_contacts(records),
            WriteOp::PutCompanies(records) => self.put_companies(records),
            WriteOp::DeleteContact(id) => self.delete_contact(id),
            WriteOp::DeleteCompany(id) => self.delete_company(id),
        }
    }

    fn put_contacts(&mut self, records: Vec<(usize, Contact)>) -> Reply {
        let known = self.companies.clone();
        let companies = known.read().unwrap_or_else(|e| e.into_inner());
        // Checked again here: a company may have gone since the handler looked.
        if let Some(missing) = missing_companies(&companies, &records) {
            return Err(WriteError::InvalidRecords(missing));
        }
        // Documents are built a chunk at a time and handed on: all of a
        // large batch's documents at once would cost several times the body.
        let s = self.search.clone();
        let n = records.len();
        // Each id's delete is a Tantivy operation holding a scoring weight
        // of about 1.3 KB until the commit (190 MB for a 64 MiB body), so a
        // large batch deletes its ids a chunk at a time with one term-set
        // query (a few KB). Those take their place in the order at once:
        // what earlier jobs staged goes first, so that it stays older than
        // the deletes. A chunk's delete may come before an earlier chunk's
        // adds are handed on; it cannot hit them, as the parser refuses an
        // id given twice in one batch.
        let large = n > STAGED_CHUNK / 2;
        if large {
            self.flush_staged().map_err(internal)?;
        }
        let mut records = records.into_iter();
        loop {
            // Each chunk's records are dropped once its documents are built.
            let chunk: Vec<_> = records.by_ref().take(STAGED_CHUNK / 2).collect();
            if chunk.is_empty() {
                break;
            }
            let docs: Vec<_> = pool().install(|| {
                chunk
                    .par_iter()
                    .map(|(_, c)| {
                        let company = &companies[&c.company_id];
                        (
                            c.id,
                            contact_document(&s.schema.fields, s.industries, c, company),
                        )
                    })
                    .collect()
            });
            if large {
                let ids = docs
                    .iter()
                    .map(|(id, _)| Term::from_field_u64(s.schema.fields.id, *id));
                // Fails only for a field that is not indexed; `id` is.
                self.writer
                    .delete_query(Box::new(TermSetQuery::new(ids)))
                    .map_err(internal)?;
            }
            for (id, doc) in docs {
                if !large {
                    let id = Term::from_field_u64(s.schema.fields.id, id);
                    self.staged.push(UserOperation::Delete(id));
                }
                self.staged
                    .push(UserOperation::Add(Queued::new(doc, &self.in_flight)));
            }
            if self.staged.len() >= 2 * STAGED_CHUNK {
                // Nothing can refuse the batch from here on: the operations
                // handed to Tantivy are committed with the rest of the group.
                self.flush_staged().map_err(internal)?;
            }
        }
        Ok(WriteOutcome::Upserted(n))
    }

    fn put_companies(&mut self, records: Vec<(usize, Company)>) -> Reply {
        let f = self.search.schema.fields.clone();
        let searcher = self.search.searcher();
        let n = records.len();
        let mut records = records.into_iter();
        loop {
            let chunk: Vec<Company> = {
                let known = self.companies.read().unwrap_or_else(|e| e.into_inner());
                records
                    .by_ref()
                    .take(STAGED_CHUNK / 2)
                    .map(|(_, company)| company)
                    .filter(|company| known.get(&company.id) != Some(company))
                    .collect()
            };
            if chunk.is_empty() {
                if records.len() == 0 {
                    break;
                }
                continue;
            }
            // One delete per chunk of companies, before their new documents:
            // the company records and every contact of theirs (their
            // contacts carry the company's country, industries and name and
            // are indexed again below). One delete per record or contact
            // held about 1.3 KB each until the commit (a 64 MiB body of
            // companies peaked at 14× its size). Everything before this job
            // is committed (see `run_group`), so the company tag reaches
            // exactly the contacts read below, and a chunk's delete cannot
            // hit another chunk's documents: they carry other company ids
            // (an id given twice in one batch is refused).
            let terms = chunk.iter().flat_map(|c| {
                [
                    Tag::CompanyRecord(c.id).term(&f),
                    Tag::Company(c.id).term(&f),
                ]
            });
            // Fails only for a field that is not indexed; `tag` is.
            self.writer
                .delete_query(Box::new(TermSetQuery::new(terms)))
                .map_err(internal)?;
            for company in chunk {
                let query =
                    TermQuery::new(Tag::Company(company.id).term(&f), IndexRecordOption::Basic);
                for address in searcher
                    .search(&query, &DocSetCollector)
                    .map_err(internal)?
                {
                    let record = self.search.record(&searcher, address).map_err(internal)?;
                    let contact = Contact::from_json(&record).map_err(|e| {
                        internal(anyhow::Error::new(e).context("stored contact is invalid"))
                    })?;
                    self.writer
                        .add_document(Queued::new(
                            contact_document(&f, self.search.industries, &contact, &company),
                            &self.in_flight,
                        ))
                        .map_err(internal)?;
                }
                self.writer
                    .add_document(Queued::new(company_document(&f, &company), &self.in_flight))
                    .map_err(internal)?;
                self.companies
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(company.id, company);
            }
        }
        Ok(WriteOutcome::Upserted(n))
    }

    fn delete_contact(&mut self, id: u64) -> Reply {
        if self.search.contact(id).map_err(internal)?.is_none() {
            return Err(WriteError::NotFound(format!("no contact with id {id}")));
        }
        self.writer
            .delete_term(Term::from_field_u64(self.search.schema.fields.id, id));
        Ok(WriteOutcome::Deleted)
    }

    fn delete_company(&mut self, id: u64) -> Reply {
        if !self
            .companies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id)
        {
            return Err(WriteError::NotFound(format!("no company with id {id}")));
        }
        let f = &self.search.schema.fields;
        let query = TermQuery::new(Tag::Company(id).term(f), IndexRecordOption::Basic);
        let contacts = self
            .search
            .searcher()
            .search(&query, &tantivy::collector::Count)
            .map_err(internal)?;
        if contacts > 0 {
            return Err(WriteError::Conflict(format!(
                "company {id} still has {contacts} contact{}; delete them first",
                if contacts == 1 { "" } else { "s" }
            )));
        }
        self.writer.delete_term(Tag::CompanyRecord(id).term(f));
        self.companies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        Ok(WriteOutcome::Deleted)
    }
}

fn fenced(why: &str) -> WriteError {
    WriteError::StorageFailed(format!(
        "{why}: the disk may have lost data, so no write is applied until kontakt \
         restarts; check the disk first"
    ))
}

fn internal(e: impl Into<anyhow::Error>) -> WriteError {
    WriteError::Internal(e.into())
}
