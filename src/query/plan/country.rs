//! `country_code` and `exclude_country_code`: the company's country, one
//! term per code.

use super::{Clause, FilterPlan, Planning};
use crate::index::tag::Tag;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let (f, filters) = (p.f, p.filters);
    let country = |codes: &[crate::model::CountryCode]| {
        Clause::tag_any(f, codes.iter().map(|c| Tag::Country(c.code())))
    };
    if !filters.country_codes.is_empty() {
        plan.must.push(country(&filters.country_codes));
    }
    if !filters.exclude_country_codes.is_empty() {
        plan.must_not.push(country(&filters.exclude_country_codes));
    }
}
