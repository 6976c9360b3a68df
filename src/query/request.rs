//! The validated requests (docs/api.md, Parameters): what `search` works
//! on, in canonical form (lists sorted and de-duplicated, explicit defaults
//! folded away), so two spellings of one query compare equal. Reading them
//! from a query string is `params`' job; nothing here parses parameters.

use serde::Serialize;

use crate::model::{CountryCode, EmailStatus, Section, Seniority, Source};
use crate::text;

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
        for a in crate::text::accent_tokens(q) {
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

impl SortKey {
    /// The keys `sort_by` names; relevance follows from `q` instead.
    pub const CHOSEN: [SortKey; 4] = [
        SortKey::QualityScore,
        SortKey::Confidence,
        SortKey::CreatedAt,
        SortKey::FullName,
    ];

    /// The name used in query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Relevance => "relevance",
            SortKey::QualityScore => "quality_score",
            SortKey::Confidence => "confidence",
            SortKey::CreatedAt => "created_at",
            SortKey::FullName => "full_name",
        }
    }
}

/// A sort key and its direction (relevance is always best first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// The `sort_order` names: (name, descending).
    pub const ORDERS: [(&'static str, bool); 2] = [("asc", false), ("desc", true)];
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

/// A validated `GET /v1/industries`: a filter of the industry table, which
/// the model applies (`Industries::select`).
pub type IndustryListRequest = crate::model::IndustryFilter;
