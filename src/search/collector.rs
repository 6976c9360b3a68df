//! One pass over the matching documents that yields the exact total, the
//! page after the cursor, and facet counts.
//!
//! Tantivy has no search-after and breaks ties by document address, which
//! changes when segments merge. This collector orders by (sort key, contact
//! id) and keeps only documents strictly after the cursor in a bounded heap,
//! so page 5,000 costs what page 1 costs: one scan of the matches and at most
//! `limit + 1` heap entries.
//!
//! Keys are compared per segment in a local form (numbers as they are, names
//! by their term ordinal in the segment's dictionary) and turned into global
//! `SortValue`s only for the few documents that survive the segment.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use super::facets::{DocBits, FacetCache, ValueBits, code_column};
use crate::index::schema::columns;
use crate::model::{CountryCode, EmailStatus, Section, Seniority, Source};
use crate::query::cursor::{Position, SortValue};
use crate::query::params::{Facet, Sort, SortKey};
use crate::query::plan::tier;

/// One document of a page.
#[derive(Debug, Clone)]
pub struct Hit {
    pub value: SortValue,
    pub id: u64,
    pub address: DocAddress,
}

/// Counts per facet value.
pub type FacetCounts = BTreeMap<&'static str, BTreeMap<String, u64>>;

/// What the collector yields.
#[derive(Debug, Default)]
pub struct Page {
    pub total: u64,
    /// Up to `k` hits after the cursor, in output order.
    pub hits: Vec<Hit>,
    pub facets: FacetCounts,
}

/// See the module documentation.
pub struct PageCollector {
    /// Segments are sorted by `quality_score` descending and the query can
    /// match contacts only (so its own count is the contact count).
    pub sorted_by_quality: bool,
    pub sort: Sort,
    pub after: Option<Position>,
    /// How many hits to keep (the page size plus one, to know if more follow).
    pub k: usize,
    pub facets: Vec<Facet>,
    /// Where facet value bitsets are kept between searches.
    pub facet_cache: Option<Arc<FacetCache>>,
}

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
enum KeyReader {
    /// Numeric keys; `Relevance` adds the score tier above the quality score.
    Quality(Column<u64>),
    Relevance(Column<u64>),
    Confidence(Column<f64>),
    Created(Column<i64>, Column<u64>),
    /// Names compare by term ordinal, as `2 * ord + 1`, so that a cursor
    /// falling between two terms of this segment gets an even key of its own.
    Name(StrColumn),
}

/// Order-preserving map of an `f64` onto `u64`.
fn f64_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Order-preserving map of an `i64` onto `u64`.
fn i64_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

impl KeyReader {
    fn open(key: SortKey, reader: &SegmentReader) -> tantivy::Result<KeyReader> {
        let ff = reader.fast_fields();
        Ok(match key {
            SortKey::QualityScore => KeyReader::Quality(ff.u64(columns::QUALITY)?),
            SortKey::Relevance => KeyReader::Relevance(ff.u64(columns::QUALITY)?),
            SortKey::Confidence => KeyReader::Confidence(ff.f64(columns::CONFIDENCE)?),
            SortKey::CreatedAt => {
                KeyReader::Created(ff.i64(columns::CREATED_S)?, ff.u64(columns::CREATED_NS)?)
            }
            SortKey::FullName => KeyReader::Name(ff.str(columns::NAME_SORT)?.ok_or_else(|| {
                tantivy::TantivyError::SchemaError("name_sort is not a str fast field".into())
            })?),
        })
    }

    fn local(&self, doc: DocId, score: Score) -> u128 {
        match self {
            KeyReader::Quality(c) => u128::from(c.first(doc).unwrap_or(0)),
            KeyReader::Relevance(c) => {
                u128::from(tier(score)) << 64 | u128::from(c.first(doc).unwrap_or(0))
            }
            KeyReader::Confidence(c) => u128::from(f64_key(c.first(doc).unwrap_or(0.0))),
            KeyReader::Created(s, ns) => {
                u128::from(i64_key(s.first(doc).unwrap_or(0))) << 32
                    | u128::from(ns.first(doc).unwrap_or(0))
            }
            KeyReader::Name(c) => u128::from(c.ords().first(doc).unwrap_or(0)) * 2 + 1,
        }
    }

    /// The cursor's value in local form.
    fn local_cursor(&self, value: &SortValue) -> tantivy::Result<Option<u128>> {
        Ok(match (self, value) {
            (KeyReader::Name(c), SortValue::Text(bytes)) => {
                let mut stream = c.dictionary().range().ge(bytes).into_stream()?;
                // The first term at or after the cursor: equal to it, or
                // the cursor sits just before it.
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

    fn global(&self, local: u128) -> SortValue {
        match self {
            KeyReader::Name(c) => {
                let mut bytes = Vec::new();
                // The ordinal was read from this column: it exists.
                let _ = c.dictionary().ord_to_term((local / 2) as u64, &mut bytes);
                SortValue::Text(bytes)
            }
            _ => SortValue::Num(local),
        }
    }
}

/// A heap entry; greater means later in output order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    rank: u128,
    id: u64,
    doc: DocId,
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

/// Per-segment facet counters.
enum FacetReader {
    /// Cached value bitsets, intersected with the matches at harvest.
    Bits(Facet, Arc<ValueBits>, Option<StrColumn>),
    /// Per-match counting, indexed by code
    /// (codes are small: at most `ZZ` packed in 16 bits).
    Codes(Facet, Column<u64>, Vec<u64>),
    Department(StrColumn, Vec<u64>),
}

impl FacetReader {
    fn open(
        facet: Facet,
        reader: &SegmentReader,
        cache: Option<&FacetCache>,
    ) -> tantivy::Result<FacetReader> {
        let ff = reader.fast_fields();
        if let Some(cache) = cache {
            let bits = cache.get(reader, facet)?;
            if bits.is_some() {
                let names = match facet {
                    Facet::Department => ff.str(columns::DEPARTMENT)?,
                    _ => None,
                };
                return Ok(FacetReader::Bits(facet, bits, names));
            }
        }
        let column = match facet {
            Facet::Department => {
                let col = ff.str(columns::DEPARTMENT)?.ok_or_else(|| {
                    tantivy::TantivyError::SchemaError("department is not a str fast field".into())
                })?;
                let n = col.num_terms();
                return Ok(FacetReader::Department(col, vec![0; n]));
            }
            other => code_column(other),
        };
        let col = ff.u64(column)?;
        let slots = usize::try_from(col.max_value()).unwrap_or(0).min(1 << 16) + 1;
        Ok(FacetReader::Codes(facet, col, vec![0; slots]))
    }

    fn count(&mut self, doc: DocId) {
        match self {
            FacetReader::Bits(..) => {}
            // Sections are stored once per contact, so a company with two
            // industries in one section counts once there.
            FacetReader::Codes(_, col, counts) => {
                for v in col.values_for_doc(doc) {
                    if let Some(n) = counts.get_mut(v as usize) {
                        *n += 1;
                    }
                }
            }
            FacetReader::Department(col, counts) => {
                for ord in col.term_ords(doc) {
                    counts[ord as usize] += 1;
                }
            }
        }
    }

    fn harvest(self, matched: Option<&DocBits>) -> (&'static str, BTreeMap<String, u64>) {
        match self {
            FacetReader::Bits(facet, bits, names) => {
                let mut out = BTreeMap::new();
                let (Some(values), Some(matched)) = (bits.as_ref(), matched) else {
                    return (facet.as_str(), out);
                };
                let mut buf = String::new();
                for (value, docs) in values {
                    let n = matched.and_count(docs);
                    if n == 0 {
                        continue;
                    }
                    let name = match &names {
                        Some(col) => {
                            buf.clear();
                            col.ord_to_str(*value, &mut buf)
                                .unwrap_or(false)
                                .then(|| buf.clone())
                        }
                        None => code_name(facet, *value),
                    };
                    if let Some(name) = name {
                        out.insert(name, n);
                    }
                }
                (facet.as_str(), out)
            }
            FacetReader::Codes(facet, _, counts) => {
                let out = counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, n)| *n > 0)
                    .filter_map(|(code, n)| code_name(facet, code as u64).map(|k| (k, n)))
                    .collect();
                (facet.as_str(), out)
            }
            FacetReader::Department(col, counts) => {
                let mut out = BTreeMap::new();
                let mut buf = String::new();
                for (ord, n) in counts.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                    buf.clear();
                    if col.ord_to_str(ord as u64, &mut buf).unwrap_or(false) {
                        out.insert(buf.clone(), n);
                    }
                }
                (Facet::Department.as_str(), out)
            }
        }
    }
}

pub struct SegmentPage {
    segment: SegmentOrdinal,
    ids: Column<u64>,
    key: KeyReader,
    descending: bool,
    /// The cursor as (rank, id); only documents after it enter the heap.
    after: Option<(u128, u64)>,
    k: usize,
    heap: BinaryHeap<Entry>,
    total: u64,
    facets: Vec<FacetReader>,
    /// The matches, when a facet counts by bitsets.
    matched: Option<DocBits>,
}

impl SegmentPage {
    fn rank(&self, local: u128) -> u128 {
        if self.descending { !local } else { local }
    }

    /// Puts a contact in the heap if it comes after the cursor and beats the
    /// worst kept so far.
    fn offer(&mut self, doc: DocId, id: u64, score: Score) {
        if self.k == 0 {
            return;
        }
        let rank = self.rank(self.key.local(doc, score));
        if let Some(after) = self.after
            && (rank, id) <= after
        {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(Entry { rank, id, doc });
        } else if let Some(worst) = self.heap.peek()
            && (rank, id) < (worst.rank, worst.id)
        {
            self.heap.pop();
            self.heap.push(Entry { rank, id, doc });
        }
    }

    /// The sorted-segment path for `quality_score desc` (segments are sorted
    /// by quality descending, see `index::create`): the scan starts at the
    /// cursor's quality (binary search) and stops once the heap is full and
    /// qualities fall below its worst. The caller counts.
    fn collect_sorted(
        &mut self,
        weight: &dyn Weight,
        reader: &SegmentReader,
    ) -> tantivy::Result<()> {
        let KeyReader::Quality(quality) = &self.key else {
            unreachable!("only for quality order")
        };
        let quality = quality.clone();
        let q = |doc: DocId| quality.first(doc).unwrap_or(0);
        let mut scorer = weight.scorer(reader, 1.0)?;
        if let Some((rank, _)) = self.after {
            // Docs of higher quality than the cursor's all come before it.
            let cursor_quality = (!rank) as u64;
            let (mut lo, mut hi) = (0, reader.max_doc());
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if q(mid) > cursor_quality {
                    lo = mid + 1
                } else {
                    hi = mid
                }
            }
            if scorer.doc() < lo {
                scorer.seek(lo);
            }
        }
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let id = self.ids.first(doc).unwrap_or(0);
                if id != 0 {
                    if self.heap.len() == self.k
                        && let Some(worst) = self.heap.peek()
                        && u128::from(q(doc)) < !worst.rank
                    {
                        break;
                    }
                    self.offer(doc, id, 0.0);
                }
            }
            doc = scorer.advance();
        }
        Ok(())
    }
}

impl SegmentCollector for SegmentPage {
    type Fruit = Page;

    fn collect(&mut self, doc: DocId, score: Score) {
        // Company records have contact id 0.
        let id = self.ids.first(doc).unwrap_or(0);
        if id == 0 {
            return;
        }
        self.total += 1;
        if let Some(m) = &mut self.matched {
            m.insert(doc);
        }
        for f in &mut self.facets {
            f.count(doc);
        }
        self.offer(doc, id, score);
    }

    fn harvest(self) -> Page {
        let descending = self.descending;
        let key = self.key;
        let segment = self.segment;
        let hits = self
            .heap
            .into_sorted_vec()
            .into_iter()
            .map(|e| Hit {
                value: key.global(if descending { !e.rank } else { e.rank }),
                id: e.id,
                address: DocAddress::new(segment, e.doc),
            })
            .collect();
        Page {
            total: self.total,
            hits,
            facets: {
                let matched = self.matched;
                self.facets
                    .into_iter()
                    .map(|f| f.harvest(matched.as_ref()))
                    .collect()
            },
        }
    }
}

impl Collector for PageCollector {
    type Fruit = Page;
    type Child = SegmentPage;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentPage> {
        let key = KeyReader::open(self.sort.key, reader)?;
        let descending = self.sort.descending;
        let after = match &self.after {
            None => None,
            Some(pos) => {
                let local = key.local_cursor(&pos.value)?.ok_or_else(|| {
                    tantivy::TantivyError::InvalidArgument("cursor of another sort".into())
                })?;
                Some((if descending { !local } else { local }, pos.id))
            }
        };
        let facets: Vec<FacetReader> = self
            .facets
            .iter()
            .map(|f| FacetReader::open(*f, reader, self.facet_cache.as_deref()))
            .collect::<tantivy::Result<_>>()?;
        let matched = facets
            .iter()
            .any(|f| matches!(f, FacetReader::Bits(..)))
            .then(|| DocBits::new(reader.max_doc()));
        Ok(SegmentPage {
            segment,
            ids: reader.fast_fields().u64(columns::ID)?,
            key,
            descending,
            after,
            k: self.k,
            heap: BinaryHeap::with_capacity(self.k + 1),
            total: 0,
            facets,
            matched,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort.key == SortKey::Relevance
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<Page> {
        let mut page = self.for_segment(segment_ord, reader)?;
        // Facets counted by bitsets need the matches, not a visit per match.
        let bit_facets_only = page
            .facets
            .iter()
            .all(|f| matches!(f, FacetReader::Bits(..)));
        let fast_path = self.sorted_by_quality
            && bit_facets_only
            && self.k > 0
            && self.sort.key == SortKey::QualityScore
            && self.sort.descending;
        if fast_path {
            let alive = reader.alive_bitset();
            page.total = match &mut page.matched {
                Some(matched) => {
                    weight.for_each_no_score(reader, &mut |docs| {
                        for &doc in docs {
                            if alive.is_none_or(|a| a.is_alive(doc)) {
                                matched.insert(doc);
                            }
                        }
                    })?;
                    matched.count()
                }
                None => u64::from(weight.count(reader)?),
            };
            page.collect_sorted(weight, reader)?;
            return Ok(page.harvest());
        }
        // Tantivy's own loop, with scores only when ranking by relevance.
        let alive = reader.alive_bitset();
        if self.requires_scoring() {
            weight.for_each(reader, &mut |doc, score| {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    page.collect(doc, score);
                }
            })?;
        } else {
            weight.for_each_no_score(reader, &mut |docs| {
                for &doc in docs {
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        page.collect(doc, 0.0);
                    }
                }
            })?;
        }
        Ok(page.harvest())
    }

    fn merge_fruits(&self, pages: Vec<Page>) -> tantivy::Result<Page> {
        let mut out = Page::default();
        for page in pages {
            out.total += page.total;
            out.hits.extend(page.hits);
            for (facet, counts) in page.facets {
                let merged = out.facets.entry(facet).or_default();
                for (value, n) in counts {
                    *merged.entry(value).or_default() += n;
                }
            }
        }
        out.hits
            .sort_by(|a, b| output_order(&self.sort, (&a.value, a.id), (&b.value, b.id)));
        out.hits.truncate(self.k);
        for f in &self.facets {
            out.facets.entry(f.as_str()).or_default();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_key_maps_preserve_order() {
        let fs = [-1.0, -0.0, 0.0, 0.001, 0.5, 1.0];
        for w in fs.windows(2) {
            assert!(f64_key(w[0]) <= f64_key(w[1]), "{w:?}");
        }
        assert!(i64_key(-5) < i64_key(0) && i64_key(0) < i64_key(7));
    }
}
