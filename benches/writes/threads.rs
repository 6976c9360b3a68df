//! Where the server's CPU went during a phase, by thread: the threads of
//! `/proc/<pid>/task` are sampled every 100 ms (so threads that come and go,
//! like Tantivy's indexing threads, are mostly caught before they exit) and
//! grouped by name without trailing numbers.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::procs::{TICKS_PER_SEC, process_ticks};

const EVERY: Duration = Duration::from_millis(100);

/// (name, ticks at the first sample or 0 for a thread born since, ticks at
/// the last sample), by thread id.
type Seen = HashMap<u32, (String, u64, u64)>;

fn sample(pid: u32, seen: &mut Seen, first: bool) {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(ticks) = process_ticks(&format!("{pid}/task/{tid}")) else {
            continue;
        };
        let entry = seen.entry(tid).or_insert_with(|| {
            let name = fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                .map(|n| n.trim().to_owned())
                .unwrap_or_else(|_| "?".to_owned());
            (name, if first { ticks } else { 0 }, ticks)
        });
        entry.2 = ticks;
    }
}

/// "merge_thread_3" → "merge_thread", "thrd-tantivy-index0" (cut by the
/// kernel to "thrd-tantivy-in") stays.
fn group(name: &str) -> String {
    let g = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '-');
    if g.is_empty() { name } else { g }.to_owned()
}

/// A background sampler of one process's threads.
pub struct ThreadWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Seen>>,
}

impl ThreadWatch {
    pub fn start(pid: u32) -> ThreadWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let mut seen = Seen::new();
        sample(pid, &mut seen, true);
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EVERY);
                    sample(pid, &mut seen, false);
                }
                seen
            })
        };
        ThreadWatch {
            stop,
            thread: Some(thread),
        }
    }

    /// CPU time by thread group, largest first.
    pub fn finish(mut self) -> Vec<(String, Duration)> {
        self.stop.store(true, Ordering::Relaxed);
        let seen = self
            .thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for (name, first, last) in seen.into_values() {
            *by.entry(group(&name)).or_default() += last.saturating_sub(first);
        }
        let mut out: Vec<(String, Duration)> = by
            .into_iter()
            .filter(|(_, t)| *t > 0)
            .map(|(n, t)| (n, Duration::from_secs_f64(t as f64 / TICKS_PER_SEC)))
            .collect();
        out.sort_by_key(|b| std::cmp::Reverse(b.1));
        out
    }
}

impl Drop for ThreadWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
