//! Typed parameters → a search plan (a pure function: no index, no I/O).
//!
//! Every filter becomes one clause: a Tantivy query over a contact's own
//! document, with a key naming what it selects. The search runs each clause
//! per segment into a bitset (kept under its key, so a clause such as
//! `country_code=SE` is read from the index once, not once per search) and
//! combines them; counts stay exact because membership is decided by the
//! clauses alone. Relevance, when asked for, is a set of signal terms whose
//! weights add up to a tier (see [`signals`]); it does not depend on corpus
//! statistics, so a contact's rank and its cursor position stay stable
//! while the index changes.

use tantivy::Term;
use tantivy::query::{EmptyQuery, Query, TermQuery, TermSetQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::cursor::f64_key;
use super::params::{Filters, SortKey, TextQuery};
use crate::index::Fields;
use crate::index::document::visibility;
use crate::index::tag::Tag;
use crate::model::Industries;

/// How many distinct `q` tokens contribute to relevance. With base-16
/// weights, more could carry one signal into the next; matching still uses
/// them all.
pub const MAX_RANKED_TOKENS: usize = 15;

/// Weights of the relevance signals. Each signal counts at most
/// `MAX_RANKED_TOKENS` matches, so a base of 16 makes the sum a lexicographic
/// comparison: exact tokens, then own letters, then name, then start of name.
mod weight {
    pub const EXACT_TOKEN: u64 = 4096;
    pub const OWN_LETTERS: u64 = 256;
    pub const IN_NAME: u64 = 16;
    pub const NAME_START: u64 = 1;
}

/// One condition of a search, and the key its per-segment result may be
/// kept under (`None`: not worth keeping, such as a fuzzy expansion).
pub struct Clause {
    pub key: Option<String>,
    pub kind: ClauseKind,
}

/// How a clause selects its documents.
pub enum ClauseKind {
    /// Those a Tantivy query selects.
    Query(Box<dyn Query>),
    /// Those any of these clauses selects. Each is kept on its own, so
    /// `source=twitter,manual` reuses the bitsets of single sources.
    AnyOf(Vec<Clause>),
    /// Those whose `normalize(full_name)` starts with this (a `q` token): a
    /// slice of the segment's name-order permutation.
    NameStartsWith(String),
    /// Those holding a term of `field` that contains `token` (a job title
    /// token): a scan of the field's dictionary of distinct terms.
    Substring { field: Field, token: String },
    /// Those whose sort key (in the local form of `query::cursor`: the value
    /// for quality, `f64_key` for confidence) lies in an inclusive range;
    /// read off the segment's permutation in that order.
    KeyRange {
        key: SortKey,
        lo: Option<u128>,
        hi: Option<u128>,
    },
}

/// Above this many terms, a list is one `TermSetQuery` rather than a union
/// of single-term bitsets.
const MAX_UNION_TERMS: usize = 8;

impl Clause {
    fn keyed(key: String, query: Box<dyn Query>) -> Clause {
        Clause {
            key: Some(key),
            kind: ClauseKind::Query(query),
        }
    }

    /// A clause computed afresh on every search.
    pub fn unkept(query: Box<dyn Query>) -> Clause {
        Clause {
            key: None,
            kind: ClauseKind::Query(query),
        }
    }

    /// One term.
    pub fn term_of(term: Term) -> Clause {
        Clause::keyed(
            format!("{term:?}"),
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        )
    }

    /// One of several terms.
    fn any_of(mut terms: Vec<Term>) -> Clause {
        terms.sort();
        terms.dedup();
        match terms.len() {
            0 => Clause::keyed("none".to_owned(), Box::new(EmptyQuery)),
            1 => Clause::term_of(terms.pop().expect("one")),
            n if n <= MAX_UNION_TERMS => Clause {
                key: Some(format!("union{terms:?}")),
                kind: ClauseKind::AnyOf(terms.into_iter().map(Clause::term_of).collect()),
            },
            _ => Clause::keyed(format!("any{terms:?}"), Box::new(TermSetQuery::new(terms))),
        }
    }

    /// One of many terms, kept under `key` (which must name the set).
    fn any_of_keyed(key: String, terms: Vec<Term>) -> Clause {
        if terms.len() <= MAX_UNION_TERMS {
            return Clause::any_of(terms);
        }
        Clause::keyed(key, Box::new(TermSetQuery::new(terms)))
    }

    fn key_range(key: SortKey, lo: Option<u128>, hi: Option<u128>) -> Clause {
        Clause {
            key: Some(format!("{key:?}:{lo:?}..{hi:?}")),
            kind: ClauseKind::KeyRange { key, lo, hi },
        }
    }
}

/// What a search must select: contacts meeting every `must` clause and no
/// `must_not` clause. (Company records and deleted documents are left out
/// by the search itself.)
#[derive(Default)]
pub struct FilterPlan {
    pub must: Vec<Clause>,
    pub must_not: Vec<Clause>,
}

/// Documents with any of `tags`.
fn tag_any<'a>(f: &Fields, tags: impl IntoIterator<Item = Tag<'a>>) -> Clause {
    Clause::any_of(tags.into_iter().map(|t| t.term(f)).collect())
}

/// `q` (docs/api.md, How text matches), one token: a prefix of a token of the name or the email.
pub fn prefix_clause(f: &Fields, token: &str) -> Clause {
    // The union is kept; of its halves only the name one, which is also the
    // "in name" relevance signal: the email half serves the union alone.
    let term = |field| Term::from_field_text(field, token);
    let email = Clause::unkept(Box::new(TermQuery::new(
        term(f.email_prefix),
        IndexRecordOption::Basic,
    )));
    Clause {
        key: Some(format!("q:{token}")),
        kind: ClauseKind::AnyOf(vec![Clause::term_of(term(f.name_prefix)), email]),
    }
}

/// `job_title` (docs/api.md, How text matches), one token: a substring of a title token. Titles
/// repeat, so the dictionary of whole title tokens is small enough to scan.
fn title_clause(f: &Fields, token: &str) -> Clause {
    Clause {
        key: Some(format!("title:{token}")),
        kind: ClauseKind::Substring {
            field: f.title_token,
            token: token.to_owned(),
        },
    }
}

/// The industries of the table within `ancestor` (itself included; all
/// of them for `None`) that pass `keep`, in id order.
fn industries_within(
    industries: &Industries,
    ancestor: Option<u32>,
    keep: impl Fn(&crate::model::Industry) -> bool,
) -> Vec<u64> {
    let keep = |row: &crate::model::Industry| keep(row).then_some(u64::from(row.id));
    match ancestor {
        Some(id) => industries
            .self_and_descendants(id)
            .iter()
            .filter_map(|&d| industries.get(d).and_then(keep))
            .collect(),
        None => industries.rows().iter().filter_map(keep).collect(),
    }
}

/// The industry conditions (docs/api.md, Industry filters): one industry `I` of the company meets
/// all of them. The table is fixed, so the conditions become sets of ids
/// `I` may be; a contact matches when its company has one of them. The
/// sets come in pieces (per asked id, section or level, and level), each
/// kept on its own, so a new combination of sections reuses the pieces.
fn industry_pieces(filters: &Filters, industries: &Industries) -> Option<Vec<(String, Vec<u64>)>> {
    let ids = &filters.industry_ids;
    let sections = &filters.industry_sections;
    let levels: Vec<Option<u8>> = if filters.industry_levels.is_empty() {
        vec![None]
    } else {
        filters.industry_levels.iter().map(|&l| Some(l)).collect()
    };
    if ids.is_empty() && sections.is_empty() && levels == [None] {
        return None;
    }
    let at = |row: &crate::model::Industry, level: Option<u8>| level.is_none_or(|l| row.level == l);
    let mut pieces = Vec::new();
    for &level in &levels {
        if !ids.is_empty() {
            for &id in ids {
                // Every descendant shares its ancestor's section.
                let section_ok = industries
                    .get(id)
                    .is_some_and(|i| sections.is_empty() || sections.contains(&i.section));
                if section_ok {
                    let set = industries_within(industries, Some(id), |r| at(r, level));
                    pieces.push((format!("industry:within {id} at {level:?}"), set));
                }
            }
        } else if !sections.is_empty() {
            for &section in sections {
                let set =
                    industries_within(industries, None, |r| r.section == section && at(r, level));
                pieces.push((format!("industry:section {section:?} at {level:?}"), set));
            }
        } else {
            let set = industries_within(industries, None, |r| at(r, level));
            pieces.push((format!("industry:at {level:?}"), set));
        }
    }
    Some(pieces)
}

/// The ids a company may have to meet the industry conditions (all pieces).
#[cfg(test)]
fn industry_match(filters: &Filters, industries: &Industries) -> Option<Vec<u64>> {
    industry_pieces(filters, industries).map(all_ids)
}

/// Every id of the pieces, once each, in order.
fn all_ids(pieces: Vec<(String, Vec<u64>)>) -> Vec<u64> {
    let mut ids: Vec<u64> = pieces.into_iter().flat_map(|(_, ids)| ids).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Above this many pieces, the industry condition is one clause.
const MAX_INDUSTRY_PIECES: usize = 16;

fn industry_clause(f: &Fields, key: String, pieces: Vec<(String, Vec<u64>)>) -> Clause {
    let terms = |ids: Vec<u64>| -> Vec<Term> {
        ids.into_iter()
            .map(|id| Tag::Industry(id).term(f))
            .collect()
    };
    if pieces.len() > MAX_INDUSTRY_PIECES {
        return Clause::any_of_keyed(key, terms(all_ids(pieces)));
    }
    let mut parts: Vec<Clause> = pieces
        .into_iter()
        .map(|(key, ids)| Clause::any_of_keyed(key, terms(ids)))
        .collect();
    if parts.len() == 1 {
        return parts.pop().expect("one");
    }
    // The union is kept too: its pieces are shared with other conditions,
    // the union itself is what this condition costs per search.
    Clause {
        key: Some(key),
        kind: ClauseKind::AnyOf(parts),
    }
}

/// The plan that selects exactly the contacts matching `filters`.
pub fn filter_plan(f: &Fields, industries: &Industries, filters: &Filters) -> FilterPlan {
    let mut plan = FilterPlan::default();
    let must = &mut plan.must;

    if let Some(id) = filters.company_id {
        must.push(Clause::term_of(Tag::Company(id).term(f)));
    }
    if let Some(q) = &filters.q {
        must.extend(q.tokens.iter().map(|t| prefix_clause(f, t)));
    }
    if !filters.sources.is_empty() {
        must.push(tag_any(
            f,
            filters.sources.iter().map(|s| Tag::Source(s.code())),
        ));
    }
    for (tag, want) in [
        (Tag::Verified as fn(bool) -> Tag<'static>, filters.verified),
        (Tag::HasEmail, filters.has_email),
        (Tag::HasPhone, filters.has_phone),
    ] {
        if let Some(v) = want {
            must.push(Clause::term_of(tag(v).term(f)));
        }
    }
    if !filters.departments.is_empty() {
        must.push(tag_any(
            f,
            filters.departments.iter().map(|d| Tag::Department(d)),
        ));
    }
    must.extend(filters.job_title.iter().map(|t| title_clause(f, t)));
    if !filters.seniority_levels.is_empty() {
        must.push(tag_any(
            f,
            filters
                .seniority_levels
                .iter()
                .map(|s| Tag::Seniority(s.code())),
        ));
    }
    if filters.min_quality_score.is_some() || filters.max_quality_score.is_some() {
        must.push(Clause::key_range(
            SortKey::QualityScore,
            filters.min_quality_score.map(u128::from),
            filters.max_quality_score.map(u128::from),
        ));
    }
    if filters.min_confidence.is_some() || filters.max_confidence.is_some() {
        // Parameters and records hold 0.0, never -0.0.
        let key = |v: f64| u128::from(f64_key(v));
        must.push(Clause::key_range(
            SortKey::Confidence,
            filters.min_confidence.map(key),
            filters.max_confidence.map(key),
        ));
    }
    if !filters.email_statuses.is_empty() {
        must.push(tag_any(
            f,
            filters
                .email_statuses
                .iter()
                .map(|s| Tag::EmailStatus(s.code())),
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
        must.push(tag_any(f, visible.into_iter().map(Tag::Visibility)));
    }
    if let Some(pieces) = industry_pieces(filters, industries) {
        let key = format!(
            "industry:{:?}/{:?}/{:?}",
            filters.industry_ids, filters.industry_sections, filters.industry_levels
        );
        must.push(industry_clause(f, key, pieces));
    }
    if !filters.country_codes.is_empty() {
        must.push(tag_any(
            f,
            filters.country_codes.iter().map(|c| Tag::Country(c.code())),
        ));
    }
    if !filters.exclude_industry_ids.is_empty() {
        let pieces = filters
            .exclude_industry_ids
            .iter()
            .map(|&id| {
                (
                    format!("industry:within {id} at None"),
                    industries_within(industries, Some(id), |_| true),
                )
            })
            .collect();
        let key = format!("industry:{:?}", filters.exclude_industry_ids);
        plan.must_not.push(industry_clause(f, key, pieces));
    }
    if !filters.exclude_country_codes.is_empty() {
        plan.must_not.push(tag_any(
            f,
            filters
                .exclude_country_codes
                .iter()
                .map(|c| Tag::Country(c.code())),
        ));
    }
    plan
}

/// The plan of `filters` within `scope`, a scoped key's own filters: the
/// scope's clauses are added whole, whatever the request says, so no
/// parameter of the request can widen them. With the email hidden, `q`
/// tokens match names only.
pub fn scoped_plan(
    f: &Fields,
    industries: &Industries,
    filters: &Filters,
    scope: Option<&super::scope::Scope>,
) -> FilterPlan {
    let Some(scope) = scope else {
        return filter_plan(f, industries, filters);
    };
    let mut plan = if scope.names_only() {
        let without_q = Filters {
            q: None,
            ..filters.clone()
        };
        let mut plan = filter_plan(f, industries, &without_q);
        for t in filters.q.iter().flat_map(|q| &q.tokens) {
            plan.must
                .push(Clause::term_of(Term::from_field_text(f.name_prefix, t)));
        }
        plan
    } else {
        filter_plan(f, industries, filters)
    };
    let own = filter_plan(f, industries, &scope.filters);
    plan.must.extend(own.must);
    plan.must_not.extend(own.must_not);
    plan
}

/// The relevance signals of `q` (README: "Relevance"): a clause each, and
/// the weight it adds to a contact's tier when the contact meets it.
pub fn signals(f: &Fields, q: &TextQuery) -> Vec<(Clause, u64)> {
    let text = |field, t: &str| Clause::term_of(Term::from_field_text(field, t));
    let mut out = Vec::new();
    for t in q.tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.name_token, t), weight::EXACT_TOKEN));
        out.push((text(f.name_prefix, t), weight::IN_NAME));
    }
    for a in q.accent_tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.accent_prefix, a), weight::OWN_LETTERS));
    }
    if let Some(first) = q.tokens.first() {
        out.push((
            Clause {
                key: Some(format!("name starts with:{first}")),
                kind: ClauseKind::NameStartsWith(first.clone()),
            },
            weight::NAME_START,
        ));
    }
    out
}

/// The tier of a contact meeting the signals set in `mask` (bit `i`:
/// signal `i`, of the given weights).
pub fn tier_of(weights: &[u64], mask: u32) -> u64 {
    (0..weights.len())
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| weights[i])
        .sum()
}

/// Relevance tiers, best first, each with the signal combinations (bit `i`
/// set: meets signal `i`) that add up to it.
pub fn tiers(weights: &[u64]) -> Vec<(u64, Vec<u32>)> {
    let mut by_tier: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
    for mask in 0u32..(1 << weights.len()) {
        by_tier
            .entry(tier_of(weights, mask))
            .or_default()
            .push(mask);
    }
    by_tier.into_iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSchema;
    use crate::query::params::{SearchRequest, decode_query_string};

    fn keys(qs: &str) -> Vec<String> {
        let s = IndexSchema::declared().unwrap();
        let t = Industries::bundled();
        let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
        let plan = filter_plan(&s.fields, t, &r.filters);
        // A union's parts may be computed afresh (no key of their own).
        let key = |c: &Clause| match &c.kind {
            ClauseKind::AnyOf(parts) => parts
                .iter()
                .map(|p| p.key.clone().unwrap_or_else(|| "(unkept)".into()))
                .collect::<Vec<_>>()
                .join("|"),
            _ => c.key.clone().unwrap(),
        };
        plan.must
            .iter()
            .map(key)
            .chain(plan.must_not.iter().map(|c| format!("not {}", key(c))))
            .collect()
    }

    #[test]
    fn defaults_exclude_stale_and_speculative() {
        assert_eq!(keys("").len(), 1);
        assert!(keys("exclude_stale=false&exclude_speculative=false").is_empty());
        assert_eq!(keys("exclude_stale=false").len(), 1);
        assert_ne!(keys("exclude_stale=false"), keys(""));
    }

    #[test]
    fn spellings_of_one_condition_share_a_key() {
        assert_eq!(
            keys("country_code=SE,NO"),
            keys("country_code=no&country_code=se")
        );
        assert_ne!(keys("country_code=SE"), keys("country_code=NO"));
        assert_ne!(keys("min_quality_score=5"), keys("max_quality_score=5"));
        assert_ne!(keys("country_code=SE"), keys("exclude_country_code=SE"));
        let k = keys("q=ann%20sv&job_title=chef");
        assert_eq!(k.len(), 4, "{k:?}");
    }

    #[test]
    fn industry_conditions_hold_on_one_industry() {
        let t = Industries::bundled();
        let c = t.rows().iter().find(|r| r.code == "C").unwrap().id;
        let a = t.rows().iter().find(|r| r.code == "A").unwrap().id;
        let f = |qs: &str| {
            let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
            industry_match(&r.filters, t)
        };
        // Checked row by row against the table, apart from the set logic.
        let rows = |keep: &dyn Fn(&crate::model::Industry) -> bool| -> Vec<u64> {
            t.rows()
                .iter()
                .filter(|r| keep(r))
                .map(|r| u64::from(r.id))
                .collect()
        };
        assert_eq!(f(""), None);
        let in_c = f(&format!("industry_id={c}")).unwrap();
        assert_eq!(in_c, rows(&|r| t.is_within(r.id, c)));
        assert!(in_c.contains(&u64::from(c)) && in_c.len() > 100);
        assert_eq!(
            f(&format!("industry_id={c}&industry_level=5,4")).unwrap(),
            rows(&|r| t.is_within(r.id, c) && r.level >= 4)
        );
        // An id outside the asked sections can match nothing.
        assert_eq!(
            f(&format!("industry_id={a}&industry_section=C")),
            Some(vec![])
        );
        assert_eq!(
            f("industry_section=c&industry_level=5").unwrap(),
            rows(&|r| r.section.letter() == 'C' && r.level == 5)
        );
        assert_eq!(f("industry_level=2").unwrap(), rows(&|r| r.level == 2));
    }

    #[test]
    fn tiers_compare_signal_by_signal() {
        let s = IndexSchema::declared().unwrap();
        let q = TextQuery {
            tokens: vec!["ro".into()],
            accent_tokens: vec!["rø".into()],
        };
        let weights: Vec<u64> = signals(&s.fields, &q).iter().map(|s| s.1).collect();
        let tiers = tiers(&weights);
        assert_eq!(tiers.len(), 1 << weights.len());
        // Best first; the exact token outweighs all the rest together.
        assert!(tiers.windows(2).all(|w| w[0].0 > w[1].0));
        let rest: u64 = weights.iter().skip(1).sum();
        assert!(weights[0] > rest);
    }
}
