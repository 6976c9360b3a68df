//! The directory the index lives in: Tantivy's memory-mapped directory, with
//! the fsyncs of a commit gathered at its commit point.
//!
//! Tantivy's `MmapDirectory` fsyncs every file as it is finished, and its
//! `ManagedDirectory` rewrites and fsyncs `.managed.json` (the list of files
//! Tantivy created, for garbage collection) for every new file: about twenty
//! fsyncs for a commit of one small segment, a large part of a one-record
//! write's latency. None of them is needed before the commit point, since a
//! file only matters once a `meta.json` names it. So this directory
//!
//! * finishes files without an fsync, after asking the kernel to start
//!   writing them out, and remembers them;
//! * keeps the latest `.managed.json` in memory;
//! * before a new `meta.json` (a commit, the end of a merge) fsyncs the
//!   remembered files, writes `.managed.json` (fsynced, then renamed into
//!   place) and fsyncs the directory, then replaces `meta.json` and fsyncs
//!   the directory again, so the rename itself is on disk before the commit
//!   is acknowledged (`MmapDirectory` leaves that to the next commit).
//!
//! Tantivy lists a file in `.managed.json` before creating it, so that files
//! a crash leaves behind are collected later. Here the list reaches the disk
//! only at the next commit, so the writer, once it holds the index lock,
//! removes the index files no commit names (`remove_strays`). A
//! `.managed.json` torn by a power cut reads as absent.
//!
//! Two kinds of failure are told apart ([`Storage`]):
//!
//! * a write, create or rename refused for lack of space (`ENOSPC`,
//!   `EDQUOT`) is counted; the commit fails before its `meta.json`, the
//!   writer rolls back and collects the commit's files, and the next commit
//!   may succeed once space is back;
//! * a failed fsync is final: Linux reports a writeback error once, so a
//!   second fsync of the same file may succeed with the data lost. After
//!   one, every later commit fails until the process restarts (the storage
//!   is *fenced*).
//!
//! A finished file's handle is kept until the commit fsyncs it, or until
//! the file is deleted (a failed commit's files, collected by the writer):
//! a handle to a deleted file would keep its space taken.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::directory::error::{
    DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError,
};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};
use tantivy::index::SegmentComponent;

/// Tantivy's commit point.
const META: &str = "meta.json";
/// Tantivy's list of the files it manages.
const MANAGED: &str = ".managed.json";
/// Where a new `meta.json` or `.managed.json` is written before it
/// replaces the old one: `.<name>.next` (a leading dot: Tantivy never
/// manages or collects it).
fn next_name(name: &str) -> String {
    format!(".{}.next", name.trim_start_matches('.'))
}

/// True when `e` says the file system is out of space or over a quota.
pub fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// The state of the storage under an index, shared by every handle of its
/// directory (see the module documentation).
#[derive(Debug, Default)]
pub struct Storage {
    /// Why no commit is possible until a restart: the fsync that failed.
    fenced: Mutex<Option<String>>,
    /// Writes refused for lack of space so far.
    space_errors: AtomicU64,
}

impl Storage {
    /// Why writes are fenced, if they are.
    pub fn fenced(&self) -> Option<String> {
        self.fenced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many writes were refused for lack of space since the start.
    pub fn space_errors(&self) -> u64 {
        self.space_errors.load(Ordering::Acquire)
    }

    /// Counts `e` when it is a lack of space; returns it.
    fn saw(&self, e: io::Error) -> io::Error {
        if is_out_of_space(&e) {
            self.space_errors.fetch_add(1, Ordering::AcqRel);
        }
        e
    }

    /// Records a failed fsync of `what`: no commit from now on.
    fn fence(&self, what: &str, e: io::Error) -> io::Error {
        let reason = format!("the fsync of {what} failed: {e}");
        tracing::error!(
            error = %e,
            "{reason}; no commit is possible until kontakt restarts"
        );
        let mut fenced = self.fenced.lock().unwrap_or_else(|e| e.into_inner());
        fenced.get_or_insert(reason);
        e
    }

    /// What a failed fsync of `what` does, for tests of the layers above
    /// (a real one needs a failing device).
    #[doc(hidden)]
    pub fn simulate_failed_fsync(&self, what: &str) {
        self.fence(what, io::Error::from_raw_os_error(5));
    }

    /// Fails when writes are fenced.
    fn check(&self) -> io::Result<()> {
        match self.fenced() {
            Some(reason) => Err(io::Error::other(format!(
                "{reason}; no commit is possible until kontakt restarts"
            ))),
            None => Ok(()),
        }
    }
}

/// True for the name of a file Tantivy writes for a segment:
/// `<32 hex digits>.<extension>`.
fn is_segment_file(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 33 && b[32] == b'.' && b[..32].iter().all(u8::is_ascii_hexdigit)
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct CommitDirectory {
    inner: MmapDirectory,
    root: Arc<PathBuf>,
    unsynced: Arc<Mutex<Unsynced>>,
    /// Held while syncing, so two syncs never write `.managed.json` at once.
    syncing: Arc<Mutex<()>>,
    storage: Arc<Storage>,
}

/// What was written since the last sync.
#[derive(Debug, Default)]
struct Unsynced {
    /// Finished files, with a handle each to fsync them.
    files: Vec<(PathBuf, File)>,
    /// The latest `.managed.json`, not yet on disk.
    managed: Option<Vec<u8>>,
}

impl CommitDirectory {
    pub fn open(root: &Path) -> Result<CommitDirectory, OpenDirectoryError> {
        Ok(CommitDirectory {
            inner: MmapDirectory::open(root)?,
            root: Arc::new(root.to_path_buf()),
            unsynced: Arc::default(),
            syncing: Arc::default(),
            storage: Arc::default(),
        })
    }

    /// The state of the storage, shared with every clone of this directory.
    pub fn storage(&self) -> Arc<Storage> {
        self.storage.clone()
    }

    /// Replaces the file `name` with `content`, durably but for the
    /// directory entry. On failure the new file is removed (its space back).
    fn write_atomically(&self, name: &str, content: &[u8]) -> io::Result<()> {
        let next = self.root.join(next_name(name));
        let written = File::create(&next)
            .and_then(|mut file| {
                file.write_all(content)?;
                Ok(file)
            })
            .map_err(|e| self.storage.saw(e))
            .and_then(|file| {
                file.sync_data()
                    .map_err(|e| self.storage.fence(&next.display().to_string(), e))
            })
            .and_then(|()| {
                std::fs::rename(&next, self.root.join(name)).map_err(|e| self.storage.saw(e))
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&next);
        }
        written
    }

    fn sync_directory_or_fence(&self) -> io::Result<()> {
        self.inner
            .sync_directory()
            .map_err(|e| self.storage.fence(&self.root.display().to_string(), e))
    }

    fn unsynced(&self) -> MutexGuard<'_, Unsynced> {
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn syncing(&self) -> MutexGuard<'_, ()> {
        self.syncing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes everything written so far durable: the finished files,
    /// `.managed.json` and the directory entries naming them. The caller
    /// holds `syncing`.
    fn sync_written(&self, _syncing: &MutexGuard<'_, ()>) -> io::Result<()> {
        self.storage.check()?;
        let (files, managed) = {
            let mut u = self.unsynced();
            (std::mem::take(&mut u.files), u.managed.take())
        };
        if files.is_empty() && managed.is_none() {
            return Ok(());
        }
        for (path, file) in &files {
            file.sync_data()
                .map_err(|e| self.storage.fence(&path.display().to_string(), e))?;
        }
        if let Some(content) = managed
            && let Err(e) = self.write_atomically(MANAGED, &content)
        {
            // The files are durable; the list goes with the next sync
            // unless a newer one came meanwhile.
            self.unsynced().managed.get_or_insert(content);
            return Err(e);
        }
        self.sync_directory_or_fence()
    }
}

/// Removes the segment files in `root` that the last commit of `index` does
/// not name: what a crash left between writing them and committing (see
/// the module documentation). Only for the holder of the index's writer
/// lock, before it writes anything: then no file is being written. Returns
/// how many went.
pub fn remove_strays(index: &tantivy::Index, root: &Path) -> io::Result<usize> {
    let metas = index
        .searchable_segment_metas()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let live: std::collections::HashMap<String, Option<String>> = metas
        .iter()
        .map(|m| {
            let deletes = m.has_deletes().then(|| {
                m.relative_path(SegmentComponent::Delete)
                    .to_string_lossy()
                    .into_owned()
            });
            (m.id().uuid_string(), deletes)
        })
        .collect();
    let mut removed = 0;
    for entry in std::fs::read_dir(root)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !is_segment_file(&name) {
            continue;
        }
        let stray = match live.get(&name[..32]) {
            None => true,
            // Of a live segment's delete files, only the committed one.
            Some(deletes) => name.ends_with(".del") && deletes.as_deref() != Some(name.as_str()),
        };
        if stray {
            std::fs::remove_file(root.join(&name))?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(
            files = removed,
            "removed index files no commit named (left by a crash)"
        );
    }
    Ok(removed)
}

/// A file read with `pread` instead of a mapping: the stored records, of
/// which a search reads a few blocks (its page). Mapped, every block ever
/// read would count in the server's resident memory (2.5 GB of records at
/// ten million contacts); read, it sits in the kernel's page cache, which
/// gives it back whenever memory is wanted.
#[derive(Debug)]
struct ReadFile {
    file: File,
    len: usize,
}

impl tantivy::HasLen for ReadFile {
    fn len(&self) -> usize {
        self.len
    }
}

impl FileHandle for ReadFile {
    fn read_bytes(
        &self,
        range: std::ops::Range<usize>,
    ) -> io::Result<tantivy::directory::OwnedBytes> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; range.len()];
        self.file.read_exact_at(&mut buf, range.start as u64)?;
        Ok(tantivy::directory::OwnedBytes::new(buf))
    }
}

impl Directory for CommitDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        if path.extension().is_some_and(|e| e == "store") {
            let full = self.root.join(path);
            let file = File::open(&full).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
                _ => OpenReadError::wrap_io_error(e, path.to_path_buf()),
            })?;
            let len = file
                .metadata()
                .map_err(|e| OpenReadError::wrap_io_error(e, path.to_path_buf()))?
                .len() as usize;
            return Ok(Arc::new(ReadFile { file, len }));
        }
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        // A deleted file needs no fsync, and its handle would keep its space.
        self.unsynced().files.retain(|(p, _)| p != path);
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.root.join(path))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OpenWriteError::FileAlreadyExists(path.to_path_buf())
                } else {
                    OpenWriteError::wrap_io_error(self.storage.saw(e), path.to_path_buf())
                }
            })?;
        Ok(io::BufWriter::new(Box::new(UnsyncedFile {
            file,
            path: path.to_path_buf(),
            unsynced: self.unsynced.clone(),
            storage: self.storage.clone(),
        })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        if path == Path::new(MANAGED)
            && let Some(pending) = &self.unsynced().managed
        {
            return Ok(pending.clone());
        }
        let bytes = self.inner.atomic_read(path)?;
        if path == Path::new(MANAGED)
            && serde_json::from_slice::<serde_json::Value>(&bytes).is_err()
        {
            tracing::warn!("{MANAGED} is torn (a power cut?); starting a new one");
            return Err(OpenReadError::FileDoesNotExist(path.to_path_buf()));
        }
        Ok(bytes)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        if path == Path::new(MANAGED) {
            self.unsynced().managed = Some(data.to_vec());
            return Ok(());
        }
        if path != Path::new(META) {
            return self.inner.atomic_write(path, data);
        }
        // The commit point. Tantivy syncs the directory first too; this is
        // for any path that would not.
        let syncing = self.syncing();
        self.sync_written(&syncing)?;
        self.write_atomically(META, data)?;
        self.sync_directory_or_fence()
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.sync_written(&self.syncing())
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(callback)
    }
}

/// A file being written; when finished it is handed to the directory to be
/// fsynced with the next commit.
struct UnsyncedFile {
    file: File,
    path: PathBuf,
    unsynced: Arc<Mutex<Unsynced>>,
    storage: Arc<Storage>,
}

impl Write for UnsyncedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf).map_err(|e| self.storage.saw(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|e| self.storage.saw(e))
    }
}

impl TerminatingWrite for UnsyncedFile {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        self.flush()?;
        start_writeback(&self.file);
        let handle = self.file.try_clone()?;
        self.unsynced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .files
            .push((self.path.clone(), handle));
        Ok(())
    }
}

/// Asks the kernel to start writing `file` out now, so that the fsync at the
/// commit finds little left to do. Only a hint: errors are ignored.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor; the call only starts writeback.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STORED, Schema, TEXT};
    use tantivy::{Index, IndexWriter, TantivyDocument, doc};

    use super::*;

    fn schema() -> (Schema, tantivy::schema::Field) {
        let mut b = Schema::builder();
        let body = b.add_text_field("body", TEXT | STORED);
        (b.build(), body)
    }

    fn count(index: &Index) -> u64 {
        index.reader().unwrap().searcher().num_docs()
    }

    /// A closed index in a new temporary directory, with one commit.
    fn one_commit() -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let (schema, _) = schema();
        let index = Index::create(
            CommitDirectory::open(tmp.path()).unwrap(),
            schema,
            Default::default(),
        )
        .unwrap();
        add_and_commit(&index, "kept");
        tmp
    }

    /// Opens a writer on `index`, adds one document and commits.
    fn add_and_commit(index: &Index, text: &str) {
        let body = index.schema().get_field("body").unwrap();
        let mut writer: IndexWriter<TantivyDocument> = index.writer(15_000_000).unwrap();
        writer.add_document(doc!(body => text)).unwrap();
        writer.commit().unwrap();
        writer.wait_merging_threads().unwrap();
    }

    #[test]
    fn segment_files_wait_for_the_commit_point_and_are_synced_by_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CommitDirectory::open(tmp.path()).unwrap();
        let (schema, body) = schema();
        let index = Index::create(dir.clone(), schema, Default::default()).unwrap();
        let mut writer: IndexWriter<TantivyDocument> = index.writer(15_000_000).unwrap();
        for i in 0..3 {
            writer
                .add_document(doc!(body => format!("doc {i}")))
                .unwrap();
            // The segment is written (the indexing threads are joined); its
            // files and the managed list wait for the commit point...
            let prepared = writer.prepare_commit().unwrap();
            {
                let u = dir.unsynced();
                assert!(
                    !u.files.is_empty() && u.managed.is_some(),
                    "before commit {i}, nothing was deferred: {u:?}"
                );
            }
            // ... and writing meta.json syncs them all first.
            prepared.commit().unwrap();
            let u = dir.unsynced();
            assert!(
                u.files.is_empty() && u.managed.is_none(),
                "after commit {i}: {u:?}"
            );
        }
        drop(writer);
        drop(index);
        let reopened = Index::open(CommitDirectory::open(tmp.path()).unwrap()).unwrap();
        assert_eq!(count(&reopened), 3);
    }

    #[test]
    fn files_a_crash_left_behind_are_removed_and_nothing_else() {
        let tmp = one_commit();
        let index = Index::open(CommitDirectory::open(tmp.path()).unwrap()).unwrap();
        // A committed delete: its file is the segment's and must stay.
        let body = index.schema().get_field("body").unwrap();
        {
            let mut writer: IndexWriter<TantivyDocument> = index.writer(15_000_000).unwrap();
            writer.add_document(doc!(body => "gone")).unwrap();
            writer.add_document(doc!(body => "stays")).unwrap();
            writer.commit().unwrap();
            writer.delete_term(tantivy::Term::from_field_text(body, "gone"));
            writer.commit().unwrap();
            writer.wait_merging_threads().unwrap();
        }
        let metas = index.searchable_segment_metas().unwrap();
        let committed_del: Vec<PathBuf> = metas
            .iter()
            .filter(|m| m.has_deletes())
            .map(|m| tmp.path().join(m.relative_path(SegmentComponent::Delete)))
            .collect();
        assert_eq!(committed_del.len(), 1);
        let live = metas
            .iter()
            .find(|m| m.has_deletes())
            .expect("a segment with deletes")
            .id()
            .uuid_string();
        // What a crash between writing files and committing leaves: a new
        // segment's file, and a delete file of a live segment at an opstamp
        // the restarted writer would reach again.
        let strays = [
            tmp.path().join("0123456789abcdef0123456789abcdef.idx"),
            tmp.path().join(format!("{live}.999.del")),
        ];
        for f in &strays {
            std::fs::write(f, b"half written").unwrap();
        }
        let other = tmp.path().join("notes.txt");
        std::fs::write(&other, b"not the index's").unwrap();
        let before = std::fs::read_dir(tmp.path()).unwrap().count();

        assert_eq!(remove_strays(&index, tmp.path()).unwrap(), 2);
        for f in &strays {
            assert!(!f.exists(), "{} was left", f.display());
        }
        assert!(other.exists(), "a file that is not the index's was removed");
        assert!(
            committed_del[0].exists(),
            "the committed delete file was removed"
        );
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), before - 2);
        // The commit still opens whole (the deleted document stays deleted)
        // and takes writes.
        drop(index);
        let reopened = Index::open(CommitDirectory::open(tmp.path()).unwrap()).unwrap();
        assert_eq!(count(&reopened), 2);
        add_and_commit(&reopened, "added");
        assert_eq!(count(&reopened), 3);
    }

    #[test]
    fn a_failed_fsync_fences_every_later_commit_and_a_deleted_file_is_not_kept_open() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = CommitDirectory::open(tmp.path()).unwrap();
        let (schema, body) = schema();
        let index = Index::create(dir.clone(), schema, Default::default()).unwrap();
        let mut writer: IndexWriter<TantivyDocument> = index.writer(15_000_000).unwrap();
        writer.add_document(doc!(body => "kept")).unwrap();
        writer.commit().unwrap();

        // A finished file that is deleted before the commit is not fsynced
        // and its handle goes with it.
        let mut w = dir.open_write(Path::new("gone.tmp")).unwrap();
        w.write_all(b"x").unwrap();
        w.terminate().unwrap();
        assert_eq!(dir.unsynced().files.len(), 1);
        dir.delete(Path::new("gone.tmp")).unwrap();
        assert!(dir.unsynced().files.is_empty());

        // A handle whose fsync fails (a pipe: EINVAL), as a device error would.
        let (_reader, pipe) = std::io::pipe().unwrap();
        let pipe = File::from(std::os::fd::OwnedFd::from(pipe));
        dir.unsynced().files.push((PathBuf::from("bad"), pipe));
        writer.add_document(doc!(body => "lost")).unwrap();
        assert!(writer.commit().is_err());
        let why = dir.storage().fenced().expect("fenced after a failed fsync");
        assert!(why.contains("bad"), "{why}");
        // Every later commit is refused, though nothing is left to fail.
        writer.rollback().unwrap();
        writer.add_document(doc!(body => "refused")).unwrap();
        let e = writer.commit().unwrap_err().to_string();
        assert!(e.contains("until kontakt restarts"), "{e}");
        drop(writer);
        let reopened = Index::open(CommitDirectory::open(tmp.path()).unwrap()).unwrap();
        assert_eq!(count(&reopened), 1);
    }

    #[test]
    fn a_torn_managed_list_does_not_stop_the_index_opening() {
        let tmp = one_commit();
        std::fs::write(tmp.path().join(MANAGED), b"[\"half a na").unwrap();

        let index = Index::open(CommitDirectory::open(tmp.path()).unwrap()).unwrap();
        assert_eq!(count(&index), 1);
        // It still takes writes, and the list is whole again after them.
        add_and_commit(&index, "added");
        let list = std::fs::read(tmp.path().join(MANAGED)).unwrap();
        assert!(serde_json::from_slice::<Vec<String>>(&list).is_ok());
        assert_eq!(count(&index), 2);
    }
}
