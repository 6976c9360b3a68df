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
//!
//! One file per filter family, in the manner of quickwit-query's one file
//! per query kind: each has a `plan` that adds the clauses of its filters,
//! and [`filter_plan`] runs them all.

mod company;
mod country;
mod flags;
pub mod fuzzy;
mod industry;
mod key;
mod lists;
mod relevance;
mod scores;
mod text;

use tantivy::Term;
use tantivy::schema::Field;

use super::request::{Filters, SortKey};
use crate::index::Fields;
use crate::index::tag::Tag;
use crate::model::Industries;
pub use key::{ClauseKey, IndustrySet};
pub use relevance::{MAX_RANKED_TOKENS, signals, tier_of, tiers};
pub use text::prefix_clause;

/// One condition of a search, and the key its per-segment result may be
/// kept under (`None`: not worth keeping, such as a fuzzy expansion).
pub struct Clause {
    pub key: Option<ClauseKey>,
    pub kind: ClauseKind,
}

/// How a clause selects its documents.
pub enum ClauseKind {
    /// Those holding any of these terms (sorted, without repeats; none:
    /// nothing): their posting lists, read in blocks straight into the
    /// set, with no Tantivy query, weight or scorer in between.
    Terms(Vec<Term>),
    /// Those any of these clauses selects. Each is kept on its own, so
    /// `source=twitter,manual` reuses the bitsets of single sources.
    AnyOf(Vec<Clause>),
    /// Those every one of these clauses selects (each kept on its own).
    AllOf(Vec<Clause>),
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
    /// Those holding a term a typo automaton accepts (suggest's fill-up).
    Fuzzy(fuzzy::Fuzzy),
}

/// Above this many terms, a list is one set read from all their postings
/// rather than a union of single-term sets.
const MAX_UNION_TERMS: usize = 8;

impl Clause {
    /// Any of `terms` (sorted, without repeats), kept under `key`.
    fn keyed(key: ClauseKey, terms: Vec<Term>) -> Clause {
        Clause {
            key: Some(key),
            kind: ClauseKind::Terms(terms),
        }
    }

    /// One term, read afresh on every search.
    pub fn unkept_term(term: Term) -> Clause {
        Clause {
            key: None,
            kind: ClauseKind::Terms(vec![term]),
        }
    }

    /// One term.
    pub fn term_of(term: Term) -> Clause {
        Clause::keyed(ClauseKey::Term(term.clone()), vec![term])
    }

    /// One of several terms.
    fn any_of(mut terms: Vec<Term>) -> Clause {
        terms.sort();
        terms.dedup();
        match terms.len() {
            0 => Clause::keyed(ClauseKey::Nothing, Vec::new()),
            1 => Clause::term_of(terms.pop().expect("one")),
            n if n <= MAX_UNION_TERMS => Clause {
                key: Some(ClauseKey::AnyTerm(terms.clone())),
                kind: ClauseKind::AnyOf(terms.into_iter().map(Clause::term_of).collect()),
            },
            _ => Clause::keyed(ClauseKey::AnyTerm(terms.clone()), terms),
        }
    }

    /// One of many terms, kept under `key` (which must name the set).
    fn any_of_keyed(key: ClauseKey, mut terms: Vec<Term>) -> Clause {
        if terms.len() <= MAX_UNION_TERMS {
            return Clause::any_of(terms);
        }
        terms.sort();
        terms.dedup();
        Clause::keyed(key, terms)
    }

    /// Documents with any of `tags`.
    fn tag_any<'a>(f: &Fields, tags: impl IntoIterator<Item = Tag<'a>>) -> Clause {
        Clause::any_of(tags.into_iter().map(|t| t.term(f)).collect())
    }
}

/// The keys of a plan's clauses, `must` then `must_not`: equal keys select
/// the same contacts of a segment (as of its deletes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlanKey {
    pub must: Vec<ClauseKey>,
    pub must_not: Vec<ClauseKey>,
}

/// What a search must select: contacts meeting every `must` clause and no
/// `must_not` clause. (Company records and deleted documents are left out
/// by the search itself.)
#[derive(Default)]
pub struct FilterPlan {
    pub must: Vec<Clause>,
    pub must_not: Vec<Clause>,
}

impl FilterPlan {
    /// The plan's key, when every clause has one.
    pub fn key(&self) -> Option<PlanKey> {
        let keys = |clauses: &[Clause]| -> Option<Vec<ClauseKey>> {
            clauses.iter().map(|c| c.key.clone()).collect()
        };
        Some(PlanKey {
            must: keys(&self.must)?,
            must_not: keys(&self.must_not)?,
        })
    }

    /// The inclusive range (local form, `None`: unbounded) that `key` lies
    /// in for every match, from the `must` ranges of that key: a page in
    /// that order starts and ends inside it, however much of the index
    /// lies before (`min_quality_score=90` sorted by quality ascending).
    pub fn key_bounds(&self, key: SortKey) -> (Option<u128>, Option<u128>) {
        let mut bounds: (Option<u128>, Option<u128>) = (None, None);
        for clause in &self.must {
            if let ClauseKind::KeyRange { key: k, lo, hi } = clause.kind
                && k == key
            {
                bounds.0 = bounds.0.max(lo);
                bounds.1 = match (bounds.1, hi) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        bounds
    }
}

/// What a filter family's `plan` is given.
struct Planning<'a> {
    f: &'a Fields,
    industries: &'a Industries,
    filters: &'a Filters,
}

/// The filter families, in the order their clauses are intersected.
const FAMILIES: [fn(&Planning, &mut FilterPlan); 7] = [
    company::plan,
    text::plan,
    lists::plan,
    flags::plan,
    scores::plan,
    industry::plan,
    country::plan,
];

/// The plan that selects exactly the contacts matching `filters`.
pub fn filter_plan(f: &Fields, industries: &Industries, filters: &Filters) -> FilterPlan {
    let planning = Planning {
        f,
        industries,
        filters,
    };
    let mut plan = FilterPlan::default();
    for family in FAMILIES {
        family(&planning, &mut plan);
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
    scope: Option<&crate::query::scope::Scope>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSchema;
    use crate::query::params::decode_query_string;
    use crate::query::request::{SearchRequest, TextQuery};

    fn plan_of(qs: &str) -> FilterPlan {
        let s = IndexSchema::declared().unwrap();
        let t = Industries::bundled();
        let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
        filter_plan(&s.fields, t, &r.filters)
    }

    #[test]
    fn key_bounds_are_the_ranges_of_that_key_only() {
        let p = plan_of("min_quality_score=40&max_quality_score=70&min_confidence=0.5");
        assert_eq!(p.key_bounds(SortKey::QualityScore), (Some(40), Some(70)));
        let half = u128::from(crate::query::cursor::f64_key(0.5));
        assert_eq!(p.key_bounds(SortKey::Confidence), (Some(half), None));
        assert_eq!(p.key_bounds(SortKey::CreatedAt), (None, None));
        assert_eq!(
            plan_of("country_code=SE").key_bounds(SortKey::QualityScore),
            (None, None)
        );
    }

    fn keys(qs: &str) -> Vec<String> {
        let s = IndexSchema::declared().unwrap();
        let t = Industries::bundled();
        let r = SearchRequest::parse(decode_query_string(qs).unwrap(), t).unwrap();
        let plan = filter_plan(&s.fields, t, &r.filters);
        // A union's parts may be computed afresh (no key of their own).
        let key = |c: &Clause| match &c.kind {
            ClauseKind::AnyOf(parts) => parts
                .iter()
                .map(|p| {
                    p.key
                        .as_ref()
                        .map_or("(unkept)".into(), |k| format!("{k:?}"))
                })
                .collect::<Vec<_>>()
                .join("|"),
            _ => format!("{:?}", c.key.as_ref().unwrap()),
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
            industry::matching_ids(&r.filters, t)
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
