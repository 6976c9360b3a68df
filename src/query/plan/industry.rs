//! The industry filters (docs/api.md, Industry filters): `industry_id`,
//! `industry_section` and `industry_level` hold on one industry `I` of the
//! company; `exclude_industry_id` drops contacts whose company has an
//! industry within one of its ids. The table is fixed, so the conditions
//! become sets of ids `I` may be; a contact matches when its company has
//! one of them. The sets come in pieces (per asked id, section or level,
//! and level), each kept on its own, so a new combination of sections
//! reuses the pieces.

use tantivy::Term;

use super::{Clause, ClauseKey, ClauseKind, FilterPlan, IndustrySet, Planning};
use crate::index::Fields;
use crate::index::tag::Tag;
use crate::model::{Industries, Industry, Section};

/// Above this many pieces, the industry condition is one clause.
const MAX_INDUSTRY_PIECES: usize = 16;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let filters = p.filters;
    let condition = |ids: &[u32], sections: &[Section], levels: &[u8]| {
        let pieces = pieces(p.industries, ids, sections, levels)?;
        let key = ClauseKey::IndustryCondition {
            ids: ids.to_vec(),
            sections: sections.to_vec(),
            levels: levels.to_vec(),
        };
        Some(clause(p.f, key, pieces))
    };
    plan.must.extend(condition(
        &filters.industry_ids,
        &filters.industry_sections,
        &filters.industry_levels,
    ));
    // Within any of the ids, at any level: the same sets as `industry_id`.
    plan.must_not
        .extend(condition(&filters.exclude_industry_ids, &[], &[]));
}

/// The industries of the table in `set`, in id order.
fn members(industries: &Industries, set: IndustrySet) -> Vec<u64> {
    let at = |row: &Industry, level: Option<u8>| level.is_none_or(|l| row.level == l);
    let keep = |row: &Industry| {
        let kept = match set {
            IndustrySet::Within { at: level, .. } | IndustrySet::All { at: level } => {
                at(row, level)
            }
            IndustrySet::Section { section, at: level } => row.section == section && at(row, level),
        };
        kept.then_some(u64::from(row.id))
    };
    match set {
        IndustrySet::Within { id, .. } => industries
            .self_and_descendants(id)
            .iter()
            .filter_map(|&d| industries.get(d).and_then(keep))
            .collect(),
        _ => industries.rows().iter().filter_map(keep).collect(),
    }
}

/// The pieces of the condition "one industry is within one of `ids`, in one
/// of `sections`, at one of `levels`" (an empty list: any), each with its
/// members; `None` when nothing is asked.
fn pieces(
    industries: &Industries,
    ids: &[u32],
    sections: &[Section],
    levels: &[u8],
) -> Option<Vec<(IndustrySet, Vec<u64>)>> {
    if ids.is_empty() && sections.is_empty() && levels.is_empty() {
        return None;
    }
    let levels: Vec<Option<u8>> = if levels.is_empty() {
        vec![None]
    } else {
        levels.iter().map(|&l| Some(l)).collect()
    };
    let mut sets = Vec::new();
    for &at in &levels {
        if !ids.is_empty() {
            // Every descendant shares its ancestor's section, so an id
            // outside the asked sections contributes nothing.
            sets.extend(
                ids.iter()
                    .filter(|&&id| {
                        industries
                            .get(id)
                            .is_some_and(|i| sections.is_empty() || sections.contains(&i.section))
                    })
                    .map(|&id| IndustrySet::Within { id, at }),
            );
        } else if !sections.is_empty() {
            sets.extend(
                sections
                    .iter()
                    .map(|&section| IndustrySet::Section { section, at }),
            );
        } else {
            sets.push(IndustrySet::All { at });
        }
    }
    Some(
        sets.into_iter()
            .map(|set| (set, members(industries, set)))
            .collect(),
    )
}

/// The ids a company may have to meet the industry conditions of
/// `filters` (all pieces).
#[cfg(test)]
pub(super) fn matching_ids(
    filters: &crate::query::request::Filters,
    industries: &Industries,
) -> Option<Vec<u64>> {
    pieces(
        industries,
        &filters.industry_ids,
        &filters.industry_sections,
        &filters.industry_levels,
    )
    .map(all_ids)
}

/// Every id of the pieces, once each, in order.
fn all_ids(pieces: Vec<(IndustrySet, Vec<u64>)>) -> Vec<u64> {
    let mut ids: Vec<u64> = pieces.into_iter().flat_map(|(_, ids)| ids).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn clause(f: &Fields, key: ClauseKey, pieces: Vec<(IndustrySet, Vec<u64>)>) -> Clause {
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
        .map(|(set, ids)| Clause::any_of_keyed(ClauseKey::Industries(set), terms(ids)))
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
