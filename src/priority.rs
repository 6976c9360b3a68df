//! Scheduling priority of background work.
//!
//! On two cores, indexing, merging and cache warm-ups compete with searches
//! for the CPU. Searches answer people typing; writes are acknowledged
//! batches whose callers can wait a little longer. So the threads that
//! index, merge and warm run at a lower priority (a higher nice value):
//! they take every idle cycle, and yield when searches need the cores.
//! Linux schedules threads individually, so this touches only them.

/// Nice value of indexing and commits (acknowledgements wait for them).
pub const WRITING: i32 = 5;
/// Nice value of merges and cache warm-ups (nothing waits for them).
pub const BACKGROUND: i32 = 10;

/// Lowers the calling thread's priority to `nice`.
pub fn lower_this_thread(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the scheduling priority of the
    // calling thread (`who` 0); failure (a sandbox forbidding it) is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, nice);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Lowers the priority of this process's threads whose name starts with
/// one of `prefixes` (threads Tantivy starts for a writer: indexing, merges,
/// segment updates), to `nice`.
pub fn lower_threads_named(prefixes: &[&str], nice: i32) {
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
                .and_then(|t| t.parse::<u32>().ok())
            else {
                continue;
            };
            if prefixes.iter().any(|p| name.starts_with(p)) {
                // SAFETY: as above, for one thread of this process.
                unsafe {
                    libc::setpriority(libc::PRIO_PROCESS, tid, nice);
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (prefixes, nice);
}
