//! Scoped search keys through the real HTTP server: the scope holds on
//! every route, whatever the request adds, and a key minted in Python
//! with only the standard library is the same key.

mod common;

use std::sync::{Arc, OnceLock};

use common::{enc, world};
use kontakt::http::{self, AppState, Keys, ServerOptions};
use kontakt::model::Industries;
use kontakt::query::scope::{Restrictions, mint};
use serde_json::Value;

const PARENT: &str = "parent-read-key";
const ADMIN: &str = "admin-key";
const FAR: i64 = 4_000_000_000;

/// A server over the shared index with a read and an admin key.
fn base() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| serve_with(ServerOptions::default()))
}

fn serve_with(options: ServerOptions) -> String {
    let state = Arc::new(AppState {
        search: world().service.search.clone(),
        writes: None,
        keys: Keys::new(PARENT, ADMIN),
        max_body_bytes: http::DEFAULT_MAX_BODY_BYTES,
        replication: None,
    });
    common::serve_with(state, options)
}

fn scoped(filter: &str, max_limit: Option<usize>, hide: &[&str]) -> String {
    mint(
        PARENT,
        &Restrictions {
            expires: FAR,
            filter: filter.to_owned(),
            max_limit,
            hide: hide.iter().map(|s| s.to_string()).collect(),
        },
        Industries::bundled(),
    )
    .unwrap()
}

fn call(method: &str, base: &str, path: &str, key: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{base}{path}");
    let auth = format!("Bearer {key}");
    let mut resp = match method {
        "GET" => agent.get(&url).header("Authorization", &auth).call(),
        _ => agent
            .put(&url)
            .header("Authorization", &auth)
            .send("{}".as_bytes()),
    }
    .unwrap();
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn get(path: &str, key: &str) -> (u16, Value) {
    call("GET", base(), path, key)
}

fn ok(path: &str, key: &str) -> Value {
    let (status, body) = get(path, key);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn countries(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["company"]["country_code"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(body: &Value) -> Vec<u64> {
    common::ids(body)
}

#[test]
fn a_scoped_key_sees_only_its_country_in_results_facets_and_totals() {
    let se = scoped("country_code=SE", None, &[]);
    let full = ok("/v1/contacts?country_code=SE&limit=1", PARENT)["total"]
        .as_u64()
        .unwrap();
    let body = ok("/v1/contacts?facets=country_code&limit=100", &se);
    assert_eq!(body["total"].as_u64().unwrap(), full);
    let facet = body["facets"]["country_code"].as_object().unwrap();
    assert_eq!(facet.keys().collect::<Vec<_>>(), ["SE"]);
    assert_eq!(facet["SE"].as_u64().unwrap(), full);
    assert!(countries(&body).iter().all(|c| c == "SE"));
    // The request's own filters narrow, never widen.
    for (asked, total) in [
        ("country_code=NO", 0),
        ("country_code=SE,NO", full),
        ("exclude_country_code=SE", 0),
    ] {
        let b = ok(&format!("/v1/contacts?{asked}&facets=country_code"), &se);
        assert_eq!(b["total"].as_u64().unwrap(), total, "{asked}");
        assert!(countries(&b).iter().all(|c| c == "SE"), "{asked}");
    }
}

#[test]
fn walking_the_cursor_under_a_scope_yields_every_scoped_contact_once() {
    let se = scoped("country_code=SE&seniority_level=manager", None, &[]);
    let expected = common::walk_at(
        &world().base,
        "country_code=SE&seniority_level=manager&sort_by=created_at",
        100,
    );
    let mut got = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = ok(
            &format!("/v1/contacts?sort_by=created_at&limit=37{cursor}"),
            &se,
        );
        assert!(countries(&body).iter().all(|c| c == "SE"));
        got.extend(ids(&body));
        match body["pagination"]["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={}", enc(c)),
            None => break,
        }
    }
    assert!(expected.1.len() > 37, "the walk spans pages");
    assert_eq!(got, expected.1);
}

#[test]
fn a_cursor_made_under_another_key_is_refused() {
    let se = scoped("country_code=SE", None, &[]);
    let open = ok("/v1/contacts?limit=5", PARENT);
    let foreign = open["pagination"]["next_cursor"].as_str().unwrap();
    let (status, body) = get(
        &format!("/v1/contacts?limit=5&cursor={}", enc(foreign)),
        &se,
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    // Nor does a scoped cursor work under the parent key.
    let mine = ok("/v1/contacts?limit=5", &se);
    let mine = mine["pagination"]["next_cursor"].as_str().unwrap();
    let (status, _) = get(
        &format!("/v1/contacts?limit=5&cursor={}", enc(mine)),
        PARENT,
    );
    assert_eq!(status, 400);
}

#[test]
fn suggest_and_contact_lookups_stay_within_the_scope() {
    let se = scoped("country_code=SE", None, &[]);
    let body = ok("/v1/contacts/suggest?q=j%C3%B8rgen&limit=20", &se);
    // Jørgen Røed (9000002) and Jorgen Roed (9000003) work in Norway.
    let found = ids(&body);
    assert!(
        !found.contains(&9000002) && !found.contains(&9000003),
        "{body}"
    );
    assert!(countries(&body).iter().all(|c| c == "SE"));
    let body = ok("/v1/contacts/suggest?q=anna+sv", &se);
    assert_eq!(ids(&body)[0], 9000001);
    // Typo-tolerant fill-up too: `svenson` is one edit from Svensson.
    let body = ok("/v1/contacts/suggest?q=svenson&limit=20", &se);
    assert!(ids(&body).contains(&9000001));
    assert!(countries(&body).iter().all(|c| c == "SE"));

    assert_eq!(ok("/v1/contacts/9000001", &se)["data"]["id"], 9000001);
    let (status, body) = get("/v1/contacts/9000002", &se);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[test]
fn stale_contacts_stay_out_when_the_scope_excludes_them() {
    // Bo Åkesson (9000004) is stale, at a Swedish company.
    let fresh = scoped("country_code=SE&exclude_stale=true", None, &[]);
    let body = ok("/v1/contacts?q=bo&exclude_stale=false", &fresh);
    assert!(!ids(&body).contains(&9000004));
    assert_eq!(get("/v1/contacts/9000004", &fresh).0, 404);
    // A scope that does not mention staleness leaves the request's say.
    let any = scoped("country_code=SE", None, &[]);
    let body = ok("/v1/contacts?q=bo&exclude_stale=false", &any);
    assert!(ids(&body).contains(&9000004));
    assert!(!ids(&ok("/v1/contacts?q=bo", &any)).contains(&9000004));
    assert_eq!(get("/v1/contacts/9000004", &any).0, 200);
}

#[test]
fn repeating_a_parameter_the_scope_sets_cannot_widen_it() {
    let verified = scoped("verified=true&company_id=900001", None, &[]);
    let all = ok("/v1/contacts", &verified);
    assert_eq!(ids(&all), [9000001]);
    assert_eq!(ok("/v1/contacts?verified=false", &verified)["total"], 0);
    assert_eq!(ok("/v1/contacts?company_id=900004", &verified)["total"], 0);
    let (status, body) = get("/v1/contacts?verified=true&verified=false", &verified);
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (400, Some("verified"))
    );
}

#[test]
fn hidden_fields_are_left_out_of_every_answer_and_of_matches() {
    let key = scoped("country_code=SE", None, &["email", "phone"]);
    let body = ok("/v1/contacts?q=anna&highlight=true&limit=100", &key);
    assert!(!ids(&body).is_empty());
    for c in body["data"].as_array().unwrap() {
        assert!(c.get("email").is_none() && c.get("phone").is_none(), "{c}");
        assert!(c["_matches"].get("email").is_none(), "{c}");
        assert!(c["_matches"].get("full_name").is_some(), "{c}");
    }
    // Olle Berg (9000014) matches `anna` only through his email.
    assert!(!ids(&body).contains(&9000014));
    assert!(ids(&ok("/v1/contacts?q=anna&limit=100", PARENT)).contains(&9000014));
    let body = ok("/v1/contacts/suggest?q=anna", &key);
    for s in body["data"].as_array().unwrap() {
        assert!(s.get("email").is_none() && s["_matches"].get("email").is_none());
    }
    let c = ok("/v1/contacts/9000001", &key);
    assert!(c["data"].get("email").is_none());
    assert_eq!(c["data"]["full_name"], "Anna Svensson");
    // Filters, sorts and facets on hidden fields would reveal them.
    for (qs, parameter) in [
        ("has_email=true", "has_email"),
        ("has_phone=false", "has_phone"),
    ] {
        let (status, body) = get(&format!("/v1/contacts?{qs}"), &key);
        assert_eq!(
            (status, body["error"]["parameter"].as_str()),
            (400, Some(parameter))
        );
    }
    let dept = scoped("", None, &["department"]);
    let (status, body) = get("/v1/contacts?facets=Department", &dept);
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (400, Some("department"))
    );
}

#[test]
fn max_limit_caps_pages_and_refuses_larger_ones() {
    let key = scoped("country_code=SE", Some(5), &[]);
    assert_eq!(
        ok("/v1/contacts", &key)["data"].as_array().unwrap().len(),
        5
    );
    assert_eq!(
        ok("/v1/contacts?limit=3", &key)["data"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let (status, body) = get("/v1/contacts?limit=6", &key);
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (400, Some("limit"))
    );
    let (status, _) = get("/v1/contacts/suggest?q=anna&limit=6", &key);
    assert_eq!(status, 400);
}

#[test]
fn expired_altered_and_foreign_keys_are_unauthorized_and_scoped_keys_cannot_write() {
    let ind = Industries::bundled();
    let r = |expires| Restrictions {
        expires,
        filter: "country_code=SE".into(),
        max_limit: None,
        hide: Vec::new(),
    };
    let expired = mint(PARENT, &r(1_000), ind).unwrap();
    let foreign = mint("not-a-configured-key", &r(FAR), ind).unwrap();
    let good = mint(PARENT, &r(FAR), ind).unwrap();
    let mut altered = good.clone();
    altered.pop();
    altered.push(if good.ends_with('A') { 'B' } else { 'A' });
    for (key, says) in [
        (expired.as_str(), "expired"),
        (foreign.as_str(), "unknown"),
        (altered.as_str(), "unknown"),
    ] {
        for path in [
            "/v1/contacts",
            "/v1/contacts/suggest?q=anna",
            "/v1/contacts/9000001",
        ] {
            let (status, body) = get(path, key);
            assert_eq!(status, 401, "{path}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains(says),
                "{body}"
            );
        }
    }
    let (status, body) = call("PUT", base(), "/v1/contacts", &good);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

#[test]
fn scoped_keys_share_their_parents_rate_limit() {
    let base = serve_with(ServerOptions {
        rate_limit: Some(3),
        ..ServerOptions::default()
    });
    let a = scoped("country_code=SE", None, &[]);
    let b = scoped("country_code=NO", None, &[]);
    let statuses: Vec<u16> = [PARENT, &a, &b, &a]
        .iter()
        .map(|k| call("GET", &base, "/v1/industries?level=1", k).0)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
}

#[test]
fn a_key_minted_in_python_with_the_standard_library_is_the_same_key() {
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/scripts/mint_scoped_key.py"
        ))
        .args([
            base(),
            PARENT,
            "country_code=SE&verified=true",
            &FAR.to_string(),
            "20",
            "phone,email",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let python_key = lines.next().unwrap();
    assert_eq!(
        python_key,
        scoped(
            "country_code=SE&verified=true",
            Some(20),
            &["email", "phone"]
        )
    );
    let used: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let expected =
        ok("/v1/contacts?country_code=SE&verified=true&limit=1", PARENT)["total"].clone();
    assert_eq!(used["total"], expected);
    assert_eq!(
        used["countries"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["SE"]
    );
}

#[test]
fn every_field_of_a_contact_but_its_id_can_be_hidden() {
    // The hideable list is written out in `scope.rs`; a field added to the
    // record must join it, or a scope could not keep it from a browser.
    let page = ok("/v1/contacts?limit=1", PARENT);
    let record = page["data"][0].as_object().unwrap();
    let mut fields: Vec<&str> = record
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "id")
        .collect();
    fields.sort_unstable();
    let mut hideable = kontakt::query::scope::HIDEABLE.to_vec();
    hideable.sort_unstable();
    assert_eq!(fields, hideable);
}
