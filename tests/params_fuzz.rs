//! Property-based fuzzing of the query-parameter parser, run by `cargo
//! test` on stable (the coverage-guided `cargo fuzz` target in `fuzz/`
//! needs nightly). Whatever a client sends, parsing must not panic, and a
//! refusal must name the parameter at fault.

use kontakt::model::Industries;
use kontakt::query::params::{
    IndustryListRequest, SearchRequest, SuggestRequest, decode_query_string,
};
use proptest::prelude::*;

const NAMES: &[&str] = &[
    "company_id",
    "q",
    "source",
    "verified",
    "has_email",
    "has_phone",
    "department",
    "job_title",
    "seniority_level",
    "min_quality_score",
    "max_quality_score",
    "min_confidence",
    "max_confidence",
    "email_status",
    "exclude_stale",
    "exclude_speculative",
    "industry_id",
    "industry_section",
    "industry_level",
    "country_code",
    "exclude_industry_id",
    "exclude_country_code",
    "sort_by",
    "sort_order",
    "cursor",
    "limit",
    "facets",
    "highlight",
    "level",
    "section",
    "parent_id",
];

/// Values near the edges of what the parser accepts.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+0-9.eE]{0,24}",
        "[A-Za-z, ]{0,12}",
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-0".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("1e308".to_owned()),
        Just(",,,".to_owned()),
        Just("%".to_owned()),
        Just("%C3".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("Ø".repeat(300)),
        Just(vec!["SE"; 101].join(",")),
        "(true|false|TRUE|yes|0|1)",
        "(quality_score|confidence|created_at|full_name|relevance|asc|desc)",
    ]
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query string of known and unknown names, values raw or encoded.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => proptest::sample::select(NAMES).prop_map(str::to_owned),
        1 => any::<String>(),
    ];
    let pair = (name, value(), any::<bool>()).prop_map(|(n, v, raw)| {
        if raw {
            format!("{n}={v}")
        } else {
            format!("{}={}", encode(&n), encode(&v))
        }
    });
    prop::collection::vec(pair, 0..12).prop_map(|pairs| pairs.join("&"))
}

fn check(qs: &str) {
    let industries = Industries::bundled();
    let Ok(pairs) = decode_query_string(qs) else {
        return;
    };
    for result in [
        SearchRequest::parse(pairs.clone(), industries).map(drop),
        SuggestRequest::parse(pairs.clone(), industries).map(drop),
        IndustryListRequest::parse(pairs.clone()).map(drop),
    ] {
        if let Err(e) = result {
            assert!(
                pairs.iter().any(|(name, _)| *name == e.parameter),
                "{qs:?}: error names `{}`, which was not sent",
                e.parameter
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn structured_queries_never_panic(qs in query()) {
        check(&qs);
    }

    #[test]
    fn arbitrary_text_never_panics(qs in any::<String>()) {
        check(&qs);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes));
    }
}
