//! `GET /v1/contacts/suggest`: the typeahead dropdown (docs/api.md, Typeahead).
//!
//! Strict matches (docs/api.md, How text matches) come first in relevance order. When they are fewer
//! than `limit`, typo-tolerant matches fill up: a token of 5+ letters may be
//! one edit away from a prefix of a name or email token (two edits from 9
//! letters). The Levenshtein automaton walks only the terms within reach in
//! the term dictionary, so the cost is bounded whatever the index size.

use serde::Serialize;
use serde_json::Value;
use tantivy::Term;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Query};

use super::engine::Request;
use super::{SearchError, SearchService, add_matches};
use crate::query::params::{Sort, SortKey, SuggestRequest, TextQuery};
use crate::query::plan::{self, Clause};

/// One dropdown item.
#[derive(Debug, Serialize)]
pub struct Suggestion {
    pub id: Value,
    pub full_name: Value,
    pub job_title: Value,
    pub email: Value,
    pub company: Value,
    pub _matches: Value,
    pub fuzzy: bool,
}

/// Edits a token of `len` letters may have in the fill-up.
pub fn allowed_edits(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The fill-up condition of one `q` token: one or two edits away from a
/// prefix of a name or email token, or the strict prefix match when the
/// token is too short for edits (that one is kept like any strict clause).
fn fuzzy_token(f: &crate::index::Fields, token: &str) -> Clause {
    let edits = allowed_edits(token.chars().count());
    if edits == 0 {
        return plan::prefix_clause(f, token);
    }
    // Against the prefix fields, a whole-term match is a fuzzy prefix match.
    let clause = |field| -> Box<dyn Query> {
        Box::new(FuzzyTermQuery::new(
            Term::from_field_text(field, token),
            edits,
            true,
        ))
    };
    Clause::unkept(Box::new(BooleanQuery::union(vec![
        clause(f.name_prefix),
        clause(f.email_prefix),
    ])))
}

impl SearchService {
    pub fn suggest(&self, req: &SuggestRequest) -> Result<Vec<Suggestion>, SearchError> {
        let Some(q) = &req.filters.q else {
            return Ok(Vec::new());
        };
        let f = &self.schema.fields;
        let searcher = self.searcher();
        let engine = self.engine(&searcher);
        let strict_plan = plan::filter_plan(f, self.industries, &req.filters);
        let strict = engine.search_relevance(
            &strict_plan,
            &plan::signals(f, q),
            &Request {
                sort: Sort {
                    key: SortKey::Relevance,
                    descending: true,
                },
                after: None,
                k: req.limit,
                facets: &[],
            },
        )?;
        let mut out = Vec::with_capacity(req.limit);
        for hit in &strict.hits {
            out.push(self.suggestion(&searcher, hit.address, q, false)?);
        }
        let wanted = req.limit - out.len();
        if wanted > 0
            && q.tokens
                .iter()
                .any(|t| allowed_edits(t.chars().count()) > 0)
        {
            let without_q = crate::query::params::Filters {
                q: None,
                ..req.filters.clone()
            };
            let mut fuzzy_plan = plan::filter_plan(f, self.industries, &without_q);
            fuzzy_plan
                .must
                .extend(q.tokens.iter().map(|t| fuzzy_token(f, t)));
            // Strict matches are already listed. Both plans share the
            // filters, so "not strict" within the fuzzy plan is "not every
            // strict prefix".
            let strict_q = plan::FilterPlan {
                must: q.tokens.iter().map(|t| plan::prefix_clause(f, t)).collect(),
                must_not: Vec::new(),
            };
            let fuzzy = engine.search(
                &fuzzy_plan,
                Some(&strict_q),
                &Request {
                    sort: Sort {
                        key: SortKey::QualityScore,
                        descending: true,
                    },
                    after: None,
                    k: wanted,
                    facets: &[],
                },
            )?;
            for hit in &fuzzy.hits {
                out.push(self.suggestion(&searcher, hit.address, q, true)?);
            }
        }
        Ok(out)
    }

    fn suggestion(
        &self,
        searcher: &tantivy::Searcher,
        address: tantivy::DocAddress,
        q: &TextQuery,
        fuzzy: bool,
    ) -> Result<Suggestion, SearchError> {
        let mut record = self.record(searcher, address)?;
        add_matches(&mut record, q);
        let mut take = |k: &str| record.get_mut(k).map(Value::take).unwrap_or(Value::Null);
        Ok(Suggestion {
            id: take("id"),
            full_name: take("full_name"),
            job_title: take("job_title"),
            email: take("email"),
            company: take("company"),
            _matches: take("_matches"),
            fuzzy,
        })
    }
}
