//! Examples that cannot rot: every request example of README.md and
//! `docs/*.md` runs here with bash, as written, against `kontakt serve` on
//! the bundled sample, and a check per example asserts what the text around
//! it says it shows.
//!
//! An example is a fenced `sh` block right after a line
//! `<!-- example: ID -->`. A block with a `curl` in it and no such line, an
//! ID used twice, an ID without a check here, or a check whose example is
//! gone, fails `every_request_example_in_the_docs_has_a_check`, so an
//! example cannot be added without being run. The record examples of
//! `docs/api.md` are checked against their field tables and the parsers.
//!
//! The examples assume a server on `localhost:8080` (and start a second one
//! on 8081); those addresses are rewritten to free ports, and
//! `cargo run --release --` (or a `kontakt` command) to the binary under
//! test. Each runs in a fresh directory, so anything it creates with a
//! relative path lands there.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, get_at};
use kontakt::generate::generate_to;
use kontakt::model::{Company, Contact, Industries};
use kontakt::text::{normalize, tokens};
use serde_json::Value;

/// The key the write examples use (the test's server is started with it).
const ADMIN_KEY: &str = "secret";
/// How long a server may take to build the sample and open it (a debug
/// build is much slower than the release build the README uses).
const STARTUP: Duration = Duration::from_secs(600);
/// How long one example may run.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------- the docs

/// One annotated block of a document.
#[derive(Debug)]
struct Example {
    id: String,
    /// `README.md:123`, for messages.
    place: String,
    script: String,
}

/// The documents whose examples must run.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md")];
    let mut more: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

fn annotation(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix("<!-- example:")?
        .strip_suffix("-->")
        .map(str::trim)
}

fn has_curl(block: &str) -> bool {
    block
        .split(|c: char| c.is_whitespace() || c == '(' || c == '|')
        .any(|w| w == "curl")
}

/// The annotated examples of every document, and what is wrong with the
/// annotations (an empty list when nothing is).
fn examples() -> (Vec<Example>, Vec<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for doc in documents() {
        let name = doc.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&doc).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut pending: Option<(String, usize)> = None;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            if let Some(id) = annotation(line) {
                if let Some((id, at)) = pending.take() {
                    problems.push(format!(
                        "{name}:{at}: example `{id}` is not followed by a block"
                    ));
                }
                pending = Some((id.to_owned(), i + 1));
                i += 1;
                continue;
            }
            if let Some(lang) = line.trim_start().strip_prefix("```") {
                let start = i + 1;
                let mut body = Vec::new();
                i += 1;
                while i < lines.len() && lines[i].trim() != "```" {
                    body.push(lines[i]);
                    i += 1;
                }
                i += 1;
                let script = body.join("\n") + "\n";
                let place = format!("{name}:{start}");
                match pending.take() {
                    Some((id, _)) if !matches!(lang.trim(), "sh" | "bash" | "shell") => {
                        problems.push(format!("{place}: example `{id}` is not an sh block"))
                    }
                    Some((id, _)) => found.push(Example { id, place, script }),
                    None if has_curl(&script) => problems.push(format!(
                        "{place}: a curl example without an `<!-- example: ID -->` line"
                    )),
                    None => {}
                }
                continue;
            }
            if let Some((id, at)) = &pending
                && !line.trim().is_empty()
            {
                problems.push(format!(
                    "{name}:{at}: example `{id}` is not followed by a block"
                ));
                pending = None;
            }
            i += 1;
        }
        if let Some((id, at)) = pending {
            problems.push(format!(
                "{name}:{at}: example `{id}` is not followed by a block"
            ));
        }
    }
    let mut seen = HashSet::new();
    for e in &found {
        if !seen.insert(e.id.clone()) {
            problems.push(format!("{}: example id `{}` is used twice", e.place, e.id));
        }
        if !CHECKS.iter().any(|(id, _)| *id == e.id) {
            problems.push(format!(
                "{}: example `{}` has no check in tests/examples.rs",
                e.place, e.id
            ));
        }
    }
    for (id, _) in CHECKS {
        if !seen.contains(*id) {
            problems.push(format!("the check `{id}` has no example in the docs"));
        }
    }
    (found, problems)
}

#[test]
fn every_request_example_in_the_docs_has_a_check() {
    let (found, problems) = examples();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(found.len() >= CHECKS.len());
}

/// The first fenced block after `heading` in `doc`, and the field names of
/// the table between them (rows starting with a backquoted name).
fn table_and_example(doc: &str, heading: &str) -> (Vec<String>, String) {
    let section = &doc[doc.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    let start = section.find("```json\n").unwrap() + "```json\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let fields = section[..start]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .map(|l| l[..l.find('`').unwrap()].to_owned())
        .collect();
    (fields, block.trim().to_owned())
}

#[test]
fn the_record_examples_of_the_api_docs_are_complete_and_valid() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md")).unwrap();
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };

    let (fields, example) = table_and_example(&doc, "### Companies");
    let company: Value = serde_json::from_str(&example).unwrap();
    assert_eq!(
        keys(&company),
        fields,
        "the company example has every field, in table order"
    );
    Company::from_json(&company, industries()).unwrap();

    let (fields, example) = table_and_example(&doc, "### Contacts");
    let contact: Value = serde_json::from_str(&example).unwrap();
    assert_eq!(
        keys(&contact),
        fields,
        "the contact example has every field, in table order"
    );
    Contact::from_json(&contact).unwrap();
}

// --------------------------------------------------------------- running

/// A process group started by the test, stopped when dropped.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: signals the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// A command in a process group of its own, without the caller's
/// `KONTAKT_*` settings.
fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    for (name, _) in std::env::vars() {
        if name.starts_with("KONTAKT_") {
            c.env_remove(name);
        }
    }
    c.process_group(0);
    c
}

/// The server the examples on `localhost:8080` talk to: the real binary,
/// started from an empty directory, building the sample on first start.
struct Server {
    base: String,
    port: u16,
    _process: Group,
    _dir: tempfile::TempDir,
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let child = command(env!("CARGO_BIN_EXE_kontakt"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("KONTAKT_ADMIN_KEYS", ADMIN_KEY)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut process = Group(child);
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        // Refused until the sample is built and the server listens.
        if ureq::get(format!("{base}/ready")).call().is_ok() {
            break;
        }
        if let Ok(Some(status)) = process.0.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("kontakt serve exited with {status}:\n{log}");
        }
        assert!(
            started.elapsed() < STARTUP,
            "kontakt serve was not ready in time"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Server {
        base,
        port,
        _process: process,
        _dir: dir,
    }
}

/// The example as the test runs it: the documented addresses pointed at
/// the test's ports, and the binary under test in place of `cargo run`.
fn rewrite(script: &str, port: u16, second_port: u16) -> String {
    let bin = env!("CARGO_BIN_EXE_kontakt");
    script
        .replace("cargo run --release --", bin)
        .lines()
        .map(|line| {
            // `kontakt ...` after any `VAR=value` words, as an installed
            // binary would be called.
            let words: Vec<&str> = line.split(' ').collect();
            let first = words
                .iter()
                .position(|w| !w.contains('=') || w.starts_with('-'));
            match first {
                Some(k) if words[k] == "kontakt" => {
                    let mut w = words.clone();
                    w[k] = bin;
                    w.join(" ")
                }
                _ => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("localhost:8080", "@first@")
        .replace("127.0.0.1:8080", "@first@")
        .replace("localhost:8081", "@second@")
        .replace("127.0.0.1:8081", "@second@")
        .replace("@first@", &format!("127.0.0.1:{port}"))
        .replace("@second@", &format!("127.0.0.1:{second_port}"))
        + "\n"
}

/// What an example printed.
struct Output {
    stdout: String,
    stderr: String,
}

impl Output {
    /// The JSON values printed one after another (curl prints one per
    /// request; `-w '%{http_code}'` a number).
    fn values(&self) -> Vec<Value> {
        serde_json::Deserializer::from_str(&self.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("the output is not JSON values ({e}):\n{}", self.stdout))
    }
}

/// Runs `script` with bash in a fresh directory; every process it leaves
/// behind is stopped.
fn run(script: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    }
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let mut group = Group(child);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = group.0.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > EXAMPLE_TIMEOUT {
            drop(group);
            panic!("the example did not finish in time:\n{script}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(group);
    let output = Output {
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert!(
        status.success(),
        "the example failed ({status}):\n{script}\nstdout:\n{}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
    output
}

// ---------------------------------------------------------------- checks

/// What the checks know besides the example's output.
struct Ctx {
    base: String,
    /// The sample's companies, by id (the answers carry no industries).
    companies: HashMap<u64, Company>,
    contacts_in_sample: u64,
}

impl Ctx {
    fn new(server: &Server) -> Ctx {
        // The bundled sample, made as the README says: the generator with
        // a fixed seed (byte-identical to the files the server builds from).
        let (mut companies, mut contacts) = (Vec::new(), Vec::new());
        generate_to(1_500, 20_000, 20_261_126, &mut companies, &mut contacts).unwrap();
        let lines = |bytes: &[u8]| -> Vec<Value> {
            std::str::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        Ctx {
            base: server.base.clone(),
            companies: lines(&companies)
                .iter()
                .map(|v| {
                    let c = Company::from_json(v, industries()).unwrap();
                    (c.id, c)
                })
                .collect(),
            contacts_in_sample: lines(&contacts).len() as u64,
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        get_at(&self.base, path)
    }

    fn company(&self, contact: &Value) -> &Company {
        let id = contact["company_id"].as_u64().unwrap();
        self.companies
            .get(&id)
            .unwrap_or_else(|| panic!("company {id} is not in the sample"))
    }

    /// The contact's company has an industry in `section` (at `level`, when given).
    fn has_industry(&self, contact: &Value, section: char, level: Option<u8>) -> bool {
        self.company(contact).industry_ids.iter().any(|id| {
            let row = industries().get(*id).unwrap();
            row.section.letter() == section && level.is_none_or(|l| row.level == l)
        })
    }
}

fn industries() -> &'static Industries {
    Industries::bundled()
}

type Check = fn(&Ctx, &Output);

/// One check per example id.
const CHECKS: &[(&str, Check)] = &[
    ("readme-filters", readme_filters),
    ("readme-typeahead", readme_typeahead),
    ("readme-job-title-facets", readme_job_title_facets),
    ("readme-cursor", readme_cursor),
    ("readme-contact-industries", contact_and_industries),
    ("readme-write", readme_write),
    ("access-refused", access_refused),
    ("search-filters", search_filters),
    ("search-industry", search_industry),
    ("search-q-highlight", search_q_highlight),
    ("search-job-title", search_job_title),
    ("search-cursor-walk", search_cursor_walk),
    ("search-facets", search_facets),
    ("suggest-typo", suggest_typo),
    ("industries-children", industries_children),
    ("write-lifecycle", write_lifecycle),
    ("write-refused", write_refused),
    ("operations", operations),
    ("error-parameter", error_parameter),
];

/// The values an example printed, `n` of them.
fn values(out: &Output, n: usize) -> Vec<Value> {
    let v = out.values();
    assert_eq!(v.len(), n, "expected {n} answers, got:\n{}", out.stdout);
    v
}

/// `data` of a list answer; fails on an error answer.
fn data(answer: &Value) -> &Vec<Value> {
    answer["data"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list answer: {answer}"))
}

fn ids(list: &[Value]) -> Vec<u64> {
    list.iter().map(|c| c["id"].as_u64().unwrap()).collect()
}

fn text<'a>(contact: &'a Value, field: &str) -> &'a str {
    contact[field].as_str().unwrap_or("")
}

/// The rule for `q`: every token of `q` a prefix of a token of the name or
/// the email.
fn q_matches(q: &str, contact: &Value) -> bool {
    let mut own = tokens(text(contact, "full_name"));
    own.extend(tokens(text(contact, "email")));
    tokens(q)
        .iter()
        .all(|t| own.iter().any(|o| o.starts_with(t.as_str())))
}

/// The rule for `job_title`: every token a substring of a title token.
fn title_matches(param: &str, contact: &Value) -> bool {
    let own = tokens(text(contact, "job_title"));
    tokens(param)
        .iter()
        .all(|t| own.iter().any(|o| o.contains(t.as_str())))
}

/// The defaults: neither stale nor speculative contacts.
fn visible(contact: &Value) -> bool {
    contact["is_stale"] == false && contact["is_speculative"] == false
}

/// The contact's company as the answer carries it.
fn country(contact: &Value) -> &str {
    contact["company"]["country_code"].as_str().unwrap_or("")
}

/// Pages are in `key` order (descending when `desc`), then id ascending.
fn assert_ordered<K: PartialOrd + std::fmt::Debug>(
    list: &[Value],
    key: impl Fn(&Value) -> K,
    desc: bool,
) {
    for w in list.windows(2) {
        let (a, b) = (
            (key(&w[0]), w[0]["id"].as_u64()),
            (key(&w[1]), w[1]["id"].as_u64()),
        );
        let in_order = if a.0 == b.0 {
            a.1 < b.1
        } else if desc {
            a.0 > b.0
        } else {
            a.0 < b.0
        };
        assert!(in_order, "out of order: {a:?} then {b:?}");
    }
}

fn quality(c: &Value) -> u64 {
    c["quality_score"].as_u64().unwrap()
}

/// The filters of the first search examples, on every contact of a page.
fn verified_managers_in_se_no_manufacturing(ctx: &Ctx, answer: &Value) {
    let list = data(answer);
    assert!(!list.is_empty(), "no contacts: {answer}");
    for c in list {
        assert!(visible(c), "{c}");
        assert_eq!(c["verified"], true, "{c}");
        assert_eq!(c["seniority_level"], "manager", "{c}");
        assert_eq!(c["email_status"], "valid", "{c}");
        assert!(["SE", "NO"].contains(&country(c)), "{c}");
        assert_eq!(ctx.company(c).country_code.as_str(), country(c));
        assert!(ctx.has_industry(c, 'C', None), "not in manufacturing: {c}");
    }
    assert_ordered(list, quality, true);
    assert!(answer["total"].as_u64().unwrap() >= list.len() as u64);
}

fn readme_filters(ctx: &Ctx, out: &Output) {
    let v = values(out, 1);
    verified_managers_in_se_no_manufacturing(ctx, &v[0]);
    assert_eq!(
        data(&v[0]).len() as u64,
        v[0]["total"].as_u64().unwrap().min(50)
    );
}

fn access_refused(ctx: &Ctx, out: &Output) {
    let v = values(out, 2);
    for answer in &v {
        assert_eq!(answer["error"]["code"], "unauthorized", "{answer}");
    }
    // The refused delete changed nothing.
    assert_eq!(ctx.get("/v1/contacts/1").0, 200);
    // Reads are open: without any key the same search answers.
    assert_eq!(ctx.get("/v1/contacts?limit=1").0, 200);
}

fn search_filters(ctx: &Ctx, out: &Output) {
    let v = values(out, 1);
    verified_managers_in_se_no_manufacturing(ctx, &v[0]);
    assert_eq!(data(&v[0]).len(), 3);
    assert_eq!(v[0]["pagination"]["has_more"], true);
}

/// A `q` answer with `highlight=true`: every contact matches, and its
/// `_matches` spans are the matched prefixes in the original text.
fn highlighted(q: &str, answer: &Value) {
    let list = data(answer);
    assert!(!list.is_empty(), "no contacts for {q}: {answer}");
    for c in list {
        assert!(q_matches(q, c), "{q} does not match {c}");
        let mut spans = 0;
        for field in ["full_name", "email"] {
            let chars: Vec<char> = text(c, field).chars().collect();
            for span in c["_matches"][field].as_array().unwrap() {
                let (a, b) = (
                    span[0].as_u64().unwrap() as usize,
                    span[1].as_u64().unwrap() as usize,
                );
                let matched = normalize(&chars[a..b].iter().collect::<String>());
                assert!(
                    tokens(q).contains(&matched),
                    "span {span} of {field} in {c} is not a q token"
                );
                spans += 1;
            }
        }
        assert!(spans > 0, "no highlight in {c}");
    }
}

fn readme_typeahead(_: &Ctx, out: &Output) {
    let v = values(out, 2);
    highlighted("jør", &v[0]);
    assert!(data(&v[0]).len() <= 5);
    // The query's own letter ranks first: Jørgen before Jorunn.
    assert!(
        text(&data(&v[0])[0], "full_name")
            .to_lowercase()
            .contains("jør"),
        "{}",
        v[0]
    );
    let suggestions = data(&v[1]);
    assert!(
        !suggestions.is_empty(),
        "the suggest example returns nothing: {}",
        v[1]
    );
    assert!(suggestions.len() <= 8);
    let names: Vec<&str> = suggestions.iter().map(|s| text(s, "full_name")).collect();
    assert_eq!(names[0], "Marjatta Berg", "{names:?}");
    assert!(names.contains(&"Maria Bergqvist"), "{names:?}");
    for s in suggestions {
        assert!(q_matches("mar berg", s), "{s}");
        assert_eq!(s["fuzzy"], false, "{s}");
        assert!(s["company"]["name"].is_string(), "{s}");
    }
}

fn search_q_highlight(_: &Ctx, out: &Output) {
    let v = values(out, 1);
    highlighted("jorgen", &v[0]);
    assert!(
        data(&v[0])
            .iter()
            .any(|c| text(c, "full_name").contains('ø')),
        "jorgen finds no Jørgen: {}",
        v[0]
    );
}

/// Sums a facet's counts.
fn facet_sum(answer: &Value, facet: &str) -> u64 {
    answer["facets"][facet]
        .as_object()
        .unwrap_or_else(|| panic!("no facet {facet}: {answer}"))
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum()
}

fn readme_job_title_facets(_: &Ctx, out: &Output) {
    let v = values(out, 1);
    let list = data(&v[0]);
    assert_eq!(list.len(), 1);
    assert!(title_matches("chef", &list[0]), "{}", list[0]);
    let total = v[0]["total"].as_u64().unwrap();
    assert!(total > 100, "{total}");
    // Every contact has a country, so the country counts add up to the
    // total: they count all matches, not the page.
    assert_eq!(facet_sum(&v[0], "country_code"), total);
    assert!(facet_sum(&v[0], "department") > 1);
}

fn search_job_title(_: &Ctx, out: &Output) {
    let v = values(out, 1);
    let list = data(&v[0]);
    assert_eq!(list.len(), 5);
    for c in list {
        assert!(title_matches("chef", c), "{c}");
        assert_eq!(country(c), "SE");
        assert!(visible(c));
    }
}

fn created(c: &Value) -> String {
    // RFC 3339 in UTC with `Z` sorts as text.
    text(c, "created_at").to_owned()
}

fn readme_cursor(ctx: &Ctx, out: &Output) {
    let v = values(out, 1);
    let second = data(&v[0]);
    let (status, first) = ctx.get("/v1/contacts?country_code=SE&sort_by=created_at&limit=5");
    assert_eq!(status, 200);
    let first = data(&first);
    assert_eq!((first.len(), second.len()), (5, 5));
    let a: HashSet<u64> = ids(first).into_iter().collect();
    assert!(
        ids(second).iter().all(|id| !a.contains(id)),
        "pages overlap"
    );
    let both: Vec<Value> = first.iter().chain(second).cloned().collect();
    assert_ordered(&both, created, true);
    assert!(second.iter().all(|c| country(c) == "SE"));
}

fn search_cursor_walk(_: &Ctx, out: &Output) {
    let pages = out.values();
    assert!(
        pages.len() >= 2,
        "expected several pages, got {}",
        pages.len()
    );
    let total = pages[0]["total"].as_u64().unwrap();
    let all: Vec<Value> = pages.iter().flat_map(|p| data(p).clone()).collect();
    assert_eq!(all.len() as u64, total);
    assert_eq!(
        ids(&all).into_iter().collect::<HashSet<_>>().len(),
        all.len()
    );
    assert_ordered(
        &all,
        |c| normalize(text(c, "full_name")).into_bytes(),
        false,
    );
    assert!(all.iter().all(|c| country(c) == "IS" && visible(c)));
    let last = pages.last().unwrap();
    assert_eq!(last["pagination"]["has_more"], false);
    assert!(
        pages[..pages.len() - 1]
            .iter()
            .all(|p| data(p).len() == 100)
    );
}

fn search_industry(ctx: &Ctx, out: &Output) {
    let v = values(out, 1);
    let list = data(&v[0]);
    assert_eq!(list.len(), 5);
    for c in list {
        assert_eq!(country(c), "SE");
        assert!(
            ctx.has_industry(c, 'C', Some(5)),
            "no level-5 manufacturing code: {c}"
        );
    }
    assert_ordered(list, quality, true);
}

fn search_facets(_: &Ctx, out: &Output) {
    let v = values(out, 1);
    let list = data(&v[0]);
    assert_eq!(list.len(), 1);
    assert_eq!(normalize(text(&list[0], "department")), "sales");
    assert_eq!(country(&list[0]), "NO");
    let total = v[0]["total"].as_u64().unwrap();
    assert!(total > 1, "{total}");
    // Every contact has a source: the counts cover all matches.
    assert_eq!(facet_sum(&v[0], "source"), total);
    assert!(facet_sum(&v[0], "seniority_level") <= total);
}

/// Edits between `a` and `b`, a swap of two neighbouring letters counting
/// as one (optimal string alignment).
fn edits(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn suggest_typo(ctx: &Ctx, out: &Output) {
    let q = "lindqvsit";
    let v = values(out, 1);
    let list = data(&v[0]);
    assert_eq!(list.len(), 5, "{}", v[0]);
    for s in list {
        // No strict match: every item is a typo-tolerant one, two edits at
        // most (9 letters) from the start of a name or email token.
        assert_eq!(s["fuzzy"], true, "{s}");
        assert!(!q_matches(q, s), "{s}");
        let own = tokens(&format!("{} {}", text(s, "full_name"), text(s, "email")));
        assert!(
            own.iter().any(|t| {
                let chars: Vec<char> = t.chars().collect();
                (0..=chars.len()).any(|n| edits(q, &chars[..n].iter().collect::<String>()) <= 2)
            }),
            "{s} is more than two edits from {q}"
        );
    }
    // Fill-up items come by quality (which suggestions do not carry).
    let full: Vec<Value> = ids(list)
        .iter()
        .map(|id| ctx.get(&format!("/v1/contacts/{id}")).1["data"].clone())
        .collect();
    assert_ordered(&full, quality, true);
}

/// A contact answer carries every field of the record table of
/// `docs/api.md`, and its company.
fn complete_contact(c: &Value) {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md")).unwrap();
    let (fields, _) = table_and_example(&doc, "### Contacts");
    for field in fields.iter().map(String::as_str).chain(["company"]) {
        assert!(c.get(field).is_some(), "{field} missing from {c}");
    }
}

fn contact_and_industries(_: &Ctx, out: &Output) {
    let v = values(out, 2);
    assert_eq!(v[0]["data"]["id"], 42);
    complete_contact(&v[0]["data"]);
    let rows = data(&v[1]);
    let sections: String = rows.iter().map(|r| text(r, "section")).collect();
    assert_eq!(sections, "ABCDEFGHIJKLMNOPQRSTU");
    assert!(
        rows.iter()
            .all(|r| r["level"] == 1 && r["parent_id"].is_null())
    );
}

fn industries_children(_: &Ctx, out: &Output) {
    let v = values(out, 2);
    let rows = data(&v[0]);
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["parent_id"] == 88 && r["level"] == 2 && r["section"] == "C")
    );
    let row_ids = ids(rows);
    assert!(row_ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(v[1]["data"]["id"], 42);
}

fn readme_write(_: &Ctx, out: &Output) {
    let v = values(out, 3);
    assert_eq!(v[0], serde_json::json!({"upserted": 1}));
    assert_eq!(v[1], serde_json::json!({"upserted": 1}));
    let found = data(&v[2]);
    assert_eq!(ids(found), [50001]);
    assert_eq!(found[0]["company"]["name"], "Nordljus AB");
    assert_eq!(country(&found[0]), "SE");
}

fn write_lifecycle(ctx: &Ctx, out: &Output) {
    let v = values(out, 5);
    assert_eq!(v[0], serde_json::json!({"upserted": 1}));
    assert_eq!(v[1], serde_json::json!({"upserted": 1}));
    let found = data(&v[2]);
    assert_eq!(ids(found), [9000001]);
    complete_contact(&found[0]);
    assert_eq!(found[0]["created_at"], "2024-05-02T07:30:00Z");
    assert_eq!(found[0]["company"]["name"], "Fjällbrygg AB");
    assert_eq!((&v[3], &v[4]), (&Value::from(204), &Value::from(204)));
    assert_eq!(ctx.get("/v1/contacts/9000001").0, 404);
    assert_eq!(ctx.get("/v1/contacts?company_id=900001").1["total"], 0);
}

fn write_refused(_: &Ctx, out: &Output) {
    let v = values(out, 2);
    assert_eq!(v[0]["error"]["code"], "invalid_record");
    assert_eq!(
        v[0]["error"]["records"],
        serde_json::json!([{"line": 2, "field": "source", "reason": v[0]["error"]["records"][0]["reason"]}])
    );
    assert_eq!(v[1]["error"]["code"], "not_found");
}

fn operations(ctx: &Ctx, out: &Output) {
    let v = values(out, 2);
    assert_eq!(v[0], serde_json::json!({"status": "ok"}));
    assert_eq!(
        v[1],
        serde_json::json!({"status": "ready", "contacts": ctx.contacts_in_sample})
    );
}

fn error_parameter(_: &Ctx, out: &Output) {
    let v = values(out, 1);
    assert_eq!(v[0]["error"]["code"], "invalid_parameter");
    assert_eq!(v[0]["error"]["parameter"], "limit");
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn every_request_example_in_the_docs_runs_and_shows_what_its_text_says() {
    let (found, _) = examples();
    // What the examples call, as a reader's shell would find it.
    for tool in ["curl --version", "python3 --version"] {
        let ok = command("bash")
            .args(["-c", tool])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "the doc examples need `{tool}` to work (curl and python3 on PATH)"
        );
    }
    let server = start_server();
    let ctx = Ctx::new(&server);
    let second_port = free_port();
    let mut failures = Vec::new();
    for e in &found {
        let Some((_, check)) = CHECKS.iter().find(|(id, _)| *id == e.id) else {
            continue;
        };
        let script = rewrite(&e.script, server.port, second_port);
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&ctx, &run(&script))));
        if let Err(p) = result {
            failures.push(format!("{} ({}): {}", e.id, e.place, panic_text(p)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
