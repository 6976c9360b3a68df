//! API keys (docs/api.md, Access): `read` keys for GET endpoints, `admin` keys for all.
//!
//! Keys are kept only as SHA-256 digests and compared in constant time, so
//! neither timing nor a memory dump reveals them, and no key is ever
//! written to a log or an answer. A scoped key (`crate::query::scope`) is
//! checked against the digests of the read and admin keys, its parents.

use actix_web::HttpRequest;

use actix_web::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::error::ErrorCode;
use crate::model::Industries;
use crate::query::scope::{self, Scope, ScopeError};

pub type KeyDigest = [u8; 32];

/// The configured keys.
#[derive(Default, Clone)]
pub struct Keys {
    read: Vec<KeyDigest>,
    admin: Vec<KeyDigest>,
}

/// What a request presented.
#[derive(Debug, PartialEq)]
enum Presented {
    Nothing,
    Unknown,
    Read,
    Admin,
    /// A valid scoped key, and the digest of its parent.
    Scoped(Box<Scope>, KeyDigest),
    /// A scoped key with a valid MAC that is expired or invalid.
    Refused(ScopeError),
}

fn digest(key: &str) -> KeyDigest {
    Sha256::digest(key.as_bytes()).into()
}

/// Splits a comma-separated key list, ignoring empty items.
fn parse_list(list: &str) -> Vec<KeyDigest> {
    list.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(digest)
        .collect()
}

/// True when `d` is one of `keys`; looks at every key whatever it finds.
fn contains(keys: &[KeyDigest], d: &KeyDigest) -> bool {
    keys.iter()
        .fold(subtle::Choice::from(0), |found, k| found | k.ct_eq(d))
        .into()
}

impl Keys {
    /// From comma-separated lists (`KONTAKT_READ_KEYS`, `KONTAKT_ADMIN_KEYS`).
    pub fn new(read: &str, admin: &str) -> Keys {
        Keys {
            read: parse_list(read),
            admin: parse_list(admin),
        }
    }

    /// How many read keys are configured (never which).
    pub fn read_count(&self) -> usize {
        self.read.len()
    }

    /// How many admin keys are configured (never which).
    pub fn admin_count(&self) -> usize {
        self.admin.len()
    }

    pub fn writes_enabled(&self) -> bool {
        !self.admin.is_empty()
    }

    /// The bearer key a request carries, if it carries one.
    fn bearer(req: &HttpRequest) -> Option<Option<&str>> {
        let mut values = req.headers().get_all(AUTHORIZATION);
        let value = values.next()?;
        if values.next().is_some() {
            // Which one counts would be a guess (see `presented`).
            return Some(None);
        }
        Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, key)| key.trim()),
        )
    }

    /// The parents a scoped key may be derived from: read and admin keys.
    fn parents(&self) -> Vec<KeyDigest> {
        self.read.iter().chain(&self.admin).copied().collect()
    }

    fn classify_key(&self, key: &str) -> Presented {
        let presented = self.classify(&digest(key));
        if presented != Presented::Unknown || !key.starts_with(scope::PREFIX) {
            return presented;
        }
        let parents = self.parents();
        let now = chrono::Utc::now().timestamp();
        match scope::open(key, &parents, now, Industries::bundled()) {
            Ok((scope, i)) => Presented::Scoped(Box::new(scope), parents[i]),
            Err(ScopeError::Unknown) => Presented::Unknown,
            Err(e) => Presented::Refused(e),
        }
    }

    fn classify(&self, d: &KeyDigest) -> Presented {
        let admin = contains(&self.admin, d);
        let read = contains(&self.read, d);
        if admin {
            Presented::Admin
        } else if read {
            Presented::Read
        } else {
            Presented::Unknown
        }
    }

    /// What the request presents; two `Authorization` headers are refused:
    /// proxies and servers disagree on which one counts.
    fn presented(&self, req: &HttpRequest) -> Result<Presented, ApiError> {
        let headers = req.headers().get_all(AUTHORIZATION).count();
        if headers > 1 {
            return Err(ApiError::invalid_parameter(
                "Authorization",
                format!("{headers} Authorization headers: send one"),
            ));
        }
        Ok(match Self::bearer(req) {
            None => Presented::Nothing,
            Some(None) => Presented::Unknown,
            Some(Some(key)) => self.classify_key(key),
        })
    }

    /// The digest of the request's key when it is a configured one, or of
    /// the parent of a valid scoped key. Rate limits are kept per known key
    /// (scoped keys share their parent's); an unknown key is limited by
    /// address, so made-up keys cannot mint fresh buckets.
    pub fn known_digest(&self, req: &HttpRequest) -> Option<KeyDigest> {
        let key = Self::bearer(req)??;
        match self.classify_key(key) {
            Presented::Read | Presented::Admin => Some(digest(key)),
            Presented::Scoped(_, parent) => Some(parent),
            _ => None,
        }
    }

    /// GET endpoints: open when no read keys are configured, but an unknown
    /// key is refused even then. A scoped key reads within its scope,
    /// returned here for the handler to apply.
    pub fn authorize_read(&self, req: &HttpRequest) -> Result<Option<Box<Scope>>, ApiError> {
        match self.presented(req)? {
            Presented::Read | Presented::Admin => Ok(None),
            Presented::Scoped(scope, _) => Ok(Some(scope)),
            Presented::Nothing if self.read.is_empty() => Ok(None),
            Presented::Nothing => Err(unauthorized("this endpoint needs an API key")),
            Presented::Unknown => Err(unauthorized("unknown API key")),
            Presented::Refused(e) => Err(unauthorized(&e.to_string())),
        }
    }

    /// Writes: always an admin key.
    pub fn authorize_write(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if !self.writes_enabled() {
            return Err(ApiError::new(
                ErrorCode::WritesDisabled,
                "writes are disabled: no admin keys are configured (KONTAKT_ADMIN_KEYS)",
            ));
        }
        match self.presented(req)? {
            Presented::Admin => Ok(()),
            Presented::Read => Err(ApiError::new(
                ErrorCode::Forbidden,
                "this key may only read; writes need an admin key",
            )),
            Presented::Scoped(..) => Err(ApiError::new(
                ErrorCode::Forbidden,
                "a scoped key may only search; writes need an admin key",
            )),
            Presented::Nothing => Err(unauthorized("writes need an admin API key")),
            Presented::Unknown => Err(unauthorized("unknown API key")),
            Presented::Refused(e) => Err(unauthorized(&e.to_string())),
        }
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn with(key: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default();
        if let Some(k) = key {
            r = r.insert_header((AUTHORIZATION, k));
        }
        r.to_http_request()
    }

    #[test]
    fn scopes_follow_the_access_rules() {
        let open = Keys::new("", "adm");
        assert!(open.authorize_read(&with(None)).is_ok());
        assert_eq!(
            open.authorize_read(&with(Some("Bearer nope")))
                .unwrap_err()
                .status,
            401
        );
        assert!(open.authorize_read(&with(Some("Bearer adm"))).is_ok());

        let closed = Keys::new("r1, r2,", "adm");
        assert_eq!(closed.authorize_read(&with(None)).unwrap_err().status, 401);
        assert!(closed.authorize_read(&with(Some("bearer r2"))).is_ok());
        assert_eq!(
            closed
                .authorize_read(&with(Some("Basic r2")))
                .unwrap_err()
                .status,
            401
        );
        assert_eq!(
            closed
                .authorize_write(&with(Some("Bearer r1")))
                .unwrap_err()
                .code,
            ErrorCode::Forbidden
        );
        assert_eq!(closed.authorize_write(&with(None)).unwrap_err().status, 401);
        assert!(closed.authorize_write(&with(Some("Bearer adm"))).is_ok());

        // Rate limits key on known keys only.
        assert_eq!(
            closed.known_digest(&with(Some("Bearer r1"))),
            Some(digest("r1"))
        );
        assert_eq!(
            closed.known_digest(&with(Some("Bearer adm"))),
            Some(digest("adm"))
        );
        assert_eq!(closed.known_digest(&with(Some("Bearer made-up"))), None);
        assert_eq!(closed.known_digest(&with(Some("Basic r1"))), None);
        assert_eq!(closed.known_digest(&with(None)), None);

        // Two headers: which one counts would be a guess.
        let two = TestRequest::default()
            .append_header((AUTHORIZATION, "Bearer adm"))
            .append_header((AUTHORIZATION, "Bearer nope"))
            .to_http_request();
        for e in [
            closed.authorize_read(&two).unwrap_err(),
            closed.authorize_write(&two).unwrap_err(),
        ] {
            assert_eq!(
                (e.status.as_u16(), e.code),
                (400, ErrorCode::InvalidParameter)
            );
            assert_eq!(e.parameter.as_deref(), Some("Authorization"));
        }
        assert_eq!(closed.known_digest(&two), None);

        let no_admin = Keys::new("r1", "");
        let e = no_admin
            .authorize_write(&with(Some("Bearer r1")))
            .unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code),
            (403, ErrorCode::WritesDisabled)
        );
    }
}
