//! Query string → validated, typed parameters (docs/api.md, Parameters).
//!
//! This is the only place that reads raw parameters. Everything after it
//! works on `SearchRequest` / `SuggestRequest`, whose filter and sort parts
//! are already in canonical form (lists sorted and de-duplicated, explicit
//! defaults folded away), so two spellings of one query compare equal.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{CountryCode, EmailStatus, Industries, Section, Seniority, Source};
use crate::text;

pub use crate::text::MAX_Q_CHARS;
/// The most values one list parameter may hold.
pub const MAX_LIST_VALUES: usize = 100;

/// A refused parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    pub kind: ParamErrorKind,
    pub parameter: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamErrorKind {
    Invalid,
    Unknown,
}

impl ParamError {
    pub fn invalid(parameter: &str, message: impl Into<String>) -> Self {
        ParamError {
            kind: ParamErrorKind::Invalid,
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

impl std::error::Error for ParamError {}

/// A `q`: the tokens that must match, and what ranking needs of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextQuery {
    /// `tokens(q)`, first occurrence order, without repeats.
    pub tokens: Vec<String>,
    /// Lower-cased tokens of `q` that contain letters folding would change
    /// (`rø`): a match on these keeps the query's own letters.
    pub accent_tokens: Vec<String>,
}

impl TextQuery {
    /// `None` when `q` has no tokens (it is then treated as absent).
    pub fn parse(q: &str) -> Option<TextQuery> {
        let mut tokens: Vec<String> = Vec::new();
        for t in text::tokens(q) {
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
        if tokens.is_empty() {
            return None;
        }
        let mut accent_tokens: Vec<String> = Vec::new();
        for a in text::accent_tokens(q) {
            if !accent_tokens.contains(&a) {
                accent_tokens.push(a);
            }
        }
        Some(TextQuery {
            tokens,
            accent_tokens,
        })
    }
}

/// The filters (docs/api.md, Parameters), shared by search and suggest.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Filters {
    pub company_id: Option<u64>,
    pub q: Option<TextQuery>,
    pub sources: Vec<Source>,
    pub verified: Option<bool>,
    pub has_email: Option<bool>,
    pub has_phone: Option<bool>,
    /// `normalize`d.
    pub departments: Vec<String>,
    /// `tokens(job_title)`, sorted.
    pub job_title: Vec<String>,
    pub seniority_levels: Vec<Seniority>,
    pub min_quality_score: Option<u64>,
    pub max_quality_score: Option<u64>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    pub email_statuses: Vec<EmailStatus>,
    pub exclude_stale: bool,
    pub exclude_speculative: bool,
    pub industry_ids: Vec<u32>,
    pub industry_sections: Vec<Section>,
    pub industry_levels: Vec<u8>,
    pub country_codes: Vec<CountryCode>,
    pub exclude_industry_ids: Vec<u32>,
    pub exclude_country_codes: Vec<CountryCode>,
}

/// What results are ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SortKey {
    Relevance,
    QualityScore,
    Confidence,
    CreatedAt,
    FullName,
}

/// A sort key and its direction (relevance is always best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

/// A facet that can be counted (docs/api.md, Facets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Facet {
    CountryCode,
    IndustrySection,
    SeniorityLevel,
    Department,
    Source,
    EmailStatus,
}

impl Facet {
    pub const ALL: [Facet; 6] = [
        Facet::CountryCode,
        Facet::IndustrySection,
        Facet::SeniorityLevel,
        Facet::Department,
        Facet::Source,
        Facet::EmailStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::CountryCode => "country_code",
            Facet::IndustrySection => "industry_section",
            Facet::SeniorityLevel => "seniority_level",
            Facet::Department => "department",
            Facet::Source => "source",
            Facet::EmailStatus => "email_status",
        }
    }
}

/// A validated `GET /v1/contacts`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub filters: Filters,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub limit: usize,
    pub facets: Vec<Facet>,
    pub highlight: bool,
    /// The scope of a scoped key (`None`: a full read key).
    pub scope: Option<Box<super::scope::Scope>>,
}

/// A validated `GET /v1/contacts/suggest`.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestRequest {
    pub filters: Filters,
    pub limit: usize,
    pub scope: Option<Box<super::scope::Scope>>,
}

/// A validated `GET /v1/industries`: a filter of the industry table, applied
/// by the model (`Industries::select`).
pub type IndustryListRequest = crate::model::IndustryFilter;

const FILTER_PARAMS: &[&str] = &[
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
];
const SEARCH_ONLY: &[&str] = &[
    "sort_by",
    "sort_order",
    "cursor",
    "limit",
    "facets",
    "highlight",
];
const SUGGEST_ONLY: &[&str] = &["limit", "sort_order", "highlight"];
const INDUSTRY_PARAMS: &[&str] = &["level", "section", "parent_id", "country_code"];

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

/// The raw parameters, grouped by name, checked against the accepted names.
struct Raw {
    values: BTreeMap<String, Vec<String>>,
}

impl Raw {
    fn new(pairs: Vec<(String, String)>, accepted: &[&str]) -> Result<Raw, ParamError> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in pairs {
            if !accepted.contains(&name.as_str()) {
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
        Ok(Raw { values })
    }

    /// A single-value parameter.
    fn single(&self, name: &str) -> Result<Option<&str>, ParamError> {
        match self.values.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([v]) => Ok(Some(v)),
            Some(_) => Err(ParamError::invalid(
                name,
                format!("{name} may be given only once"),
            )),
        }
    }

    /// A list parameter: comma-separated and/or repeated, empty items
    /// skipped. Codes tolerate spaces around them (`SE, NO`), so with
    /// `trim` an item of spaces is an empty one; free text is taken as given.
    fn list(&self, name: &str, trim: bool) -> Result<Vec<&str>, ParamError> {
        let items: Vec<&str> = self
            .values
            .get(name)
            .into_iter()
            .flatten()
            .flat_map(|v| v.split(','))
            .map(|v| if trim { v.trim() } else { v })
            .filter(|v| !v.is_empty())
            .collect();
        if items.len() > MAX_LIST_VALUES {
            return Err(ParamError::invalid(
                name,
                format!("{name} takes at most {MAX_LIST_VALUES} values"),
            ));
        }
        Ok(items)
    }

    fn parsed_list<T: Ord>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        expected: &str,
    ) -> Result<Vec<T>, ParamError> {
        let mut out = Vec::new();
        for item in self.list(name, true)? {
            out.push(parse(item).ok_or_else(|| {
                ParamError::invalid(name, format!("{name}: `{}` is not {expected}", clip(item)))
            })?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, ParamError> {
        self.single(name)?
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ParamError::invalid(
                    name,
                    format!("{name} must be true or false"),
                )),
            })
            .transpose()
    }

    fn integer(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, ParamError> {
        self.single(name)?
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| {
                        ParamError::invalid(
                            name,
                            format!("{name} must be an integer between {min} and {max}"),
                        )
                    })
            })
            .transpose()
    }

    fn fraction(&self, name: &str) -> Result<Option<f64>, ParamError> {
        self.single(name)?
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| (0.0..=1.0).contains(n))
                    // -0 and 0 are one query (cursor binding).
                    .map(|n| n + 0.0)
                    .ok_or_else(|| {
                        ParamError::invalid(
                            name,
                            format!("{name} must be a number between 0.0 and 1.0"),
                        )
                    })
            })
            .transpose()
    }

    fn enumerated<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        names: &str,
    ) -> Result<Option<T>, ParamError> {
        self.single(name)?
            .map(|v| {
                parse(v).ok_or_else(|| {
                    ParamError::invalid(name, format!("{name} must be one of: {names}"))
                })
            })
            .transpose()
    }
}

/// Shortens an echoed value so an 8 KB parameter does not make an 8 KB error.
fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn parse_industry_id(industries: &Industries) -> impl Fn(&str) -> Option<u32> + '_ {
    move |s| {
        s.parse::<u32>()
            .ok()
            .filter(|id| industries.get(*id).is_some())
    }
}

fn parse_level(s: &str) -> Option<u8> {
    s.parse::<u8>().ok().filter(|l| (1..=5).contains(l))
}

fn filters(raw: &Raw, industries: &Industries) -> Result<Filters, ParamError> {
    let q = match raw.single("q")? {
        Some(q) if q.chars().count() > MAX_Q_CHARS => {
            return Err(ParamError::invalid(
                "q",
                format!("q must be at most {MAX_Q_CHARS} characters"),
            ));
        }
        Some(q) => TextQuery::parse(q),
        None => None,
    };
    let job_title = match raw.single("job_title")? {
        Some(t) if t.chars().count() > MAX_Q_CHARS => {
            return Err(ParamError::invalid(
                "job_title",
                format!("job_title must be at most {MAX_Q_CHARS} characters"),
            ));
        }
        Some(t) => {
            let mut tokens = text::tokens(t);
            tokens.sort();
            tokens.dedup();
            tokens
        }
        None => Vec::new(),
    };
    let mut departments: Vec<String> = raw
        .list("department", false)?
        .into_iter()
        .map(text::normalize)
        .collect();
    departments.sort();
    departments.dedup();

    let min_q = raw.integer("min_quality_score", 0, 100)?;
    let max_q = raw.integer("max_quality_score", 0, 100)?;
    if let (Some(lo), Some(hi)) = (min_q, max_q)
        && lo > hi
    {
        return Err(ParamError::invalid(
            "min_quality_score",
            "min_quality_score must not be above max_quality_score",
        ));
    }
    let min_c = raw.fraction("min_confidence")?;
    let max_c = raw.fraction("max_confidence")?;
    if let (Some(lo), Some(hi)) = (min_c, max_c)
        && lo > hi
    {
        return Err(ParamError::invalid(
            "min_confidence",
            "min_confidence must not be above max_confidence",
        ));
    }
    let company_id = raw
        .single("company_id")?
        .map(|v| {
            v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ParamError::invalid("company_id", "company_id must be an integer >= 1")
            })
        })
        .transpose()?;
    let country = |s: &str| CountryCode::parse_any_case(s);
    Ok(Filters {
        company_id,
        q,
        sources: raw.parsed_list(
            "source",
            Source::parse,
            &format!("one of {}", Source::names()),
        )?,
        verified: raw.bool("verified")?,
        has_email: raw.bool("has_email")?,
        has_phone: raw.bool("has_phone")?,
        departments,
        job_title,
        seniority_levels: raw.parsed_list(
            "seniority_level",
            Seniority::parse,
            &format!("one of {}", Seniority::names()),
        )?,
        // Bounds that include every score are the same query as no bound.
        min_quality_score: min_q.filter(|v| *v > 0),
        max_quality_score: max_q.filter(|v| *v < 100),
        min_confidence: min_c.filter(|v| *v > 0.0),
        max_confidence: max_c.filter(|v| *v < 1.0),
        email_statuses: raw.parsed_list(
            "email_status",
            EmailStatus::parse,
            &format!("one of {}", EmailStatus::names()),
        )?,
        exclude_stale: raw.bool("exclude_stale")?.unwrap_or(true),
        exclude_speculative: raw.bool("exclude_speculative")?.unwrap_or(true),
        industry_ids: raw.parsed_list(
            "industry_id",
            parse_industry_id(industries),
            "a known industry id",
        )?,
        industry_sections: raw.parsed_list(
            "industry_section",
            Section::parse,
            "a section letter A-U",
        )?,
        industry_levels: raw.parsed_list("industry_level", parse_level, "a level from 1 to 5")?,
        country_codes: raw.parsed_list("country_code", country, "a two-letter country code")?,
        exclude_industry_ids: raw.parsed_list(
            "exclude_industry_id",
            parse_industry_id(industries),
            "a known industry id",
        )?,
        exclude_country_codes: raw.parsed_list(
            "exclude_country_code",
            country,
            "a two-letter country code",
        )?,
    })
}

fn parse_sort_key(s: &str) -> Option<SortKey> {
    match s.to_ascii_lowercase().as_str() {
        "quality_score" => Some(SortKey::QualityScore),
        "confidence" => Some(SortKey::Confidence),
        "created_at" => Some(SortKey::CreatedAt),
        "full_name" => Some(SortKey::FullName),
        _ => None,
    }
}

fn parse_order(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "asc" => Some(false),
        "desc" => Some(true),
        _ => None,
    }
}

impl SearchRequest {
    pub fn parse(
        pairs: Vec<(String, String)>,
        industries: &Industries,
    ) -> Result<Self, ParamError> {
        let accepted: Vec<&str> = FILTER_PARAMS.iter().chain(SEARCH_ONLY).copied().collect();
        let raw = Raw::new(pairs, &accepted)?;
        let filters = filters(&raw, industries)?;
        let key = raw.enumerated(
            "sort_by",
            parse_sort_key,
            "quality_score, confidence, created_at, full_name",
        )?;
        let descending = raw
            .enumerated("sort_order", parse_order, "asc, desc")?
            .unwrap_or(true);
        let sort = match key {
            Some(key) => Sort { key, descending },
            None if filters.q.is_some() => Sort {
                key: SortKey::Relevance,
                descending: true,
            },
            None => Sort {
                key: SortKey::QualityScore,
                descending,
            },
        };
        let facets = raw.parsed_list(
            "facets",
            |s| Facet::ALL.into_iter().find(|f| f.as_str().eq_ignore_ascii_case(s)),
            "one of country_code, industry_section, seniority_level, department, source, email_status",
        )?;
        Ok(SearchRequest {
            filters,
            sort,
            cursor: raw.single("cursor")?.map(str::to_owned),
            limit: raw.integer("limit", 1, 100)?.unwrap_or(50) as usize,
            facets,
            highlight: raw.bool("highlight")?.unwrap_or(false),
            scope: None,
        })
    }
}

impl SuggestRequest {
    pub fn parse(
        pairs: Vec<(String, String)>,
        industries: &Industries,
    ) -> Result<Self, ParamError> {
        let accepted: Vec<&str> = FILTER_PARAMS.iter().chain(SUGGEST_ONLY).copied().collect();
        let raw = Raw::new(pairs, &accepted)?;
        let filters = filters(&raw, industries)?;
        raw.enumerated("sort_order", parse_order, "asc, desc")?;
        raw.bool("highlight")?;
        Ok(SuggestRequest {
            filters,
            limit: raw.integer("limit", 1, 20)?.unwrap_or(8) as usize,
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
    let raw = Raw::new(pairs, FILTER_PARAMS)?;
    let mut f = filters(&raw, industries)?;
    f.exclude_stale = raw.bool("exclude_stale")? == Some(true);
    f.exclude_speculative = raw.bool("exclude_speculative")? == Some(true);
    Ok(f)
}

/// The names of the parameters given with a value, and the facets asked
/// for (a scoped key checks them against its hidden fields).
pub fn given_names(pairs: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(name.clone());
        // Their values are matched in any case.
        if name == "facets" || name == "sort_by" {
            out.extend(value.split(',').map(|v| v.trim().to_ascii_lowercase()));
        }
    }
    out
}

impl IndustryListRequest {
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ParamError> {
        let raw = Raw::new(pairs, INDUSTRY_PARAMS)?;
        Ok(IndustryListRequest {
            levels: raw.parsed_list("level", parse_level, "a level from 1 to 5")?,
            sections: raw.parsed_list("section", Section::parse, "a section letter A-U")?,
            parent_ids: raw.parsed_list(
                "parent_id",
                |s| s.parse::<u32>().ok(),
                "an industry id",
            )?,
            country_codes: raw.parsed_list(
                "country_code",
                CountryCode::parse_any_case,
                "a two-letter country code",
            )?,
        })
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
}
