//! Writes through the real binary: all-or-nothing batches, company changes
//! reaching their contacts, read-your-writes, keys, limits, graceful stop,
//! snapshots, and a crash test that SIGKILLs the server under concurrent
//! writers many times.

mod common;

use common::free_port;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const ADMIN: &str = "admin-secret";
const READ: &str = "read-secret";

use common::Server;

fn start(index: &Path, envs: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontakt"));
    cmd.args(["serve", "--index"])
        .arg(index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // For a failure to look into: the servers' logs, appended to a file.
    if let Some(path) = std::env::var_os("CRASH_LOG") {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        cmd.stderr(f).env(
            "RUST_LOG",
            std::env::var("CRASH_RUST_LOG").unwrap_or("info".into()),
        );
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = call("GET", &format!("{}/ready", server.base), None, None) {
            return server;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One HTTP call; status and JSON body (null when empty).
fn call(
    method: &str,
    url: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, Value), ureq::Error> {
    let a = agent();
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut resp = match method {
        "GET" => {
            let mut r = a.get(url);
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.call()?
        }
        "DELETE" => {
            let mut r = a.delete(url);
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.call()?
        }
        _ => {
            let mut r = a.put(url).header("Content-Type", "application/x-ndjson");
            if let Some(h) = &auth {
                r = r.header("Authorization", h);
            }
            r.send(body.unwrap_or(""))?
        }
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {url}: non-JSON {text:?}: {e}"))
    };
    Ok((status, json))
}

fn ok(method: &str, s: &Server, path: &str, body: Option<&str>) -> Value {
    let (status, v) = call(method, &format!("{}{path}", s.base), Some(ADMIN), body).unwrap();
    assert!(
        status == 200 || status == 204,
        "{method} {path}: {status} {v}"
    );
    v
}

fn contact(id: u64, company: u64, name: &str, quality: u8) -> String {
    json!({"id": id, "company_id": company, "full_name": name, "source": "manual",
           "quality_score": quality, "confidence": 0.5,
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

fn admin_env() -> Vec<(&'static str, &'static str)> {
    vec![("KONTAKT_ADMIN_KEYS", ADMIN), ("KONTAKT_READ_KEYS", READ)]
}

#[test]
fn batches_are_all_or_nothing_and_visible_once_answered() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&fresh_index(dir.path()), &admin_env());
    let before = ok("GET", &s, "/v1/contacts?limit=1", None)["total"].clone();

    // One bad line refuses the whole batch, listing every bad line.
    let body = [
        contact(7_000_001, 900_001, "Good Line", 50),
        "{not json".to_owned(),
        contact(7_000_002, 424_242, "Unknown Company", 50),
        contact(7_000_001, 900_001, "Duplicate Id", 50),
        json!({"id": 7_000_003, "company_id": 900_001, "full_name": "No Source", "quality_score": 5,
               "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
        .to_string(),
    ]
    .join("\n");
    let (status, v) = call(
        "PUT",
        &format!("{}/v1/contacts", s.base),
        Some(ADMIN),
        Some(&body),
    )
    .unwrap();
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "invalid_record");
    let lines: Vec<(u64, Value)> = v["error"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["field"].clone()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (2, Value::Null),
            (3, json!("company_id")),
            (4, json!("id")),
            (5, json!("source"))
        ]
    );
    assert_eq!(ok("GET", &s, "/v1/contacts?limit=1", None)["total"], before);
    let (status, _) = call(
        "GET",
        &format!("{}/v1/contacts/7000001", s.base),
        Some(READ),
        None,
    )
    .unwrap();
    assert_eq!(status, 404, "nothing of a refused batch is applied");

    // An unknown company alone is reported with its line.
    let body = [
        contact(7_000_001, 900_001, "Good Line", 50),
        contact(7_000_002, 424_242, "Unknown", 50),
    ]
    .join("\n");
    let (status, v) = call(
        "PUT",
        &format!("{}/v1/contacts", s.base),
        Some(ADMIN),
        Some(&body),
    )
    .unwrap();
    assert_eq!(
        (status, v["error"]["records"][0]["line"].as_u64()),
        (400, Some(2))
    );
    assert_eq!(
        call(
            "GET",
            &format!("{}/v1/contacts/7000001", s.base),
            None,
            None
        )
        .unwrap()
        .0,
        401
    );

    // A good batch: visible to the very next search.
    let body = [
        contact(7_000_001, 900_001, "Zyxa Qwerty", 50),
        contact(7_000_002, 900_002, "Zyxa Asdf", 60),
    ]
    .join("\n");
    assert_eq!(ok("PUT", &s, "/v1/contacts", Some(&body))["upserted"], 2);
    assert_eq!(ok("GET", &s, "/v1/contacts?q=zyxa", None)["total"], 2);
    // Upsert replaces.
    ok(
        "PUT",
        &s,
        "/v1/contacts",
        Some(&contact(7_000_001, 900_001, "Zyxa Renamed", 51)),
    );
    let v = ok(
        "GET",
        &s,
        "/v1/contacts?q=zyxa&sort_by=full_name&sort_order=asc",
        None,
    );
    assert_eq!(v["total"], 2);
    assert_eq!(v["data"][1]["full_name"], "Zyxa Renamed");

    // Companies: bad industry refused, country and industry changes reach
    // the contacts indexed before.
    let (status, v) = call(
        "PUT",
        &format!("{}/v1/companies", s.base),
        Some(ADMIN),
        Some(r#"{"id": 900001, "name": "Acme AB", "country_code": "SE", "industry_ids": [99999]}"#),
    )
    .unwrap();
    assert_eq!(
        (status, v["error"]["records"][0]["field"].as_str()),
        (400, Some("industry_ids"))
    );
    assert_eq!(
        ok("GET", &s, "/v1/contacts?q=zyxa+ren&country_code=SE", None)["total"],
        1
    );
    ok(
        "PUT",
        &s,
        "/v1/companies",
        Some(r#"{"id": 900001, "name": "Acme Oy", "country_code": "FI", "industry_ids": [2]}"#),
    );
    assert_eq!(
        ok("GET", &s, "/v1/contacts?q=zyxa+ren&country_code=SE", None)["total"],
        0
    );
    let v = ok(
        "GET",
        &s,
        "/v1/contacts?q=zyxa+ren&country_code=FI&industry_section=A&facets=country_code,industry_section",
        None,
    );
    assert_eq!(v["total"], 1);
    assert_eq!(v["facets"]["country_code"], json!({"FI": 1}));
    assert_eq!(v["facets"]["industry_section"], json!({"A": 1}));
    assert_eq!(v["data"][0]["company"]["name"], "Acme Oy");
    // The hand-made contacts of 900001 from the original build moved too.
    assert_eq!(
        ok(
            "GET",
            &s,
            "/v1/contacts?company_id=900001&country_code=SE",
            None
        )["total"],
        0
    );

    // Deletes.
    let delete = |path: &str| {
        let (status, v) = call("DELETE", &format!("{}{path}", s.base), Some(ADMIN), None).unwrap();
        (status, v["error"]["code"].as_str().map(str::to_owned))
    };
    assert_eq!(
        delete("/v1/companies/900001"),
        (409, Some("conflict".into()))
    );
    assert_eq!(delete("/v1/contacts/7000001"), (204, None));
    assert_eq!(
        delete("/v1/contacts/7000001"),
        (404, Some("not_found".into()))
    );
    assert_eq!(ok("GET", &s, "/v1/contacts?q=zyxa", None)["total"], 1);
    // Facet counts follow a delete, also those of a request counted before
    // (and kept): the deleted contact sits in a large segment of the build,
    // which no merge rewrites for one delete.
    let all = || ok("GET", &s, "/v1/contacts?facets=source&limit=1", None);
    let first = all();
    assert_eq!(all()["facets"], first["facets"]);
    let victim = &first["data"][0];
    let source = victim["source"].as_str().unwrap();
    let count = |v: &Value| v["facets"]["source"][source].as_u64().unwrap_or(0);
    assert_eq!(
        delete(&format!("/v1/contacts/{}", victim["id"])),
        (204, None)
    );
    assert_eq!(count(&all()), count(&first) - 1);
    ok(
        "PUT",
        &s,
        "/v1/companies",
        Some(r#"{"id": 123456, "name": "Empty AB", "country_code": "SE"}"#),
    );
    assert_eq!(delete("/v1/companies/123456"), (204, None));
    assert_eq!(
        delete("/v1/companies/123456"),
        (404, Some("not_found".into()))
    );
}

/// A batch of more than 1,000 records deletes its old versions by id sets,
/// a chunk at a time, rather than one delete per id: each id must still
/// end up exactly once, newest version, also when small writes of the same
/// ids share its commit.
#[test]
fn large_batches_replace_each_id_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&fresh_index(dir.path()), &admin_env());
    let total = |s: &Server, q: &str| {
        ok("GET", s, &format!("/v1/contacts?{q}&limit=1"), None)["total"]
            .as_u64()
            .unwrap()
    };
    let before = total(&s, "exclude_stale=false&exclude_speculative=false");
    let batch = |name: &str| {
        (0..2_500u64)
            .map(|i| contact(8_000_000 + i, 900_002, name, 50))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        ok("PUT", &s, "/v1/contacts", Some(&batch("Vexo Ante")))["upserted"],
        2_500
    );
    assert_eq!(total(&s, "q=vexo"), 2_500);
    // Rewritten in one batch: the old versions go, the new ones are there once.
    assert_eq!(
        ok("PUT", &s, "/v1/contacts", Some(&batch("Vexo Bris")))["upserted"],
        2_500
    );
    assert_eq!(total(&s, "q=vexo"), 2_500);
    assert_eq!(total(&s, "q=vexo+ante"), 0);
    assert_eq!(total(&s, "q=vexo+bris"), 2_500);
    // A large batch with one bad line at its end applies nothing.
    let bad = format!(
        "{}\n{}",
        batch("Vexo Cora"),
        contact(8_999_999, 424_242, "Vexo Cora", 50)
    );
    let (status, _) = call(
        "PUT",
        &format!("{}/v1/contacts", s.base),
        Some(ADMIN),
        Some(&bad),
    )
    .unwrap();
    assert_eq!(status, 400);
    assert_eq!(total(&s, "q=vexo+cora"), 0);
    assert_eq!(total(&s, "q=vexo+bris"), 2_500);
    // Small writes of the same ids racing a large rewrite: whichever comes
    // last wins, but every id is there once.
    let large = {
        let base = s.base.clone();
        let body = batch("Vexo Cora");
        std::thread::spawn(move || {
            call(
                "PUT",
                &format!("{base}/v1/contacts"),
                Some(ADMIN),
                Some(&body),
            )
            .unwrap()
            .0
        })
    };
    let small: Vec<_> = (0..4u64)
        .map(|w| {
            let base = s.base.clone();
            std::thread::spawn(move || {
                for i in 0..20u64 {
                    let body = contact(8_000_000 + w * 500 + i * 7, 900_002, "Vexo Dune", 50);
                    let (status, v) = call(
                        "PUT",
                        &format!("{base}/v1/contacts"),
                        Some(ADMIN),
                        Some(&body),
                    )
                    .unwrap();
                    assert_eq!(status, 200, "{v}");
                }
            })
        })
        .collect();
    assert_eq!(large.join().unwrap(), 200);
    for t in small {
        t.join().unwrap();
    }
    assert_eq!(total(&s, "q=vexo"), 2_500);
    assert_eq!(total(&s, "q=vexo+cora") + total(&s, "q=vexo+dune"), 2_500);
    assert_eq!(total(&s, "q=vexo+bris"), 0);
    assert_eq!(
        total(&s, "exclude_stale=false&exclude_speculative=false"),
        before + 2_500
    );
    // And after a restart (the deletes were committed, not only held).
    drop(s);
    let s = start(&dir.path().join("index"), &admin_env());
    assert_eq!(total(&s, "q=vexo"), 2_500);

    // A large companies batch (deleted by id sets too) that moves 900002:
    // its contacts are indexed again, once each.
    assert_eq!(total(&s, "q=vexo&country_code=DK"), 0);
    let companies: Vec<String> = std::iter::once(
        json!({"id": 900_002, "name": "Vexo Holding", "country_code": "DK"}).to_string(),
    )
    .chain((0..1_500u64).map(|i| {
        json!({"id": 950_000 + i, "name": format!("Filler {i}"), "country_code": "SE"}).to_string()
    }))
    .collect();
    assert_eq!(
        ok("PUT", &s, "/v1/companies", Some(&companies.join("\n")))["upserted"],
        1_501
    );
    assert_eq!(total(&s, "q=vexo"), 2_500);
    assert_eq!(total(&s, "q=vexo&country_code=DK"), 2_500);
    let v = ok("GET", &s, "/v1/contacts/8000000", None);
    assert_eq!(v["data"]["company"]["name"], "Vexo Holding");
}

#[test]
fn keys_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let index = fresh_index(dir.path());
    {
        let s = start(
            &index,
            &[
                ("KONTAKT_ADMIN_KEYS", ADMIN),
                ("KONTAKT_READ_KEYS", READ),
                ("KONTAKT_MAX_BODY_BYTES", "1000"),
            ],
        );
        let url = |p: &str| format!("{}{p}", s.base);
        let code = |r: (u16, Value)| (r.0, r.1["error"]["code"].as_str().map(str::to_owned));
        assert_eq!(
            code(call("GET", &url("/v1/contacts"), None, None).unwrap()),
            (401, Some("unauthorized".into()))
        );
        assert_eq!(
            call("GET", &url("/v1/contacts"), Some(READ), None)
                .unwrap()
                .0,
            200
        );
        assert_eq!(
            call("GET", &url("/v1/contacts"), Some(ADMIN), None)
                .unwrap()
                .0,
            200
        );
        assert_eq!(
            code(call("GET", &url("/v1/contacts"), Some("guess"), None).unwrap()),
            (401, Some("unauthorized".into()))
        );
        assert_eq!(call("GET", &url("/health"), None, None).unwrap().0, 200);
        let one = contact(7_100_001, 900_001, "Key Test", 5);
        assert_eq!(
            code(call("PUT", &url("/v1/contacts"), Some(READ), Some(&one)).unwrap()),
            (403, Some("forbidden".into()))
        );
        assert_eq!(
            code(call("PUT", &url("/v1/contacts"), None, Some(&one)).unwrap()),
            (401, Some("unauthorized".into()))
        );
        let big = vec![one.clone(); 10].join("\n");
        assert_eq!(
            code(call("PUT", &url("/v1/contacts"), Some(ADMIN), Some(&big)).unwrap()),
            (413, Some("payload_too_large".into()))
        );
        assert_eq!(
            call("PUT", &url("/v1/contacts"), Some(ADMIN), Some(&one))
                .unwrap()
                .0,
            200
        );
        // Keys never show up in answers.
        let (_, v) = call("GET", &url("/v1/contacts"), Some("guess-xyz"), None).unwrap();
        assert!(!v.to_string().contains("guess-xyz"));
    }
    // Open reads, no admin keys: writes are disabled, unknown keys refused.
    let s = start(&index, &[]);
    let (status, v) = call(
        "PUT",
        &format!("{}/v1/contacts", s.base),
        Some("x"),
        Some(""),
    )
    .unwrap();
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (403, Some("writes_disabled"))
    );
    assert_eq!(
        call("GET", &format!("{}/v1/contacts", s.base), None, None)
            .unwrap()
            .0,
        200
    );
    assert_eq!(
        call("GET", &format!("{}/v1/contacts", s.base), Some("x"), None)
            .unwrap()
            .0,
        401
    );
}

#[test]
fn sigterm_finishes_writes_in_flight_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let index = fresh_index(dir.path());
    let mut s = start(&index, &admin_env());
    let base = s.base.clone();
    let body: String = (0..2000)
        .map(|i| contact(7_200_000 + i, 900_002, "Term Test", 5))
        .collect::<Vec<_>>()
        .join("\n");
    let writer = std::thread::spawn(move || {
        call(
            "PUT",
            &format!("{base}/v1/contacts"),
            Some(ADMIN),
            Some(&body),
        )
    });
    std::thread::sleep(Duration::from_millis(30));
    Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    let answer = writer.join().unwrap();
    let status = s.child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    let acknowledged = matches!(answer, Ok((200, _)));
    drop(s);
    let s = start(&index, &admin_env());
    let found = ok("GET", &s, "/v1/contacts?q=term+test&limit=1", None)["total"]
        .as_u64()
        .unwrap();
    if acknowledged {
        assert_eq!(found, 2000);
    } else {
        assert!(found == 0 || found == 2000, "half a batch: {found}");
    }
}

#[test]
fn snapshot_while_writing_serves_a_consistent_commit() {
    let dir = tempfile::tempdir().unwrap();
    let index = fresh_index(dir.path());
    let s = start(&index, &admin_env());
    let stop = Arc::new(AtomicBool::new(false));
    let base = s.base.clone();
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut i = 0u64;
        while !stop2.load(Ordering::Relaxed) {
            let body: String = (0..50)
                .map(|k| contact(7_300_000 + i * 50 + k, 900_002, "Snap Batch", 5))
                .collect::<Vec<_>>()
                .join("\n");
            call(
                "PUT",
                &format!("{base}/v1/contacts"),
                Some(ADMIN),
                Some(&body),
            )
            .unwrap();
            i += 1;
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let snap = dir.path().join("snap");
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(["snapshot", "--index"])
        .arg(&index)
        .arg("--out")
        .arg(&snap)
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(s);
    let copy = start(&snap, &admin_env());
    let n = ok("GET", &copy, "/v1/contacts?q=snap+batch&limit=1", None)["total"]
        .as_u64()
        .unwrap();
    assert_eq!(n % 50, 0, "whole batches only: {n}");
    // The copy is a working index: it takes writes of its own.
    ok(
        "PUT",
        &copy,
        "/v1/contacts",
        Some(&contact(7_399_999, 900_002, "Snap Own", 5)),
    );
    assert_eq!(
        ok("GET", &copy, "/v1/contacts?q=snap+own", None)["total"],
        1
    );
}

/// What a writer thread knows of its own batches.
#[derive(Default)]
struct Ledger {
    /// (batch ids, version) of acknowledged writes, in order.
    acked: Vec<(Vec<u64>, u64)>,
    /// Batches sent without an answer (the server died): applied whole or not at all.
    unknown: Vec<(Vec<u64>, u64)>,
}

/// `CRASH_KILLS=N` kills more often; to look into a failure, `CRASH_DIR`
/// keeps the index there and `CRASH_LOG` collects the servers' logs (at
/// `CRASH_RUST_LOG`, default `info`).
#[test]
fn sigkill_under_concurrent_writers_loses_no_acknowledged_batch() {
    let kills: usize = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().unwrap();
    let root = std::env::var_os("CRASH_DIR")
        .map(PathBuf::from)
        .unwrap_or(dir.path().to_path_buf());
    std::fs::create_dir_all(&root).unwrap();
    let index = fresh_index(&root);
    let server = Arc::new(Mutex::new(start(&index, &admin_env())));
    let base = Arc::new(Mutex::new(server.lock().unwrap().base.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..3u64)
        .map(|w| {
            let base = base.clone();
            let stop = stop.clone();
            let acks = acks.clone();
            std::thread::spawn(move || {
                let mut ledger = Ledger::default();
                let mut rng = rand::rngs::StdRng::seed_from_u64(w);
                let mut version = 0;
                while !stop.load(Ordering::Relaxed) {
                    version += 1;
                    // Each writer owns 200 ids and rewrites random slices of them.
                    let start = rng.gen_range(0..150u64);
                    let ids: Vec<u64> = (start..start + rng.gen_range(1..50))
                        .map(|i| 8_000_000 + w * 1000 + i)
                        .collect();
                    let body = ids
                        .iter()
                        .map(|id| {
                            contact(
                                *id,
                                900_002,
                                &format!("Crash W{w} V{version}"),
                                (version % 100) as u8,
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                    let url = format!("{}/v1/contacts", base.lock().unwrap());
                    match call("PUT", &url, Some(ADMIN), Some(&body)) {
                        Ok((200, _)) => {
                            ledger.acked.push((ids, version));
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((status, v)) => panic!("unexpected {status} {v}"),
                        Err(_) => {
                            ledger.unknown.push((ids, version));
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                ledger
            })
        })
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for _ in 0..kills {
        // Kill while writes are flowing: after a few answers, at a random moment.
        common::after_a_few_answers(&acks, Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..150)));
        let mut s = server.lock().unwrap();
        s.child.kill().unwrap(); // SIGKILL
        s.child.wait().unwrap();
        let next = start(&index, &admin_env());
        *base.lock().unwrap() = next.base.clone();
        *s = next;
    }
    stop.store(true, Ordering::Relaxed);
    let ledgers: Vec<Ledger> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    // One last kill, then check from a fresh start.
    {
        let mut s = server.lock().unwrap();
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        *s = start(&index, &admin_env());
    }
    let s = server.lock().unwrap();
    let mut acked_total = 0;
    for (w, ledger) in ledgers.iter().enumerate() {
        acked_total += ledger.acked.len();
        // The versions each id may show: its last acknowledged write, or a
        // later write whose answer was lost.
        let mut allowed: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut events: Vec<(u64, &Vec<u64>, bool)> = ledger
            .acked
            .iter()
            .map(|(ids, v)| (*v, ids, true))
            .collect();
        events.extend(ledger.unknown.iter().map(|(ids, v)| (*v, ids, false)));
        events.sort_by_key(|e| e.0);
        for (v, ids, acked) in events {
            for id in ids {
                let versions = allowed.entry(*id).or_default();
                if acked {
                    versions.clear();
                }
                versions.push(v);
            }
        }
        let mut shown: HashMap<u64, u64> = HashMap::new();
        for (id, versions) in &allowed {
            let (status, body) = call(
                "GET",
                &format!("{}/v1/contacts/{id}", s.base),
                Some(ADMIN),
                None,
            )
            .unwrap();
            let acked_before = ledger.acked.iter().any(|(ids, _)| ids.contains(id));
            if status == 404 {
                assert!(!acked_before, "writer {w}: acknowledged id {id} is gone");
                continue;
            }
            let name = body["data"]["full_name"].as_str().unwrap().to_owned();
            let v: u64 = name.rsplit('V').next().unwrap().parse().unwrap();
            assert!(
                versions.contains(&v),
                "writer {w}: id {id} shows V{v}, allowed {versions:?}"
            );
            shown.insert(*id, v);
        }
        // No half batch: a batch is visible on all of its ids that no later
        // write replaced, or on none.
        for (ids, v) in ledger.unknown.iter().chain(&ledger.acked) {
            let visible = ids.iter().filter(|id| shown.get(id) == Some(v)).count();
            let replaced = ids
                .iter()
                .filter(|id| shown.get(id).is_some_and(|x| x > v))
                .count();
            assert!(
                visible == 0 || visible + replaced == ids.len(),
                "writer {w} V{v}: {visible} of {} ids visible, {replaced} replaced later",
                ids.len()
            );
        }
    }
    assert!(
        acked_total > kills,
        "the writers made progress: {acked_total} batches"
    );
    eprintln!("crash test: {kills} kills, {acked_total} acknowledged batches verified");
}

#[test]
fn a_kept_first_page_never_answers_a_larger_page() {
    let dir = tempfile::tempdir().unwrap();
    let index = fresh_index(dir.path());
    let s = start(&index, &admin_env());
    // One batch is one new segment, so that segment holds every match: a
    // page kept for a small `limit` holds fewer of them than a larger page
    // needs from it.
    let body: Vec<String> = (0..30u8)
        .map(|i| contact(7_100_000 + u64::from(i), 900_001, "Zyxqvist Person", 40 + i))
        .collect();
    assert_eq!(
        ok("PUT", &s, "/v1/contacts", Some(&body.join("\n")))["upserted"],
        30
    );
    let ids = |limit: usize| -> Vec<u64> {
        let page = ok(
            "GET",
            &s,
            &format!("/v1/contacts?q=zyxqvist&limit={limit}"),
            None,
        );
        assert_eq!(page["total"], 30);
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect()
    };
    let small = ids(3);
    // Best quality first: the last ids of the batch.
    assert_eq!(small, [7_100_029, 7_100_028, 7_100_027]);
    let large = ids(20);
    assert_eq!(large, (7_100_010..7_100_030).rev().collect::<Vec<_>>());
    // And again, now that both pages are kept.
    assert_eq!(ids(3), small);
    assert_eq!(ids(20), large);
}
