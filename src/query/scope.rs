//! Scoped search keys: a read key's holder derives, offline, a key that
//! can only search within fixed filters, until an expiry, with fields left
//! out of the answers (as Typesense's scoped keys, Algolia's secured keys).
//!
//! A scoped key is `kss_` + base64url(payload) + `.` + base64url(mac),
//! base64url without padding, where the payload is five lines joined by
//! `\n` (UTF-8, in this order, no trailing newline):
//!
//! ```text
//! kontakt-scope-1
//! expires=<Unix seconds>
//! filter=<a /v1/contacts query string of filter parameters, as sent>
//! max_limit=<1..100, or nothing>
//! hide=<comma-separated field names, or nothing>
//! ```
//!
//! and `mac = HMAC-SHA256(key = SHA-256(parent key), message = payload)`.
//! The server keeps only the SHA-256 of its keys (see `http::auth`), so the
//! MAC is keyed by that digest: a scoped key can be checked without the
//! parent key in memory. The MAC covers the payload's exact bytes, so the
//! server never has to re-encode anything to check it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::params::{self, ParamError};
use super::request::Filters;
use crate::model::Industries;

/// What every scoped key starts with.
pub const PREFIX: &str = "kss_";
const VERSION_LINE: &str = "kontakt-scope-1";

/// Contact fields a scope may hide (every top-level field but `id`).
pub const HIDEABLE: &[&str] = &[
    "company_id",
    "full_name",
    "job_title",
    "email",
    "phone",
    "source",
    "source_url",
    "verified",
    "seniority_level",
    "email_status",
    "department",
    "quality_score",
    "confidence",
    "is_stale",
    "is_speculative",
    "created_at",
    "updated_at",
    "company",
];

/// Request parameters that would reveal a hidden field (by filtering,
/// sorting or counting on it), per field.
const REVEALING: &[(&str, &[&str])] = &[
    ("full_name", &["q", "full_name"]),
    ("company_id", &["company_id"]),
    ("job_title", &["job_title"]),
    ("email", &["has_email"]),
    ("phone", &["has_phone"]),
    ("source", &["source"]),
    ("verified", &["verified"]),
    ("seniority_level", &["seniority_level"]),
    ("email_status", &["email_status"]),
    ("department", &["department"]),
    (
        "quality_score",
        &["min_quality_score", "max_quality_score", "quality_score"],
    ),
    (
        "confidence",
        &["min_confidence", "max_confidence", "confidence"],
    ),
    ("created_at", &["created_at"]),
    ("is_stale", &["exclude_stale"]),
    ("is_speculative", &["exclude_speculative"]),
    (
        "company",
        &[
            "company_id",
            "industry_id",
            "industry_section",
            "industry_level",
            "country_code",
            "exclude_industry_id",
            "exclude_country_code",
        ],
    ),
];

/// The restrictions a scoped key carries, as minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restrictions {
    /// Unix seconds after which the key is refused.
    pub expires: i64,
    /// A query string of `/v1/contacts` filter parameters.
    pub filter: String,
    pub max_limit: Option<usize>,
    /// Sorted, without repeats.
    pub hide: Vec<String>,
}

/// A checked scoped key, ready to restrict requests.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub restrictions: Restrictions,
    /// The filters, parsed by the `/v1/contacts` parser. `exclude_stale`
    /// and `exclude_speculative` are true only when the filter says so
    /// (the defaults of a request are not restrictions of the key).
    pub filters: Filters,
    /// Names the scope's meaning: cursors made under another scope (or
    /// none) are refused.
    pub binding: [u8; 16],
}

/// Why a scope could not be minted or used.
#[derive(Debug, Clone, PartialEq)]
pub enum ScopeError {
    /// The restrictions themselves are invalid (`parameter` names which).
    Invalid {
        parameter: String,
        message: String,
    },
    /// Not a scoped key of any configured parent, or altered.
    Unknown,
    Expired,
}

impl std::fmt::Display for ScopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeError::Invalid { parameter, message } => write!(f, "{parameter}: {message}"),
            ScopeError::Unknown => write!(f, "unknown scoped key"),
            ScopeError::Expired => write!(f, "the scoped key has expired"),
        }
    }
}

impl std::error::Error for ScopeError {}

fn invalid(parameter: &str, message: impl Into<String>) -> ScopeError {
    ScopeError::Invalid {
        parameter: parameter.to_owned(),
        message: message.into(),
    }
}

impl From<ParamError> for ScopeError {
    fn from(e: ParamError) -> Self {
        invalid(&format!("filter: {}", e.parameter), e.message)
    }
}

impl Restrictions {
    /// The canonical payload (see the module header).
    pub fn payload(&self) -> String {
        format!(
            "{VERSION_LINE}\nexpires={}\nfilter={}\nmax_limit={}\nhide={}",
            self.expires,
            self.filter,
            self.max_limit.map(|n| n.to_string()).unwrap_or_default(),
            self.hide.join(","),
        )
    }

    fn from_payload(payload: &str) -> Option<Restrictions> {
        let mut lines = payload.split('\n');
        if lines.next() != Some(VERSION_LINE) {
            return None;
        }
        let mut field = |name: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix('='))
        };
        let expires = field("expires")?.parse().ok()?;
        let filter = field("filter")?.to_owned();
        let max_limit = match field("max_limit")? {
            "" => None,
            n => Some(n.parse().ok()?),
        };
        let hide = match field("hide")? {
            "" => Vec::new(),
            h => h.split(',').map(str::to_owned).collect(),
        };
        if lines.next().is_some() {
            return None;
        }
        Some(Restrictions {
            expires,
            filter,
            max_limit,
            hide,
        })
    }

    /// Checks every restriction (the same rules at minting and at use).
    pub fn check(&self, industries: &Industries) -> Result<Scope, ScopeError> {
        if self.filter.contains(['\n', '\r']) {
            return Err(invalid("filter", "the filter must be one line"));
        }
        let filters =
            params::scope_filters(params::decode_query_string(&self.filter)?, industries)?;
        if let Some(n) = self.max_limit
            && !(1..=100).contains(&n)
        {
            return Err(invalid("max_limit", "max_limit must be between 1 and 100"));
        }
        for h in &self.hide {
            if !HIDEABLE.contains(&h.as_str()) {
                return Err(invalid(
                    "hide",
                    format!(
                        "`{h}` is not a field that can be hidden; these can: {}",
                        HIDEABLE.join(", ")
                    ),
                ));
            }
        }
        if !self.hide.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid(
                "hide",
                "hidden fields must be sorted, without repeats",
            ));
        }
        let canonical = serde_json::to_vec(&(&filters, &self.hide)).unwrap_or_default();
        let binding = Sha256::digest(&canonical)[..16]
            .try_into()
            .unwrap_or([0; 16]);
        Ok(Scope {
            restrictions: self.clone(),
            filters,
            binding,
        })
    }
}

fn mac(parent_digest: &[u8; 32], payload: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length; a 32-byte one cannot fail.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(parent_digest)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    m.update(payload);
    m.finalize().into_bytes().into()
}

/// Derives a scoped key from `parent` (a read or admin key), after checking
/// the restrictions as the server will.
pub fn mint(
    parent: &str,
    restrictions: &Restrictions,
    industries: &Industries,
) -> Result<String, ScopeError> {
    restrictions.check(industries)?;
    let payload = restrictions.payload();
    let digest: [u8; 32] = Sha256::digest(parent.as_bytes()).into();
    Ok(format!(
        "{PREFIX}{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(mac(&digest, payload.as_bytes()))
    ))
}

/// Checks a presented scoped key against the digests of the configured
/// parent keys, each compared in constant time. On success, the scope and
/// the index of the parent it was derived from.
pub fn open(
    key: &str,
    parents: &[[u8; 32]],
    now: i64,
    industries: &Industries,
) -> Result<(Scope, usize), ScopeError> {
    let (payload, tag) = key
        .strip_prefix(PREFIX)
        .and_then(|k| k.split_once('.'))
        .ok_or(ScopeError::Unknown)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| ScopeError::Unknown)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| ScopeError::Unknown)?;
    let mut found = None;
    for (i, parent) in parents.iter().enumerate() {
        let expected = mac(parent, &payload);
        if bool::from(expected.ct_eq(tag.as_slice())) {
            found = Some(i);
        }
    }
    let parent = found.ok_or(ScopeError::Unknown)?;
    let restrictions = std::str::from_utf8(&payload)
        .ok()
        .and_then(Restrictions::from_payload)
        .ok_or(ScopeError::Unknown)?;
    if restrictions.expires <= now {
        return Err(ScopeError::Expired);
    }
    Ok((restrictions.check(industries)?, parent))
}

impl Scope {
    pub fn hides(&self, field: &str) -> bool {
        self.restrictions.hide.iter().any(|h| h == field)
    }

    /// The request parameter that would reveal a hidden field, if any of
    /// `present` does (`facets` values count as present parameters).
    pub fn revealing(&self, present: &[String]) -> Option<String> {
        let forbidden: Vec<&str> = REVEALING
            .iter()
            .filter(|(field, _)| self.hides(field))
            .flat_map(|(_, params)| params.iter().copied())
            .collect();
        present
            .iter()
            .find(|p| forbidden.contains(&p.as_str()))
            .cloned()
    }

    /// Checks a request's own parameters: none may reveal a hidden field,
    /// and a `limit` may not pass `max_limit`. Returns the limit to use
    /// (`limit` as parsed, lowered to `max_limit` when it was not given).
    pub fn admit(&self, pairs: &[(String, String)], limit: usize) -> Result<usize, ParamError> {
        if let Some(p) = self.revealing(&params::given_names(pairs)) {
            return Err(ParamError::invalid(
                &p,
                format!("`{p}` is not available with this key: it would reveal a hidden field"),
            ));
        }
        let given = pairs.iter().any(|(n, v)| n == "limit" && !v.is_empty());
        match self.restrictions.max_limit {
            Some(max) if limit > max && given => Err(ParamError::invalid(
                "limit",
                format!("limit must be at most {max} with this key"),
            )),
            Some(max) => Ok(limit.min(max)),
            None => Ok(limit),
        }
    }

    /// `q` matches names only: with the email hidden, matching it would
    /// let a search probe the hidden addresses.
    pub fn names_only(&self) -> bool {
        self.hides("email")
    }

    /// Leaves the hidden fields, and their `_matches`, out of a contact.
    pub fn strip(&self, contact: &mut serde_json::Value) {
        let Some(obj) = contact.as_object_mut() else {
            return;
        };
        for h in &self.restrictions.hide {
            obj.remove(h);
        }
        if let Some(m) = obj.get_mut("_matches").and_then(|m| m.as_object_mut()) {
            for h in &self.restrictions.hide {
                m.remove(h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restrictions(filter: &str, hide: &[&str]) -> Restrictions {
        Restrictions {
            expires: 2_000_000_000,
            filter: filter.to_owned(),
            max_limit: Some(20),
            hide: hide.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn digest(k: &str) -> [u8; 32] {
        Sha256::digest(k.as_bytes()).into()
    }

    #[test]
    fn a_minted_key_opens_under_its_parent_only() {
        let ind = Industries::bundled();
        let r = restrictions("country_code=SE&verified=true", &["email", "phone"]);
        let key = mint("parent", &r, ind).unwrap();
        let (scope, parent) = open(&key, &[digest("other"), digest("parent")], 0, ind).unwrap();
        assert_eq!(parent, 1);
        assert_eq!(scope.restrictions, r);
        assert_eq!(scope.filters.verified, Some(true));
        // Restrictions that were not asked for are not added.
        assert!(!scope.filters.exclude_stale);
        assert_eq!(
            open(&key, &[digest("other")], 0, ind).unwrap_err(),
            ScopeError::Unknown
        );
        assert_eq!(
            open(&key, &[digest("parent")], 2_000_000_000, ind).unwrap_err(),
            ScopeError::Expired
        );
    }

    #[test]
    fn an_altered_payload_is_an_unknown_key() {
        let ind = Industries::bundled();
        let key = mint("p", &restrictions("country_code=SE", &[]), ind).unwrap();
        let (payload, tag) = key.strip_prefix(PREFIX).unwrap().split_once('.').unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(text.replace("SE", "NO"));
        let forged = format!("{PREFIX}{forged}.{tag}");
        assert_eq!(
            open(&forged, &[digest("p")], 0, ind).unwrap_err(),
            ScopeError::Unknown
        );
    }

    #[test]
    fn invalid_restrictions_are_refused_at_minting_naming_them() {
        let ind = Industries::bundled();
        for (r, parameter) in [
            (
                restrictions("country_code=SWE", &[]),
                "filter: country_code",
            ),
            (
                restrictions("sort_by=quality_score", &[]),
                "filter: sort_by",
            ),
            (restrictions("", &["id"]), "hide"),
            (restrictions("", &["phone", "email"]), "hide"),
            (
                Restrictions {
                    max_limit: Some(0),
                    ..restrictions("", &[])
                },
                "max_limit",
            ),
        ] {
            match mint("p", &r, ind) {
                Err(ScopeError::Invalid { parameter: p, .. }) => assert_eq!(p, parameter),
                other => panic!("{r:?}: {other:?}"),
            }
        }
    }
}
