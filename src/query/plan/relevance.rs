//! Relevance (README: "Relevance"): the signals of `q`, each a clause with
//! a weight, and the tiers their weights add up to.

use tantivy::Term;

use super::{Clause, ClauseKey, ClauseKind};
use crate::index::Fields;
use crate::query::request::TextQuery;

/// How many distinct `q` tokens contribute to relevance. With base-16
/// weights, more could carry one signal into the next; matching still uses
/// them all.
pub const MAX_RANKED_TOKENS: usize = 15;

/// Weights of the relevance signals. Each signal counts at most
/// `MAX_RANKED_TOKENS` matches, so a base of 16 makes the sum a lexicographic
/// comparison: exact tokens, then own letters, then name, then start of name.
mod weight {
    pub const EXACT_TOKEN: u64 = 4096;
    pub const OWN_LETTERS: u64 = 256;
    pub const IN_NAME: u64 = 16;
    pub const NAME_START: u64 = 1;
}

/// The relevance signals of `q` (README: "Relevance"): a clause each, and
/// the weight it adds to a contact's tier when the contact meets it.
pub fn signals(f: &Fields, q: &TextQuery) -> Vec<(Clause, u64)> {
    let text = |field, t: &str| Clause::term_of(Term::from_field_text(field, t));
    let mut out = Vec::new();
    for t in q.tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.name_token, t), weight::EXACT_TOKEN));
        out.push((text(f.name_prefix, t), weight::IN_NAME));
    }
    for a in q.accent_tokens.iter().take(MAX_RANKED_TOKENS) {
        out.push((text(f.accent_prefix, a), weight::OWN_LETTERS));
    }
    if let Some(first) = q.tokens.first() {
        out.push((
            Clause {
                key: Some(ClauseKey::NameStartsWith(first.clone())),
                kind: ClauseKind::NameStartsWith(first.clone()),
            },
            weight::NAME_START,
        ));
    }
    out
}

/// The tier of a contact meeting the signals set in `mask` (bit `i`:
/// signal `i`, of the given weights).
pub fn tier_of(weights: &[u64], mask: u32) -> u64 {
    (0..weights.len())
        .filter(|i| mask & (1 << i) != 0)
        .map(|i| weights[i])
        .sum()
}

/// Relevance tiers, best first, each with the signal combinations (bit `i`
/// set: meets signal `i`) that add up to it.
pub fn tiers(weights: &[u64]) -> Vec<(u64, Vec<u32>)> {
    let mut by_tier: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
    for mask in 0u32..(1 << weights.len()) {
        by_tier
            .entry(tier_of(weights, mask))
            .or_default()
            .push(mask);
    }
    by_tier.into_iter().rev().collect()
}
