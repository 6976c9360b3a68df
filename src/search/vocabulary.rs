//! One term dictionary for many segments: suggest's typo automata walk it
//! once instead of once per segment.
//!
//! A Levenshtein automaton walks every branch of a dictionary that could
//! still lead to a term within its edits, and near the root that is almost
//! every branch. Each segment has its own dictionary, and the segments'
//! first letters are all alike, so at ten million contacts (ten segments,
//! some 2.2 million email prefixes each) one walk at two edits went through
//! ten near-copies of the same top of a tree: 8–15 ms of CPU for one token.
//! The union of the segments' terms in one FST, each term with the set of
//! segments holding it, is walked once (1–3 ms; 5.6 million terms in
//! 13 MB, in a mapped temporary file); the few terms found are then looked up in each segment's own
//! dictionary. This is the field's vocabulary the way search engines keep
//! one per index for spelling correction, made exact by keeping the
//! segments each term came from.
//!
//! The warm-up builds it from the searcher's largest segments (at most
//! [`MAX_SEGMENTS`], three seconds of one core at ten million contacts) and
//! builds it again once the segments it covers hold less than
//! [`REBUILD_BELOW`] of the documents a new one would cover. A segment it does not cover, written
//! since or merged from covered ones, is walked on its own meanwhile; small
//! segments have small dictionaries.

use rayon::prelude::*;
use tantivy::index::SegmentId;
use tantivy::schema::Field;
use tantivy::termdict::TermMerger;
use tantivy::{Searcher, SegmentReader};
use tantivy_fst::{Automaton, IntoStreamer, Map, MapBuilder, Streamer};

/// The most segments one vocabulary covers: a term's segments are the bits
/// of a `u64`.
pub const MAX_SEGMENTS: usize = 64;
/// The share of the documents a new vocabulary would cover (in percent)
/// below which the segments the kept one covers call for a new one.
pub const REBUILD_BELOW: u64 = 90;

/// Terms found, each with the bits of the segments holding it.
pub type Found = Vec<(Vec<u8>, u64)>;

/// A range of terms: from (included), below (excluded); `None`: open.
type Bounds<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// See the module documentation.
pub struct Vocabulary {
    /// The segments covered; a term's value has bit `i` set when
    /// `segments[i]` holds it.
    segments: Vec<SegmentId>,
    map: Map<memmap2::Mmap>,
}

impl Vocabulary {
    /// The union of `field`'s terms in `readers` (the first `MAX_SEGMENTS`
    /// of them).
    pub fn build(readers: &[&SegmentReader], field: Field) -> tantivy::Result<Vocabulary> {
        let readers = &readers[..readers.len().min(MAX_SEGMENTS)];
        let inverted = readers
            .iter()
            .map(|r| r.inverted_index(field))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let streams = inverted
            .iter()
            .map(|i| i.terms().stream())
            .collect::<std::io::Result<Vec<_>>>()?;
        let mut merger = TermMerger::new(streams);
        // Written to an unnamed file and mapped, like the index's own
        // dictionaries: the kernel may page it out under pressure, and the
        // heap neither holds it nor its build's doubling buffer.
        let file = tempfile::tempfile()?;
        let mut builder = MapBuilder::new(std::io::BufWriter::new(&file)).map_err(fst_error)?;
        while merger.advance() {
            let segments = merger
                .matching_segments()
                .fold(0u64, |mask, (slot, _)| mask | 1 << slot);
            builder.insert(merger.key(), segments).map_err(fst_error)?;
        }
        builder
            .into_inner()
            .map_err(fst_error)?
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        // SAFETY: the file has no name, so nothing else can change it while
        // it is mapped, and it is not written again.
        let bytes = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Vocabulary {
            segments: readers.iter().map(|r| r.segment_id()).collect(),
            map: Map::from(tantivy_fst::raw::Fst::new(bytes).map_err(fst_error)?),
        })
    }

    /// The vocabulary `searcher` calls for in `field`, given the one kept
    /// (if any): `None` when the kept one still serves, or when one would
    /// not help (a single segment is walked as cheaply on its own).
    pub fn wanted(
        kept: Option<&Vocabulary>,
        searcher: &Searcher,
        field: Field,
    ) -> tantivy::Result<Option<Vocabulary>> {
        let mut readers: Vec<&SegmentReader> = searcher.segment_readers().iter().collect();
        if readers.len() < 2 {
            return Ok(None);
        }
        // Past `MAX_SEGMENTS`, the largest: what a new one could cover.
        readers.sort_by_key(|r| std::cmp::Reverse(r.max_doc()));
        readers.truncate(MAX_SEGMENTS);
        let all: u64 = readers.iter().map(|r| u64::from(r.max_doc())).sum();
        let covered: u64 = readers
            .iter()
            .filter(|r| kept.is_some_and(|v| v.slot(r.segment_id()).is_some()))
            .map(|r| u64::from(r.max_doc()))
            .sum();
        if covered * 100 >= all * REBUILD_BELOW {
            return Ok(None);
        }
        Vocabulary::build(&readers, field).map(Some)
    }

    /// The bit of `segment` in the terms' values, if covered.
    pub fn slot(&self, segment: SegmentId) -> Option<usize> {
        self.segments.iter().position(|s| *s == segment)
    }

    /// The terms `automaton` accepts, each with its segments' bits.
    pub fn search<A: Automaton>(&self, automaton: A) -> Found {
        self.search_range(automaton, None, None)
    }

    /// The terms from `from` (included) to `below` (excluded) that
    /// `automaton` accepts.
    fn search_range<A: Automaton>(
        &self,
        automaton: A,
        from: Option<&[u8]>,
        below: Option<&[u8]>,
    ) -> Found {
        let mut builder = self.map.search(automaton);
        if let Some(from) = from {
            builder = builder.ge(from);
        }
        if let Some(below) = below {
            builder = builder.lt(below);
        }
        let mut stream = builder.into_stream();
        let mut found = Vec::new();
        while let Some((term, segments)) = stream.next() {
            found.push((term.to_vec(), segments));
        }
        found
    }

    /// What `search` finds, walked by the threads of the current pool
    /// (rayon's) in ranges of the dictionary: one walk at two edits
    /// through the email prefixes of ten million contacts took 1.4–3.1 ms
    /// of one core, the longest part of a typo-tolerant suggest.
    ///
    /// Near the root an automaton reaches every letter, and measured at
    /// ten million contacts each first letter's branch took a similar
    /// share (0.05–0.25 ms of 2.5 at two edits), so the ranges are cut at
    /// every first letter, and below the token's own first letter at
    /// every second one. A cut changes who walks a term, not what is found.
    pub fn search_parallel<A: Automaton + Sync>(&self, automaton: &A, token: &[u8]) -> Found {
        let mut cuts: Vec<Vec<u8>> = (b'a'..=b'z').map(|b| vec![b]).collect();
        if let Some(&first) = token.first() {
            cuts.extend((b'a'..=b'z').map(|b| vec![first, b]));
        }
        cuts.sort();
        cuts.dedup();
        let bounds: Vec<Bounds> = std::iter::once(None)
            .chain(cuts.iter().map(|c| Some(c.as_slice())))
            .zip(
                cuts.iter()
                    .map(|c| Some(c.as_slice()))
                    .chain(std::iter::once(None)),
            )
            .collect();
        let parts: Vec<Found> = bounds
            .into_par_iter()
            .map(|(from, below)| self.search_range(automaton, from, below))
            .collect();
        parts.concat()
    }

    /// Bytes it takes (mapped, not on the heap, but counted against the
    /// clause budget all the same: it serves clause sets).
    pub fn heap_bytes(&self) -> usize {
        self.map.as_fst().size() + self.segments.len() * std::mem::size_of::<SegmentId>()
    }
}

fn fst_error(e: tantivy_fst::Error) -> tantivy::TantivyError {
    tantivy::TantivyError::InternalError(format!("building a merged term dictionary: {e}"))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;
    use tantivy::query::FuzzyTermQuery;
    use tantivy::schema::{STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    use super::*;

    /// Short words over a small alphabet (with one letter outside ASCII and
    /// a digit, which sort after and before every ASCII letter), so that
    /// typo automata find many of them.
    fn word() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!['a', 'b', 'c', 'd', 'é', '1']),
            1..7,
        )
        .prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Per segment, the merged walk finds exactly the terms the walk of
        /// the segment's own dictionary finds, whichever segments it covers.
        #[test]
        fn merged_walks_find_what_each_segment_walk_finds(
            segments in prop::collection::vec(prop::collection::vec(word(), 0..40), 2..5),
            token in word(),
            edits in 1u8..=2,
            prefix in any::<bool>(),
            covered in 2usize..5,
        ) {
            let mut schema = Schema::builder();
            let field = schema.add_text_field("t", STRING);
            let index = Index::create_in_ram(schema.build());
            let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            for words in &segments {
                for w in words {
                    let mut doc = TantivyDocument::new();
                    doc.add_text(field, w);
                    writer.add_document(doc).unwrap();
                }
                writer.commit().unwrap();
            }
            let searcher = index.reader().unwrap().searcher();
            let readers: Vec<&SegmentReader> = searcher.segment_readers().iter().collect();
            let merged = Vocabulary::build(&readers[..covered.min(readers.len())], field).unwrap();
            let term = Term::from_field_text(field, &token);
            let query = if prefix {
                FuzzyTermQuery::new_prefix(term, edits, true)
            } else {
                FuzzyTermQuery::new(term, edits, true)
            };
            let automaton = query.automaton().unwrap();
            let found = merged.search(&automaton);
            // Walked in ranges, it finds the same terms in the same order.
            prop_assert_eq!(&merged.search_parallel(&automaton, token.as_bytes()), &found);
            for reader in &readers {
                let terms = reader.inverted_index(field).unwrap();
                let mut own = BTreeSet::new();
                let mut stream = terms.terms().search(&automaton).into_stream().unwrap();
                while stream.advance() {
                    own.insert(stream.key().to_vec());
                }
                match merged.slot(reader.segment_id()) {
                    Some(slot) => {
                        let via_merged: BTreeSet<Vec<u8>> = found
                            .iter()
                            .filter(|(_, s)| s >> slot & 1 == 1)
                            .map(|(t, _)| t.clone())
                            .collect();
                        prop_assert_eq!(via_merged, own);
                    }
                    None => prop_assert!(readers.len() > covered),
                }
            }
        }
    }

    /// The vocabulary of two segments of `n` distinct words each.
    pub(crate) fn of_words(n: usize) -> Vocabulary {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("t", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for half in 0..2 {
            for i in 0..n {
                let mut doc = TantivyDocument::new();
                doc.add_text(field, format!("{half}-{i}"));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        let readers: Vec<&SegmentReader> = searcher.segment_readers().iter().collect();
        Vocabulary::build(&readers, field).unwrap()
    }

    /// A vocabulary is built again only once its segments hold less than
    /// `REBUILD_BELOW` of the documents, and never for one segment.
    #[test]
    fn built_again_only_when_it_covers_too_little() {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("t", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let reader = index.reader().unwrap();
        let mut add = |n: usize| {
            for i in 0..n {
                let mut doc = TantivyDocument::new();
                doc.add_text(field, format!("w{i}"));
                writer.add_document(doc).unwrap();
            }
            writer.commit().unwrap();
            reader.reload().unwrap();
            reader.searcher()
        };
        assert!(
            Vocabulary::wanted(None, &add(100), field)
                .unwrap()
                .is_none()
        );
        let searcher = add(100);
        let kept = Vocabulary::wanted(None, &searcher, field)
            .unwrap()
            .expect("two segments");
        assert_eq!(kept.search(tantivy_fst::automaton::AlwaysMatch).len(), 100);
        // 200 of 210 documents covered: kept; 200 of 300: built again.
        assert!(
            Vocabulary::wanted(Some(&kept), &add(10), field)
                .unwrap()
                .is_none()
        );
        let again = Vocabulary::wanted(Some(&kept), &add(90), field)
            .unwrap()
            .expect("rebuilt");
        assert_eq!(again.segments.len(), 4);
    }
}
