//! Coverage-guided fuzzing of the query-parameter parser:
//! `cargo +nightly fuzz run params` (see README in this folder).
//! Any input must be decoded or refused without a panic, and a refusal must
//! name a parameter that was sent.
#![no_main]

use kontakt::model::Industries;
use kontakt::query::params::decode_query_string;
use kontakt::query::request::{IndustryListRequest, SearchRequest, SuggestRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The server hands the parser the raw query string, which is text.
    let qs = String::from_utf8_lossy(data);
    let Ok(pairs) = decode_query_string(&qs) else {
        return;
    };
    let industries = Industries::bundled();
    for result in [
        SearchRequest::parse(pairs.clone(), industries).map(drop),
        SuggestRequest::parse(pairs.clone(), industries).map(drop),
        IndustryListRequest::parse(pairs.clone()).map(drop),
    ] {
        if let Err(e) = result {
            assert!(
                pairs.iter().any(|(name, _)| *name == e.parameter),
                "error names `{}`, which was not sent",
                e.parameter
            );
        }
    }
});
