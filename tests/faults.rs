//! Faults a production box meets, through the real binary: a full disk (a
//! small tmpfs filled to the last byte), index files that rotted on disk,
//! and a stored record that can no longer be read under a running server.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ADMIN: &str = "admin-faults";

use common::Server;

/// Serves `index` with writes on; the log goes to `log`.
fn start(index: &Path, log: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(["serve", "--index"])
        .arg(index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .env("KONTAKT_ADMIN_KEYS", ADMIN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!(
                "server exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok((200, _)) = call("GET", &format!("{}/ready", server.base), None) {
            return server;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP call with the admin key; status and body (JSON, or the text
/// as a JSON string).
fn call(method: &str, url: &str, body: Option<&str>) -> Result<(u16, Value), ureq::Error> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let auth = format!("Bearer {ADMIN}");
    let mut resp = match method {
        "GET" => agent.get(url).header("Authorization", &auth).call()?,
        _ => agent
            .put(url)
            .header("Authorization", &auth)
            .send(body.unwrap_or(""))?,
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string()?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn contact(id: u64, name: &str) -> String {
    json!({"id": id, "company_id": 900001, "full_name": name, "source": "manual",
           "job_title": "x".repeat(200), "quality_score": 50, "confidence": 0.5,
           "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    .to_string()
}

/// A small index from the generated dataset plus the hand-made records.
fn build(data: &Path, index: &Path) {
    common::write_dataset(data, 40, 300, 3);
    kontakt::ingest::build::build_index(
        &data.join("companies.jsonl"),
        &data.join("contacts.jsonl"),
        index,
    )
    .unwrap();
}

/// A tmpfs of `size` mounted on a new directory; unmounted when dropped.
struct SmallFs {
    dir: tempfile::TempDir,
    /// Mounted through sudo, so unmounted the same way.
    sudo: bool,
}

impl SmallFs {
    /// `None` (with the reason printed) where mounting is impossible, except
    /// in CI, where it fails the test.
    fn mount(size: &str) -> Option<SmallFs> {
        let dir = tempfile::tempdir().unwrap();
        let mount = |sudo: bool| {
            let mut cmd = Command::new(if sudo { "sudo" } else { "mount" });
            if sudo {
                cmd.args(["-n", "mount"]);
            }
            cmd.args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=1777"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
        };
        // Not root: a password-less sudo will do.
        let mut why = String::new();
        for sudo in [false, true] {
            match mount(sudo) {
                Ok(o) if o.status.success() => return Some(SmallFs { dir, sudo }),
                Ok(o) => why.push_str(&String::from_utf8_lossy(&o.stderr)),
                Err(e) => why.push_str(&format!("{e}; ")),
            }
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must run the full-disk test (as root): mounting a tmpfs failed: {why}"
        );
        eprintln!("skipping the full-disk test: mounting a tmpfs failed (needs root): {why}");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free_bytes(&self) -> u64 {
        let path = std::ffi::CString::new(self.path().as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string and a statvfs the call fills.
        unsafe {
            let mut st: libc::statvfs = std::mem::zeroed();
            assert_eq!(libc::statvfs(path.as_ptr(), &mut st), 0);
            st.f_bavail as u64 * st.f_frsize as u64
        }
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let mut cmd = Command::new(if self.sudo { "sudo" } else { "umount" });
        if self.sudo {
            cmd.args(["-n", "umount"]);
        }
        let _ = cmd.arg(self.dir.path()).status();
    }
}

/// Handles the process holds on deleted files under `dir`.
fn deleted_handles(pid: u32, dir: &Path) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|t| t.to_string_lossy().into_owned())
        .filter(|t| t.starts_with(&*dir.to_string_lossy()) && t.ends_with(" (deleted)"))
        .collect()
}

/// Writes to `file` until the file system has no byte left.
fn fill(file: &Path) {
    let mut f = std::fs::File::create(file).unwrap();
    let chunk = vec![7u8; 4096];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the disk: {e}"),
        }
    }
    // The last partial page too.
    while f.write(&[7u8]).is_ok_and(|n| n == 1) {}
}

#[test]
fn a_full_disk_refuses_writes_with_507_until_space_is_back_and_loses_nothing_acknowledged() {
    let Some(fs) = SmallFs::mount("24m") else {
        return;
    };
    let outside = tempfile::tempdir().unwrap();
    let index = fs.path().join("index");
    build(outside.path(), &index);
    let log = outside.path().join("server.log");
    let server = start(&index, &log);
    let url = |p: &str| format!("{}{p}", server.base);
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut refused: Vec<u64> = Vec::new();
    let mut next_id = 8_000_000u64;
    let mut batch = |n: usize, tag: &str| -> (Vec<(u64, String)>, String) {
        let rows: Vec<(u64, String)> = (0..n)
            .map(|i| {
                next_id += 1;
                (next_id, format!("{tag} {i}"))
            })
            .collect();
        let body = rows
            .iter()
            .map(|(id, name)| contact(*id, name))
            .collect::<Vec<_>>()
            .join("\n");
        (rows, body)
    };

    let (rows, body) = batch(50, "Before Full");
    let (status, v) = call("PUT", &url("/v1/contacts"), Some(&body)).unwrap();
    assert_eq!(status, 200, "{v}");
    acked.extend(rows);

    let free_before = fs.free_bytes();
    let filler = fs.path().join("filler");
    fill(&filler);
    for round in 0..6 {
        let (rows, body) = batch(40 + round * 20, "Refused Write");
        let (status, v) = call("PUT", &url("/v1/contacts"), Some(&body)).unwrap();
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (507, Some("insufficient_storage")),
            "write {round} on a full disk: {v}"
        );
        refused.extend(rows.iter().map(|(id, _)| *id));
        // Not applied, not even in part.
        let (status, _) = call("GET", &url(&format!("/v1/contacts/{}", rows[0].0)), None).unwrap();
        assert_eq!(status, 404);
    }
    // A full disk is not a broken one: still ready, not fenced; the
    // failures are counted.
    let (status, v) = call("GET", &url("/ready"), None).unwrap();
    assert_eq!(status, 200, "{v}");
    let (_, metrics) = call("GET", &url("/metrics"), None).unwrap();
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(
        metrics.contains("kontakt_index_writes_fenced 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("kontakt_index_failed_commits_total{reason=\"insufficient_storage\"} 6"),
        "{metrics}"
    );
    // Every handle and byte the failed writes took is released.
    let held = deleted_handles(server.child.id(), fs.path());
    assert!(held.is_empty(), "handles to deleted files: {held:?}");
    std::fs::remove_file(&filler).unwrap();
    let free_after = fs.free_bytes();
    assert!(
        free_after + (64 << 10) >= free_before,
        "the failed writes kept {} bytes",
        free_before - free_after
    );

    // Space is back: writes succeed without a restart.
    for round in 0..3 {
        let (rows, body) = batch(30, &format!("After Full {round}"));
        let (status, v) = call("PUT", &url("/v1/contacts"), Some(&body)).unwrap();
        assert_eq!(status, 200, "{v}");
        acked.extend(rows);
    }
    drop(server);

    // After a restart: everything acknowledged, nothing refused.
    let server = start(&index, &log);
    for (id, name) in &acked {
        let (status, v) = call("GET", &format!("{}/v1/contacts/{id}", server.base), None).unwrap();
        assert_eq!(
            (status, v["data"]["full_name"].as_str()),
            (200, Some(name.as_str()))
        );
    }
    for id in &refused {
        let (status, _) = call("GET", &format!("{}/v1/contacts/{id}", server.base), None).unwrap();
        assert_eq!(status, 404, "refused contact {id} is in the index");
    }
    drop(server);
}

/// A copy of the index in `src` in a new temporary directory.
fn copy_index(src: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// Inverts a few bytes in the middle of `file`.
/// Where in a file (given its bytes) to damage it.
type Place = fn(&[u8]) -> usize;

/// Flips the bytes around `at(file's bytes)`.
fn flip_at(file: &Path, at: Place) {
    let mut bytes = std::fs::read(file).unwrap();
    let (mid, len) = (at(&bytes), bytes.len());
    for b in &mut bytes[mid.saturating_sub(2)..(mid + 2).min(len)] {
        *b ^= 0xff;
    }
    std::fs::write(file, bytes).unwrap();
}

/// Runs the binary with `args`; its exit status and stderr. Fails the test
/// if it is still running after a minute (it served the damaged index).
fn run(args: &[&str]) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let err = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kontakt {args:?} kept running: {}",
                std::fs::read_to_string(&err).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, std::fs::read_to_string(&err).unwrap())
}

#[test]
fn a_flipped_byte_in_any_index_file_is_refused_by_name_never_served() {
    let data = tempfile::tempdir().unwrap();
    let index = data.path().join("index");
    build(data.path(), &index);
    // A committed delete, so the index has a delete file too.
    {
        let schema = kontakt::index::IndexSchema::declared().unwrap();
        let idx = kontakt::index::open(&index, &schema).unwrap();
        let mut writer: tantivy::IndexWriter = idx.writer(15_000_000).unwrap();
        writer.delete_term(tantivy::Term::from_field_u64(schema.fields.id, 9_000_001));
        let mut prepared = writer.prepare_commit().unwrap();
        prepared.set_payload(&kontakt::index::CommitPayload::current(&schema));
        prepared.commit().unwrap();
        writer.wait_merging_threads().unwrap();
    }
    // The largest file of each kind.
    let mut kinds: BTreeMap<String, (u64, PathBuf)> = BTreeMap::new();
    for entry in std::fs::read_dir(&index).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let kind = match name.rsplit_once('.') {
            Some((_, ext)) if name.len() > 33 && name.as_bytes()[32] == b'.' => ext.to_owned(),
            _ if name == "meta.json" => name.clone(),
            _ => continue,
        };
        let len = std::fs::metadata(&path).unwrap().len();
        if kinds.get(&kind).is_none_or(|(l, _)| len > *l) {
            kinds.insert(kind, (len, path));
        }
    }
    for kind in [
        "idx",
        "pos",
        "term",
        "store",
        "fast",
        "fieldnorm",
        "del",
        "meta.json",
    ] {
        assert!(kinds.contains_key(kind), "no {kind} file in {kinds:?}");
    }
    // In the middle of each file, and in the footer of each segment file
    // (Tantivy's version and checksum, as JSON before the last 8 bytes),
    // where a flip can fail Tantivy's own opening before any checksum.
    let places: [(&str, Place); 3] = [
        ("middle", |bytes| bytes.len() / 2),
        ("footer version", |bytes| {
            let n = bytes.len();
            let json = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
            let footer = &bytes[n - 8 - json..n - 8];
            // Inside the key `"minor"`: bytes no UTF-8 string may hold.
            let key = footer
                .windows(7)
                .position(|w| w == b"\"minor\"")
                .expect("the footer's version has a minor");
            n - 8 - json + key + 3
        }),
        ("footer checksum", |bytes| bytes.len() - 14),
    ];
    for ((kind, (_, file)), (place, at)) in kinds
        .iter()
        .flat_map(|k| places.iter().map(move |p| (k, *p)))
        .filter(|((kind, _), (place, _))| kind.as_str() != "meta.json" || *place == "middle")
    {
        let kind = format!("{kind} ({place})");
        let copy = copy_index(&index);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        flip_at(&copy.path().join(&name), at);
        let dir = copy.path().to_str().unwrap();
        let (status, err) = run(&["serve", "--index", dir, "--bind", "127.0.0.1:0"]);
        assert!(!status.success(), "{kind}: served a damaged index");
        assert!(
            err.contains(&name),
            "{kind}: the error does not name {name}: {err}"
        );
        if !kind.starts_with("meta.json") {
            assert!(
                err.contains("kontakt snapshot") && err.contains("kontakt index"),
                "{kind}: no way out in {err}"
            );
            // A snapshot of it is refused the same way and leaves nothing.
            let out = copy.path().with_extension("snapshot");
            let (status, err) = run(&["snapshot", "--index", dir, "--out", out.to_str().unwrap()]);
            assert!(!status.success(), "{kind}: snapshot copied a damaged index");
            assert!(err.contains(&name), "{kind}: snapshot error: {err}");
            assert!(!out.exists(), "{kind}: the damaged copy was left");
        }
    }
    // meta.json still valid JSON, but not what the files hold.
    for (what, key) in [
        ("documents", "max_doc"),
        ("live documents", "num_deleted_docs"),
    ] {
        let copy = copy_index(&index);
        let meta_path = copy.path().join("meta.json");
        let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        let segment = meta["segments"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| key == "max_doc" || s["deletes"].is_object())
            .unwrap();
        let field = if key == "max_doc" {
            &mut segment["max_doc"]
        } else {
            &mut segment["deletes"]["num_deleted_docs"]
        };
        *field = json!(field.as_u64().unwrap() + 1);
        std::fs::write(&meta_path, meta.to_string()).unwrap();
        let (status, err) = run(&[
            "serve",
            "--index",
            copy.path().to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ]);
        assert!(
            !status.success(),
            "{key}: served a meta.json that disagrees with its files"
        );
        assert!(
            err.contains("meta.json") && err.contains(what),
            "{key}: {err}"
        );
    }
    // The undamaged index snapshots and the copy is checked and served.
    let out = data.path().join("snapshot");
    let (status, err) = run(&[
        "snapshot",
        "--index",
        index.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(status.success(), "{err}");
    assert!(kontakt::search::SearchService::open(&out).is_ok());
}

#[test]
fn a_stored_record_that_rots_under_a_running_server_is_an_error_never_a_wrong_answer() {
    let data = tempfile::tempdir().unwrap();
    let index = data.path().join("index");
    build(data.path(), &index);
    let expected: BTreeMap<u64, String> =
        std::fs::read_to_string(data.path().join("contacts.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["id"].as_u64().unwrap(),
                    v["full_name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    let search = Arc::new(kontakt::search::SearchService::open(&index).unwrap());
    let base = common::serve(Arc::new(kontakt::http::AppState::read_only(search)));
    // Zeros over the first half of every store file (its compressed
    // blocks), written in place: the server's memory map sees them.
    for entry in std::fs::read_dir(&index).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "store") {
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            std::os::unix::fs::FileExt::write_all_at(&f, &vec![0u8; len / 2], 0).unwrap();
        }
    }
    let mut failed = 0;
    for (id, name) in &expected {
        let (status, v) = common::get_at(&base, &format!("/v1/contacts/{id}"));
        match status {
            200 => assert_eq!(v["data"]["full_name"].as_str(), Some(name.as_str())),
            500 => {
                assert_eq!(v["error"]["code"], "index_corrupt", "{v}");
                failed += 1;
            }
            _ => panic!("contact {id}: {status} {v}"),
        }
    }
    assert!(failed > 0, "no read failed: the damage missed the records");
    let (status, v) = common::get_at(&base, "/v1/contacts?limit=100");
    assert!(
        status == 500 && v["error"]["code"] == "index_corrupt",
        "{status} {v}"
    );
    let metrics = ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let counted: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("kontakt_index_unreadable_records_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(counted >= failed as u64, "{metrics}");
}

#[test]
fn after_a_failed_fsync_writes_are_refused_and_ready_and_metrics_say_why() {
    let data = tempfile::tempdir().unwrap();
    let index = data.path().join("index");
    build(data.path(), &index);
    let search = Arc::new(kontakt::search::SearchService::open(&index).unwrap());
    let (writes, _writer) = kontakt::write::WriteService::start(search.clone()).unwrap();
    let state = kontakt::http::AppState {
        search: search.clone(),
        writes: Some(writes),
        keys: kontakt::http::Keys::new("", ADMIN),
        max_body_bytes: kontakt::http::DEFAULT_MAX_BODY_BYTES,
        replication: None,
    };
    let base = common::serve(Arc::new(state));
    let put = |id: u64| {
        call(
            "PUT",
            &format!("{base}/v1/contacts"),
            Some(&contact(id, "Fenced Test")),
        )
        .unwrap()
    };
    assert_eq!(put(8_100_001).0, 200);

    search.storage.simulate_failed_fsync("a segment file");
    let (status, v) = put(8_100_002);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("storage_failed")),
        "{v}"
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("restart"),
        "{v}"
    );
    let (status, v) = call("GET", &format!("{base}/ready"), None).unwrap();
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("storage_failed")),
        "{v}"
    );
    let (_, metrics) = call("GET", &format!("{base}/metrics"), None).unwrap();
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("kontakt_index_writes_fenced 1"),
        "{metrics}"
    );
    // Reads go on; the refused write is not there, the acknowledged one is.
    assert_eq!(common::get_at(&base, "/v1/contacts/8100001").0, 200);
    assert_eq!(common::get_at(&base, "/v1/contacts/8100002").0, 404);
}
