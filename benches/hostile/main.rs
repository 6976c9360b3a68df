//! Hostile mix (issue 12, point 4): `cargo bench --bench hostile`.
//!
//! One client sends cheap queries (typeahead on `/v1/contacts`, a country
//! filter, one contact) alone, then while eight clients send the most
//! expensive requests the limits allow on every read endpoint: a `q` and a
//! suggest of 256 × `æ`, suggest with eight typo-tolerant tokens, every
//! facet over everything, a 256-character `job_title`, lists of 100 values,
//! a deep cursor page; and the other read endpoints (industries, the
//! OpenAPI document, metrics, one contact). Prints the cheap query's
//! p50/p99 idle and under the mix, their ratio, and the machine's load
//! average before and after (the machine may be shared).
//!
//! Knobs: `BENCH_INDEX` (an index to serve; default: the sample data,
//! 20,000 contacts, built into `BENCH_DIR`), `BENCH_DIR`
//! (`target/bench-data/hostile`), `BENCH_SECONDS` (10), `BENCH_CLIENTS` (8).
//! For 1M contacts, serve the index `cargo bench --bench search` built
//! (`BENCH_INDEX=target/bench-data/index-1000000`, see its report).

use std::path::PathBuf;
use std::time::Duration;

use kontakt_bench::procs::{ChildGuard, env, free_port, kontakt_command};
use kontakt_bench::{load, procs};

/// The release binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_kontakt");

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

/// The 1-, 5- and 15-minute load averages (Linux), or `?`.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The most expensive reads the limits allow.
fn hostile(base: &str, cursor: Option<&str>) -> Vec<String> {
    let ae = "%C3%A6".repeat(256);
    let typos = [
        "anderson",
        "johansen",
        "nielsens",
        "virtanen",
        "kristian",
        "svensson",
        "lindqvist",
        "hansenne",
    ]
    .join("+");
    let title = "a".repeat(256);
    let industries: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let all_facets = "country_code,industry_section,seniority_level,source,email_status,department";
    let mut urls = vec![
        format!("{base}/v1/contacts?q={ae}&limit=100&facets={all_facets}"),
        format!("{base}/v1/contacts/suggest?q={ae}&limit=10"),
        format!("{base}/v1/contacts/suggest?q={typos}&limit=10"),
        format!(
            "{base}/v1/contacts?facets={all_facets}&limit=100&exclude_stale=false&exclude_speculative=false"
        ),
        format!("{base}/v1/contacts?job_title={title}&facets={all_facets}&limit=100"),
        format!(
            "{base}/v1/contacts?industry_id={}&facets={all_facets}&limit=100",
            industries.join(",")
        ),
        format!("{base}/v1/contacts?q=a+b+c+d+e+f+g+h&sort_by=full_name&limit=100"),
        // The other read endpoints, at their largest answers.
        format!("{base}/v1/industries"),
        format!("{base}/openapi.json"),
        format!("{base}/metrics"),
        format!("{base}/v1/contacts/7"),
    ];
    if let Some(c) = cursor {
        urls.push(format!(
            "{base}/v1/contacts?sort_by=created_at&limit=100&cursor={c}"
        ));
    }
    urls
}

fn main() {
    let dir = PathBuf::from(env("BENCH_DIR", "target/bench-data/hostile".to_string()));
    let seconds = Duration::from_secs(env("BENCH_SECONDS", 10));
    let clients = env("BENCH_CLIENTS", 8usize);
    let index = std::env::var("BENCH_INDEX")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.join("index"));
    std::fs::create_dir_all(&dir).expect("creating the bench directory");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = dir.join("server.log");
    let child = kontakt_command(BIN)
        .args(["serve", "--index"])
        .arg(&index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(std::fs::File::create(&log).expect("log file"))
        .stderr(std::fs::File::create(dir.join("server.err")).expect("log file"))
        .spawn()
        .expect("starting kontakt serve");
    let mut server = ChildGuard::new(child, "kontakt serve");
    load::wait_ready(&mut server, &base, &log);

    let cheap: Vec<_> = [
        format!("{base}/v1/contacts?q=an&limit=10"),
        format!("{base}/v1/contacts?q=jo&limit=10"),
        format!("{base}/v1/contacts?country_code=SE&limit=10"),
        format!("{base}/v1/contacts/suggest?q=an"),
        format!("{base}/v1/contacts/42"),
    ]
    .iter()
    .map(|u| load::uri(u))
    .collect();
    // A cursor 5,000 pages deep would take minutes to walk; one page deep
    // costs what any page costs (permutation walk).
    let agent = load::agent();
    let mut body = Vec::new();
    let first = load::uri(&format!("{base}/v1/contacts?sort_by=created_at&limit=100"));
    let cursor = load::get(&agent, &first, &mut body)
        .ok()
        .and_then(|()| load::next_cursor(&body));
    let hostile: Vec<_> = hostile(&base, cursor.as_deref())
        .iter()
        .map(|u| load::uri(u))
        .collect();
    for u in &hostile {
        if let Err(e) = load::get(&agent, u, &mut body) {
            panic!("hostile request refused: {u}: {e}");
        }
    }
    // Warm both sets once.
    load::run(&cheap, 1, Duration::from_secs(1));

    let load_before = loadavg();
    let idle = load::run(&cheap, 1, seconds);
    let (mixed, storm) = std::thread::scope(|s| {
        let storm = s.spawn(|| load::run(&hostile, clients, seconds + Duration::from_secs(2)));
        std::thread::sleep(Duration::from_secs(1));
        let mixed = load::run(&cheap, 1, seconds);
        (mixed, storm.join().expect("hostile clients"))
    });
    let (i, m, h) = (idle.sorted(), mixed.sorted(), storm.sorted());
    println!("| cheap query | p50 ms | p99 ms | requests | errors |");
    println!("|---|---|---|---|---|");
    for (name, o, v) in [
        ("idle", &idle, &i),
        (&*format!("with {clients} hostile clients"), &mixed, &m),
    ] {
        println!(
            "| {name} | {:.2} | {:.2} | {} | {} |",
            pct(v, 0.5),
            pct(v, 0.99),
            v.len(),
            o.errors
        );
    }
    println!(
        "\nhostile requests: {} answered ({:.1}/s), p50 {:.1} ms, p99 {:.1} ms, {} errors",
        h.len(),
        storm.qps(),
        pct(&h, 0.5),
        pct(&h, 0.99),
        storm.errors
    );
    println!(
        "cheap p99 under the mix / idle p99: {:.1}x",
        pct(&m, 0.99) / pct(&i, 0.99).max(1e-9)
    );
    println!("load average before / after: {load_before} / {}", loadavg());
    if let Some(mem) = procs::memory(server.id()) {
        println!("server peak RSS: {} MiB", mem.peak_kib / 1024);
    }
    for f in storm.examples.iter().chain(&mixed.examples) {
        println!("failure: {} {}", f.url, f.why);
    }
}
