//! `company_id`: one term.

use super::{Clause, FilterPlan, Planning};
use crate::index::tag::Tag;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    if let Some(id) = p.filters.company_id {
        plan.must.push(Clause::term_of(Tag::Company(id).term(p.f)));
    }
}
