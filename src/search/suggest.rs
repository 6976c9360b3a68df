//! `GET /v1/contacts/suggest`: the typeahead dropdown (§5).
//!
//! Strict matches (§3) come first in relevance order. When they are fewer
//! than `limit`, typo-tolerant matches fill up: a token of 5+ letters may be
//! one edit away from a prefix of a name or email token (two edits from 9
//! letters). The Levenshtein automaton walks only the terms within reach in
//! the term dictionary, so the cost is bounded whatever the index size.
//!
//! Its own cost grows with the token: an automaton has about as many states
//! as its token has letters times a constant (some thirty for two edits),
//! and folding can make a token longer than typed (256 × `æ` is 512
//! letters). So typos are tolerated in tokens of at most
//! `MAX_FUZZY_LETTERS` letters, and in at most `MAX_FUZZY_TOKENS` tokens of
//! a `q`; longer or later tokens match strictly in the fill-up too. That
//! bounds a suggest's automata to 16 of at most 32 letters each, whatever
//! `q` is (a 768-letter token cost 50–230 ms and 150 MB).

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

/// The longest token (in letters, once folded) typos are tolerated in.
pub const MAX_FUZZY_LETTERS: usize = 32;
/// The most tokens of one `q` typos are tolerated in.
pub const MAX_FUZZY_TOKENS: usize = 8;

/// Edits a token of `len` letters may have in the fill-up.
pub fn allowed_edits(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        9..=MAX_FUZZY_LETTERS => 2,
        _ => 0,
    }
}

/// The edits each token of `q` may have in the fill-up.
fn edits_per_token(q: &TextQuery) -> impl Iterator<Item = (&str, u8)> {
    let mut fuzzy = 0;
    q.tokens.iter().map(move |t| {
        let mut edits = allowed_edits(t.chars().count());
        if edits > 0 {
            fuzzy += 1;
            if fuzzy > MAX_FUZZY_TOKENS {
                edits = 0;
            }
        }
        (t.as_str(), edits)
    })
}

/// The fill-up condition of one `q` token: one or two edits away from a
/// prefix of a name or email token, or the strict prefix match when the
/// token is too short for edits (that one is kept like any strict clause).
fn fuzzy_token(f: &crate::index::Fields, token: &str, edits: u8) -> Clause {
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
        if wanted > 0 && edits_per_token(q).any(|(_, edits)| edits > 0) {
            let without_q = crate::query::params::Filters {
                q: None,
                ..req.filters.clone()
            };
            let mut fuzzy_plan = plan::filter_plan(f, self.industries, &without_q);
            fuzzy_plan
                .must
                .extend(edits_per_token(q).map(|(t, edits)| fuzzy_token(f, t, edits)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_tolerated_only_in_short_tokens_and_the_first_eight() {
        assert_eq!(allowed_edits(5), 1);
        assert_eq!(allowed_edits(MAX_FUZZY_LETTERS), 2);
        assert_eq!(allowed_edits(MAX_FUZZY_LETTERS + 1), 0);
        assert_eq!(allowed_edits(512), 0);
        let q = TextQuery {
            tokens: (0..10)
                .map(|i| format!("abcde{i}"))
                .chain(["ab".into()])
                .collect(),
            accent_tokens: Vec::new(),
        };
        let edits: Vec<u8> = edits_per_token(&q).map(|(_, e)| e).collect();
        assert_eq!(edits, [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    }
}
