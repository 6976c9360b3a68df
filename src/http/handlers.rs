//! Thin request handlers.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{ApiError, AppState};
use crate::query::params::{
    IndustryListRequest, ParamError, ParamErrorKind, SearchRequest, SuggestRequest,
    decode_query_string,
};
use crate::write::batch;
use crate::write::{WriteOp, WriteOutcome, WriteService};

type Result<T> = std::result::Result<T, ApiError>;

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse> {
    let contacts = state.search.contact_count().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "contacts": contacts})))
}

pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let request = SearchRequest::parse(pairs, state.search.industries)?;
    let results = state.search.search(&request)?;
    Ok(HttpResponse::Ok().json(results))
}

pub async fn suggest(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let pairs = decode_query_string(req.query_string())?;
    let request = SuggestRequest::parse(pairs, state.search.industries)?;
    let results = state.search.suggest(&request)?;
    Ok(HttpResponse::Ok().json(json!({ "data": results })))
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

/// Parses the `{id}` of a path.
fn path_id(req: &HttpRequest) -> Result<u64> {
    let raw = req.match_info().get("id").unwrap_or_default();
    raw.parse::<u64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| ApiError::invalid_parameter("id", "id must be a positive integer"))
}

pub async fn contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    state.keys.authorize_read(&req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    match state.search.contact(id)? {
        Some(contact) => Ok(HttpResponse::Ok().json(json!({ "data": contact }))),
        None => Err(ApiError::not_found(format!("no contact with id {id}"))),
    }
}

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
    Ok(HttpResponse::Ok().json(json!({ "data": rows })))
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

pub async fn delete_contact(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    Ok(upserted(writes.submit(WriteOp::DeleteContact(id)).await?))
}

pub async fn delete_company(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let writes = writer(&state, &req)?;
    let id = path_id(&req)?;
    no_parameters(&req)?;
    Ok(upserted(writes.submit(WriteOp::DeleteCompany(id)).await?))
}
