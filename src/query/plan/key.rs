//! What a clause's kept bitset is filed under: a typed value, so two
//! clauses share a bitset exactly when they select the same documents by
//! construction, never because two hand-written strings happen to agree.

use tantivy::Term;

use crate::model::Section;
use crate::query::request::SortKey;

/// The key of a kept clause (see `search::cache`). Equal keys must select
/// the same documents of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClauseKey {
    /// The documents holding a term.
    Term(Term),
    /// The documents holding any of these terms (sorted, without repeats).
    AnyTerm(Vec<Term>),
    /// No document (an empty list of terms).
    Nothing,
    /// A `q` token: a prefix of a token of the name or the email.
    Prefix(String),
    /// A `job_title` token: a substring of a title token.
    TitleSubstring(String),
    /// A `normalize(full_name)` that starts with this.
    NameStartsWith(String),
    /// A sort key (in local form) in an inclusive range.
    Range {
        key: SortKey,
        lo: Option<u128>,
        hi: Option<u128>,
    },
    /// The contacts whose company has an industry of one piece.
    Industries(IndustrySet),
    /// The contacts meeting the industry conditions as a whole: one
    /// industry of the company is within one of `ids` (if any), in one of
    /// `sections` (if any) and at one of `levels` (if any).
    IndustryCondition {
        ids: Vec<u32>,
        sections: Vec<Section>,
        levels: Vec<u8>,
    },
    /// A prefix of a name (or, when `email`, an email) token within
    /// `edits` of `token` (suggest's fill-up).
    Fuzzy {
        email: bool,
        token: String,
        edits: u8,
    },
    /// What any of these keys selects.
    AnyOf(Vec<ClauseKey>),
    /// What every one of these keys selects.
    AllOf(Vec<ClauseKey>),
    /// The live contacts of a segment as of its delete opstamp.
    Contacts { delete_opstamp: Option<u64> },
    /// The live contacts (as of the delete opstamp) among the documents
    /// of another clause: the base facets are counted against.
    LiveIn {
        delete_opstamp: Option<u64>,
        within: Box<ClauseKey>,
    },
}

/// A piece of an industry condition: a set of industries of the table
/// (`at`: only those at this level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndustrySet {
    /// `id` and its descendants.
    Within { id: u32, at: Option<u8> },
    /// The industries of a section.
    Section { section: Section, at: Option<u8> },
    /// Every industry.
    All { at: Option<u8> },
}
