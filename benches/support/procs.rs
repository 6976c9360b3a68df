//! Child processes of the benchmarks: how they are started, a guard that
//! kills them, their memory as `/proc` reports it, a few facts about the
//! machine, and the small file and setting helpers both benchmarks use.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A benchmark setting (`BENCH_*`, `REPL_*`; `_` allowed as a digit
/// separator), or `default`.
pub fn env<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        _ => default,
    }
}

pub fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

pub fn write_json(path: &Path, v: &serde_json::Value) {
    fs::write(path, serde_json::to_vec_pretty(v).expect("json"))
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// The last 20 lines of a log, for a failure message.
pub fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `kontakt` without the caller's `KONTAKT_*` settings: the benchmarks
/// measure the default configuration (open reads, no rate limit), plus
/// what they set themselves.
pub fn kontakt_command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("KONTAKT_") {
            cmd.env_remove(&name);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("finding a free port")
        .port()
}

/// How often the memory of a child is sampled.
pub const POLL: Duration = Duration::from_millis(50);

/// Owns a child process and kills it when dropped, panics included.
pub struct ChildGuard {
    child: Child,
    name: &'static str,
}

impl ChildGuard {
    pub fn new(child: Child, name: &'static str) -> ChildGuard {
        ChildGuard { child, name }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the child has exited (and been reaped).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .try_wait()
            .unwrap_or_else(|e| panic!("waiting for {}: {e}", self.name))
    }

    /// Kills the child (if it still runs) and reaps it.
    pub fn stop(&mut self) {
        if self.try_wait().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Resident memory of a live process, in KiB: VmHWM, VmRSS, and RssAnon
/// (the part that is not mapped files: heaps, caches).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub peak_kib: u64,
    pub current_kib: u64,
    pub anon_kib: u64,
}

/// Reads `/proc/<pid>/status`; `None` once the process is gone (or a zombie).
pub fn memory(pid: u32) -> Option<Memory> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    let current_kib = field("VmRSS:")?;
    Some(Memory {
        peak_kib: field("VmHWM:").unwrap_or(current_kib).max(current_kib),
        current_kib,
        anon_kib: field("RssAnon:").unwrap_or(0),
    })
}

/// Samples a child's memory in the background until stopped.
pub struct MemoryWatch {
    peak_kib: Arc<AtomicU64>,
    peak_anon_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pid: u32,
}

impl MemoryWatch {
    pub fn start(pid: u32) -> MemoryWatch {
        let peak_kib = Arc::new(AtomicU64::new(0));
        let peak_anon_kib = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak_kib, anon, stop) = (peak_kib.clone(), peak_anon_kib.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(m) = memory(pid) {
                        peak_kib.fetch_max(m.peak_kib, Ordering::Relaxed);
                        anon.fetch_max(m.anon_kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(POLL);
                }
            })
        };
        MemoryWatch {
            peak_kib,
            peak_anon_kib,
            stop,
            thread: Some(thread),
            pid,
        }
    }

    /// The highest VmHWM seen, read once more now (call while the child lives).
    pub fn finish(self) -> u64 {
        self.finish_with_anon().0
    }

    /// The highest VmHWM and the highest RssAnon seen (sampled every
    /// `POLL`), read once more now.
    pub fn finish_with_anon(mut self) -> (u64, u64) {
        if let Some(m) = memory(self.pid) {
            self.peak_kib.fetch_max(m.peak_kib, Ordering::Relaxed);
            self.peak_anon_kib.fetch_max(m.anon_kib, Ordering::Relaxed);
        }
        self.halt();
        (
            self.peak_kib.load(Ordering::Relaxed),
            self.peak_anon_kib.load(Ordering::Relaxed),
        )
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What the kernel accounted to the children reaped so far: the largest peak
/// RSS among them (KiB) and their total CPU time. Exact, where polling can
/// miss the last few milliseconds of a child's life.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildrenUsage {
    pub max_rss_kib: u64,
    pub cpu: Duration,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn children_usage() -> Option<ChildrenUsage> {
    // `struct rusage` on 64-bit Linux: two `struct timeval`, then 14 longs,
    // the first of which is `ru_maxrss` (KiB).
    #[repr(C)]
    struct RUsage {
        utime: [i64; 2],
        stime: [i64; 2],
        longs: [i64; 14],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut RUsage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut usage = RUsage {
        utime: [0; 2],
        stime: [0; 2],
        longs: [0; 14],
    };
    // SAFETY: `usage` is a valid, writable `struct rusage` for this target.
    let rc = unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) };
    if rc != 0 {
        return None;
    }
    let tv = |t: [i64; 2]| Duration::from_secs(t[0] as u64) + Duration::from_micros(t[1] as u64);
    Some(ChildrenUsage {
        max_rss_kib: usage.longs[0] as u64,
        cpu: tv(usage.utime) + tv(usage.stime),
    })
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn children_usage() -> Option<ChildrenUsage> {
    None
}

/// Total size of the regular files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// "2 CPUs, Intel(R) Xeon(R) …".
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info
                .lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .to_owned();
            line["MemTotal:".len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cpus} CPUs (nproc), {model}{mem}")
}

/// Clock ticks per second of `/proc` (USER_HZ, 100 on every Linux build
/// this runs on).
pub const TICKS_PER_SEC: f64 = 100.0;

/// user + system CPU ticks of a process (`"self"`, a pid, or
/// `"<pid>/task/<tid>"` for one thread).
pub fn process_ticks(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14, stime 15.
    let rest: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
}

/// (busy, total) ticks of all CPUs together, from `/proc/stat`.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let busy = v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)? + v.get(7)?;
    Some((busy, busy + v.get(3)? + v.get(4)?))
}

/// Where the CPU went during a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// CPU time of the server.
    pub server: Duration,
    /// CPU time of the benchmark process (the clients).
    pub clients: Duration,
    /// Share (0–1) of all CPUs used by other processes (a concurrent build,
    /// say): the larger, the less the latencies can be trusted.
    pub other_share: f64,
}

/// A reading to compare a later one with.
#[derive(Debug, Clone, Copy)]
pub struct CpuMark {
    server_pid: u32,
    server: u64,
    me: u64,
    busy: u64,
    total: u64,
}

impl CpuMark {
    pub fn now(server_pid: u32) -> Option<CpuMark> {
        let (busy, total) = machine_ticks()?;
        Some(CpuMark {
            server_pid,
            server: process_ticks(&server_pid.to_string())?,
            me: process_ticks("self")?,
            busy,
            total,
        })
    }

    pub fn since(&self) -> Option<CpuUse> {
        let now = CpuMark::now(self.server_pid)?;
        let server = now.server.saturating_sub(self.server);
        let me = now.me.saturating_sub(self.me);
        let busy = now.busy.saturating_sub(self.busy);
        let total = now.total.saturating_sub(self.total).max(1);
        let secs = |t: u64| Duration::from_secs_f64(t as f64 / TICKS_PER_SEC);
        Some(CpuUse {
            server: secs(server),
            clients: secs(me),
            other_share: busy.saturating_sub(server + me) as f64 / total as f64,
        })
    }
}
