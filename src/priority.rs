//! Scheduling priority of background work.
//!
//! On two cores, indexing, merging and cache warm-ups compete with searches
//! for the CPU. Searches answer people typing; writes are acknowledged
//! batches whose callers can wait a little longer; merges and warm-ups have
//! no one waiting. So there are three tiers:
//!
//! * searches and HTTP: normal priority;
//! * work an acknowledgement waits for (parsing write bodies, building
//!   documents, indexing, commits) and the cache warm-ups after a commit:
//!   nice 19, so searches get nearly all of a contested core, and the
//!   writes still get every cycle searches leave. A nice-19 thread the
//!   scheduler has picked may keep the core until the next tick (4 ms at
//!   250 Hz) before a search that woke meanwhile runs;
//! * merges and a replica's following (downloads, installs and the warm-up
//!   of new segments before searches see them): Linux's `SCHED_IDLE`,
//!   which runs only when neither of the above wants the core, and gives it
//!   up as soon as a search wakes (so commits do not queue behind a merge
//!   for the CPU). Not the primary's warm-up: a `SCHED_IDLE` thread
//!   preempted while holding a lock can keep it for as long as the cores
//!   stay busy, and the warm-up takes the search caches' lock. Merges share
//!   no lock with searches; a replica's warm-up takes that lock only for
//!   lookups and inserts, and a replica has no writers to wait for it.
//!
//! Searches that may cost far more than a typeahead run on threads of their
//! own at nice 10 (`Tier::Costly`), so a burst of them leaves the cores to
//! the cheap ones.
//!
//! Searches never wait for a write, and the locks they share with the
//! writing side are held for microseconds, so a search that finds one held
//! sleeps and frees the core for its holder. (Measured with the write
//! benchmark: the writing side at nice 0 instead of 19 raised the search p99
//! under writes from 25–63 ms to 90–138 ms.)
//! Linux schedules threads individually, so this touches only the threads
//! named; where a policy cannot be set (another OS, a sandbox), the threads
//! keep their priority and everything still works.

/// How far a thread steps back for searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Work an acknowledgement waits for (parsing, indexing, commits) and
    /// cache warm-ups: the weakest nice value, 19, so it still wins over
    /// `Background`.
    Writing,
    /// Merges and a replica's following: `SCHED_IDLE`.
    Background,
    /// Searches that may cost far more than a typeahead (all facets, title
    /// scans, typo expansion; see `http::handlers`): nice 10, behind the
    /// cheap searches, ahead of the writes.
    Costly,
}

/// Moves the calling thread to `tier`.
pub fn lower_this_thread(tier: Tier) {
    #[cfg(target_os = "linux")]
    lower(0, tier);
    #[cfg(not(target_os = "linux"))]
    let _ = tier;
}

/// Moves this process's threads whose name starts with one of `prefixes`
/// (threads Tantivy starts for a writer: indexing, merges, segment updates)
/// to `tier`.
pub fn lower_threads_named(prefixes: &[&str], tier: Tier) {
    #[cfg(target_os = "linux")]
    {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return;
        };
        for task in tasks.flatten() {
            let Ok(name) = std::fs::read_to_string(task.path().join("comm")) else {
                continue;
            };
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|t| t.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            if prefixes.iter().any(|p| name.starts_with(p)) {
                lower(tid, tier);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (prefixes, tier);
}

/// Thread `tid` of this process (0: the calling thread) to `tier`; where
/// `SCHED_IDLE` is refused, nice 19 instead.
#[cfg(target_os = "linux")]
fn lower(tid: libc::pid_t, tier: Tier) {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: both calls only change the scheduling of one thread of this
    // process; `param` outlives the call. Failure is harmless (see above).
    unsafe {
        let nice = match tier {
            Tier::Costly => 10,
            Tier::Writing => 19,
            Tier::Background if libc::sched_setscheduler(tid, libc::SCHED_IDLE, &param) == 0 => {
                return;
            }
            Tier::Background => 19,
        };
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice);
    }
}
