//! Which segments merge: tiers of similar size, up to a largest segment.
//!
//! Tantivy's default policy merges eight segments of a size into one of the
//! next, up to ten million documents, so a big index ends as one huge
//! segment. That costs twice: building rewrites every document once per
//! tier, the last time all of them at once; and a search works through a
//! segment on one core, so one huge segment leaves the other cores idle
//! while a person waits. Like Lucene's tiered policy, this one stops at a
//! largest merged segment (`MAX_SEGMENT_DOCS`): a ten-million index is a
//! handful of segments that a lone search spreads over the cores, and a
//! million-contact index still merges into one. A segment with more than
//! a fifth of its documents deleted (replaced by updates) is rewritten on
//! its own, so that the large segments no tier merge takes do not keep
//! replaced contacts for good.

use tantivy::index::SegmentMeta;
use tantivy::merge_policy::{MergeCandidate, MergePolicy};

/// No merge makes a segment of more documents than this.
pub const MAX_SEGMENT_DOCS: u32 = 2_500_000;
/// Segments of one tier merged together, at least.
const MIN_MERGE: usize = 8;
/// A segment is rewritten once more than one in this many of its
/// documents are deleted.
const DELETED_SHARE: u32 = 5;
/// Segments below this many documents are one tier.
const FLOOR_DOCS: u32 = 10_000;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct TieredMergePolicy;

impl MergePolicy for TieredMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        plan(
            &segments
                .iter()
                .map(|s| (s.num_docs(), s.max_doc()))
                .collect::<Vec<_>>(),
        )
        .into_iter()
        .map(|group| MergeCandidate(group.into_iter().map(|i| segments[i].id()).collect()))
        .collect()
    }
}

/// The merges among segments given as (live documents, all documents), as
/// groups of their indices: tiers first, then each segment left out whose
/// deleted documents pass a fifth of it is rewritten alone. Without that
/// rule a segment past half the largest, which no tier merge takes, would
/// keep every contact an update replaced, and searches would step over
/// them for good.
fn plan(segments: &[(u32, u32)]) -> Vec<Vec<usize>> {
    let tier = |docs: u32| docs.max(FLOOR_DOCS).ilog(4);
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by_key(|&i| segments[i].0);
    let mut merges = Vec::new();
    // Tiers of similar size (a factor of 4), smallest first; each tier packs
    // its segments into merges no larger than the largest segment.
    let mut start = 0;
    while start < order.len() {
        let t = tier(segments[order[start]].0);
        let end = start + order[start..].partition_point(|&i| tier(segments[i].0) == t);
        let mut group: Vec<usize> = Vec::new();
        let mut docs = 0u32;
        for &i in &order[start..end] {
            let live = segments[i].0;
            if live.saturating_mul(2) > MAX_SEGMENT_DOCS {
                continue;
            }
            if docs.saturating_add(live) > MAX_SEGMENT_DOCS {
                if group.len() >= MIN_MERGE {
                    merges.push(std::mem::take(&mut group));
                }
                group.clear();
                docs = 0;
            }
            group.push(i);
            docs += live;
        }
        if group.len() >= MIN_MERGE {
            merges.push(group);
        }
        start = end;
    }
    let merged: std::collections::HashSet<usize> = merges.iter().flatten().copied().collect();
    for (i, &(live, all)) in segments.iter().enumerate() {
        if !merged.contains(&i) && (all - live).saturating_mul(DELETED_SHARE) > all {
            merges.push(vec![i]);
        }
    }
    merges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Segments of `docs` live documents each, none deleted.
    fn plain(docs: &[u32]) -> Vec<(u32, u32)> {
        docs.iter().map(|&d| (d, d)).collect()
    }

    #[test]
    fn eight_of_a_size_merge_and_no_merge_passes_the_largest_segment() {
        assert!(plan(&plain(&[100_000; 7])).is_empty());
        assert_eq!(
            plan(&plain(&[100_000; 8])),
            vec![(0..8).collect::<Vec<_>>()]
        );
        // Sixteen of 300,000: two merges of eight (2.4M each), not one of 4.8M.
        let merges = plan(&plain(&[300_000; 16]));
        assert_eq!(merges.len(), 2);
        for m in &merges {
            assert_eq!(m.len(), 8);
        }
        // Segments past half the largest are left as they are.
        assert!(plan(&plain(&[2_000_000; 10])).is_empty());
    }

    #[test]
    fn a_segment_a_fifth_deleted_is_rewritten_alone() {
        assert!(plan(&[(2_000_000, 2_400_000), (900, 1_000)]).is_empty());
        assert_eq!(
            plan(&[(1_900_000, 2_400_000), (700, 1_000)]),
            vec![vec![0], vec![1]]
        );
        // One taken by a tier merge is not rewritten twice.
        let mut segments = plain(&[100_000; 8]);
        segments[3].1 = 200_000;
        assert_eq!(plan(&segments), vec![(0..8).collect::<Vec<_>>()]);
    }
}
