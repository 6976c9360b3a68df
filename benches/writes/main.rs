//! Write benchmark of the HTTP API: `cargo bench --bench writes`.
//!
//! Generates a seeded dataset, builds a base index with the release binary
//! (once; each run writes to a fresh copy), serves it with an admin key and
//! runs, each for `BENCH_SECONDS`, with the same read load throughout
//! (`BENCH_READERS` keep-alive clients replaying a fixed mix of typeahead
//! and filter+sort searches at `BENCH_READ_RATE` searches/s in all, each
//! latency counted from when the search was due):
//!
//! 1. idle: the read load alone;
//! 2. batch writes: `BENCH_WRITERS` clients sending `BENCH_BATCH`-record
//!    `PUT /v1/contacts` bodies (updates of existing ids and new ids, each
//!    record a generated one with a new name, score and `updated_at`);
//! 3. single-record writes: the same clients sending one record per request;
//! 4. idle again, to tell the effect of concurrent writes from that of the
//!    index the writes left behind (more segments, deleted documents);
//!
//! then reads back a sample of acknowledged ids (`GET /v1/contacts/{id}`)
//! and checks each has the content of its last acknowledged write. Prints a
//! Markdown report and writes it to `$BENCH_DIR/report.md`; exits with
//! status 1 when any answer was not a success or a read-back differs.
//!
//! Knobs (environment):
//! * `BENCH_CONTACTS` (200,000), `BENCH_COMPANIES` (contacts / 20)
//! * `BENCH_DIR` (`target/bench-writes`): dataset, indexes, logs, report
//! * `BENCH_SECONDS` (10): length of each phase
//! * `BENCH_WRITERS` (8), `BENCH_READERS` (2), `BENCH_BATCH` (1000)
//! * `BENCH_READ_RATE` (500): searches per second of the read load; 0 makes
//!   it a closed loop (each reader sends as soon as it has its answer, which
//!   on 2 cores keeps them busy by itself)
//! * `BENCH_NEW_SHARE` (0.5): share of records with a new id
//! * `BENCH_VERIFY` (2000): acknowledged ids read back at the end
//!
//! The server runs without the caller's `KONTAKT_*` variables except
//! `KONTAKT_ADMIN_KEYS`, set to a key made up for the run.

mod reads;
mod server;
mod threads;
mod writers;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::Rng;

use kontakt_bench::load::{self, Outcome};
use kontakt_bench::procs::{self, CpuMark, CpuUse, env};
use kontakt_bench::queries;
use reads::ReadMix;
use server::Commits;
use threads::ThreadWatch;
use writers::{Client, Pool, WriteRun};

/// The release binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_kontakt");

/// Seed of the read mix.
const QUERY_SEED: u64 = 7;
/// Seed of the writers' choices.
const WRITE_SEED: u64 = 11;
/// Seed of the read-back sample.
const VERIFY_SEED: u64 = 13;
/// Contacts sampled to build the read mix from.
const SAMPLES: usize = 4000;
/// Records the writers make ready before a phase (see `writers::prepare`).
const PREPARED_RECORDS: usize = 400_000;
/// Targets of issue 4, point 5.
const TARGET_BATCH_CONTACTS_PER_SEC: f64 = 20_000.0;
const TARGET_SINGLE_P99_MS: f64 = 50.0;
const TARGET_READ_P99_RATIO: f64 = 2.0;

pub struct Config {
    pub contacts: usize,
    pub companies: usize,
    pub dir: PathBuf,
    pub seconds: Duration,
    pub writers: usize,
    pub readers: usize,
    /// Searches per second in all; `None`: a closed loop.
    pub read_rate: Option<f64>,
    pub batch: usize,
    pub new_share: f64,
    pub verify: usize,
}

impl Config {
    fn from_env() -> Config {
        let contacts: usize = env("BENCH_CONTACTS", 200_000);
        let dir = std::env::var_os("BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/bench-writes"));
        let new_share: f64 = env("BENCH_NEW_SHARE", 0.5);
        assert!(
            (0.0..=1.0).contains(&new_share),
            "BENCH_NEW_SHARE must be from 0 to 1"
        );
        Config {
            contacts,
            companies: env("BENCH_COMPANIES", (contacts / 20).max(1)),
            dir: std::path::absolute(&dir).unwrap_or(dir),
            seconds: Duration::from_secs_f64(env("BENCH_SECONDS", 10.0)),
            writers: env("BENCH_WRITERS", 8usize).max(1),
            readers: env("BENCH_READERS", 2usize).max(1),
            read_rate: Some(env("BENCH_READ_RATE", 500.0)).filter(|r| *r > 0.0),
            batch: env("BENCH_BATCH", 1000usize).max(1),
            new_share,
            verify: env("BENCH_VERIFY", 2000),
        }
    }
}

pub fn step(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

fn ms(us: u32) -> f64 {
    us as f64 / 1000.0
}

/// Nearest-rank percentile of sorted µs, in ms.
fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    ms(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn cpus() -> f64 {
    std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    reads: Outcome,
    writes: Option<WriteRun>,
    elapsed: Duration,
    cpu: Option<CpuUse>,
    commits: Option<Commits>,
    threads: Vec<(String, Duration)>,
}

impl Phase {
    fn read_p(&self, p: f64) -> f64 {
        pct(&self.reads.sorted(), p)
    }

    fn write_p(&self, p: f64) -> f64 {
        self.writes
            .as_ref()
            .map_or(f64::NAN, |w| pct(&w.outcome.sorted(), p))
    }

    fn errors(&self) -> usize {
        self.reads.errors + self.writes.as_ref().map_or(0, |w| w.outcome.errors)
    }

    /// Share of all CPUs, in %.
    fn cpu_share(&self, of: impl Fn(&CpuUse) -> f64) -> String {
        self.cpu.as_ref().map_or("?".to_owned(), |c| {
            format!("{:.0}", of(c) * 100.0 / cpus() / self.elapsed.as_secs_f64())
        })
    }
}

/// What a phase needs of the run.
struct Bench<'a> {
    cfg: &'a Config,
    base: &'a str,
    pid: u32,
    admin_key: &'a str,
    pool: &'a Pool,
    mix: &'a ReadMix,
}

impl Bench<'_> {
    /// Runs the read load for `BENCH_SECONDS`, with `writes` (the clients and
    /// their batch size) alongside when given.
    fn phase(&self, name: &'static str, mut writes: Option<(&mut [Client], usize)>) -> Phase {
        let cfg = self.cfg;
        step(format!(
            "{name}: {} s, {} readers{}",
            cfg.seconds.as_secs_f64(),
            cfg.readers,
            writes
                .as_ref()
                .map(|(c, size)| format!(", {} writers × {size}-record batches", c.len()))
                .unwrap_or_default()
        ));
        // Bodies for up to `PREPARED_RECORDS` records or 100 requests per
        // client per second, made before the clock starts.
        let prepared = writes.as_mut().map(|(clients, size)| {
            let per_client = (PREPARED_RECORDS / *size / clients.len())
                .min((cfg.seconds.as_secs_f64() * 100.0).ceil() as usize)
                .max(1);
            step(format!("preparing {per_client} bodies per writer"));
            writers::prepare(self.pool, clients, *size, cfg.new_share, per_client)
        });
        let before = Commits::scrape(self.base);
        let mark = CpuMark::now(self.pid);
        let watch = ThreadWatch::start(self.pid);
        let start = Instant::now();
        let (reads, writes) = std::thread::scope(|s| {
            let reader = s
                .spawn(|| load::run_paced(&self.mix.uris, cfg.readers, cfg.seconds, cfg.read_rate));
            let writes = writes.map(|(clients, size)| {
                writers::run(
                    self.base,
                    self.admin_key,
                    self.pool,
                    clients,
                    prepared.expect("bodies prepared"),
                    size,
                    cfg.new_share,
                    cfg.seconds,
                )
            });
            (reader.join().expect("reader threads panicked"), writes)
        });
        let elapsed = start.elapsed();
        let cpu = mark.and_then(|m| m.since());
        let threads = watch.finish();
        let commits = match (before, Commits::scrape(self.base)) {
            (Some(b), Some(a)) => Some(a.since(&b)),
            _ => None,
        };
        let p = Phase {
            name,
            reads,
            writes,
            elapsed,
            cpu,
            commits,
            threads,
        };
        let mut line = format!(
            "{name}: reads {} (p50 {:.2} ms, p99 {:.2} ms)",
            p.reads.samples.len(),
            p.read_p(50.0),
            p.read_p(99.0)
        );
        if let Some(w) = &p.writes {
            let _ = write!(
                line,
                "; writes {} requests, {} contacts, {:.0} contacts/s (p50 {:.1} ms, p99 {:.1} ms)",
                w.outcome.samples.len(),
                w.records,
                w.records_per_sec(),
                p.write_p(50.0),
                p.write_p(99.0)
            );
            if w.generated_late > 0 {
                let _ = write!(
                    line,
                    " ({} bodies generated during the phase)",
                    w.generated_late
                );
            }
        }
        if let Some(c) = &p.commits {
            let _ = write!(
                line,
                "; {} commits (mean {:.1} ms, reload {:.1} ms)",
                c.commit.count,
                c.commit.mean_ms(),
                c.reload.mean_ms()
            );
        }
        let _ = write!(line, "; {} errors", p.errors());
        step(line);
        p
    }
}

fn fmt(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        format!("{v:.decimals$}")
    } else {
        "—".to_owned()
    }
}

fn server_log_counts(text: &str) -> (usize, usize) {
    let count = |level: &str| text.lines().filter(|l| l.contains(level)).count();
    (count(" ERROR "), count(" WARN "))
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: nothing to do.
    if !std::env::args().any(|a| a == "--bench") {
        println!("write benchmark: run it with `cargo bench --bench writes`");
        return;
    }
    let cfg = Config::from_env();
    fs::create_dir_all(&cfg.dir).expect("creating BENCH_DIR");
    step(format!("BENCH_DIR={}", cfg.dir.display()));
    let loadavg_start = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let data = server::ensure_dataset(&cfg);
    let index = server::fresh_index(&cfg, &data);
    let segments_before = server::segments(&index);
    let fsync = server::fsync_probe(&cfg.dir, 100);

    step("loading the generated contacts for the writers and the read mix");
    let contacts_path = data.join("contacts.jsonl");
    let pool = Pool::load(&contacts_path);
    let samples = queries::load_samples(&contacts_path, cfg.contacts, SAMPLES);
    let mut clients = Client::many(&pool, cfg.writers, WRITE_SEED);

    let admin_key = format!("bench-{:016x}", rand::thread_rng().r#gen::<u64>());
    let mut srv = server::start(&cfg, &index, &admin_key);
    let pid = srv.child.id();
    let memory = procs::MemoryWatch::start(pid);
    let mix = ReadMix::new(&samples, QUERY_SEED, &srv.base);
    let bench = Bench {
        cfg: &cfg,
        base: &srv.base,
        pid,
        admin_key: &admin_key,
        pool: &pool,
        mix: &mix,
    };

    step("warming up (2 s of reads, not measured)");
    let warm = load::run(&mix.uris, cfg.readers, Duration::from_secs(2));
    step(format!(
        "warm-up: {} requests, {} errors",
        warm.samples.len(),
        warm.errors
    ));

    let overall = CpuMark::now(pid);
    let idle = bench.phase("idle (reads only)", None);
    let batch = bench.phase("batch writes", Some((&mut clients, cfg.batch)));
    let single = bench.phase("single-record writes", Some((&mut clients, 1)));
    let after = bench.phase("idle after writes", None);
    let overall = overall.and_then(|m| m.since());

    step(format!(
        "reading back up to {} acknowledged ids (+ the last request of each writer)",
        cfg.verify
    ));
    let verification = writers::verify(&srv.base, &clients, cfg.verify, VERIFY_SEED);
    step(format!(
        "read back {} of {} acknowledged ids: {} match, {} stale, {} errors",
        verification.checked,
        verification.acknowledged,
        verification.matching,
        verification.stale,
        verification.errors.errors
    ));
    let contacts_after = {
        let mut body = Vec::new();
        load::get(
            &load::agent(),
            &load::uri(&format!("{}/ready", srv.base)),
            &mut body,
        )
        .ok()
        .and_then(|()| serde_json::from_slice::<serde_json::Value>(&body).ok())
        .and_then(|v| v["contacts"].as_u64())
    };
    let peak_kib = memory.finish();
    srv.child.stop();
    let segments_after = server::segments(&index);
    let (log_errors, log_warnings) =
        server_log_counts(&fs::read_to_string(&srv.log).unwrap_or_default());

    let phases = [&idle, &batch, &single, &after];
    let r = report(&ReportInput {
        cfg: &cfg,
        phases: &phases,
        labels: &mix.labels,
        verification: &verification,
        overall,
        loadavg_start: loadavg_start.trim(),
        contacts_before: srv.contacts,
        contacts_after,
        segments_before,
        segments_after,
        fsync,
        peak_kib,
        log_errors,
        log_warnings,
    });
    println!("\n{r}");
    let path = cfg.dir.join("report.md");
    fs::write(&path, &r).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    step(format!("report written to {}", path.display()));
    let errors: usize =
        phases.iter().map(|p| p.errors()).sum::<usize>() + verification.errors.errors;
    if errors > 0 || verification.stale > 0 {
        eprintln!(
            "[bench] {errors} answers were not a success and {} read-backs were stale",
            verification.stale
        );
        std::process::exit(1);
    }
}

struct ReportInput<'a> {
    cfg: &'a Config,
    phases: &'a [&'a Phase],
    /// The class of each URL of the read mix.
    labels: &'a [&'static str],
    verification: &'a writers::Verification,
    overall: Option<CpuUse>,
    loadavg_start: &'a str,
    contacts_before: u64,
    contacts_after: Option<u64>,
    segments_before: Option<(usize, u64, u64)>,
    segments_after: Option<(usize, u64, u64)>,
    /// fdatasync latency in BENCH_DIR before the run: (p50, p99, max) ms.
    fsync: Option<(f64, f64, f64)>,
    peak_kib: u64,
    log_errors: usize,
    log_warnings: usize,
}

fn segments_text(s: Option<(usize, u64, u64)>) -> String {
    s.map_or("?".to_owned(), |(n, docs, deleted)| {
        format!("{n} segments, {docs} documents, {deleted} deleted")
    })
}

fn report(input: &ReportInput) -> String {
    let cfg = input.cfg;
    let phases = input.phases;
    let (idle, batch, single) = (phases[0], phases[1], phases[2]);
    let idle_p99 = idle.read_p(99.0);
    let mut r = String::new();
    let _ = writeln!(r, "# kontakt write benchmark\n");
    let _ = writeln!(r, "- machine: {}", procs::machine());
    let _ = writeln!(r, "- load average at the start: {}", input.loadavg_start);
    let _ = writeln!(
        r,
        "- disk: `fdatasync` of a 4 KiB append in BENCH_DIR {}",
        input
            .fsync
            .map_or("?".to_owned(), |(p50, p99, max)| format!(
                "p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (100 before the run)"
            ))
    );
    let _ = writeln!(
        r,
        "- dataset: {} contacts, {} companies (seed {}); {} searchable contacts at the start, {} at the end",
        cfg.contacts,
        cfg.companies,
        server::DATA_SEED,
        input.contacts_before,
        input
            .contacts_after
            .map_or("?".to_owned(), |n| n.to_string())
    );
    let _ = writeln!(
        r,
        "- {} s per phase; {} reader clients replaying {} searches (typeahead 50%, filter+sort 25%, filter+sort+q 25%) {}; \
         {} writer clients, batches of {} records, {:.0}% of them new ids",
        cfg.seconds.as_secs_f64(),
        cfg.readers,
        input.labels.len(),
        cfg.read_rate.map_or(
            "in a closed loop (each sends as soon as it has its answer)".to_owned(),
            |r| format!(
                "at {r:.0} searches/s in all, each latency counted from when the search was due"
            )
        ),
        cfg.writers,
        cfg.batch,
        cfg.new_share * 100.0
    );
    let _ = writeln!(
        r,
        "- index: {} before, {} after",
        segments_text(input.segments_before),
        segments_text(input.segments_after)
    );

    let _ = writeln!(r, "\n## throughput and latency\n");
    let _ = writeln!(
        r,
        "| phase | write requests | contacts acked | contacts/s | writes/s | write p50 ms | write p99 ms | write max ms | reads | read p50 ms | read p99 ms | read p99 / idle | non-2xx |"
    );
    let _ = writeln!(
        r,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in phases {
        let w = p.writes.as_ref();
        let _ = writeln!(
            r,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2}× | {} |",
            p.name,
            w.map_or("—".to_owned(), |w| w.outcome.samples.len().to_string()),
            w.map_or("—".to_owned(), |w| w.records.to_string()),
            w.map_or("—".to_owned(), |w| format!("{:.0}", w.records_per_sec())),
            w.map_or("—".to_owned(), |w| format!("{:.1}", w.outcome.qps())),
            fmt(p.write_p(50.0), 1),
            fmt(p.write_p(99.0), 1),
            w.map_or("—".to_owned(), |w| {
                fmt(ms(w.outcome.sorted().last().copied().unwrap_or(0)), 1)
            }),
            p.reads.samples.len(),
            p.read_p(50.0),
            p.read_p(99.0),
            p.read_p(99.0) / idle_p99,
            p.errors()
        );
    }

    let _ = writeln!(r, "\n## the server during each phase\n");
    let _ = writeln!(
        r,
        "| phase | commits | contacts/commit | commit mean ms | commit p99 ≤ ms | reload mean ms | (commit+reload) / phase | server CPU % | bench CPU % | other CPU % |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for p in phases {
        let (commits, per, mean, p99, reload, busy) = match &p.commits {
            Some(c) if c.commit.count > 0 => (
                c.commit.count.to_string(),
                p.writes.as_ref().map_or("—".to_owned(), |w| {
                    format!("{:.1}", w.records as f64 / c.commit.count as f64)
                }),
                format!("{:.1}", c.commit.mean_ms()),
                fmt(c.commit.pct_bound_ms(99.0), 0),
                format!("{:.1}", c.reload.mean_ms()),
                format!(
                    "{:.0}%",
                    (c.commit.sum + c.reload.sum) * 100.0 / p.elapsed.as_secs_f64()
                ),
            ),
            Some(_) => (
                "0".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
            ),
            None => (
                "?".into(),
                "?".into(),
                "?".into(),
                "?".into(),
                "?".into(),
                "?".into(),
            ),
        };
        let _ = writeln!(
            r,
            "| {} | {commits} | {per} | {mean} | {p99} | {reload} | {busy} | {} | {} | {} |",
            p.name,
            p.cpu_share(|c| c.server.as_secs_f64()),
            p.cpu_share(|c| c.clients.as_secs_f64()),
            p.cpu
                .as_ref()
                .map_or("?".to_owned(), |c| format!("{:.0}", c.other_share * 100.0)),
        );
    }
    let _ = writeln!(
        r,
        "\n*commit*: `prepare_commit` (the indexing threads finish and write their segments) + fsync + `meta.json`, \
         as the server's `/metrics` counts it; *reload*: the reader reload that makes it visible. \
         CPU %: share of all {} CPUs over the phase — *bench* is this process (readers and writers), \
         *other* is everything else on the machine (other developers' builds, interrupts): where it is \
         high, the latencies are polluted.",
        cpus()
    );

    // Server CPU by thread group.
    let mut groups: BTreeMap<&str, f64> = BTreeMap::new();
    for p in phases {
        for (name, t) in &p.threads {
            *groups.entry(name.as_str()).or_default() += t.as_secs_f64();
        }
    }
    let mut order: Vec<(&str, f64)> = groups.into_iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let _ = writeln!(r, "\n## server CPU by thread (ms of CPU per s of phase)\n");
    let _ = write!(r, "| thread |");
    for p in phases {
        let _ = write!(r, " {} |", p.name);
    }
    let _ = write!(r, "\n|---|");
    for _ in phases {
        let _ = write!(r, "---:|");
    }
    r.push('\n');
    for (name, _) in order.iter().take(10) {
        let _ = write!(r, "| `{name}` |");
        for p in phases {
            let t = p
                .threads
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0.0, |(_, t)| t.as_secs_f64());
            let _ = write!(r, " {:.0} |", t * 1000.0 / p.elapsed.as_secs_f64());
        }
        r.push('\n');
    }
    let _ = write!(r, "| all threads (process) |");
    for p in phases {
        let _ = write!(
            r,
            " {} |",
            p.cpu.as_ref().map_or("?".to_owned(), |c| format!(
                "{:.0}",
                c.server.as_secs_f64() * 1000.0 / p.elapsed.as_secs_f64()
            ))
        );
    }
    let _ = writeln!(
        r,
        "\n\nThread names as the kernel keeps them (15 characters, trailing numbers dropped): \
         `actix-rt|system` the HTTP workers; `tokio-rt-worker` the blocking pool (searches, waiting \
         for parsed write bodies); `kontakt` threads started from the main thread: the search pool \
         (segments in parallel; an unnamed thread inherits its creator's name); `kontakt-warm` the \
         cache warm-ups after commits; `kontakt-write` the pool that parses write bodies and builds their \
         documents; `kontakt-writer` the writer thread (applies groups, waits for commits); `kontakt-publish` \
         the publisher (reloads the reader after a commit, then answers); `thrd-tantivy-in` Tantivy's indexing threads (new ones after \
         each commit); `merge_thread` its merges; `segment_updater` its commits; `docstore-compre` \
         its document store compression. Threads that exit between two samples (100 ms) are \
         missing from their rows but not from the process total."
    );

    let _ = writeln!(r, "\n## read latency by class (ms, p50 / p99)\n");
    let _ = write!(r, "| class |");
    for p in phases {
        let _ = write!(r, " {} |", p.name);
    }
    let _ = write!(r, "\n|---|");
    for _ in phases {
        let _ = write!(r, "---:|");
    }
    r.push('\n');
    for class in ReadMix::class_names() {
        let _ = write!(r, "| {class} |");
        for p in phases {
            let mut v: Vec<u32> = p
                .reads
                .samples
                .iter()
                .filter(|(_, idx)| input.labels.get(*idx as usize) == Some(&class))
                .map(|s| s.0)
                .collect();
            v.sort_unstable();
            let _ = write!(
                r,
                " {:.2} / {:.2} (n={}) |",
                pct(&v, 50.0),
                pct(&v, 99.0),
                v.len()
            );
        }
        r.push('\n');
    }

    let batch_rate = batch.writes.as_ref().map_or(0.0, |w| w.records_per_sec());
    let single_p99 = single.write_p(99.0);
    let ratio_batch = batch.read_p(99.0) / idle_p99;
    let ratio_single = single.read_p(99.0) / idle_p99;
    let errors: usize =
        phases.iter().map(|p| p.errors()).sum::<usize>() + input.verification.errors.errors;
    let v = input.verification;
    let yes = |ok: bool| if ok { "yes" } else { "**no**" };
    let _ = writeln!(r, "\n## targets (issue 4, point 5: on 2 cores)\n");
    let _ = writeln!(r, "| target | measured | met |");
    let _ = writeln!(r, "|---|---:|---|");
    let _ = writeln!(
        r,
        "| ≥ {TARGET_BATCH_CONTACTS_PER_SEC:.0} contacts/s in {}-record batches ({} clients) | {batch_rate:.0} | {} |",
        cfg.batch,
        cfg.writers,
        yes(batch_rate >= TARGET_BATCH_CONTACTS_PER_SEC)
    );
    let _ = writeln!(
        r,
        "| single-record write p99 ≤ {TARGET_SINGLE_P99_MS:.0} ms ({} clients) | {single_p99:.1} ms | {} |",
        cfg.writers,
        yes(single_p99 <= TARGET_SINGLE_P99_MS)
    );
    let _ = writeln!(
        r,
        "| search p99 during batch writes ≤ {TARGET_READ_P99_RATIO}× idle ({idle_p99:.2} ms) | {:.2} ms ({ratio_batch:.2}×) | {} |",
        batch.read_p(99.0),
        yes(ratio_batch <= TARGET_READ_P99_RATIO)
    );
    let _ = writeln!(
        r,
        "| search p99 during single-record writes ≤ {TARGET_READ_P99_RATIO}× idle | {:.2} ms ({ratio_single:.2}×) | {} |",
        single.read_p(99.0),
        yes(ratio_single <= TARGET_READ_P99_RATIO)
    );
    let _ = writeln!(
        r,
        "| no answer but 2xx (reads, writes, read-backs) | {errors} | {} |",
        yes(errors == 0)
    );
    let _ = writeln!(
        r,
        "| acknowledged writes read back with their latest content | {} of {} sampled ({} acknowledged ids) | {} |",
        v.matching,
        v.checked,
        v.acknowledged,
        yes(v.matching == v.checked && v.checked > 0)
    );

    let _ = writeln!(r, "\n## notes\n");
    if let Some(c) = input.overall {
        let _ = writeln!(
            r,
            "- CPU over the four phases: server {:.1} s, benchmark {:.1} s, other processes {:.0}% of all CPUs",
            c.server.as_secs_f64(),
            c.clients.as_secs_f64(),
            c.other_share * 100.0
        );
    }
    let _ = writeln!(
        r,
        "- server peak RSS (VmHWM): {:.1} MiB; server log: {} ERROR and {} WARN lines",
        input.peak_kib as f64 / 1024.0,
        input.log_errors,
        input.log_warnings
    );
    for p in phases {
        for f in &p.reads.examples {
            let _ = writeln!(
                r,
                "- {} read error: `{}` → {}",
                p.name,
                f.url,
                f.why.replace('\n', " ")
            );
        }
        if let Some(w) = &p.writes {
            for f in &w.outcome.examples {
                let _ = writeln!(
                    r,
                    "- {} write error: `{}` → {}",
                    p.name,
                    f.url,
                    f.why.replace('\n', " ")
                );
            }
        }
    }
    for f in &v.errors.examples {
        let _ = writeln!(r, "- read-back error: `{}` → {}", f.url, f.why);
    }
    for s in &v.stale_examples {
        let _ = writeln!(r, "- stale read-back: {s}");
    }
    r
}
