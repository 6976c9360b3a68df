//! Facet counts by bitset intersection.
//!
//! Facet fields have few values (countries, sections, levels, sources,
//! statuses, departments). For each segment and facet we keep, once, one
//! bitset of documents per value; a search collects its matches into a
//! bitset, and the count of a value is a popcount of the two ANDed together:
//! a few microseconds per value instead of reading six columns per match.
//! Segments never change (deletes live in the match set), so the cache is
//! keyed by segment id and only has to forget segments that merged away.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader};

use crate::index::schema::columns;
use crate::query::params::Facet;

/// Values beyond this many get no bitsets (free-text departments could have
/// thousands); those facets are counted per match instead.
const MAX_VALUES: usize = 256;

/// A fixed-size bitset over a segment's documents.
#[derive(Debug, Clone)]
pub struct DocBits(Vec<u64>);

impl DocBits {
    pub fn new(max_doc: u32) -> DocBits {
        DocBits(vec![0; (max_doc as usize).div_ceil(64)])
    }

    #[inline]
    pub fn insert(&mut self, doc: DocId) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    /// Number of documents in the set.
    pub fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// Size of the intersection with `other`.
    pub fn and_count(&self, other: &DocBits) -> u64 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| u64::from((a & b).count_ones()))
            .sum()
    }
}

/// The documents of one segment holding each value of one facet; `None`
/// when the facet has too many values here.
pub type ValueBits = Option<Vec<(u64, DocBits)>>;

/// Per-segment value bitsets, built on first use.
#[derive(Default)]
pub struct FacetCache {
    entries: Mutex<HashMap<(SegmentId, Facet), Arc<ValueBits>>>,
}

impl FacetCache {
    /// The bitsets of `facet` in this segment (built now if missing). Values
    /// are facet codes, or term ordinals for departments.
    pub fn get(&self, reader: &SegmentReader, facet: Facet) -> tantivy::Result<Arc<ValueBits>> {
        let key = (reader.segment_id(), facet);
        if let Some(hit) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(hit.clone());
        }
        let built = Arc::new(build(reader, facet)?);
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, built.clone());
        Ok(built)
    }

    /// Forgets segments that are no longer searched.
    pub fn retain(&self, live: &HashSet<SegmentId>) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(segment, _), _| live.contains(segment));
    }
}

fn build(reader: &SegmentReader, facet: Facet) -> tantivy::Result<ValueBits> {
    let max_doc = reader.max_doc();
    let ff = reader.fast_fields();
    let mut by_value: HashMap<u64, DocBits> = HashMap::new();
    let mut add = |value: u64, doc: DocId| -> bool {
        if !by_value.contains_key(&value) && by_value.len() == MAX_VALUES {
            return false;
        }
        by_value
            .entry(value)
            .or_insert_with(|| DocBits::new(max_doc))
            .insert(doc);
        true
    };
    if facet == Facet::Department {
        let Some(col) = ff.str(columns::DEPARTMENT)? else {
            return Ok(Some(Vec::new()));
        };
        for doc in 0..max_doc {
            for ord in col.term_ords(doc) {
                if !add(ord, doc) {
                    return Ok(None);
                }
            }
        }
    } else {
        let col = ff.u64(code_column(facet))?;
        for doc in 0..max_doc {
            for v in col.values_for_doc(doc) {
                if !add(v, doc) {
                    return Ok(None);
                }
            }
        }
    }
    let mut values: Vec<(u64, DocBits)> = by_value.into_iter().collect();
    values.sort_by_key(|(v, _)| *v);
    Ok(Some(values))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_count_counts_common_documents() {
        let mut a = DocBits::new(200);
        let mut b = DocBits::new(200);
        for d in [0, 5, 64, 130, 199] {
            a.insert(d);
        }
        for d in [5, 63, 64, 199] {
            b.insert(d);
        }
        assert_eq!(a.and_count(&b), 3);
    }
}
