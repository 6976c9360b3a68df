//! The HTTP surface (actix-web). Handlers only decode, call `search`, and
//! encode; every rule lives in `query` and `search`.

pub mod error;
mod handlers;

use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::search::SearchService;
pub use error::ApiError;

/// Shared state of the handlers.
pub struct AppState {
    pub search: SearchService,
}

/// Registers every route on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(handlers::health))
        .route("/ready", web::get().to(handlers::ready))
        .route("/v1/contacts", web::get().to(handlers::search))
        .route("/v1/contacts/suggest", web::get().to(handlers::suggest))
        .route("/v1/contacts/{id}", web::get().to(handlers::contact))
        .route("/v1/industries", web::get().to(handlers::industries));
}

/// The JSON 404 for every unknown route or method.
async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("no such endpoint"))
}

/// Query strings and paths that actix itself refuses still get JSON.
fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", e.to_string()).into()
    })
}

/// Serves on `listener`; the caller awaits the returned `Server` inside an
/// actix system.
pub fn server(state: Arc<AppState>, listener: std::net::TcpListener) -> std::io::Result<Server> {
    let data = web::Data::from(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(query_config())
            .wrap(actix_web::middleware::NormalizePath::trim())
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
