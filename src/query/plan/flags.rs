//! The true/false filters: `verified`, `has_email`, `has_phone`, and
//! `exclude_stale` / `exclude_speculative` (on by default).

use super::{Clause, FilterPlan, Planning};
use crate::index::document::visibility;
use crate::index::tag::Tag;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let (f, filters) = (p.f, p.filters);
    for (tag, want) in [
        (Tag::Verified as fn(bool) -> Tag<'static>, filters.verified),
        (Tag::HasEmail, filters.has_email),
        (Tag::HasPhone, filters.has_phone),
    ] {
        if let Some(v) = want {
            plan.must.push(Clause::term_of(tag(v).term(f)));
        }
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
        plan.must
            .push(Clause::tag_any(f, visible.into_iter().map(Tag::Visibility)));
    }
}
