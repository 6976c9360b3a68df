//! The search page at `GET /` (HTML, CSS and JavaScript embedded in the
//! binary: no CDN, no build step). `kontakt serve --no-ui` leaves these
//! routes out, so `/` is the JSON 404 like any unknown route.
//!
//! The page only calls the public API with the key the user enters, so it
//! needs no key itself; its content security policy allows nothing but
//! this server.

use actix_web::{HttpResponse, web};

const INDEX: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/app.css");

/// Only this server's own scripts, styles and API; inline styles for the
/// favicon's data URL image.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

async fn index() -> HttpResponse {
    asset("text/html; charset=utf-8", INDEX)
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

/// Registers the page's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/ui/app.js", web::get().to(script))
        .route("/ui/app.css", web::get().to(style));
}
