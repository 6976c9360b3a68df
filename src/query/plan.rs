//! Typed parameters → a Tantivy query (a pure function: no index, no I/O).
//!
//! Every filter becomes a clause of one boolean query over a contact's own
//! document, so the search itself decides membership and counts stay exact.
//! Relevance, when asked for, is a sum of constant scores from optional
//! clauses (see [`relevance`]); it does not depend on corpus statistics, so a
//! contact's rank and its cursor position stay stable while the index changes.

use std::ops::Bound;

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery, RegexQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::params::{Filters, SortKey, TextQuery};
use crate::index::Fields;
use crate::index::document::{industry_terms, visibility};
use crate::model::Industries;

/// How many distinct `q` tokens contribute to relevance. More would overflow
/// the exact-integer range of the `f32` score; matching still uses them all.
pub const MAX_RANKED_TOKENS: usize = 15;

/// Weights of the relevance signals. Each signal counts at most
/// `MAX_RANKED_TOKENS` matches, so a base of 16 makes the sum a lexicographic
/// comparison: exact tokens, then own letters, then name, then start of name.
mod weight {
    pub const EXACT_TOKEN: f32 = 4096.0;
    pub const OWN_LETTERS: f32 = 256.0;
    pub const IN_NAME: f32 = 16.0;
    pub const NAME_START: f32 = 1.0;
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn u64_term(field: Field, v: u64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_u64(field, v),
        IndexRecordOption::Basic,
    ))
}

fn bool_term(field: Field, v: bool) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_bool(field, v),
        IndexRecordOption::Basic,
    ))
}

/// One of several u64 values.
fn u64_any(field: Field, values: impl IntoIterator<Item = u64>) -> Box<dyn Query> {
    let terms: Vec<Term> = values
        .into_iter()
        .map(|v| Term::from_field_u64(field, v))
        .collect();
    any_of_terms(terms)
}

/// One of several string terms.
fn text_any<S: AsRef<str>>(field: Field, values: impl IntoIterator<Item = S>) -> Box<dyn Query> {
    let terms: Vec<Term> = values
        .into_iter()
        .map(|v| Term::from_field_text(field, v.as_ref()))
        .collect();
    any_of_terms(terms)
}

fn any_of_terms(terms: Vec<Term>) -> Box<dyn Query> {
    match terms.len() {
        0 => Box::new(EmptyQuery),
        1 => Box::new(TermQuery::new(
            terms.into_iter().next().expect("one"),
            IndexRecordOption::Basic,
        )),
        _ => Box::new(TermSetQuery::new(terms)),
    }
}

/// `q` (§3): every token is a prefix of a token of the name or the email.
fn text_match(f: &Fields, q: &TextQuery) -> Vec<Box<dyn Query>> {
    q.tokens
        .iter()
        .map(|t| -> Box<dyn Query> {
            Box::new(BooleanQuery::union(vec![
                term(f.name_prefix, t),
                term(f.email_prefix, t),
            ]))
        })
        .collect()
}

/// `job_title` (§3): every token is a substring of a title token, i.e. a
/// prefix of one of the indexed suffixes.
fn title_match(f: &Fields, tokens: &[String]) -> Vec<Box<dyn Query>> {
    tokens
        .iter()
        .map(|t| -> Box<dyn Query> {
            // Tokens hold only letters and digits, none of which is special
            // in a regex.
            match RegexQuery::from_pattern(&format!("{t}.*"), f.title_suffix) {
                Ok(q) => Box::new(q),
                Err(_) => Box::new(EmptyQuery),
            }
        })
        .collect()
}

/// The industry conditions of §4.1: one industry of the company meets all
/// of them. See `industry_terms` for what each indexed term states.
fn industry_match(filters: &Filters, industries: &Industries) -> Option<Vec<String>> {
    let ids = &filters.industry_ids;
    let sections = &filters.industry_sections;
    let levels = &filters.industry_levels;
    if ids.is_empty() && sections.is_empty() && levels.is_empty() {
        return None;
    }
    let mut terms = Vec::new();
    if !ids.is_empty() {
        for &id in ids {
            let Some(ind) = industries.get(id) else {
                continue;
            };
            // Every descendant shares its ancestor's section.
            if !sections.is_empty() && !sections.contains(&ind.section) {
                continue;
            }
            if levels.is_empty() {
                terms.push(industry_terms::within(id));
            } else {
                terms.extend(
                    levels
                        .iter()
                        .map(|&l| industry_terms::within_at_level(id, l)),
                );
            }
        }
    } else if !sections.is_empty() {
        for s in sections {
            if levels.is_empty() {
                terms.push(industry_terms::section(s.letter()));
            } else {
                terms.extend(
                    levels
                        .iter()
                        .map(|&l| industry_terms::section_at_level(s.letter(), l)),
                );
            }
        }
    } else {
        terms.extend(levels.iter().map(|&l| industry_terms::level(l)));
    }
    Some(terms)
}

/// The query that selects exactly the contacts matching `filters`, scoring
/// nothing.
pub fn filter_query(f: &Fields, industries: &Industries, filters: &Filters) -> Box<dyn Query> {
    let mut must: Vec<Box<dyn Query>> = Vec::new();
    let mut must_not: Vec<Box<dyn Query>> = Vec::new();

    if let Some(id) = filters.company_id {
        must.push(u64_term(f.company_id, id));
    }
    if let Some(q) = &filters.q {
        must.extend(text_match(f, q));
    }
    if !filters.sources.is_empty() {
        must.push(u64_any(f.source, filters.sources.iter().map(|s| s.code())));
    }
    for (field, want) in [
        (f.verified, filters.verified),
        (f.has_email, filters.has_email),
        (f.has_phone, filters.has_phone),
    ] {
        if let Some(v) = want {
            must.push(bool_term(field, v));
        }
    }
    if !filters.departments.is_empty() {
        must.push(text_any(f.department, &filters.departments));
    }
    must.extend(title_match(f, &filters.job_title));
    if !filters.seniority_levels.is_empty() {
        must.push(u64_any(
            f.seniority_level,
            filters.seniority_levels.iter().map(|s| s.code()),
        ));
    }
    if filters.min_quality_score.is_some() || filters.max_quality_score.is_some() {
        let bound = |v: Option<u64>| match v {
            Some(v) => Bound::Included(Term::from_field_u64(f.quality_score, v)),
            None => Bound::Unbounded,
        };
        must.push(Box::new(RangeQuery::new(
            bound(filters.min_quality_score),
            bound(filters.max_quality_score),
        )));
    }
    if filters.min_confidence.is_some() || filters.max_confidence.is_some() {
        let bound = |v: Option<f64>| match v {
            Some(v) => Bound::Included(Term::from_field_f64(f.confidence, v)),
            None => Bound::Unbounded,
        };
        must.push(Box::new(RangeQuery::new(
            bound(filters.min_confidence),
            bound(filters.max_confidence),
        )));
    }
    if !filters.email_statuses.is_empty() {
        must.push(u64_any(
            f.email_status,
            filters.email_statuses.iter().map(|s| s.code()),
        ));
    }
    // One term (or two) on the joined flags, cheaper than two clauses.
    let visible: Vec<u64> = [(false, false), (true, false), (false, true), (true, true)]
        .into_iter()
        .filter(|(stale, spec)| {
            (!stale || !filters.exclude_stale) && (!spec || !filters.exclude_speculative)
        })
        .map(|(stale, spec)| visibility(stale, spec))
        .collect();
    if visible.len() < 4 {
        must.push(u64_any(f.visibility, visible));
    }
    if let Some(terms) = industry_match(filters, industries) {
        must.push(text_any(f.industry, terms));
    }
    if !filters.country_codes.is_empty() {
        must.push(u64_any(
            f.country,
            filters.country_codes.iter().map(|c| c.code()),
        ));
    }
    for &id in &filters.exclude_industry_ids {
        must_not.push(term(f.industry, &industry_terms::within(id)));
    }
    for c in &filters.exclude_country_codes {
        must_not.push(u64_term(f.country, c.code()));
    }

    if must.is_empty() {
        // Company records share the index; the collector skips them (they
        // have no contact id).
        must.push(Box::new(AllQuery));
    }
    let clauses = must
        .into_iter()
        .map(|q| (Occur::Must, q))
        .chain(must_not.into_iter().map(|q| (Occur::MustNot, q)))
        .collect::<Vec<_>>();
    if clauses.len() == 1 {
        return clauses.into_iter().next().expect("one").1;
    }
    Box::new(BooleanQuery::new(clauses))
}

/// The relevance signals of `q` (README: "Relevance"): a term each, and the
/// weight it adds to a contact's tier when the contact has the term.
pub fn signals(f: &Fields, q: &TextQuery) -> Vec<(Term, u64)> {
    let text = |field, t: &str| Term::from_field_text(field, t);
    let mut out = Vec::new();
    for t in q.tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.name_token, t), weight::EXACT_TOKEN as u64));
        out.push((text(f.name_prefix, t), weight::IN_NAME as u64));
    }
    for a in q.accent_tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.accent_prefix, a), weight::OWN_LETTERS as u64));
    }
    if let Some(first) = q.tokens.first() {
        out.push((text(f.name_first_prefix, first), weight::NAME_START as u64));
    }
    out
}

/// Optional clauses whose constant scores add up to the relevance tier of
/// a contact for `q`. Their sum is an integer, exact in `f32` thanks to
/// `MAX_RANKED_TOKENS`.
pub fn relevance(f: &Fields, q: &TextQuery) -> Vec<Box<dyn Query>> {
    signals(f, q)
        .into_iter()
        .map(|(t, w)| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                w as f32,
            ))
        })
        .collect()
}

/// Relevance tiers with the query selecting exactly the contacts of each,
/// best tier first, when there are few enough signals to enumerate
/// (`2^signals` combinations). Inside a tier, contacts are ordered like
/// `sort_by=quality_score`, so each tier can be served by the sorted-segment
/// path instead of scoring every match.
pub fn tiers(f: &Fields, q: &TextQuery, max_signals: usize) -> Option<Vec<(u64, Box<dyn Query>)>> {
    let signals = signals(f, q);
    if signals.len() > max_signals {
        return None;
    }
    let mut by_tier: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
    for mask in 0u32..(1 << signals.len()) {
        let tier: u64 = (0..signals.len())
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| signals[i].1)
            .sum();
        by_tier.entry(tier).or_default().push(mask);
    }
    let term = |t: &Term| -> Box<dyn Query> {
        Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic))
    };
    let tiers = by_tier
        .into_iter()
        .rev()
        .map(|(tier, masks)| {
            let exact: Vec<Box<dyn Query>> = masks
                .into_iter()
                .map(|mask| -> Box<dyn Query> {
                    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                        vec![(Occur::Must, Box::new(AllQuery))];
                    for (i, (t, _)) in signals.iter().enumerate() {
                        let occur = if mask & (1 << i) != 0 {
                            Occur::Must
                        } else {
                            Occur::MustNot
                        };
                        clauses.push((occur, term(t)));
                    }
                    Box::new(BooleanQuery::new(clauses))
                })
                .collect();
            let query: Box<dyn Query> = if exact.len() == 1 {
                exact.into_iter().next().expect("one")
            } else {
                Box::new(BooleanQuery::union(exact))
            };
            (tier, query)
        })
        .collect();
    Some(tiers)
}

/// The query to run: the filters, plus the relevance clauses when results
/// are ranked by relevance.
pub fn search_query(
    f: &Fields,
    industries: &Industries,
    filters: &Filters,
    sort_key: SortKey,
) -> Box<dyn Query> {
    let filter = filter_query(f, industries, filters);
    match (&filters.q, sort_key) {
        (Some(q), SortKey::Relevance) => {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0)))];
            clauses.extend(relevance(f, q).into_iter().map(|c| (Occur::Should, c)));
            Box::new(BooleanQuery::new(clauses))
        }
        _ => filter,
    }
}

/// The relevance tier a score stands for.
pub fn tier(score: f32) -> u64 {
    score.max(0.0).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSchema;
    use crate::query::params::{SearchRequest, decode_query_string};

    fn plan(qs: &str) -> String {
        let s = IndexSchema::declared().unwrap();
        let t = Industries::bundled();
        let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
        format!("{:?}", search_query(&s.fields, t, &r.filters, r.sort.key))
    }

    #[test]
    fn defaults_exclude_stale_and_speculative() {
        let p = plan("");
        assert!(p.contains("TermQuery"), "{p}");
        let p = plan("exclude_stale=false&exclude_speculative=false");
        assert!(p.contains("AllQuery"), "{p}");
    }

    #[test]
    fn industry_terms_join_conditions_on_one_industry() {
        let t = Industries::bundled();
        let c = t.rows().iter().find(|r| r.code == "C").unwrap().id;
        let a = t.rows().iter().find(|r| r.code == "A").unwrap().id;
        let f = |qs: &str| {
            let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
            industry_match(&r.filters, t)
        };
        assert_eq!(f(""), None);
        assert_eq!(f(&format!("industry_id={c}")), Some(vec![format!("a{c}")]));
        assert_eq!(
            f(&format!("industry_id={c}&industry_level=5,4")),
            Some(vec![format!("a{c}l4"), format!("a{c}l5")])
        );
        // An id outside the asked sections can match nothing.
        assert_eq!(
            f(&format!("industry_id={a}&industry_section=C")),
            Some(vec![])
        );
        assert_eq!(
            f("industry_section=c&industry_level=5"),
            Some(vec!["sCl5".to_owned()])
        );
        assert_eq!(f("industry_level=2"), Some(vec!["l2".to_owned()]));
    }

    #[test]
    fn tiers_are_exact_integers() {
        let max = MAX_RANKED_TOKENS as f32
            * (weight::EXACT_TOKEN + weight::OWN_LETTERS + weight::IN_NAME)
            + weight::NAME_START;
        assert_eq!(tier(max), max as u64);
        assert!(max < (1u32 << 24) as f32);
    }
}
