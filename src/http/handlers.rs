//! Thin request handlers. Their `#[utoipa::path]` annotations are the
//! operations of the OpenAPI document (`schema.rs` holds the body and
//! parameter types they name; `openapi.rs` serves the document).

use std::sync::{Arc, OnceLock};

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::Semaphore;

use super::observe::ResultCount;
use super::schema::{
    ContactResponseDoc, ErrorDoc, HealthDoc, IdPath, IndustriesResponseDoc, IndustryParams,
    ReadyDoc, SearchParams, SearchResponseDoc, SuggestParams, SuggestResponseDoc, UpsertedDoc,
};
use super::{ApiError, AppState};
use crate::error::ErrorCode;
use crate::metrics;
use crate::model::{Company, Contact};
use crate::query::params::{ParamError, ParamErrorKind, decode_query_string};
use crate::query::request::{IndustryListRequest, SearchRequest, SuggestRequest};
use crate::write::batch::{BodyParser, Record};
use crate::write::{WriteOp, WriteOutcome, WriteService};

type Result<T> = std::result::Result<T, ApiError>;

/// Index reads that are not searches (the contact count of `/ready` and
/// `/metrics`, one contact by id; searches have their own pools, see
/// `on_pool`) run on the blocking pool, at most two jobs per core at once:
/// the worker threads stay free to answer cheap requests (refusals, health
/// checks), and a request waiting here can be timed out.
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

/// Searches that may cost far more than a typeahead run on a pool of their
/// own: half the cores (at least one), at nice 10; a search spreads its
/// segments over the cores only when no other search is running. However
/// many arrive, they hold those threads and no more, and the cheap searches
/// (on `cheap`) take the cores first.
async fn costly<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads((cores / 2).max(1))
            .thread_name(|i| format!("kontakt-costly-{i}"))
            .start_handler(|_| {
                crate::priority::lower_this_thread(crate::priority::Tier::Costly);
            })
            .build()
            .expect("starting the costly-search threads")
    });
    on_pool(pool, f).await
}

/// Other searches run on the threads that search segments, one per core:
/// the thread that takes a search spreads its segments over the others
/// itself, where a search handed to another pool first would wake and
/// wait on one more thread per request. Searches beyond the cores wait in
/// the pool's queue.
async fn cheap<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    on_pool(crate::search::engine::segment_threads(), f).await
}

/// Runs `f` on `pool`, skipped if the client has gone (timed out) before
/// its turn; a panic in it is an internal error, not the end of the pool.
async fn on_pool<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        if !tx.is_closed() {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(run.unwrap_or_else(|_| Err(ApiError::internal("the search panicked"))));
        }
    });
    rx.await.map_err(ApiError::internal)?
}

/// Whether a filter set may cost far more than a typeahead: a `job_title`
/// (a scan of the title dictionary), a `q` of more than two tokens or with
/// a long token, or a list of more values than are kept as single-value
/// bitsets.
fn costly_filters(f: &crate::query::request::Filters) -> bool {
    let lists = [
        f.sources.len(),
        f.departments.len(),
        f.seniority_levels.len(),
        f.email_statuses.len(),
        f.industry_ids.len(),
        f.industry_sections.len(),
        f.industry_levels.len(),
        f.country_codes.len(),
        f.exclude_industry_ids.len(),
        f.exclude_country_codes.len(),
    ];
    !f.job_title.is_empty()
        || lists.iter().any(|n| *n > 8)
        || f.q
            .as_ref()
            .is_some_and(|q| q.tokens.len() > 2 || q.tokens.iter().any(|t| t.len() > 32))
}

/// A JSON answer that tells the request log how many results it holds.
fn counted(body: &impl serde::Serialize, results: usize) -> HttpResponse {
    let mut res = HttpResponse::Ok().json(body);
    res.extensions_mut().insert(ResultCount(results as u64));
    res
}

/// Liveness
///
/// Answers as long as the process runs, whatever the state of its index.
#[utoipa::path(get, path = "/health", tag = "operations", operation_id = "health",
    responses((status = 200, description = "Alive", body = HealthDoc)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness
///
/// Answers 200 once the index is open and searchable, with the number of
/// contacts it holds; 503 `storage_failed` while writes are fenced by a
/// failed fsync, and 503 `replica_lagging` on a replica too far behind.
#[utoipa::path(get, path = "/ready", tag = "operations", operation_id = "ready",
    responses(
        (status = 200, description = "Ready", body = ReadyDoc),
        (status = 500, description = "The index could not be read", body = ErrorDoc),
        (status = 503, description = "storage_failed: an fsync failed, writes wait for a restart; replica_lagging: a replica too far behind its primary", body = ErrorDoc),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse> {
    if let Some(why) = state.search.storage.fenced() {
        return Err(ApiError::storage_failed(format!(
            "{why}: writes are refused until kontakt restarts (reads still work); check the disk"
        )));
    }
    // A replica too far behind the primary gets no traffic.
    if let Some(why) = state.replication.as_ref().and_then(|r| r.not_ready()) {
        return Err(ApiError::new(ErrorCode::ReplicaLagging, why));
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

/// Prometheus metrics
///
/// Request counts and latencies per route and status, the number of
/// contacts, and commit and reload times, in the Prometheus text exposition
/// format.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses(
        (status = 200, description = "Metrics", body = String, content_type = "text/plain"),
        (status = 500, description = "The index could not be read", body = ErrorDoc),
    ))]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse> {
    metrics::set_fenced(state.search.storage.fenced().is_some());
    if let Some(r) = &state.replication {
        // Brings the lag and age gauges up to now.
        r.snapshot();
    }
    // Counted at scrape time: it stays right whatever changed the index.
    let cache = &state.search.cache;
    metrics::set_cache(&crate::search::cache::KINDS, &cache.usage(), cache.budget());
    let contacts =
        blocking(move || state.search.contact_count().map_err(ApiError::internal)).await?;
    metrics::set_contacts(contacts);
    Ok(HttpResponse::Ok()
        .content_type(metrics::CONTENT_TYPE)
        .body(metrics::render()))
}

/// Search contacts
///
/// Contacts matching every given filter (values of one list parameter
/// combine with OR), with the exact total, in sort order then by ascending
/// id. Stale and speculative contacts are left out unless asked for. Pages
/// follow `pagination.next_cursor`; `facets` adds counts per value over all
/// matches; `highlight=true` adds where `q` matched.
#[utoipa::path(get, path = "/v1/contacts", tag = "contacts", operation_id = "search_contacts",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of matching contacts", body = SearchResponseDoc),
        (status = 400, description = "invalid_parameter, unknown_parameter or invalid_cursor", body = ErrorDoc),
        (status = 401, description = "unauthorized: the server has read keys and none was sent, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal, or index_corrupt (a stored record could not be read)", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let scope = state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let limit_given = scope.as_ref().map(|_| pairs.clone());
    let mut request = SearchRequest::parse(pairs, state.search.industries)?;
    if let (Some(scope), Some(pairs)) = (&scope, limit_given) {
        request.limit = scope.admit(&pairs, request.limit)?;
    }
    request.scope = scope;
    let expensive = costly_filters(&request.filters) || !request.facets.is_empty();
    let run = move || Ok(state.search.search(&request)?);
    let results = if expensive {
        costly(run).await?
    } else {
        cheap(run).await?
    };
    Ok(counted(&results, results.data.len()))
}

/// Typeahead suggestions
///
/// For a search box that asks on every keystroke: the contacts whose name or
/// email tokens start with the tokens of `q`, best first, with where they
/// matched. When fewer than `limit` match, typo-tolerant matches (one edit in
/// tokens of 5 or more letters, two in 9 or more) fill up the list after
/// every strict one, flagged `fuzzy: true`. Takes the filters of search, but
/// no `cursor`, `sort_by` or `facets`.
#[utoipa::path(get, path = "/v1/contacts/suggest", tag = "contacts", operation_id = "suggest_contacts",
    params(SuggestParams),
    responses(
        (status = 200, description = "Suggestions in relevance order", body = SuggestResponseDoc),
        (status = 400, description = "invalid_parameter or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "unauthorized: the server has read keys and none was sent, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal, or index_corrupt (a stored record could not be read)", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn suggest(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let scope = state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let limit_given = scope.as_ref().map(|_| pairs.clone());
    let mut request = SuggestRequest::parse(pairs, state.search.industries)?;
    if let (Some(scope), Some(pairs)) = (&scope, limit_given) {
        request.limit = scope.admit(&pairs, request.limit)?;
    }
    request.scope = scope;
    // Typo expansion (tokens of 5+ letters) is the costly part of a suggest.
    let expensive = costly_filters(&request.filters)
        || request.filters.q.as_ref().is_some_and(|q| {
            q.tokens
                .iter()
                .any(|t| crate::search::suggest::allowed_edits(t.chars().count()) > 0)
        });
    let run = move || Ok(state.search.suggest(&request)?);
    let results = if expensive {
        costly(run).await?
    } else {
        cheap(run).await?
    };
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

/// Get a contact
///
/// One contact by id, stale or speculative alike.
#[utoipa::path(get, path = "/v1/contacts/{id}", tag = "contacts", operation_id = "get_contact",
    params(IdPath),
    responses(
        (status = 200, description = "The contact", body = ContactResponseDoc),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "unauthorized: the server has read keys and none was sent, or the key is unknown", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal, or index_corrupt (a stored record could not be read)", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let scope = state.keys.authorize_read(&req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "contact")?;
    let found = blocking(move || {
        Ok(match scope {
            // Outside the scope, the contact does not exist for this key.
            Some(scope) => state.search.contact_in(id, &scope)?,
            None => state.search.contact(id)?,
        })
    })
    .await?;
    match found {
        Some(contact) => Ok(counted(&json!({ "data": contact }), 1)),
        None => Err(not_found(&req, "contact")),
    }
}

/// List industries
///
/// Rows of the NACE industry table in id order, optionally filtered; their
/// ids are the values of the `industry_id` filters and of a company's
/// `industry_ids`.
#[utoipa::path(get, path = "/v1/industries", tag = "industries", operation_id = "list_industries",
    params(IndustryParams),
    responses(
        (status = 200, description = "Rows in id order", body = IndustriesResponseDoc),
        (status = 400, description = "invalid_parameter or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "unauthorized: the server has read keys and none was sent, or the key is unknown", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 503, description = "timeout", body = ErrorDoc),
    ))]
pub async fn industries(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let f = IndustryListRequest::parse(decode_query_string(req.query_string())?)?;
    let rows = state.search.industries.select(&f);
    Ok(counted(&json!({ "data": rows }), rows.len()))
}

fn payload_too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than the limit of {limit} bytes"),
    )
}

/// Bytes of a write body gathered before they are parsed.
const PIECE: usize = 1 << 20;

/// Reads and parses a write body as it arrives (see `write::batch`),
/// refusing it as soon as it passes the limit, whether its size was
/// announced or it comes chunked.
async fn parse_body<T: Record + 'static>(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
    mut parser: BodyParser<T>,
) -> Result<Vec<(usize, T)>> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(payload_too_large(limit));
    }
    let mut received = 0;
    let mut piece = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRecord,
                format!("the body could not be read: {e}"),
            )
        })?;
        received += chunk.len();
        if received > limit {
            return Err(payload_too_large(limit));
        }
        piece.extend_from_slice(&chunk);
        if piece.len() >= PIECE {
            let full = std::mem::take(&mut piece);
            parser = web::block(move || {
                parser.feed(&full);
                parser
            })
            .await
            .map_err(ApiError::internal)?;
        }
    }
    web::block(move || {
        parser.feed(&piece);
        parser.finish()
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::invalid_records)
}

/// The admin check and the writer, or why there is none.
fn writer<'a>(state: &'a AppState, req: &HttpRequest) -> Result<&'a WriteService> {
    if state
        .replication
        .as_ref()
        .is_some_and(|r| r.role == crate::replicate::Role::Replica)
    {
        return Err(ApiError::new(
            ErrorCode::ReadOnlyReplica,
            "this server is a read-only replica; send writes to the primary",
        ));
    }
    state.keys.authorize_write(req)?;
    state.writes.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::WritesDisabled,
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

/// Insert or replace contacts
///
/// A JSON Lines body, one `ContactInput` per line; a contact with the id of
/// an existing one replaces it, and its company must exist. All or nothing:
/// if any line is invalid, the answer lists the bad lines and nothing is
/// applied. The answer comes once the whole batch is durable on disk, and
/// every search that starts after it sees the batch.
#[utoipa::path(put, path = "/v1/contacts", tag = "writes", operation_id = "put_contacts",
    request_body(content = String, content_type = "application/x-ndjson",
        description = "JSON Lines: one `ContactInput` object per line"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record was applied and is durable", body = UpsertedDoc),
        (status = 400, description = "invalid_record: nothing was applied", body = ErrorDoc),
        (status = 401, description = "unauthorized: no key was sent, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 413, description = "payload_too_large", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the batch may still be applied; storage_failed: an fsync failed, no write is applied until a restart; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
        (status = 507, description = "insufficient_storage: the disk is full, nothing was applied", body = ErrorDoc),
    ))]
pub async fn put_contacts(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    no_parameters(&req)?;
    let parser = BodyParser::new(state.search.industries, Some(writes.companies()));
    let records: Vec<(usize, Contact)> =
        parse_body(&req, payload, state.max_body_bytes, parser).await?;
    Ok(upserted(
        writes.submit(WriteOp::PutContacts(records)).await?,
    ))
}

/// Insert or replace companies
///
/// A JSON Lines body, one `CompanyInput` per line; a company with the id of
/// an existing one replaces it, and its contacts are found by its new
/// country and industries from then on. All or nothing: if any line is
/// invalid, the answer lists the bad lines and nothing is applied. The
/// answer comes once the whole batch is durable on disk.
#[utoipa::path(put, path = "/v1/companies", tag = "writes", operation_id = "put_companies",
    request_body(content = String, content_type = "application/x-ndjson",
        description = "JSON Lines: one `CompanyInput` object per line"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every record was applied and is durable", body = UpsertedDoc),
        (status = 400, description = "invalid_record: nothing was applied", body = ErrorDoc),
        (status = 401, description = "unauthorized: no key was sent, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 413, description = "payload_too_large", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the batch may still be applied; storage_failed: an fsync failed, no write is applied until a restart; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
        (status = 507, description = "insufficient_storage: the disk is full, nothing was applied", body = ErrorDoc),
    ))]
pub async fn put_companies(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    no_parameters(&req)?;
    let parser = BodyParser::new(state.search.industries, None);
    let records: Vec<(usize, Company)> =
        parse_body(&req, payload, state.max_body_bytes, parser).await?;
    Ok(upserted(
        writes.submit(WriteOp::PutCompanies(records)).await?,
    ))
}

/// Delete a contact
///
/// Removes the contact; it is durable once answered.
#[utoipa::path(delete, path = "/v1/contacts/{id}", tag = "writes", operation_id = "delete_contact",
    params(IdPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; durable once answered"),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "unauthorized: no key was sent, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the delete may still be applied; storage_failed: an fsync failed, no write is applied until a restart; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
        (status = 507, description = "insufficient_storage: the disk is full, nothing was applied", body = ErrorDoc),
    ))]
pub async fn delete_contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "contact")?;
    Ok(upserted(writes.submit(WriteOp::DeleteContact(id)).await?))
}

/// Delete a company
///
/// Removes a company that has no contacts left (`409 conflict` while it
/// has some); it is durable once answered.
#[utoipa::path(delete, path = "/v1/companies/{id}", tag = "writes", operation_id = "delete_company",
    params(IdPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted; durable once answered"),
        (status = 400, description = "invalid_parameter (the id) or unknown_parameter", body = ErrorDoc),
        (status = 401, description = "unauthorized: no key was sent, or the key is unknown", body = ErrorDoc),
        (status = 403, description = "forbidden (a read key) or writes_disabled", body = ErrorDoc),
        (status = 404, description = "not_found", body = ErrorDoc),
        (status = 409, description = "conflict: the company still has contacts", body = ErrorDoc),
        (status = 429, description = "rate_limited", body = ErrorDoc),
        (status = 500, description = "internal", body = ErrorDoc),
        (status = 503, description = "timeout: the delete may still be applied; storage_failed: an fsync failed, no write is applied until a restart; read_only_replica, not_primary or replication_failed (see docs/deploy.md)", body = ErrorDoc),
        (status = 507, description = "insufficient_storage: the disk is full, nothing was applied", body = ErrorDoc),
    ))]
pub async fn delete_company(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    let id = possible(id, &req, "company")?;
    Ok(upserted(writes.submit(WriteOp::DeleteCompany(id)).await?))
}
