//! The outermost middleware: one log line and one metrics sample per
//! request, and a JSON body for every error answer, whoever produced it.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use serde_json::json;

use crate::error::ErrorCode;
use crate::metrics;

/// Number of results in an answer, set by handlers as a response extension
/// so the log line can carry it without parsing the body.
#[derive(Debug, Clone, Copy)]
pub struct ResultCount(pub u64);

/// A fixed set of method labels: any other method (clients may send
/// anything) would otherwise become a new metrics series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The stable code of an error answer that did not come from `ApiError`
/// (CORS refusals, the HTTP layer's own errors).
fn fallback_code(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 | 405 => ErrorCode::NotFound,
        408 | 503 | 504 => ErrorCode::Timeout,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        400..=499 => ErrorCode::BadRequest,
        _ => ErrorCode::Internal,
    }
}

fn is_json(res: &HttpResponse<BoxBody>) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Gives a non-JSON error answer a JSON body (docs/api.md, Errors: no input gets a
/// non-JSON answer), keeping its status, headers and, as the message, its
/// text.
async fn jsonify(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let mut status = res.status();
    if status.as_u16() < 400 || is_json(res.response()) {
        return res;
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    // A CORS preflight the configuration refuses (origin, method or
    // header): the middleware says 400; it is a refusal, `403 forbidden`.
    if status == StatusCode::BAD_REQUEST
        && req.method() == actix_web::http::Method::OPTIONS
        && req.headers().contains_key("access-control-request-method")
    {
        status = StatusCode::FORBIDDEN;
        *head.status_mut() = status;
    }
    let text = actix_web::body::to_bytes_limited(body, 4096)
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        // A server error's text may describe internals; it stays in the log.
        .filter(|t| !t.trim().is_empty() && !status.is_server_error())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let code = fallback_code(status);
    let body = json!({"error": {"code": code, "message": text}}).to_string();
    head.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    head.extensions_mut().insert(code);
    ServiceResponse::new(req, head.set_body(BoxBody::new(body)))
}

/// Middleware: see the module doc.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    // Inner layers need the request to themselves (they rewrite its path
    // and route it), so only this much is kept for an answer that comes
    // back as an error, without the request.
    let early_route = req.match_pattern();
    let (res, route) = match next.call(req).await {
        Ok(res) => {
            let res = jsonify(res.map_into_boxed_body()).await;
            let route = res.request().match_pattern();
            (Ok(res), route)
        }
        Err(e) => (Err(e), early_route),
    };
    let elapsed = started.elapsed();
    let status = match &res {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    }
    .as_u16();
    // The pattern, not the path: paths carry ids (one series each) and
    // query strings carry what users search for.
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    metrics::observe_request(method, &route, status, elapsed);
    let results = res
        .as_ref()
        .ok()
        .and_then(|r| r.response().extensions().get::<ResultCount>().map(|c| c.0));
    let code = match &res {
        Ok(r) => r.response().extensions().get::<ErrorCode>().copied(),
        Err(e) => e.as_error::<super::ApiError>().map(|a| a.code),
    };
    tracing::info!(
        target: "kontakt::request",
        method,
        route = route.as_str(),
        status,
        duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        results,
        code = code.map(ErrorCode::as_str),
        "request"
    );
    res
}
