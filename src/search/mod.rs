//! Executes validated requests against the index and shapes the answers.
//!
//! `query::params` validates into the `query::request` types (the only
//! part of `query` read here besides `plan` and `cursor`), `query::plan`
//! builds the clauses, the `engine` runs them per segment as bitsets (kept in `cache`) and yields
//! total, page and facets; this module ties them together and reads the
//! stored records of the page.

pub mod bits;
pub mod cache;
pub mod engine;
pub mod facets;
pub mod order;
pub mod steps;
pub mod suggest;
pub mod vocabulary;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::TermQuery;
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::index::tag::Tag;
use crate::index::{self, IndexSchema};
use crate::model::Industries;
use crate::query::cursor::{self, CursorError, Position};
use crate::query::plan;
use crate::query::request::{SearchRequest, SortKey, TextQuery};
use crate::query::scope::Scope;
use crate::text;
use engine::{Engine, Request};
use facets::FacetCounts;
use sha2::Digest as _;

/// Why a search failed.
#[derive(Debug)]
pub enum SearchError {
    InvalidCursor(&'static str),
    /// A stored record could not be read back: the index is damaged.
    Unreadable(String),
    Internal(anyhow::Error),
}

/// A stored record at `address` that could not be read (logged, counted).
fn unreadable(address: tantivy::DocAddress, why: impl std::fmt::Display) -> SearchError {
    crate::metrics::count_unreadable_record();
    tracing::error!(
        segment = address.segment_ord,
        doc = address.doc_id,
        error = %why,
        "a stored record could not be read: the index is damaged"
    );
    SearchError::Unreadable(format!(
        "a stored record could not be read ({why}): the index is damaged"
    ))
}

impl std::fmt::Display for SearchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchError::InvalidCursor(why) => write!(f, "invalid cursor: {why}"),
            SearchError::Unreadable(m) => f.write_str(m),
            SearchError::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl std::error::Error for SearchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SearchError::Internal(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Internal(e.into())
    }
}

/// `pagination` (docs/api.md, The answer).
#[derive(Debug, Serialize)]
pub struct Pagination {
    pub limit: usize,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// The body of a `GET /v1/contacts` answer (docs/api.md, The answer).
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub data: Vec<Box<RawValue>>,
    pub pagination: Pagination,
    pub total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<FacetCounts>,
}

/// Searches slower than this are logged (debug level) with the state of
/// the caches.
const SLOW_SEARCH: Duration = Duration::from_millis(8);

/// An open index, ready to answer.
pub struct SearchService {
    pub index: Index,
    /// Where the index lives.
    pub dir: std::path::PathBuf,
    /// The state of the storage under it (a full disk, a failed fsync).
    pub storage: Arc<index::Storage>,
    reader: IndexReader,
    pub schema: IndexSchema,
    pub industries: &'static Industries,
    pub cache: Arc<cache::SegmentCache>,
    /// Held for a whole reload: Tantivy's reload reads the commit, then
    /// installs the searcher, so two at once could install the older last.
    reloading: std::sync::Mutex<()>,
    /// A warm-up is running, and another was asked for (see
    /// `warm_in_background`).
    warming: AtomicBool,
    rewarm: AtomicBool,
}

impl SearchService {
    /// Opens the index in `dir`, checking its schema version and its files'
    /// checksums (`index::open_verified`).
    pub fn open(dir: &Path) -> anyhow::Result<SearchService> {
        let schema = IndexSchema::declared()?;
        let (index, storage) = index::open_verified(dir, &schema)?;
        Self::from_index(index, schema, dir, storage)
    }

    /// Serves `index`, which lives in `dir` on `storage`.
    pub fn from_index(
        index: Index,
        schema: IndexSchema,
        dir: &Path,
        storage: Arc<index::Storage>,
    ) -> anyhow::Result<SearchService> {
        // Reloaded explicitly after each commit, so a search that starts after
        // a write's answer sees it.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchService {
            cache: Arc::default(),
            reloading: std::sync::Mutex::new(()),
            warming: AtomicBool::new(false),
            rewarm: AtomicBool::new(false),
            index,
            dir: dir.to_path_buf(),
            storage,
            reader,
            schema,
            industries: Industries::bundled(),
        })
    }

    /// The cache budget for this index when none is set:
    /// `cache::BYTES_PER_DOC` per document, at least `cache::DEFAULT_BUDGET`.
    pub fn default_cache_budget(&self) -> usize {
        let docs: u64 = self
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.max_doc()))
            .sum();
        (docs as usize)
            .saturating_mul(cache::BYTES_PER_DOC)
            .max(cache::DEFAULT_BUDGET)
    }

    /// The same service with `bytes` for what searches keep (see `cache`).
    pub fn with_cache_budget(mut self, bytes: usize) -> SearchService {
        self.cache = Arc::new(cache::SegmentCache::new(bytes));
        self
    }

    /// Makes searches started from now on see the last commit, and drops
    /// what the caches kept for segments merged away (here rather than in
    /// the first search of the new searcher, which would pay for it).
    pub fn reload(&self) -> tantivy::Result<()> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        self.reader.reload()?;
        self.engine(&self.searcher()).forget_merged_segments();
        Ok(())
    }

    /// A replica's reload: builds what searches keep for the segments of
    /// the last commit (as `warm_in_background` does) *before* searches see
    /// them, then reloads. Nobody waits on a replica's new generation the
    /// way a writer waits on its commit, so it can wait for the warm-up,
    /// and searches never pay for a new segment's first use.
    pub fn warm_then_reload(&self) -> tantivy::Result<()> {
        let next: IndexReader = self
            .index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        self.engine(&next.searcher()).warm(false)?;
        self.reload()
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// The engine over `searcher`.
    pub fn engine<'a>(&'a self, searcher: &'a Searcher) -> Engine<'a> {
        Engine {
            searcher,
            fields: &self.schema.fields,
            cache: &self.cache,
            search: self.cache.next_search(),
            built: Default::default(),
            walks: Default::default(),
        }
    }

    /// Builds, in a background thread, what the first searches of each
    /// segment would otherwise build on the spot: the sort permutations and
    /// the live-contact bitset. Called at start and after each commit (a
    /// merged segment is new to the caches).
    pub fn warm_in_background(self: &Arc<Self>) {
        // A warm-up asked for while one runs is run after it: the segments
        // of the newer searcher may not be covered yet.
        self.rewarm.store(true, Ordering::Release);
        if self.warming.swap(true, Ordering::AcqRel) {
            return;
        }
        let service = self.clone();
        let spawned = std::thread::Builder::new()
            .name("kontakt-warm".into())
            .spawn(move || {
                // Behind searches; not SCHED_IDLE: it takes the caches' lock.
                crate::priority::lower_this_thread(crate::priority::Tier::Writing);
                loop {
                    while service.rewarm.swap(false, Ordering::AcqRel) {
                        let searcher = service.searcher();
                        let engine = service.engine(&searcher);
                        let started = std::time::Instant::now();
                        if let Err(e) = engine.warm(false) {
                            tracing::warn!(error = %e, "warming the search caches failed");
                        }
                        if let Err(e) = service.merge_vocabularies(&searcher) {
                            tracing::warn!(error = %e, "merging the term dictionaries failed");
                        }
                        tracing::debug!(
                            ms = started.elapsed().as_secs_f64() * 1e3,
                            generation = searcher.generation().generation_id(),
                            segments = searcher.segment_readers().len(),
                            "warmed"
                        );
                    }
                    service.warming.store(false, Ordering::Release);
                    // One more look: a request may have come between the last
                    // check and the store above.
                    if !service.rewarm.load(Ordering::Acquire)
                        || service.warming.swap(true, Ordering::AcqRel)
                    {
                        return;
                    }
                }
            });
        if let Err(e) = spawned {
            self.warming.store(false, Ordering::Release);
            tracing::warn!(error = %e, "could not start the cache warm-up");
        }
    }

    /// Builds the vocabularies of the fields typo automata walk, where the
    /// kept ones no longer cover most of `searcher` (see `vocabulary`).
    pub fn merge_vocabularies(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let f = &self.schema.fields;
        for field in [f.name_token, f.email_prefix] {
            let started = std::time::Instant::now();
            let kept = self.cache.vocabulary(field);
            if let Some(merged) = vocabulary::Vocabulary::wanted(kept.as_deref(), searcher, field)?
            {
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    bytes = merged.heap_bytes(),
                    "merged a term dictionary"
                );
                self.cache.keep_vocabulary(field, merged);
            }
        }
        Ok(())
    }

    /// Number of contacts in the index (company records, id 0, excluded).
    pub fn contact_count(&self) -> anyhow::Result<u64> {
        // Every live document minus the company records (all id 0): one
        // posting list instead of a walk over the index, since /ready and
        // /metrics ask on every poll.
        let searcher = self.searcher();
        let companies = TermQuery::new(
            Term::from_field_u64(self.schema.fields.id, 0),
            IndexRecordOption::Basic,
        );
        let companies = searcher.search(&companies, &Count)? as u64;
        Ok(searcher.num_docs() - companies)
    }

    /// `GET /v1/contacts`.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults, SearchError> {
        let mut fingerprint = cursor::fingerprint(&req.filters, &req.sort);
        // A cursor made under another scope (or none) is another query's.
        if let Some(scope) = &req.scope {
            let mixed = sha2::Sha256::digest([fingerprint, scope.binding].concat());
            fingerprint.copy_from_slice(&mixed[..16]);
        }
        let after = match &req.cursor {
            None => None,
            Some(token) => Some(cursor::decode(token, &fingerprint).map_err(|e| {
                SearchError::InvalidCursor(match e {
                    CursorError::Malformed => "cursor is malformed or was altered",
                    CursorError::OtherQuery => {
                        "cursor belongs to a different query (filters, q or sort changed)"
                    }
                })
            })?),
        };
        let started = std::time::Instant::now();
        let debug = tracing::enabled!(tracing::Level::DEBUG);
        let cpu_started = if debug { thread_cpu() } else { Duration::ZERO };
        let searcher = self.searcher();
        let engine = self.engine(&searcher);
        let plan = plan::scoped_plan(
            &self.schema.fields,
            self.industries,
            &req.filters,
            req.scope.as_deref(),
        );
        let engine_req = Request {
            sort: req.sort,
            after: after.as_ref(),
            k: req.limit + 1,
            facets: &req.facets,
        };
        let mut page = match (&req.filters.q, req.sort.key) {
            (Some(q), SortKey::Relevance) => {
                let signals = plan::signals(&self.schema.fields, q);
                engine.search_relevance(&plan, &signals, &engine_req)?
            }
            _ => engine.search(&plan, &engine_req)?,
        };

        let searched = started.elapsed();
        // Every asked facet is present, also with no segment to count in.
        for f in &req.facets {
            page.facets.entry(f.as_str()).or_default();
        }
        let has_more = page.hits.len() > req.limit;
        page.hits.truncate(req.limit);
        let next_cursor = match page.hits.last() {
            Some(last) if has_more => Some(cursor::encode(
                &fingerprint,
                &Position {
                    value: last.value.clone(),
                    id: last.id,
                },
            )),
            _ => None,
        };
        // Without a q, every contact still carries `_matches`, empty.
        let no_tokens = TextQuery {
            tokens: Vec::new(),
            accent_tokens: Vec::new(),
        };
        let highlight = req
            .highlight
            .then(|| req.filters.q.as_ref().unwrap_or(&no_tokens));
        let mut data = Vec::with_capacity(page.hits.len());
        for hit in &page.hits {
            let mut json = self.stored(&searcher, hit.address)?;
            if let Some(q) = highlight {
                json = with_matches(json, q).map_err(|e| unreadable(hit.address, e))?;
            }
            if let Some(scope) = req
                .scope
                .as_deref()
                .filter(|s| !s.restrictions.hide.is_empty())
            {
                let mut value: Value =
                    serde_json::from_slice(&json).map_err(|e| SearchError::Internal(e.into()))?;
                scope.strip(&mut value);
                json = serde_json::to_vec(&value).map_err(|e| SearchError::Internal(e.into()))?;
            }
            // The stored record is the contact as the API returns it: passed
            // through (checked as JSON by `RawValue`, not built again).
            let json = String::from_utf8(json)
                .map_err(|e| e.to_string())
                .and_then(|j| RawValue::from_string(j).map_err(|e| e.to_string()))
                .map_err(|e| unreadable(hit.address, e))?;
            data.push(json);
        }
        if debug && started.elapsed() > SLOW_SEARCH {
            let cpu = thread_cpu().saturating_sub(cpu_started);
            self.log_slow(
                &searcher,
                req,
                started.elapsed(),
                searched,
                cpu,
                &engine.built,
            );
        }
        Ok(SearchResults {
            data,
            pagination: Pagination {
                limit: req.limit,
                has_more,
                next_cursor,
            },
            total: page.total,
            facets: (!req.facets.is_empty()).then_some(page.facets),
        })
    }

    /// Logs (at debug level) a slow search with what the index looked like:
    /// how many segments, how many documents were in segments that the
    /// warm-up had not reached yet, and the clause sets it had to build. Not the filters: they carry what users
    /// search for, which no log holds.
    fn log_slow(
        &self,
        searcher: &Searcher,
        req: &SearchRequest,
        took: Duration,
        searched: Duration,
        cpu: Duration,
        built: &engine::Built,
    ) {
        let sort = crate::query::request::Sort {
            key: SortKey::QualityScore,
            descending: true,
        };
        let segments = searcher.segment_readers();
        let cold: Vec<u32> = segments
            .iter()
            .filter(|r| self.cache.built_permutation(r.segment_id(), sort).is_none())
            .map(|r| r.max_doc())
            .collect();
        tracing::debug!(
            ms = took.as_secs_f64() * 1e3,
            search_ms = searched.as_secs_f64() * 1e3,
            cpu_ms = cpu.as_secs_f64() * 1e3,
            segments = segments.len(),
            cold_segments = cold.len(),
            cold_docs = cold.iter().sum::<u32>(),
            built_sets = built.sets.load(Ordering::Relaxed),
            built_docs = built.docs.load(Ordering::Relaxed),
            built_ms = built.nanos.load(Ordering::Relaxed) as f64 / 1e6,
            generation = searcher.generation().generation_id(),
            sort = ?req.sort,
            "slow search"
        );
    }

    /// The stored JSON of a document, as bytes. A read that fails is
    /// [`SearchError::Unreadable`], also when Tantivy panics on a block
    /// that decompresses to garbage (the last guard: files are checked
    /// against their checksums when the index is opened, but they can rot
    /// under a running server).
    pub fn stored(
        &self,
        searcher: &Searcher,
        address: tantivy::DocAddress,
    ) -> Result<Vec<u8>, SearchError> {
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            searcher.doc::<TantivyDocument>(address)
        }));
        let doc = match read {
            Ok(Ok(doc)) => doc,
            Ok(Err(e)) => return Err(unreadable(address, e)),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic");
                return Err(unreadable(address, why));
            }
        };
        doc.get_first(self.schema.fields.record)
            .and_then(|v| v.as_bytes())
            .map(<[u8]>::to_vec)
            .ok_or_else(|| unreadable(address, "document without a record"))
    }

    /// The stored JSON of a document.
    pub fn record(
        &self,
        searcher: &Searcher,
        address: tantivy::DocAddress,
    ) -> Result<Value, SearchError> {
        serde_json::from_slice(&self.stored(searcher, address)?).map_err(|e| unreadable(address, e))
    }

    /// `GET /v1/contacts/{id}`: the contact, stale or speculative alike.
    pub fn contact(&self, id: u64) -> Result<Option<Value>, SearchError> {
        // Company records carry id 0; no contact does.
        if id == 0 {
            return Ok(None);
        }
        self.lookup(Term::from_field_u64(self.schema.fields.id, id))
    }

    /// `GET /v1/contacts/{id}` with a scoped key: the contact only when it
    /// is within the scope (stale or speculative alike, unless the scope
    /// itself excludes them), its hidden fields left out.
    pub fn contact_in(&self, id: u64, scope: &Scope) -> Result<Option<Value>, SearchError> {
        if id == 0 {
            return Ok(None);
        }
        let searcher = self.searcher();
        let engine = self.engine(&searcher);
        let mut plan = plan::scoped_plan(
            &self.schema.fields,
            self.industries,
            &Default::default(),
            Some(scope),
        );
        plan.must
            .push(plan::Clause::unkept_term(Term::from_field_u64(
                self.schema.fields.id,
                id,
            )));
        let page = engine.search(
            &plan,
            &Request {
                sort: crate::query::request::Sort {
                    key: SortKey::QualityScore,
                    descending: true,
                },
                after: None,
                k: 1,
                facets: &[],
            },
        )?;
        match page.hits.first() {
            Some(hit) => {
                let mut record = self.record(&searcher, hit.address)?;
                scope.strip(&mut record);
                Ok(Some(record))
            }
            None => Ok(None),
        }
    }

    /// A company record by id.
    pub fn company(&self, id: u64) -> Result<Option<Value>, SearchError> {
        self.lookup(Tag::CompanyRecord(id).term(&self.schema.fields))
    }

    fn lookup(&self, term: Term) -> Result<Option<Value>, SearchError> {
        let searcher = self.searcher();
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let found = searcher.search(&query, &DocSetCollector)?;
        match found.into_iter().next() {
            Some(address) => Ok(Some(self.record(&searcher, address)?)),
            None => Ok(None),
        }
    }
}

/// The `_matches` object (docs/api.md, The answer) for a name and an email.
fn matches(full_name: Option<&str>, email: Option<&str>, q: &TextQuery) -> Value {
    let spans = |s: Option<&str>| {
        s.map(|s| text::prefix_match_spans(s, &q.tokens))
            .unwrap_or_default()
    };
    serde_json::json!({"full_name": spans(full_name), "email": spans(email)})
}

/// A stored contact (a JSON object) with `_matches` added as its last key.
fn with_matches(mut json: Vec<u8>, q: &TextQuery) -> Result<Vec<u8>, String> {
    #[derive(serde::Deserialize)]
    struct Text<'a> {
        #[serde(borrow)]
        full_name: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow)]
        email: Option<std::borrow::Cow<'a, str>>,
    }
    let text: Text = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
    let m = matches(text.full_name.as_deref(), text.email.as_deref(), q);
    let closing = json
        .iter()
        .rposition(|&b| b == b'}')
        .ok_or("stored contact is not an object")?;
    let mut tail = br#","_matches":"#.to_vec();
    serde_json::to_writer(&mut tail, &m).map_err(|e| e.to_string())?;
    json.splice(closing..closing, tail);
    Ok(json)
}

/// Adds `_matches` (docs/api.md, The answer): offsets in the original text of what `q` matched.
pub fn add_matches(contact: &mut Value, q: &TextQuery) {
    let m = matches(
        contact.get("full_name").and_then(Value::as_str),
        contact.get("email").and_then(Value::as_str),
        q,
    );
    if let Some(obj) = contact.as_object_mut() {
        obj.insert("_matches".to_owned(), m);
    }
}

/// CPU time of the calling thread so far (zero where it cannot be read):
/// a slow search that used little of it waited (for a core, a lock, or the
/// threads it handed its segments to).
fn thread_cpu() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes one timespec the call owns.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    Duration::ZERO
}
