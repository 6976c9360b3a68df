//! End-to-end benchmark of the search service: `cargo bench --bench search`.
//!
//! Generates a seeded dataset, builds the index with the release binary
//! (timing it and sampling its memory), serves it, and replays a fixed query
//! mix over HTTP with 1 and then 8 keep-alive clients. Prints a Markdown
//! report and writes it to `$BENCH_DIR/report.md` (and every 1-client
//! request's latency and URL to `$BENCH_DIR/samples-1client.tsv`).
//!
//! Knobs (environment):
//! * `BENCH_CONTACTS` (1,000,000), `BENCH_COMPANIES` (contacts / 20)
//! * `BENCH_DIR` (`target/bench-data`): dataset, index, logs, report
//! * `BENCH_SECONDS` (5): measuring time of each class and concurrency
//! * `BENCH_WARMUP_SECONDS` (20): the mixed stream of another sample of
//!   contacts, 2 clients, before measuring (shared prefixes and filters
//!   warm, as on a server that has been running; the measured queries cold)
//! * `BENCH_SKIP_BUILD=1`: reuse the index of an earlier run of the same size
//! * `BENCH_SERVE_ARGS`: more `kontakt serve` flags, space-separated (for
//!   example `--cache-bytes 1000000000`)
//! * `BENCH_CLIENTS` (8), `BENCH_WALKS` (5 walks of `BENCH_WALK_PAGES` = 200
//!   pages with 1 client), `BENCH_DEEP_PAGE` (5000), `BENCH_DEEP_REPEATS` (20)
//!
//! The children run without the caller's `KONTAKT_*` variables (open reads,
//! no rate limit). Every answer must be a 200; errors are counted, shown
//! with their URLs, and make the benchmark exit with status 1 (after writing
//! the report).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use kontakt_bench::load::{self, Outcome, Walks};
use kontakt_bench::procs::{
    self, ChildGuard, CpuMark, env, free_port, kontakt_command, log_tail, read_json, write_json,
};
use kontakt_bench::queries::{self, Class};

/// The release binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_kontakt");

/// Seed of the dataset (the `kontakt generate` default).
const DATA_SEED: u64 = 42;
/// Seed of the query mix.
const QUERY_SEED: u64 = 7;
/// Contacts sampled from the dataset to build the query mix from.
const SAMPLES: usize = 4000;

struct Config {
    contacts: usize,
    companies: usize,
    dir: PathBuf,
    seconds: Duration,
    warmup: Duration,
    skip_build: bool,
    clients: usize,
    walks: usize,
    walk_pages: u32,
    deep_page: u32,
    deep_repeats: usize,
}

impl Config {
    fn from_env() -> Config {
        let contacts: usize = env("BENCH_CONTACTS", 1_000_000);
        let companies = env("BENCH_COMPANIES", (contacts / 20).max(1));
        let dir = std::env::var_os("BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target/bench-data"));
        Config {
            contacts,
            companies,
            dir: std::path::absolute(&dir).unwrap_or(dir),
            seconds: Duration::from_secs_f64(env("BENCH_SECONDS", 5.0)),
            warmup: Duration::from_secs_f64(env("BENCH_WARMUP_SECONDS", 20.0)),
            skip_build: env::<String>("BENCH_SKIP_BUILD", String::new()) == "1",
            clients: env("BENCH_CLIENTS", 8),
            walks: env("BENCH_WALKS", 5),
            walk_pages: env("BENCH_WALK_PAGES", 200),
            deep_page: env("BENCH_DEEP_PAGE", 5000),
            deep_repeats: env("BENCH_DEEP_REPEATS", 20),
        }
    }

    fn size(&self) -> Value {
        json!({"companies": self.companies, "contacts": self.contacts, "seed": DATA_SEED})
    }
}

fn step(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

/// Generates the dataset into `dir/data` unless it is there for this size.
fn ensure_dataset(cfg: &Config) -> PathBuf {
    let data = cfg.dir.join("data");
    let marker = data.join("bench-dataset.json");
    let present = data.join("companies.jsonl").is_file() && data.join("contacts.jsonl").is_file();
    if present && read_json(&marker).as_ref() == Some(&cfg.size()) {
        step(format!("reusing the dataset in {}", data.display()));
        return data;
    }
    let _ = fs::remove_file(&marker);
    step(format!(
        "generating {} contacts and {} companies (seed {DATA_SEED}) into {}",
        cfg.contacts,
        cfg.companies,
        data.display()
    ));
    let start = Instant::now();
    kontakt::generate::generate(&kontakt::generate::GenerateOptions {
        companies: cfg.companies,
        contacts: cfg.contacts,
        seed: DATA_SEED,
        out: data.clone(),
    })
    .expect("generating the dataset");
    step(format!(
        "generated in {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    write_json(&marker, &cfg.size());
    data
}

/// What building the index cost.
struct Build {
    wall: Duration,
    bytes: u64,
    peak_kib: u64,
    cpu: Option<Duration>,
    reused: bool,
}

impl Build {
    fn to_json(&self, cfg: &Config) -> Value {
        let mut v = cfg.size();
        v["wall_secs"] = json!(self.wall.as_secs_f64());
        v["bytes"] = json!(self.bytes);
        v["peak_kib"] = json!(self.peak_kib);
        v["cpu_secs"] = json!(self.cpu.map(|c| c.as_secs_f64()));
        v
    }

    fn from_json(v: &Value) -> Option<Build> {
        Some(Build {
            wall: Duration::from_secs_f64(v["wall_secs"].as_f64()?),
            bytes: v["bytes"].as_u64()?,
            peak_kib: v["peak_kib"].as_u64()?,
            cpu: v["cpu_secs"].as_f64().map(Duration::from_secs_f64),
            reused: true,
        })
    }
}

/// Builds the index with `kontakt index` as a child process (or reuses the
/// last one with `BENCH_SKIP_BUILD=1`).
fn ensure_index(cfg: &Config, data: &Path) -> (PathBuf, Build) {
    let index = cfg.dir.join("index");
    let marker = cfg.dir.join("bench-index.json");
    if cfg.skip_build && index.is_dir() {
        let old = read_json(&marker);
        let same_size = old.as_ref().is_some_and(|v| {
            ["companies", "contacts", "seed"]
                .iter()
                .all(|k| v.get(*k) == cfg.size().get(*k))
        });
        // The schema may have changed since: only an index this kontakt opens
        // is reused.
        let opens = kontakt::index::IndexSchema::declared()
            .and_then(|schema| kontakt::index::open(&index, &schema).map(drop));
        match (
            old.as_ref()
                .filter(|_| same_size)
                .and_then(Build::from_json),
            opens,
        ) {
            (Some(build), Ok(())) => {
                step(format!("BENCH_SKIP_BUILD=1: reusing {}", index.display()));
                return (index, build);
            }
            (None, _) => step("BENCH_SKIP_BUILD=1, but no index of this size: building"),
            (Some(_), Err(e)) => step(format!(
                "BENCH_SKIP_BUILD=1, but the index cannot be reused ({e:#}): building"
            )),
        }
    }
    let _ = fs::remove_file(&marker);
    let log_path = cfg.dir.join("index.log");
    let log = File::create(&log_path).expect("creating index.log");
    step(format!(
        "building the index: {BIN} index … --index {}",
        index.display()
    ));
    let start = Instant::now();
    let child = kontakt_command(BIN)
        .arg("index")
        .arg("--companies")
        .arg(data.join("companies.jsonl"))
        .arg("--contacts")
        .arg(data.join("contacts.jsonl"))
        .arg("--index")
        .arg(&index)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawning kontakt index");
    let mut child = ChildGuard::new(child, "kontakt index");
    let pid = child.id();
    let mut polled_kib = 0;
    let status = loop {
        // Memory first: once reaped, /proc no longer has it.
        if let Some(m) = procs::memory(pid) {
            polled_kib = polled_kib.max(m.peak_kib);
        }
        if let Some(status) = child.try_wait() {
            break status;
        }
        std::thread::sleep(procs::POLL);
    };
    let wall = start.elapsed();
    assert!(
        status.success(),
        "kontakt index failed ({status}); last lines of {}:\n{}",
        log_path.display(),
        log_tail(&log_path)
    );
    let usage = procs::children_usage();
    let build = Build {
        wall,
        bytes: procs::dir_size(&index),
        peak_kib: polled_kib.max(usage.map_or(0, |u| u.max_rss_kib)),
        cpu: usage.map(|u| u.cpu),
        reused: false,
    };
    step(format!(
        "built in {:.1} s, {} bytes, peak RSS {} (polled {}); binary says: {}",
        wall.as_secs_f64(),
        build.bytes,
        mib(build.peak_kib),
        mib(polled_kib),
        log_tail(&log_path).lines().last().unwrap_or("")
    ));
    write_json(&marker, &build.to_json(cfg));
    (index, build)
}

/// The server child and where it listens.
struct Server {
    child: ChildGuard,
    base: String,
    contacts: u64,
    ready_after: Duration,
}

fn start_server(cfg: &Config, index: &Path) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let log_path = cfg.dir.join("server.log");
    let log = File::create(&log_path).expect("creating server.log");
    step(format!("starting {BIN} serve --bind {addr}"));
    let start = Instant::now();
    let child = kontakt_command(BIN)
        .arg("serve")
        .arg("--index")
        .arg(index)
        .arg("--bind")
        .arg(&addr)
        .args(
            std::env::var("BENCH_SERVE_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawning kontakt serve");
    let mut child = ChildGuard::new(child, "kontakt serve");
    let base = format!("http://{addr}");
    let body = load::wait_ready(&mut child, &base, &log_path);
    let ready_after = start.elapsed();
    let contacts = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["contacts"].as_u64())
        .unwrap_or(0);
    step(format!(
        "ready after {:.2} s ({contacts} contacts)",
        ready_after.as_secs_f64()
    ));
    Server {
        child,
        base,
        contacts,
        ready_after,
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
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

fn table_header(out: &mut String, first: &str) {
    let _ = writeln!(
        out,
        "| {first} | requests | errors | p50 ms | p90 ms | p99 ms | QPS | server CPU ms/req | other CPU % |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
}

/// Server CPU per request and the share of the CPUs other processes took.
fn cpu_cells(o: &Outcome) -> (String, String) {
    match o.cpu {
        Some(c) => (
            format!(
                "{:.2}",
                c.server.as_secs_f64() * 1000.0 / o.samples.len().max(1) as f64
            ),
            format!("{:.0}", c.other_share * 100.0),
        ),
        None => ("?".to_owned(), "?".to_owned()),
    }
}

fn table_row(out: &mut String, name: &str, o: &Outcome) {
    let s = o.sorted();
    let (server_cpu, other) = cpu_cells(o);
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {server_cpu} | {other} |",
        s.len(),
        o.errors,
        pct(&s, 50.0),
        pct(&s, 90.0),
        pct(&s, 99.0),
        o.qps()
    );
}

/// Latency by label (1 client), to see which part of a class is slow.
fn breakdown(out: &mut String, class: &Class, o: &Outcome) {
    let mut by: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (us, idx) in &o.samples {
        by.entry(&class.queries[*idx as usize].label)
            .or_default()
            .push(*us);
    }
    let _ = writeln!(out, "\n**{}**\n", class.name);
    let _ = writeln!(
        out,
        "| group | requests | p50 ms | p90 ms | p99 ms | max ms |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
    for (label, mut v) in by {
        v.sort_unstable();
        let _ = writeln!(
            out,
            "| {label} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            v.len(),
            pct(&v, 50.0),
            pct(&v, 90.0),
            pct(&v, 99.0),
            ms(*v.last().unwrap_or(&0))
        );
    }
}

/// The slowest distinct URLs of a run.
fn slowest(out: &mut String, class: &Class, o: &Outcome, n: usize) {
    let mut s = o.samples.clone();
    s.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
    let mut seen: Vec<&str> = Vec::new();
    for (us, idx) in s {
        let path = class.queries[idx as usize].path.as_str();
        if seen.contains(&path) {
            continue;
        }
        seen.push(path);
        let _ = writeln!(out, "- {} — {:.1} ms — `{path}`", class.name, ms(us));
        if seen.len() == n {
            break;
        }
    }
}

fn failures(out: &mut String, name: &str, o: &Outcome) {
    for f in &o.examples {
        let _ = writeln!(out, "- {name}: `{}` → {}", f.url, f.why.replace('\n', " "));
    }
}

/// Page 1 vs page `deep` of [`queries::DEEP`].
struct Deep {
    reached: u32,
    total: Option<u64>,
    walk: Duration,
    /// Walk latency (µs) of every page, in order.
    walk_pages: Vec<u32>,
    walk_errors: Outcome,
    first: Outcome,
    deep: Outcome,
}

fn deep_page(base: &str, target: u32, repeats: usize) -> Deep {
    let agent = load::agent();
    let mut body = Vec::with_capacity(64 * 1024);
    let first = format!("{base}/v1/contacts?{}", queries::DEEP);
    let first_uri = load::uri(&first);
    let mut uri = first_uri.clone();
    let mut walk_pages = Vec::new();
    let mut total = None;
    let start = Instant::now();
    let mut reached = 0;
    let mut walk_errors = Outcome::default();
    for page in 1..=target {
        let t = Instant::now();
        if let Err(why) = load::get(&agent, &uri, &mut body) {
            walk_errors.fail(&uri, format!("page {page}: {why}"));
            break;
        }
        walk_pages.push(t.elapsed().as_micros() as u32);
        reached = page;
        if page == 1 {
            total = load::total(&body);
        }
        if page % 500 == 0 {
            step(format!(
                "  deep walk: page {page} after {:.1} s",
                start.elapsed().as_secs_f64()
            ));
        }
        if page == target {
            break;
        }
        match load::next_cursor(&body) {
            Some(c) => uri = load::uri(&format!("{first}&cursor={}", queries::enc(&c))),
            None => break,
        }
    }
    let walk = start.elapsed();
    let mut o1 = Outcome::default();
    let mut od = Outcome::default();
    for _ in 0..repeats {
        for (u, o) in [(&first_uri, &mut o1), (&uri, &mut od)] {
            let t = Instant::now();
            let r = load::get(&agent, u, &mut body);
            let took = t.elapsed();
            o.elapsed += took;
            match r {
                Ok(()) => o.samples.push((took.as_micros() as u32, 0)),
                Err(why) => o.fail(u, why),
            }
        }
    }
    Deep {
        reached,
        total,
        walk,
        walk_pages,
        walk_errors,
        first: o1,
        deep: od,
    }
}

fn walk_table(out: &mut String, cfg: &Config, runs: &[(usize, Walks)]) {
    let last = cfg.walk_pages;
    let _ = writeln!(
        out,
        "| clients | walks (complete) | pages | errors | page 1 p50 ms | page {last} p50 ms | all pages p50 ms | p99 ms | pages/s |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (clients, w) in runs {
        let s = w.outcome.sorted();
        let med = |p| {
            w.page_median(p)
                .map(|(us, n)| format!("{:.2} (n={n})", ms(us)))
                .unwrap_or_else(|| "—".to_owned())
        };
        let _ = writeln!(
            out,
            "| {clients} | {} ({}) | {} | {} | {} | {} | {:.2} | {:.2} | {:.1} |",
            w.walks,
            w.complete,
            s.len(),
            w.outcome.errors,
            med(1),
            med(last),
            pct(&s, 50.0),
            pct(&s, 99.0),
            w.outcome.qps()
        );
    }
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: nothing to do.
    if !std::env::args().any(|a| a == "--bench") {
        println!("search benchmark: run it with `cargo bench --bench search`");
        return;
    }
    let cfg = Config::from_env();
    fs::create_dir_all(&cfg.dir).expect("creating BENCH_DIR");
    step(format!("BENCH_DIR={}", cfg.dir.display()));
    let data = ensure_dataset(&cfg);
    let (index, build) = ensure_index(&cfg, &data);

    step("sampling contacts for the query mix");
    let samples = queries::load_samples(&data.join("contacts.jsonl"), cfg.contacts, SAMPLES);
    let classes = queries::classes(&samples, QUERY_SEED);
    let mixed = queries::mixed(&classes, QUERY_SEED);

    let mut server = start_server(&cfg, &index);
    let watch = procs::MemoryWatch::start(server.child.id());
    let base = server.base.clone();
    let server_pid = server.child.id();
    let to_uris = |c: &Class| -> Vec<ureq::http::Uri> {
        c.queries
            .iter()
            .map(|q| load::uri(&format!("{base}{}", q.path)))
            .collect()
    };
    let class_uris: Vec<_> = classes.iter().map(to_uris).collect();
    let mixed_uris = to_uris(&mixed);

    // Totals of the broad queries, for the report.
    let mut totals = Vec::new();
    {
        let agent = load::agent();
        let mut body = Vec::new();
        for q in queries::WALKS.iter().chain([&queries::DEEP]) {
            let u = load::uri(&format!("{base}/v1/contacts?{q}"));
            let t = load::get(&agent, &u, &mut body)
                .ok()
                .and_then(|()| load::total(&body));
            totals.push((q.to_string(), t));
        }
    }

    // The warm-up is another sample of contacts, so what it leaves in the
    // caches is what other users' searches would have: the short prefixes
    // and common filters everyone shares, none of the measured long tail.
    let warm_samples = queries::load_samples_at(
        &data.join("contacts.jsonl"),
        cfg.contacts,
        SAMPLES,
        (cfg.contacts / SAMPLES).max(2) / 2,
    );
    let warm_mix = queries::mixed(
        &queries::classes(&warm_samples, QUERY_SEED + 1),
        QUERY_SEED + 1,
    );
    let measuring = CpuMark::now(server_pid);
    step(format!(
        "warming up ({} s of a mix from other contacts, not measured)",
        cfg.warmup.as_secs_f64()
    ));
    let warm = load::run(&to_uris(&warm_mix), 2, cfg.warmup);
    step(format!(
        "warm-up: {} requests, {} errors",
        warm.samples.len(),
        warm.errors
    ));

    let mut static_runs: Vec<(usize, Vec<Outcome>)> = Vec::new();
    let mut walk_runs: Vec<(usize, Walks)> = Vec::new();
    for clients in [1, cfg.clients] {
        let mut outs = Vec::new();
        for (class, uris) in classes.iter().zip(&class_uris) {
            let mark = CpuMark::now(server_pid);
            let mut o = load::run(uris, clients, cfg.seconds);
            o.cpu = mark.and_then(|m| m.since());
            let s = o.sorted();
            step(format!(
                "{clients} client(s) {:<14} {:>6} req, {} errors, p50 {:.2} ms, p99 {:.2} ms, {:.1} QPS",
                class.name,
                s.len(),
                o.errors,
                pct(&s, 50.0),
                pct(&s, 99.0),
                o.qps()
            ));
            outs.push(o);
        }
        let min_walks = if clients == 1 { cfg.walks } else { 1 };
        let mark = CpuMark::now(server_pid);
        let mut w = load::walk(
            &base,
            &queries::WALKS,
            cfg.walk_pages,
            clients,
            cfg.seconds,
            min_walks,
        );
        w.outcome.cpu = mark.and_then(|m| m.since());
        step(format!(
            "{clients} client(s) cursor walk: {} walks, {} pages, {} errors, page 1 {:?}, page {} {:?}",
            w.walks,
            w.outcome.samples.len(),
            w.outcome.errors,
            w.page_median(1),
            cfg.walk_pages,
            w.page_median(cfg.walk_pages)
        ));
        static_runs.push((clients, outs));
        walk_runs.push((clients, w));
    }

    let mark = CpuMark::now(server_pid);
    let mut mixed_out = load::run(&mixed_uris, cfg.clients, cfg.seconds);
    mixed_out.cpu = mark.and_then(|m| m.since());
    step(format!(
        "mixed, {} clients: {:.1} QPS, {} errors",
        cfg.clients,
        mixed_out.qps(),
        mixed_out.errors
    ));

    step(format!("deep page: walking to page {}", cfg.deep_page));
    let deep = deep_page(&base, cfg.deep_page, cfg.deep_repeats);

    let overall = measuring.and_then(|m| m.since());
    let (server_peak_kib, server_anon_kib) = watch.finish_with_anon();
    server.child.stop();

    // ---- report ----
    let mut r = String::new();
    let _ = writeln!(r, "# kontakt search benchmark\n");
    let _ = writeln!(r, "- machine: {}", procs::machine());
    let _ = writeln!(
        r,
        "- dataset: {} contacts, {} companies (seed {DATA_SEED}); the server counts {} searchable contacts",
        cfg.contacts, cfg.companies, server.contacts
    );
    let _ = writeln!(
        r,
        "- {} s per class; {} URLs per class from {} sampled contacts (query seed {QUERY_SEED}); server ready {:.2} s after start",
        cfg.seconds.as_secs_f64(),
        classes[0].queries.len(),
        samples.len(),
        server.ready_after.as_secs_f64()
    );
    let _ = writeln!(
        r,
        "- warm-up: {:.0} s of the mixed stream built from another sample of contacts (2 clients, {} requests), so shared short prefixes and common filters are warm and the measured long tail is not",
        cfg.warmup.as_secs_f64(),
        warm.samples.len()
    );
    let _ = writeln!(
        r,
        "- *server CPU ms/req*: the server's user+system CPU over the run / requests; \
         *other CPU %*: share of all CPUs busy with neither the server nor the clients \
         (other processes, interrupts) — where it is high, the latencies are polluted"
    );
    for (q, t) in &totals {
        let _ = writeln!(
            r,
            "- `{q}`: total {}",
            t.map_or("?".to_owned(), |t| t.to_string())
        );
    }
    for (clients, outs) in &static_runs {
        let _ = writeln!(
            r,
            "\n## {clients} client{}\n",
            if *clients == 1 { "" } else { "s" }
        );
        table_header(&mut r, "class");
        for (class, o) in classes.iter().zip(outs) {
            table_row(&mut r, class.name, o);
        }
        let w = &walk_runs
            .iter()
            .find(|(c, _)| c == clients)
            .expect("walks")
            .1;
        table_row(&mut r, "cursor walk (all pages)", &w.outcome);
    }
    let _ = writeln!(r, "\n## mixed, {} clients\n", cfg.clients);
    table_header(&mut r, "run");
    table_row(&mut r, "mixed", &mixed_out);

    let _ = writeln!(
        r,
        "\n## cursor walks ({} pages of {})\n",
        cfg.walk_pages,
        queries::WALKS.map(|w| format!("`{w}`")).join(", ")
    );
    walk_table(&mut r, &cfg, &walk_runs);

    let _ = writeln!(r, "\n## deep page (`{}`, 1 client)\n", queries::DEEP);
    let (f, d) = (deep.first.sorted(), deep.deep.sorted());
    let _ = writeln!(r, "| page | fetches | errors | p50 ms | p90 ms | max ms |");
    let _ = writeln!(r, "|---:|---:|---:|---:|---:|---:|");
    for (page, s, o) in [(1, &f, &deep.first), (deep.reached, &d, &deep.deep)] {
        let _ = writeln!(
            r,
            "| {page} | {} | {} | {:.2} | {:.2} | {:.2} |",
            s.len(),
            o.errors,
            pct(s, 50.0),
            pct(s, 90.0),
            ms(*s.last().unwrap_or(&0))
        );
    }
    let chunk = deep.walk_pages.len().div_ceil(5).max(1);
    let by_depth: Vec<String> = deep
        .walk_pages
        .chunks(chunk)
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.to_vec();
            c.sort_unstable();
            format!(
                "pages {}–{}: p50 {:.2} ms",
                i * chunk + 1,
                i * chunk + c.len(),
                pct(&c, 50.0)
            )
        })
        .collect();
    let _ = writeln!(
        r,
        "\nWalk to page {} (total {}): {:.1} s, {:.2} ms/page on average; {}.",
        deep.reached,
        deep.total.map_or("?".to_owned(), |t| t.to_string()),
        deep.walk.as_secs_f64(),
        deep.walk.as_secs_f64() * 1000.0 / deep.walk_pages.len().max(1) as f64,
        by_depth.join("; ")
    );

    let build_note = if build.reused {
        " (from the reused build)"
    } else {
        ""
    };
    let _ = writeln!(r, "\n## summary\n");
    let _ = writeln!(r, "| metric | value |");
    let _ = writeln!(r, "|---|---|");
    let _ = writeln!(
        r,
        "| mixed QPS, {} clients | {:.1} |",
        cfg.clients,
        mixed_out.qps()
    );
    let _ = writeln!(r, "| server peak RSS (VmHWM) | {} |", mib(server_peak_kib));
    let _ = writeln!(
        r,
        "| server peak anonymous memory (RssAnon, sampled) | {} |",
        mib(server_anon_kib)
    );
    if let Some(c) = overall {
        let _ = writeln!(
            r,
            "| CPU while measuring | server {:.1} s, clients {:.1} s, other processes {:.0}% of all CPUs |",
            c.server.as_secs_f64(),
            c.clients.as_secs_f64(),
            c.other_share * 100.0
        );
    }
    let _ = writeln!(
        r,
        "| build time{build_note} | {:.1} s wall{} |",
        build.wall.as_secs_f64(),
        build
            .cpu
            .map(|c| format!(", {:.1} s CPU", c.as_secs_f64()))
            .unwrap_or_default()
    );
    let _ = writeln!(
        r,
        "| build contacts/s | {:.0} |",
        cfg.contacts as f64 / build.wall.as_secs_f64().max(1e-9)
    );
    let _ = writeln!(
        r,
        "| index size | {:.1} MiB, {:.0} bytes/contact |",
        build.bytes as f64 / 1048576.0,
        build.bytes as f64 / cfg.contacts.max(1) as f64
    );
    let _ = writeln!(r, "| build peak RSS | {} |", mib(build.peak_kib));
    let _ = writeln!(r, "| machine | {} |", procs::machine());

    let _ = writeln!(r, "\n## latency by group (1 client)");
    for (class, o) in classes.iter().zip(&static_runs[0].1) {
        breakdown(&mut r, class, o);
    }
    let _ = writeln!(r, "\n## slowest URLs (1 client)\n");
    for (class, o) in classes.iter().zip(&static_runs[0].1) {
        slowest(&mut r, class, o, 3);
    }
    // Every 1-client request, for reading the tail URL by URL.
    let mut tsv = String::from("class\tms\turl\n");
    for (class, o) in classes.iter().zip(&static_runs[0].1) {
        for &(us, idx) in &o.samples {
            let path = &class.queries[idx as usize].path;
            let _ = writeln!(tsv, "{}\t{:.3}\t{path}", class.name, ms(us));
        }
    }
    std::fs::write(cfg.dir.join("samples-1client.tsv"), tsv).expect("writing the samples");

    let mut errors =
        mixed_out.errors + deep.walk_errors.errors + deep.first.errors + deep.deep.errors;
    let mut err_text = String::new();
    for (clients, outs) in &static_runs {
        for (class, o) in classes.iter().zip(outs) {
            errors += o.errors;
            failures(&mut err_text, &format!("{} ×{clients}", class.name), o);
        }
    }
    for (clients, w) in &walk_runs {
        errors += w.outcome.errors;
        failures(
            &mut err_text,
            &format!("cursor walk ×{clients}"),
            &w.outcome,
        );
    }
    failures(&mut err_text, "mixed", &mixed_out);
    failures(&mut err_text, "deep walk", &deep.walk_errors);
    failures(&mut err_text, "deep page 1", &deep.first);
    failures(&mut err_text, "deep page", &deep.deep);
    let _ = writeln!(r, "\n## errors: {errors}\n");
    r.push_str(&err_text);

    // The same numbers for scripts (`scripts/plot_scaling.py` draws the
    // cost curve from the reports of several sizes).
    let class_json = |o: &Outcome| {
        let s = o.sorted();
        json!({"p50_ms": pct(&s, 50.0), "p99_ms": pct(&s, 99.0), "qps": o.qps(), "requests": s.len()})
    };
    let mut by_class = serde_json::Map::new();
    for (i, class) in classes.iter().enumerate() {
        let mut runs = serde_json::Map::new();
        for (clients, outs) in &static_runs {
            runs.insert(format!("clients_{clients}"), class_json(&outs[i]));
        }
        by_class.insert(class.name.to_owned(), Value::Object(runs));
    }
    let summary = json!({
        "contacts": cfg.contacts,
        "clients": cfg.clients,
        "seconds_per_class": cfg.seconds.as_secs_f64(),
        "classes": by_class,
        "mixed_qps": mixed_out.qps(),
        "build_contacts_per_s": cfg.contacts as f64 / build.wall.as_secs_f64().max(1e-9),
        "build_reused": build.reused,
        "index_bytes": build.bytes,
        "server_peak_rss_kib": server_peak_kib,
        "server_peak_anon_kib": server_anon_kib,
        "errors": errors,
    });
    write_json(&cfg.dir.join("report.json"), &summary);

    println!("\n{r}");
    let report = cfg.dir.join("report.md");
    fs::write(&report, &r).unwrap_or_else(|e| panic!("writing {}: {e}", report.display()));
    step(format!("report written to {}", report.display()));
    if errors > 0 {
        eprintln!("[bench] {errors} requests did not answer 200: the numbers above are suspect");
        std::process::exit(1);
    }
}
