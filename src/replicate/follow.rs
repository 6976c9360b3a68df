//! The replica's side (`serve --follow`) and `kontakt restore`: installing a
//! generation into a local index directory.
//!
//! A generation is installed by downloading the files the directory lacks,
//! checking each one's size, SHA-256 and Tantivy footer checksum, and only
//! then replacing `meta.json` (written to a temporary name, fsynced,
//! renamed). A replica then builds what searches keep for the new
//! segments (sort permutations, facet values) and only then reloads its
//! reader: searches started before see the old generation whole, searches
//! after see the new one whole and warm.
//! Files only older generations named are deleted after the swap; searches
//! still running keep them open.
//!
//! A replica keeps the manifest it serves as `replica.json` in its
//! directory. After a restart it installs that manifest again, which checks
//! every local file, so a crash in the middle of a swap costs a download,
//! never a torn index. It only ever moves to a newer generation.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use object_store::ObjectStoreExt;

use super::manifest::{self, FileEntry, Manifest};
use super::{Remote, Role, Status, status};
use crate::index::IndexSchema;
use crate::search::SearchService;

/// The manifest a replica serves, kept in its directory.
pub const REPLICA_FILE: &str = "replica.json";
/// Files downloaded at once.
const DOWNLOADS: usize = 4;

/// Names in the index directory that are not files of a generation.
fn is_bookkeeping(name: &str) -> bool {
    name == "meta.json" || name == REPLICA_FILE || name.starts_with('.')
}

/// SHA-256 of each local file known to be good, by name.
type Verified = HashMap<String, String>;

/// Writes `data` to `dir/name` through a temporary file, fsynced when
/// `durable`. A replica's index files are not: after a crash every one is
/// checked against `replica.json` again (see the module documentation),
/// and their fsyncs were most of a small generation's install time.
fn write_file(dir: &Path, name: &str, data: &[u8], durable: bool) -> anyhow::Result<()> {
    let tmp = dir.join(format!(".{name}.download"));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(data)?;
    if durable {
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name)).with_context(|| format!("placing {name}"))?;
    Ok(())
}

/// Makes `dir` hold generation `m`: every file present and checked, then
/// `replica.json` (when `replica`) and `meta.json`. Returns the bytes
/// downloaded.
pub fn install(
    remote: &Remote,
    dir: &Path,
    m: &Manifest,
    replica: bool,
    verified: &mut Verified,
) -> anyhow::Result<u64> {
    let schema = IndexSchema::declared()?;
    anyhow::ensure!(
        m.schema_version == schema.version,
        "generation {} has schema version {}, this kontakt reads version {}",
        m.generation,
        m.schema_version,
        schema.version
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut wanted: Vec<&FileEntry> = Vec::new();
    for f in &m.files {
        anyhow::ensure!(
            !f.name.contains('/') && !is_bookkeeping(&f.name),
            "generation {} names a file {:?} that is not an index file",
            m.generation,
            f.name
        );
        if verified.get(&f.name) == Some(&f.sha256) {
            continue;
        }
        // A file left by an earlier run counts once its content is checked.
        if let Ok(data) = std::fs::read(dir.join(&f.name))
            && data.len() as u64 == f.size
            && manifest::sha256_hex(&data) == f.sha256
        {
            verified.insert(f.name.clone(), f.sha256.clone());
            continue;
        }
        verified.remove(&f.name);
        wanted.push(f);
    }
    let generation = m.generation;
    let fetched: Vec<anyhow::Result<u64>> = remote.runtime.block_on(
        futures::stream::iter(wanted.into_iter().map(|f| async move {
            let data = match remote.store.get(&remote.path(&f.key)).await {
                Ok(r) => r.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => anyhow::bail!(
                    "{} of generation {generation} is missing from {} (dropped by retention?)",
                    f.key,
                    remote.url
                ),
                Err(e) => return Err(e).with_context(|| format!("downloading {}", f.key)),
            };
            anyhow::ensure!(
                data.len() as u64 == f.size,
                "{} has {} bytes, its manifest says {}",
                f.key,
                data.len(),
                f.size
            );
            anyhow::ensure!(
                manifest::sha256_hex(&data) == f.sha256,
                "{} does not match its manifest's SHA-256",
                f.key
            );
            crate::index::footer::check_bytes(&f.key, &data)?;
            // A restore is not checked again later: durable.
            write_file(dir, &f.name, &data, !replica)?;
            status::add_fetched(f.size);
            Ok(f.size)
        }))
        .buffer_unordered(DOWNLOADS)
        .collect(),
    );
    let mut bytes = 0;
    for r in fetched {
        bytes += r?;
    }
    for f in &m.files {
        verified.insert(f.name.clone(), f.sha256.clone());
    }
    sync_dir(dir)?;
    if replica {
        write_file(dir, REPLICA_FILE, &serde_json::to_vec_pretty(m)?, true)?;
    }
    write_file(dir, "meta.json", &serde_json::to_vec_pretty(&m.meta)?, true)?;
    sync_dir(dir)?;
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// Deletes the files of `dir` that generation `m` does not name.
fn remove_others(dir: &Path, m: &Manifest, verified: &mut Verified) {
    let names: std::collections::HashSet<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_bookkeeping(&name) && !names.contains(name.as_str()) {
            let _ = std::fs::remove_file(entry.path());
            verified.remove(&name);
        }
    }
}

/// `serve --follow` settings.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    pub url: String,
    pub dir: PathBuf,
    pub interval: Duration,
    pub max_lag: Duration,
}

/// What a replica needs to go on following after its bootstrap.
pub struct Bootstrapped {
    remote: Remote,
    current: Manifest,
    verified: Verified,
    options: FollowOptions,
}

/// Brings the replica's directory to the newest generation (waiting for a
/// first one if the store has none) before anything is served.
pub fn bootstrap(options: FollowOptions, status: &Status) -> anyhow::Result<Bootstrapped> {
    let remote = Remote::open(&options.url)?;
    let dir = &options.dir;
    let mut verified = Verified::new();
    let kept = dir.join(REPLICA_FILE);
    let mut current = if kept.is_file() {
        let m = Manifest::parse(&std::fs::read(&kept)?, &kept.display().to_string())?;
        // Checks every local file; what a crash tore is downloaded again.
        install(&remote, dir, &m, true, &mut verified)?;
        Some(m)
    } else {
        let holds_files = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
        anyhow::ensure!(
            !holds_files,
            "{} holds files but no {REPLICA_FILE}: a replica needs a directory of its own \
             (empty, absent, or one it made)",
            dir.display()
        );
        None
    };
    let mut waiting_logged = false;
    loop {
        let at_least = current.as_ref().map_or(0, |m| m.generation);
        match manifest::newest(&remote, at_least) {
            Ok(Some(m)) => {
                status.saw_newest(m.generation, m.created());
                if current.as_ref().is_none_or(|c| m.generation > c.generation) {
                    let started = std::time::Instant::now();
                    let bytes = install(&remote, dir, &m, true, &mut verified)?;
                    tracing::info!(generation = m.generation, bytes, ms = started.elapsed().as_millis() as u64,
                        store = %remote.url, "replica bootstrapped");
                    current = Some(m);
                }
                break;
            }
            Ok(None) if current.is_some() => break,
            Ok(None) => {
                if !waiting_logged {
                    tracing::info!(store = %remote.url, "waiting for the primary's first manifest");
                    waiting_logged = true;
                }
            }
            Err(e) if current.is_some() => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "the store cannot be read; serving the local generation"
                );
                break;
            }
            Err(e) => tracing::warn!(error = format!("{e:#}"), "the store cannot be read yet"),
        }
        std::thread::sleep(options.interval);
    }
    let current = current.context("no generation installed")?;
    remove_others(dir, &current, &mut verified);
    status.set_generation(current.generation, current.created());
    Ok(Bootstrapped {
        remote,
        current,
        verified,
        options,
    })
}

/// Starts the thread that polls for newer generations and swaps them in.
pub fn start(
    boot: Bootstrapped,
    search: Arc<SearchService>,
    status: Arc<Status>,
) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("kontakt-follow".into())
        .spawn(move || follow(boot, &search, &status))?;
    Ok(())
}

fn follow(mut b: Bootstrapped, search: &Arc<SearchService>, status: &Status) {
    // Downloads, checksums, installs and the warm-up of new segments are
    // what a replica does besides searching, and nobody waits on them:
    // SCHED_IDLE, like merges. Nice 19 was not enough: once picked, a
    // nice-19 thread keeps the core until the next tick (4 ms at 250 Hz),
    // and searches that woke meanwhile waited (measured: 6-7 ms stalls,
    // replica p99 under the primary's load 1.9-2.6x idle at a 50 ms
    // interval). A SCHED_IDLE thread gives the core up as soon as a search
    // wakes. It takes the search caches' lock only for lookups and inserts
    // (builds and frees happen outside it).
    crate::priority::lower_this_thread(crate::priority::Tier::Background);
    let mut failing = false;
    loop {
        std::thread::sleep(b.options.interval);
        let newest = match manifest::newest(&b.remote, b.current.generation) {
            Ok(Some(m)) => m,
            Ok(None) => {
                status.checked();
                continue;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = format!("{e:#}"), store = %b.remote.url, "looking for new generations failed");
                }
                failing = true;
                continue;
            }
        };
        status.saw_newest(newest.generation, newest.created());
        if newest.generation <= b.current.generation {
            failing = false;
            continue;
        }
        let started = std::time::Instant::now();
        let installed = install(&b.remote, &b.options.dir, &newest, true, &mut b.verified)
            .and_then(|bytes| Ok((bytes, search.warm_then_reload()?)));
        match installed {
            Ok((bytes, ())) => {
                status.set_generation(newest.generation, newest.created());
                remove_others(&b.options.dir, &newest, &mut b.verified);
                tracing::debug!(
                    generation = newest.generation,
                    bytes,
                    ms = started.elapsed().as_secs_f64() * 1e3,
                    "replica moved to a new generation"
                );
                b.current = newest;
                failing = false;
            }
            Err(e) => {
                // meta.json may name the new generation while the reader
                // still shows the old one; the next round installs again.
                tracing::warn!(
                    error = format!("{e:#}"),
                    generation = newest.generation,
                    "installing a new generation failed; still serving the last one"
                );
                failing = true;
            }
        }
    }
}

/// A replica's role state, for `serve`.
pub fn replica_status(max_lag: Duration) -> Arc<Status> {
    Arc::new(Status::new(Role::Replica, max_lag))
}

/// `kontakt restore`: writes generation `generation` (default: the newest)
/// of the store at `url` into `dir` (absent or empty) as a plain index that
/// `kontakt serve --index` serves. Built beside `dir` and renamed into
/// place, so a failed restore leaves nothing half made.
pub fn restore(url: &str, generation: Option<u64>, dir: &Path) -> anyhow::Result<Manifest> {
    if dir.exists() {
        anyhow::ensure!(
            std::fs::read_dir(dir)?.next().is_none(),
            "{} is not empty",
            dir.display()
        );
    }
    let remote = Remote::open(url)?;
    let m = match generation {
        Some(g) => manifest::read(&remote, g)?.with_context(|| {
            let kept = manifest::list_generations(&remote).unwrap_or_default();
            format!(
                "generation {g} is not in {url}; it holds {}",
                match (kept.first(), kept.last()) {
                    (Some(a), Some(b)) => format!("generations {a} to {b}"),
                    _ => "no generation".to_owned(),
                }
            )
        })?,
        None => {
            manifest::newest(&remote, 0)?.with_context(|| format!("{url} holds no generation"))?
        }
    };
    let name = dir
        .file_name()
        .with_context(|| format!("{} names no directory", dir.display()))?;
    let building = dir.with_file_name(format!(
        "{}.building-restore-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&building);
    let result = install(&remote, &building, &m, false, &mut Verified::new()).and_then(|_| {
        // It must open and hold the documents its commit says.
        let index = crate::index::open(&building, &IndexSchema::declared()?)?;
        let docs: u64 = index
            .load_metas()?
            .segments
            .iter()
            .map(|s| u64::from(s.num_docs()))
            .sum();
        anyhow::ensure!(
            index.reader()?.searcher().num_docs() == docs,
            "the restored index does not hold its commit's documents"
        );
        drop(index);
        if dir.exists() {
            std::fs::remove_dir(dir)?;
        }
        std::fs::rename(&building, dir)
            .with_context(|| format!("moving the restore to {}", dir.display()))?;
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    result.map(|()| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_footer_check_accepts_tantivy_files_and_refuses_a_flipped_byte() {
        let dir = tempfile::tempdir().unwrap();
        let schema = IndexSchema::declared().unwrap();
        let index = crate::index::create(dir.path(), &schema).unwrap();
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        writer
            .add_document(tantivy::TantivyDocument::default())
            .unwrap();
        writer.commit().unwrap();
        let mut checked = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if is_bookkeeping(&name) || name.ends_with(".lock") {
                continue;
            }
            let mut data = std::fs::read(dir.path().join(&name)).unwrap();
            crate::index::footer::check_bytes(&name, &data).unwrap();
            data[0] ^= 1;
            let err = crate::index::footer::check_bytes(&name, &data)
                .unwrap_err()
                .to_string();
            assert!(err.contains("checksum"), "{err}");
            checked += 1;
        }
        assert!(checked >= 5, "{checked} files");
        assert!(crate::index::footer::check_bytes("x", b"short").is_err());
    }
}
