//! Property-based fuzzing of the query-parameter parser, run by `cargo
//! test` on stable (the coverage-guided `cargo fuzz` target in `fuzz/`
//! needs nightly). Whatever a client sends, parsing must not panic, and a
//! refusal must name the parameter at fault. Names and edge values come from
//! the parameter table (`query::param_defs`), which also writes the fuzz
//! dictionary here.

use kontakt::model::Industries;
use kontakt::query::param_defs::{Item, Kind, LEVELS, MAX_LIST_VALUES, MAX_Q_CHARS, PARAMS};
use kontakt::query::params::decode_query_string;
use kontakt::query::request::{IndustryListRequest, SearchRequest, SuggestRequest};
use proptest::prelude::*;

/// Every parameter name, once.
fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = PARAMS.iter().map(|p| p.name).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Values of a parameter of `kind` at and just past the edges of what it
/// takes: every vocabulary value, the bounds and one beyond.
fn edges(kind: Kind) -> Vec<String> {
    let item = |item: Item| -> Vec<String> {
        match item {
            Item::Of(vocab) => vocab.values().into_iter().map(str::to_owned).collect(),
            Item::IndustryId => vec!["1".into(), "3377".into(), "999999".into()],
            Item::AnyIndustryId => vec!["0".into(), "4294967296".into()],
            Item::Section => vec!["C".into(), "U".into(), "V".into()],
            Item::Level => {
                let (lo, hi) = (*LEVELS.start(), *LEVELS.end());
                vec![lo.to_string(), hi.to_string(), (hi + 1).to_string()]
            }
            Item::Country => ["SE", "NO", "DK", "FI", "IS", "SWE"]
                .map(String::from)
                .to_vec(),
            Item::Text => vec![",,".into()],
        }
    };
    match kind {
        Kind::Id => vec!["0".into(), "1".into(), "18446744073709551616".into()],
        Kind::Text => vec!["%C3%B8".into()],
        Kind::Bool => ["true", "false", "TRUE", "yes"].map(String::from).to_vec(),
        Kind::Int { min, max } => {
            let mut v = vec![min.to_string(), max.to_string(), (max + 1).to_string()];
            if min > 0 {
                v.push((min - 1).to_string());
            }
            v
        }
        Kind::Fraction => ["0", "1.0", "-0", "NaN", "inf", "1e308", "1.5"]
            .map(String::from)
            .to_vec(),
        Kind::One(vocab) => item(Item::Of(vocab)),
        Kind::Token => Vec::new(),
        Kind::List(i) => item(i),
    }
}

/// The edge values of every parameter, once each.
fn words() -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in PARAMS.iter().flat_map(|p| edges(p.kind)) {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words
}

/// Values near the edges of what the parser accepts.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+0-9.eE]{0,24}",
        "[A-Za-z, ]{0,12}",
        Just("%".to_owned()),
        Just("%C3".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("Ø".repeat(MAX_Q_CHARS + 44)),
        Just(vec!["SE"; MAX_LIST_VALUES + 1].join(",")),
        Just("relevance".to_owned()),
        proptest::sample::select(words()),
    ]
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A query string of known and unknown names, values raw or encoded.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        4 => proptest::sample::select(names()).prop_map(str::to_owned),
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

/// The libFuzzer dictionary of `fuzz/` (see its README), built from the
/// parameter table: every name, every edge value, and the characters the
/// decoder treats specially.
fn dictionary() -> String {
    let mut out = String::from(
        "# libFuzzer dictionary for fuzz_targets/params.rs: names and values the parser knows.\n\
         # Written by tests/params_fuzz.rs from the parameter table \
         (UPDATE_FUZZ_DICT=1 cargo test --test params_fuzz).\n",
    );
    let syntax = ["%C3%B8", "%zz", "+", ",,", "&", "="].map(String::from);
    let names = names().into_iter().map(|n| format!("{n}="));
    let mut seen: Vec<String> = Vec::new();
    for word in names.chain(words()).chain(syntax) {
        if !seen.contains(&word) {
            out.push_str(&format!("\"{word}\"\n"));
            seen.push(word);
        }
    }
    out
}

#[test]
fn the_fuzz_dictionary_is_written_from_the_parameter_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/params.dict");
    let expected = dictionary();
    if std::env::var_os("UPDATE_FUZZ_DICT").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let found = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        found, expected,
        "fuzz/params.dict is stale: run UPDATE_FUZZ_DICT=1 cargo test --test params_fuzz"
    );
}

#[test]
fn every_edge_value_is_accepted_or_refused_by_name() {
    // The table's kinds and its readers agree: each edge value of each
    // parameter is either taken, or refused naming that parameter.
    for p in PARAMS {
        for v in edges(p.kind) {
            check(&format!("{}={v}", p.name));
        }
    }
}
