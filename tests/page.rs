//! The search page at `GET /`, and `--no-ui` leaving it out.

mod common;

use std::sync::Arc;

use common::world;
use kontakt::http::{AppState, ServerOptions};

fn serve(options: ServerOptions) -> String {
    let state = AppState::read_only(world().service.search.clone());
    common::serve_with(Arc::new(state), options)
}

fn fetch(url: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent.get(url).call().unwrap();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.body_mut().read_to_string().unwrap();
    (resp.status().as_u16(), kind, body)
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary() {
    let base = serve(ServerOptions::default());
    let (status, kind, body) = fetch(&format!("{base}/"));
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains(r#"<script type="module" src="/ui/app.js">"#));
    // Nothing is loaded from elsewhere (no CDN).
    for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!body.contains(attr), "{attr}");
    }
    let (status, kind, body) = fetch(&format!("{base}/ui/app.js"));
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/javascript; charset=utf-8")
    );
    assert!(body.contains("AbortController"));
    let (status, kind, _) = fetch(&format!("{base}/ui/app.css"));
    assert_eq!((status, kind.as_str()), (200, "text/css; charset=utf-8"));
}

#[test]
fn without_the_ui_the_root_is_the_json_404() {
    let base = serve(ServerOptions {
        no_ui: true,
        ..ServerOptions::default()
    });
    for path in ["/", "/ui/app.js"] {
        let (status, kind, body) = fetch(&format!("{base}{path}"));
        assert_eq!((status, kind.as_str()), (404, "application/json"), "{path}");
        assert!(body.contains("not_found"));
    }
}
