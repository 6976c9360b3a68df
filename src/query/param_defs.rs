//! One definition per query parameter (docs/api.md, Parameters), in the
//! manner of ripgrep's `flags/defs.rs`: its name, the requests that take
//! it, the values it takes, its description and how it is read. The parser
//! (`params`), the OpenAPI parameters (`http::schema`), the fuzz dictionary
//! and `tests/params_fuzz.rs` all read [`PARAMS`], so a new filter is one
//! entry here (plus its field in `request::Filters`, its plan in
//! `query::plan` and its test).
//!
//! A value is checked against its [`Kind`] (bounds, vocabulary, length) by
//! the accessors of [`Arg`], so the bounds the parser enforces are the ones
//! the document states.

use super::request::{Facet, Filters, IndustryListRequest, Sort, SortKey};
use crate::model::{CountryCode, EmailStatus, Industries, Section, Seniority, Source};
use crate::text;

/// The longest `q`, in Unicode scalar values.
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

/// What takes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /v1/contacts`.
    Search,
    /// `GET /v1/contacts/suggest`.
    Suggest,
    /// `GET /v1/industries`.
    Industries,
    /// The `filter` of a scoped key (`query::scope`).
    Scope,
}

/// The filters: every contact read, and scoped keys.
const FILTER: &[Endpoint] = &[Endpoint::Search, Endpoint::Suggest, Endpoint::Scope];
const SEARCH: &[Endpoint] = &[Endpoint::Search];
const SUGGEST: &[Endpoint] = &[Endpoint::Suggest];
const READS: &[Endpoint] = &[Endpoint::Search, Endpoint::Suggest];
const INDUSTRIES: &[Endpoint] = &[Endpoint::Industries];

/// A closed vocabulary of parameter values; each is one named schema of the
/// OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocab {
    Source,
    SeniorityLevel,
    EmailStatus,
    SortBy,
    SortOrder,
    Facet,
}

impl Vocab {
    /// The name of its OpenAPI schema.
    pub fn schema_name(self) -> &'static str {
        match self {
            Vocab::Source => "Source",
            Vocab::SeniorityLevel => "SeniorityLevel",
            Vocab::EmailStatus => "EmailStatus",
            Vocab::SortBy => "SortBy",
            Vocab::SortOrder => "SortOrder",
            Vocab::Facet => "Facet",
        }
    }

    /// Its values, as sent (matched in any case).
    pub fn values(self) -> Vec<&'static str> {
        match self {
            Vocab::Source => Source::ALL.iter().map(|v| v.as_str()).collect(),
            Vocab::SeniorityLevel => Seniority::ALL.iter().map(|v| v.as_str()).collect(),
            Vocab::EmailStatus => EmailStatus::ALL.iter().map(|v| v.as_str()).collect(),
            Vocab::SortBy => SortKey::CHOSEN.iter().map(|k| k.as_str()).collect(),
            Vocab::SortOrder => Sort::ORDERS.iter().map(|(name, _)| *name).collect(),
            Vocab::Facet => Facet::ALL.iter().map(|f| f.as_str()).collect(),
        }
    }

    /// Whether its values name contact fields, which a scoped key may hide.
    pub fn names_fields(self) -> bool {
        matches!(self, Vocab::SortBy | Vocab::Facet)
    }
}

/// One value of a list parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Of(Vocab),
    /// An id of the industry table.
    IndustryId,
    /// Any industry id, known or not (`u32`).
    AnyIndustryId,
    /// A NACE section letter A-U, in any case.
    Section,
    /// An industry level.
    Level,
    /// An ISO 3166-1 alpha-2 code, in any case.
    Country,
    /// Free text without commas, taken as given (spaces kept).
    Text,
}

/// The industry levels, 1 (section) to 5 (national subclass).
pub const LEVELS: std::ops::RangeInclusive<u8> = 1..=5;

impl Item {
    /// What a refused value should have been, for the error message.
    fn expected(self) -> String {
        match self {
            Item::Of(v) => format!("one of {}", v.values().join(", ")),
            Item::IndustryId => "a known industry id".to_owned(),
            Item::AnyIndustryId => "an industry id".to_owned(),
            Item::Section => "a section letter A-U".to_owned(),
            Item::Level => format!("a level from {} to {}", LEVELS.start(), LEVELS.end()),
            Item::Country => "a two-letter country code".to_owned(),
            Item::Text => "text".to_owned(),
        }
    }
}

/// What a parameter's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An integer from 1 to `u64::MAX`.
    Id,
    /// Free text of at most `MAX_Q_CHARS` characters.
    Text,
    /// `true` or `false`, in any case.
    Bool,
    /// An integer in `min..=max`.
    Int { min: u64, max: u64 },
    /// A number from 0.0 to 1.0.
    Fraction,
    /// One value of a vocabulary.
    One(Vocab),
    /// An opaque string (a cursor, checked by `query::cursor`).
    Token,
    /// A list: repeated and/or comma-separated, at most `MAX_LIST_VALUES`
    /// values; values combine with OR.
    List(Item),
}

/// A query parameter.
pub struct Param {
    pub name: &'static str,
    /// What takes it.
    pub on: &'static [Endpoint],
    pub kind: Kind,
    /// Its OpenAPI description (a list's is completed by `http::schema`).
    pub doc: &'static str,
    /// Reads its values into the request being built.
    pub read: fn(&Arg, &mut Draft) -> Result<(), ParamError>,
}

impl Param {
    pub fn takes(&self, endpoint: Endpoint) -> bool {
        self.on.contains(&endpoint)
    }
}

/// The parameters `endpoint` takes, in the order the document lists them.
pub fn taken_by(endpoint: Endpoint) -> impl Iterator<Item = &'static Param> {
    PARAMS.iter().filter(move |p| p.takes(endpoint))
}

/// A request as its parameters are read; each `request` type is built from
/// it with the defaults of its endpoint.
#[derive(Default)]
pub struct Draft {
    pub filters: Filters,
    pub sort_by: Option<SortKey>,
    pub descending: Option<bool>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
    pub facets: Vec<Facet>,
    pub highlight: Option<bool>,
    pub industries: IndustryListRequest,
}

/// The values of one parameter (empty ones dropped), with what reading
/// them needs.
pub struct Arg<'a> {
    pub param: &'static Param,
    pub values: &'a [String],
    pub industries: &'a Industries,
    /// Reading a scoped key's filter: defaults do not apply (a request's
    /// defaults are not the key's restrictions).
    pub scope: bool,
}

impl Arg<'_> {
    fn name(&self) -> &'static str {
        self.param.name
    }

    fn invalid(&self, message: impl Into<String>) -> ParamError {
        ParamError::invalid(self.name(), message)
    }

    /// Its value, if given; refused when given twice.
    pub fn single(&self) -> Result<Option<&str>, ParamError> {
        match self.values {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(self.invalid(format!("{} may be given only once", self.name()))),
        }
    }

    pub fn bool(&self) -> Result<Option<bool>, ParamError> {
        self.single()?
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(self.invalid(format!("{} must be true or false", self.name()))),
            })
            .transpose()
    }

    /// A `Kind::Int` or `Kind::Id`.
    pub fn int(&self) -> Result<Option<u64>, ParamError> {
        let name = self.name();
        let (min, max, message) = match self.param.kind {
            Kind::Int { min, max } => (
                min,
                max,
                format!("{name} must be an integer between {min} and {max}"),
            ),
            _ => (1, u64::MAX, format!("{name} must be an integer >= 1")),
        };
        self.single()?
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| self.invalid(message.clone()))
            })
            .transpose()
    }

    pub fn fraction(&self) -> Result<Option<f64>, ParamError> {
        self.single()?
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| (0.0..=1.0).contains(n))
                    // -0 and 0 are one query (cursor binding).
                    .map(|n| n + 0.0)
                    .ok_or_else(|| {
                        self.invalid(format!(
                            "{} must be a number between 0.0 and 1.0",
                            self.name()
                        ))
                    })
            })
            .transpose()
    }

    /// Free text of at most `MAX_Q_CHARS` characters.
    pub fn text(&self) -> Result<Option<&str>, ParamError> {
        match self.single()? {
            Some(t) if t.chars().count() > MAX_Q_CHARS => Err(self.invalid(format!(
                "{} must be at most {MAX_Q_CHARS} characters",
                self.name()
            ))),
            t => Ok(t),
        }
    }

    /// One value of the `Kind::One` vocabulary.
    pub fn one<T>(&self, parse: fn(&str) -> Option<T>) -> Result<Option<T>, ParamError> {
        let names = match self.param.kind {
            Kind::One(vocab) => vocab.values().join(", "),
            _ => String::new(),
        };
        self.single()?
            .map(|v| {
                parse(v)
                    .ok_or_else(|| self.invalid(format!("{} must be one of: {names}", self.name())))
            })
            .transpose()
    }

    /// The items of a `Kind::List`, sorted and without repeats. Codes
    /// tolerate spaces around them (`SE, NO`), so an item of spaces is an
    /// empty one; free text is taken as given.
    pub fn list<T: Ord>(&self, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, ParamError> {
        let item = match self.param.kind {
            Kind::List(item) => item,
            _ => Item::Text,
        };
        let trim = item != Item::Text;
        let items: Vec<&str> = self
            .values
            .iter()
            .flat_map(|v| v.split(','))
            .map(|v| if trim { v.trim() } else { v })
            .filter(|v| !v.is_empty())
            .collect();
        let name = self.name();
        if items.len() > MAX_LIST_VALUES {
            return Err(self.invalid(format!("{name} takes at most {MAX_LIST_VALUES} values")));
        }
        let mut out = Vec::new();
        for v in items {
            out.push(parse(v).ok_or_else(|| {
                self.invalid(format!("{name}: `{}` is not {}", clip(v), item.expected()))
            })?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A list of industry ids of the table.
    fn industry_ids(&self) -> Result<Vec<u32>, ParamError> {
        self.list(|s| {
            s.parse::<u32>()
                .ok()
                .filter(|id| self.industries.get(*id).is_some())
        })
    }

    /// A `true`/`false` whose default, in a request, is `default`.
    fn flag(&self, default: bool) -> Result<bool, ParamError> {
        Ok(self.bool()?.unwrap_or(default && !self.scope))
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

fn level(s: &str) -> Option<u8> {
    s.parse::<u8>().ok().filter(|l| LEVELS.contains(l))
}

fn sort_key(s: &str) -> Option<SortKey> {
    SortKey::CHOSEN
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(s))
}

fn sort_order(s: &str) -> Option<bool> {
    Sort::ORDERS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, descending)| *descending)
}

fn facet(s: &str) -> Option<Facet> {
    Facet::ALL
        .into_iter()
        .find(|f| f.as_str().eq_ignore_ascii_case(s))
}

/// `min` must not be above `max` (both already read), else `min_name` is at
/// fault.
fn ordered<T: PartialOrd>(
    min_name: &str,
    min: Option<T>,
    max_name: &str,
    max: Option<T>,
) -> Result<(), ParamError> {
    match (min, max) {
        (Some(lo), Some(hi)) if lo > hi => Err(ParamError::invalid(
            min_name,
            format!("{min_name} must not be above {max_name}"),
        )),
        _ => Ok(()),
    }
}

/// Every query parameter, in the order the OpenAPI document lists them.
/// Filters come first; they combine with AND. A name may appear twice when
/// two endpoints read it differently (`limit`, `country_code`).
pub static PARAMS: &[Param] = &[
    Param {
        name: "company_id",
        on: FILTER,
        kind: Kind::Id,
        doc: "The contact's company.",
        read: |a, d| {
            d.filters.company_id = a.int()?;
            Ok(())
        },
    },
    Param {
        name: "q",
        on: FILTER,
        kind: Kind::Text,
        doc: "Every token of `q` must be a prefix of a token of the contact's name or \
              email. Tokens are the runs of letters and digits, lower-cased with \
              accents folded (`q=jorgen` matches Jørgen, `q=acme.se` every @acme.se \
              address). With `q` and no `sort_by`, results are ranked by relevance.",
        read: |a, d| {
            d.filters.q = a.text()?.and_then(super::request::TextQuery::parse);
            Ok(())
        },
    },
    Param {
        name: "source",
        on: FILTER,
        kind: Kind::List(Item::Of(Vocab::Source)),
        doc: "Where the contact was found.",
        read: |a, d| {
            d.filters.sources = a.list(Source::parse)?;
            Ok(())
        },
    },
    Param {
        name: "verified",
        on: FILTER,
        kind: Kind::Bool,
        doc: "Only verified (true) or unverified (false) contacts.",
        read: |a, d| {
            d.filters.verified = a.bool()?;
            Ok(())
        },
    },
    Param {
        name: "has_email",
        on: FILTER,
        kind: Kind::Bool,
        doc: "Only contacts with (true) or without (false) an email.",
        read: |a, d| {
            d.filters.has_email = a.bool()?;
            Ok(())
        },
    },
    Param {
        name: "has_phone",
        on: FILTER,
        kind: Kind::Bool,
        doc: "Only contacts with (true) or without (false) a phone.",
        read: |a, d| {
            d.filters.has_phone = a.bool()?;
            Ok(())
        },
    },
    Param {
        name: "department",
        on: FILTER,
        kind: Kind::List(Item::Text),
        doc: "Departments, compared after normalization (lower case, accents folded).",
        read: |a, d| {
            d.filters.departments = a.list(|s| Some(text::normalize(s)))?;
            Ok(())
        },
    },
    Param {
        name: "job_title",
        on: FILTER,
        kind: Kind::Text,
        doc: "Every token must be a substring of a token of the job title (titles are \
              often compound words: `chef` matches Försäljningschef).",
        read: |a, d| {
            let mut tokens = a.text()?.map(text::tokens).unwrap_or_default();
            tokens.sort();
            tokens.dedup();
            d.filters.job_title = tokens;
            Ok(())
        },
    },
    Param {
        name: "seniority_level",
        on: FILTER,
        kind: Kind::List(Item::Of(Vocab::SeniorityLevel)),
        doc: "Seniority levels.",
        read: |a, d| {
            d.filters.seniority_levels = a.list(Seniority::parse)?;
            Ok(())
        },
    },
    // Bounds that include every value are the same query as no bound.
    Param {
        name: "min_quality_score",
        on: FILTER,
        kind: Kind::Int { min: 0, max: 100 },
        doc: "Inclusive lower bound.",
        read: |a, d| {
            d.filters.min_quality_score = a.int()?.filter(|v| *v > 0);
            Ok(())
        },
    },
    Param {
        name: "max_quality_score",
        on: FILTER,
        kind: Kind::Int { min: 0, max: 100 },
        doc: "Inclusive upper bound.",
        read: |a, d| {
            d.filters.max_quality_score = a.int()?.filter(|v| *v < 100);
            let f = &d.filters;
            ordered(
                "min_quality_score",
                f.min_quality_score,
                a.name(),
                f.max_quality_score,
            )
        },
    },
    Param {
        name: "min_confidence",
        on: FILTER,
        kind: Kind::Fraction,
        doc: "Inclusive lower bound.",
        read: |a, d| {
            d.filters.min_confidence = a.fraction()?.filter(|v| *v > 0.0);
            Ok(())
        },
    },
    Param {
        name: "max_confidence",
        on: FILTER,
        kind: Kind::Fraction,
        doc: "Inclusive upper bound.",
        read: |a, d| {
            d.filters.max_confidence = a.fraction()?.filter(|v| *v < 1.0);
            let f = &d.filters;
            ordered(
                "min_confidence",
                f.min_confidence,
                a.name(),
                f.max_confidence,
            )
        },
    },
    Param {
        name: "email_status",
        on: FILTER,
        kind: Kind::List(Item::Of(Vocab::EmailStatus)),
        doc: "Email statuses; a contact with no status never matches.",
        read: |a, d| {
            d.filters.email_statuses = a.list(EmailStatus::parse)?;
            Ok(())
        },
    },
    Param {
        name: "exclude_stale",
        on: FILTER,
        kind: Kind::Bool,
        doc: "Drop stale contacts (default true).",
        read: |a, d| {
            d.filters.exclude_stale = a.flag(true)?;
            Ok(())
        },
    },
    Param {
        name: "exclude_speculative",
        on: FILTER,
        kind: Kind::Bool,
        doc: "Drop speculative contacts (default true).",
        read: |a, d| {
            d.filters.exclude_speculative = a.flag(true)?;
            Ok(())
        },
    },
    Param {
        name: "industry_id",
        on: FILTER,
        kind: Kind::List(Item::IndustryId),
        doc: "Industries (a company matches through any descendant too).",
        read: |a, d| {
            d.filters.industry_ids = a.industry_ids()?;
            Ok(())
        },
    },
    Param {
        name: "industry_section",
        on: FILTER,
        kind: Kind::List(Item::Section),
        doc: "NACE section letters A-U (case-insensitive).",
        read: |a, d| {
            d.filters.industry_sections = a.list(Section::parse)?;
            Ok(())
        },
    },
    Param {
        name: "industry_level",
        on: FILTER,
        kind: Kind::List(Item::Level),
        doc: "Industry levels 1-5.",
        read: |a, d| {
            d.filters.industry_levels = a.list(level)?;
            Ok(())
        },
    },
    Param {
        name: "country_code",
        on: FILTER,
        kind: Kind::List(Item::Country),
        doc: "ISO 3166-1 alpha-2 codes of the company's country (case-insensitive).",
        read: |a, d| {
            d.filters.country_codes = a.list(CountryCode::parse_any_case)?;
            Ok(())
        },
    },
    Param {
        name: "exclude_industry_id",
        on: FILTER,
        kind: Kind::List(Item::IndustryId),
        doc: "Drop contacts whose company has one of these industries or a descendant.",
        read: |a, d| {
            d.filters.exclude_industry_ids = a.industry_ids()?;
            Ok(())
        },
    },
    Param {
        name: "exclude_country_code",
        on: FILTER,
        kind: Kind::List(Item::Country),
        doc: "Drop contacts whose company is in one of these countries.",
        read: |a, d| {
            d.filters.exclude_country_codes = a.list(CountryCode::parse_any_case)?;
            Ok(())
        },
    },
    Param {
        name: "sort_by",
        on: SEARCH,
        kind: Kind::One(Vocab::SortBy),
        doc: "Default: relevance with `q`, else quality_score. Ties are broken by \
              ascending id.",
        read: |a, d| {
            d.sort_by = a.one(sort_key)?;
            Ok(())
        },
    },
    // Before `sort_order` here and after it for search: the order of each
    // endpoint's list in the document.
    Param {
        name: "limit",
        on: SUGGEST,
        kind: Kind::Int { min: 1, max: 20 },
        doc: "Number of suggestions (default 8).",
        read: |a, d| {
            d.limit = a.int()?;
            Ok(())
        },
    },
    // Suggest reads it and has no use for it (its order is relevance).
    Param {
        name: "sort_order",
        on: READS,
        kind: Kind::One(Vocab::SortOrder),
        doc: "Default desc; relevance is always best first.",
        read: |a, d| {
            d.descending = a.one(sort_order)?;
            Ok(())
        },
    },
    Param {
        name: "cursor",
        on: SEARCH,
        kind: Kind::Token,
        doc: "The `next_cursor` of the previous page, sent with the same filters, `q` and \
              sort (`limit` and `facets` may change). Following it from the first page \
              to the last gives every match once; a cursor used with another query \
              is refused with `400 invalid_cursor`.",
        read: |a, d| {
            d.cursor = a.single()?.map(str::to_owned);
            Ok(())
        },
    },
    Param {
        name: "limit",
        on: SEARCH,
        kind: Kind::Int { min: 1, max: 100 },
        doc: "Page size (default 50).",
        read: |a, d| {
            d.limit = a.int()?;
            Ok(())
        },
    },
    Param {
        name: "facets",
        on: SEARCH,
        kind: Kind::List(Item::Of(Vocab::Facet)),
        doc: "Facets to count over all matches.",
        read: |a, d| {
            d.facets = a.list(facet)?;
            Ok(())
        },
    },
    // Suggest reads it and has no use for it (suggestions always carry
    // `_matches`).
    Param {
        name: "highlight",
        on: READS,
        kind: Kind::Bool,
        doc: "true: each contact carries `_matches`.",
        read: |a, d| {
            d.highlight = a.bool()?;
            Ok(())
        },
    },
    Param {
        name: "level",
        on: INDUSTRIES,
        kind: Kind::List(Item::Level),
        doc: "Levels 1-5.",
        read: |a, d| {
            d.industries.levels = a.list(level)?;
            Ok(())
        },
    },
    Param {
        name: "section",
        on: INDUSTRIES,
        kind: Kind::List(Item::Section),
        doc: "Section letters A-U.",
        read: |a, d| {
            d.industries.sections = a.list(Section::parse)?;
            Ok(())
        },
    },
    Param {
        name: "parent_id",
        on: INDUSTRIES,
        kind: Kind::List(Item::AnyIndustryId),
        doc: "Parent industry ids.",
        read: |a, d| {
            d.industries.parent_ids = a.list(|s| s.parse::<u32>().ok())?;
            Ok(())
        },
    },
    Param {
        name: "country_code",
        on: INDUSTRIES,
        kind: Kind::List(Item::Country),
        doc: "Country of national codes.",
        read: |a, d| {
            d.industries.country_codes = a.list(CountryCode::parse_any_case)?;
            Ok(())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_endpoint_takes_a_name_twice() {
        for endpoint in [
            Endpoint::Search,
            Endpoint::Suggest,
            Endpoint::Industries,
            Endpoint::Scope,
        ] {
            let mut names: Vec<&str> = taken_by(endpoint).map(|p| p.name).collect();
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), count, "{endpoint:?}");
        }
    }
}
