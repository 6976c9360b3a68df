//! Replication through an object store, with the primary and its replicas
//! as real `kontakt serve` processes: writes reach the replicas, the same
//! generation answers the same everywhere, a replica started late catches
//! up, retention keeps every file a kept generation needs, a restore
//! answers what its generation answered, SIGKILLs of the primary during
//! uploads never tear or roll back a replica, and of two primaries on one
//! prefix exactly one keeps writing.
//!
//! The store is a `file://` directory, or `KONTAKT_TEST_STORE`
//! (`s3://bucket`, with the AWS_* variables) plus a fresh prefix per test:
//! `.ci/run` runs these tests against a local S3-compatible server that way.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kontakt::replicate::Remote;
use kontakt::replicate::manifest::{self, Manifest};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const ADMIN: &str = "admin-secret";

use common::Server;

/// A store location of its own for one test.
struct Store {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

fn store(test: &str) -> Store {
    match std::env::var("KONTAKT_TEST_STORE") {
        Ok(base) if !base.is_empty() => Store {
            url: format!(
                "{}/{test}-{}-{}",
                base.trim_end_matches('/'),
                std::process::id(),
                rand::random::<u32>()
            ),
            _dir: None,
        },
        _ => {
            let dir = tempfile::tempdir().unwrap();
            Store {
                url: format!("file://{}", dir.path().display()),
                _dir: Some(dir),
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `kontakt serve` with `envs`; waits until `/ready` answers 200
/// (a replica listens only once bootstrapped).
fn start(index: &Path, envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontakt"));
    cmd.args(["serve", "--index"])
        .arg(index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .env("KONTAKT_ADMIN_KEYS", ADMIN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut server = Server {
        child: cmd.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok((200, _)) = call("GET", &format!("{}/ready", server.base), None) {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("kontakt serve exited with {status}");
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn primary(index: &Path, store: &Store, extra: &[(&str, &str)]) -> Server {
    let mut envs = vec![("KONTAKT_PUBLISH", store.url.as_str())];
    envs.extend_from_slice(extra);
    start(index, &envs)
}

fn replica(dir: &Path, store: &Store) -> Server {
    start(
        dir,
        &[
            ("KONTAKT_FOLLOW", store.url.as_str()),
            ("KONTAKT_FOLLOW_INTERVAL", "0.05"),
        ],
    )
}

fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into()
    })
}

/// One HTTP call with the admin key; status and JSON body (null when empty).
fn call(method: &str, url: &str, body: Option<&str>) -> Result<(u16, Value), ureq::Error> {
    let a = agent();
    let auth = format!("Bearer {ADMIN}");
    let mut resp = match method {
        "GET" => a.get(url).header("Authorization", &auth).call()?,
        "DELETE" => a.delete(url).header("Authorization", &auth).call()?,
        _ => a
            .put(url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/x-ndjson")
            .send(body.unwrap_or(""))?,
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url}: non-JSON {text:?}: {e}"))
    };
    Ok((status, json))
}

fn get(s: &Server, path: &str) -> (u16, Value) {
    call("GET", &format!("{}{path}", s.base), None).unwrap()
}

fn put(s: &Server, path: &str, body: &str) -> (u16, Value) {
    call("PUT", &format!("{}{path}", s.base), Some(body)).unwrap()
}

fn contact(id: u64, company: u64, name: &str, quality: u64) -> String {
    json!({"id": id, "company_id": company, "full_name": name, "source": "manual",
           "quality_score": quality % 101, "confidence": 0.5,
           "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    .to_string()
}

/// A fresh index from a small generated dataset.
fn fresh_index(dir: &Path) -> PathBuf {
    common::write_dataset(dir, 40, 300, 11);
    let index = dir.join("index");
    kontakt::ingest::build::build_index(
        &dir.join("companies.jsonl"),
        &dir.join("contacts.jsonl"),
        &index,
    )
    .unwrap();
    index
}

/// The generation a server serves or published, from `/ready`.
fn generation(s: &Server) -> Option<u64> {
    match get(s, "/ready") {
        (200, v) => v["replication"]["generation"].as_u64(),
        _ => None,
    }
}

/// Waits until every replica serves the primary's last published generation.
fn converge(primary: &Server, replicas: &[&Server]) -> u64 {
    let g = generation(primary).expect("the primary publishes");
    let deadline = Instant::now() + Duration::from_secs(60);
    for r in replicas {
        while generation(r).is_none_or(|rg| rg < g) {
            assert!(
                Instant::now() < deadline,
                "a replica did not reach generation {g}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(generation(r), Some(g), "a replica went past its primary");
    }
    g
}

/// Random searches over every kind of filter and sort, as the model check
/// makes them (the names come from the dataset and the writes).
fn random_queries(seed: u64, n: usize) -> Vec<String> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let words = [
        "anna", "jo", "berg", "repl", "zyx", "svens", "olle", "ek", "røed", "acme",
    ];
    let pick = |rng: &mut rand_chacha::ChaCha8Rng, list: &[&str]| {
        list[rng.gen_range(0..list.len())].to_owned()
    };
    (0..n)
        .map(|_| {
            let mut p: Vec<String> = Vec::new();
            if rng.gen_bool(0.5) {
                p.push(format!("q={}", common::enc(&pick(&mut rng, &words))));
            }
            if rng.gen_bool(0.3) {
                p.push(format!(
                    "country_code={}",
                    pick(&mut rng, &["SE", "NO", "FI", "DK", "IS"])
                ));
            }
            if rng.gen_bool(0.2) {
                p.push(format!("has_email={}", rng.gen_bool(0.5)));
            }
            if rng.gen_bool(0.3) {
                p.push(format!("min_quality_score={}", rng.gen_range(0..100)));
            }
            if rng.gen_bool(0.2) {
                p.push("verified=true".to_owned());
            }
            if rng.gen_bool(0.2) {
                p.push("exclude_stale=false".to_owned());
            }
            if rng.gen_bool(0.3) {
                p.push("facets=country_code,seniority_level".to_owned());
            }
            if rng.gen_bool(0.6) {
                let sort = pick(
                    &mut rng,
                    &["quality_score", "confidence", "created_at", "full_name"],
                );
                p.push(format!("sort_by={sort}"));
            }
            if rng.gen_bool(0.5) {
                p.push("sort_order=asc".to_owned());
            }
            p.push(format!("limit={}", rng.gen_range(1..60)));
            format!("/v1/contacts?{}", p.join("&"))
        })
        .collect()
}

/// What `s` answers to `queries` (each a full body), all of which must be 200.
fn answers(s: &Server, queries: &[String]) -> Vec<Value> {
    queries
        .iter()
        .map(|q| {
            let (status, body) = get(s, q);
            assert_eq!(status, 200, "{q}: {body}");
            body
        })
        .collect()
}

fn assert_same(label: &str, want: &[Value], got: &[Value], queries: &[String]) {
    for ((w, g), q) in want.iter().zip(got).zip(queries) {
        assert_eq!(w, g, "{label} answers {q} differently");
    }
}

/// Every manifest in the store, by generation.
fn manifests(remote: &Remote) -> BTreeMap<u64, Manifest> {
    manifest::list_generations(remote)
        .unwrap()
        .into_iter()
        .filter_map(|g| Some((g, manifest::read(remote, g).unwrap()?)))
        .collect()
}

#[test]
fn replicas_follow_the_primary_answer_alike_and_survive_retention() {
    let dir = tempfile::tempdir().unwrap();
    let store = store("follow");
    let index = fresh_index(dir.path());
    let p = primary(
        &index,
        &store,
        &[
            ("KONTAKT_DURABILITY", "remote"),
            ("KONTAKT_RETAIN_GENERATIONS", "3"),
            ("KONTAKT_RETAIN_GRACE_SECS", "0"),
        ],
    );
    let r1 = replica(&dir.path().join("replica1"), &store);
    let queries = random_queries(5, 120);

    // Writes, each acknowledged only once its generation is in the store.
    let mut r1_generations = Vec::new();
    for round in 0..8u64 {
        let body: Vec<String> = (0..25)
            .map(|i| {
                contact(
                    7_100_000 + round * 100 + i,
                    900_001 + i % 5,
                    &format!("Repl{round} Anna{i}"),
                    round * 7 + i,
                )
            })
            .collect();
        let (status, v) = put(&p, "/v1/contacts", &body.join("\n"));
        assert_eq!(status, 200, "{v}");
        // Read-your-writes on the primary.
        assert_eq!(
            get(&p, &format!("/v1/contacts/{}", 7_100_000 + round * 100)).0,
            200
        );
        let g = converge(&p, &[&r1]);
        r1_generations.push(g);
        let (status, v) = get(
            &r1,
            &format!("/v1/contacts/{}", 7_100_000 + round * 100 + 24),
        );
        assert_eq!(
            status, 200,
            "round {round}: the write reached the replica: {v}"
        );
    }
    assert!(
        r1_generations.windows(2).all(|w| w[0] < w[1]),
        "{r1_generations:?}"
    );
    // A company change and a delete travel too.
    let (status, v) = put(
        &p,
        "/v1/companies",
        r#"{"id": 900001, "name": "Acme Replicated AB", "country_code": "DK", "domain": "acme.se", "industry_ids": [1889]}"#,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        call("DELETE", &format!("{}/v1/contacts/7100000", p.base), None)
            .unwrap()
            .0,
        204
    );

    // A replica started late catches up from the newest generation alone
    // (retention dropped the first ones).
    let r2 = replica(&dir.path().join("replica2"), &store);
    let g = converge(&p, &[&r1, &r2]);
    assert_eq!(
        get(&r2, "/v1/contacts/7100000").0,
        404,
        "the delete reached the late replica"
    );
    assert_eq!(
        get(
            &r2,
            "/v1/contacts?company_id=900001&country_code=SE&limit=1"
        )
        .1["total"],
        0,
        "the company's move reached its contacts on the late replica"
    );
    assert!(
        get(
            &r2,
            "/v1/contacts?company_id=900001&country_code=DK&limit=1"
        )
        .1["total"]
            .as_u64()
            > Some(0)
    );

    // Same generation, same answers, on all three.
    let on_primary = answers(&p, &queries);
    assert!(on_primary.iter().any(|b| b["total"].as_u64() > Some(0)));
    assert_same("replica 1", &on_primary, &answers(&r1, &queries), &queries);
    assert_same("replica 2", &on_primary, &answers(&r2, &queries), &queries);

    // Replicas refuse writes, and say why.
    let (status, v) = put(&r1, "/v1/contacts", &contact(7_199_999, 900_001, "Nope", 1));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("read_only_replica")),
        "{v}"
    );
    let (status, v) = call("DELETE", &format!("{}/v1/contacts/7100001", r2.base), None).unwrap();
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("read_only_replica")),
        "{v}"
    );
    let (_, ready) = get(&r1, "/ready");
    assert_eq!(ready["replication"]["role"], "replica");
    assert_eq!(ready["replication"]["lag_generations"], 0);
    let metrics = agent()
        .get(&format!("{}/metrics", r2.base))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let fetched: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kontakt_replication_fetched_bytes_total "))
        .expect("the replica counts fetched bytes")
        .parse()
        .unwrap();
    assert!(fetched > 10_000, "{fetched}");
    assert!(
        metrics.contains(&format!("kontakt_replication_generation {g}")),
        "{metrics}"
    );

    // Retention: at most the newest 3 generations (and maybe one being
    // dropped), every file they name is in the store, and nothing else is.
    let remote = Remote::open(&store.url).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    // One more publish runs retention after the pause.
    assert_eq!(
        put(
            &p,
            "/v1/contacts",
            &contact(7_150_000, 900_003, "Retention Trigger", 3)
        )
        .0,
        200
    );
    let g = converge(&p, &[&r1, &r2]);
    // Retention runs after the answer: look until it is done, and at no
    // look may a kept generation lack a file. Files are listed before
    // manifests, so a manifest dropped in between cannot look torn.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let present: BTreeSet<String> = remote
            .list(manifest::FILES)
            .unwrap()
            .into_iter()
            .map(|l| l.key)
            .collect();
        let kept = manifests(&remote);
        let needed: BTreeSet<String> = kept
            .values()
            .flat_map(|m| m.files.iter().map(|f| f.key.clone()))
            .collect();
        let missing: Vec<_> = needed.difference(&present).collect();
        assert!(
            missing.is_empty(),
            "retention removed needed files: {missing:?}"
        );
        assert!(kept.contains_key(&g), "{:?}", kept.keys());
        let extra: Vec<_> = present.difference(&needed).collect();
        if kept.len() <= 3 && kept.keys().all(|k| *k + 3 > g) && extra.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "retention kept {:?} of generation {g}, and files no kept generation names: {extra:?}",
            kept.keys()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A restore of a kept generation answers what that generation answered.
    let at_g = answers(&r1, &queries);
    assert_eq!(
        put(
            &p,
            "/v1/contacts",
            &contact(7_150_001, 900_003, "After Restore Point", 3)
        )
        .0,
        200
    );
    converge(&p, &[&r1]);
    let restored = dir.path().join("restored");
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args([
            "restore",
            "--from",
            &store.url,
            "--generation",
            &g.to_string(),
            "--index",
        ])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = start(&restored, &[]);
    assert_same("the restore", &at_g, &answers(&served, &queries), &queries);
    assert_eq!(
        get(&served, "/v1/contacts/7150001").0,
        404,
        "the restore holds generation {g}, not later"
    );
    // A generation that is not kept is refused by name.
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args([
            "restore",
            "--from",
            &store.url,
            "--generation",
            "1",
            "--index",
        ])
        .arg(dir.path().join("restored-old"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("generation 1 is not in"),
        "{err}"
    );
}

#[test]
fn two_primaries_on_one_prefix_leave_exactly_one_writing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store("fence");
    let index = fresh_index(dir.path());
    // The same index twice, as two machines restored from one backup.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&index).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let a = primary(&index, &store, &[("KONTAKT_DURABILITY", "remote")]);
    let b = primary(&copy, &store, &[("KONTAKT_DURABILITY", "remote")]);
    let mut outcomes: Vec<(usize, u16, String)> = Vec::new();
    for i in 0..12u64 {
        for (n, s) in [&a, &b].into_iter().enumerate() {
            let (status, v) = put(
                s,
                "/v1/contacts",
                &contact(7_200_000 + i * 2 + n as u64, 900_002, "Fence Test", i),
            );
            outcomes.push((
                n,
                status,
                v["error"]["code"].as_str().unwrap_or("").to_owned(),
            ));
        }
    }
    let refused: BTreeSet<usize> = outcomes
        .iter()
        .filter(|o| o.1 != 200)
        .map(|o| o.0)
        .collect();
    assert_eq!(
        refused.len(),
        1,
        "exactly one primary is fenced: {outcomes:?}"
    );
    let loser = *refused.iter().next().unwrap();
    let first = outcomes
        .iter()
        .position(|o| o.0 == loser && o.1 != 200)
        .unwrap();
    for o in &outcomes[first..] {
        if o.0 == loser {
            assert_eq!((o.1, o.2.as_str()), (503, "not_primary"), "{outcomes:?}");
        } else {
            assert_eq!(o.1, 200, "the winner keeps writing: {outcomes:?}");
        }
    }
    let (fenced, winner) = if loser == 0 { (&a, &b) } else { (&b, &a) };
    // The fenced one still serves reads and says why it takes no writes.
    assert_eq!(get(fenced, "/v1/contacts?limit=1").0, 200);
    let (_, ready) = get(fenced, "/ready");
    assert!(
        ready["replication"]["fenced"]
            .as_str()
            .is_some_and(|w| w.contains("another primary") || w.contains("primary ")),
        "{ready}"
    );
    // Every generation in the store is the winner's after the race.
    let remote = Remote::open(&store.url).unwrap();
    let all = manifests(&remote);
    let last = all.values().next_back().unwrap();
    assert_eq!(generation(winner), Some(last.generation));
}

/// A batch of writer `w` at version `v`: all of its ids, so a replica
/// showing two versions among them shows a torn generation.
const IDS_PER_WRITER: u64 = 20;
const CRASH_COMPANY: u64 = 900_005;

fn writer_batch(w: u64, v: u64) -> String {
    (0..IDS_PER_WRITER)
        .map(|i| {
            contact(
                7_300_000 + w * 100 + i,
                CRASH_COMPANY,
                &format!("Crash W{w} V{v}"),
                v,
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writer -> the version all its ids show on `base`; panics on a torn batch.
fn versions(base: &str) -> Option<BTreeMap<u64, u64>> {
    let (status, body) = call(
        "GET",
        &format!("{base}/v1/contacts?company_id={CRASH_COMPANY}&q=crash&limit=100"),
        None,
    )
    .ok()?;
    if status != 200 {
        return None;
    }
    let mut by_writer: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    for c in body["data"].as_array().unwrap() {
        let id = c["id"].as_u64().unwrap();
        let name = c["full_name"].as_str().unwrap();
        let v: u64 = name.rsplit('V').next().unwrap().parse().unwrap();
        by_writer
            .entry((id - 7_300_000) / 100)
            .or_default()
            .insert(v);
    }
    Some(
        by_writer
            .into_iter()
            .map(|(w, vs)| {
                assert_eq!(
                    vs.len(),
                    1,
                    "{base}: writer {w} shows versions {vs:?} at once: a torn generation"
                );
                (w, *vs.iter().next().unwrap())
            })
            .collect(),
    )
}

#[test]
fn sigkills_of_the_primary_during_uploads_never_tear_or_roll_back_a_replica() {
    let kills: usize = std::env::var("REPLICATION_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let store = store("crash");
    let index = fresh_index(dir.path());
    let durable = [("KONTAKT_DURABILITY", "remote")];
    let p = Arc::new(Mutex::new(primary(&index, &store, &durable)));
    let base = Arc::new(Mutex::new(p.lock().unwrap().base.clone()));
    let replicas = [
        replica(&dir.path().join("r1"), &store),
        replica(&dir.path().join("r2"), &store),
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    // Writers: each rewrites all of its ids with a rising version.
    let writers: Vec<_> = (0..2u64)
        .map(|w| {
            let (base, stop, acks) = (base.clone(), stop.clone(), acks.clone());
            std::thread::spawn(move || {
                let mut last_acked = 0;
                let mut v = 0;
                while !stop.load(Ordering::Relaxed) {
                    v += 1;
                    let url = format!("{}/v1/contacts", base.lock().unwrap());
                    match call("PUT", &url, Some(&writer_batch(w, v))) {
                        Ok((200, _)) => {
                            last_acked = v;
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, body)) => panic!("writer {w}: {status} {body}"),
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
                last_acked
            })
        })
        .collect();
    // Watchers: a replica never shows a torn batch or goes back.
    let watchers: Vec<_> = replicas
        .iter()
        .map(|r| {
            let (base, stop) = (r.base.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
                let mut looks = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(now) = versions(&base) {
                        for (w, v) in &now {
                            let before = seen.get(w).copied().unwrap_or(0);
                            assert!(
                                *v >= before,
                                "{base}: writer {w} went back from V{before} to V{v}"
                            );
                        }
                        seen = now;
                        looks += 1;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                looks
            })
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..kills {
        common::after_a_few_answers(&acks, Duration::from_secs(30));
        // Uploads run all the time under these writers: a random moment
        // falls inside one most of the time.
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..100)));
        let mut s = p.lock().unwrap();
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        let next = primary(&index, &store, &durable);
        *base.lock().unwrap() = next.base.clone();
        *s = next;
    }
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, w) in watchers.into_iter().enumerate() {
        assert!(w.join().unwrap() > 10, "replica {i} was watched");
    }
    assert!(
        acked.iter().all(|v| *v > 0),
        "the writers made progress: {acked:?}"
    );
    // The primary's disk is lost: the newest manifest alone must hold every
    // acknowledged batch.
    {
        let mut s = p.lock().unwrap();
        s.child.kill().unwrap();
        s.child.wait().unwrap();
    }
    let restored = dir.path().join("restored");
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(["restore", "--from", &store.url, "--index"])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let served = start(&restored, &[]);
    let shown = versions(&served.base).unwrap();
    for (w, v) in acked.iter().enumerate() {
        let has = shown.get(&(w as u64)).copied().unwrap_or(0);
        assert!(
            has >= *v,
            "writer {w}: acknowledged V{v}, the newest manifest holds V{has}"
        );
    }
    // And the replicas reach that same newest generation.
    for r in &replicas {
        let deadline = Instant::now() + Duration::from_secs(60);
        while versions(&r.base) != Some(shown.clone()) {
            assert!(
                Instant::now() < deadline,
                "a replica did not reach the newest generation"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    eprintln!("replication crash test: {kills} kills, acknowledged versions {acked:?}");
}

#[test]
fn the_store_creates_an_object_only_if_it_is_absent() {
    // What fencing stands on: a store that overwrote here would let two
    // primaries publish the same generation.
    let store = store("create");
    let remote = Remote::open(&store.url).unwrap();
    let first = bytes::Bytes::from_static(b"first");
    assert!(remote.create("manifests/x.json", first.clone()).unwrap());
    assert!(
        !remote
            .create("manifests/x.json", bytes::Bytes::from_static(b"second"))
            .unwrap(),
        "{} does not enforce conditional puts: it is not safe for replication",
        store.url
    );
    assert_eq!(remote.get("manifests/x.json").unwrap(), Some(first));
    assert_eq!(remote.get("manifests/absent.json").unwrap(), None);
}
