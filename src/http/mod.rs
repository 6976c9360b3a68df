//! The HTTP surface (actix-web). Handlers only check the key, decode, call
//! `search` or `write`, and encode; every rule lives in `query`, `search`
//! and `write`.
//!
//! Around the routes, from the outside in: `observe` (log line, metrics,
//! JSON for every error), CORS, path normalization, the rate limit, the
//! request timeout. The search page (`ui`) is served at `/` unless turned
//! off.

pub mod auth;
pub mod cors;
pub mod error;
mod handlers;
pub mod limits;
pub mod observe;
pub mod openapi;
pub mod schema;
mod ui;

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::search::SearchService;
use crate::write::WriteService;
pub use auth::Keys;
pub use cors::CorsOrigins;
pub use error::ApiError;
use limits::{Limits, RateLimiter};

/// The default body limit of write requests.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;

/// Shared state of the handlers.
pub struct AppState {
    pub search: Arc<SearchService>,
    /// `None` when the server was started read-only.
    pub writes: Option<WriteService>,
    pub keys: Keys,
    pub max_body_bytes: usize,
    /// Set when this server publishes to or follows an object store.
    pub replication: Option<Arc<crate::replicate::Status>>,
}

impl AppState {
    /// A read-only state with open reads (tests, tools).
    pub fn read_only(search: Arc<SearchService>) -> AppState {
        AppState {
            search,
            writes: None,
            keys: Keys::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            replication: None,
        }
    }
}

/// The operational settings of `serve` (all off by default).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Requests per second (and burst) per key or client address.
    pub rate_limit: Option<u32>,
    pub cors: CorsOrigins,
    pub request_timeout: Option<Duration>,
    /// Leave out the search page at `/` (`--no-ui`).
    pub no_ui: bool,
}

/// Registers every route on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(handlers::health))
        .route("/ready", web::get().to(handlers::ready))
        .route("/metrics", web::get().to(handlers::metrics))
        .route("/openapi.json", web::get().to(openapi::serve))
        .route("/v1/contacts", web::get().to(handlers::search))
        .route("/v1/contacts", web::put().to(handlers::put_contacts))
        .route("/v1/contacts/suggest", web::get().to(handlers::suggest))
        .route("/v1/contacts/{id}", web::get().to(handlers::contact))
        .route(
            "/v1/contacts/{id}",
            web::delete().to(handlers::delete_contact),
        )
        .route("/v1/companies", web::put().to(handlers::put_companies))
        .route(
            "/v1/companies/{id}",
            web::delete().to(handlers::delete_company),
        )
        .route("/v1/industries", web::get().to(handlers::industries));
}

/// The JSON 404 for every unknown route or method.
async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("no such endpoint"))
}

/// Serves on `listener` with the default options; see [`server_with`].
pub fn server(state: Arc<AppState>, listener: std::net::TcpListener) -> std::io::Result<Server> {
    server_with(state, listener, ServerOptions::default())
}

/// Serves on `listener`; the caller awaits the returned `Server` inside an
/// actix system. SIGTERM and SIGINT stop it gracefully: no new connections,
/// requests in flight (and their writes) finish first.
pub fn server_with(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
    options: ServerOptions,
) -> std::io::Result<Server> {
    let data = web::Data::from(state);
    // One set of buckets for all workers, or a client would get one per worker.
    let limits = web::Data::new(Limits {
        rate: options.rate_limit.filter(|n| *n > 0).map(RateLimiter::new),
        request_timeout: options.request_timeout.filter(|t| !t.is_zero()),
    });
    let cors = options.cors;
    let ui = !options.no_ui;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(limits.clone())
            .wrap(from_fn(limits::timeout))
            .wrap(from_fn(limits::rate_limit))
            .wrap(actix_web::middleware::NormalizePath::trim())
            .wrap(cors.middleware())
            .wrap(from_fn(observe::observe))
            .configure(configure)
            .configure(|cfg| {
                if ui {
                    ui::configure(cfg);
                }
            })
            .default_service(web::to(not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
