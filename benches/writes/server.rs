//! The data the benchmark writes over and the server it writes to: a seeded
//! dataset, a base index built once by `kontakt index` (and copied for each
//! run, since the run changes it), the `kontakt serve` child with an admin
//! key, and the commit figures of its `/metrics`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::BIN;
use crate::{Config, step};
use kontakt_bench::load;
use kontakt_bench::procs::{
    ChildGuard, free_port, kontakt_command, log_tail, read_json, write_json,
};

/// Seed of the dataset (the `kontakt generate` default).
pub const DATA_SEED: u64 = 42;

fn size(cfg: &Config) -> Value {
    json!({"companies": cfg.companies, "contacts": cfg.contacts, "seed": DATA_SEED})
}

/// Generates the dataset into `dir/data` unless it is there for this size.
pub fn ensure_dataset(cfg: &Config) -> PathBuf {
    let data = cfg.dir.join("data");
    let marker = data.join("bench-dataset.json");
    let present = data.join("companies.jsonl").is_file() && data.join("contacts.jsonl").is_file();
    if present && read_json(&marker).as_ref() == Some(&size(cfg)) {
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
    write_json(&marker, &size(cfg));
    data
}

/// Builds `dir/base-index` with `kontakt index` unless an index of this
/// size that this kontakt opens is there, then copies it to `dir/index`,
/// the one the server writes to.
pub fn fresh_index(cfg: &Config, data: &Path) -> PathBuf {
    let base = cfg.dir.join("base-index");
    let marker = cfg.dir.join("base-index.json");
    let opens = || {
        kontakt::index::IndexSchema::declared()
            .and_then(|schema| kontakt::index::open(&base, &schema).map(drop))
    };
    if base.is_dir() && read_json(&marker).as_ref() == Some(&size(cfg)) && opens().is_ok() {
        step(format!("reusing the base index {}", base.display()));
    } else {
        let _ = fs::remove_file(&marker);
        let log_path = cfg.dir.join("index.log");
        let log = File::create(&log_path).expect("creating index.log");
        step(format!(
            "building the base index: {BIN} index … --index {}",
            base.display()
        ));
        let start = Instant::now();
        let child = kontakt_command(BIN)
            .arg("index")
            .arg("--companies")
            .arg(data.join("companies.jsonl"))
            .arg("--contacts")
            .arg(data.join("contacts.jsonl"))
            .arg("--index")
            .arg(&base)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawning kontakt index");
        let mut child = ChildGuard::new(child, "kontakt index");
        let status = loop {
            if let Some(status) = child.try_wait() {
                break status;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "kontakt index failed ({status}); last lines of {}:\n{}",
            log_path.display(),
            log_tail(&log_path)
        );
        step(format!("built in {:.1} s", start.elapsed().as_secs_f64()));
        write_json(&marker, &size(cfg));
    }
    let index = cfg.dir.join("index");
    if index.exists() {
        fs::remove_dir_all(&index).unwrap_or_else(|e| panic!("removing {}: {e}", index.display()));
    }
    copy_dir(&base, &index);
    index
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copying {}: {e}", entry.path().display()));
        }
    }
}

/// The server child and where it listens.
pub struct Server {
    pub child: ChildGuard,
    pub base: String,
    pub log: PathBuf,
    pub contacts: u64,
}

/// `kontakt serve` on `index` with `admin_key` as its only admin key.
pub fn start(cfg: &Config, index: &Path, admin_key: &str) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let log_path = cfg.dir.join("server.log");
    let log = File::create(&log_path).expect("creating server.log");
    step(format!("starting {BIN} serve --bind {addr}"));
    let start = Instant::now();
    let child = kontakt_command(BIN)
        .env("KONTAKT_ADMIN_KEYS", admin_key)
        .arg("serve")
        .arg("--index")
        .arg(index)
        .arg("--bind")
        .arg(&addr)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawning kontakt serve");
    let mut child = ChildGuard::new(child, "kontakt serve");
    let base = format!("http://{addr}");
    let body = load::wait_ready(&mut child, &base, &log_path);
    let contacts = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["contacts"].as_u64())
        .unwrap_or(0);
    step(format!(
        "ready after {:.2} s ({contacts} contacts)",
        start.elapsed().as_secs_f64()
    ));
    Server {
        child,
        base,
        log: log_path,
        contacts,
    }
}

/// A histogram of `/metrics`: sum, count and cumulative buckets.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    pub sum: f64,
    pub count: u64,
    /// (upper bound in seconds, cumulative count), in order.
    pub buckets: Vec<(f64, u64)>,
}

impl Histogram {
    fn parse(text: &str, name: &str) -> Histogram {
        let mut h = Histogram::default();
        let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(name) else {
                continue;
            };
            if rest.starts_with("_sum ") {
                h.sum = value(line).unwrap_or(0.0);
            } else if rest.starts_with("_count ") {
                h.count = value(line).unwrap_or(0.0) as u64;
            } else if let Some(b) = rest.strip_prefix("_bucket{le=\"") {
                let le = b.split('"').next().unwrap_or("");
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::NAN)
                };
                h.buckets.push((le, value(line).unwrap_or(0.0) as u64));
            }
        }
        h
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        Histogram {
            sum: self.sum - earlier.sum,
            count: self.count.saturating_sub(earlier.count),
            buckets: self
                .buckets
                .iter()
                .map(|&(le, n)| {
                    let before = earlier
                        .buckets
                        .iter()
                        .find(|b| b.0 == le)
                        .map_or(0, |b| b.1);
                    (le, n.saturating_sub(before))
                })
                .collect(),
        }
    }

    pub fn mean_ms(&self) -> f64 {
        self.sum * 1000.0 / self.count.max(1) as f64
    }

    /// The upper bound of the bucket the `p`-th percentile falls in, in ms.
    pub fn pct_bound_ms(&self, p: f64) -> f64 {
        let want = ((p / 100.0) * self.count as f64).ceil() as u64;
        self.buckets
            .iter()
            .find(|b| b.1 >= want.max(1))
            .map_or(f64::NAN, |b| b.0 * 1000.0)
    }
}

/// Commit and reload times as the server counts them.
#[derive(Debug, Clone, Default)]
pub struct Commits {
    /// `prepare_commit` (the indexing threads flush their segments) +
    /// fsync + `meta.json`.
    pub commit: Histogram,
    /// Reader reload (the commit becomes visible).
    pub reload: Histogram,
}

impl Commits {
    pub fn scrape(base: &str) -> Option<Commits> {
        let mut body = Vec::new();
        load::get(
            &load::agent(),
            &load::uri(&format!("{base}/metrics")),
            &mut body,
        )
        .ok()?;
        let text = String::from_utf8_lossy(&body);
        Some(Commits {
            commit: Histogram::parse(&text, "kontakt_index_commit_duration_seconds"),
            reload: Histogram::parse(&text, "kontakt_index_reload_duration_seconds"),
        })
    }

    pub fn since(&self, earlier: &Commits) -> Commits {
        Commits {
            commit: self.commit.since(&earlier.commit),
            reload: self.reload.since(&earlier.reload),
        }
    }
}

/// Segments, documents and deleted documents of the last commit of `index`.
pub fn segments(index: &Path) -> Option<(usize, u64, u64)> {
    let meta = read_json(&index.join("meta.json"))?;
    let segs = meta["segments"].as_array()?;
    let docs = segs.iter().filter_map(|s| s["max_doc"].as_u64()).sum();
    let deleted = segs
        .iter()
        .filter_map(|s| s["deletes"]["num_deleted_docs"].as_u64())
        .sum();
    Some((segs.len(), docs, deleted))
}

/// How long `fdatasync` takes in `dir`: `n` times 4 KiB appended and synced.
/// (p50, p99, max) in ms. A commit makes a few dozen of them.
pub fn fsync_probe(dir: &Path, n: usize) -> Option<(f64, f64, f64)> {
    use std::io::Write as _;
    let path = dir.join("fsync-probe");
    let mut file = File::create(&path).ok()?;
    let block = [0x5au8; 4096];
    let mut took = Vec::with_capacity(n);
    for _ in 0..n {
        file.write_all(&block).ok()?;
        let start = Instant::now();
        file.sync_data().ok()?;
        took.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    drop(file);
    let _ = fs::remove_file(&path);
    took.sort_by(f64::total_cmp);
    let at = |p: f64| took[(((p / 100.0) * n as f64).ceil() as usize).clamp(1, n) - 1];
    Some((at(50.0), at(99.0), *took.last()?))
}
