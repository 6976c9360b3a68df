//! Runs a plan against one searcher.
//!
//! Per segment: the matches are the contacts alive in the segment ANDed
//! with each `must` clause's bitset and with the complement of each
//! `must_not` clause's (clause bitsets come from Tantivy's own query
//! execution and are kept, see `cache`); the total is their popcount, the
//! facets are popcounts against value bitsets, and the page is the first
//! `k` matches after the cursor in the requested order (`order`). Relevance
//! serves the tiers of `q` best first, each in quality order, so a
//! one-letter `q` over half the index costs a few bitset passes, not a
//! score per match.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tantivy::index::SegmentId;
use tantivy::postings::TermInfo;
use tantivy::query::DfaWrapper;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, InvertedIndexReader, Searcher, SegmentReader, Term};

use super::SearchError;
use super::bits::{DocBits, DocCollector};
use super::cache::{CountsKey, FirstPage, PageKey, SegmentCache};
use super::facets::{self, FacetCounts};
use super::order::{self, Columns, Entry, Permutation, SegmentOrder, output_order};
use super::steps::Steps;
use super::vocabulary::{Found, Vocabulary};
use crate::index::Fields;
use crate::index::tag::Tag;
use crate::query::cursor::{Position, SortValue};
use crate::query::plan::fuzzy::Fuzzy;
use crate::query::plan::{self, Clause, ClauseKey, ClauseKind, FilterPlan, IndustrySet, PlanKey};
use crate::query::request::{Facet, Sort, SortKey};

/// Above this many relevance signals (`2^n` tier combinations), tiers are
/// computed per match instead of per bitset word.
const MAX_TIER_SIGNALS: usize = 5;

/// A key range with no kept set in a segment (see `Engine::unkept_range`).
struct UnkeptRange {
    order: SegmentOrder,
    lo: Option<u128>,
    hi: Option<u128>,
    /// What gathering it into a set costs (`Steps::gather_cost`).
    cost: u64,
}

/// What testing one document's column against a range costs, against
/// gathering one document of the range into a set.
const RANGE_TEST_COST: u64 = 24;

/// The smallest merged dictionary (in bytes) whose walks are spread over
/// the segment threads (see `Walks::walk`).
const SPREAD_WALKS_FROM: usize = 1 << 20;

/// One document of a page.
#[derive(Debug, Clone)]
pub struct Hit {
    pub value: SortValue,
    pub id: u64,
    pub address: DocAddress,
}

/// What a search yields.
#[derive(Debug, Default)]
pub struct Page {
    pub total: u64,
    /// Up to `k` hits after the cursor, in output order.
    pub hits: Vec<Hit>,
    pub facets: FacetCounts,
}

/// What a search asks for beyond its plan.
pub struct Request<'a> {
    pub sort: Sort,
    pub after: Option<&'a Position>,
    /// How many hits to return.
    pub k: usize,
    pub facets: &'a [Facet],
}

/// See the module documentation.
pub struct Engine<'a> {
    pub searcher: &'a Searcher,
    pub fields: &'a Fields,
    pub cache: &'a SegmentCache,
    /// This search's number for the cache (`SegmentCache::next_search`).
    pub search: u64,
    /// The clause sets this search had to build (none kept).
    pub built: Built,
    /// The typo automata this search walked.
    pub walks: Walks,
}

/// Clause sets a search built because none was kept: how many, their
/// documents and the time it took (all segments, all threads).
#[derive(Debug, Default)]
pub struct Built {
    pub sets: AtomicUsize,
    pub docs: std::sync::atomic::AtomicU64,
    pub nanos: std::sync::atomic::AtomicU64,
}

impl Built {
    fn add(&self, took: std::time::Duration, docs: u64) {
        self.sets.fetch_add(1, Ordering::Relaxed);
        self.docs.fetch_add(docs, Ordering::Relaxed);
        self.nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }
}

/// Adds the documents of the term `info` describes to `bits`.
fn collect_postings(
    inverted: &InvertedIndexReader,
    info: &TermInfo,
    bits: &mut DocCollector,
) -> tantivy::Result<()> {
    let mut block = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    while !block.docs().is_empty() {
        bits.extend(block.docs());
        block.advance();
    }
    Ok(())
}

/// The typo automata of one search, each built and walked over the merged
/// vocabulary once, whichever segment asks first (see `vocabulary`): a
/// two-edit automaton's tables take megabytes, and ten segments asking for
/// it used to build it ten times. The first to ask builds it and the others
/// wait for it (two segment threads used to both walk it, each for 2 ms).
#[derive(Default)]
pub struct Walks(std::sync::Mutex<Vec<(Fuzzy, WalkCell)>>);

type WalkCell = Arc<std::sync::Mutex<Option<Arc<Walk>>>>;

/// One typo automaton, and the terms it accepts in the vocabulary.
pub struct Walk {
    automaton: DfaWrapper,
    /// The vocabulary walked, and the terms found with their segments' bits.
    found: Option<(Arc<Vocabulary>, Found)>,
}

impl Walks {
    /// The walk of `fuzzy`; when `spread`, walked by all the segment
    /// threads (see `Vocabulary::search_parallel`). Only a caller that no
    /// other thread of its search can be waiting on may spread: a segment
    /// thread blocked on this walk could not help with it.
    fn walk(
        &self,
        fuzzy: &Fuzzy,
        cache: &SegmentCache,
        spread: bool,
    ) -> tantivy::Result<Arc<Walk>> {
        let cell = {
            let mut walks = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match walks.iter().find(|(f, _)| f == fuzzy) {
                Some((_, cell)) => cell.clone(),
                None => {
                    let cell = WalkCell::default();
                    walks.push((fuzzy.clone(), cell.clone()));
                    cell
                }
            }
        };
        let mut slot = cell.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(walk) = &*slot {
            return Ok(walk.clone());
        }
        let automaton = fuzzy.automaton()?;
        let found = cache.vocabulary(fuzzy.field).map(|v| {
            // A small dictionary (the name tokens: 38 KB at ten million
            // contacts) is walked in less time than handing out its ranges.
            let found = if spread && v.heap_bytes() >= SPREAD_WALKS_FROM {
                segment_threads().install(|| v.search_parallel(&automaton, fuzzy.token.as_bytes()))
            } else {
                v.search(&automaton)
            };
            (v, found)
        });
        let walk = Arc::new(Walk { automaton, found });
        *slot = Some(walk.clone());
        Ok(walk)
    }
}

impl Walk {
    /// The terms found in `segment`, if the vocabulary walked covers it.
    fn found_in(&self, segment: SegmentId) -> Option<impl Iterator<Item = &[u8]>> {
        let (vocabulary, found) = self.found.as_ref()?;
        let slot = vocabulary.slot(segment)?;
        Some(
            found
                .iter()
                .filter(move |(_, segments)| segments >> slot & 1 == 1)
                .map(|(term, _)| term.as_slice()),
        )
    }
}

fn invalid_cursor() -> SearchError {
    SearchError::InvalidCursor("cursor belongs to a different query (filters, q or sort changed)")
}

impl Engine<'_> {
    /// Forgets what was kept for segments this searcher no longer has.
    pub fn forget_merged_segments(&self) {
        let live: HashSet<_> = self
            .searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        self.cache.retain(&live);
    }

    /// Builds the live-contact bitset, every sort permutation and the range
    /// steps of each segment (see `SearchService::warm_in_background`); on all cores when
    /// `parallel` (at start, before requests), else on this thread only, so
    /// that searches running meanwhile keep the cores.
    pub fn warm(&self, parallel: bool) -> tantivy::Result<()> {
        // The first typo automaton of each edit distance builds Tantivy's
        // table for that distance, shared by the process from then on:
        // 9 ms at two edits, paid by the first warm-up rather than by a
        // user's suggest.
        static TABLES: std::sync::Once = std::sync::Once::new();
        TABLES.call_once(|| {
            for edits in 1..=plan::fuzzy::MAX_EDITS {
                let fuzzy = Fuzzy {
                    field: self.fields.name_token,
                    token: "warm".to_owned(),
                    edits,
                    prefix: true,
                };
                // A failure here only leaves the table to the first suggest.
                let _ = fuzzy.automaton();
            }
        });
        let mut work = Vec::new();
        for reader in self.searcher.segment_readers() {
            self.contacts(reader)?;
            for facet in Facet::ALL {
                self.cache
                    .facet(reader.segment_id(), facet, || facets::build(reader, facet))?;
            }
            for key in [
                SortKey::QualityScore,
                SortKey::Confidence,
                SortKey::CreatedAt,
                SortKey::FullName,
            ] {
                for descending in [true, false] {
                    work.push((reader, Sort { key, descending }));
                }
            }
        }
        let one = |(reader, sort): (&SegmentReader, Sort)| -> tantivy::Result<()> {
            let permutation =
                self.permutation(reader, &SegmentOrder::open(sort, &*self.columns(reader)?))?;
            // The keys with `min_`/`max_` filters: their ranges' steps, so
            // that no search builds them.
            if !sort.descending && matches!(sort.key, SortKey::QualityScore | SortKey::Confidence) {
                self.steps(reader, sort, &permutation);
            }
            Ok(())
        };
        if parallel {
            work.into_par_iter().try_for_each(one)
        } else {
            work.into_iter().try_for_each(one)
        }
    }

    /// The documents of `clause` in this segment (deleted ones included).
    pub fn clause(&self, reader: &SegmentReader, clause: &Clause) -> tantivy::Result<Arc<DocBits>> {
        if let Some(kept) = self.facet_value(reader, clause)? {
            return Ok(kept);
        }
        let build = || -> tantivy::Result<DocBits> {
            let mut bits = DocCollector::new(reader.max_doc());
            match &clause.kind {
                ClauseKind::Terms(terms) => {
                    for term in terms {
                        let inverted = reader.inverted_index(term.field())?;
                        if let Some(info) = inverted.get_term_info(term)? {
                            collect_postings(&inverted, &info, &mut bits)?;
                        }
                    }
                }
                ClauseKind::NameStartsWith(start) => {
                    let sort = Sort {
                        key: SortKey::FullName,
                        descending: false,
                    };
                    let order = SegmentOrder::open(sort, &*self.columns(reader)?);
                    // Names from `start` (included) to `start` + 0xFF (never
                    // in UTF-8, so above every name that starts with it).
                    let mut end = start.as_bytes().to_vec();
                    end.push(0xFF);
                    let lo = order
                        .key
                        .local_value(&SortValue::Text(start.as_bytes().to_vec()))?;
                    let hi = order.key.local_value(&SortValue::Text(end))?;
                    // Locals are integers: below `hi` is at most `hi - 1`.
                    if let (Some(lo), Some(hi)) = (lo, hi)
                        && hi > 0
                    {
                        return self.key_range(reader, &order, Some(lo), Some(hi - 1));
                    }
                }
                ClauseKind::Substring { field, token } => {
                    let inverted = reader.inverted_index(*field)?;
                    let mut terms = inverted.terms().stream()?;
                    let needle = token.as_bytes();
                    while terms.advance() {
                        if terms.key().windows(needle.len()).any(|w| w == needle) {
                            collect_postings(&inverted, terms.value(), &mut bits)?;
                        }
                    }
                }
                ClauseKind::Fuzzy(fuzzy) => {
                    let walk = self.walks.walk(fuzzy, self.cache, false)?;
                    let inverted = reader.inverted_index(fuzzy.field)?;
                    match walk.found_in(reader.segment_id()) {
                        Some(found) => {
                            for term in found {
                                if let Some(info) = inverted.terms().get(term)? {
                                    collect_postings(&inverted, &info, &mut bits)?;
                                }
                            }
                        }
                        None => {
                            let mut terms =
                                inverted.terms().search(&walk.automaton).into_stream()?;
                            while terms.advance() {
                                collect_postings(&inverted, terms.value(), &mut bits)?;
                            }
                        }
                    }
                }
                ClauseKind::AnyOf(parts) => {
                    let mut any = DocBits::new();
                    for part in parts {
                        any.or(&*self.clause(reader, part)?);
                    }
                    return Ok(any);
                }
                ClauseKind::AllOf(parts) => {
                    let mut sets = parts
                        .iter()
                        .map(|p| self.clause(reader, p))
                        .collect::<tantivy::Result<Vec<_>>>()?;
                    sets.sort_by_key(|s| s.count());
                    let Some((first, rest)) = sets.split_first() else {
                        return Ok(DocBits::full(reader.max_doc()));
                    };
                    let mut all = (**first).clone();
                    for s in rest {
                        all.and(s);
                    }
                    return Ok(all);
                }
                ClauseKind::KeyRange { key, lo, hi } => {
                    let sort = Sort {
                        key: *key,
                        descending: false,
                    };
                    let order = SegmentOrder::open(sort, &*self.columns(reader)?);
                    return self.key_range(reader, &order, *lo, *hi);
                }
            }
            Ok(bits.finish())
        };
        // Only sets read from the index count as built: a union's or an
        // intersection's parts count themselves.
        let leaf = !matches!(clause.kind, ClauseKind::AnyOf(_) | ClauseKind::AllOf(_));
        let build = || {
            let started = std::time::Instant::now();
            let bits = build()?;
            if leaf {
                self.built.add(started.elapsed(), bits.count());
            }
            Ok(bits)
        };
        match &clause.key {
            Some(key) => self
                .cache
                .bits(reader.segment_id(), key, self.search, build),
            None => Ok(Arc::new(build()?)),
        }
    }

    /// The documents of a one-term clause on a facet field (a country, a
    /// source, a seniority, an email status, a department, a section): that value's
    /// set, which facet counts keep anyway (see `facets`). Such filters
    /// then cost no build from the postings and no second copy in the
    /// clause budget. The set also holds company records with that column
    /// value, which no search keeps: every search intersects with the
    /// live contacts.
    fn facet_value(
        &self,
        reader: &SegmentReader,
        clause: &Clause,
    ) -> tantivy::Result<Option<Arc<DocBits>>> {
        let term = match &clause.key {
            Some(ClauseKey::Term(term)) if term.field() == self.fields.tag => term,
            // Every industry of a section: the contacts whose company has
            // a (known) industry in it, the section facet's value.
            Some(ClauseKey::Industries(IndustrySet::Section { section, at: None })) => {
                return self.facet_set(reader, Facet::IndustrySection, Some(section.code()));
            }
            _ => return Ok(None),
        };
        let value = term.value();
        let Some(tag) = value.as_str().and_then(Tag::parse) else {
            return Ok(None);
        };
        let (facet, code) = match tag {
            Tag::Country(c) => (Facet::CountryCode, Some(c)),
            Tag::Source(c) => (Facet::Source, Some(c)),
            Tag::Seniority(c) => (Facet::SeniorityLevel, Some(c)),
            Tag::EmailStatus(c) => (Facet::EmailStatus, Some(c)),
            Tag::Department(name) => {
                let ord = match &self.columns(reader)?.department {
                    Some(col) => col.dictionary().term_ord(name.as_bytes())?,
                    None => None,
                };
                (Facet::Department, ord)
            }
            _ => return Ok(None),
        };
        self.facet_set(reader, facet, code)
    }

    /// The documents with the value `code` of `facet` (`None`: no document
    /// has it), if the facet keeps value sets in this segment.
    fn facet_set(
        &self,
        reader: &SegmentReader,
        facet: Facet,
        code: Option<u64>,
    ) -> tantivy::Result<Option<Arc<DocBits>>> {
        let kept = self
            .cache
            .facet(reader.segment_id(), facet, || facets::build(reader, facet))?;
        Ok(kept.as_ref().as_ref().map(|values| values.set_of(code)))
    }

    /// The segment's fast columns (opened on first use).
    fn columns(&self, reader: &SegmentReader) -> tantivy::Result<Arc<Columns>> {
        self.cache
            .columns(reader.segment_id(), || Columns::open(reader))
    }

    /// The segment's contact documents (deleted ones included) in `order`,
    /// built now if missing (warm-ups only: searches use what is built, see
    /// `built_permutation`). Company records are left out: they would sort
    /// first (no name, no date) and every ascending walk would step over
    /// all of them.
    fn permutation(
        &self,
        reader: &SegmentReader,
        order: &SegmentOrder,
    ) -> tantivy::Result<Arc<Permutation>> {
        if let Some(built) = self.built_permutation(reader, order) {
            return Ok(built);
        }
        let mut docs = DocBits::full(reader.max_doc());
        docs.and_not(&*self.companies(reader)?);
        Ok(self.cache.permutation(reader.segment_id(), order.sort, || {
            order.permutation(&docs, order.sort == order::BEST_QUALITY)
        }))
    }

    /// The company records of this segment (id 0).
    fn companies(&self, reader: &SegmentReader) -> tantivy::Result<Arc<DocBits>> {
        self.clause(
            reader,
            &Clause::term_of(Term::from_field_u64(self.fields.id, 0)),
        )
    }

    /// The segment's documents in `order` if a warm-up built them. A
    /// segment new since the last warm-up (a commit, a merge) has none yet:
    /// building one in a search would stall it, so the search reads the
    /// columns instead, which is slower but bounded by the segment's size.
    fn built_permutation(
        &self,
        reader: &SegmentReader,
        order: &SegmentOrder,
    ) -> Option<Arc<Permutation>> {
        self.cache
            .built_permutation(reader.segment_id(), order.sort)
    }

    /// Adds to `bits` the documents whose local key (of `order`) lies in
    /// `lo..=hi` (a missing bound: unbounded).
    fn key_range(
        &self,
        reader: &SegmentReader,
        order: &SegmentOrder,
        lo: Option<u128>,
        hi: Option<u128>,
    ) -> tantivy::Result<DocBits> {
        let above_lo = |l: u128| lo.is_none_or(|lo| l >= lo);
        let below_hi = |l: u128| hi.is_none_or(|hi| l <= hi);
        let max_doc = reader.max_doc();
        let mut bits = DocCollector::new(max_doc);
        match self.built_permutation(reader, order) {
            Some(permutation) => {
                let slice = order::window(order, &permutation, (lo, hi));
                let (from, to) = (slice.start, slice.end);
                if Steps::worth_it(permutation.len(), from, to) {
                    let steps = self.steps(reader, order.sort, &permutation);
                    return Ok(steps.slice(&permutation, from, to, max_doc));
                }
                if (to - from) * 2 > permutation.len() {
                    // Most of the segment (`min_quality_score=20`): every
                    // contact document but the fewer outside the range,
                    // which are the ones written one by one.
                    let mut outside = DocCollector::new(max_doc);
                    outside.extend(&permutation[..from]);
                    outside.extend(&permutation[to..]);
                    let mut inside = DocBits::full(max_doc);
                    inside.and_not(&*self.companies(reader)?);
                    inside.and_not(&outside.finish());
                    return Ok(inside);
                }
                bits.extend(&permutation[from..to]);
            }
            None => {
                for doc in 0..max_doc {
                    let l = order.key.local(doc);
                    if above_lo(l) && below_hi(l) {
                        bits.push(doc);
                    }
                }
            }
        }
        Ok(bits.finish())
    }

    /// The range steps of this segment in ascending `sort` order
    /// (`permutation`), built on first need.
    fn steps(&self, reader: &SegmentReader, sort: Sort, permutation: &[DocId]) -> Arc<Steps> {
        self.cache.steps(reader.segment_id(), sort, || {
            Steps::build(permutation, reader.max_doc())
        })
    }

    /// The live contacts of this segment (company records share the index
    /// with id 0).
    fn contacts(&self, reader: &SegmentReader) -> tantivy::Result<Arc<DocBits>> {
        let key = ClauseKey::Contacts {
            delete_opstamp: reader.delete_opstamp(),
        };
        self.cache.bits(reader.segment_id(), &key, self.search, || {
            let max_doc = reader.max_doc();
            let companies = self.companies(reader)?;
            let mut bits = DocBits::full(max_doc);
            bits.and_not(&companies);
            if let Some(alive) = reader.alive_bitset() {
                let mut dead = DocCollector::new(max_doc);
                for doc in 0..max_doc {
                    if !alive.is_alive(doc) {
                        dead.push(doc);
                    }
                }
                bits.and_not(&dead.finish());
            }
            Ok(bits)
        })
    }

    /// A key range of `clause` that has no kept set in this segment: the
    /// order it is a range of, its bounds, and what gathering it costs,
    /// read off the order's permutation.
    fn unkept_range(
        &self,
        reader: &SegmentReader,
        clause: &Clause,
    ) -> tantivy::Result<Option<UnkeptRange>> {
        let (ClauseKind::KeyRange { key, lo, hi }, Some(kept)) = (&clause.kind, &clause.key) else {
            return Ok(None);
        };
        if self
            .cache
            .kept_bits(reader.segment_id(), kept, self.search)
            .is_some()
        {
            return Ok(None);
        }
        let sort = Sort {
            key: *key,
            descending: false,
        };
        let order = SegmentOrder::open(sort, &*self.columns(reader)?);
        let Some(permutation) = self.built_permutation(reader, &order) else {
            return Ok(None);
        };
        let slice = order::window(&order, &permutation, (*lo, *hi));
        let (from, to) = (slice.start, slice.end);
        Ok(Some(UnkeptRange {
            order,
            lo: *lo,
            hi: *hi,
            cost: Steps::gather_cost(permutation.len(), from, to),
        }))
    }

    /// The contacts of this segment that `plan` selects (a kept set when
    /// one clause alone selects them, such as the default filters').
    pub fn matches(
        &self,
        reader: &SegmentReader,
        plan: &FilterPlan,
    ) -> tantivy::Result<Arc<DocBits>> {
        let mut sets = Vec::new();
        let mut ranges = Vec::new();
        for clause in &plan.must {
            match self.unkept_range(reader, clause)? {
                Some(range) => ranges.push((clause, range)),
                None => sets.push((clause, self.clause(reader, clause)?)),
            }
        }
        // The live contacts within the broadest clause, when it is dense,
        // are one kept set (see `live_in`): searches under the default
        // filters all start from it instead of intersecting every contact
        // with them again.
        let broadest = broadest(sets.iter().map(|(c, bits)| (*c, bits.count())))
            .filter(|&i| !sets[i].1.is_sparse());
        let mut must = vec![match broadest {
            Some(i) => self.live_in(reader, sets.swap_remove(i).0)?.0,
            None => self.contacts(reader)?,
        }];
        must.extend(sets.into_iter().map(|(_, bits)| bits));
        must.sort_by_key(|bits| bits.count());
        // A range that costs far more to gather than that clause holds
        // (`min_quality_score=20` beside a rare job title) is tested on
        // those few documents' columns instead; a range that does not is
        // gathered and kept.
        let fewest = must[0].count();
        let mut tested = Vec::new();
        for (clause, range) in ranges {
            if fewest.saturating_mul(RANGE_TEST_COST) < range.cost {
                tested.push(range);
            } else {
                must.push(self.clause(reader, clause)?);
            }
        }
        must.sort_by_key(|bits| bits.count());
        let Some(second) = must.get(1) else {
            return self.without(reader, must[0].clone(), tested, &plan.must_not);
        };
        let mut matched = DocBits::intersection(&must[0], second);
        for bits in must.iter().skip(2) {
            if matched.is_empty() {
                return Ok(Arc::new(matched));
            }
            matched.and(bits);
        }
        self.without(reader, Arc::new(matched), tested, &plan.must_not)
    }

    /// `matched` within the `tested` ranges and outside every `must_not`
    /// clause (copied only when something is left out).
    fn without(
        &self,
        reader: &SegmentReader,
        mut matched: Arc<DocBits>,
        tested: Vec<UnkeptRange>,
        must_not: &[Clause],
    ) -> tantivy::Result<Arc<DocBits>> {
        for UnkeptRange { order, lo, hi, .. } in tested {
            let inside: Vec<DocId> = matched
                .iter()
                .filter(|&d| {
                    let l = order.key.local(d);
                    lo.is_none_or(|lo| l >= lo) && hi.is_none_or(|hi| l <= hi)
                })
                .collect();
            matched = Arc::new(DocBits::from_sorted(reader.max_doc(), &inside));
        }
        for clause in must_not {
            if matched.is_empty() {
                break;
            }
            Arc::make_mut(&mut matched).and_not(&*self.clause(reader, clause)?);
        }
        Ok(matched)
    }

    /// The first `k` of `matched` (holding `n` documents, whose keys lie
    /// in `bounds`) after `after`.
    #[allow(clippy::too_many_arguments)]
    fn first(
        &self,
        reader: &SegmentReader,
        order: &SegmentOrder,
        matched: &DocBits,
        n: u64,
        bounds: (Option<u128>, Option<u128>),
        after: Option<(u128, u64)>,
        k: usize,
    ) -> Vec<Entry> {
        if n == 0 || k == 0 {
            return Vec::new();
        }
        if let Some(permutation) = self.built_permutation(reader, order) {
            let range = order::window(order, &permutation, bounds);
            let window = &permutation[range.clone()];
            if order::prefer_walk(n, window.len(), k) {
                // Matches bunched at the far end of the order (filters that
                // go with the sort key, `verified=true` by quality
                // ascending) make a walk far longer than expected: it stops
                // where the heap would have cost as much, and the heap runs.
                let budget = n.saturating_mul(order.key.heap_entry_tests()) as usize;
                // A walk tests many documents: a bit each, not a search in a list.
                let walked = if matched.is_sparse() {
                    let dense = matched.to_dense(reader.max_doc());
                    order::walk(order, window, &dense, after, k, budget)
                } else {
                    order::walk(order, window, matched, after, k, budget)
                };
                if let Some(entries) = walked {
                    return entries;
                }
            }
            if let Some(places) = permutation.places() {
                let docs = matched.iter();
                return order::first_by_place(order, &permutation, places, docs, range, after, k);
            }
        }
        order::first_of(order, matched.iter(), bounds, after, k)
    }

    /// The set facets count `plan`'s matches against (see `facets`): the
    /// live contacts within its broadest kept `must` clause, so that the
    /// default filters alone (stale and speculative contacts left out)
    /// match all of it. Its key files the counts of all of it.
    fn facet_base(
        &self,
        reader: &SegmentReader,
        plan: &FilterPlan,
    ) -> tantivy::Result<(Arc<DocBits>, ClauseKey)> {
        let mut counted = Vec::new();
        for clause in plan.must.iter().filter(|c| c.key.is_some()) {
            counted.push((clause, self.clause(reader, clause)?.count()));
        }
        match broadest(counted.iter().copied()) {
            Some(i) => self.live_in(reader, counted[i].0),
            None => Ok((
                self.contacts(reader)?,
                ClauseKey::Contacts {
                    delete_opstamp: reader.delete_opstamp(),
                },
            )),
        }
    }

    /// The live contacts among the documents of `clause` (a kept one), kept
    /// under its key: the set searches start from and facets count against.
    fn live_in(
        &self,
        reader: &SegmentReader,
        clause: &Clause,
    ) -> tantivy::Result<(Arc<DocBits>, ClauseKey)> {
        let key = ClauseKey::LiveIn {
            delete_opstamp: reader.delete_opstamp(),
            within: Box::new(clause.key.clone().expect("a kept clause")),
        };
        let bits = self
            .cache
            .bits(reader.segment_id(), &key, self.search, || {
                Ok(DocBits::intersection(
                    &*self.contacts(reader)?,
                    &*self.clause(reader, clause)?,
                ))
            })?;
        Ok((bits, key))
    }

    /// Adds a segment's matches to the page's total and facet counts;
    /// returns how many there are. `kept`: the key of what `matched` holds,
    /// when the facet counts of the same matches may be kept under it.
    fn count(
        &self,
        reader: &SegmentReader,
        plan: &FilterPlan,
        kept: Option<&Arc<PlanKey>>,
        matched: &DocBits,
        facets: &[Facet],
        page: &mut Page,
    ) -> Result<u64, SearchError> {
        let n = matched.count();
        page.total += n;
        if facets.is_empty() {
            return Ok(n);
        }
        let count = || -> tantivy::Result<FacetCounts> {
            let department = self.columns(reader)?.department.clone();
            let (base, base_key) = self.facet_base(reader, plan)?;
            let m = facets::Matches {
                matched,
                base: &base,
                base_key,
            };
            let mut counts = FacetCounts::new();
            facets::count(reader, department, &m, facets, self.cache, &mut counts)?;
            Ok(counts)
        };
        let counts = match kept {
            Some(plan) => {
                let key = CountsKey {
                    segment: reader.segment_id(),
                    delete_opstamp: reader.delete_opstamp(),
                    plan: Arc::clone(plan),
                    facets: facets.to_vec(),
                };
                self.cache.facet_counts(key, count)?
            }
            None => Arc::new(count()?),
        };
        for (facet, by_value) in counts.iter() {
            let merged = page.facets.entry(facet).or_default();
            for (value, n) in by_value {
                *merged.entry(value.clone()).or_default() += n;
            }
        }
        Ok(n)
    }

    /// Total, facets and the page of `plan` in `req.sort` order (not
    /// relevance).
    pub fn search(&self, plan: &FilterPlan, req: &Request) -> Result<Page, SearchError> {
        let leaders = Leaders::new(req.sort, req.k);
        // Facet counts are kept under the plan's key (cloned once per
        // search, and only when counted).
        let kept = if req.facets.is_empty() {
            None
        } else {
            plan.key().map(Arc::new)
        };
        self.walk_ahead(plan.must.iter().chain(&plan.must_not))?;
        let mut page = self.each_segment(|ord, reader, page| {
            let matched = self.matches(reader, plan)?;
            let n = self.count(reader, plan, kept.as_ref(), &matched, req.facets, page)?;
            if n == 0 || req.k == 0 {
                return Ok(());
            }
            let order = SegmentOrder::open(req.sort, &*self.columns(reader)?);
            let after = match req.after {
                None => None,
                Some(pos) => {
                    let local = order
                        .key
                        .local_value(&pos.value)?
                        .ok_or_else(invalid_cursor)?;
                    Some((order.rank_of(local), pos.id))
                }
            };
            let mut bounds = plan.key_bounds(req.sort.key);
            if let Some(kth) = leaders.kth()
                && let Some(l) = order.key.local_value(&kth)?
            {
                // Inclusive: a tie with the k-th may still win on its id.
                if order.descending {
                    bounds.0 = Some(bounds.0.map_or(l, |lo| lo.max(l)));
                } else {
                    bounds.1 = Some(bounds.1.map_or(l, |hi| hi.min(l)));
                }
            }
            let entries = self.first(reader, &order, &matched, n, bounds, after, req.k);
            let locals: Vec<u128> = entries.iter().map(|e| order.local_of(e.rank)).collect();
            let values = order.key.globals(&locals)?;
            page.hits
                .extend(entries.into_iter().zip(values).map(|(e, value)| Hit {
                    value,
                    id: e.id,
                    address: DocAddress::new(ord, e.doc),
                }));
            leaders.add(&page.hits);
            Ok(())
        })?;
        finish(&mut page, req.sort, req.k);
        Ok(page)
    }

    /// Like `search`, in relevance order for `signals` (see
    /// `plan::signals`): tier best first, then quality, then id. A hit's
    /// value is `tier << 64 | quality`.
    pub fn search_relevance(
        &self,
        plan: &FilterPlan,
        signals: &[(Clause, u64)],
        req: &Request,
    ) -> Result<Page, SearchError> {
        let by_quality = Sort {
            key: SortKey::QualityScore,
            descending: true,
        };
        // The cursor's tier, and its quality and id.
        let cursor = match req.after {
            None => None,
            Some(Position {
                value: SortValue::Num(v),
                id,
            }) => Some(((v >> 64) as u64, v & u128::from(u64::MAX), *id)),
            Some(_) => return Err(invalid_cursor()),
        };
        let weights: Vec<u64> = signals.iter().map(|(_, w)| *w).collect();
        let tiers = (signals.len() <= MAX_TIER_SIGNALS).then(|| plan::tiers(&weights));
        let quality_bounds = plan.key_bounds(SortKey::QualityScore);
        // Kept under the plan's key: facet counts, and first pages.
        let kept = (!req.facets.is_empty() || cursor.is_none())
            .then(|| plan.key().map(Arc::new))
            .flatten();
        let signal_clauses = signals.iter().map(|(c, _)| c);
        self.walk_ahead(plan.must.iter().chain(&plan.must_not).chain(signal_clauses))?;
        let one = |ord: u32, reader: &SegmentReader, page: &mut Page| -> Result<(), SearchError> {
            let matched = self.matches(reader, plan)?;
            let n = self.count(reader, plan, kept.as_ref(), &matched, req.facets, page)?;
            if n == 0 || req.k == 0 {
                return Ok(());
            }
            let order = SegmentOrder::open(by_quality, &*self.columns(reader)?);
            let held: Vec<Arc<DocBits>> = signals
                .iter()
                .map(|(c, _)| self.clause(reader, c))
                .collect::<tantivy::Result<_>>()?;
            let address = |doc| DocAddress::new(ord, doc);
            match &tiers {
                Some(tiers) if order::prefer_walk(n, reader.max_doc() as usize, req.k) => {
                    let mut found = 0;
                    for (tier, masks) in tiers {
                        if found == req.k {
                            break;
                        }
                        let after = match cursor {
                            Some((t, _, _)) if *tier > t => continue,
                            Some((t, quality, id)) if *tier == t => {
                                Some((order.rank_of(quality), id))
                            }
                            _ => None,
                        };
                        let in_tier = tier_bits(&matched, &held, masks);
                        let tn = in_tier.count();
                        let entries = self.first(
                            reader,
                            &order,
                            &in_tier,
                            tn,
                            quality_bounds,
                            after,
                            req.k - found,
                        );
                        found += entries.len();
                        page.hits.extend(entries.into_iter().map(|e| Hit {
                            value: SortValue::Num(u128::from(*tier) << 64 | order.local_of(e.rank)),
                            id: e.id,
                            address: address(e.doc),
                        }));
                    }
                }
                _ => {
                    // Matches are visited in increasing order, so the
                    // signals' lists are stepped along, not searched.
                    let mut members: Vec<_> = held.iter().map(|bits| bits.members()).collect();
                    let mut tier_of = |doc: DocId| -> u64 {
                        members
                            .iter_mut()
                            .zip(&weights)
                            .filter_map(|(m, w)| m.contains(doc).then_some(w))
                            .sum()
                    };
                    let permutation = self.built_permutation(reader, &order);
                    if let Some((permutation, places)) =
                        permutation.as_ref().and_then(|p| Some((p, p.places()?)))
                    {
                        // Best tier, then place: ascending. Tiers are sums of
                        // at most a few dozen weights, far below 2^32.
                        let key = |tier: u64, place: u64| {
                            u64::from(u32::MAX).saturating_sub(tier) << 32 | place
                        };
                        let after = cursor.map(|(t, quality, id)| {
                            let after = Some((order.rank_of(quality), id));
                            key(t, order::start_after(&order, permutation, after) as u64)
                        });
                        let keys = matched
                            .iter()
                            // Only contacts have places (u32::MAX: none).
                            .filter_map(|d| {
                                let place = *places.get(d as usize).filter(|&&p| p != u32::MAX)?;
                                Some(key(tier_of(d), u64::from(place)))
                            })
                            .filter(|k| after.is_none_or(|a| *k >= a));
                        for k in order::smallest_k(keys, req.k) {
                            let doc = permutation[(k & u64::from(u32::MAX)) as usize];
                            let tier = u64::from(u32::MAX) - (k >> 32);
                            let e = order.entry(doc);
                            page.hits.push(Hit {
                                value: SortValue::Num(
                                    u128::from(tier) << 64 | order.local_of(e.rank),
                                ),
                                id: e.id,
                                address: address(doc),
                            });
                        }
                        return Ok(());
                    }
                    // Rank: best tier, then best quality, ascending.
                    let mut value =
                        |doc: DocId| u128::from(tier_of(doc)) << 64 | order.key.local(doc);
                    let after = cursor.map(|(t, q, id)| (!(u128::from(t) << 64 | q), id));
                    let entries = order::first_k(
                        matched.iter(),
                        |doc| !value(doc),
                        |doc, rank| order.entry_ranked(doc, rank),
                        None,
                        after,
                        req.k,
                    );
                    for e in entries {
                        page.hits.push(Hit {
                            value: SortValue::Num(!e.rank),
                            id: e.id,
                            address: address(e.doc),
                        });
                    }
                }
            }
            Ok(())
        };
        // A first page without facets is kept per segment (see
        // `SegmentCache::first_page`), when every clause has a key.
        let keep = match &kept {
            Some(plan) if cursor.is_none() && req.facets.is_empty() => signals
                .iter()
                .map(|(c, w)| c.key.clone().map(|k| (k, *w)))
                .collect::<Option<Arc<[(ClauseKey, u64)]>>>()
                .map(|signals| (plan, signals)),
            _ => None,
        };
        let mut page = self.each_segment(|ord, reader, page| {
            let Some((plan, signals)) = &keep else {
                return one(ord, reader, page);
            };
            let key = PageKey {
                segment: reader.segment_id(),
                delete_opstamp: reader.delete_opstamp(),
                plan: Arc::clone(plan),
                signals: Arc::clone(signals),
                k: req.k,
            };
            let first = self.cache.first_page(key, || {
                let mut own = Page::default();
                one(ord, reader, &mut own)?;
                Ok::<_, SearchError>(FirstPage {
                    total: own.total,
                    hits: own
                        .hits
                        .into_iter()
                        .map(|h| (h.value, h.id, h.address.doc_id))
                        .collect(),
                })
            })?;
            page.total += first.total;
            page.hits
                .extend(first.hits.iter().map(|(value, id, doc)| Hit {
                    value: value.clone(),
                    id: *id,
                    address: DocAddress::new(ord, *doc),
                }));
            Ok(())
        })?;
        finish(
            &mut page,
            Sort {
                key: SortKey::Relevance,
                descending: true,
            },
            req.k,
        );
        Ok(page)
    }
}

/// Searches spreading their segments now (see `Engine::each_segment`).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Whether `clause` holds a typo automaton.
fn holds_fuzzy(clause: &Clause) -> bool {
    match &clause.kind {
        ClauseKind::Fuzzy(_) => true,
        ClauseKind::AnyOf(parts) | ClauseKind::AllOf(parts) => parts.iter().any(holds_fuzzy),
        _ => false,
    }
}

impl Engine<'_> {
    /// Walks, before the segments fan out, the typo automata of `clauses`
    /// that some segment has no kept set for: spread over the segment
    /// threads when no other search runs (as the segments are, see
    /// `each_segment`). Left to the segments, the first to need a walk
    /// would take it alone while the others wait for it.
    fn walk_ahead<'c>(&self, clauses: impl IntoIterator<Item = &'c Clause>) -> tantivy::Result<()> {
        let mut unkept = Vec::new();
        for clause in clauses {
            self.unkept_fuzzy(clause, &mut unkept);
        }
        let spread = RUNNING.load(Ordering::Relaxed) == 0;
        for fuzzy in unkept {
            self.walks.walk(fuzzy, self.cache, spread)?;
        }
        Ok(())
    }

    /// The typo automata of `clause` whose sets some segment may build.
    fn unkept_fuzzy<'c>(&self, clause: &'c Clause, out: &mut Vec<&'c Fuzzy>) {
        if !holds_fuzzy(clause) {
            return;
        }
        let readers = self.searcher.segment_readers();
        if let Some(key) = &clause.key
            && readers
                .iter()
                .all(|r| self.cache.has_bits(r.segment_id(), key))
        {
            return;
        }
        match &clause.kind {
            ClauseKind::Fuzzy(fuzzy) => out.push(fuzzy),
            ClauseKind::AnyOf(parts) | ClauseKind::AllOf(parts) => {
                for part in parts {
                    self.unkept_fuzzy(part, out);
                }
            }
            _ => {}
        }
    }
}

/// The threads a lone search spreads its segments over, one per core, at
/// normal priority: also for a costly search (whose own pool is niced),
/// since nothing else is running while it is alone. The server runs its
/// cheap searches on them too (`http::handlers`).
pub fn segment_threads() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .thread_name(|i| format!("kontakt-segments-{i}"))
            .build()
            .expect("starting the segment threads")
    })
}

impl Engine<'_> {
    /// Runs `one` on every segment and adds up what they found. Segments
    /// are independent until the pages merge, so a search running alone
    /// spreads them over the cores (latency); when others run too, the
    /// cores are busy already and handing work between threads would only
    /// cost (throughput).
    fn each_segment(
        &self,
        one: impl Fn(u32, &SegmentReader, &mut Page) -> Result<(), SearchError> + Sync,
    ) -> Result<Page, SearchError> {
        struct Running;
        impl Drop for Running {
            fn drop(&mut self) {
                RUNNING.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let alone = RUNNING.fetch_add(1, Ordering::Relaxed) == 0;
        let _running = Running;
        let readers = self.searcher.segment_readers();
        let run = |(ord, reader): (usize, &SegmentReader)| {
            let mut page = Page::default();
            one(ord as u32, reader, &mut page).map(|()| page)
        };
        let pages: Vec<Page> = if alone && readers.len() > 1 {
            segment_threads().install(|| {
                readers
                    .par_iter()
                    .enumerate()
                    .map(run)
                    .collect::<Result<_, _>>()
            })?
        } else {
            readers
                .iter()
                .enumerate()
                .map(run)
                .collect::<Result<_, _>>()?
        };
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
        Ok(out)
    }
}

/// The best `k` hits of the segments searched so far. A segment searched
/// later needs none of its documents that sort after the `k`-th of them,
/// so its walk stops there and its heap skips them on their key alone:
/// with ten segments, the later ones test a fraction of what the first one
/// does.
struct Leaders {
    sort: Sort,
    k: usize,
    best: std::sync::Mutex<Vec<(SortValue, u64)>>,
}

impl Leaders {
    fn new(sort: Sort, k: usize) -> Leaders {
        Leaders {
            sort,
            k,
            best: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(SortValue, u64)>> {
        self.best.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of the `k`-th best hit, once there are `k`.
    fn kth(&self) -> Option<SortValue> {
        let best = self.lock();
        (self.k > 0 && best.len() >= self.k).then(|| best[self.k - 1].0.clone())
    }

    /// Takes a segment's hits into account.
    fn add(&self, hits: &[Hit]) {
        let mut best = self.lock();
        best.extend(hits.iter().map(|h| (h.value.clone(), h.id)));
        best.sort_by(|a, b| output_order(&self.sort, (&a.0, a.1), (&b.0, b.1)));
        best.truncate(self.k);
    }
}

/// The index of the kept clause selecting the most documents (the first
/// of equals), among clauses given with their counts.
fn broadest<'c>(clauses: impl Iterator<Item = (&'c Clause, u64)>) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (i, (clause, n)) in clauses.enumerate() {
        if clause.key.is_some() && best.is_none_or(|(_, most)| n > most) {
            best = Some((i, n));
        }
    }
    best.map(|(i, _)| i)
}

/// Orders the hits of all segments and keeps the first `k`.
fn finish(page: &mut Page, sort: Sort, k: usize) {
    page.hits
        .sort_by(|a, b| output_order(&sort, (&a.value, a.id), (&b.value, b.id)));
    page.hits.truncate(k);
}

/// The matches of one relevance tier: those holding exactly the signals of
/// one of `masks` (bit `i`: signal `i`).
fn tier_bits(matched: &DocBits, signals: &[Arc<DocBits>], masks: &[u32]) -> DocBits {
    let mut tier = DocBits::new();
    for &mask in masks {
        // The signals it holds, smallest first: starting from the smallest
        // costs what that one holds, not a copy of all the matches (which
        // for `q=c` is most of the segment, once per tier).
        let mut held: Vec<&DocBits> = signals
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, s)| &**s)
            .collect();
        held.sort_by_key(|s| s.count());
        let mut exact = match held.split_first() {
            Some((first, rest)) => {
                let mut exact = DocBits::intersection(first, matched);
                for s in rest {
                    if exact.is_empty() {
                        break;
                    }
                    exact.and(s);
                }
                exact
            }
            None => matched.clone(),
        };
        for (i, s) in signals.iter().enumerate() {
            if exact.is_empty() {
                break;
            }
            if mask & (1 << i) == 0 {
                exact.and_not(s);
            }
        }
        tier.or(&exact);
    }
    tier
}
