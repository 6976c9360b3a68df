//! The primary's side: publishes each commit as the next generation.
//!
//! The writer hands every commit's answers to [`Publisher`] (a
//! `write::CommitHook`) once the reader shows the commit. A thread of its
//! own (`kontakt-replicate`) then reads the last commit, uploads the files
//! the store lacks and creates the next manifest. Commits made during an
//! upload are published together by the next round, so a slow store costs
//! generations, not writes.
//!
//! With `--durability local` the answers go out at once (the batch is
//! fsynced locally); with `remote` they wait for the manifest, which names
//! a commit at least as new as theirs, since it was read after they were
//! handed over.
//!
//! A manifest that already exists means another primary took the
//! generation: this one is fenced for good (until restarted), refuses
//! writes with `503 not_primary`, and keeps serving reads.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use futures::StreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use tantivy::IndexMeta;
use tantivy::index::SegmentComponent;

use super::manifest::{self, FileEntry, Manifest};
use super::{Remote, Role, Status, status};
use crate::error::ErrorCode;
use crate::search::SearchService;
use crate::write::{Answer, CommitHook, WriteError};

/// When a write's answer is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// Once the batch is fsynced on this server.
    Local,
    /// Once a manifest holding the batch is in the object store.
    Remote,
}

/// `serve --publish` settings.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub url: String,
    pub durability: Durability,
    /// Keep the newest K generations...
    pub retain_generations: u64,
    /// ...and every generation younger than this.
    pub retain_for: Duration,
    /// A file no kept manifest names is deleted only once it is this old:
    /// younger, it may belong to an upload in flight.
    pub retain_grace: Duration,
}

/// The files of a segment Tantivy may write, in the order they are shipped.
const COMPONENTS: &[SegmentComponent] = &[
    SegmentComponent::Postings,
    SegmentComponent::Positions,
    SegmentComponent::FastFields,
    SegmentComponent::FieldNorms,
    SegmentComponent::Terms,
    SegmentComponent::Store,
    SegmentComponent::Delete,
];
/// Tries to publish one round before its held answers get an error.
const TRIES: u32 = 10;
/// Files read and uploaded at once.
const UPLOADS: usize = 4;

/// The hook the writer calls; see the module documentation.
pub struct Publisher {
    tx: Mutex<mpsc::Sender<Vec<Answer>>>,
    status: Arc<Status>,
    durability: Durability,
}

impl CommitHook for Publisher {
    fn committed(&self, answers: Vec<Answer>) {
        let mut held = Vec::new();
        for (reply, result) in answers {
            if self.durability == Durability::Remote && result.is_ok() {
                held.push((reply, result));
            } else {
                let _ = reply.send(result);
            }
        }
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(mpsc::SendError(held)) = tx.send(held) {
            for (reply, _) in held {
                let _ = reply.send(Err(WriteError::Internal(anyhow::anyhow!(
                    "the replication thread stopped"
                ))));
            }
        }
    }

    fn refusal(&self) -> Option<WriteError> {
        self.status.fenced().map(not_primary)
    }
}

fn not_primary(why: String) -> WriteError {
    WriteError::Unavailable(
        ErrorCode::NotPrimary,
        format!("this server is no longer the primary and takes no writes: {why}"),
    )
}

/// Opens the store, refuses an index older than what the store holds, and
/// starts the replication thread (which publishes the current commit first).
pub fn start(
    search: Arc<SearchService>,
    options: PublishOptions,
) -> anyhow::Result<(Arc<Publisher>, Arc<Status>)> {
    let remote = Remote::open(&options.url)?;
    let newest = manifest::newest(&remote, 0)?;
    let metas = search.index.load_metas()?;
    if let Some(m) = &newest {
        anyhow::ensure!(
            m.schema_version == search.schema.version,
            "{} holds generation {} of schema version {}, but this index has version {}: \
             publish to another prefix",
            options.url,
            m.generation,
            m.schema_version,
            search.schema.version
        );
        anyhow::ensure!(
            m.opstamp <= metas.opstamp,
            "{url} holds generation {g} (Tantivy opstamp {o}), newer than this index's last \
             commit (opstamp {l}): this index is behind the store. Restore it first \
             (`kontakt restore --from {url} --index DIR`) or publish to another prefix",
            url = options.url,
            g = m.generation,
            o = m.opstamp,
            l = metas.opstamp
        );
    }
    let status = Arc::new(Status::new(Role::Primary, Duration::ZERO));
    if let Some(m) = &newest {
        status.set_generation(m.generation, m.created());
    }
    let (tx, rx) = mpsc::channel();
    let mut state = State {
        known: newest
            .iter()
            .flat_map(|m| m.files.iter().map(|f| f.key.clone()))
            .collect(),
        manifest_keys: newest
            .iter()
            .map(|m| {
                (
                    m.generation,
                    m.files.iter().map(|f| f.key.clone()).collect(),
                )
            })
            .collect(),
        next: newest.as_ref().map_or(1, |m| m.generation + 1),
        last_meta: newest.map(|m| m.meta),
        hashed: HashMap::new(),
        writer: format!("{:016x}", rand::random::<u64>()),
        remote,
        search,
        status: status.clone(),
        options: options.clone(),
        last_retention: None,
    };
    std::thread::Builder::new()
        .name("kontakt-replicate".into())
        .spawn(move || {
            crate::priority::lower_this_thread(crate::priority::Tier::Writing);
            state.run(&rx);
        })?;
    tracing::info!(store = %options.url, durability = ?options.durability, "publishing commits");
    Ok((
        Arc::new(Publisher {
            tx: Mutex::new(tx),
            status: status.clone(),
            durability: options.durability,
        }),
        status,
    ))
}

/// A local file as last seen: name, size, modification time.
type FileId = (String, u64, SystemTime);

/// Why a round did not publish.
#[derive(Debug)]
enum Failed {
    /// Another primary took the generation.
    Fenced(String),
    /// The store or the local index failed; worth another try.
    Error(anyhow::Error),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failed::Fenced(why) => write!(f, "fenced: {why}"),
            Failed::Error(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for Failed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failed::Error(e) => Some(e.as_ref()),
            Failed::Fenced(_) => None,
        }
    }
}

struct State {
    remote: Remote,
    search: Arc<SearchService>,
    status: Arc<Status>,
    options: PublishOptions,
    /// The generation the next manifest gets.
    next: u64,
    /// `meta.json` of the last manifest written (or found at start).
    last_meta: Option<serde_json::Value>,
    /// Keys known to be in the store.
    known: HashSet<String>,
    /// Keys named by each manifest this primary knows of (for retention).
    manifest_keys: HashMap<u64, Vec<String>>,
    /// (name, size, modified) -> SHA-256: a file is hashed once.
    hashed: HashMap<FileId, String>,
    writer: String,
    last_retention: Option<Instant>,
}

impl State {
    fn run(&mut self, rx: &mpsc::Receiver<Vec<Answer>>) {
        let mut held: Vec<Answer> = Vec::new();
        let mut failures = 0;
        // The current commit first, so replicas have something to start from.
        let mut pending = true;
        loop {
            if !pending {
                match rx.recv() {
                    Ok(answers) => held.extend(answers),
                    Err(_) => return,
                }
            }
            for answers in rx.try_iter() {
                held.extend(answers);
            }
            if let Some(why) = self.status.fenced() {
                for (reply, _) in held.drain(..) {
                    let _ = reply.send(Err(not_primary(why.clone())));
                }
                pending = false;
                continue;
            }
            match self.publish() {
                Ok(()) => {
                    failures = 0;
                    pending = false;
                    for (reply, result) in held.drain(..) {
                        let _ = reply.send(result);
                    }
                    self.retain_now_and_then();
                }
                Err(Failed::Fenced(why)) => {
                    tracing::error!(store = %self.remote.url, reason = %why,
                        "fenced: another primary publishes to this store; this server takes no more writes and keeps serving reads");
                    self.status.fence(why.clone());
                    for (reply, _) in held.drain(..) {
                        let _ = reply.send(Err(not_primary(why.clone())));
                    }
                    pending = false;
                }
                Err(Failed::Error(e)) => {
                    failures += 1;
                    tracing::warn!(store = %self.remote.url, error = format!("{e:#}"), failures,
                        "publishing the last commit failed; trying again");
                    if failures >= TRIES {
                        for (reply, _) in held.drain(..) {
                            let _ = reply.send(Err(WriteError::Unavailable(
                                ErrorCode::ReplicationFailed,
                                format!(
                                    "the batch is committed on the primary but could not be \
                                     published to the object store ({e:#}); retry it"
                                ),
                            )));
                        }
                        failures = 0;
                    }
                    // Try again after a pause, or sooner with a new commit.
                    pending = true;
                    if let Ok(answers) = rx.recv_timeout(Duration::from_secs(1)) {
                        held.extend(answers);
                    }
                }
            }
        }
    }

    /// Publishes the last commit unless the last manifest already holds it.
    fn publish(&mut self) -> Result<(), Failed> {
        let (metas, files) = commit_files(&self.search).map_err(Failed::Error)?;
        let meta = serde_json::to_value(&metas)
            .context("serializing meta.json")
            .map_err(Failed::Error)?;
        if self.last_meta.as_ref() == Some(&meta) {
            return Ok(());
        }
        let entries = self.upload(files).map_err(Failed::Error)?;
        let now = chrono::Utc::now();
        let manifest = Manifest {
            format: manifest::FORMAT,
            generation: self.next,
            schema_version: self.search.schema.version,
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            created_unix_ms: u64::try_from(now.timestamp_millis()).unwrap_or(0),
            writer: self.writer.clone(),
            opstamp: metas.opstamp,
            meta: meta.clone(),
            files: entries,
        };
        let key = Manifest::key(self.next);
        let body = serde_json::to_vec_pretty(&manifest)
            .context("serializing the manifest")
            .map_err(Failed::Error)?;
        if !self
            .remote
            .create(&key, body.into())
            .map_err(Failed::Error)?
        {
            let other = manifest::read(&self.remote, self.next)
                .ok()
                .flatten()
                .map_or("another primary".to_owned(), |m| {
                    format!("primary {}", m.writer)
                });
            return Err(Failed::Fenced(format!(
                "generation {} in {} was written by {other}, not by this server ({})",
                self.next, self.remote.url, self.writer
            )));
        }
        // Only a hint: readers look past it.
        if let Err(e) = manifest::write_latest(&self.remote, self.next) {
            tracing::warn!(error = format!("{e:#}"), "writing latest.json failed");
        }
        self.known
            .extend(manifest.files.iter().map(|f| f.key.clone()));
        self.manifest_keys.insert(
            self.next,
            manifest.files.iter().map(|f| f.key.clone()).collect(),
        );
        self.status
            .set_generation(manifest.generation, manifest.created());
        tracing::debug!(generation = self.next, opstamp = metas.opstamp, "published");
        self.next += 1;
        self.last_meta = Some(meta);
        Ok(())
    }

    /// Hashes the commit's files (once each) and uploads those the store
    /// lacks, a few at a time; their entries in commit order.
    fn upload(&mut self, files: Vec<(String, File)>) -> anyhow::Result<Vec<FileEntry>> {
        let hashed = &self.hashed;
        let known = &self.known;
        let remote = &self.remote;
        let results: Vec<anyhow::Result<(FileEntry, Option<FileId>)>> = remote.runtime.block_on(
            futures::stream::iter(files.into_iter().map(|(name, mut file)| async move {
                let meta = file.metadata().with_context(|| format!("reading {name}"))?;
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                let id = (name.clone(), meta.len(), modified);
                if let Some(sha) = hashed.get(&id) {
                    let key = manifest::file_key(&name, sha);
                    if known.contains(&key) {
                        let entry = FileEntry {
                            name,
                            key,
                            size: meta.len(),
                            sha256: sha.clone(),
                        };
                        return Ok((entry, None));
                    }
                }
                let mut data = Vec::with_capacity(meta.len() as usize);
                file.read_to_end(&mut data)
                    .with_context(|| format!("reading {name}"))?;
                let sha = manifest::sha256_hex(&data);
                let key = manifest::file_key(&name, &sha);
                let size = data.len() as u64;
                if !known.contains(&key) {
                    remote
                        .store
                        .put(&remote.path(&key), PutPayload::from(data))
                        .await
                        .with_context(|| format!("uploading {key} to {}", remote.url))?;
                    status::add_uploaded(size);
                }
                let entry = FileEntry {
                    name,
                    key,
                    size,
                    sha256: sha,
                };
                Ok((entry, Some(id)))
            }))
            .buffered(UPLOADS)
            .collect(),
        );
        let mut entries = Vec::with_capacity(results.len());
        for r in results {
            let (entry, newly_hashed) = r?;
            if let Some(id) = newly_hashed {
                self.hashed.insert(id, entry.sha256.clone());
            }
            self.known.insert(entry.key.clone());
            entries.push(entry);
        }
        Ok(entries)
    }

    /// Retention at most once a second (it lists the store).
    fn retain_now_and_then(&mut self) {
        if self
            .last_retention
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_retention = Some(Instant::now());
        if let Err(e) = self.retain() {
            tracing::warn!(error = format!("{e:#}"), "dropping old generations failed");
        }
    }

    /// Deletes the manifests past the retention, then the files that no
    /// remaining manifest names (and that are older than the grace).
    fn retain(&mut self) -> anyhow::Result<()> {
        let now = SystemTime::now();
        let young = |t: SystemTime| now.duration_since(t).unwrap_or_default();
        let mut manifests: Vec<(u64, SystemTime)> = self
            .remote
            .list(manifest::MANIFESTS)?
            .into_iter()
            .filter_map(|l| Some((manifest::generation_of(&l.key)?, l.modified)))
            .collect();
        manifests.sort_unstable();
        let Some(&(newest, _)) = manifests.last() else {
            return Ok(());
        };
        let keep_from = newest.saturating_sub(self.options.retain_generations.max(1) - 1);
        let (kept, dropped): (Vec<_>, Vec<_>) = manifests
            .into_iter()
            .partition(|(g, t)| *g >= keep_from || young(*t) < self.options.retain_for);
        // Manifests first: a manifest in the store always has its files.
        for (g, _) in &dropped {
            self.remote.delete(&Manifest::key(*g))?;
            self.manifest_keys.remove(g);
        }
        let mut needed: HashSet<String> = HashSet::new();
        for (g, _) in &kept {
            if !self.manifest_keys.contains_key(g) {
                match manifest::read(&self.remote, *g)? {
                    Some(m) => {
                        self.manifest_keys
                            .insert(*g, m.files.into_iter().map(|f| f.key).collect());
                    }
                    // Dropped meanwhile by another primary: it needs nothing.
                    None => continue,
                }
            }
            needed.extend(self.manifest_keys[g].iter().cloned());
        }
        let mut removed = 0;
        for file in self.remote.list(manifest::FILES)? {
            if !needed.contains(&file.key) && young(file.modified) >= self.options.retain_grace {
                self.remote.delete(&file.key)?;
                self.known.remove(&file.key);
                removed += 1;
            }
        }
        if !dropped.is_empty() || removed > 0 {
            tracing::debug!(
                manifests = dropped.len(),
                files = removed,
                "dropped old generations"
            );
        }
        Ok(())
    }
}

/// The last commit and its files, opened: a file removed after it is
/// opened (a merge made it obsolete) is still read whole. A commit whose
/// files went before they could be opened is read again.
pub fn commit_files(search: &SearchService) -> anyhow::Result<(IndexMeta, Vec<(String, File)>)> {
    let mut last_missing = String::new();
    for _ in 0..50 {
        let metas = search.index.load_metas()?;
        let mut files = Vec::new();
        let mut missing = None;
        for segment in &metas.segments {
            for component in COMPONENTS {
                if *component == SegmentComponent::Delete && segment.delete_opstamp().is_none() {
                    continue;
                }
                let name = segment.relative_path(component.clone());
                let name = name.to_string_lossy().into_owned();
                match File::open(search.dir.join(&name)) {
                    Ok(f) => files.push((name, f)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        missing = Some(name);
                    }
                    Err(e) => return Err(e).with_context(|| format!("opening {name}")),
                }
            }
        }
        let Some(name) = missing else {
            return Ok((metas, files));
        };
        // Gone because a newer commit replaced this one, or never written
        // (a component this segment does not have).
        if search.index.load_metas()?.opstamp == metas.opstamp && !is_required(&name) {
            return Ok((metas, files));
        }
        last_missing = name;
        std::thread::sleep(Duration::from_millis(10));
    }
    anyhow::bail!(
        "the index kept changing while its files were opened (last missing: {last_missing})"
    )
}

/// A component every segment has: its postings, terms, store and the
/// delete file its meta names.
fn is_required(name: &str) -> bool {
    [".idx", ".term", ".store", ".del", ".fast"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
