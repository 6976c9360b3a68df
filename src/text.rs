//! Text matching primitives (docs/api.md, How text matches): `normalize`
//! and `tokens`.
//!
//! Everything that compares text — indexing, query planning, highlighting,
//! the test model — goes through these functions, so the index and the
//! rules can never disagree about what a token is.
//!
//! Folding follows Lucene's `ASCIIFoldingFilter`. Tantivy ships a port of it
//! but only as a token filter, so the per-character table is derived once from
//! that filter instead of being written out a second time here.

use std::collections::HashMap;
use std::sync::OnceLock;

use tantivy::tokenizer::{AsciiFoldingFilter, RawTokenizer, TextAnalyzer};

/// The longest `q` (and `job_title`), in Unicode scalar values. Here rather
/// than with the parser because the index sizes its prefixes by it.
pub const MAX_Q_CHARS: usize = 256;

/// Folded form of every non-ASCII character that Lucene's filter changes.
fn fold_table() -> &'static HashMap<char, Box<str>> {
    static TABLE: OnceLock<HashMap<char, Box<str>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut analyzer = TextAnalyzer::builder(RawTokenizer::default())
            .filter(AsciiFoldingFilter)
            .build();
        let mut table = HashMap::new();
        let mut buf = [0u8; 4];
        // Lucene's table stops at the Basic Multilingual Plane.
        for c in (0x80u32..0x1_0000).filter_map(char::from_u32) {
            let s: &str = c.encode_utf8(&mut buf);
            let mut stream = analyzer.token_stream(s);
            if let Some(tok) = stream.next()
                && tok.text != s
            {
                table.insert(c, tok.text.clone().into_boxed_str());
            }
        }
        table
    })
}

/// The most characters `normalize` makes of one (`ﬃ` → `ffi`): a token of
/// `n` characters of text normalizes to at most `n` times this many.
pub fn max_normalized_len() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        fold_table()
            .values()
            .map(|f| f.chars().count())
            .max()
            .unwrap_or(1)
            .max(1)
    })
}

/// Appends the normalized form of one character (lower-cased, then folded).
fn push_normalized(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let table = fold_table();
    for l in lower(c) {
        match table.get(&l) {
            Some(folded) => out.push_str(folded),
            None => out.push(l),
        }
    }
}

/// `normalize(s)`: lower-case, then fold accented Latin letters to ASCII.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_normalized(c, &mut out);
    }
    out
}

/// Lower-cases without folding: the "query's own letters" used for ranking.
pub fn lowercase(s: &str) -> String {
    s.chars().flat_map(lower).collect()
}

/// One character lower-cased as Lucene's `LowerCaseFilter` does it: Rust's
/// full mapping turns `İ` into `i` plus a combining dot, which is not a
/// letter and so would split `İlker` into two tokens; Lucene (and the
/// simple case mapping) gives `i`.
fn lower(c: char) -> std::char::ToLowercase {
    if c == '\u{130}' { 'I' } else { c }.to_lowercase()
}

/// Splits already-normalized text into maximal runs of letters and digits.
pub fn split_tokens(normalized: &str) -> impl Iterator<Item = &str> {
    normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// `tokens(s)` (docs/api.md, How text matches).
pub fn tokens(s: &str) -> Vec<String> {
    split_tokens(&normalize(s)).map(str::to_owned).collect()
}

/// Lower-cased, unfolded tokens that folding would change (`røed`, not
/// `roed`): indexed for each name and email, and taken from each `q`, so an
/// accented query ranks the accented spelling first.
pub fn accent_tokens(s: &str) -> Vec<String> {
    let lower = lowercase(s);
    split_tokens(&lower)
        .filter(|t| normalize(t) != *t)
        .map(str::to_owned)
        .collect()
}

/// Every prefix of `token`, on character boundaries, shortest first.
pub fn prefixes(token: &str) -> impl Iterator<Item = &str> {
    token
        .char_indices()
        .skip(1)
        .map(|(i, _)| &token[..i])
        .chain(std::iter::once(token))
}

/// Every suffix of `token`, on character boundaries, longest first.
pub fn suffixes(token: &str) -> impl Iterator<Item = &str> {
    token.char_indices().map(|(i, _)| &token[i..])
}

/// A token of some original text, with the way back to that text.
#[derive(Debug, Clone)]
pub struct MappedToken {
    /// The normalized token.
    pub text: String,
    /// For each character of `text`, the index (in Unicode scalar values) of
    /// the original character it came from.
    pub origin: Vec<usize>,
}

/// `tokens(s)`, each with the original character positions it came from;
/// used to report match offsets in the unfolded text.
pub fn mapped_tokens(s: &str) -> Vec<MappedToken> {
    let mut out = Vec::new();
    let mut current = MappedToken {
        text: String::new(),
        origin: Vec::new(),
    };
    let mut piece = String::new();
    for (pos, c) in s.chars().enumerate() {
        piece.clear();
        push_normalized(c, &mut piece);
        for n in piece.chars() {
            if n.is_alphanumeric() {
                current.text.push(n);
                current.origin.push(pos);
            } else if !current.text.is_empty() {
                out.push(std::mem::replace(
                    &mut current,
                    MappedToken {
                        text: String::new(),
                        origin: Vec::new(),
                    },
                ));
            }
        }
    }
    if !current.text.is_empty() {
        out.push(current);
    }
    out
}

/// `[start, end)` offsets, in characters of the original text, of the part of
/// each token of `original` that one of `query_tokens` is a prefix of (the
/// longest such part per token).
pub fn prefix_match_spans(original: &str, query_tokens: &[String]) -> Vec<[usize; 2]> {
    spans(original, |tok| {
        query_tokens
            .iter()
            .filter(|q| tok.starts_with(q.as_str()))
            .map(|q| q.chars().count())
            .max()
    })
}

/// Like [`prefix_match_spans`], for typo-tolerant matches: the part of each
/// token of `original` that is within `edits(query token)` edits (a swap of
/// neighbours is one) of a query token, the closest prefix first, then
/// the longest.
pub fn fuzzy_match_spans(
    original: &str,
    query_tokens: &[String],
    edits: impl Fn(usize) -> u8,
) -> Vec<[usize; 2]> {
    let queries: Vec<Vec<char>> = query_tokens.iter().map(|q| q.chars().collect()).collect();
    spans(original, |tok| {
        let tok: Vec<char> = tok.chars().collect();
        queries
            .iter()
            .filter_map(|q| prefix_edits(q, &tok, edits(q.len())))
            .min_by_key(|&(d, len)| (d, std::cmp::Reverse(len)))
            .map(|(_, len)| len)
    })
}

/// The fewest edits (insertions, deletions, substitutions, swaps of
/// neighbours) turning `query` into a prefix of `token`, if at most `max`,
/// and the length of the longest prefix that close.
pub fn prefix_edits(query: &[char], token: &[char], max: u8) -> Option<(u8, usize)> {
    // Optimal string alignment distance of `query` to every `token[..j]`.
    let (n, m) = (query.len(), token.len());
    let mut rows = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(query[i - 1] != token[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && query[i - 1] == token[j - 2] && query[i - 2] == token[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    (1..=m)
        .map(|j| (rows[n][j], j))
        .filter(|&(d, _)| d <= usize::from(max))
        .min_by_key(|&(d, j)| (d, std::cmp::Reverse(j)))
        .map(|(d, j)| (d as u8, j))
}

/// The span of each token of `original` that `matched` (given the
/// normalized token) says how many leading characters of matched.
fn spans(original: &str, matched: impl Fn(&str) -> Option<usize>) -> Vec<[usize; 2]> {
    let mut spans = Vec::new();
    for tok in mapped_tokens(original) {
        if let Some(len) = matched(&tok.text).filter(|&l| l > 0) {
            let len = len.min(tok.origin.len());
            spans.push([tok.origin[0], tok.origin[len - 1] + 1]);
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_nordic_and_latin_letters() {
        assert_eq!(normalize("ÅÄÖ åäö Øø Ææ"), "aao aao oo aeae");
        assert_eq!(normalize("Þór Guðrún Straße"), "thor gudrun strasse");
        assert_eq!(
            normalize("éèêë üú íï ý ç ñ àáâ óòô"),
            "eeee uu ii y c n aaa ooo"
        );
    }

    #[test]
    fn tokens_follow_the_documented_examples() {
        assert_eq!(tokens("Anna-Karin Øberg"), ["anna", "karin", "oberg"]);
        assert_eq!(
            tokens("anna.svensson@acme.se"),
            ["anna", "svensson", "acme", "se"]
        );
        assert!(tokens(" -- !! ").is_empty());
        // One character may normalize to several (the prefix index relies
        // on the bound).
        assert_eq!(normalize("ﬃ"), "ffi");
        assert_eq!(max_normalized_len(), 4);
        // Lucene lower-cases İ to i (Rust adds a combining dot).
        assert_eq!(tokens("İlker Œdipe"), ["ilker", "oedipe"]);
    }

    #[test]
    fn prefixes_and_suffixes_respect_char_boundaries() {
        assert_eq!(prefixes("abc").collect::<Vec<_>>(), ["a", "ab", "abc"]);
        assert_eq!(
            suffixes("chef").collect::<Vec<_>>(),
            ["chef", "hef", "ef", "f"]
        );
        assert_eq!(prefixes("dø").collect::<Vec<_>>(), ["d", "dø"]);
    }

    #[test]
    fn spans_point_into_the_unfolded_text() {
        let q = vec!["jor".to_string()];
        assert_eq!(prefix_match_spans("Jørgen Hansen", &q), vec![[0, 3]]);
        // æ folds to two letters; a one-letter match still covers the æ.
        let q = vec!["a".to_string(), "ha".to_string()];
        assert_eq!(prefix_match_spans("Æble Hansen", &q), vec![[0, 1], [5, 7]]);
        let q = vec!["aeb".to_string()];
        assert_eq!(prefix_match_spans("Æble", &q), vec![[0, 2]]);
    }

    #[test]
    fn fuzzy_spans_cover_the_closest_longest_prefix() {
        let q = vec!["svenson".to_owned()];
        let one = |_| 1;
        // One insertion away from the whole surname.
        assert_eq!(fuzzy_match_spans("Anna Svensson", &q, one), vec![[5, 13]]);
        assert_eq!(
            fuzzy_match_spans("Anna Berg", &q, one),
            Vec::<[usize; 2]>::new()
        );
        // A swap of neighbours is one edit.
        let q = vec!["jorgne".to_owned()];
        assert_eq!(fuzzy_match_spans("Jørgen Røed", &q, one), vec![[0, 6]]);
        assert_eq!(prefix_edits(&['a', 'b'], &['b', 'a', 'x'], 1), Some((1, 2)));
    }
}
