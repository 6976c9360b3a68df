//! Executes validated requests against the index and shapes the answers.
//!
//! `query::params` validates, `query::plan` builds the Tantivy query, the
//! `collector` does one pass for total, page and facets; this module ties
//! them together and reads the stored records of the page.

pub mod collector;
pub mod facets;
pub mod suggest;

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tantivy::collector::{Count, DocSetCollector};
use tantivy::query::{BooleanQuery, Occur, TermQuery};
use tantivy::schema::{IndexRecordOption, Value as _};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::index::{self, IndexSchema};
use crate::model::Industries;
use crate::query::cursor::{self, CursorError, Position, SortValue};
use crate::query::params::{Filters, SearchRequest, Sort, SortKey, TextQuery};
use crate::query::plan;
use crate::text;
use collector::{FacetCounts, Page, PageCollector};

/// Above this many relevance signals (`2^n` tiers), relevance is scored.
const MAX_TIER_SIGNALS: usize = 5;

/// Why a search failed.
#[derive(Debug)]
pub enum SearchError {
    InvalidCursor(&'static str),
    Internal(anyhow::Error),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Internal(e.into())
    }
}

/// `pagination` of §4.3.
#[derive(Debug, Serialize)]
pub struct Pagination {
    pub limit: usize,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

/// The body of a `GET /v1/contacts` answer (§4.3).
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub data: Vec<Value>,
    pub pagination: Pagination,
    pub total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<FacetCounts>,
}

/// An open index, ready to answer.
pub struct SearchService {
    pub index: Index,
    pub reader: IndexReader,
    pub schema: IndexSchema,
    pub industries: &'static Industries,
    /// Segments are sorted by quality (see `index::settings`).
    pub sorted_by_quality: bool,
    pub facet_cache: Arc<facets::FacetCache>,
}

impl SearchService {
    /// Opens the index in `dir` (checking its schema version).
    pub fn open(dir: &Path) -> anyhow::Result<SearchService> {
        let schema = IndexSchema::declared()?;
        let index = index::open(dir, &schema)?;
        Self::from_index(index, schema)
    }

    pub fn from_index(index: Index, schema: IndexSchema) -> anyhow::Result<SearchService> {
        // Reloaded explicitly after each commit, so a search that starts after
        // a write's answer sees it.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchService {
            sorted_by_quality: index::sorted_by_quality(&index),
            facet_cache: Arc::default(),
            index,
            reader,
            schema,
            industries: Industries::bundled(),
        })
    }

    /// Whether the sorted-segment path may serve these filters: the segments
    /// are sorted, and the query matches contacts only (a visibility clause
    /// excludes company records).
    pub fn quality_fast_path(&self, filters: &crate::query::params::Filters) -> bool {
        self.sorted_by_quality && (filters.exclude_stale || filters.exclude_speculative)
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
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
        let fingerprint = cursor::fingerprint(&req.filters, &req.sort);
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
        let searcher = self.searcher();
        let tiered = if req.sort.key == SortKey::Relevance {
            self.page_by_tiers(
                &searcher,
                &req.filters,
                &req.facets,
                after.clone(),
                req.limit + 1,
            )?
        } else {
            None
        };
        let mut page = match tiered {
            Some(page) => page,
            None => {
                let query = plan::search_query(
                    &self.schema.fields,
                    self.industries,
                    &req.filters,
                    req.sort.key,
                );
                let collector = PageCollector {
                    sorted_by_quality: self.quality_fast_path(&req.filters),
                    sort: req.sort,
                    after,
                    k: req.limit + 1,
                    facets: req.facets.clone(),
                    facet_cache: Some(self.facet_cache.clone()),
                };
                if !req.facets.is_empty() {
                    let live = searcher
                        .segment_readers()
                        .iter()
                        .map(|r| r.segment_id())
                        .collect();
                    self.facet_cache.retain(&live);
                }
                searcher.search(&*query, &collector)?
            }
        };

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
            let mut contact = self.record(&searcher, hit.address)?;
            if let Some(q) = highlight {
                add_matches(&mut contact, q);
            }
            data.push(contact);
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

    /// Relevance order without scoring every match: the tiers of `q`, best
    /// first, each served in quality order by the sorted-segment path, until
    /// `k` contacts after the cursor are found; the total is counted apart.
    /// `None` when this path does not apply (facets, unsorted segments, a
    /// query that may match company records, too many signals).
    pub fn page_by_tiers(
        &self,
        searcher: &Searcher,
        filters: &Filters,
        facets: &[crate::query::params::Facet],
        after: Option<Position>,
        k: usize,
    ) -> Result<Option<Page>, SearchError> {
        let Some(q) = &filters.q else { return Ok(None) };
        if !facets.is_empty() || !self.quality_fast_path(filters) {
            return Ok(None);
        }
        let f = &self.schema.fields;
        let Some(tiers) = plan::tiers(f, q, MAX_TIER_SIGNALS) else {
            return Ok(None);
        };
        let filter = plan::filter_query(f, self.industries, filters);
        let total = searcher.search(&*filter, &Count)? as u64;
        // The cursor's tier, and its place inside that tier.
        let cursor = after.map(|p| match p.value {
            SortValue::Num(v) => (
                (v >> 64) as u64,
                Position {
                    value: SortValue::Num(v & u128::from(u64::MAX)),
                    id: p.id,
                },
            ),
            SortValue::Text(_) => (0, p),
        });
        let mut hits = Vec::with_capacity(k);
        for (tier, condition) in tiers {
            if hits.len() == k {
                break;
            }
            let after = match &cursor {
                Some((t, _)) if tier > *t => continue,
                Some((t, pos)) if tier == *t => Some(pos.clone()),
                _ => None,
            };
            let query = BooleanQuery::new(vec![
                (Occur::Must, filter.box_clone()),
                (Occur::Must, condition),
            ]);
            let page = searcher.search(
                &query,
                &PageCollector {
                    sorted_by_quality: true,
                    sort: Sort {
                        key: SortKey::QualityScore,
                        descending: true,
                    },
                    after,
                    k: k - hits.len(),
                    facets: Vec::new(),
                    facet_cache: None,
                },
            )?;
            hits.extend(page.hits.into_iter().map(|mut h| {
                if let SortValue::Num(quality) = h.value {
                    h.value = SortValue::Num(u128::from(tier) << 64 | quality);
                }
                h
            }));
        }
        Ok(Some(Page {
            total,
            hits,
            facets: Default::default(),
        }))
    }

    /// The stored JSON of a document.
    pub fn record(
        &self,
        searcher: &Searcher,
        address: tantivy::DocAddress,
    ) -> Result<Value, SearchError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let bytes = doc
            .get_first(self.schema.fields.record)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| SearchError::Internal(anyhow::anyhow!("document without a record")))?;
        serde_json::from_slice(bytes).map_err(|e| SearchError::Internal(e.into()))
    }

    /// `GET /v1/contacts/{id}`: the contact, stale or speculative alike.
    pub fn contact(&self, id: u64) -> Result<Option<Value>, SearchError> {
        // Company records carry id 0; no contact does.
        if id == 0 {
            return Ok(None);
        }
        self.lookup(Term::from_field_u64(self.schema.fields.id, id))
    }

    /// A company record by id.
    pub fn company(&self, id: u64) -> Result<Option<Value>, SearchError> {
        self.lookup(Term::from_field_u64(self.schema.fields.company_key, id))
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

/// Adds `_matches` (§4.3): offsets in the original text of what `q` matched.
pub fn add_matches(contact: &mut Value, q: &TextQuery) {
    let spans = |field: &str| -> Value {
        let spans = contact
            .get(field)
            .and_then(Value::as_str)
            .map(|s| text::prefix_match_spans(s, &q.tokens))
            .unwrap_or_default();
        serde_json::to_value(spans).expect("spans serialize")
    };
    let matches = serde_json::json!({"full_name": spans("full_name"), "email": spans("email")});
    if let Some(obj) = contact.as_object_mut() {
        obj.insert("_matches".to_owned(), matches);
    }
}
