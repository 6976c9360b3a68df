//! The text filters (docs/api.md, How text matches): `q`, each token a
//! prefix of a token of the name or the email, and `job_title`, each token
//! a substring of a title token.

use tantivy::Term;

use super::{Clause, ClauseKey, ClauseKind, FilterPlan, Planning};
use crate::index::Fields;

pub(super) fn plan(p: &Planning, plan: &mut FilterPlan) {
    let (f, filters) = (p.f, p.filters);
    if let Some(q) = &filters.q {
        plan.must
            .extend(q.tokens.iter().map(|t| prefix_clause(f, t)));
    }
    plan.must
        .extend(filters.job_title.iter().map(|t| title_clause(f, t)));
}

/// `q`, one token: a prefix of a token of the name or the email.
pub fn prefix_clause(f: &Fields, token: &str) -> Clause {
    // The union is kept; of its halves only the name one, which is also the
    // "in name" relevance signal: the email half serves the union alone.
    let term = |field| Term::from_field_text(field, token);
    let email = Clause::unkept_term(term(f.email_prefix));
    Clause {
        key: Some(ClauseKey::Prefix(token.to_owned())),
        kind: ClauseKind::AnyOf(vec![Clause::term_of(term(f.name_prefix)), email]),
    }
}

/// `job_title`, one token: a substring of a title token. Titles repeat, so
/// the dictionary of whole title tokens is small enough to scan.
fn title_clause(f: &Fields, token: &str) -> Clause {
    Clause {
        key: Some(ClauseKey::TitleSubstring(token.to_owned())),
        kind: ClauseKind::Substring {
            field: f.title_token,
            token: token.to_owned(),
        },
    }
}
