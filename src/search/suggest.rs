//! `GET /v1/contacts/suggest`: the typeahead dropdown (docs/api.md, Typeahead).
//!
//! Strict matches (docs/api.md, How text matches) come first in relevance order. When they are fewer
//! than `limit`, typo-tolerant matches fill up: a token of 5+ letters may be
//! one edit away from a prefix of a name or email token (two edits from 9
//! letters). The Levenshtein automaton walks only the terms within reach in
//! the term dictionary, so the cost is bounded whatever the index size.
//! Fill-up items come in tiers (one search each, until the list is full):
//! fewer edits first, and within them name matches before matches that
//! needed an email token, so `svenson` lists Svensson above a contact whose
//! email domain happens to be close. Their `_matches` mark the part of each
//! token that the typo-tolerant match covered.
//!
//! Its own cost grows with the token: an automaton has about as many states
//! as its token has letters times a constant (some thirty for two edits),
//! and folding can make a token longer than typed (256 × `æ` is 512
//! letters). So typos are tolerated in tokens of at most
//! `MAX_FUZZY_LETTERS` letters, and in at most `MAX_FUZZY_TOKENS` tokens of
//! a `q`; longer or later tokens match strictly in the fill-up too. That
//! bounds a suggest's automata to 16 of at most 32 letters each, whatever
//! `q` is (a 768-letter token cost 50–230 ms and 150 MB).

use serde_json::{Value, json};

use super::engine::Request;
use super::{SearchError, SearchService, add_matches};
use crate::query::plan;
use crate::query::request::{Sort, SortKey, SuggestRequest, TextQuery};
use crate::text;

/// One dropdown item: the contact's id, name, title, email and company,
/// `_matches` and `fuzzy`, in that order (fields a scoped key hides are
/// left out).
pub type Suggestion = serde_json::Map<String, Value>;

/// The longest token (in letters, once folded) typos are tolerated in.
pub const MAX_FUZZY_LETTERS: usize = 32;
/// The most tokens of one `q` typos are tolerated in.
pub const MAX_FUZZY_TOKENS: usize = 8;

/// Edits a token of `len` letters may have in the fill-up.
pub fn allowed_edits(len: usize) -> u8 {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        9..=MAX_FUZZY_LETTERS => plan::fuzzy::MAX_EDITS,
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

impl SearchService {
    /// Strict matches in relevance order, then typo-tolerant ones in tiers:
    /// fewest edits first (the largest over the tokens), then those whose
    /// every token matched the name before those that needed the email,
    /// then quality, then id.
    pub fn suggest(&self, req: &SuggestRequest) -> Result<Vec<Suggestion>, SearchError> {
        let Some(q) = &req.filters.q else {
            return Ok(Vec::new());
        };
        let f = &self.schema.fields;
        let scope = req.scope.as_deref();
        let searcher = self.searcher();
        let engine = self.engine(&searcher);
        let strict_plan = plan::scoped_plan(f, self.industries, &req.filters, scope);
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
            out.push(self.suggestion(&searcher, hit.address, q, false, scope)?);
        }
        let most_edits = edits_per_token(q).map(|(_, e)| e).max().unwrap_or(0);
        let without_q = crate::query::request::Filters {
            q: None,
            ..req.filters.clone()
        };
        // With the email hidden, names only (see `Scope::names_only`).
        let names_only = scope.is_some_and(|s| s.names_only());
        let tokens: Vec<(&str, u8)> = edits_per_token(q).collect();
        let tier = |distance, names| plan::fuzzy::tier(f, &tokens, distance, names);
        // Each tier leaves out what the strict match and earlier tiers took.
        let mut taken: Vec<(u8, bool)> = vec![(0, names_only)];
        for distance in 1..=most_edits {
            for names in [true, false] {
                if out.len() >= req.limit || (names_only && !names) {
                    continue;
                }
                let mut fuzzy_plan = plan::scoped_plan(f, self.industries, &without_q, scope);
                fuzzy_plan.must.push(tier(distance, names));
                // Each taken tier left out on its own (its set is kept), not
                // as a union that would be a new set for every tier.
                fuzzy_plan
                    .must_not
                    .extend(taken.iter().map(|&(d, n)| tier(d, n)));
                let fuzzy = engine.search(
                    &fuzzy_plan,
                    &Request {
                        sort: Sort {
                            key: SortKey::QualityScore,
                            descending: true,
                        },
                        after: None,
                        k: req.limit - out.len(),
                        facets: &[],
                    },
                )?;
                for hit in &fuzzy.hits {
                    out.push(self.suggestion(&searcher, hit.address, q, true, scope)?);
                }
                taken.push((distance, names));
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
        scope: Option<&crate::query::scope::Scope>,
    ) -> Result<Suggestion, SearchError> {
        let mut record = self.record(searcher, address)?;
        if fuzzy {
            let text = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or("");
            let spans = |s: &str| text::fuzzy_match_spans(s, &q.tokens, allowed_edits);
            let m = json!({"full_name": spans(text("full_name")), "email": spans(text("email"))});
            if let Some(obj) = record.as_object_mut() {
                obj.insert("_matches".to_owned(), m);
            }
        } else {
            add_matches(&mut record, q);
        }
        if let Some(scope) = scope {
            scope.strip(&mut record);
        }
        let mut item = Suggestion::new();
        for k in [
            "id",
            "full_name",
            "job_title",
            "email",
            "company",
            "_matches",
        ] {
            let hidden = scope.is_some_and(|s| s.hides(k));
            if !hidden {
                let v = record.get_mut(k).map(Value::take).unwrap_or(Value::Null);
                item.insert(k.to_owned(), v);
            }
        }
        item.insert("fuzzy".to_owned(), Value::Bool(fuzzy));
        Ok(item)
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
