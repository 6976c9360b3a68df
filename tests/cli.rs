//! The command line as a newcomer meets it: `kontakt serve` from an empty
//! directory, a second server on an index in use, a bad flag, an index
//! exported with its writes and built again, and `--help` for every
//! subcommand. Runs the real binary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `kontakt ARGS` run in `cwd` with no `KONTAKT_*` settings, stderr to `log`.
fn kontakt(cwd: &Path, args: &[&str], log: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontakt"));
    cmd.current_dir(cwd)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    for (k, _) in std::env::vars() {
        if k.starts_with("KONTAKT_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn wait_ready(child: &mut Child, base: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "server exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(resp) = ureq::get(&format!("{base}/ready")).call()
            && resp.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn serve_in_an_empty_directory_serves_the_sample_built_into_the_binary() {
    let cwd = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let base = format!("http://{bind}");
    let log = cwd.path().join("first.log");
    let mut first = Running(
        kontakt(cwd.path(), &["serve", "--bind", &bind], &log)
            .spawn()
            .unwrap(),
    );
    wait_ready(&mut first.0, &base, &log);
    assert!(cwd.path().join("data/index/meta.json").is_file());

    // Every record of the checked-in sample is there, and record 1 is its
    // first line, field for field.
    let (status, all) = common::get_url(&format!(
        "{base}/v1/contacts?exclude_stale=false&exclude_speculative=false&limit=1"
    ));
    assert_eq!(status, 200);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let lines = std::fs::read_to_string(fixtures.join("contacts.jsonl")).unwrap();
    assert_eq!(all["total"].as_u64().unwrap(), lines.lines().count() as u64);
    let first_line: serde_json::Value =
        serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    let (status, one) = common::get_url(&format!("{base}/v1/contacts/1"));
    assert_eq!(status, 200);
    assert_eq!(one["data"]["full_name"], first_line["full_name"]);
    assert_eq!(one["data"]["company_id"], first_line["company_id"]);
    assert_eq!(one["data"]["created_at"], first_line["created_at"]);

    // Logs written to a file carry no terminal colour codes.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("search caches warmed"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text:?}"
    );

    // A second server on the same index says which directory is in use and
    // why, and exits non-zero.
    let second_log = cwd.path().join("second.log");
    let second_bind = format!("127.0.0.1:{}", free_port());
    let status = kontakt(cwd.path(), &["serve", "--bind", &second_bind], &second_log)
        .status()
        .unwrap();
    assert!(!status.success());
    let text = std::fs::read_to_string(&second_log).unwrap();
    assert!(
        text.contains("data/index is in use: another kontakt process is serving it"),
        "{text}"
    );
    assert!(!text.contains("LockBusy"), "{text}");

    // The first one still serves.
    let (status, _) = common::get_url(&format!("{base}/v1/contacts/1"));
    assert_eq!(status, 200);
}

#[test]
fn bad_settings_are_refused_before_any_index_is_built() {
    for (args, says) in [
        (&["--bind", "nonsense"][..], "binding nonsense"),
        (
            &["--publish", "nonsense://x"][..],
            "opening the store nonsense://x",
        ),
        (&["--follow", "ftp://x"][..], "opening the store ftp://x"),
        (
            &["--max-lag=-1"][..],
            "--max-lag must be a number of seconds",
        ),
        (
            &["--durability", "remote"][..],
            "--durability remote needs --publish",
        ),
    ] {
        let cwd = tempfile::tempdir().unwrap();
        let log = cwd.path().join("serve.log");
        let mut argv = vec!["serve"];
        argv.extend_from_slice(args);
        let status = kontakt(cwd.path(), &argv, &log).status().unwrap();
        assert!(!status.success(), "{args:?}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains(says), "{args:?}: {text}");
        assert!(
            !cwd.path().join("data").exists(),
            "{args:?}: work was done: {text}"
        );
    }
}

/// The option lines of `kontakt SUB --help`, each with the text that
/// describes it (clap puts it on the same line, or on the lines below
/// when it is long).
fn options_with_help(sub: &str) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(sub.split(' '))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let section = text
        .split("Options:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no options in {sub} --help:\n{text}"));
    let mut options: Vec<(String, String)> = Vec::new();
    for line in section.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') {
            // "  --flag <V>  text" or "  -h, --help  text"
            let (flag, text) = match trimmed.find("  ") {
                Some(at) => (&trimmed[..at], trimmed[at..].trim()),
                None => (trimmed, ""),
            };
            options.push((flag.to_owned(), text.to_owned()));
        } else if let Some(last) = options.last_mut() {
            last.1.push_str(trimmed);
        }
    }
    options
}

#[test]
fn every_option_of_every_subcommand_is_described_in_its_help() {
    for sub in [
        "serve",
        "index",
        "generate",
        "export",
        "snapshot",
        "restore",
        "key scope",
    ] {
        let options = options_with_help(sub);
        assert!(options.len() >= 3, "{sub}: {options:?}");
        for (flag, text) in options {
            if flag.contains("--help") {
                continue; // clap's own
            }
            // What is left once "[env: …]" and "[default: …]" are removed.
            let words = text.split(" [").next().unwrap_or_default();
            assert!(
                words.len() > 10,
                "kontakt {sub} --help does not describe {flag}"
            );
        }
    }
}

#[test]
fn an_exported_index_builds_again_with_its_writes() {
    let cwd = tempfile::tempdir().unwrap();
    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    let log = cwd.path().join("serve.log");
    let mut server = Running(
        kontakt(
            cwd.path(),
            &[
                "serve",
                "--bind",
                &bind,
                "--admin-keys",
                "admin-key-for-tests",
            ],
            &log,
        )
        .spawn()
        .unwrap(),
    );
    wait_ready(&mut server.0, &base, &log);

    // A write after the build: contact 1 renamed, contact 2 deleted.
    let (_, one) = common::get_url(&format!("{base}/v1/contacts/1"));
    let mut changed = one["data"].clone();
    changed.as_object_mut().unwrap().remove("company");
    changed["full_name"] = "Exporta Testsson".into();
    let auth = "Bearer admin-key-for-tests";
    let put = ureq::put(&format!("{base}/v1/contacts"))
        .header("Authorization", auth)
        .header("Content-Type", "application/x-ndjson")
        .send(changed.to_string())
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let del = ureq::delete(&format!("{base}/v1/contacts/2"))
        .header("Authorization", auth)
        .call()
        .unwrap();
    assert_eq!(del.status().as_u16(), 204);
    let (_, before) = common::get_url(&format!(
        "{base}/v1/contacts?exclude_stale=false&exclude_speculative=false&limit=1"
    ));
    drop(server);

    let export_log = cwd.path().join("export.log");
    let status = kontakt(
        cwd.path(),
        &["export", "--index", "data/index", "--out", "exported"],
        &export_log,
    )
    .status()
    .unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&export_log).unwrap()
    );
    let index_log = cwd.path().join("index.log");
    let status = kontakt(
        cwd.path(),
        &[
            "index",
            "--companies",
            "exported/companies.jsonl",
            "--contacts",
            "exported/contacts.jsonl",
            "--index",
            "rebuilt",
        ],
        &index_log,
    )
    .status()
    .unwrap();
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&index_log).unwrap()
    );

    let bind = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{bind}");
    let log = cwd.path().join("rebuilt.log");
    let mut server = Running(
        kontakt(
            cwd.path(),
            &["serve", "--bind", &bind, "--index", "rebuilt"],
            &log,
        )
        .spawn()
        .unwrap(),
    );
    wait_ready(&mut server.0, &base, &log);
    let (_, after) = common::get_url(&format!(
        "{base}/v1/contacts?exclude_stale=false&exclude_speculative=false&limit=1"
    ));
    assert_eq!(after["total"], before["total"]);
    let (status, one) = common::get_url(&format!("{base}/v1/contacts/1"));
    assert_eq!(status, 200);
    assert_eq!(one["data"]["full_name"], "Exporta Testsson");
    let (status, _) = common::get_url(&format!("{base}/v1/contacts/2"));
    assert_eq!(status, 404);
}
