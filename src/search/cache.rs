//! What searches keep per segment: clause bitsets, facet value bitsets,
//! sort permutations and opened fast columns, all within one byte budget
//! (`--cache-bytes`).
//!
//! A segment never changes once written (deletes live apart, in its alive
//! set), so anything computed from it stays right for as long as the
//! segment is searched. Past the budget, the least recently used bitsets
//! and permutations go first (down to 90 % of it, so eviction runs now and
//! then rather than on every insert); a search rebuilds what it needs, and
//! a segment without its permutation is paged from its columns (same
//! answers, slower). Opened columns are handles on the mapped index files,
//! counted at a nominal `COLUMNS_BYTES` and kept until their segment
//! merges away.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::index::SegmentId;

use super::bits::DocBits;
use super::facets::ValueBits;
use super::order::Columns;
use crate::query::plan::ClauseKey;
use crate::query::request::{Facet, Sort};

/// Default budget: at a million documents (125 KB per bitset) about 1,500
/// clause bitsets, the 8 sort permutations (32 MB) and every facet's
/// value bitsets.
pub const DEFAULT_BUDGET: usize = 256 << 20;
/// What one segment's opened columns are counted as.
const COLUMNS_BYTES: usize = 4 << 10;

/// The kinds of things kept, as `/metrics` names them.
pub const KINDS: [&str; 4] = ["clauses", "facets", "permutations", "columns"];

struct Kept<T> {
    value: T,
    bytes: usize,
    used: u64,
}

/// An entry that may be evicted.
enum Victim {
    Clause(SegmentId, ClauseKey),
    Facet(SegmentId, Facet),
    Permutation(SegmentId, Sort),
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

    /// Drops the least recently used entries until the total is at most
    /// `target`.
    fn evict(&mut self, target: usize) {
        let mut victims: Vec<(u64, Victim)> = Vec::new();
        for (segment, kept) in &self.clauses {
            victims.extend(
                kept.iter()
                    .map(|(k, v)| (v.used, Victim::Clause(*segment, k.clone()))),
            );
        }
        victims.extend(
            self.facets
                .iter()
                .map(|((s, f), v)| (v.used, Victim::Facet(*s, *f))),
        );
        victims.extend(
            self.permutations
                .iter()
                .map(|((s, o), v)| (v.used, Victim::Permutation(*s, *o))),
        );
        victims.sort_unstable_by_key(|(used, _)| *used);
        for (_, victim) in victims {
            if self.total() <= target {
                break;
            }
            let (kind, freed) = match victim {
                Victim::Clause(s, k) => (
                    0,
                    self.clauses
                        .get_mut(&s)
                        .and_then(|c| c.remove(&k))
                        .map_or(0, |k| k.bytes),
                ),
                Victim::Facet(s, f) => (1, self.facets.remove(&(s, f)).map_or(0, |k| k.bytes)),
                Victim::Permutation(s, o) => {
                    (2, self.permutations.remove(&(s, o)).map_or(0, |k| k.bytes))
                }
            };
            self.bytes[kind] -= freed;
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

    /// Counts `bytes` more of `kind` and evicts past the budget.
    fn added(&self, inner: &mut Inner, kind: usize, bytes: usize) {
        inner.bytes[kind] += bytes;
        if inner.total() > self.budget {
            inner.evict(self.budget / 10 * 9);
        }
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
        let bytes = built
            .as_ref()
            .as_ref()
            .map_or(0, |values| values.iter().map(|(_, b)| b.heap_bytes()).sum());
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

    fn key(token: &str) -> ClauseKey {
        ClauseKey::Prefix(token.to_owned())
    }

    #[test]
    fn least_recently_used_bitsets_go_first() {
        let cache = SegmentCache::new(3 * 128 * 8);
        let seg = SegmentId::generate_random();
        let make = || Ok(DocBits::new(128 * 64));
        for name in ["a", "b", "c"] {
            cache.bits(seg, &key(name), make).unwrap();
        }
        // "a" is used again, so "b" is the oldest when "d" comes.
        cache.bits(seg, &key("a"), || panic!("kept")).unwrap();
        cache.bits(seg, &key("d"), make).unwrap();
        assert!(cache.bytes() <= 3 * 128 * 8);
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
    fn permutations_and_facets_share_the_budget_with_clauses() {
        let cache = SegmentCache::new(3 * 1024);
        let seg = SegmentId::generate_random();
        let sort = Sort {
            key: SortKey::QualityScore,
            descending: true,
        };
        cache.permutation(seg, sort, || vec![0; 256]);
        cache
            .facet(seg, Facet::Source, || {
                Ok(Some(vec![(1, DocBits::new(64 * 128))]))
            })
            .unwrap();
        assert_eq!(cache.usage(), [0, 1024, 1024, 0]);
        cache
            .bits(seg, &key("a"), || Ok(DocBits::new(64 * 128)))
            .unwrap();
        cache
            .bits(seg, &key("b"), || Ok(DocBits::new(64 * 128)))
            .unwrap();
        // Over the budget: the permutation, used least recently, went.
        assert!(cache.bytes() <= 3 * 1024);
        assert!(cache.built_permutation(seg, sort).is_none());
        cache.retain(&HashSet::new());
        assert_eq!(cache.usage(), [0; 4]);
    }
}
