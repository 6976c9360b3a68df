//! Facet counts (docs/api.md, Facets), exact, at a cost that follows the
//! matches.
//!
//! Facet fields have few values (countries, sections, levels, sources,
//! statuses, departments). For each segment and facet we keep, once, the
//! set of documents of each value and each document's value as one byte
//! (its slot). A count then takes the cheaper of two ways:
//! * the size of the matches ANDed with each value's set: a few word
//!   operations per value and chunk of the segment, whatever the number of
//!   matches, which wins for dense matches and few values (countries);
//! * a walk over the matches adding one per slot read: it costs what the
//!   matches hold, which wins for few matches or many values (departments).
//!   When the matches are most of the contacts, the walk goes over the
//!   contacts that do not match instead and subtracts them from the counts
//!   of all contacts, kept per segment and deletes, so an unfiltered facet
//!   request reads no document at all.
//!
//! Segments never change (deletes live in the match set), so all of it is
//! kept (in `cache`, within its budget) under the segment's id.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::columnar::StrColumn;
use tantivy::{DocId, SegmentReader};

use super::bits::{DocBits, DocCollector};
use super::cache::SegmentCache;
use crate::index::schema::columns;
use crate::model::{CountryCode, EmailStatus, Section, Seniority, Source};
use crate::query::plan::ClauseKey;
use crate::query::request::Facet;

/// Counts per facet value.
pub type FacetCounts = BTreeMap<&'static str, BTreeMap<String, u64>>;

/// Values beyond this many get no sets (free-text departments could have
/// thousands); those facets are counted per match from their column. One
/// below 256, so that a slot fits a byte with `NO_SLOT` to spare.
const MAX_VALUES: usize = 255;
/// The slot of a document without a value.
const NO_SLOT: u8 = u8::MAX;
/// What reading one matching document's slot costs against one word (64
/// documents) of a set AND, or one lookup of a match in a set: the walk is
/// taken when it is cheaper.
const SLOT_COST_WORDS: u64 = 2;
/// Base sets whose counts are kept per facet and segment (a few are in use
/// at a time: the default filters, a scoped key's).
const KEPT_BASES: usize = 16;

/// What is kept of one facet in one segment.
pub struct FacetValues {
    /// Each value's code (an ordinal for departments) and documents, by code.
    pub sets: Vec<(u64, Arc<DocBits>)>,
    /// Each document's index in `sets` (`NO_SLOT`: none); `None` when a
    /// document has more than one value.
    slots: Option<Vec<u8>>,
    /// Counts by slot of the documents of a base set (see `Matches`),
    /// by its key (built on first need; the last `KEPT_BASES`).
    all: Mutex<Vec<(ClauseKey, Vec<u64>)>>,
}

impl FacetValues {
    /// Values given by their sets only (no slots: counted by ANDs).
    pub fn from_sets(sets: Vec<(u64, Arc<DocBits>)>) -> FacetValues {
        FacetValues {
            sets,
            slots: None,
            all: Mutex::new(Vec::new()),
        }
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.sets.iter().map(|(_, b)| b.heap_bytes()).sum::<usize>()
            + self.slots.as_ref().map_or(0, Vec::len)
    }

    /// The documents with the value of `code` (none when no document of
    /// the segment has it).
    pub fn set_of(&self, code: Option<u64>) -> Arc<DocBits> {
        code.and_then(|c| self.sets.binary_search_by_key(&c, |(v, _)| *v).ok())
            .map_or_else(|| Arc::new(DocBits::new()), |i| self.sets[i].1.clone())
    }

    /// Counts by slot of the documents of `docs`.
    fn walk(slots: &[u8], docs: &DocBits, values: usize) -> Vec<u64> {
        let mut counts = vec![0u64; values + 1];
        for doc in docs.iter() {
            let slot = slots[doc as usize];
            counts[usize::from(slot).min(values)] += 1;
        }
        counts.truncate(values);
        counts
    }

    /// Counts by slot of the documents of `base`, kept under `key`.
    fn all_of(&self, base: &DocBits, key: &ClauseKey) -> Vec<u64> {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, counts)) = all.iter().find(|(k, _)| k == key) {
            return counts.clone();
        }
        let counts: Vec<u64> = self.sets.iter().map(|(_, s)| s.and_count(base)).collect();
        if all.len() == KEPT_BASES {
            all.remove(0);
        }
        all.push((key.clone(), counts.clone()));
        counts
    }
}

/// What is kept of a facet in a segment; `None` when the facet has too
/// many values there.
pub type ValueBits = Option<FacetValues>;

/// The value sets and slots of `facet` in this segment (kept by the caller).
pub fn build(reader: &SegmentReader, facet: Facet) -> tantivy::Result<ValueBits> {
    let max_doc = reader.max_doc();
    let ff = reader.fast_fields();
    let mut by_value: HashMap<u64, DocCollector> = HashMap::new();
    let mut values_of = Vec::with_capacity(max_doc as usize);
    let mut single = true;
    let mut add = |value: u64, doc: DocId| -> bool {
        if !by_value.contains_key(&value) && by_value.len() == MAX_VALUES {
            return false;
        }
        by_value
            .entry(value)
            .or_insert_with(|| DocCollector::new(max_doc))
            .push(doc);
        true
    };
    // Each document's one value (`u64::MAX`: none) while building.
    let mut note = |values: &mut dyn Iterator<Item = u64>, doc: DocId| -> bool {
        let mut first = u64::MAX;
        for (i, v) in values.enumerate() {
            if !add(v, doc) {
                return false;
            }
            if i == 0 {
                first = v;
            } else {
                single = false;
            }
        }
        values_of.push(first);
        true
    };
    if facet == Facet::Department {
        let Some(col) = ff.str(columns::DEPARTMENT)? else {
            return Ok(Some(FacetValues::from_sets(Vec::new())));
        };
        for doc in 0..max_doc {
            if !note(&mut col.term_ords(doc), doc) {
                return Ok(None);
            }
        }
    } else {
        let col = ff.u64(code_column(facet))?;
        for doc in 0..max_doc {
            if !note(&mut col.values_for_doc(doc), doc) {
                return Ok(None);
            }
        }
    }
    let mut sets: Vec<(u64, Arc<DocBits>)> = by_value
        .into_iter()
        .map(|(v, c)| (v, Arc::new(c.finish())))
        .collect();
    sets.sort_by_key(|(v, _)| *v);
    let slots = single.then(|| {
        let slot_of: HashMap<u64, u8> = sets
            .iter()
            .enumerate()
            .map(|(i, (v, _))| (*v, i as u8))
            .collect();
        values_of
            .iter()
            .map(|v| slot_of.get(v).copied().unwrap_or(NO_SLOT))
            .collect()
    });
    Ok(Some(FacetValues {
        sets,
        slots,
        all: Mutex::new(Vec::new()),
    }))
}

/// The fast column that holds a coded facet.
pub fn code_column(facet: Facet) -> &'static str {
    match facet {
        Facet::CountryCode => columns::COUNTRY,
        Facet::IndustrySection => columns::SECTION,
        Facet::SeniorityLevel => columns::SENIORITY,
        Facet::Source => columns::SOURCE,
        Facet::EmailStatus => columns::EMAIL_STATUS,
        Facet::Department => columns::DEPARTMENT,
    }
}

/// The display name of a facet code.
fn code_name(facet: Facet, code: u64) -> Option<String> {
    match facet {
        Facet::CountryCode => CountryCode::from_code(code).map(|c| c.as_str().to_owned()),
        Facet::IndustrySection => Section::from_code(code).map(|s| s.letter().to_string()),
        Facet::SeniorityLevel => Seniority::from_code(code).map(|s| s.as_str().to_owned()),
        Facet::Source => Source::from_code(code).map(|s| s.as_str().to_owned()),
        Facet::EmailStatus => EmailStatus::from_code(code).map(|s| s.as_str().to_owned()),
        Facet::Department => None,
    }
}

/// The segment's documents and matches a count needs.
pub struct Matches<'a> {
    pub matched: &'a DocBits,
    /// A set holding every match (and, for unfiltered searches, nothing
    /// else), and the key it is kept under.
    pub base: &'a DocBits,
    pub base_key: ClauseKey,
}

/// Adds the facet counts of one segment's matches to `out`.
pub fn count(
    reader: &SegmentReader,
    department: Option<StrColumn>,
    m: &Matches,
    facets: &[Facet],
    cache: &SegmentCache,
    out: &mut FacetCounts,
) -> tantivy::Result<()> {
    let ff = reader.fast_fields();
    let matched = m.matched.count();
    let unmatched = m.base.count().saturating_sub(matched);
    // The contacts that do not match, when a walk over them is chosen.
    let mut complement: Option<DocBits> = None;
    for &facet in facets {
        let counts = out.entry(facet.as_str()).or_default();
        let names: Option<&StrColumn> = match facet {
            Facet::Department => department.as_ref(),
            _ => None,
        };
        let mut buf = String::new();
        let mut name_of = |value: u64| -> Option<String> {
            match &names {
                Some(col) => {
                    buf.clear();
                    col.ord_to_str(value, &mut buf)
                        .unwrap_or(false)
                        .then(|| buf.clone())
                }
                None if facet == Facet::Department => None,
                None => code_name(facet, value),
            }
        };
        let kept = cache.facet(reader.segment_id(), facet, || build(reader, facet))?;
        match kept.as_ref() {
            Some(values) => {
                let n = values.sets.len();
                // An AND reads a word per 64 documents of a dense chunk and
                // a lookup per match of a sparse one.
                let and_cost = n as u64 * matched.min(u64::from(reader.max_doc()).div_ceil(64));
                let by_slot: Vec<u64> = match &values.slots {
                    Some(slots) if matched.min(unmatched) * SLOT_COST_WORDS < and_cost => {
                        if matched <= unmatched {
                            FacetValues::walk(slots, m.matched, n)
                        } else {
                            let rest = complement.get_or_insert_with(|| {
                                let mut rest = m.base.clone();
                                rest.and_not(m.matched);
                                rest
                            });
                            let all = values.all_of(m.base, &m.base_key);
                            let not = FacetValues::walk(slots, rest, n);
                            all.iter().zip(not).map(|(a, b)| a - b).collect()
                        }
                    }
                    _ => values
                        .sets
                        .iter()
                        .map(|(_, docs)| m.matched.and_count(docs))
                        .collect(),
                };
                for ((value, _), n) in values.sets.iter().zip(by_slot) {
                    if n > 0
                        && let Some(name) = name_of(*value)
                    {
                        *counts.entry(name).or_default() += n;
                    }
                }
            }
            // Too many values for sets: read the column per match.
            None => {
                let mut by_value: HashMap<u64, u64> = HashMap::new();
                if let Some(col) = &names {
                    for doc in m.matched.iter() {
                        for ord in col.term_ords(doc) {
                            *by_value.entry(ord).or_default() += 1;
                        }
                    }
                } else {
                    let col = ff.u64(code_column(facet))?;
                    for doc in m.matched.iter() {
                        for v in col.values_for_doc(doc) {
                            *by_value.entry(v).or_default() += 1;
                        }
                    }
                }
                for (value, n) in by_value {
                    if let Some(name) = name_of(value) {
                        *counts.entry(name).or_default() += n;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coded_facet_names_its_codes() {
        assert_eq!(
            code_name(
                Facet::CountryCode,
                CountryCode::parse_strict("SE").unwrap().code()
            ),
            Some("SE".to_owned())
        );
        assert_eq!(code_name(Facet::Department, 1), None);
    }
}
