//! Thin request handlers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{ApiError, AppState};
use crate::query::params::{IndustryListRequest, SearchRequest, SuggestRequest, decode_query_string};

type Result<T> = std::result::Result<T, ApiError>;

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse> {
    let contacts = state.search.contact_count().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready", "contacts": contacts})))
}

pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let pairs = decode_query_string(req.query_string())?;
    let request = SearchRequest::parse(pairs, state.search.industries)?;
    let results = state.search.search(&request)?;
    Ok(HttpResponse::Ok().json(results))
}

pub async fn suggest(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let pairs = decode_query_string(req.query_string())?;
    let request = SuggestRequest::parse(pairs, state.search.industries)?;
    let results = state.search.suggest(&request)?;
    Ok(HttpResponse::Ok().json(json!({ "data": results })))
}

/// Refuses any query parameter on endpoints that take none.
fn no_parameters(req: &HttpRequest) -> Result<()> {
    match decode_query_string(req.query_string())?.into_iter().next() {
        None => Ok(()),
        Some((name, _)) => Err(crate::query::params::ParamError {
            kind: crate::query::params::ParamErrorKind::Unknown,
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
    let id = path_id(&req)?;
    no_parameters(&req)?;
    match state.search.contact(id)? {
        Some(contact) => Ok(HttpResponse::Ok().json(json!({ "data": contact }))),
        None => Err(ApiError::not_found(format!("no contact with id {id}"))),
    }
}

pub async fn industries(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse> {
    let f = IndustryListRequest::parse(decode_query_string(req.query_string())?)?;
    let rows: Vec<_> = state
        .search
        .industries
        .rows()
        .iter()
        .filter(|r| f.levels.is_empty() || f.levels.contains(&r.level))
        .filter(|r| f.sections.is_empty() || f.sections.contains(&r.section))
        .filter(|r| f.parent_ids.is_empty() || r.parent_id.is_some_and(|p| f.parent_ids.contains(&p)))
        .filter(|r| {
            f.country_codes.is_empty() || r.country_code.is_some_and(|c| f.country_codes.contains(&c))
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "data": rows })))
}
