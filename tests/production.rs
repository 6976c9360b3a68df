//! The production surface through the real binary (docs/api.md, Access): keys,
//! rate limits, CORS, the OpenAPI document, metrics, request logs and
//! timeouts. Requests go over raw HTTP/1.1 so every header is visible and
//! nothing is added or normalized by a client library.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ADMIN: &str = "admin-key-7f3a";
const READ: &str = "read-key-91c2";

struct Server {
    child: Child,
    addr: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A fresh small index served by the binary with these flags and variables.
fn start(args: &[&str], envs: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    common::write_dataset(dir.path(), 30, 200, 5);
    let index = dir.path().join("index");
    kontakt::ingest::build::build_index(
        &dir.path().join("companies.jsonl"),
        &dir.path().join("contacts.jsonl"),
        &index,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = dir.path().join("server.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontakt"));
    cmd.arg("serve")
        .arg("--index")
        .arg(&index)
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for var in [
        "KONTAKT_READ_KEYS",
        "KONTAKT_ADMIN_KEYS",
        "KONTAKT_RATE_LIMIT",
        "KONTAKT_CORS_ORIGINS",
        "KONTAKT_LOG_FORMAT",
        "KONTAKT_REQUEST_TIMEOUT_SECS",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().unwrap(),
        addr: format!("127.0.0.1:{port}"),
        log,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut server = server;
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("server exited ({status}): {}", server.log_text());
        }
        if TcpStream::connect(&server.addr).is_ok() && get(&server, "/health", &[]).status == 200 {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "server did not start: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("non-JSON body {:?}: {e}", self.body))
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Names of the `Access-Control-Allow-*` headers present.
    fn cors_allow_headers(&self) -> Vec<&str> {
        self.headers
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| k.starts_with("access-control-allow-"))
            .collect()
    }
}

fn decode_chunked(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&raw[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// One request on its own connection.
fn send(s: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        s.addr
    );
    if !body.is_empty() || method == "PUT" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = decode_chunked(&body);
    }
    Resp {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

fn get(s: &Server, path: &str, headers: &[(&str, &str)]) -> Resp {
    send(s, "GET", path, headers, "")
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn contact_line(id: u64) -> String {
    serde_json::json!({"id": id, "company_id": 900001, "full_name": "Prod Test", "source": "manual",
        "quality_score": 50, "confidence": 0.5,
        "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
    .to_string()
}

#[test]
fn keys_scopes_logs_and_metrics() {
    let s = start(
        &["--log-format", "json"],
        &[("KONTAKT_READ_KEYS", READ), ("KONTAKT_ADMIN_KEYS", ADMIN)],
    );
    let read = bearer(READ);
    let admin = bearer(ADMIN);
    let unknown = bearer("guessed-key-0000");

    // Operational endpoints need no key.
    for path in ["/health", "/ready", "/openapi.json", "/metrics"] {
        assert_eq!(get(&s, path, &[]).status, 200, "{path}");
    }
    let contacts_before = get(&s, "/ready", &[]).json()["contacts"].as_u64().unwrap();
    // Every API endpoint does: 401 without one or with an unknown one.
    for path in [
        "/v1/contacts",
        "/v1/contacts/suggest?q=ann",
        "/v1/contacts/9000001",
        "/v1/industries",
    ] {
        let r = get(&s, path, &[]);
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "unauthorized"),
            "{path}"
        );
        let r = get(&s, path, &[("Authorization", &unknown)]);
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "unauthorized"),
            "{path}"
        );
        assert_eq!(
            get(&s, path, &[("Authorization", &read)]).status,
            200,
            "{path}"
        );
        assert_eq!(
            get(&s, path, &[("Authorization", &admin)]).status,
            200,
            "{path}"
        );
    }
    // Writes: read keys are forbidden, admin keys write.
    let line = contact_line(8_000_001);
    let r = send(
        &s,
        "PUT",
        "/v1/contacts",
        &[("Authorization", &read)],
        &line,
    );
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = send(&s, "PUT", "/v1/contacts", &[], &line);
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    let r = send(
        &s,
        "DELETE",
        "/v1/contacts/8000001",
        &[("Authorization", &unknown)],
        "",
    );
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    let r = send(
        &s,
        "PUT",
        "/v1/contacts",
        &[("Authorization", &admin)],
        &line,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // No CORS configured: no CORS headers, even for a browser request.
    let r = get(
        &s,
        "/v1/contacts?limit=1",
        &[("Authorization", &read), ("Origin", "https://app.example")],
    );
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .iter()
            .all(|(k, _)| !k.starts_with("access-control-"))
    );
    // No rate limit configured: no rate limit headers.
    assert!(r.header("x-ratelimit-limit").is_none());

    // Metrics count requests per route pattern and status, and commits.
    let r = get(&s, "/v1/contacts/9000001", &[("Authorization", &read)]);
    assert_eq!(r.status, 200);
    let m = get(&s, "/metrics", &[]);
    assert!(
        m.header("content-type").unwrap().starts_with("text/plain"),
        "{:?}",
        m.headers
    );
    let contacts_line = format!("kontakt_index_contacts {}", contacts_before + 1);
    for needle in [
        "kontakt_http_requests_total{method=\"GET\",route=\"/v1/contacts/{id}\",status=\"200\"}",
        "kontakt_http_requests_total{method=\"GET\",route=\"/v1/contacts\",status=\"401\"}",
        "kontakt_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/contacts/{id}\",status=\"200\",le=\"0.005\"}",
        contacts_line.as_str(),
        "kontakt_index_commit_duration_seconds_count 1",
        "kontakt_index_reload_duration_seconds_count 1",
        "kontakt_index_last_commit_timestamp_seconds",
    ] {
        assert!(m.body.contains(needle), "{needle} missing:\n{}", m.body);
    }
    assert!(
        !m.body.contains("route=\"/v1/contacts/9000001\""),
        "raw paths must not become labels"
    );

    // One JSON log line per request, with the fields of issue 5.
    let log = s.log_text();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .filter(|v: &Value| v["message"] == "request")
        .collect();
    let search = lines
        .iter()
        .find(|v| v["route"] == "/v1/contacts" && v["status"] == 200)
        .unwrap_or_else(|| panic!("no search log line in\n{log}"));
    assert_eq!(search["method"], "GET");
    assert!(search["duration_ms"].as_f64().unwrap() >= 0.0);
    assert!(search["results"].as_u64().unwrap() >= 1, "{search}");
    assert!(search["level"] == "INFO" && search["timestamp"].is_string());
    let by_id = lines
        .iter()
        .find(|v| v["route"] == "/v1/contacts/{id}" && v["status"] == 200)
        .unwrap();
    assert_eq!(by_id["results"], 1);
    // An error answer names its code; others have none.
    let refused = lines
        .iter()
        .find(|v| v["method"] == "PUT" && v["status"] == 403)
        .unwrap_or_else(|| panic!("no refused write in\n{log}"));
    assert_eq!(refused["code"], "forbidden", "{refused}");
    assert!(search.get("code").is_none(), "{search}");
    // Keys, known or not, are never logged.
    for key in [READ, ADMIN, "guessed-key-0000"] {
        assert!(!log.contains(key), "{key} appears in the log");
    }
}

#[test]
fn writes_disabled_without_admin_keys() {
    let s = start(&[], &[("KONTAKT_READ_KEYS", READ)]);
    for key in [None, Some(READ), Some("guessed-key-0000")] {
        let auth = key.map(bearer);
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let r = send(
            &s,
            "PUT",
            "/v1/contacts",
            &headers,
            &contact_line(8_000_002),
        );
        assert_eq!((r.status, r.code().as_str()), (403, "writes_disabled"));
        let r = send(&s, "DELETE", "/v1/companies/900001", &headers, "");
        assert_eq!((r.status, r.code().as_str()), (403, "writes_disabled"));
    }
}

#[test]
fn rate_limit_per_key_and_address() {
    let s = start(
        &["--rate-limit", "3"],
        &[("KONTAKT_READ_KEYS", READ), ("KONTAKT_ADMIN_KEYS", ADMIN)],
    );
    let read = bearer(READ);
    let admin = bearer(ADMIN);
    let path = "/v1/contacts?limit=1";
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = get(&s, path, &[("Authorization", &read)]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
        remaining.push(r.header("x-ratelimit-remaining").unwrap().to_owned());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let r = get(&s, path, &[("Authorization", &read)]);
    assert_eq!((r.status, r.code().as_str()), (429, "rate_limited"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(r.header("x-ratelimit-limit"), Some("3"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));

    // Another key has its own bucket; so do requests without a key (by
    // address), and an unknown key counts against the address.
    let r = get(&s, path, &[("Authorization", &admin)]);
    assert_eq!(
        (r.status, r.header("x-ratelimit-remaining")),
        (200, Some("2"))
    );
    let r = get(&s, path, &[]);
    assert_eq!(
        (r.status, r.header("x-ratelimit-remaining")),
        (401, Some("2"))
    );
    let r = get(&s, path, &[("Authorization", "Bearer made-up")]);
    assert_eq!(
        (r.status, r.header("x-ratelimit-remaining")),
        (401, Some("1"))
    );

    // Operators are never limited.
    for _ in 0..10 {
        assert_eq!(get(&s, "/health", &[]).status, 200);
        assert_eq!(get(&s, "/metrics", &[]).status, 200);
    }
    // The bucket refills at the rate.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get(&s, path, &[("Authorization", &read)]).status, 200);
}

#[test]
fn cors_allows_configured_origins_only() {
    let s = start(
        &["--cors-origin", "https://app.example"],
        &[
            ("KONTAKT_CORS_ORIGINS", "https://other.example"),
            ("KONTAKT_READ_KEYS", READ),
        ],
    );
    // The flag wins over the variable (clap's rule): only app.example.
    let preflight = |origin: &str, method: &str| {
        send(
            &s,
            "OPTIONS",
            "/v1/contacts/suggest?q=an",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", method),
                (
                    "Access-Control-Request-Headers",
                    "authorization, content-type",
                ),
            ],
            "",
        )
    };
    for method in ["GET", "PUT", "DELETE"] {
        let r = preflight("https://app.example", method);
        assert!(r.status == 200 || r.status == 204, "{r:?}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://app.example")
        );
        let methods = r.header("access-control-allow-methods").unwrap();
        assert!(methods.contains(method), "{methods}");
        let allowed = r
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    }
    // A preflight from another origin is refused, with no Allow-* headers.
    for origin in ["https://other.example", "https://evil.example"] {
        let r = preflight(origin, "GET");
        assert_eq!(r.status, 403, "{r:?}");
        assert!(r.cors_allow_headers().is_empty(), "{r:?}");
        assert_eq!(r.json()["error"]["code"], "forbidden", "{r:?}");
    }
    // A method not allowed.
    let r = preflight("https://app.example", "PATCH");
    assert!(
        r.status == 403 && r.cors_allow_headers().is_empty(),
        "{r:?}"
    );
    assert_eq!(r.json()["error"]["code"], "forbidden", "{r:?}");

    // Actual requests: the allowed origin gets the header, even on errors,
    // and can read the rate limit headers; another origin gets none.
    let read = bearer(READ);
    let r = get(
        &s,
        "/v1/contacts?limit=1",
        &[("Origin", "https://app.example"), ("Authorization", &read)],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let expose = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(expose.contains("x-ratelimit-remaining") && expose.contains("retry-after"));
    let r = get(&s, "/v1/contacts", &[("Origin", "https://app.example")]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let r = get(
        &s,
        "/v1/contacts?limit=1",
        &[("Origin", "https://evil.example"), ("Authorization", &read)],
    );
    assert_eq!(r.status, 200);
    assert!(r.cors_allow_headers().is_empty(), "{r:?}");

    // `*` allows any origin.
    let any = start(&[], &[("KONTAKT_CORS_ORIGINS", "*")]);
    let r = send(
        &any,
        "OPTIONS",
        "/v1/contacts",
        &[
            ("Origin", "https://anywhere.example"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
        "",
    );
    assert!(r.status == 200 || r.status == 204, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn invalid_settings_fail_fast() {
    let out = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(["serve", "--cors-origin", "not an origin", "--index"])
        .arg(Path::new("/nonexistent/kontakt-test-index"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CORS origin"), "{err}");

    let help = Command::new(env!("CARGO_BIN_EXE_kontakt"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--rate-limit",
        "KONTAKT_RATE_LIMIT",
        "--cors-origin",
        "KONTAKT_CORS_ORIGINS",
        "--request-timeout-secs",
        "KONTAKT_REQUEST_TIMEOUT_SECS",
        "--log-format",
        "KONTAKT_LOG_FORMAT",
        "--max-body-bytes",
        "KONTAKT_MAX_BODY_BYTES",
    ] {
        assert!(
            help.contains(flag),
            "{flag} missing from serve --help:\n{help}"
        );
    }
}

#[test]
fn openapi_document_lists_every_path() {
    let s = start(&[], &[]);
    let r = get(&s, "/openapi.json", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/contacts", "get"),
        ("/v1/contacts", "put"),
        ("/v1/contacts/suggest", "get"),
        ("/v1/contacts/{id}", "get"),
        ("/v1/contacts/{id}", "delete"),
        ("/v1/companies", "put"),
        ("/v1/companies/{id}", "delete"),
        ("/v1/industries", "get"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing");
        // OpenAPI requires path parameters to be required.
        let in_path: Vec<&Value> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .collect();
        assert_eq!(
            in_path.len(),
            usize::from(path.contains("{id}")),
            "{method} {path}"
        );
        for p in in_path {
            assert_eq!(p["required"], true, "{method} {path}: {p}");
        }
        if path.starts_with("/v1/") {
            assert!(
                op["responses"]["429"].is_object(),
                "{method} {path}: no 429"
            );
            // Reads inherit the document's default, writes say their own.
            let security = if op["security"].is_null() {
                &doc["security"]
            } else {
                &op["security"]
            };
            assert!(security.to_string().contains("bearer"), "{method} {path}");
        }
    }
    // The contact schema names every field of a real contact.
    let contact = get(&s, "/v1/contacts/9000001", &[]).json()["data"].clone();
    let props = &doc["components"]["schemas"]["Contact"]["properties"];
    for field in contact.as_object().unwrap().keys() {
        assert!(props[field].is_object(), "Contact schema lacks {field}");
    }
    assert!(doc["components"]["schemas"]["ErrorObject"]["properties"]["records"].is_object());
}

#[test]
fn slow_requests_time_out_with_json() {
    let s = start(
        &["--request-timeout-secs", "1"],
        &[("KONTAKT_ADMIN_KEYS", ADMIN)],
    );
    // A body announced but never sent keeps the handler waiting.
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    write!(
        stream,
        "PUT /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{{\"id\""
    )
    .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    // The answer comes while the connection stays open: read what arrives.
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") || !raw.ends_with(b"}") {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let r = parse_response(&raw);
    assert_eq!((r.status, r.code().as_str()), (503, "timeout"), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Fast requests are unaffected.
    assert_eq!(get(&s, "/v1/contacts?limit=1", &[]).status, 200);
}

/// Writes `raw` on a new connection (ignoring a write the server cut short)
/// and reads the answer until the server closes.
fn send_raw(s: &Server, raw: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = stream.write_all(raw);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    out
}

#[test]
fn refusals_are_json_wherever_the_http_layer_lets_the_app_shape_them() {
    let s = start(
        &["--max-body-bytes", "1000"],
        &[("KONTAKT_ADMIN_KEYS", ADMIN), ("KONTAKT_READ_KEYS", READ)],
    );
    // Two Authorization headers: which one counts would be a guess.
    let (admin, read) = (bearer(ADMIN), bearer(READ));
    for (method, path) in [("GET", "/v1/contacts?limit=1"), ("PUT", "/v1/contacts")] {
        let r = send(
            &s,
            method,
            path,
            &[("Authorization", &admin), ("Authorization", &read)],
            "",
        );
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "invalid_parameter"),
            "{r:?}"
        );
        assert_eq!(r.json()["error"]["parameter"], "Authorization");
    }
    // 413, announced or chunked: JSON.
    let r = send(
        &s,
        "PUT",
        "/v1/contacts",
        &[("Authorization", &admin)],
        &"x".repeat(2000),
    );
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "payload_too_large"),
        "{r:?}"
    );
    let chunk = "x".repeat(600);
    let raw = format!(
        "PUT /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: {admin}\r\n\
         Transfer-Encoding: chunked\r\n\r\n258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    let r = parse_response(&send_raw(&s, raw.as_bytes()));
    assert_eq!(
        (r.status, r.code().as_str()),
        (413, "payload_too_large"),
        "{r:?}"
    );
    // Answered by actix-http before any of kontakt's code runs, with an
    // empty body (README, "Requests the HTTP layer cannot read"): a head
    // over 128 KiB is 431, a head not finished within 5 s is 408.
    let raw = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(140_000)
    );
    let r = parse_response(&send_raw(&s, raw.as_bytes()));
    assert_eq!((r.status, r.body.as_str()), (431, ""), "{r:?}");
    let r = parse_response(&send_raw(&s, b"GET /health HTTP/1.1\r\nHost: x\r\n"));
    assert_eq!((r.status, r.body.as_str()), (408, ""), "{r:?}");
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[test]
fn the_worst_request_of_every_endpoint_stays_within_the_cache_budget_and_a_stated_overhead() {
    // What requests may hold beyond the caches: a body being read,
    // a group of parsed lines, answers of 100 contacts, thread stacks.
    const BUDGET: u64 = 8 << 20;
    const OVERHEAD: u64 = 64 << 20;
    let budget = BUDGET.to_string();
    let s = start(
        &["--cache-bytes", &budget],
        &[("KONTAKT_ADMIN_KEYS", ADMIN)],
    );
    let started = peak_rss(s.child.id());
    let ae = common::enc(&"æ".repeat(256));
    let typos = "andersonn+johansenn+nielsenn+virtanenn+kristiann+svenssonn+lindqvistt+hansennee";
    let facets = "country_code,industry_section,seniority_level,source,email_status,department";
    let ids: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let ids = ids.join(",");
    let title = "a".repeat(256);
    let mut paths = vec![
        format!("/v1/contacts?q={ae}&limit=100&facets={facets}"),
        format!("/v1/contacts/suggest?q={ae}&limit=10"),
        format!("/v1/contacts/suggest?q={typos}&limit=10"),
        format!("/v1/contacts?facets={facets}&limit=100&exclude_stale=false"),
        format!("/v1/contacts?job_title={title}&facets={facets}&limit=100"),
        format!("/v1/contacts?company_id=1&country_code=SE,NO,DK,FI,IS&limit=100"),
        format!("/v1/contacts?exclude_industry_id={ids}&facets={facets}&limit=100"),
        "/v1/industries".to_owned(),
        "/v1/contacts/1".to_owned(),
    ];
    // A cursor deep into the last page.
    let mut cursor = String::new();
    for _ in 0..3 {
        let page = get(
            &s,
            &format!("/v1/contacts?sort_by=full_name&limit=50{cursor}"),
            &[],
        );
        assert_eq!(page.status, 200, "{}", page.body);
        match page.json()["pagination"]["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    paths.push(format!("/v1/contacts?sort_by=full_name&limit=100{cursor}"));
    // 2 MiB of invalid lines once cost about 180 times that.
    let invalid = "x\n".repeat(1 << 20);
    let auth = bearer(ADMIN);
    for _ in 0..2 {
        for path in &paths {
            let r = get(&s, path, &[]);
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
        let r = send(
            &s,
            "PUT",
            "/v1/contacts",
            &[("Authorization", &auth)],
            &invalid,
        );
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.json()["error"]["records"].as_array().unwrap().len(), 100);
        assert!(r.body.contains("1048576 bad lines"), "{}", r.body);
    }
    let metrics = get(&s, "/metrics", &[]).body;
    let kept: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("kontakt_cache_bytes{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(
        kept > 0 && kept <= BUDGET,
        "caches keep {kept} bytes:\n{metrics}"
    );
    assert!(metrics.contains(&format!("kontakt_cache_budget_bytes {BUDGET}")));
    let peak = peak_rss(s.child.id());
    assert!(
        peak <= started + BUDGET + OVERHEAD,
        "peak RSS {} MiB, from {} MiB at start",
        peak >> 20,
        started >> 20
    );
}
