//! The list filters on a contact's own closed values: `source`,
//! `department`, `seniority_level`, `email_status`. Each list is one clause
//! whose values combine with OR.

use super::{Clause, FilterPlan, Planning};
use crate::index::tag::Tag;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let (f, filters) = (p.f, p.filters);
    let lists = [
        filters
            .sources
            .iter()
            .map(|s| Tag::Source(s.code()))
            .collect::<Vec<_>>(),
        filters
            .departments
            .iter()
            .map(|d| Tag::Department(d))
            .collect(),
        filters
            .seniority_levels
            .iter()
            .map(|s| Tag::Seniority(s.code()))
            .collect(),
        filters
            .email_statuses
            .iter()
            .map(|s| Tag::EmailStatus(s.code()))
            .collect(),
    ];
    for tags in lists.into_iter().filter(|tags| !tags.is_empty()) {
        plan.must.push(Clause::tag_any(f, tags));
    }
}
