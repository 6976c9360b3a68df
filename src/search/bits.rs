//! Fixed-size bitsets over a segment's documents.
//!
//! Searches combine their conditions as bitsets, one word (64 documents) at
//! a time: an AND of two clauses over a million documents is 15,625 word
//! operations, whatever the number of matches, and the total is a popcount.

use tantivy::DocId;

/// A set of documents of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocBits(Vec<u64>);

impl DocBits {
    /// The empty set.
    pub fn new(max_doc: u32) -> DocBits {
        DocBits(vec![0; (max_doc as usize).div_ceil(64)])
    }

    /// Every document below `max_doc`.
    pub fn full(max_doc: u32) -> DocBits {
        let mut words = vec![u64::MAX; (max_doc as usize).div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !max_doc.is_multiple_of(64)
        {
            *last = (1u64 << (max_doc % 64)) - 1;
        }
        DocBits(words)
    }

    #[inline]
    pub fn insert(&mut self, doc: DocId) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    #[inline]
    pub fn remove(&mut self, doc: DocId) {
        self.0[doc as usize / 64] &= !(1 << (doc % 64));
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.0
            .get(doc as usize / 64)
            .is_some_and(|w| w >> (doc % 64) & 1 == 1)
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

    /// Keeps the documents that are also in `other`.
    pub fn and(&mut self, other: &DocBits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// Adds the documents of `other`.
    pub fn or(&mut self, other: &DocBits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// Drops the documents that are in `other`.
    pub fn and_not(&mut self, other: &DocBits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    /// The words, 64 documents each.
    pub fn words(&self) -> &[u64] {
        &self.0
    }

    /// Builds a set from its words.
    pub fn from_words(words: Vec<u64>) -> DocBits {
        DocBits(words)
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.0.len() * 8
    }

    /// The documents in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            let base = (i * 64) as DocId;
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(base + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations_agree_with_a_plain_set() {
        let mut a = DocBits::new(200);
        let mut b = DocBits::new(200);
        for d in [0, 5, 64, 130, 199] {
            a.insert(d);
        }
        for d in [5, 63, 64, 199] {
            b.insert(d);
        }
        assert_eq!(a.and_count(&b), 3);
        let mut and = a.clone();
        and.and(&b);
        assert_eq!(and.iter().collect::<Vec<_>>(), vec![5, 64, 199]);
        let mut not = a.clone();
        not.and_not(&b);
        assert_eq!(not.iter().collect::<Vec<_>>(), vec![0, 130]);
        assert!(a.contains(130) && !a.contains(131) && !a.contains(10_000));
        a.remove(130);
        assert_eq!(a.count(), 4);
    }

    #[test]
    fn full_holds_exactly_the_documents_below_max_doc() {
        for max_doc in [0, 1, 63, 64, 65, 200] {
            let full = DocBits::full(max_doc);
            assert_eq!(full.count(), u64::from(max_doc));
            assert_eq!(
                full.iter().collect::<Vec<_>>(),
                (0..max_doc).collect::<Vec<_>>()
            );
        }
    }
}
