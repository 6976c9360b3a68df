//! Query string → validated, typed requests (docs/api.md, Parameters).
//!
//! This is the only place that reads raw parameters: it decodes the query
//! string, refuses unknown names, and hands each parameter of the endpoint
//! to its definition in `param_defs`. What comes out are the `request`
//! types, whose filter and sort parts are already in canonical form.

use std::collections::BTreeMap;

use super::param_defs::{self, Arg, Draft, Endpoint, Item, Kind};
pub use super::param_defs::{MAX_LIST_VALUES, MAX_Q_CHARS, ParamError, ParamErrorKind};
use super::request::{Filters, IndustryListRequest, SearchRequest, Sort, SortKey, SuggestRequest};
use crate::model::Industries;

/// Splits a raw query string into decoded `(name, value)` pairs.
///
/// `+` is a space; a `%` must start a valid escape and the result must be
/// UTF-8. Pairs with an empty value are kept (an unknown name is refused
/// whatever its value) and dropped by the parsers: the API treats them
/// as absent.
pub fn decode_query_string(raw: &str) -> Result<Vec<(String, String)>, ParamError> {
    let mut out = Vec::new();
    for piece in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        let name = decode_component(name).map_err(|why| {
            ParamError::invalid(
                &String::from_utf8_lossy(name.as_bytes()),
                format!("parameter name {why}"),
            )
        })?;
        let value = decode_component(value)
            .map_err(|why| ParamError::invalid(&name, format!("value {why}")))?;
        out.push((name, value));
    }
    Ok(out)
}

fn decode_component(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or("has a malformed percent-escape")?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "is not valid UTF-8")
}

/// Reads `pairs` as `endpoint` takes them: unknown names are refused,
/// then every parameter of the endpoint is read, in the table's order.
fn read(
    pairs: Vec<(String, String)>,
    endpoint: Endpoint,
    industries: &Industries,
) -> Result<Draft, ParamError> {
    let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        if !param_defs::taken_by(endpoint).any(|p| p.name == name) {
            let accepted: Vec<&str> = param_defs::taken_by(endpoint).map(|p| p.name).collect();
            return Err(ParamError {
                kind: ParamErrorKind::Unknown,
                message: format!(
                    "unknown parameter `{name}`; accepted parameters: {}",
                    accepted.join(", ")
                ),
                parameter: name,
            });
        }
        let entry = values.entry(name).or_default();
        if !value.is_empty() {
            entry.push(value);
        }
    }
    let mut draft = Draft::default();
    for param in param_defs::taken_by(endpoint) {
        let arg = Arg {
            param,
            values: values.get(param.name).map_or(&[][..], Vec::as_slice),
            industries,
            scope: endpoint == Endpoint::Scope,
        };
        (param.read)(&arg, &mut draft)?;
    }
    Ok(draft)
}

impl SearchRequest {
    pub fn parse(
        pairs: Vec<(String, String)>,
        industries: &Industries,
    ) -> Result<Self, ParamError> {
        let d = read(pairs, Endpoint::Search, industries)?;
        let sort = match d.sort_by {
            Some(key) => Sort {
                key,
                descending: d.descending.unwrap_or(true),
            },
            None if d.filters.q.is_some() => Sort {
                key: SortKey::Relevance,
                descending: true,
            },
            None => Sort {
                key: SortKey::QualityScore,
                descending: d.descending.unwrap_or(true),
            },
        };
        Ok(SearchRequest {
            filters: d.filters,
            sort,
            cursor: d.cursor,
            limit: d.limit.unwrap_or(50) as usize,
            facets: d.facets,
            highlight: d.highlight.unwrap_or(false),
            scope: None,
        })
    }
}

impl SuggestRequest {
    pub fn parse(
        pairs: Vec<(String, String)>,
        industries: &Industries,
    ) -> Result<Self, ParamError> {
        let d = read(pairs, Endpoint::Suggest, industries)?;
        Ok(SuggestRequest {
            filters: d.filters,
            limit: d.limit.unwrap_or(8) as usize,
            scope: None,
        })
    }
}

/// The filters of a scoped key (`crate::query::scope`): the filter parameters of
/// `/v1/contacts`, read by the same parser. `exclude_stale` and
/// `exclude_speculative` restrict only when given as `true`: a request's
/// defaults are not the key's restrictions.
pub fn scope_filters(
    pairs: Vec<(String, String)>,
    industries: &Industries,
) -> Result<Filters, ParamError> {
    Ok(read(pairs, Endpoint::Scope, industries)?.filters)
}

/// The names of the parameters given with a value, and the field names
/// among their values (`facets`, `sort_by`): a scoped key checks them
/// against its hidden fields.
pub fn given_names(pairs: &[(String, String)]) -> Vec<String> {
    let names_fields = |name: &str| {
        param_defs::PARAMS.iter().any(|p| {
            p.name == name
                && matches!(p.kind, Kind::One(v) | Kind::List(Item::Of(v)) if v.names_fields())
        })
    };
    let mut out = Vec::new();
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(name.clone());
        // Their values are matched in any case.
        if names_fields(name) {
            out.extend(value.split(',').map(|v| v.trim().to_ascii_lowercase()));
        }
    }
    out
}

impl IndustryListRequest {
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ParamError> {
        // No industry parameter is checked against the table.
        let d = read(pairs, Endpoint::Industries, Industries::bundled())?;
        Ok(d.industries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(qs: &str) -> Result<SearchRequest, ParamError> {
        SearchRequest::parse(decode_query_string(qs)?, Industries::bundled())
    }

    #[test]
    fn spellings_of_one_query_are_equal() {
        let a = search("country_code=SE,NO&source=linkedin").unwrap();
        let b = search(
            "country_code=no&country_code=se,,&source=LinkedIn&exclude_stale=true&sort_order=desc",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(search("min_quality_score=0").unwrap(), search("").unwrap());
        // Equal numbers, one query: one cursor binding (`==` on f64 would
        // not tell -0.0 from 0.0, the fingerprint does).
        let fp = |qs: &str| {
            let r = search(qs).unwrap();
            crate::query::cursor::fingerprint(&r.filters, &r.sort)
        };
        assert_eq!(fp("max_confidence=-0"), fp("max_confidence=0.0"));
    }

    #[test]
    fn decoding() {
        let pairs = decode_query_string("q=J%C3%B8rgen+H&limit=&x").unwrap();
        let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
        assert_eq!(
            pairs,
            vec![pair("q", "Jørgen H"), pair("limit", ""), pair("x", "")]
        );
        assert_eq!(search("limit=&q=").unwrap(), search("").unwrap());
        assert_eq!(search("nosuch=").unwrap_err().kind, ParamErrorKind::Unknown);
        assert!(decode_query_string("q=%zz").is_err());
        // `from_str_radix` alone would read `+f` as 15.
        assert!(decode_query_string("q=%+f").is_err());
        assert!(decode_query_string("q=%ff").is_err());
    }

    #[test]
    fn errors_name_their_parameter() {
        for (qs, param) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=5&limit=6", "limit"),
            ("verified=yes", "verified"),
            (
                "min_quality_score=50&max_quality_score=40",
                "min_quality_score",
            ),
            ("min_confidence=1.5", "min_confidence"),
            ("country_code=SWE", "country_code"),
            ("industry_section=V", "industry_section"),
            ("industry_level=6", "industry_level"),
            ("industry_id=999999", "industry_id"),
            ("sort_by=name", "sort_by"),
            ("facets=colour", "facets"),
            ("company_id=abc", "company_id"),
        ] {
            let e = search(qs).unwrap_err();
            assert_eq!(
                (e.kind, e.parameter.as_str()),
                (ParamErrorKind::Invalid, param),
                "{qs}"
            );
        }
        let e = search("colour=red").unwrap_err();
        assert_eq!(e.kind, ParamErrorKind::Unknown);
        assert!(e.message.contains("sort_by"));
        let long_q = "a".repeat(257);
        assert_eq!(search(&format!("q={long_q}")).unwrap_err().parameter, "q");
        let many = vec!["SE"; 101].join(",");
        assert_eq!(
            search(&format!("country_code={many}"))
                .unwrap_err()
                .parameter,
            "country_code"
        );
    }

    #[test]
    fn q_without_tokens_is_absent_and_sort_defaults_follow_q() {
        let r = search("q=%22*%3A").unwrap();
        assert!(r.filters.q.is_none());
        assert_eq!(r.sort.key, SortKey::QualityScore);
        assert_eq!(search("q=ann").unwrap().sort.key, SortKey::Relevance);
        let r = search("q=R%C3%B8+r%C3%B8").unwrap();
        assert_eq!(r.filters.q.unwrap().tokens, vec!["ro"]);
    }

    /// Reads `name=value` as `endpoint` takes it.
    fn read_one(endpoint: Endpoint, name: &str, value: &str) -> Result<(), ParamError> {
        let pairs = vec![(name.to_owned(), value.to_owned())];
        read(pairs, endpoint, Industries::bundled()).map(drop)
    }

    #[test]
    fn every_parameter_reads_its_kind() {
        // A value in and a value out of each kind's range: the table's
        // kinds (which the document states) and its readers agree.
        let long = "a".repeat(MAX_Q_CHARS + 1);
        for p in param_defs::PARAMS {
            let item = |item: Item| match item {
                Item::Of(vocab) => (vocab.values()[0].to_owned(), Some("nope".to_owned())),
                Item::IndustryId => ("1".into(), Some("999999".into())),
                Item::AnyIndustryId => ("7".into(), Some("-1".into())),
                Item::Section => ("c".into(), Some("V".into())),
                Item::Level => ("5".into(), Some("6".into())),
                Item::Country => (" se".into(), Some("SWE".into())),
                Item::Text => ("Sales".into(), None),
            };
            let (good, bad) = match p.kind {
                Kind::Id => ("1".into(), Some("0".into())),
                Kind::Text => ("ann".into(), Some(long.clone())),
                Kind::Bool => ("FALSE".into(), Some("yes".into())),
                Kind::Int { min, max } => (min.to_string(), Some((max + 1).to_string())),
                Kind::Fraction => ("0.5".into(), Some("1.5".into())),
                Kind::One(vocab) => item(Item::Of(vocab)),
                Kind::Token => ("abc".into(), None),
                Kind::List(i) => item(i),
            };
            for &endpoint in p.on {
                assert_eq!(
                    read_one(endpoint, p.name, &good),
                    Ok(()),
                    "{} {good}",
                    p.name
                );
                if let Some(bad) = &bad {
                    let e = read_one(endpoint, p.name, bad).unwrap_err();
                    assert_eq!(
                        (e.kind, e.parameter.as_str()),
                        (ParamErrorKind::Invalid, p.name)
                    );
                }
                let twice = vec![(p.name.to_owned(), good.clone()); 2];
                let e = read(twice, endpoint, Industries::bundled()).map(drop);
                // A list takes repeats; anything else is given once.
                assert_eq!(e.is_ok(), matches!(p.kind, Kind::List(_)), "{}", p.name);
            }
        }
    }
}
