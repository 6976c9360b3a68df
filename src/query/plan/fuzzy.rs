//! Suggest's typo-tolerant fill-up (docs/api.md, Typeahead) as clauses:
//! every `q` token within its allowed edits of a prefix of a name token (or
//! of a name or email token). Each token's expansion is kept under its own
//! key, so a suggest's tiers, which repeat the same expansions (tier 2
//! leaves out what tier 1 took), walk the term dictionary once per token,
//! field and distance, and the next keystroke's tiers reuse none of it but
//! cost no more.

use std::sync::{Arc, OnceLock};

use tantivy::Term;
use tantivy::query::{AutomatonWeight, DfaWrapper, EnableScoring, FuzzyTermQuery, Query, Weight};
use tantivy::schema::Field;

use super::{Clause, ClauseKey, ClauseKind};
use crate::index::Fields;

/// Documents with a name (or, when `email`, an email) token that has a
/// prefix within `edits` of `token`. For names, a prefix automaton over the
/// whole name tokens: the same documents as a whole-term automaton over
/// every prefix of them, but each token is one term to read, not one per
/// prefix within reach. Emails have only their prefix field, where a
/// whole-term match is a prefix match.
fn expansion(f: &Fields, email: bool, token: &str, edits: u8) -> Clause {
    let field = if email { f.email_prefix } else { f.name_prefix };
    if edits == 0 {
        return Clause::term_of(Term::from_field_text(field, token));
    }
    let (field, query) = if email {
        (
            field,
            FuzzyTermQuery::new(Term::from_field_text(field, token), edits, true),
        )
    } else {
        let term = Term::from_field_text(f.name_token, token);
        (f.name_token, FuzzyTermQuery::new_prefix(term, edits, true))
    };
    Clause::keyed(
        ClauseKey::Fuzzy {
            email,
            token: token.to_owned(),
            edits,
        },
        Box::new(OnceFuzzy::new(field, query)),
    )
}

/// A `FuzzyTermQuery` whose automaton is built once for all segments.
/// Tantivy's builds it again for every weight, and a search asks one weight
/// per segment: for two edits the automaton's tables take megabytes, so a
/// suggest over ten segments spent most of its time building and paging
/// in ten copies of them.
#[derive(Clone)]
struct OnceFuzzy {
    query: FuzzyTermQuery,
    field: Field,
    automaton: OnceLock<Arc<DfaWrapper>>,
}

impl OnceFuzzy {
    /// `query`, on `field`.
    fn new(field: Field, query: FuzzyTermQuery) -> OnceFuzzy {
        OnceFuzzy {
            query,
            field,
            automaton: OnceLock::new(),
        }
    }
}

impl std::fmt::Debug for OnceFuzzy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.query.fmt(f)
    }
}

impl Query for OnceFuzzy {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let automaton = match self.automaton.get() {
            Some(built) => built.clone(),
            None => {
                let built = Arc::new(self.query.automaton()?);
                self.automaton.get_or_init(|| built).clone()
            }
        };
        Ok(Box::new(AutomatonWeight::<DfaWrapper>::new(
            self.field, automaton,
        )))
    }
}

/// Every token (with the edits it may have) within `distance` (and its own
/// allowance) of a name token, or, unless `names`, of a name or email token.
pub fn tier(f: &Fields, tokens: &[(&str, u8)], distance: u8, names: bool) -> Clause {
    let per_token: Vec<Clause> = tokens
        .iter()
        .map(|&(t, edits)| {
            let edits = edits.min(distance);
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
