//! Table tests through the real HTTP server: every parameter, every error
//! code, the Nordic matching cases (docs/api.md, How text matches), the other endpoints.

mod common;

use common::{enc, get, ids, walk};
use serde_json::Value;

fn ok(path: &str) -> Value {
    let (status, body) = get(path);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn all_ids(query: &str) -> Vec<u64> {
    walk(query, 100).1
}

#[test]
fn nordic_matching_cases() {
    // q folds: jorgen finds Jørgen (and the unaccented Jorgen).
    let found = all_ids("q=jorgen&sort_by=quality_score");
    assert!(
        found.contains(&9000002) && found.contains(&9000003),
        "{found:?}"
    );
    // Accented query finds both too (rø → ro), and ranks the own letters first.
    let found = all_ids(&format!("q={}", enc("Jørgen Rø")));
    let pos = |id| found.iter().position(|x| *x == id).unwrap();
    assert!(pos(9000002) < pos(9000003), "{found:?}");
    // job_title is a substring of a compound word.
    let found = all_ids("job_title=chef&company_id=900001&exclude_stale=false");
    assert_eq!(found, vec![9000001, 9000004]);
    let found = all_ids("job_title=sjef&company_id=900002");
    assert_eq!(found, vec![9000002]);
    // acme.se finds every @acme.se address.
    let mut found = all_ids("q=acme.se&exclude_stale=false");
    found.sort();
    assert_eq!(found, vec![9000001, 9000004, 9000006]);
    // Þ and ð fold to th and d.
    assert_eq!(
        all_ids("q=thordis+gudm&exclude_speculative=false"),
        vec![9000005]
    );
    // Every q token must match (AND), as a prefix.
    assert_eq!(all_ids("q=ann+sv"), vec![9000001]);
    assert!(all_ids("q=nna").iter().all(|id| *id < 9000000));
    // department compares normalized whole values (`SÄLES` folds to `sales`);
    // no trimming, no prefix.
    let found = all_ids("department=sales&company_id=900001");
    assert_eq!(found, vec![9000001, 9000006]);
    assert!(all_ids("department=sale&company_id=900001").is_empty());
    assert!(all_ids(&format!("department={}&company_id=900001", enc(" sales"))).is_empty());
}

#[test]
fn returned_contacts_carry_every_field_and_utc_times() {
    let body = ok("/v1/contacts/9000003");
    let c = &body["data"];
    for field in [
        "id",
        "company_id",
        "full_name",
        "job_title",
        "email",
        "phone",
        "source",
        "source_url",
        "verified",
        "seniority_level",
        "email_status",
        "department",
        "quality_score",
        "confidence",
        "is_stale",
        "is_speculative",
        "created_at",
        "updated_at",
    ] {
        assert!(c.get(field).is_some(), "missing {field}: {c}");
    }
    assert_eq!(c["email"], Value::Null, "an empty string is stored as null");
    assert_eq!(c["created_at"], "2023-01-01T00:00:00.500Z");
    assert_eq!(c["company"]["name"], "Fjord AS");
    let c = &ok("/v1/contacts/9000005")["data"];
    assert_eq!(c["created_at"], "2021-01-01T05:00:00Z");
    // Stale and speculative contacts are still readable by id.
    assert_eq!(ok("/v1/contacts/9000004")["data"]["is_stale"], true);
}

#[test]
fn boolean_and_default_exclusions() {
    let stale = all_ids("exclude_stale=false&company_id=900001");
    assert!(stale.contains(&9000004));
    assert!(!all_ids("company_id=900001").contains(&9000004));
    assert!(!all_ids("company_id=900003").contains(&9000005));
    assert!(all_ids("company_id=900003&exclude_speculative=false").contains(&9000005));
    assert_eq!(all_ids("company_id=900002&has_phone=true"), vec![9000002]);
    assert_eq!(all_ids("company_id=900002&has_email=false"), vec![9000003]);
    assert_eq!(all_ids("company_id=900001&verified=true"), vec![9000001]);
}

#[test]
fn ranges_are_inclusive() {
    let found = all_ids("company_id=900001&min_quality_score=91&max_quality_score=91");
    assert_eq!(found, vec![9000001, 9000006]);
    let found = all_ids("company_id=900002&min_confidence=0.25&max_confidence=0.25");
    assert_eq!(found, vec![9000003]);
}

#[test]
fn industry_filters_describe_one_industry() {
    // 1889 is a Swedish level-5 code in section C; company 900002 has a
    // level-5 NO code in C and division 01 (section A, level 2).
    assert_eq!(
        all_ids("company_id=900002&industry_section=C&industry_level=5"),
        vec![9000002, 9000003]
    );
    assert!(all_ids("company_id=900002&industry_section=A&industry_level=5").is_empty());
    assert_eq!(
        all_ids("company_id=900002&industry_section=a&industry_level=2").len(),
        2
    );
    let c = ok("/v1/industries?level=1&section=C")["data"][0]["id"]
        .as_u64()
        .unwrap();
    assert_eq!(
        all_ids(&format!("company_id=900001&industry_id={c}")),
        vec![9000001, 9000006]
    );
    assert!(all_ids(&format!("company_id=900001&exclude_industry_id={c}")).is_empty());
    assert!(
        all_ids("company_id=900003&exclude_speculative=false&industry_level=1,2,3,4,5").is_empty()
    );
}

#[test]
fn sorting_ties_break_on_id() {
    // 9000001 and 9000006 tie on quality and confidence.
    for sort in ["quality_score", "confidence"] {
        for order in ["asc", "desc"] {
            let found = all_ids(&format!(
                "company_id=900001&sort_by={sort}&sort_order={order}"
            ));
            assert_eq!(found, vec![9000001, 9000006], "{sort} {order}");
        }
    }
    let found = all_ids("company_id=900001&sort_by=full_name&sort_order=asc&exclude_stale=false");
    assert_eq!(found, vec![9000001, 9000006, 9000004]);
    let found = all_ids("company_id=900001&sort_by=created_at&sort_order=asc&exclude_stale=false");
    assert_eq!(found, vec![9000004, 9000001, 9000006]);
}

#[test]
fn cursor_is_bound_to_the_query() {
    let body = ok("/v1/contacts?limit=5&country_code=SE,NO");
    let cursor = body["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // The same query spelled differently accepts it, with another limit.
    let (s, _) = get(&format!(
        "/v1/contacts?limit=7&country_code=no&country_code=se&sort_order=desc&cursor={}",
        enc(&cursor)
    ));
    assert_eq!(s, 200);
    for other in [
        "country_code=SE",
        "country_code=SE,NO&sort_by=confidence",
        "country_code=SE,NO&q=an",
        "country_code=SE,NO&verified=true",
    ] {
        let (s, body) = get(&format!("/v1/contacts?{other}&cursor={}", enc(&cursor)));
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (400, Some("invalid_cursor")),
            "{other}"
        );
    }
    let mut altered = cursor.clone().into_bytes();
    let i = altered.len() / 2;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let (s, body) = get(&format!(
        "/v1/contacts?country_code=SE,NO&cursor={}",
        enc(&altered)
    ));
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
}

#[test]
fn facets_count_all_matches() {
    let body = ok(
        "/v1/contacts?facets=country_code,industry_section,seniority_level,department,source,email_status&limit=1",
    );
    let total = body["total"].as_u64().unwrap();
    let countries: u64 = body["facets"]["country_code"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(countries, total, "every contact has exactly one country");
    let sources: u64 = body["facets"]["source"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sources, total);
    let body = ok("/v1/contacts?company_id=900001&facets=department,industry_section,email_status");
    assert_eq!(body["facets"]["department"]["sales"], 2, "{body}");
    assert_eq!(body["facets"]["industry_section"]["C"], 2);
    assert_eq!(
        body["facets"]["email_status"].as_object().unwrap().len(),
        1,
        "no status is not counted"
    );
    // Each facet value equals the total of the filtered query.
    let body = ok("/v1/contacts?facets=source&country_code=NO");
    for (source, n) in body["facets"]["source"].as_object().unwrap() {
        let t = ok(&format!(
            "/v1/contacts?country_code=NO&source={source}&limit=1"
        ))["total"]
            .as_u64();
        assert_eq!(Some(n.as_u64().unwrap()), t, "{source}");
    }
}

#[test]
fn highlight_offsets_are_in_the_unfolded_text() {
    let body = ok("/v1/contacts?q=jor&highlight=true&company_id=900002");
    for c in body["data"].as_array().unwrap() {
        assert_eq!(
            c["_matches"]["full_name"],
            serde_json::json!([[0, 3]]),
            "{c}"
        );
    }
    let body = ok("/v1/contacts?q=acme&highlight=true&company_id=900001");
    let anna = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == 9000001)
        .unwrap();
    assert_eq!(anna["_matches"]["email"], serde_json::json!([[14, 18]]));
    assert_eq!(anna["_matches"]["full_name"], serde_json::json!([]));
    assert!(
        ok("/v1/contacts?q=jor&company_id=900002")["data"][0]
            .get("_matches")
            .is_none()
    );
}

#[test]
fn error_codes_and_parameters() {
    let cases: &[(&str, u16, &str, Option<&str>)] = &[
        (
            "/v1/contacts?limit=0",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/contacts?limit=abc",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/contacts?limit=1&limit=2",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        (
            "/v1/contacts?min_quality_score=-1",
            400,
            "invalid_parameter",
            Some("min_quality_score"),
        ),
        (
            "/v1/contacts?max_confidence=NaN",
            400,
            "invalid_parameter",
            Some("max_confidence"),
        ),
        (
            "/v1/contacts?min_quality_score=60&max_quality_score=50",
            400,
            "invalid_parameter",
            Some("min_quality_score"),
        ),
        (
            "/v1/contacts?source=myspace",
            400,
            "invalid_parameter",
            Some("source"),
        ),
        (
            "/v1/contacts?seniority_level=boss",
            400,
            "invalid_parameter",
            Some("seniority_level"),
        ),
        (
            "/v1/contacts?email_status=bounced",
            400,
            "invalid_parameter",
            Some("email_status"),
        ),
        (
            "/v1/contacts?country_code=S",
            400,
            "invalid_parameter",
            Some("country_code"),
        ),
        (
            "/v1/contacts?exclude_country_code=S1",
            400,
            "invalid_parameter",
            Some("exclude_country_code"),
        ),
        (
            "/v1/contacts?industry_section=Z",
            400,
            "invalid_parameter",
            Some("industry_section"),
        ),
        (
            "/v1/contacts?industry_level=0",
            400,
            "invalid_parameter",
            Some("industry_level"),
        ),
        (
            "/v1/contacts?industry_id=x",
            400,
            "invalid_parameter",
            Some("industry_id"),
        ),
        (
            "/v1/contacts?exclude_industry_id=0",
            400,
            "invalid_parameter",
            Some("exclude_industry_id"),
        ),
        (
            "/v1/contacts?verified=1",
            400,
            "invalid_parameter",
            Some("verified"),
        ),
        (
            "/v1/contacts?exclude_stale=no",
            400,
            "invalid_parameter",
            Some("exclude_stale"),
        ),
        (
            "/v1/contacts?sort_by=id",
            400,
            "invalid_parameter",
            Some("sort_by"),
        ),
        (
            "/v1/contacts?sort_order=up",
            400,
            "invalid_parameter",
            Some("sort_order"),
        ),
        (
            "/v1/contacts?facets=name",
            400,
            "invalid_parameter",
            Some("facets"),
        ),
        (
            "/v1/contacts?highlight=maybe",
            400,
            "invalid_parameter",
            Some("highlight"),
        ),
        (
            "/v1/contacts?company_id=1.5",
            400,
            "invalid_parameter",
            Some("company_id"),
        ),
        ("/v1/contacts?q=%E0%A4", 400, "invalid_parameter", Some("q")),
        ("/v1/contacts?q=%zz", 400, "invalid_parameter", Some("q")),
        (
            "/v1/contacts?cursor=abc",
            400,
            "invalid_cursor",
            Some("cursor"),
        ),
        (
            "/v1/contacts?nme=anna",
            400,
            "unknown_parameter",
            Some("nme"),
        ),
        (
            "/v1/contacts/suggest?cursor=x",
            400,
            "unknown_parameter",
            Some("cursor"),
        ),
        (
            "/v1/contacts/suggest?q=an&limit=21",
            400,
            "invalid_parameter",
            Some("limit"),
        ),
        ("/v1/contacts/abc", 400, "invalid_parameter", Some("id")),
        ("/v1/contacts/123456789", 404, "not_found", None),
        (
            "/v1/industries?level=9",
            400,
            "invalid_parameter",
            Some("level"),
        ),
        ("/v1/nothing", 404, "not_found", None),
    ];
    for (path, status, code, param) in cases {
        let (s, body) = get(path);
        assert_eq!(s, *status, "{path}: {body}");
        assert_eq!(
            body["error"]["code"].as_str(),
            Some(*code),
            "{path}: {body}"
        );
        assert_eq!(
            body["error"]["parameter"].as_str(),
            *param,
            "{path}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let (_, body) = get("/v1/contacts?nme=anna");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("industry_section")
    );
    let long: String = "ö".repeat(257);
    let (s, body) = get(&format!("/v1/contacts?q={}", enc(&long)));
    assert_eq!((s, body["error"]["parameter"].as_str()), (400, Some("q")));
    // 256 multi-byte characters are fine: the limit counts characters.
    let (s, _) = get(&format!("/v1/contacts?q={}", enc(&"ö".repeat(256))));
    assert_eq!(s, 200);
    let many = vec!["SE"; 101].join(",");
    let (s, body) = get(&format!("/v1/contacts?country_code={many}"));
    assert_eq!(
        (s, body["error"]["parameter"].as_str()),
        (400, Some("country_code"))
    );
}

#[test]
fn hostile_input_never_breaks_the_server() {
    let big = "x".repeat(8 * 1024);
    for q in [
        "\"anna\"",
        "*",
        "ann*",
        "name:anna",
        "anna OR bo",
        "[a TO z]",
        "'; DROP TABLE contacts; --",
        "\u{0}anna",
        &big,
        "(((",
        "\\",
    ] {
        let (s, body) = get(&format!("/v1/contacts?q={}", enc(q)));
        assert!(s == 200 || s == 400, "{q:?} → {s} {body}");
        let (s, _) = get(&format!("/v1/contacts/suggest?q={}", enc(q)));
        assert!(s == 200 || s == 400, "{q:?} → {s}");
        let (s, _) = get(&format!("/v1/contacts?job_title={}", enc(q)));
        assert!(s == 200 || s == 400, "{q:?} → {s}");
        let (s, _) = get(&format!("/v1/contacts?department={}", enc(q)));
        assert!(s == 200 || s == 400, "{q:?} → {s}");
    }
    // Lucene syntax is just text: `anna OR bo` asks for all three tokens.
    let (_, body) = get("/v1/contacts?q=anna+OR+bo");
    assert_eq!(body["total"], 0);
}

#[test]
fn empty_values_are_absent_and_punctuation_q_is_absent() {
    let all = ok("/v1/contacts?limit=1")["total"].as_u64().unwrap();
    assert_eq!(
        ok("/v1/contacts?limit=1&q=&source=&country_code=,,")["total"].as_u64(),
        Some(all)
    );
    assert_eq!(
        ok("/v1/contacts?limit=1&q=%21%21%21")["total"].as_u64(),
        Some(all)
    );
    assert_eq!(
        ok("/v1/contacts?limit=1&job_title=--")["total"].as_u64(),
        Some(all)
    );
    assert_eq!(ok("/v1/contacts?country_code=XX")["total"], 0);
    // Codes may have spaces around them, so an item of spaces is empty.
    let se_no = ok("/v1/contacts?limit=1&country_code=SE,NO")["total"].as_u64();
    assert!(se_no.is_some_and(|n| n > 0 && n < all));
    assert_eq!(
        ok("/v1/contacts?limit=1&country_code=SE,%20,NO,%20")["total"].as_u64(),
        se_no
    );
    // Empty items are not values: they count toward no limit.
    let padded = format!(
        "/v1/contacts?limit=1&country_code=SE,NO{}",
        ",%20".repeat(150)
    );
    assert_eq!(ok(&padded)["total"].as_u64(), se_no);
}

#[test]
fn other_endpoints() {
    assert_eq!(ok("/health")["status"], "ok");
    let ready = ok("/ready");
    assert_eq!(ready["status"], "ready");
    // Its contact count leaves the company records out.
    let everyone = ok("/v1/contacts?exclude_stale=false&exclude_speculative=false&limit=1");
    assert_eq!(ready["contacts"], everyone["total"]);
    assert_eq!(
        ready["contacts"].as_u64(),
        Some(common::world().contacts.len() as u64)
    );
    let all = ok("/v1/industries")["data"].as_array().unwrap().len();
    assert_eq!(all, 3373);
    let rows = ok("/v1/industries?level=5&country_code=no,se")["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), 820 + 821);
    assert!(
        rows.iter()
            .all(|r| r["level"] == 5 && (r["country_code"] == "NO" || r["country_code"] == "SE"))
    );
    let sections = ok("/v1/industries?level=1")["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(sections.len(), 21);
    assert!(
        sections
            .iter()
            .all(|r| r["parent_id"].is_null() && r["country_code"].is_null())
    );
    let c = sections.iter().find(|r| r["code"] == "C").unwrap()["id"]
        .as_u64()
        .unwrap();
    let divisions = ok(&format!("/v1/industries?parent_id={c}"))["data"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        !divisions.is_empty()
            && divisions
                .iter()
                .all(|r| r["section"] == "C" && r["level"] == 2)
    );
    let ids: Vec<u64> = ok("/v1/industries?section=c")["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "id order");
}

#[test]
fn suggest_returns_small_items_strict_first_then_fuzzy() {
    let body = ok("/v1/contacts/suggest?q=jorgen&limit=3");
    let data = body["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 3);
    for item in data {
        assert!(
            item.get("company").is_some()
                && item.get("_matches").is_some()
                && item.get("fuzzy").is_some()
        );
        assert!(item.get("quality_score").is_none(), "items are small");
    }
    // A typo: svensson → svenson is one edit away.
    let body = ok("/v1/contacts/suggest?q=anna+svenson&limit=20&company_id=900001");
    let data = body["data"].as_array().unwrap();
    let anna = data
        .iter()
        .find(|c| c["id"] == 9000001)
        .expect("fuzzy fill-up finds Anna Svensson");
    assert_eq!(anna["fuzzy"], true);
    // Strict ones come first.
    let body = ok("/v1/contacts/suggest?q=anna&limit=20&company_id=900001");
    let flags: Vec<bool> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fuzzy"].as_bool().unwrap())
        .collect();
    assert!(flags.windows(2).all(|w| !w[0] || w[1]), "{flags:?}");
    assert_eq!(ids(&body)[0], 9000001);
}

#[test]
fn relevance_order_follows_the_readme() {
    // Exact token + start of name (tie broken by id), exact token later in
    // the name, prefix only (despite its higher quality), email only last.
    assert_eq!(
        all_ids("q=anna&company_id=900004"),
        vec![9000011, 9000015, 9000013, 9000012, 9000014]
    );
    // Own letters beat quality; without accents in q, quality decides.
    assert_eq!(
        all_ids(&format!("q={}&company_id=900004", enc("rø"))),
        vec![9000017, 9000016]
    );
    assert_eq!(all_ids("q=ro&company_id=900004"), vec![9000016, 9000017]);
    // The cursor pages through relevance order like any other.
    assert_eq!(
        walk("q=anna&company_id=900004", 2).1,
        vec![9000011, 9000015, 9000013, 9000012, 9000014]
    );
    // An explicit sort replaces relevance.
    assert_eq!(
        all_ids("q=anna&company_id=900004&sort_by=quality_score"),
        vec![9000014, 9000012, 9000013, 9000011, 9000015]
    );
    // Start of name is `normalize(full_name)` starting with the token, so a
    // name that begins with punctuation or a space does not start with it.
    assert_eq!(
        all_ids("q=anna&company_id=900005"),
        vec![9000020, 9000018, 9000019, 9000021]
    );
    // A q of 150 characters folds to a 300-letter token (æ → ae): its
    // prefix is indexed too.
    let ae = "æ".repeat(150);
    assert_eq!(all_ids(&format!("q={}", enc(&ae))), vec![9000022]);
    // İ lower-cases to i, as Lucene does: one token, not `i` + `lker`.
    assert_eq!(all_ids("q=ilker"), vec![9000021]);
    assert_eq!(all_ids("q=lker&company_id=900005"), Vec::<u64>::new());
    let body = ok("/v1/contacts?q=ilk&company_id=900005&highlight=true");
    assert_eq!(
        body["data"][0]["_matches"]["full_name"],
        serde_json::json!([[0, 3]])
    );
    // Highlight on folded letters points at the original characters.
    let body = ok(&format!(
        "/v1/contacts?q={}&company_id=900004&highlight=true",
        enc("ost")
    ));
    assert_eq!(
        body["data"][0]["_matches"]["full_name"],
        serde_json::json!([[5, 8]])
    );
}

#[test]
fn suggest_takes_filters_and_limits() {
    let body = ok("/v1/contacts/suggest?q=anna&company_id=900004&limit=2");
    assert_eq!(ids(&body), vec![9000011, 9000015]);
    let body = ok("/v1/contacts/suggest?q=anna&company_id=900004");
    assert_eq!(
        ids(&body),
        vec![9000011, 9000015, 9000013, 9000012, 9000014]
    );
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["fuzzy"] == false)
    );
    let body = ok("/v1/contacts/suggest?q=anna&company_id=900004&country_code=NO");
    assert!(body["data"].as_array().unwrap().is_empty());
    // Short tokens get no typo tolerance: `anja` does not find Anna.
    let body = ok("/v1/contacts/suggest?q=anja&company_id=900004");
    assert!(body["data"].as_array().unwrap().is_empty());
    // A typo in a 5+ letter token: one edit.
    let body = ok("/v1/contacts/suggest?q=annebel&company_id=900004");
    assert_eq!(ids(&body), vec![9000012]);
    assert_eq!(body["data"][0]["fuzzy"], true);
    let (status, _) = get("/v1/contacts/suggest?q=anna&limit=0");
    assert_eq!(status, 400);
    assert_eq!(ok("/v1/contacts/suggest")["data"], serde_json::json!([]));
}

#[test]
fn api_edges_found_in_review() {
    // highlight=true: every contact carries `_matches`, even without q.
    let body = ok("/v1/contacts?highlight=true&limit=2");
    for c in body["data"].as_array().unwrap() {
        assert_eq!(
            c["_matches"],
            serde_json::json!({"full_name": [], "email": []})
        );
    }
    // Numeric ids that cannot exist are not found; others are invalid.
    assert_eq!(get("/v1/contacts/0").0, 404);
    let (s, body) = get("/v1/contacts/99999999999999999999999");
    assert_eq!(s, 404);
    assert_eq!(
        body["error"]["message"],
        "no contact with id 99999999999999999999999"
    );
    assert_eq!(get("/v1/contacts/-1").0, 400);
    // An unknown parameter is refused whatever its value.
    let (s, body) = get("/v1/contacts?nosuch=");
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (400, Some("unknown_parameter"))
    );
    // Outside relevance order, q's token order is not part of its meaning.
    let first = ok("/v1/contacts?q=an+a&sort_by=full_name&limit=1");
    let cursor = first["pagination"]["next_cursor"].as_str().unwrap();
    let (s, _) = get(&format!(
        "/v1/contacts?q=a+AN&sort_by=full_name&cursor={}",
        enc(cursor)
    ));
    assert_eq!(s, 200);
}
