//! Suggest's typo-tolerant fill-up (docs/api.md, Typeahead) as clauses:
//! every `q` token within its allowed edits of a prefix of a name token (or
//! of a name or email token). Each token's expansion is kept under its own
//! key, so a suggest's tiers, which repeat the same expansions (tier 2
//! leaves out what tier 1 took), walk the term dictionary once per token,
//! field and distance, and the next keystroke's tiers reuse none of it but
//! cost no more.

use tantivy::Term;
use tantivy::query::{DfaWrapper, FuzzyTermQuery};
use tantivy::schema::Field;

use super::{Clause, ClauseKey, ClauseKind};
use crate::index::Fields;

/// The most edits a typo-tolerant token may have.
pub const MAX_EDITS: u8 = 2;

/// The terms of `field` within `edits` of `token`, or, when `prefix`, the
/// terms with a prefix within `edits` of it. The search walks the field's
/// dictionary with its automaton once per search (`search::vocabulary`),
/// not once per segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fuzzy {
    pub field: Field,
    pub token: String,
    pub edits: u8,
    pub prefix: bool,
}

impl Fuzzy {
    /// Its Levenshtein automaton (transpositions count as one edit).
    pub fn automaton(&self) -> tantivy::Result<DfaWrapper> {
        let term = Term::from_field_text(self.field, &self.token);
        let query = if self.prefix {
            FuzzyTermQuery::new_prefix(term, self.edits, true)
        } else {
            FuzzyTermQuery::new(term, self.edits, true)
        };
        query.automaton()
    }
}

/// Documents with a name (or, when `email`, an email) token that has a
/// prefix within `edits` of `token`. For names, a prefix automaton over the
/// whole name tokens: the same documents as a whole-term automaton over
/// every prefix of them, but each token is one term to read, not one per
/// prefix within reach. Emails have only their prefix field, where a
/// whole-term match is a prefix match.
fn expansion(f: &Fields, email: bool, token: &str, edits: u8) -> Clause {
    if edits == 0 {
        let field = if email { f.email_prefix } else { f.name_prefix };
        return Clause::term_of(Term::from_field_text(field, token));
    }
    Clause {
        key: Some(ClauseKey::Fuzzy {
            email,
            token: token.to_owned(),
            edits,
        }),
        kind: ClauseKind::Fuzzy(Fuzzy {
            field: if email { f.email_prefix } else { f.name_token },
            token: token.to_owned(),
            edits,
            prefix: !email,
        }),
    }
}

/// Every token (with the edits it may have) within `distance` (and its own
/// allowance) of a name token, or, unless `names`, of a name or email token.
pub fn tier(f: &Fields, tokens: &[(&str, u8)], distance: u8, names: bool) -> Clause {
    let per_token: Vec<Clause> = tokens
        .iter()
        .map(|&(t, edits)| {
            let edits = edits.min(distance);
            if edits == 0 && !names {
                // The strict match's own clause: the same documents, kept
                // under the same key.
                return super::prefix_clause(f, t);
            }
            let name = expansion(f, false, t, edits);
            if names {
                name
            } else {
                Clause::any(vec![name, expansion(f, true, t, edits)])
            }
        })
        .collect();
    Clause::all(per_token)
}

impl Clause {
    /// Documents any of `parts` selects, kept under the parts' keys.
    pub fn any(parts: Vec<Clause>) -> Clause {
        Clause {
            key: composite(&parts).map(ClauseKey::AnyOf),
            kind: ClauseKind::AnyOf(parts),
        }
    }

    /// Documents every one of `parts` selects, kept under the parts' keys.
    pub fn all(parts: Vec<Clause>) -> Clause {
        Clause {
            key: composite(&parts).map(ClauseKey::AllOf),
            kind: ClauseKind::AllOf(parts),
        }
    }
}

/// The keys of `parts`, if each has one.
fn composite(parts: &[Clause]) -> Option<Vec<ClauseKey>> {
    parts.iter().map(|p| p.key.clone()).collect()
}
