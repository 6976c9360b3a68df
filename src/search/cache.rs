//! What searches keep per segment: clause sets, facet values, sort
//! permutations and opened fast columns.
//!
//! A segment never changes once written (deletes live apart, in its alive
//! set), so anything computed from it stays right for as long as the
//! segment is searched. What every search of a segment may need, and is
//! bounded by its size (its 8 permutations, 32 bytes a document; its facet
//! values, about 18; its columns), is kept until the segment merges away:
//! losing it to a burst of new filters would make the next searches page
//! from columns and rebuild facets for seconds. Clause sets are as many as
//! the filters users send, so they alone share a byte budget
//! (`--cache-bytes`): past it, the least recently used go first (down to
//! 90 % of it, so eviction runs now and then rather than on every insert),
//! and a search rebuilds what it needs. Opened columns are handles on the
//! mapped index files, counted at a nominal `COLUMNS_BYTES`.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::index::SegmentId;

use super::bits::DocBits;
use super::facets::ValueBits;
use super::order::Columns;
use crate::query::plan::ClauseKey;
use crate::query::request::{Facet, Sort};

/// The smallest default budget for clause sets: at a million documents
/// about 2,000 dense ones (125 KB each; sparse ones are far smaller).
pub const DEFAULT_BUDGET: usize = 256 << 20;
/// Default budget per document of the index, when that is more: room for
/// some 250 dense clause sets at any size.
pub const BYTES_PER_DOC: usize = 32;
/// What one segment's opened columns are counted as.
const COLUMNS_BYTES: usize = 4 << 10;

/// The kinds of things kept, as `/metrics` names them.
pub const KINDS: [&str; 4] = ["clauses", "facets", "permutations", "columns"];

struct Kept<T> {
    value: T,
    bytes: usize,
    used: u64,
}

#[derive(Default)]
struct Inner {
    /// Per segment, so that a lookup needs no owned key.
    clauses: HashMap<SegmentId, HashMap<ClauseKey, Kept<Arc<DocBits>>>>,
    facets: HashMap<(SegmentId, Facet), Kept<Arc<ValueBits>>>,
    permutations: HashMap<(SegmentId, Sort), Kept<Arc<Vec<u32>>>>,
    columns: HashMap<SegmentId, Arc<Columns>>,
    /// Bytes per kind, in the order of `KINDS`.
    bytes: [usize; 4],
    clock: u64,
}

impl Inner {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn total(&self) -> usize {
        self.bytes.iter().sum()
    }

    /// Drops the least recently used clause sets until they take at most
    /// `target` bytes.
    fn evict(&mut self, target: usize) {
        let mut victims: Vec<(u64, SegmentId, ClauseKey)> = Vec::new();
        for (segment, kept) in &self.clauses {
            victims.extend(kept.iter().map(|(k, v)| (v.used, *segment, k.clone())));
        }
        victims.sort_unstable_by_key(|(used, _, _)| *used);
        for (_, segment, key) in victims {
            if self.bytes[0] <= target {
                break;
            }
            let freed = self
                .clauses
                .get_mut(&segment)
                .and_then(|c| c.remove(&key))
                .map_or(0, |k| k.bytes);
            self.bytes[0] -= freed;
        }
    }
}

/// See the module documentation.
pub struct SegmentCache {
    inner: Mutex<Inner>,
    budget: usize,
}

impl Default for SegmentCache {
    fn default() -> Self {
        SegmentCache::new(DEFAULT_BUDGET)
    }
}

/// Looks `key` up in `map`, marking it used.
fn hit<K: Hash + Eq, T: Clone>(map: &mut HashMap<K, Kept<T>>, key: &K, now: u64) -> Option<T> {
    map.get_mut(key).map(|kept| {
        kept.used = now;
        kept.value.clone()
    })
}

impl SegmentCache {
    pub fn new(budget: usize) -> SegmentCache {
        SegmentCache {
            inner: Mutex::default(),
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `bytes` more of `kind` and evicts clause sets past the budget.
    fn added(&self, inner: &mut Inner, kind: usize, bytes: usize) {
        inner.bytes[kind] += bytes;
        if inner.bytes[0] > self.budget {
            inner.evict(self.budget / 10 * 9);
        }
    }

    /// The set kept for `key` in `segment`, if there is one.
    pub fn kept_bits(&self, segment: SegmentId, key: &ClauseKey) -> Option<Arc<DocBits>> {
        let mut inner = self.lock();
        let now = inner.tick();
        let kept = inner.clauses.get_mut(&segment)?.get_mut(key)?;
        kept.used = now;
        Some(kept.value.clone())
    }

    /// The bitset kept for `key` in `segment`, built (outside the lock) when
    /// missing.
    pub fn bits(
        &self,
        segment: SegmentId,
        key: &ClauseKey,
        build: impl FnOnce() -> tantivy::Result<DocBits>,
    ) -> tantivy::Result<Arc<DocBits>> {
        {
            let mut inner = self.lock();
            let now = inner.tick();
            if let Some(kept) = inner
                .clauses
                .get_mut(&segment)
                .and_then(|kept| kept.get_mut(key))
            {
                kept.used = now;
                return Ok(kept.value.clone());
            }
        }
        let bits = Arc::new(build()?);
        let mut inner = self.lock();
        let now = inner.tick();
        let bytes = bits.heap_bytes();
        let kept = Kept {
            value: bits.clone(),
            bytes,
            used: now,
        };
        let before = inner
            .clauses
            .entry(segment)
            .or_default()
            .insert(key.clone(), kept);
        inner.bytes[0] -= before.map_or(0, |k| k.bytes);
        self.added(&mut inner, 0, bytes);
        Ok(bits)
    }

    /// The value bitsets of `facet` in `segment`, built (outside the lock)
    /// when missing.
    pub fn facet(
        &self,
        segment: SegmentId,
        facet: Facet,
        build: impl FnOnce() -> tantivy::Result<ValueBits>,
    ) -> tantivy::Result<Arc<ValueBits>> {
        {
            let mut inner = self.lock();
            let now = inner.tick();
            if let Some(hit) = hit(&mut inner.facets, &(segment, facet), now) {
                return Ok(hit);
            }
        }
        let built = Arc::new(build()?);
        let bytes = built.as_ref().as_ref().map_or(0, |v| v.heap_bytes());
        let mut inner = self.lock();
        let now = inner.tick();
        let before = inner.facets.insert(
            (segment, facet),
            Kept {
                value: built.clone(),
                bytes,
                used: now,
            },
        );
        inner.bytes[1] -= before.map_or(0, |k| k.bytes);
        self.added(&mut inner, 1, bytes);
        Ok(built)
    }

    /// The permutation of `segment`'s documents in `sort` order, built when
    /// missing.
    pub fn permutation(
        &self,
        segment: SegmentId,
        sort: Sort,
        build: impl FnOnce() -> Vec<u32>,
    ) -> Arc<Vec<u32>> {
        if let Some(p) = self.built_permutation(segment, sort) {
            return p;
        }
        let built = Arc::new(build());
        let mut inner = self.lock();
        let now = inner.tick();
        if let Some(p) = hit(&mut inner.permutations, &(segment, sort), now) {
            return p;
        }
        let bytes = built.len() * 4;
        inner.permutations.insert(
            (segment, sort),
            Kept {
                value: built.clone(),
                bytes,
                used: now,
            },
        );
        self.added(&mut inner, 2, bytes);
        built
    }

    /// The fast columns of `segment`, opened when missing.
    pub fn columns(
        &self,
        segment: SegmentId,
        open: impl FnOnce() -> tantivy::Result<Columns>,
    ) -> tantivy::Result<Arc<Columns>> {
        if let Some(c) = self.lock().columns.get(&segment) {
            return Ok(c.clone());
        }
        let opened = Arc::new(open()?);
        let mut inner = self.lock();
        if let Some(c) = inner.columns.get(&segment) {
            return Ok(c.clone());
        }
        inner.columns.insert(segment, opened.clone());
        self.added(&mut inner, 3, COLUMNS_BYTES);
        Ok(opened)
    }

    /// How many sort permutations are kept.
    pub fn permutations(&self) -> usize {
        self.lock().permutations.len()
    }

    /// The permutation of `segment`'s documents in `sort` order, if built.
    pub fn built_permutation(&self, segment: SegmentId, sort: Sort) -> Option<Arc<Vec<u32>>> {
        let mut inner = self.lock();
        let now = inner.tick();
        hit(&mut inner.permutations, &(segment, sort), now)
    }

    /// Forgets segments that are no longer searched.
    pub fn retain(&self, live: &HashSet<SegmentId>) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        let mut freed = [0; 4];
        inner.clauses.retain(|segment, kept| {
            let keep = live.contains(segment);
            if !keep {
                freed[0] += kept.values().map(|k| k.bytes).sum::<usize>();
            }
            keep
        });
        inner.facets.retain(|(segment, _), kept| {
            let keep = live.contains(segment);
            freed[1] += if keep { 0 } else { kept.bytes };
            keep
        });
        inner.permutations.retain(|(segment, _), kept| {
            let keep = live.contains(segment);
            freed[2] += if keep { 0 } else { kept.bytes };
            keep
        });
        inner.columns.retain(|segment, _| {
            let keep = live.contains(segment);
            freed[3] += if keep { 0 } else { COLUMNS_BYTES };
            keep
        });
        for (bytes, freed) in inner.bytes.iter_mut().zip(freed) {
            *bytes -= freed;
        }
    }

    /// Bytes kept, per kind (in the order of `KINDS`).
    pub fn usage(&self) -> [usize; 4] {
        self.lock().bytes
    }

    /// Bytes kept in all.
    pub fn bytes(&self) -> usize {
        self.lock().total()
    }

    /// The byte budget.
    pub fn budget(&self) -> usize {
        self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::request::SortKey;
    use crate::search::facets::FacetValues;

    fn key(token: &str) -> ClauseKey {
        ClauseKey::Prefix(token.to_owned())
    }

    /// A set of about `bytes` bytes (every other document: bitmap chunks).
    fn set_of(bytes: usize) -> DocBits {
        let docs: Vec<u32> = (0..bytes as u32 * 4).step_by(2).collect();
        DocBits::from_sorted(bytes as u32 * 4, &docs)
    }

    #[test]
    fn least_recently_used_bitsets_go_first() {
        let one = set_of(8192).heap_bytes();
        let cache = SegmentCache::new(3 * one);
        let seg = SegmentId::generate_random();
        let make = || Ok(set_of(8192));
        for name in ["a", "b", "c"] {
            cache.bits(seg, &key(name), make).unwrap();
        }
        // "a" is used again, so "b" is the oldest when "d" comes.
        cache.bits(seg, &key("a"), || panic!("kept")).unwrap();
        cache.bits(seg, &key("d"), make).unwrap();
        assert!(cache.bytes() <= 3 * one);
        cache.bits(seg, &key("a"), || panic!("kept")).unwrap();
        let mut rebuilt = false;
        cache
            .bits(seg, &key("b"), || {
                rebuilt = true;
                make()
            })
            .unwrap();
        assert!(rebuilt);
        cache.retain(&HashSet::new());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn clause_sets_alone_are_evicted_past_the_budget() {
        let one = set_of(8192).heap_bytes();
        let cache = SegmentCache::new(2 * one);
        let seg = SegmentId::generate_random();
        let sort = Sort {
            key: SortKey::QualityScore,
            descending: true,
        };
        cache.permutation(seg, sort, || vec![0; one / 4]);
        cache
            .facet(seg, Facet::Source, || {
                Ok(Some(FacetValues::from_sets(vec![(1, set_of(8192))])))
            })
            .unwrap();
        assert_eq!(cache.usage(), [0, one, one / 4 * 4, 0]);
        for name in ["a", "b", "c"] {
            cache.bits(seg, &key(name), || Ok(set_of(8192))).unwrap();
        }
        // Over the budget: the oldest clause set went, while the permutation
        // and the facet, older still, stay for as long as their segment.
        assert_eq!(cache.usage()[0], one);
        assert!(cache.built_permutation(seg, sort).is_some());
        cache.facet(seg, Facet::Source, || panic!("kept")).unwrap();
        cache.retain(&HashSet::new());
        assert_eq!(cache.usage(), [0; 4]);
    }
}
