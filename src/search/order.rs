//! Ordering inside a segment: sort keys, and the first `k` matches after a
//! cursor.
//!
//! Tantivy has no search-after and breaks ties by document address, which
//! changes when segments merge. Here every order is (sort key, contact id).
//! For each segment and order we keep, once, the permutation of its
//! documents in that order; the first `k` matches after a cursor are then a
//! binary search for the cursor and a walk along the permutation testing
//! each document against the match bitset. The walk ends after `k` matches,
//! so page 5,000 costs what page 1 costs and a broad filter costs less than
//! a narrow one. Sparse match sets go through a bounded heap instead: for
//! the order most pages are cut from (quality, best first: relevance and
//! `sort_by=quality_score`), over each match's place in the permutation,
//! one read from memory, where its sort key and id are two column reads
//! (a fifth of the CPU of unseen short suggest prefixes went to them at
//! ten million contacts).
//!
//! Keys are compared per segment in a local form (numbers as they are, names
//! by their term ordinal in the segment's dictionary) and turned into global
//! `SortValue`s only for the documents of the page.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::{Deref, Range};

use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, SegmentReader};

use super::bits::DocBits;
use crate::index::schema::columns;
use crate::query::cursor::{SortValue, f64_key, i64_key};
use crate::query::request::{Sort, SortKey};

/// Compares two global sort values in output order (best first).
pub fn output_order(sort: &Sort, a: (&SortValue, u64), b: (&SortValue, u64)) -> Ordering {
    let by_value = if sort.descending {
        b.0.cmp(a.0)
    } else {
        a.0.cmp(b.0)
    };
    by_value.then(a.1.cmp(&b.1))
}

/// Reads a document's sort key in segment-local form.
pub enum KeyReader {
    Quality(Column<u64>),
    Confidence(Column<f64>),
    Created(Column<i64>, Column<u64>),
    /// Names compare by term ordinal, as `2 * ord + 1`, so that a cursor
    /// falling between two terms of this segment gets an even key of its own.
    Name(StrColumn),
}

/// The fast columns searches read, opened once per segment (opening one
/// parses its block headers, which is not free at a million documents).
#[derive(Clone)]
pub struct Columns {
    pub ids: Column<u64>,
    quality: Column<u64>,
    confidence: Column<f64>,
    created_s: Column<i64>,
    created_ns: Column<u64>,
    name: StrColumn,
    pub department: Option<StrColumn>,
}

impl Columns {
    pub fn open(reader: &SegmentReader) -> tantivy::Result<Columns> {
        let ff = reader.fast_fields();
        Ok(Columns {
            ids: ff.u64(columns::ID)?,
            quality: ff.u64(columns::QUALITY)?,
            confidence: ff.f64(columns::CONFIDENCE)?,
            created_s: ff.i64(columns::CREATED_S)?,
            created_ns: ff.u64(columns::CREATED_NS)?,
            name: ff.str(columns::NAME_SORT)?.ok_or_else(|| {
                tantivy::TantivyError::SchemaError("name_sort is not a str fast field".into())
            })?,
            department: ff.str(columns::DEPARTMENT)?,
        })
    }
}

impl KeyReader {
    /// The reader of `key`; relevance orders by quality inside a tier.
    pub fn open(key: SortKey, c: &Columns) -> KeyReader {
        match key {
            SortKey::QualityScore | SortKey::Relevance => KeyReader::Quality(c.quality.clone()),
            SortKey::Confidence => KeyReader::Confidence(c.confidence.clone()),
            SortKey::CreatedAt => KeyReader::Created(c.created_s.clone(), c.created_ns.clone()),
            SortKey::FullName => KeyReader::Name(c.name.clone()),
        }
    }

    #[inline]
    pub fn local(&self, doc: DocId) -> u128 {
        match self {
            KeyReader::Quality(c) => u128::from(c.first(doc).unwrap_or(0)),
            KeyReader::Confidence(c) => u128::from(f64_key(c.first(doc).unwrap_or(0.0))),
            KeyReader::Created(s, ns) => {
                u128::from(i64_key(s.first(doc).unwrap_or(0))) << 32
                    | u128::from(ns.first(doc).unwrap_or(0))
            }
            KeyReader::Name(c) => u128::from(c.ords().first(doc).unwrap_or(0)) * 2 + 1,
        }
    }

    /// How many bit tests of a walk one heap entry's key read costs, about:
    /// quality is a plain integer column; a confidence is a float mapped
    /// to an integer, a date two columns, a name an ordinal lookup.
    pub fn heap_entry_tests(&self) -> u64 {
        match self {
            KeyReader::Quality(_) => 16,
            KeyReader::Name(_) => 32,
            KeyReader::Confidence(_) | KeyReader::Created(..) => 64,
        }
    }

    /// A global value in local form (`None`: a value of another key).
    pub fn local_value(&self, value: &SortValue) -> tantivy::Result<Option<u128>> {
        Ok(match (self, value) {
            (KeyReader::Name(c), SortValue::Text(bytes)) => {
                let mut stream = c.dictionary().range().ge(bytes).into_stream()?;
                // The first term at or after the value: equal to it, or the
                // value sits just before it.
                let local = if stream.advance() {
                    let ord = u128::from(stream.term_ord()) * 2;
                    if stream.key() == bytes.as_slice() {
                        ord + 1
                    } else {
                        ord
                    }
                } else {
                    u128::from(c.dictionary().num_terms() as u64) * 2
                };
                Some(local)
            }
            (KeyReader::Name(_), SortValue::Num(_)) | (_, SortValue::Text(_)) => None,
            (_, SortValue::Num(n)) => Some(*n),
        })
    }

    /// The global values of local keys read from this segment.
    pub fn globals(&self, locals: &[u128]) -> tantivy::Result<Vec<SortValue>> {
        let KeyReader::Name(c) = self else {
            return Ok(locals.iter().map(|&l| SortValue::Num(l)).collect());
        };
        // One pass over the dictionary in ordinal order: a dictionary block
        // is decompressed once for all the names it holds, not once each.
        let mut ords: Vec<u64> = locals.iter().map(|&l| (l / 2) as u64).collect();
        ords.sort_unstable();
        ords.dedup();
        let mut names: Vec<Vec<u8>> = Vec::with_capacity(ords.len());
        c.dictionary()
            .sorted_ords_to_term_cb(&ords, |bytes| names.push(bytes.to_vec()))?;
        Ok(locals
            .iter()
            .map(|&l| {
                let i = ords.binary_search(&((l / 2) as u64)).unwrap_or(0);
                SortValue::Text(names.get(i).cloned().unwrap_or_default())
            })
            .collect())
    }
}

/// A document in an order: smaller `(rank, id)` comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub rank: u128,
    pub id: u64,
    pub doc: DocId,
}

/// One order over one segment's documents.
pub struct SegmentOrder {
    pub sort: Sort,
    pub key: KeyReader,
    pub descending: bool,
    ids: Column<u64>,
}

impl SegmentOrder {
    pub fn open(sort: Sort, columns: &Columns) -> SegmentOrder {
        SegmentOrder {
            sort,
            key: KeyReader::open(sort.key, columns),
            descending: sort.descending,
            ids: columns.ids.clone(),
        }
    }

    /// A local key as a rank: ascending in output order.
    #[inline]
    pub fn rank_of(&self, local: u128) -> u128 {
        if self.descending { !local } else { local }
    }

    /// The inverse of `rank_of`.
    pub fn local_of(&self, rank: u128) -> u128 {
        if self.descending { !rank } else { rank }
    }

    #[inline]
    pub fn entry(&self, doc: DocId) -> Entry {
        self.entry_ranked(doc, self.rank_of(self.key.local(doc)))
    }

    /// The entry of `doc` under a rank computed elsewhere.
    #[inline]
    pub fn entry_ranked(&self, doc: DocId, rank: u128) -> Entry {
        Entry {
            rank,
            id: self.ids.first(doc).unwrap_or(0),
            doc,
        }
    }

    /// The documents of `docs`, in this order; with their places when
    /// `places` (see `Permutation`).
    pub fn permutation(&self, docs: &DocBits, places: bool) -> Permutation {
        let mut entries: Vec<Entry> = docs.iter().map(|d| self.entry(d)).collect();
        entries.sort_unstable();
        let docs: Vec<DocId> = entries.into_iter().map(|e| e.doc).collect();
        let places = places.then(|| {
            let len = docs.iter().max().map_or(0, |&d| d as usize + 1);
            let mut places = vec![u32::MAX; len];
            for (place, &doc) in docs.iter().enumerate() {
                places[doc as usize] = place as u32;
            }
            places
        });
        Permutation { docs, places }
    }
}

/// The order whose permutation keeps its documents' places.
pub const BEST_QUALITY: Sort = Sort {
    key: SortKey::QualityScore,
    descending: true,
};

/// A segment's documents in one order (`SegmentOrder::permutation`) and,
/// for `BEST_QUALITY`, the inverse: each document's place in it, so that a
/// heap compares places (one array read) instead of sort keys and ids.
pub struct Permutation {
    docs: Vec<DocId>,
    places: Option<Vec<u32>>,
}

impl Deref for Permutation {
    type Target = [DocId];
    fn deref(&self) -> &[DocId] {
        &self.docs
    }
}

#[cfg(test)]
impl From<Vec<DocId>> for Permutation {
    /// A permutation without places (tests build them by hand).
    fn from(docs: Vec<DocId>) -> Permutation {
        Permutation { docs, places: None }
    }
}

impl Permutation {
    /// Memory held.
    pub fn heap_bytes(&self) -> usize {
        (self.docs.len() + self.places.as_ref().map_or(0, Vec::len)) * 4
    }

    /// Each document's place, if kept for this order.
    pub fn places(&self) -> Option<&[u32]> {
        self.places.as_deref()
    }
}

/// How many documents of `permutation` come at or before `after`.
pub fn start_after(
    order: &SegmentOrder,
    permutation: &[DocId],
    after: Option<(u128, u64)>,
) -> usize {
    match after {
        None => 0,
        Some(after) => permutation.partition_point(|&d| {
            let e = order.entry(d);
            (e.rank, e.id) <= after
        }),
    }
}

/// The `k` smallest of `keys` (distinct), increasing: a bounded heap.
pub fn smallest_k(keys: impl Iterator<Item = u64>, k: usize) -> Vec<u64> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap = BinaryHeap::with_capacity(k + 1);
    for key in keys {
        if heap.len() < k {
            heap.push(key);
        } else if heap.peek().is_some_and(|&worst| key < worst) {
            heap.pop();
            heap.push(key);
        }
    }
    heap.into_sorted_vec()
}

/// The first `k` of `docs` in `permutation`'s order (it has `places`)
/// within `window` (positions in it) after `after`.
pub fn first_by_place(
    order: &SegmentOrder,
    permutation: &[DocId],
    places: &[u32],
    docs: impl Iterator<Item = DocId>,
    window: Range<usize>,
    after: Option<(u128, u64)>,
    k: usize,
) -> Vec<Entry> {
    let from = window.start.max(start_after(order, permutation, after)) as u64;
    let to = window.end as u64;
    let keys = docs
        .filter_map(|d| places.get(d as usize))
        .map(|&p| u64::from(p))
        .filter(|p| (from..to).contains(p));
    smallest_k(keys, k)
        .into_iter()
        .map(|p| order.entry(permutation[p as usize]))
        .collect()
}

/// A walk is chosen when it expects at most this many tests per match.
/// That is well under what a heap entry costs (`heap_entry_tests`)
/// because the expectation assumes matches spread evenly over the order;
/// when they do not, the walk's budget ends it (`walk`).
const WALK_TESTS_PER_MATCH: u64 = 4;

/// Whether walking `window` documents of a permutation beats a heap over
/// the matches, all inside it: the walk tests about `k * window / matched`
/// documents if the matches spread evenly over the order, the heap reads
/// every match.
pub fn prefer_walk(matched: u64, window: usize, k: usize) -> bool {
    matched
        .saturating_mul(matched)
        .saturating_mul(WALK_TESTS_PER_MATCH)
        > (k as u64) * window as u64
}

/// The part of `permutation` (in `order`) whose keys lie in `bounds`
/// (inclusive, local form; see `FilterPlan::key_bounds`).
pub fn window(
    order: &SegmentOrder,
    permutation: &[DocId],
    bounds: (Option<u128>, Option<u128>),
) -> Range<usize> {
    // A descending order meets the upper bound first.
    let (first, last) = if order.descending {
        (bounds.1, bounds.0)
    } else {
        bounds
    };
    let rank = |d: DocId| order.rank_of(order.key.local(d));
    let start = first.map_or(0, |b| {
        let b = order.rank_of(b);
        permutation.partition_point(|&d| rank(d) < b)
    });
    let end = last.map_or(permutation.len(), |b| {
        let b = order.rank_of(b);
        permutation.partition_point(|&d| rank(d) <= b)
    });
    start..end.max(start)
}

/// The first `k` documents of `permutation` in `matched` after `after`;
/// `None` once `budget` documents were tested without finding them all.
pub fn walk(
    order: &SegmentOrder,
    permutation: &[DocId],
    matched: &DocBits,
    after: Option<(u128, u64)>,
    k: usize,
    budget: usize,
) -> Option<Vec<Entry>> {
    let start = start_after(order, permutation, after);
    let mut found = Vec::with_capacity(k.min(1024));
    for (tested, &d) in permutation[start..].iter().enumerate() {
        if found.len() == k {
            break;
        }
        if tested == budget {
            return None;
        }
        if matched.contains(d) {
            found.push(order.entry(d));
        }
    }
    Some(found)
}

/// The `k` first of `docs` in `order` after `after` whose keys lie in
/// `bounds` (local form; see `window`), best first.
pub fn first_of(
    order: &SegmentOrder,
    docs: impl Iterator<Item = DocId>,
    bounds: (Option<u128>, Option<u128>),
    after: Option<(u128, u64)>,
    k: usize,
) -> Vec<Entry> {
    // Only the bound met last in output order can rule documents out here:
    // the first one is the filters' own, which every match meets.
    let cap = if order.descending {
        bounds.0.map(|lo| order.rank_of(lo))
    } else {
        bounds.1
    };
    first_k(
        docs,
        |d| order.rank_of(order.key.local(d)),
        |d, rank| order.entry_ranked(d, rank),
        cap,
        after,
        k,
    )
}

/// The `k` first items after `after` with a rank of at most `cap`, best
/// first, through a bounded heap. An item's entry (its id, a second column
/// read) is made only when its rank alone does not already rule it out.
pub fn first_k<T: Copy>(
    items: impl Iterator<Item = T>,
    mut rank: impl FnMut(T) -> u128,
    entry: impl Fn(T, u128) -> Entry,
    cap: Option<u128>,
    after: Option<(u128, u64)>,
    k: usize,
) -> Vec<Entry> {
    if k == 0 {
        return Vec::new();
    }
    let mut heap: BinaryHeap<Entry> = BinaryHeap::with_capacity(k + 1);
    for item in items {
        let r = rank(item);
        if after.is_some_and(|(a, _)| r < a)
            || cap.is_some_and(|c| r > c)
            || (heap.len() == k && heap.peek().is_some_and(|worst| r > worst.rank))
        {
            continue;
        }
        let e = entry(item, r);
        if after.is_some_and(|a| (e.rank, e.id) <= a) {
            continue;
        }
        if heap.len() < k {
            heap.push(e);
        } else if let Some(worst) = heap.peek()
            && e < *worst
        {
            heap.pop();
            heap.push(e);
        }
    }
    heap.into_sorted_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSchema;
    use tantivy::{Index, TantivyDocument};

    /// A segment of 1,000 contacts, id `i` of quality `i % 100`.
    fn segment() -> Index {
        let schema = IndexSchema::declared().unwrap();
        let f = &schema.fields;
        let index = Index::create_in_ram(schema.schema.clone());
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 50_000_000).unwrap();
        for id in 0..1_000u64 {
            let mut doc = TantivyDocument::default();
            doc.add_u64(f.id, id);
            doc.add_u64(f.quality_score, id % 100);
            doc.add_f64(f.confidence, 0.5);
            doc.add_i64(f.created_at_s, 0);
            doc.add_u64(f.created_at_ns, 0);
            doc.add_text(f.name_sort, format!("name {id:04}"));
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        index
    }

    #[test]
    fn window_and_a_budgeted_walk_agree_with_a_filter_of_all_documents() {
        let index = segment();
        let searcher = index.reader().unwrap().searcher();
        let reader = searcher.segment_reader(0);
        let columns = Columns::open(reader).unwrap();
        for descending in [false, true] {
            let sort = Sort {
                key: SortKey::QualityScore,
                descending,
            };
            let order = SegmentOrder::open(sort, &columns);
            let all = DocBits::full(reader.max_doc());
            let permutation = order.permutation(&all, false);
            // Quality 90..=94: 50 documents, wherever the order puts them.
            let w = window(&order, &permutation, (Some(90), Some(94)));
            assert_eq!(w.len(), 50);
            assert!(
                permutation[w.clone()]
                    .iter()
                    .all(|&d| (90..=94).contains(&(d % 100)))
            );
            // Matches at the far end of the ascending order: a walk with a
            // small budget gives up, one with room finds the same page as
            // the heap.
            let high: Vec<DocId> = (0..1_000).filter(|d| d % 100 >= 95).collect();
            let matched = DocBits::from_sorted(reader.max_doc(), &high);
            let heap = first_of(&order, matched.iter(), (None, None), None, 10);
            assert_eq!(heap.len(), 10);
            assert_eq!(
                walk(&order, &permutation, &matched, None, 10, usize::MAX),
                Some(heap.clone())
            );
            if !descending {
                assert_eq!(walk(&order, &permutation, &matched, None, 10, 200), None);
            }
            let after = Some((heap[4].rank, heap[4].id));
            assert_eq!(
                walk(&order, &permutation, &matched, after, 5, usize::MAX),
                Some(first_of(&order, matched.iter(), (None, None), after, 5))
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The heap over places finds what the heap over keys and ids
        /// finds, for any matches, bounds, cursor and page size.
        #[test]
        fn places_page_like_keys(
            picks in proptest::collection::vec(0u32..1_000, 0..300),
            lo in proptest::option::of(0u128..100),
            width in 0u128..100,
            cursor in proptest::option::of(0u32..1_000),
            k in 0usize..25,
            descending: bool,
        ) {
            let index = segment();
            let searcher = index.reader().unwrap().searcher();
            let reader = searcher.segment_reader(0);
            let columns = Columns::open(reader).unwrap();
            let order = SegmentOrder::open(Sort { key: SortKey::QualityScore, descending }, &columns);
            let permutation = order.permutation(&DocBits::full(reader.max_doc()), true);
            let places = permutation.places().unwrap();
            let bounds = (lo, lo.map(|l| l + width));
            // Matches meet the bound met first in output order (the
            // filters' own); the other may be a cap below some of them (the
            // k-th hit of earlier segments), which both heaps must apply.
            let mut picks = picks;
            picks.retain(|&d| {
                let l = order.key.local(d);
                if descending {
                    bounds.1.is_none_or(|hi| l <= hi)
                } else {
                    bounds.0.is_none_or(|lo| l >= lo)
                }
            });
            picks.sort_unstable();
            picks.dedup();
            let matched = DocBits::from_sorted(reader.max_doc(), &picks);
            let after = cursor.map(|d| {
                let e = order.entry(d);
                (e.rank, e.id)
            });
            let window = window(&order, &permutation, bounds);
            proptest::prop_assert_eq!(
                first_by_place(&order, &permutation, places, matched.iter(), window, after, k),
                first_of(&order, matched.iter(), bounds, after, k)
            );
        }
    }

    #[test]
    fn first_k_keeps_the_first_k_after_the_cursor_within_the_cap() {
        let e = |rank, id| Entry {
            rank,
            id,
            doc: id as u32,
        };
        let all = [e(5, 1), e(1, 9), e(3, 2), e(3, 1), e(7, 4)];
        let first = |cap, after, k| first_k(all.into_iter(), |e| e.rank, |e, _| e, cap, after, k);
        assert_eq!(first(None, None, 3), vec![e(1, 9), e(3, 1), e(3, 2)]);
        assert_eq!(first(None, Some((3, 1)), 2), vec![e(3, 2), e(5, 1)]);
        // The cap is inclusive: ties at it stay, for their ids to decide.
        assert_eq!(first(Some(3), Some((1, 9)), 5), vec![e(3, 1), e(3, 2)]);
        assert_eq!(first(Some(0), None, 5), vec![]);
    }
}
