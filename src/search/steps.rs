//! Key ranges from prefix sets of a sort permutation.
//!
//! A `min_/max_` range of a sort key is a slice of the segment's
//! permutation in that key's ascending order. Gathered document by
//! document, a slice over 40 % of a 1.2M-document segment is ~500,000
//! scattered bit writes, about a millisecond; a query at 10M contacts pays
//! it on each of ten segments, and a range's bounds (`min_confidence=0.73`)
//! are rarely sent twice, so the cache seldom helps.
//!
//! `Steps` keeps, per segment and key, the sets of the permutation's first
//! `k · n / STEPS` documents for each `k`. A slice is then the difference
//! of two of them (a word loop) plus its two ragged ends, each shorter than
//! one step: at most `2n / STEPS` bit writes. The sets take `STEPS` bits a
//! document, built once per segment when a range first needs them.

use tantivy::DocId;

use super::bits::DocBits;

/// Prefix sets per permutation: edges of at most 1/32 of the segment each.
const STEPS: usize = 32;

/// Below this many documents a slice is gathered directly. Tiny in debug
/// builds, so that the tests' small segments take this path too.
const GATHER_BELOW: usize = if cfg!(debug_assertions) { 8 } else { 4096 };

/// See the module documentation.
pub struct Steps {
    /// Documents per step (the last step may hold fewer).
    width: usize,
    /// `prefixes[k - 1]`: the words of the first `min(k · width, n)`
    /// documents of the permutation, for `k` in `1..=ceil(n / width)`.
    prefixes: Vec<Vec<u64>>,
}

impl Steps {
    /// The prefix sets of `permutation` (distinct documents below `max_doc`).
    pub fn build(permutation: &[DocId], max_doc: u32) -> Steps {
        let n = permutation.len();
        let width = n.div_ceil(STEPS).max(1);
        let mut prefixes: Vec<Vec<u64>> = Vec::with_capacity(n.div_ceil(width));
        let mut words = vec![0u64; (max_doc as usize).div_ceil(64)];
        for chunk in permutation.chunks(width) {
            for &d in chunk {
                words[d as usize / 64] |= 1 << (d % 64);
            }
            prefixes.push(words.clone());
        }
        Steps { width, prefixes }
    }

    pub fn heap_bytes(&self) -> usize {
        self.prefixes.iter().map(|w| w.len() * 8).sum()
    }

    /// Whether `slice` is worth these sets rather than a direct gathering.
    pub fn worth_it(n: usize, from: usize, to: usize) -> bool {
        let len = to.saturating_sub(from);
        len >= GATHER_BELOW && len >= 2 * n.div_ceil(STEPS)
    }

    /// What gathering `permutation[from..to]` (of `n`) costs, in bit
    /// writes: the slice itself, or with steps its two ends and a word loop.
    pub fn gather_cost(n: usize, from: usize, to: usize) -> u64 {
        let len = to.saturating_sub(from);
        if Steps::worth_it(n, from, to) {
            (2 * n.div_ceil(STEPS) + n / 64) as u64
        } else {
            len as u64
        }
    }

    /// The documents of `permutation[from..to]` (the permutation these
    /// steps were built from).
    pub fn slice(&self, permutation: &[DocId], from: usize, to: usize, max_doc: u32) -> DocBits {
        let n = permutation.len();
        let to = to.min(n);
        let from = from.min(to);
        // Whole steps k1..k2 lie inside the slice.
        let k1 = from.div_ceil(self.width);
        let k2 = if to == n {
            self.prefixes.len()
        } else {
            to / self.width
        };
        if k1 >= k2 {
            return DocBits::from_sorted(max_doc, &sorted(&permutation[from..to]));
        }
        let mut words = self.prefixes[k2 - 1].clone();
        if k1 > 0 {
            for (w, below) in words.iter_mut().zip(&self.prefixes[k1 - 1]) {
                *w &= !below;
            }
        }
        let start = (k1 * self.width).min(n);
        let end = (k2 * self.width).min(n);
        for &d in permutation[from..start].iter().chain(&permutation[end..to]) {
            words[d as usize / 64] |= 1 << (d % 64);
        }
        DocBits::from_words(words, (to - from) as u64)
    }
}

fn sorted(docs: &[DocId]) -> Vec<DocId> {
    let mut v = docs.to_vec();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every slice equals the plain set of its documents.
        #[test]
        fn slices_equal_their_documents(
            max_doc in 1u32..20_000,
            seed in any::<u64>(),
            cuts in prop::collection::vec(0.0f64..=1.0, 2),
            keep in 0.2f64..=1.0,
        ) {
            // A permutation of some of the documents (companies left out).
            let mut docs: Vec<DocId> = (0..max_doc)
                .filter(|d| ((u64::from(*d) ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as f64
                    / f64::from(1u32 << 24) < keep)
                .collect();
            let mut state = seed | 1;
            for i in (1..docs.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                docs.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let n = docs.len();
            let steps = Steps::build(&docs, max_doc);
            let (a, b) = ((cuts[0] * n as f64) as usize, (cuts[1] * n as f64) as usize);
            let (from, to) = (a.min(b), a.max(b));
            let got = steps.slice(&docs, from, to, max_doc);
            let want = DocBits::from_sorted(max_doc, &sorted(&docs[from..to]));
            prop_assert_eq!(got.count(), (to - from) as u64);
            prop_assert!(got == want);
        }
    }
}
