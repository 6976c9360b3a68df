//! CORS (docs/api.md, Access): which browser origins may call the API.
//!
//! With no origins configured the middleware is not installed at all, so no
//! answer carries a CORS header. A request from an origin not configured is
//! served as usual but without `Access-Control-Allow-*` headers, which is
//! what makes a browser withhold the answer from the page.

use actix_cors::Cors;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use actix_web::http::{Method, Uri};
use actix_web::middleware::Condition;

use super::limits::{X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING};

/// The configured origins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    #[default]
    Disabled,
    /// `*`: any origin (keys travel in a header, not in cookies, so this
    /// grants a page nothing it could not do from a server).
    Any,
    /// Exact origins, `scheme://host[:port]`, lower case.
    List(Vec<String>),
}

/// Checks one origin and brings it to the form browsers send.
fn normalize_origin(raw: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("CORS origin `{raw}` {why}"));
    let trimmed = raw.trim().trim_end_matches('/');
    let Ok(uri) = trimmed.parse::<Uri>() else {
        return bad("is not a valid origin (expected scheme://host[:port])");
    };
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return bad("must start with http:// or https://"),
    }
    let Some(authority) = uri.authority() else {
        return bad("has no host");
    };
    if authority.as_str().contains('@') {
        return bad("must not carry user information");
    }
    if !(uri.path().is_empty() || uri.path() == "/") || uri.query().is_some() {
        return bad("must not have a path or query (an origin is scheme://host[:port])");
    }
    Ok(format!(
        "{}://{}",
        uri.scheme_str().unwrap_or_default(),
        authority.as_str().to_ascii_lowercase()
    ))
}

impl CorsOrigins {
    /// From the `--cors-origin` values; each may hold a comma-separated
    /// list (`KONTAKT_CORS_ORIGINS`). `*` anywhere allows any origin.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<CorsOrigins, String> {
        let items: Vec<&str> = values
            .iter()
            .flat_map(|v| v.as_ref().split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if items.is_empty() {
            return Ok(CorsOrigins::Disabled);
        }
        if items.contains(&"*") {
            return Ok(CorsOrigins::Any);
        }
        let mut list = items
            .into_iter()
            .map(normalize_origin)
            .collect::<Result<Vec<_>, _>>()?;
        list.sort();
        list.dedup();
        Ok(CorsOrigins::List(list))
    }

    /// The middleware; a no-op when disabled.
    pub fn middleware(&self) -> Condition<Cors> {
        let base = Cors::default()
            .allowed_methods([Method::GET, Method::PUT, Method::DELETE])
            .allowed_headers([AUTHORIZATION, CONTENT_TYPE])
            // So a page can read its remaining budget and when to retry.
            .expose_headers([X_RATELIMIT_LIMIT, X_RATELIMIT_REMAINING, RETRY_AFTER])
            .max_age(3600);
        match self {
            CorsOrigins::Disabled => Condition::new(false, base),
            CorsOrigins::Any => Condition::new(true, base.allow_any_origin().send_wildcard()),
            CorsOrigins::List(list) => Condition::new(
                true,
                list.iter().fold(base, |c, origin| c.allowed_origin(origin)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_normalize() {
        assert_eq!(
            CorsOrigins::parse::<&str>(&[]).unwrap(),
            CorsOrigins::Disabled
        );
        assert_eq!(CorsOrigins::parse(&[" , "]).unwrap(), CorsOrigins::Disabled);
        assert_eq!(
            CorsOrigins::parse(&["https://a.example", "*"]).unwrap(),
            CorsOrigins::Any
        );
        assert_eq!(
            CorsOrigins::parse(&[
                "https://B.example/,http://a.example:8080",
                "https://b.example"
            ])
            .unwrap(),
            CorsOrigins::List(vec![
                "http://a.example:8080".into(),
                "https://b.example".into()
            ])
        );
        for bad in [
            "a.example",
            "ftp://a.example",
            "https://a.example/path",
            "https://u@a.example",
            "https://",
        ] {
            assert!(CorsOrigins::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
