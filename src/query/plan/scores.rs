//! `min_`/`max_quality_score` and `min_`/`max_confidence`: a range of the
//! sort key, read off the segment's permutation in that order.

use super::{Clause, ClauseKey, ClauseKind, FilterPlan, Planning};
use crate::query::cursor::f64_key;
use crate::query::request::SortKey;

fn key_range(key: SortKey, lo: Option<u128>, hi: Option<u128>) -> Option<Clause> {
    (lo.is_some() || hi.is_some()).then_some(Clause {
        key: Some(ClauseKey::Range { key, lo, hi }),
        kind: ClauseKind::KeyRange { key, lo, hi },
    })
}

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let filters = p.filters;
    // Parameters and records hold 0.0, never -0.0.
    let confidence = |v: f64| u128::from(f64_key(v));
    plan.must.extend(key_range(
        SortKey::QualityScore,
        filters.min_quality_score.map(u128::from),
        filters.max_quality_score.map(u128::from),
    ));
    plan.must.extend(key_range(
        SortKey::Confidence,
        filters.min_confidence.map(confidence),
        filters.max_confidence.map(confidence),
    ));
}
