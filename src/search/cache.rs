//! What searches keep per segment: clause bitsets and sort permutations.
//!
//! A segment never changes once written (deletes live apart, in its alive
//! set), so anything computed from it stays right for as long as the
//! segment is searched. Clause bitsets are kept under the clause's key
//! within a memory budget, least recently used first out; permutations
//! (a few per segment, 4 bytes per document each) and opened fast columns
//! are kept until their segment merges away.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::index::SegmentId;

use super::bits::DocBits;
use super::order::Columns;
use crate::query::params::Sort;

/// Default memory for clause bitsets: at a million documents (125 KB per
/// bitset) about 1,500 clauses.
pub const DEFAULT_BUDGET: usize = 192 << 20;

struct Kept {
    bits: Arc<DocBits>,
    used: u64,
}

#[derive(Default)]
struct Inner {
    /// Per segment, so that dropping a merged segment is one removal and a
    /// lookup needs no owned key.
    clauses: HashMap<SegmentId, HashMap<String, Kept>>,
    bytes: usize,
    clock: u64,
    permutations: HashMap<(SegmentId, Sort), Arc<Vec<u32>>>,
    columns: HashMap<SegmentId, Arc<Columns>>,
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

    /// The bitset kept for `key` in `segment`, built (outside the lock) when
    /// missing.
    pub fn bits(
        &self,
        segment: SegmentId,
        key: &str,
        build: impl FnOnce() -> tantivy::Result<DocBits>,
    ) -> tantivy::Result<Arc<DocBits>> {
        {
            let mut inner = self.lock();
            inner.clock += 1;
            let now = inner.clock;
            if let Some(kept) = inner
                .clauses
                .get_mut(&segment)
                .and_then(|kept| kept.get_mut(key))
            {
                kept.used = now;
                return Ok(kept.bits.clone());
            }
        }
        let bits = Arc::new(build()?);
        let mut inner = self.lock();
        let now = inner.clock;
        let size = bits.heap_bytes();
        if inner
            .clauses
            .entry(segment)
            .or_default()
            .insert(
                key.to_owned(),
                Kept {
                    bits: bits.clone(),
                    used: now,
                },
            )
            .is_none()
        {
            inner.bytes += size;
        }
        if inner.bytes > self.budget {
            // Down to 90 %, oldest first, so eviction runs now and then
            // rather than on every insert.
            let mut by_age: Vec<(u64, SegmentId, String)> = inner
                .clauses
                .iter()
                .flat_map(|(segment, kept)| kept.iter().map(|(k, v)| (v.used, *segment, k.clone())))
                .collect();
            by_age.sort_unstable_by_key(|(used, _, _)| *used);
            for (_, segment, k) in by_age {
                if inner.bytes <= self.budget / 10 * 9 {
                    break;
                }
                if let Some(kept) = inner.clauses.get_mut(&segment).and_then(|c| c.remove(&k)) {
                    inner.bytes -= kept.bits.heap_bytes();
                }
            }
        }
        Ok(bits)
    }

    /// The permutation of `segment`'s documents in `sort` order, built when
    /// missing.
    pub fn permutation(
        &self,
        segment: SegmentId,
        sort: Sort,
        build: impl FnOnce() -> Vec<u32>,
    ) -> Arc<Vec<u32>> {
        if let Some(p) = self.lock().permutations.get(&(segment, sort)) {
            return p.clone();
        }
        let built = Arc::new(build());
        self.lock()
            .permutations
            .entry((segment, sort))
            .or_insert(built)
            .clone()
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
        Ok(self.lock().columns.entry(segment).or_insert(opened).clone())
    }

    /// How many sort permutations are kept.
    pub fn permutations(&self) -> usize {
        self.lock().permutations.len()
    }

    /// The permutation of `segment`'s documents in `sort` order, if built.
    pub fn built_permutation(&self, segment: SegmentId, sort: Sort) -> Option<Arc<Vec<u32>>> {
        self.lock().permutations.get(&(segment, sort)).cloned()
    }

    /// Forgets segments that are no longer searched.
    pub fn retain(&self, live: &HashSet<SegmentId>) {
        let mut inner = self.lock();
        let mut freed = 0;
        inner.clauses.retain(|segment, kept| {
            let keep = live.contains(segment);
            if !keep {
                freed += kept.values().map(|k| k.bits.heap_bytes()).sum::<usize>();
            }
            keep
        });
        inner.bytes -= freed;
        inner
            .permutations
            .retain(|(segment, _), _| live.contains(segment));
        inner.columns.retain(|segment, _| live.contains(segment));
    }

    /// Bytes held by clause bitsets and permutations.
    pub fn bytes(&self) -> usize {
        let inner = self.lock();
        inner.bytes
            + inner
                .permutations
                .values()
                .map(|p| p.len() * 4)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_bitsets_go_first() {
        let cache = SegmentCache::new(3 * 128 * 8);
        let seg = SegmentId::generate_random();
        let make = || Ok(DocBits::new(128 * 64));
        for key in ["a", "b", "c"] {
            cache.bits(seg, key, make).unwrap();
        }
        // "a" is used again, so "b" is the oldest when "d" comes.
        cache.bits(seg, "a", || panic!("kept")).unwrap();
        cache.bits(seg, "d", make).unwrap();
        assert!(cache.bytes() <= 3 * 128 * 8);
        cache.bits(seg, "a", || panic!("kept")).unwrap();
        let mut rebuilt = false;
        cache
            .bits(seg, "b", || {
                rebuilt = true;
                make()
            })
            .unwrap();
        assert!(rebuilt);
        cache.retain(&HashSet::new());
        assert_eq!(cache.bytes(), 0);
    }
}
