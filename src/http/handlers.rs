//! Thin request handlers. Their `#[utoipa::path]` annotations are the
//! operations of the OpenAPI document (`openapi.rs` holds the schemas).

use std::sync::{Arc, OnceLock};

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use tokio::sync::Semaphore;

use super::observe::ResultCount;
use super::openapi::{
    CompanyInputDoc, ContactInputDoc, ContactResponseDoc, ErrorDoc, HealthDoc, IdPath,
    IndustriesResponseDoc, IndustryParams, ReadyDoc, SearchParams, SearchResponseDoc,
    SuggestParams, SuggestResponseDoc, UpsertedDoc,
};
use super::{ApiError, AppState, metrics};
use crate::query::params::{
    IndustryListRequest, ParamError, ParamErrorKind, SearchRequest, SuggestRequest,
    decode_query_string,
};
use crate::write::batch;
use crate::write::{WriteOp, WriteOutcome, WriteService};

type Result<T> = std::result::Result<T, ApiError>;

/// Index work runs on the blocking pool, at most two jobs per core at once:
/// the worker threads stay free to answer cheap requests (refusals, health
/// checks) during a burst of searches, and a request waiting here can be
/// timed out.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(Semaphore::new(cores * 2))
    });
    let permit = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    web::block(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(ApiError::internal)?
}

/// A JSON answer that tells the request log how many results it holds.
fn counted(body: &impl serde::Serialize, results: usize) -> HttpResponse {
    let mut res = HttpResponse::Ok().json(body);
    res.extensions_mut().insert(ResultCount(results as u64));
    res
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses((status = 200, description = "Alive", body = HealthDoc)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the index is open (and how many contacts it holds).
#[utoipa::path(get, path = "/ready", tag = "operations", security(()),
    responses(
        (status = 200, description = "Ready", body = ReadyDoc),
        (status = 500, description = "The index could not be read", body = ErrorDoc),
        (status = 503, description = "replica_lagging: a replica too far behind its primary", body = ErrorDoc),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse> {
    // A replica too far behind the primary gets no traffic.
    if let Some(why) = state.replication.as_ref().and_then(|r| r.not_ready()) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "replica_lagging",
            why,
        ));
    }
    let replication = state.replication.as_ref().map(|r| r.snapshot());
    let contacts =
        blocking(move || state.search.contact_count().map_err(ApiError::internal)).await?;
    metrics::set_contacts(contacts);
    let mut body = json!({"status": "ready", "contacts": contacts});
    if let Some(r) = replication {
        body["replication"] = json!(r);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        (status = 500, description = "The index could not be read", body = ErrorDoc),
    ))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse> {
    if let Some(r) = &state.replication {
        // Brings the lag and age gauges up to now.
        r.snapshot();
    }
    // Counted at scrape time: it stays right whatever changed the index.
    let contacts =
        blocking(move || state.search.contact_count().map_err(ApiError::internal)).await?;
    metrics::set_contacts(contacts);
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(metrics::render()))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::openapi::document())
}

/// Search contacts (§4): filters, sort, cursor pagination, facets.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts",
    params(SearchParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of matching contacts", body = SearchResponseDoc),
        (status = 400, description = "invalid_parameter, unknown_parameter or invalid_cursor", body = ErrorDoc),
        (status = 401, description = "A key is needed, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let request = SearchRequest::parse(pairs, state.search.industries)?;
    let results = blocking(move || Ok(state.search.search(&request)?)).await?;
    Ok(counted(&results, results.data.len()))
}

/// Typeahead suggestions (§5): strict matches, then typo-tolerant ones.
#[utoipa::path(get, path = "/v1/contacts/suggest", tag = "contacts",
    params(SuggestParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Suggestions in relevance order", body = SuggestResponseDoc),
        (status = 400, description = "invalid_parameter or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "A key is needed, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn suggest(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let request = SuggestRequest::parse(pairs, state.search.industries)?;
    let results = blocking(move || Ok(state.search.suggest(&request)?)).await?;
    Ok(counted(&json!({ "data": results }), results.len()))
}

/// Refuses any query parameter on endpoints that take none.
fn no_parameters(req: &HttpRequest) -> Result<()> {
    match decode_query_string(req.query_string())?.into_iter().next() {
        None => Ok(()),
        Some((name, _)) => Err(ParamError {
            kind: ParamErrorKind::Unknown,
            message: format!("unknown parameter `{name}`; this endpoint takes no parameters"),
            parameter: name,
        }
        .into()),
    }
}

/// Parses the `{id}` of a path; `None` for a decimal id no record can have.
fn path_id(req: &HttpRequest) -> Result<Option<u64>> {
    let raw = req.match_info().get("id").unwrap_or_default();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_parameter(
            "id",
            "id must be a positive integer",
        ));
    }
    // A numeric id that no record can have (0, or past u64) is simply not
    // found: id 0 is never a contact or a company.
    Ok(raw.parse::<u64>().ok().filter(|id| *id > 0))
}

/// The id of `path_id`, or `404` when no `what` can have it.
fn possible(id: Option<u64>, req: &HttpRequest, what: &str) -> Result<u64> {
    id.ok_or_else(|| not_found(req, what))
}

/// `404`, naming the id as the path spells it.
fn not_found(req: &HttpRequest, what: &str) -> ApiError {
    let raw = req.match_info().get("id").unwrap_or_default();
    ApiError::not_found(format!("no {what} with id {raw}"))
}

/// One contact, stale or speculative alike.
#[utoipa::path(get, path = "/v1/contacts/{id}", tag = "contacts",
    params(IdPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The contact", body = ContactResponseDoc),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "A key is needed, or the key is unknown", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "contact")?;
    match blocking(move || Ok(state.search.contact(id)?)).await? {
        Some(contact) => Ok(counted(&json!({ "data": contact }), 1)),
        None => Err(not_found(&req, "contact")),
    }
}

/// The industry table (§5), filterable.
#[utoipa::path(get, path = "/v1/industries", tag = "industries",
    params(IndustryParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Rows in id order", body = IndustriesResponseDoc),
        (status = 400, description = "invalid_parameter or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "A key is needed, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn industries(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let f = IndustryListRequest::parse(decode_query_string(req.query_string())?)?;
    let rows: Vec<_> = state
        .search
        .industries
        .rows()
        .iter()
        .filter(|r| f.levels.is_empty() || f.levels.contains(&r.level))
        .filter(|r| f.sections.is_empty() || f.sections.contains(&r.section))
        .filter(|r| {
            f.parent_ids.is_empty() || r.parent_id.is_some_and(|p| f.parent_ids.contains(&p))
        })
        .filter(|r| {
            f.country_codes.is_empty()
                || r.country_code.is_some_and(|c| f.country_codes.contains(&c))
        })
        .collect();
    Ok(counted(&json!({ "data": rows }), rows.len()))
}

fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

/// Reads a write body, refusing it as soon as it passes the limit, whether
/// its size was announced or it comes chunked.
async fn read_body(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<web::Bytes> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(payload_too_large(limit));
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_record",
            format!("the body could not be read: {e}"),
        )),
        Err(_) => Err(payload_too_large(limit)),
    }
}

/// The admin check and the writer, or why there is none.
fn writer<'a>(state: &'a AppState, req: &HttpRequest) -> Result<&'a WriteService> {
    if state
        .replication
        .as_ref()
        .is_some_and(|r| r.role == crate::replicate::Role::Replica)
    {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "read_only_replica",
            "this server is a read-only replica; send writes to the primary",
        ));
    }
    state.keys.authorize_write(req)?;
    state.writes.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "writes_disabled",
            "this server was started read-only",
        )
    })
}

fn upserted(outcome: WriteOutcome) -> HttpResponse {
    match outcome {
        WriteOutcome::Upserted(n) => HttpResponse::Ok().json(json!({ "upserted": n })),
        WriteOutcome::Deleted => HttpResponse::NoContent().finish(),
    }
}

/// Insert or replace contacts by id (§7): JSON Lines, all or nothing.
#[utoipa::path(put, path = "/v1/contacts", tag = "writes",
    request_body(content = Vec<ContactInputDoc>, content_type = "application/x-ndjson",
        description = "JSON Lines: one contact object per line, in the format of §2.3"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record was applied and is durable", body = UpsertedDoc),
        (status = 400, description = "invalid_record: nothing was applied", body = ErrorDoc),
        (status = 401, description = "An admin key is needed, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 413, description = "payload_too_large", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the batch may still be applied; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
    ))]
pub async fn put_contacts(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    no_parameters(&req)?;
    let body = read_body(&req, payload, state.max_body_bytes).await?;
    let parsed = web::block(move || batch::parse_contacts(&body))
        .await
        .map_err(ApiError::internal)?;
    let unknown = writes.unknown_companies(&parsed.records);
    let records = parsed.finish(unknown).map_err(ApiError::invalid_records)?;
    Ok(upserted(
        writes.submit(WriteOp::PutContacts(records)).await?,
    ))
}

/// Insert or replace companies by id (§7): JSON Lines, all or nothing.
#[utoipa::path(put, path = "/v1/companies", tag = "writes",
    request_body(content = Vec<CompanyInputDoc>, content_type = "application/x-ndjson",
        description = "JSON Lines: one company object per line, in the format of §2.2"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record was applied and is durable", body = UpsertedDoc),
        (status = 400, description = "invalid_record: nothing was applied", body = ErrorDoc),
        (status = 401, description = "An admin key is needed, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 413, description = "payload_too_large", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the batch may still be applied; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
    ))]
pub async fn put_companies(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    no_parameters(&req)?;
    let body = read_body(&req, payload, state.max_body_bytes).await?;
    let industries = state.search.industries;
    let records = web::block(move || batch::parse_companies(&body, industries))
        .await
        .map_err(ApiError::internal)?
        .finish(Vec::new())
        .map_err(ApiError::invalid_records)?;
    Ok(upserted(
        writes.submit(WriteOp::PutCompanies(records)).await?,
    ))
}

/// Delete a contact.
#[utoipa::path(delete, path = "/v1/contacts/{id}", tag = "writes",
    params(IdPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; durable once answered"),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "An admin key is needed, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the delete may still be applied; read_only_replica, not_primary or replication_failed", body = ErrorDoc),
    ))]
pub async fn delete_contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "contact")?;
    Ok(upserted(writes.submit(WriteOp::DeleteContact(id)).await?))
}

/// Delete a company that has no contacts left.
#[utoipa::path(delete, path = "/v1/companies/{id}", tag = "writes",
    params(IdPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; durable once answered"),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "An admin key is needed, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 409, description = "conflict: the company still has contacts", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the delete may still be applied; read_only_replica, not_primary or replication_failed", body = ErrorDoc),
    ))]
pub async fn delete_company(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "company")?;
    Ok(upserted(writes.submit(WriteOp::DeleteCompany(id)).await?))
}
