//! Replication benchmark: `cargo bench --bench replication`.
//!
//! Builds a seeded index, serves it as a primary publishing to a `file://`
//! store, and measures with release binaries on loopback:
//!
//! 1. the bootstrap of a replica (start to `/ready`), and its bytes;
//! 2. replica lag: from a write's answer on the primary until a replica
//!    shows it (`GET /v1/contacts/{id}` polled), for single-record writes
//!    and for `REPL_BATCH`-record batches, as p50 and p99;
//! 3. bytes uploaded per written contact;
//! 4. a replica's search p99 idle and while the primary indexes batches as
//!    fast as it can, with the primary and the replica pinned to different
//!    cores (`taskset`) as stand-ins for two machines, and the primary's
//!    contacts/s meanwhile; then the same for a server on the same core
//!    that follows nothing (the control: what the machine itself loses
//!    while the other core indexes, as opposed to what replication costs);
//! 5. write throughput (batches from 4 clients) with `--durability remote`
//!    against `local`.
//!
//! Knobs: `REPL_CONTACTS` (100,000), `REPL_WRITES` (200 single-record
//! writes), `REPL_BATCHES` (20), `REPL_BATCH` (1,000), `REPL_SECONDS` (8 per
//! timed phase), `REPL_DIR` (`target/bench-replication`), `REPL_LOG` (the
//! servers' `RUST_LOG`, `warn`; `kontakt=debug` logs every request and each
//! generation a replica installs, with its time).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kontakt_bench::load::agent;
use kontakt_bench::procs::{env, free_port};

const KEY: &str = "bench-admin";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kontakt serve` pinned to `cpu` (when `taskset` exists).
fn start(cpu: Option<usize>, index: &Path, args: &[&str], log: &Path) -> Server {
    let port = free_port();
    let bin = env!("CARGO_BIN_EXE_kontakt");
    let mut cmd = match cpu {
        Some(c) if Command::new("taskset").arg("-V").output().is_ok() => {
            let mut c2 = Command::new("taskset");
            c2.args(["-c", &c.to_string(), bin]);
            c2
        }
        _ => Command::new(bin),
    };
    cmd.args(["serve", "--index"])
        .arg(index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("KONTAKT_ADMIN_KEYS", KEY)
        .env(
            "RUST_LOG",
            std::env::var("REPL_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("a log file"));
    let mut server = Server {
        child: cmd.spawn().expect("kontakt starts"),
        base: format!("http://127.0.0.1:{port}"),
    };
    let a = agent();
    let deadline = Instant::now() + Duration::from_secs(1800);
    while status(&a, &format!("{}/ready", server.base)) != 200 {
        if let Ok(Some(exit)) = server.child.try_wait() {
            panic!("kontakt serve exited ({exit}); see {}", log.display());
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

fn contact(id: u64, name: &str) -> String {
    format!(
        r#"{{"id": {id}, "company_id": 1, "full_name": "{name}", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}}"#
    )
}

fn put(a: &ureq::Agent, base: &str, body: &str) {
    let r = a
        .put(format!("{base}/v1/contacts"))
        .header("Authorization", &format!("Bearer {KEY}"))
        .header("Content-Type", "application/x-ndjson")
        .send(body)
        .expect("a write answer");
    assert_eq!(r.status().as_u16(), 200, "write refused");
}

fn status(a: &ureq::Agent, url: &str) -> u16 {
    a.get(url).call().map_or(0, |r| r.status().as_u16())
}

fn metric(a: &ureq::Agent, base: &str, name: &str) -> f64 {
    let text = a
        .get(format!("{base}/metrics"))
        .call()
        .expect("metrics")
        .body_mut()
        .read_to_string()
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// Polls `base` until contact `id` is there; the time it took.
fn visible_after(a: &ureq::Agent, base: &str, id: u64, since: Instant) -> f64 {
    while status(a, &format!("{base}/v1/contacts/{id}")) != 200 {
        std::thread::sleep(Duration::from_micros(500));
    }
    since.elapsed().as_secs_f64() * 1e3
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for e in std::fs::read_dir(from).expect("the index") {
        let e = e.expect("an entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("a copy");
    }
}

/// Sequential searches on `base` for `secs`: their latencies, ms.
/// Pins the calling thread to `cpu` (Linux; elsewhere a no-op), so that the
/// load generator for the primary's "machine" stays off the replica's core.
fn pin_this_thread(cpu: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: a zeroed cpu_set_t is a valid empty set, and the call only
    // reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpu;
}

/// Searches on `base` from a client thread on the replica's core (1).
fn searches(base: &str, secs: u64) -> Vec<f64> {
    let base = base.to_owned();
    std::thread::spawn(move || search_loop(&base, secs))
        .join()
        .expect("the search client")
}

fn search_loop(base: &str, secs: u64) -> Vec<f64> {
    pin_this_thread(1);
    let a = agent();
    let queries = [
        "/v1/contacts?q=anna&limit=20",
        "/v1/contacts?country_code=SE&sort_by=quality_score&limit=20",
        "/v1/contacts?q=jo&facets=country_code,seniority_level&limit=10",
        "/v1/contacts?min_quality_score=50&sort_by=created_at&limit=50",
    ];
    let end = Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    let mut i = 0;
    while Instant::now() < end {
        let t = Instant::now();
        assert_eq!(
            status(&a, &format!("{base}{}", queries[i % queries.len()])),
            200
        );
        out.push(t.elapsed().as_secs_f64() * 1e3);
        i += 1;
        // A steady load, not a saturating one.
        std::thread::sleep(Duration::from_millis(5));
    }
    out
}

/// Batches from 4 clients for `secs` on `base`: contacts written per second.
fn batch_throughput(
    base: &str,
    secs: u64,
    batch: u64,
    first_id: u64,
    client_cpu: Option<usize>,
) -> f64 {
    let written = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let handles: Vec<_> = (0..4u64)
        .map(|w| {
            let (base, written) = (base.to_owned(), written.clone());
            std::thread::spawn(move || {
                // Where given, the writing clients stand on the primary's
                // core, off the replica's.
                if let Some(cpu) = client_cpu {
                    pin_this_thread(cpu);
                }
                let a = agent();
                let mut n = 0u64;
                while Instant::now() < end {
                    let body: Vec<String> = (0..batch)
                        .map(|i| contact(first_id + w * 10_000_000 + n * batch + i, "Bench Load"))
                        .collect();
                    put(&a, &base, &body.join("\n"));
                    written.fetch_add(batch, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a writer");
    }
    written.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let contacts = env::<u64>("REPL_CONTACTS", 100_000) as usize;
    let writes = env::<u64>("REPL_WRITES", 200);
    let batches = env::<u64>("REPL_BATCHES", 20);
    let batch = env::<u64>("REPL_BATCH", 1_000);
    let secs = env::<u64>("REPL_SECONDS", 8);
    let dir = PathBuf::from(
        std::env::var("REPL_DIR").unwrap_or_else(|_| "target/bench-replication".into()),
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the bench directory");
    // Store URLs need an absolute path.
    let dir = std::fs::canonicalize(&dir).expect("the bench directory");
    let (mut co, mut ct) = (Vec::new(), Vec::new());
    kontakt::generate::generate_to(contacts / 20 + 1, contacts, 42, &mut co, &mut ct)
        .expect("a dataset");
    std::fs::write(dir.join("companies.jsonl"), &co).expect("companies");
    std::fs::write(dir.join("contacts.jsonl"), &ct).expect("contacts");
    let base_index = dir.join("base");
    kontakt::ingest::build::build_index(
        &dir.join("companies.jsonl"),
        &dir.join("contacts.jsonl"),
        &base_index,
    )
    .expect("an index");
    let a = agent();
    let mut report = String::new();
    let mut say = |line: String| {
        println!("{line}");
        report.push_str(&line);
        report.push('\n');
    };
    say(format!("# Replication benchmark, {contacts} contacts\n"));

    // 1. Bootstrap.
    let store = format!("file://{}", dir.join("store").display());
    copy_dir(&base_index, &dir.join("primary"));
    let primary = start(
        Some(0),
        &dir.join("primary"),
        &["--publish", &store],
        &dir.join("primary.log"),
    );
    while metric(&a, &primary.base, "kontakt_replication_generation") < 1.0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let t = Instant::now();
    let replica = start(
        Some(1),
        &dir.join("replica"),
        &["--follow", &store, "--follow-interval", "0.05"],
        &dir.join("replica.log"),
    );
    let boot = t.elapsed().as_secs_f64();
    let fetched = metric(&a, &replica.base, "kontakt_replication_fetched_bytes_total");
    say(format!(
        "bootstrap of a replica from file://: {boot:.2} s, {:.1} MB ({:.0} bytes/contact)",
        fetched / 1e6,
        fetched / contacts as f64
    ));

    // 2. Lag, single records, then batches.
    let uploaded_before = metric(
        &a,
        &primary.base,
        "kontakt_replication_uploaded_bytes_total",
    );
    let mut lag = Vec::new();
    for i in 0..writes {
        let id = 50_000_000 + i;
        put(&a, &primary.base, &contact(id, "Lag Single"));
        lag.push(visible_after(&a, &replica.base, id, Instant::now()));
    }
    say(format!(
        "lag, single-record writes ({writes}): p50 {:.0} ms, p99 {:.0} ms (follow interval 50 ms)",
        pct(&mut lag, 0.5),
        pct(&mut lag, 0.99)
    ));
    let mut lag = Vec::new();
    for b in 0..batches {
        let first = 60_000_000 + b * batch;
        let body: Vec<String> = (0..batch)
            .map(|i| contact(first + i, "Lag Batch"))
            .collect();
        put(&a, &primary.base, &body.join("\n"));
        lag.push(visible_after(
            &a,
            &replica.base,
            first + batch - 1,
            Instant::now(),
        ));
    }
    say(format!(
        "lag, {batch}-record batches ({batches}): p50 {:.0} ms, p99 {:.0} ms",
        pct(&mut lag, 0.5),
        pct(&mut lag, 0.99)
    ));
    let uploaded = metric(
        &a,
        &primary.base,
        "kontakt_replication_uploaded_bytes_total",
    ) - uploaded_before;
    say(format!(
        "uploaded per written contact: {:.0} bytes ({:.1} MB for {} contacts, merges included)",
        uploaded / (writes + batches * batch) as f64,
        uploaded / 1e6,
        writes + batches * batch
    ));

    // 4. Replica searches, idle and under the primary's batch load: on the
    // replica above (a new generation every 50 ms), then on one with the
    // default follow interval (1 s), as deployed.
    let mut under_load = |replica: &Server, what: &str, first: u64| {
        let mut idle = searches(&replica.base, secs);
        let load = {
            let base = primary.base.clone();
            std::thread::spawn(move || batch_throughput(&base, secs, batch, first, Some(0)))
        };
        let mut busy = searches(&replica.base, secs);
        let rate = load.join().expect("the load");
        say(format!(
            "search p99 on {what}: idle {:.1} ms, while the primary \
             indexes batches {:.1} ms ({:.1}x; p50 {:.1} / {:.1} ms); primary meanwhile \
             {rate:.0} contacts/s (primary on core 0, this server on core 1)",
            pct(&mut idle, 0.99),
            pct(&mut busy, 0.99),
            pct(&mut busy, 0.99) / pct(&mut idle, 0.99),
            pct(&mut idle, 0.5),
            pct(&mut busy, 0.5)
        ));
    };
    under_load(&replica, "a replica (follow interval 50 ms)", 100_000_000);
    drop(replica);
    let replica = start(
        Some(1),
        &dir.join("replica-default"),
        &["--follow", &store],
        &dir.join("replica-default.log"),
    );
    under_load(&replica, "a replica (follow interval 1 s)", 200_000_000);
    drop(replica);
    // The control: a server that follows nothing, on a copy of the same
    // index and the same core. What it loses under the primary's load is
    // the machine's (shared caches, memory, the hypervisor), not
    // replication's.
    copy_dir(&base_index, &dir.join("control"));
    let control = start(Some(1), &dir.join("control"), &[], &dir.join("control.log"));
    under_load(&control, "a server that follows nothing", 300_000_000);
    drop(control);
    drop(primary);

    // 5. Throughput, durability remote against local.
    for mode in ["local", "remote"] {
        let index = dir.join(format!("primary-{mode}"));
        copy_dir(&base_index, &index);
        let store = format!("file://{}", dir.join(format!("store-{mode}")).display());
        let p = start(
            None,
            &index,
            &["--publish", &store, "--durability", mode],
            &dir.join(format!("primary-{mode}.log")),
        );
        let rate = batch_throughput(&p.base, secs, 100, 200_000_000, None);
        say(format!(
            "write throughput, 100-record batches from 4 clients, --durability {mode}: {rate:.0} contacts/s"
        ));
    }
    std::fs::write(dir.join("report.md"), report).expect("the report");
}
