//! What searches keep per segment: clause sets, facet values, sort
//! permutations and opened fast columns.
//!
//! A segment never changes once written (deletes live apart, in its alive
//! set), so anything computed from it stays right for as long as the
//! segment is searched. What every search of a segment may need, and is
//! bounded by its size (its 8 permutations and one's places, 36 bytes a document; the
//! range steps of the keys ranges have used, 4 bytes a document each,
//! counted with the permutations; its facet values, about 18; its
//! columns), is kept until the segment merges away:
//! losing it to a burst of new filters would make the next searches page
//! from columns and rebuild facets for seconds. Clause sets are as many as
//! the filters users send, so they alone share a byte budget
//! (`--cache-bytes`): past it, sets go (down to 90 % of it, so eviction
//! runs now and then rather than on every insert), and a search rebuilds
//! what it needs. Eviction is a segmented LRU (see `Inner::evict`): sets
//! no other search has used yet go first, so a stream of one-off filters
//! cannot push out the sets every search shares. Opened columns are handles
//! on the mapped index files, counted at a nominal `COLUMNS_BYTES`.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use tantivy::DocId;
use tantivy::index::SegmentId;
use tantivy::schema::Field;

use super::bits::DocBits;
use super::facets::{FacetCounts, ValueBits};
use super::order::{Columns, Permutation};
use super::steps::Steps;
use super::vocabulary::Vocabulary;
use crate::query::cursor::SortValue;
use crate::query::plan::{ClauseKey, PlanKey};
use crate::query::request::{Facet, Sort};

/// The smallest default budget for clause sets: at a million documents
/// about 2,000 dense ones (125 KB each; sparse ones are far smaller).
pub const DEFAULT_BUDGET: usize = 256 << 20;
/// Default budget per document of the index, when that is more: room for
/// some 250 dense clause sets at any size.
pub const BYTES_PER_DOC: usize = 32;
/// Clause sets ranked at most when choosing what to evict (see
/// `Inner::evict`).
const EVICTION_SAMPLE: usize = 4096;
/// What one segment's opened columns are counted as.
const COLUMNS_BYTES: usize = 4 << 10;

/// The kinds of things kept, as `/metrics` names them.
pub const KINDS: [&str; 5] = [
    "clauses",
    "facets",
    "permutations",
    "columns",
    "vocabularies",
];
/// Where vocabularies are counted in `Inner::bytes`.
const VOCABULARIES: usize = 4;

struct Kept<T> {
    value: T,
    bytes: usize,
    used: u64,
}

/// A clause set kept, with where it stands in the segmented LRU.
struct KeptSet {
    kept: Kept<Arc<DocBits>>,
    /// The search that built it (see `SegmentCache::next_search`).
    by: u64,
    /// Used again by another search since it was built.
    protected: bool,
}

#[derive(Default)]
struct Inner {
    /// Per segment, so that a lookup needs no owned key.
    clauses: HashMap<SegmentId, HashMap<ClauseKey, KeptSet>>,
    /// Bytes of the protected clause sets (part of `bytes[0]`).
    protected: usize,
    facets: HashMap<(SegmentId, Facet), Kept<Arc<ValueBits>>>,
    permutations: HashMap<(SegmentId, Sort), Kept<Arc<Permutation>>>,
    /// Prefix sets of permutations, for key ranges (counted with them).
    steps: HashMap<(SegmentId, Sort), Arc<Steps>>,
    columns: HashMap<SegmentId, Arc<Columns>>,
    /// Merged term dictionaries per field (see `vocabulary`), counted
    /// against the clause budget: they serve the clause sets of typo
    /// automata.
    vocabularies: HashMap<Field, Arc<Vocabulary>>,
    /// Bytes per kind, in the order of `KINDS`.
    bytes: [usize; 5],
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

    /// The clause set kept for `key` in `segment`, marked used by `search`
    /// (and protected if another search built it).
    fn used(&mut self, segment: SegmentId, key: &ClauseKey, search: u64) -> Option<Arc<DocBits>> {
        let now = self.tick();
        let kept = self.clauses.get_mut(&segment)?.get_mut(key)?;
        kept.kept.used = now;
        if !kept.protected && kept.by != search {
            kept.protected = true;
            self.protected += kept.kept.bytes;
        }
        Some(kept.kept.value.clone())
    }

    /// The tick before which the clause sets that `pick` selects hold
    /// about `bytes` bytes: all of them ranked when they are at most
    /// `EVICTION_SAMPLE`, else an even sample (approximate LRU, as Redis
    /// does; at 10M contacts the cache holds tens of thousands of sets, and
    /// sorting every key under the lock stalled all searches).
    fn cut(&self, pick: impl Fn(&KeptSet) -> bool, bytes: usize) -> Option<u64> {
        let picked = || {
            self.clauses
                .values()
                .flat_map(HashMap::values)
                .filter(|k| pick(k))
        };
        let count = picked().count();
        if count == 0 {
            return None;
        }
        let stride = count.div_ceil(EVICTION_SAMPLE);
        let mut sample: Vec<(u64, usize)> = picked()
            .step_by(stride)
            .map(|k| (k.kept.used, k.kept.bytes))
            .collect();
        sample.sort_unstable();
        let (mut sum, mut cut) = (0, 0);
        // Each sampled set stands for `stride` sets.
        for (used, size) in sample {
            cut = used + 1;
            sum += size * stride;
            if sum >= bytes {
                break;
            }
        }
        Some(cut)
    }

    /// Drops clause sets until they take at most `target` bytes, and hands
    /// them back to be freed after the lock: a segmented LRU. A set starts
    /// on probation and is protected once another search uses it. Sets on
    /// probation go first, least recently used first, so one-off filters
    /// (a `min_confidence` nobody sends again) churn among themselves
    /// instead of pushing out the sets every search reuses. Protected sets
    /// past `protected_cap` bytes go back on probation, oldest first, so
    /// probation keeps room for the sets of the searches running now.
    fn evict(&mut self, target: usize, protected_cap: usize) -> Vec<Arc<DocBits>> {
        if self.protected > protected_cap
            && let Some(cut) = self.cut(|k| k.protected, self.protected - protected_cap)
        {
            for kept in self.clauses.values_mut().flat_map(HashMap::values_mut) {
                if kept.protected && kept.kept.used < cut {
                    kept.protected = false;
                    self.protected -= kept.kept.bytes;
                }
            }
        }
        let mut gone = Vec::new();
        while self.bytes[0] > target {
            let excess = self.bytes[0] - target;
            let Some((cut, protected)) = self
                .cut(|k| !k.protected, excess)
                .map(|cut| (cut, false))
                .or_else(|| self.cut(|k| k.protected, excess).map(|cut| (cut, true)))
            else {
                break;
            };
            let (bytes, protected_bytes) = (&mut self.bytes[0], &mut self.protected);
            for kept in self.clauses.values_mut() {
                gone.extend(
                    kept.extract_if(|_, k| k.protected == protected && k.kept.used < cut)
                        .map(|(_, k)| {
                            *bytes -= k.kept.bytes;
                            if k.protected {
                                *protected_bytes -= k.kept.bytes;
                            }
                            k.kept.value
                        }),
                );
            }
            self.clauses.retain(|_, kept| !kept.is_empty());
        }
        gone
    }
}

/// What the facet counts of one segment's matches are kept under: the
/// segment and its deletes, the plan's clauses and the facets asked for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountsKey {
    pub segment: SegmentId,
    pub delete_opstamp: Option<u64>,
    pub plan: Arc<PlanKey>,
    pub facets: Vec<Facet>,
}

/// At most this many bytes of facet counts are kept, about.
const COUNTS_BYTES: usize = 16 << 20;

/// What the first page of one segment's relevance order is kept under:
/// the segment and its deletes, the plan's clauses, the relevance signals
/// with their weights and the page size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub segment: SegmentId,
    pub delete_opstamp: Option<u64>,
    pub plan: Arc<PlanKey>,
    pub signals: Arc<[(ClauseKey, u64)]>,
    pub k: usize,
}

/// One segment's share of a first page: its matches and its best hits
/// (sort value, contact id, document).
#[derive(Debug, Clone, PartialEq)]
pub struct FirstPage {
    pub total: u64,
    pub hits: Vec<(SortValue, u64, DocId)>,
}

/// At most this many bytes of first pages are kept, about.
const PAGES_BYTES: usize = 16 << 20;

/// Small results by key, in two generations: new ones go in the young
/// one, ones used again move there, and once it holds half of `cap` bytes
/// it becomes the old one and the old one goes. The results are small (a
/// few kilobytes), so a plain least-recently-used order is not worth its
/// bookkeeping; results of merged segments age out the same way.
struct Generations<K, V> {
    young: HashMap<K, (Arc<V>, usize)>,
    old: HashMap<K, (Arc<V>, usize)>,
    young_bytes: usize,
    cap: usize,
}

impl<K: Hash + Eq, V> Generations<K, V> {
    fn new(cap: usize) -> Generations<K, V> {
        Generations {
            young: HashMap::new(),
            old: HashMap::new(),
            young_bytes: 0,
            cap,
        }
    }

    fn get(&mut self, key: &K) -> Option<Arc<V>> {
        if let Some((kept, _)) = self.young.get(key) {
            return Some(kept.clone());
        }
        let (key, (kept, bytes)) = self.old.remove_entry(key)?;
        self.insert(key, kept.clone(), bytes);
        Some(kept)
    }

    fn insert(&mut self, key: K, value: Arc<V>, bytes: usize) {
        self.young.insert(key, (value, bytes));
        self.young_bytes += bytes;
        if self.young_bytes > self.cap / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
    }

    /// The value kept under `key`, made by `make` (and kept, at about the
    /// bytes `size` gives) when missing.
    fn get_or_make<E>(
        this: &Mutex<Self>,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
        size: impl FnOnce(&V) -> usize,
    ) -> Result<Arc<V>, E> {
        let lock = || this.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(kept) = lock().get(&key) {
            return Ok(kept);
        }
        let value = Arc::new(make()?);
        let bytes = size_of::<K>() + size(&value);
        lock().insert(key, value.clone(), bytes);
        Ok(value)
    }
}

/// See the module documentation.
pub struct SegmentCache {
    inner: Mutex<Inner>,
    budget: usize,
    searches: std::sync::atomic::AtomicU64,
    counts: Mutex<Generations<CountsKey, FacetCounts>>,
    pages: Mutex<Generations<PageKey, FirstPage>>,
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
            searches: std::sync::atomic::AtomicU64::new(0),
            counts: Mutex::new(Generations::new(COUNTS_BYTES)),
            pages: Mutex::new(Generations::new(PAGES_BYTES)),
        }
    }

    /// The facet counts kept under `key`, counted by `count` when missing.
    /// A segment never changes and `key` names its deletes and the plan, so
    /// the counts stay exact: a repeated facet request (a dashboard, the
    /// same drill-down by many users, the next page of a faceted list)
    /// reads them instead of counting again.
    pub fn facet_counts(
        &self,
        key: CountsKey,
        count: impl FnOnce() -> tantivy::Result<FacetCounts>,
    ) -> tantivy::Result<Arc<FacetCounts>> {
        Generations::get_or_make(&self.counts, key, count, |counts| {
            counts
                .values()
                .flat_map(|by_value| by_value.keys())
                .map(|name| name.len() + 64)
                .sum()
        })
    }

    /// A segment's share of the first page kept under `key`, searched by
    /// `search` when missing. Exact for the same reason as the facet
    /// counts: typeahead's first letters (`q=s`, `q=ma`), which every user
    /// types, read their page instead of ranking a large part of each
    /// segment again.
    pub fn first_page<E>(
        &self,
        key: PageKey,
        search: impl FnOnce() -> Result<FirstPage, E>,
    ) -> Result<Arc<FirstPage>, E> {
        Generations::get_or_make(&self.pages, key, search, |page| page.hits.len() * 64 + 64)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `bytes` more of `kind` and evicts clause sets past the budget
    /// (down to 90 % of it, at most 70 % of it protected), handing them back
    /// to be freed after the lock.
    #[must_use]
    fn added(&self, inner: &mut Inner, kind: usize, bytes: usize) -> Vec<Arc<DocBits>> {
        inner.bytes[kind] += bytes;
        // Vocabularies take their share of the budget first.
        let budget = self.budget.saturating_sub(inner.bytes[VOCABULARIES]);
        if inner.bytes[0] <= budget {
            return Vec::new();
        }
        let started = std::time::Instant::now();
        let gone = inner.evict(budget / 10 * 9, budget / 10 * 7);
        tracing::debug!(
            sets = gone.len(),
            kept = inner.clauses.values().map(HashMap::len).sum::<usize>(),
            us = started.elapsed().as_micros() as u64,
            "evicted clause sets"
        );
        gone
    }

    /// A number for a new search: a clause set is protected from eviction
    /// once a search other than the one that built it uses it (one search
    /// may look a set up several times).
    pub fn next_search(&self) -> u64 {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The set kept for `key` in `segment`, if there is one, as search
    /// `search` uses it.
    pub fn kept_bits(
        &self,
        segment: SegmentId,
        key: &ClauseKey,
        search: u64,
    ) -> Option<Arc<DocBits>> {
        let mut inner = self.lock();
        inner.used(segment, key, search)
    }

    /// Whether a set is kept for `key` in `segment` (not marking it used).
    pub fn has_bits(&self, segment: SegmentId, key: &ClauseKey) -> bool {
        self.lock()
            .clauses
            .get(&segment)
            .is_some_and(|kept| kept.contains_key(key))
    }

    /// The bitset kept for `key` in `segment`, built (outside the lock) when
    /// missing, for search `search`.
    pub fn bits(
        &self,
        segment: SegmentId,
        key: &ClauseKey,
        search: u64,
        build: impl FnOnce() -> tantivy::Result<DocBits>,
    ) -> tantivy::Result<Arc<DocBits>> {
        if let Some(kept) = self.lock().used(segment, key, search) {
            return Ok(kept);
        }
        let bits = Arc::new(build()?);
        let mut inner = self.lock();
        let now = inner.tick();
        let bytes = bits.heap_bytes();
        let kept = KeptSet {
            kept: Kept {
                value: bits.clone(),
                bytes,
                used: now,
            },
            by: search,
            protected: false,
        };
        let before = inner
            .clauses
            .entry(segment)
            .or_default()
            .insert(key.clone(), kept);
        if let Some(before) = before {
            inner.bytes[0] -= before.kept.bytes;
            if before.protected {
                inner.protected -= before.kept.bytes;
            }
        }
        let gone = self.added(&mut inner, 0, bytes);
        drop(inner);
        drop(gone);
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
        let gone = self.added(&mut inner, 1, bytes);
        drop(inner);
        drop(gone);
        Ok(built)
    }

    /// The permutation of `segment`'s documents in `sort` order, built when
    /// missing.
    pub fn permutation(
        &self,
        segment: SegmentId,
        sort: Sort,
        build: impl FnOnce() -> Permutation,
    ) -> Arc<Permutation> {
        if let Some(p) = self.built_permutation(segment, sort) {
            return p;
        }
        let built = Arc::new(build());
        let mut inner = self.lock();
        let now = inner.tick();
        if let Some(p) = hit(&mut inner.permutations, &(segment, sort), now) {
            return p;
        }
        let bytes = built.heap_bytes();
        inner.permutations.insert(
            (segment, sort),
            Kept {
                value: built.clone(),
                bytes,
                used: now,
            },
        );
        let gone = self.added(&mut inner, 2, bytes);
        drop(inner);
        drop(gone);
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
        let gone = self.added(&mut inner, 3, COLUMNS_BYTES);
        drop(inner);
        drop(gone);
        Ok(opened)
    }

    /// The prefix sets of `segment`'s permutation in `sort` order, built
    /// when missing (see `steps`).
    pub fn steps(
        &self,
        segment: SegmentId,
        sort: Sort,
        build: impl FnOnce() -> Steps,
    ) -> Arc<Steps> {
        if let Some(s) = self.lock().steps.get(&(segment, sort)) {
            return s.clone();
        }
        let built = Arc::new(build());
        let mut inner = self.lock();
        if let Some(s) = inner.steps.get(&(segment, sort)) {
            return s.clone();
        }
        inner.steps.insert((segment, sort), built.clone());
        let gone = self.added(&mut inner, 2, built.heap_bytes());
        drop(inner);
        drop(gone);
        built
    }

    /// How many sort permutations are kept.
    pub fn permutations(&self) -> usize {
        self.lock().permutations.len()
    }

    /// The permutation of `segment`'s documents in `sort` order, if built.
    pub fn built_permutation(&self, segment: SegmentId, sort: Sort) -> Option<Arc<Permutation>> {
        let mut inner = self.lock();
        let now = inner.tick();
        hit(&mut inner.permutations, &(segment, sort), now)
    }

    /// Forgets segments that are no longer searched.
    pub fn retain(&self, live: &HashSet<SegmentId>) {
        // What goes is freed after the lock is let go: a replica calls this
        // from a SCHED_IDLE thread, which must not keep searches waiting on
        // the lock while it hands megabytes back.
        let gone = |segment: &SegmentId| !live.contains(segment);
        let dropped = {
            let mut inner = self.lock();
            let inner = &mut *inner;
            let clauses: Vec<_> = inner.clauses.extract_if(|s, _| gone(s)).collect();
            let facets: Vec<_> = inner.facets.extract_if(|(s, _), _| gone(s)).collect();
            let permutations: Vec<_> = inner.permutations.extract_if(|(s, _), _| gone(s)).collect();
            let columns: Vec<_> = inner.columns.extract_if(|s, _| gone(s)).collect();
            let steps: Vec<_> = inner.steps.extract_if(|(s, _), _| gone(s)).collect();
            let freed = [
                clauses
                    .iter()
                    .flat_map(|(_, kept)| kept.values())
                    .map(|k| k.kept.bytes)
                    .sum(),
                facets.iter().map(|(_, k)| k.bytes).sum(),
                permutations.iter().map(|(_, k)| k.bytes).sum::<usize>()
                    + steps.iter().map(|(_, s)| s.heap_bytes()).sum::<usize>(),
                columns.len() * COLUMNS_BYTES,
            ];
            for (bytes, freed) in inner.bytes.iter_mut().zip(freed) {
                *bytes -= freed;
            }
            inner.protected -= clauses
                .iter()
                .flat_map(|(_, kept)| kept.values())
                .filter(|k| k.protected)
                .map(|k| k.kept.bytes)
                .sum::<usize>();
            (clauses, facets, permutations, columns, steps)
        };
        drop(dropped);
    }

    /// The vocabulary kept for `field`, if any.
    pub fn vocabulary(&self, field: Field) -> Option<Arc<Vocabulary>> {
        self.lock().vocabularies.get(&field).cloned()
    }

    /// Keeps `vocabulary` for `field`, in place of the one kept before.
    pub fn keep_vocabulary(&self, field: Field, vocabulary: Vocabulary) {
        let vocabulary = Arc::new(vocabulary);
        let (before, gone) = {
            let mut inner = self.lock();
            let inner = &mut *inner;
            let before = inner.vocabularies.insert(field, vocabulary.clone());
            inner.bytes[VOCABULARIES] -= before.as_ref().map_or(0, |v| v.heap_bytes());
            let gone = self.added(inner, VOCABULARIES, vocabulary.heap_bytes());
            (before, gone)
        };
        drop((before, gone));
    }

    /// Bytes kept, per kind (in the order of `KINDS`).
    pub fn usage(&self) -> [usize; 5] {
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
    use std::collections::BTreeMap;

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
    fn kept_results_outlive_one_generation_when_used_again() {
        let key = |i: u64| CountsKey {
            segment: SegmentId::generate_random(),
            delete_opstamp: Some(i),
            plan: Arc::new(PlanKey {
                must: vec![ClauseKey::Prefix(i.to_string())],
                must_not: Vec::new(),
            }),
            facets: vec![Facet::Source],
        };
        // About a kilobyte each: a generation holds some 8,000.
        let counts = |i: u64| {
            let by_value = BTreeMap::from([("x".repeat(1000), i)]);
            Arc::new(FacetCounts::from([("source", by_value)]))
        };
        let mut kept = Generations::new(COUNTS_BYTES);
        let (used, unused) = (key(0), key(1));
        kept.insert(used.clone(), counts(0), 1100);
        kept.insert(unused.clone(), counts(1), 1100);
        let mut i = 2;
        // Two generations later, only the count used in between is left.
        for _ in 0..2 {
            let generation_start = kept.young_bytes;
            while kept.young_bytes >= generation_start {
                kept.insert(key(i), counts(i), 1100);
                i += 1;
            }
            assert_eq!(kept.get(&used), Some(counts(0)));
        }
        assert_eq!(kept.get(&unused), None);
        assert!(kept.young.len() + kept.old.len() < 2 * COUNTS_BYTES / 1000);
    }

    #[test]
    fn least_recently_used_bitsets_go_first() {
        let one = set_of(8192).heap_bytes();
        let cache = SegmentCache::new(3 * one);
        let seg = SegmentId::generate_random();
        let make = || Ok(set_of(8192));
        // Each call is a search of its own.
        for name in ["a", "b", "c"] {
            cache
                .bits(seg, &key(name), cache.next_search(), make)
                .unwrap();
        }
        // "a" is used again, so "b" is the oldest when "d" comes.
        cache
            .bits(seg, &key("a"), cache.next_search(), || panic!("kept"))
            .unwrap();
        cache
            .bits(seg, &key("d"), cache.next_search(), make)
            .unwrap();
        assert!(cache.bytes() <= 3 * one);
        cache
            .bits(seg, &key("a"), cache.next_search(), || panic!("kept"))
            .unwrap();
        let mut rebuilt = false;
        cache
            .bits(seg, &key("b"), cache.next_search(), || {
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
        cache.permutation(seg, sort, || vec![0; one / 4].into());
        cache
            .facet(seg, Facet::Source, || {
                Ok(Some(FacetValues::from_sets(vec![(
                    1,
                    Arc::new(set_of(8192)),
                )])))
            })
            .unwrap();
        assert_eq!(cache.usage(), [0, one, one / 4 * 4, 0, 0]);
        for name in ["a", "b", "c"] {
            cache
                .bits(seg, &key(name), cache.next_search(), || Ok(set_of(8192)))
                .unwrap();
        }
        // Over the budget: the oldest clause set went, while the permutation
        // and the facet, older still, stay for as long as their segment.
        assert_eq!(cache.usage()[0], one);
        assert!(cache.built_permutation(seg, sort).is_some());
        cache.facet(seg, Facet::Source, || panic!("kept")).unwrap();
        cache.retain(&HashSet::new());
        assert_eq!(cache.usage(), [0; 5]);
    }

    #[test]
    fn a_vocabulary_takes_its_bytes_from_the_clause_budget() {
        let vocabulary = crate::search::vocabulary::tests::of_words(2_000);
        let v = vocabulary.heap_bytes();
        let one = set_of(v).heap_bytes();
        let budget = 3 * one + v / 2;
        let cache = SegmentCache::new(budget);
        let seg = SegmentId::generate_random();
        for name in ["a", "b", "c"] {
            cache
                .bits(seg, &key(name), cache.next_search(), || Ok(set_of(v)))
                .unwrap();
        }
        assert_eq!(cache.usage()[0], 3 * one);
        // With the vocabulary, three sets are over the budget: sets go,
        // down to 90 % of what the vocabulary leaves.
        let field = tantivy::schema::Field::from_field_id(0);
        cache.keep_vocabulary(field, vocabulary);
        assert_eq!(cache.usage()[4], v);
        assert!(cache.usage()[0] < 3 * one);
        assert!(cache.usage()[0] + v <= budget);
        assert!(cache.vocabulary(field).is_some());
        // A new one replaces it in the count too.
        let smaller = crate::search::vocabulary::tests::of_words(10);
        let s = smaller.heap_bytes();
        assert!(s < v);
        cache.keep_vocabulary(field, smaller);
        assert_eq!(cache.usage()[4], s);
    }

    #[test]
    fn past_the_sample_size_eviction_still_keeps_the_recent_sets() {
        let n = 3 * EVICTION_SAMPLE;
        let one = set_of(64).heap_bytes();
        let cache = SegmentCache::new(n * one);
        let seg = SegmentId::generate_random();
        for i in 0..n + n / 4 {
            cache
                .bits(seg, &key(&i.to_string()), cache.next_search(), || {
                    Ok(set_of(64))
                })
                .unwrap();
        }
        let kept = cache.usage()[0] / one;
        assert!(cache.usage()[0] <= n * one, "{kept} sets kept");
        assert!(kept >= n / 2, "only {kept} of {n} sets kept");
        // The newest tenth of the budget is never what goes.
        for i in n + n / 4 - n / 10..n + n / 4 {
            cache
                .bits(seg, &key(&i.to_string()), cache.next_search(), || {
                    panic!("set {i} was evicted")
                })
                .unwrap();
        }
    }

    #[test]
    fn sets_reused_by_other_searches_outlast_a_burst_of_one_off_sets() {
        let one = set_of(8192).heap_bytes();
        let cache = SegmentCache::new(10 * one);
        let seg = SegmentId::generate_random();
        let make = || Ok(set_of(8192));
        // "country" is built by one search, looked up again by the same
        // search (which does not protect it), then used by another.
        let first = cache.next_search();
        cache.bits(seg, &key("country"), first, make).unwrap();
        cache
            .bits(seg, &key("country"), first, || panic!("kept"))
            .unwrap();
        cache
            .bits(seg, &key("country"), cache.next_search(), || panic!("kept"))
            .unwrap();
        // "twice" is only ever used by the search that built it.
        let other = cache.next_search();
        cache.bits(seg, &key("twice"), other, make).unwrap();
        cache
            .bits(seg, &key("twice"), other, || panic!("kept"))
            .unwrap();
        // Fifty one-off ranges, each from its own search, all newer.
        for i in 0..50 {
            cache
                .bits(seg, &key(&format!("range {i}")), cache.next_search(), make)
                .unwrap();
        }
        assert!(cache.bytes() <= 10 * one);
        cache
            .bits(seg, &key("country"), cache.next_search(), || {
                panic!("country was evicted")
            })
            .unwrap();
        let mut rebuilt = false;
        cache
            .bits(seg, &key("twice"), cache.next_search(), || {
                rebuilt = true;
                make()
            })
            .unwrap();
        assert!(rebuilt, "a set used by one search only is not protected");
        // The newest one-off sets are still there for the searches that
        // built them.
        cache
            .bits(seg, &key("range 49"), cache.next_search(), || {
                panic!("range 49 was evicted")
            })
            .unwrap();
        cache.retain(&HashSet::new());
        assert_eq!(cache.bytes(), 0);
        assert_eq!(cache.lock().protected, 0);
    }
}
