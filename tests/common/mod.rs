//! Shared test harness: a real index built from generated plus hand-made
//! records, served by the real HTTP server on a loopback port, and the same
//! records kept in memory for the model checks.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use kontakt::generate::generate_to;
use kontakt::http::{self, AppState};
use kontakt::ingest::build::build_index_with_threads;
use kontakt::model::{Company, Contact, Industries};
use kontakt::search::SearchService;
use serde_json::Value;

/// Hand-made companies for the Nordic matching cases (docs/api.md, How text
/// matches).
pub const EXTRA_COMPANIES: &str = r#"{"id": 900001, "name": "Acme AB", "country_code": "SE", "domain": "acme.se", "industry_ids": [1889]}
{"id": 900002, "name": "Fjord AS", "country_code": "NO", "domain": "fjord.no", "industry_ids": [1071, 2]}
{"id": 900003, "name": "Hekla ehf.", "country_code": "IS", "industry_ids": []}
{"id": 900004, "name": "Ranking AB", "country_code": "SE", "domain": "ranking.se"}
{"id": 900005, "name": "Edge Oy", "country_code": "FI"}
"#;

/// Hand-made contacts; ids from 9,000,001 so they never clash.
pub const EXTRA_CONTACTS: &str = r#"{"id": 9000001, "company_id": 900001, "full_name": "Anna Svensson", "job_title": "Försäljningschef", "email": "anna.svensson@acme.se", "source": "linkedin", "verified": true, "seniority_level": "manager", "email_status": "valid", "department": "Sales", "quality_score": 91, "confidence": 0.93, "created_at": "2024-03-01T12:00:00+01:00", "updated_at": "2024-03-02T12:00:00Z"}
{"id": 9000002, "company_id": 900002, "full_name": "Jørgen Røed", "job_title": "Salgssjef", "email": "jorgen.roed@fjord.no", "phone": "+47 912 34 567", "source": "website", "seniority_level": "senior", "department": "Salg", "quality_score": 77, "confidence": 0.5, "created_at": "2023-01-01T00:00:00Z", "updated_at": "2023-01-01T00:00:00Z"}
{"id": 9000003, "company_id": 900002, "full_name": "Jorgen Roed", "job_title": "Daglig leder", "email": "", "source": "manual", "quality_score": 77, "confidence": 0.25, "created_at": "2023-01-01T00:00:00.5Z", "updated_at": "2023-01-01T00:00:00Z"}
{"id": 9000004, "company_id": 900001, "full_name": "Bo Åkesson", "job_title": "Inköpschef", "email": "bo@acme.se", "source": "facebook", "quality_score": 12, "confidence": 0.1, "is_stale": true, "created_at": "2022-06-01T08:00:00Z", "updated_at": "2022-06-01T08:00:00Z"}
{"id": 9000005, "company_id": 900003, "full_name": "Þórdís Guðmundsdóttir", "job_title": "Framkvæmdastjóri", "email": "thordis@hekla.is", "source": "twitter", "quality_score": 64, "confidence": 1, "is_speculative": true, "created_at": "2021-01-01T00:00:00-05:00", "updated_at": "2021-01-01T00:00:00Z"}
{"id": 9000006, "company_id": 900001, "full_name": "Annika Anna-Lena Berg", "email": "annika@acme.se", "source": "linkedin", "department": "SÄLES", "quality_score": 91, "confidence": 0.93, "created_at": "2024-03-01T11:00:00Z", "updated_at": "2024-03-01T11:00:00Z"}
{"id": 9000011, "company_id": 900004, "full_name": "Anna Ek", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000012, "company_id": 900004, "full_name": "Annabel Lund", "source": "manual", "quality_score": 99, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000013, "company_id": 900004, "full_name": "Per Anna", "source": "manual", "quality_score": 99, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000014, "company_id": 900004, "full_name": "Olle Berg", "email": "anna.x@ranking.se", "source": "manual", "quality_score": 100, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000015, "company_id": 900004, "full_name": "Anna Öst", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000016, "company_id": 900004, "full_name": "Roed Aas", "source": "manual", "quality_score": 70, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000017, "company_id": 900004, "full_name": "Røed Aas", "source": "manual", "quality_score": 60, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000018, "company_id": 900005, "full_name": "(Anna) Holm", "source": "manual", "quality_score": 90, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000019, "company_id": 900005, "full_name": " Anna Vik", "source": "manual", "quality_score": 80, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000020, "company_id": 900005, "full_name": "Anna-Lisa Berg", "source": "manual", "quality_score": 10, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000022, "company_id": 900005, "full_name": "ÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆÆ", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
{"id": 9000021, "company_id": 900005, "full_name": "İlker Anna", "source": "manual", "quality_score": 70, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}
"#;

pub struct World {
    /// The server as `kontakt serve` runs it: caches warmed before the first
    /// request, so pages come from the sort permutations.
    pub base: String,
    /// The same index served without a warm-up, as a segment new since the
    /// last one is searched: pages and ranges read the columns instead, and
    /// typo automata walk each segment's own dictionary.
    pub cold_base: String,
    pub companies: Vec<Company>,
    pub contacts: Vec<Contact>,
    pub service: Arc<AppState>,
    /// The state behind `cold_base`.
    pub cold_service: Arc<AppState>,
    _dir: tempfile::TempDir,
}

/// Writes the dataset (generated, then the hand-made records) to `dir`.
pub fn write_dataset(
    dir: &Path,
    companies: usize,
    contacts: usize,
    seed: u64,
) -> (Vec<u8>, Vec<u8>) {
    let mut co = Vec::new();
    let mut ct = Vec::new();
    generate_to(companies, contacts, seed, &mut co, &mut ct).unwrap();
    co.extend_from_slice(EXTRA_COMPANIES.as_bytes());
    ct.extend_from_slice(EXTRA_CONTACTS.as_bytes());
    std::fs::File::create(dir.join("companies.jsonl"))
        .unwrap()
        .write_all(&co)
        .unwrap();
    std::fs::File::create(dir.join("contacts.jsonl"))
        .unwrap()
        .write_all(&ct)
        .unwrap();
    (co, ct)
}

/// Indexing threads of the shared index: about as many segments.
const WORLD_SEGMENTS: usize = 5;

/// One shared server per test binary.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (co, ct) = write_dataset(dir.path(), 150, 2500, 7);
        let index = dir.path().join("index");
        // Several segments, as a large index has: a page then merges the
        // pages of segments, and later segments search within the best
        // hits of earlier ones.
        build_index_with_threads(
            &dir.path().join("companies.jsonl"),
            &dir.path().join("contacts.jsonl"),
            &index,
            WORLD_SEGMENTS,
        )
        .unwrap();
        let industries = Industries::bundled();
        let companies = lines(&co)
            .map(|l| Company::from_json(&serde_json::from_str(l).unwrap(), industries).unwrap())
            .collect();
        let contacts = lines(&ct)
            .map(|l| Contact::from_json(&serde_json::from_str(l).unwrap()).unwrap())
            .collect();
        let search = Arc::new(SearchService::open(&index).unwrap());
        let segments = search.searcher().segment_readers().len();
        assert!(segments >= 3, "the shared index has {segments} segments");
        search.engine(&search.searcher()).warm(true).unwrap();
        // As the server's background warm-up does: typo automata then walk
        // one merged dictionary, while the cold server walks each segment's.
        search.merge_vocabularies(&search.searcher()).unwrap();
        let fields = &search.schema.fields;
        assert!(search.cache.vocabulary(fields.email_prefix).is_some());
        assert!(search.cache.vocabulary(fields.name_token).is_some());
        let service = Arc::new(AppState::read_only(search));
        let base = serve(service.clone());
        let cold = Arc::new(AppState::read_only(Arc::new(
            SearchService::open(&index).unwrap(),
        )));
        let cold_base = serve(cold.clone());
        World {
            base,
            cold_base,
            companies,
            contacts,
            service,
            cold_service: cold,
            _dir: dir,
        }
    })
}

fn lines(bytes: &[u8]) -> impl Iterator<Item = &str> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
}

/// Starts the real HTTP server on a free loopback port.
pub fn serve(state: Arc<AppState>) -> String {
    serve_with(state, http::ServerOptions::default())
}

/// `serve` with operational settings.
pub fn serve_with(state: Arc<AppState>, options: http::ServerOptions) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new()
            .block_on(async { http::server_with(state, listener, options).unwrap().await })
            .unwrap();
    });
    format!("http://{addr}")
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    })
}

/// GET `path` (with its query string, already encoded); status and JSON body.
pub fn get(path: &str) -> (u16, Value) {
    get_at(&world().base, path)
}

pub fn get_at(base: &str, path: &str) -> (u16, Value) {
    get_url(&format!("{base}{path}"))
}

pub fn get_url(url: &str) -> (u16, Value) {
    let mut resp = agent()
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("GET {url}: non-JSON body {body:?}: {e}"));
    (status, json)
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The ids of a page.
pub fn ids(body: &Value) -> Vec<u64> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect()
}

/// Follows `next_cursor` from the first page to the last; all ids in order.
pub fn walk(query: &str, limit: usize) -> (u64, Vec<u64>) {
    walk_at(&world().base, query, limit)
}

/// `walk` on the server at `base`.
pub fn walk_at(base: &str, query: &str, limit: usize) -> (u64, Vec<u64>) {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total = None;
    loop {
        let mut path = format!("/v1/contacts?{query}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", enc(c)));
        }
        let (status, body) = get_at(base, &path);
        assert_eq!(status, 200, "{path}: {body}");
        let page = ids(&body);
        let t = body["total"].as_u64().unwrap();
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "total changed while paging {query}"
        );
        let has_more = body["pagination"]["has_more"].as_bool().unwrap();
        if has_more {
            assert_eq!(
                page.len(),
                limit,
                "a page with has_more holds exactly limit: {path}"
            );
        }
        out.extend(page);
        match body["pagination"]["next_cursor"].as_str() {
            Some(c) => {
                assert!(has_more);
                cursor = Some(c.to_owned());
            }
            None => {
                assert!(!has_more);
                break;
            }
        }
    }
    (total.unwrap_or(0), out)
}

/// A `kontakt serve` child process and its base URL; killed when dropped,
/// so a failing test leaves no server behind.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until writers have had three more answers than now (or `timeout`
/// passes), so that a kill that follows lands while writes are flowing.
pub fn after_a_few_answers(acks: &std::sync::atomic::AtomicUsize, timeout: std::time::Duration) {
    use std::sync::atomic::Ordering;
    let seen = acks.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + timeout;
    while acks.load(Ordering::SeqCst) < seen + 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
