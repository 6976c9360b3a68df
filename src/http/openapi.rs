//! The OpenAPI 3.1 document served at `GET /openapi.json`.
//!
//! Generated, not hand-written: the operations come from the handlers'
//! `#[utoipa::path]` annotations, the bodies from the schema types below,
//! and the query parameters from the same constants and vocabularies that
//! `query::params` validates against (limits, enum values, the industry
//! table), so the document cannot drift from what the server accepts
//! without the tests here or schemathesis in CI noticing.

// The types below only describe JSON that the handlers build from stored
// records; they are never constructed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::handlers;
use crate::model::{EmailStatus, Industries, Seniority, Source};
use crate::query::params::{Facet, MAX_LIST_VALUES, MAX_Q_CHARS};

// ---------------------------------------------------------------- schemas

fn strings(values: impl IntoIterator<Item = &'static str>, nullable: bool) -> Object {
    let mut values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    let ty = if nullable {
        values.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::from(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(ty)
        .enum_values(Some(values))
        .build()
}

fn source() -> Object {
    strings(Source::ALL.iter().map(|s| s.as_str()), false)
}
fn seniority_or_null() -> Object {
    strings(Seniority::ALL.iter().map(|s| s.as_str()), true)
}
fn email_status_or_null() -> Object {
    strings(EmailStatus::ALL.iter().map(|s| s.as_str()), true)
}

/// The company a contact belongs to, as carried in its answers.
#[derive(ToSchema)]
#[schema(as = CompanySummary)]
pub struct CompanySummaryDoc {
    #[schema(minimum = 1)]
    id: u64,
    name: String,
    #[schema(pattern = "^[A-Z]{2}$")]
    country_code: String,
}

/// `[start, end)` offsets, in Unicode scalar values of the original text,
/// of what the `q` tokens matched (§4.3).
#[derive(ToSchema)]
#[schema(as = Matches)]
pub struct MatchesDoc {
    #[schema(value_type = Vec<Vec<u32>>)]
    full_name: Vec<Vec<u32>>,
    #[schema(value_type = Vec<Vec<u32>>)]
    email: Vec<Vec<u32>>,
}

/// A contact (§2.3). Every field is present, optional ones as `null`; more
/// fields may be added.
#[derive(ToSchema)]
#[schema(as = Contact)]
pub struct ContactDoc {
    #[schema(minimum = 1)]
    id: u64,
    #[schema(minimum = 1)]
    company_id: u64,
    #[schema(min_length = 1)]
    full_name: String,
    #[schema(required = true)]
    job_title: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    #[schema(required = true)]
    phone: Option<String>,
    #[schema(schema_with = source)]
    source: String,
    #[schema(required = true)]
    source_url: Option<String>,
    verified: bool,
    #[schema(schema_with = seniority_or_null, required = true)]
    seniority_level: Option<String>,
    #[schema(schema_with = email_status_or_null, required = true)]
    email_status: Option<String>,
    #[schema(required = true)]
    department: Option<String>,
    #[schema(minimum = 0, maximum = 100)]
    quality_score: u8,
    #[schema(minimum = 0.0, maximum = 1.0)]
    confidence: f64,
    is_stale: bool,
    is_speculative: bool,
    /// RFC 3339, in UTC.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339, in UTC.
    #[schema(format = DateTime)]
    updated_at: String,
    company: CompanySummaryDoc,
    /// Only with `highlight=true`.
    #[schema(nullable = false)]
    _matches: Option<MatchesDoc>,
}

/// `pagination` of §4.3.
#[derive(ToSchema)]
#[schema(as = Pagination)]
pub struct PaginationDoc {
    #[schema(minimum = 1, maximum = 100)]
    limit: u32,
    has_more: bool,
    /// `null` exactly when `has_more` is false.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// Counts per value of each requested facet (§4.4).
#[derive(ToSchema)]
#[schema(as = Facets)]
pub struct FacetsDoc {
    #[schema(nullable = false)]
    country_code: Option<BTreeMap<String, u64>>,
    #[schema(nullable = false)]
    industry_section: Option<BTreeMap<String, u64>>,
    #[schema(nullable = false)]
    seniority_level: Option<BTreeMap<String, u64>>,
    #[schema(nullable = false)]
    department: Option<BTreeMap<String, u64>>,
    #[schema(nullable = false)]
    source: Option<BTreeMap<String, u64>>,
    #[schema(nullable = false)]
    email_status: Option<BTreeMap<String, u64>>,
}

/// The answer of `GET /v1/contacts`.
#[derive(ToSchema)]
#[schema(as = SearchResponse)]
pub struct SearchResponseDoc {
    data: Vec<ContactDoc>,
    pagination: PaginationDoc,
    /// The exact number of matching contacts.
    total: u64,
    /// Only when `facets` was asked for.
    #[schema(nullable = false)]
    facets: Option<FacetsDoc>,
}

/// One typeahead item.
#[derive(ToSchema)]
#[schema(as = Suggestion)]
pub struct SuggestionDoc {
    #[schema(minimum = 1)]
    id: u64,
    full_name: String,
    #[schema(required = true)]
    job_title: Option<String>,
    #[schema(required = true)]
    email: Option<String>,
    company: CompanySummaryDoc,
    _matches: MatchesDoc,
    /// A typo-tolerant match, listed after every strict one.
    fuzzy: bool,
}

/// The answer of `GET /v1/contacts/suggest`.
#[derive(ToSchema)]
#[schema(as = SuggestResponse)]
pub struct SuggestResponseDoc {
    #[schema(max_items = 20)]
    data: Vec<SuggestionDoc>,
}

/// The answer of `GET /v1/contacts/{id}`.
#[derive(ToSchema)]
#[schema(as = ContactResponse)]
pub struct ContactResponseDoc {
    data: ContactDoc,
}

/// A row of the industry table (§2.1).
#[derive(ToSchema)]
#[schema(as = Industry)]
pub struct IndustryDoc {
    #[schema(minimum = 1)]
    id: u32,
    code: String,
    #[schema(minimum = 1, maximum = 5)]
    level: u8,
    #[schema(required = true)]
    parent_id: Option<u32>,
    #[schema(pattern = "^[A-U]$")]
    section: String,
    /// Set on national level-5 codes only.
    #[schema(required = true)]
    country_code: Option<String>,
    title: String,
}

/// The answer of `GET /v1/industries`.
#[derive(ToSchema)]
#[schema(as = IndustriesResponse)]
pub struct IndustriesResponseDoc {
    data: Vec<IndustryDoc>,
}

/// The answer of a successful `PUT`.
#[derive(ToSchema)]
#[schema(as = Upserted)]
pub struct UpsertedDoc {
    upserted: u64,
}

/// `GET /health`.
#[derive(ToSchema)]
#[schema(as = Health)]
pub struct HealthDoc {
    #[schema(schema_with = health_status)]
    status: String,
}
fn health_status() -> Object {
    strings(["ok"], false)
}

/// `GET /ready`.
#[derive(ToSchema)]
#[schema(as = Ready)]
pub struct ReadyDoc {
    #[schema(schema_with = ready_status)]
    status: String,
    contacts: u64,
}
fn ready_status() -> Object {
    strings(["ready"], false)
}

/// Every stable error code (§4.5).
pub const ERROR_CODES: &[&str] = &[
    "invalid_parameter",
    "unknown_parameter",
    "invalid_cursor",
    "invalid_record",
    "unauthorized",
    "forbidden",
    "writes_disabled",
    "not_found",
    "conflict",
    "payload_too_large",
    "rate_limited",
    "internal",
    // `--request-timeout-secs` passed (503).
    "timeout",
    // A request refused below the API (a CORS preflight from an origin or
    // for a method that is not allowed).
    "bad_request",
    // Replication (docs/deploy.md), all 503: a write sent to a replica, to
    // a primary fenced by another, or not published after retries; /ready
    // of a replica too far behind.
    "read_only_replica",
    "not_primary",
    "replication_failed",
    "replica_lagging",
];
fn error_code() -> Object {
    strings(ERROR_CODES.iter().copied(), false)
}

/// A refused line of a write batch.
#[derive(ToSchema)]
#[schema(as = RecordError)]
pub struct RecordErrorDoc {
    /// 1-based line number.
    #[schema(minimum = 1)]
    line: u64,
    /// `null` when the line is not valid JSON.
    #[schema(required = true)]
    field: Option<String>,
    reason: String,
}

/// The error object (§4.5).
#[derive(ToSchema)]
#[schema(as = ErrorObject)]
pub struct ErrorObjectDoc {
    #[schema(schema_with = error_code)]
    code: String,
    message: String,
    /// The parameter at fault, for parameter errors.
    #[schema(nullable = false)]
    parameter: Option<String>,
    /// The refused lines (at most 100), for `invalid_record`.
    #[schema(nullable = false, max_items = 100)]
    records: Option<Vec<RecordErrorDoc>>,
}

/// Every error answer.
#[derive(ToSchema)]
#[schema(as = Error)]
pub struct ErrorDoc {
    error: ErrorObjectDoc,
}

fn seniority_input() -> Object {
    strings(Seniority::ALL.iter().map(|s| s.as_str()).chain([""]), true)
}
fn email_status_input() -> Object {
    strings(
        EmailStatus::ALL.iter().map(|s| s.as_str()).chain([""]),
        true,
    )
}
fn industry_id_list_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(RefOr::T(industry_id()))
        .build()
}

/// A contact as written (§2.3): one JSON object per line. `null`, `""`
/// and a missing optional field mean the same.
#[derive(ToSchema)]
#[schema(as = ContactInput)]
pub struct ContactInputDoc {
    #[schema(schema_with = positive_id)]
    id: u64,
    /// An existing company.
    #[schema(schema_with = positive_id)]
    company_id: u64,
    #[schema(min_length = 1)]
    full_name: String,
    job_title: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    #[schema(schema_with = source)]
    source: String,
    source_url: Option<String>,
    /// Default false.
    verified: Option<bool>,
    #[schema(schema_with = seniority_input)]
    seniority_level: Option<String>,
    #[schema(schema_with = email_status_input)]
    email_status: Option<String>,
    department: Option<String>,
    #[schema(minimum = 0, maximum = 100)]
    quality_score: u8,
    #[schema(minimum = 0.0, maximum = 1.0)]
    confidence: f64,
    /// Default false.
    is_stale: Option<bool>,
    /// Default false.
    is_speculative: Option<bool>,
    /// RFC 3339 with an offset.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339 with an offset.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// A company as written (§2.2): one JSON object per line.
#[derive(ToSchema)]
#[schema(as = CompanyInput)]
pub struct CompanyInputDoc {
    #[schema(schema_with = positive_id)]
    id: u64,
    #[schema(min_length = 1)]
    name: String,
    /// ISO 3166-1 alpha-2, upper case.
    #[schema(pattern = "^[A-Z]{2}$")]
    country_code: String,
    org_number: Option<String>,
    domain: Option<String>,
    /// Ids of the industry table.
    #[schema(schema_with = industry_id_list_or_null)]
    industry_ids: Option<Vec<u32>>,
}

// ------------------------------------------------------------- parameters

fn param(name: &str, description: &str, schema: impl Into<RefOr<Schema>>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// A list parameter: repeated and/or comma-separated (§4.1).
fn list_param(name: &str, description: &str, item: impl Into<RefOr<Schema>>) -> Parameter {
    let mut p = param(
        name,
        &format!(
            "{description} A list: repeat the parameter or separate values with commas \
             (at most {MAX_LIST_VALUES} values); values combine with OR."
        ),
        ArrayBuilder::new()
            .items(item.into())
            .max_items(Some(MAX_LIST_VALUES)),
    );
    p.style = Some(ParameterStyle::Form);
    p.explode = Some(true);
    p
}

fn integer(min: i64, max: i64) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

/// 1 to `u64::MAX`: the ids the server parses.
fn positive_id() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(utoipa::Number::UInt(u64::MAX as usize)))
        .build()
}

fn fraction() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0.0))
        .maximum(Some(1.0))
        .build()
}

fn boolean() -> Object {
    ObjectBuilder::new().schema_type(Type::Boolean).build()
}

fn text(max_chars: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max_chars))
        .build()
}

fn pattern(p: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(p))
        .build()
}

/// An industry id that exists: the table's ids as runs of consecutive
/// numbers, so an id the server would refuse is outside the schema too.
fn industry_id() -> Schema {
    let mut ids: Vec<u32> = Industries::bundled().rows().iter().map(|r| r.id).collect();
    ids.sort_unstable();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == id => *end = id,
            _ => runs.push((id, id)),
        }
    }
    if let [(lo, hi)] = runs[..] {
        return integer(lo.into(), hi.into()).into();
    }
    let mut any = AnyOfBuilder::new();
    for (lo, hi) in runs {
        any = any.item(integer(lo.into(), hi.into()));
    }
    any.build().into()
}

fn country() -> Object {
    pattern("^[A-Za-z]{2}$")
}

/// The filters of §4.1, shared by search and suggest.
fn filter_params() -> Vec<Parameter> {
    let enum_items = |values: Vec<&'static str>| strings(values, false);
    vec![
        param("company_id", "The contact's company.", positive_id()),
        param(
            "q",
            "Every token must be a prefix of a token of the name or email (§3). \
             With `q` and no `sort_by`, results are ranked by relevance.",
            text(MAX_Q_CHARS),
        ),
        list_param(
            "source",
            "Where the contact was found.",
            enum_items(Source::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        param(
            "verified",
            "Only verified (true) or unverified (false) contacts.",
            boolean(),
        ),
        param(
            "has_email",
            "Only contacts with (true) or without (false) an email.",
            boolean(),
        ),
        param(
            "has_phone",
            "Only contacts with (true) or without (false) a phone.",
            boolean(),
        ),
        list_param(
            "department",
            "Departments, compared after normalization (case, accents).",
            pattern("^[^,]*$"),
        ),
        param(
            "job_title",
            "Every token must be a substring of a token of the job title.",
            text(MAX_Q_CHARS),
        ),
        list_param(
            "seniority_level",
            "Seniority levels.",
            enum_items(Seniority::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        param(
            "min_quality_score",
            "Inclusive lower bound.",
            integer(0, 100),
        ),
        param(
            "max_quality_score",
            "Inclusive upper bound.",
            integer(0, 100),
        ),
        param("min_confidence", "Inclusive lower bound.", fraction()),
        param("max_confidence", "Inclusive upper bound.", fraction()),
        list_param(
            "email_status",
            "Email statuses; a contact with no status never matches.",
            enum_items(EmailStatus::ALL.iter().map(|s| s.as_str()).collect()),
        ),
        param(
            "exclude_stale",
            "Drop stale contacts (default true).",
            boolean(),
        ),
        param(
            "exclude_speculative",
            "Drop speculative contacts (default true).",
            boolean(),
        ),
        list_param(
            "industry_id",
            "Industries (a company matches through any descendant too).",
            industry_id(),
        ),
        list_param(
            "industry_section",
            "NACE section letters A-U (case-insensitive).",
            pattern("^[A-Ua-u]$"),
        ),
        list_param("industry_level", "Industry levels 1-5.", integer(1, 5)),
        list_param(
            "country_code",
            "ISO 3166-1 alpha-2 codes of the company's country (case-insensitive).",
            country(),
        ),
        list_param(
            "exclude_industry_id",
            "Drop contacts whose company has one of these industries or a descendant.",
            industry_id(),
        ),
        list_param(
            "exclude_country_code",
            "Drop contacts whose company is in one of these countries.",
            country(),
        ),
    ]
}

fn sort_order() -> Parameter {
    param(
        "sort_order",
        "asc or desc (default desc); relevance is always best first.",
        strings(["asc", "desc"], false),
    )
}

fn highlight() -> Parameter {
    param(
        "highlight",
        "true: each contact carries `_matches`.",
        boolean(),
    )
}

/// The query parameters of `GET /v1/contacts`.
pub struct SearchParams;

impl IntoParams for SearchParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = filter_params();
        params.extend([
            param(
                "sort_by",
                "Sort key; default relevance with `q`, else quality_score.",
                strings(
                    ["quality_score", "confidence", "created_at", "full_name"],
                    false,
                ),
            ),
            sort_order(),
            param(
                "cursor",
                "The `next_cursor` of the previous page, with the same filters, q and sort.",
                ObjectBuilder::new().schema_type(Type::String).build(),
            ),
            param("limit", "Page size (default 50).", integer(1, 100)),
            list_param(
                "facets",
                "Facets to count over all matches.",
                strings(Facet::ALL.iter().map(|f| f.as_str()), false),
            ),
            highlight(),
        ]);
        params
    }
}

/// The query parameters of `GET /v1/contacts/suggest`.
pub struct SuggestParams;

impl IntoParams for SuggestParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = filter_params();
        params.extend([
            param(
                "limit",
                "Number of suggestions (default 8).",
                integer(1, 20),
            ),
            sort_order(),
            highlight(),
        ]);
        params
    }
}

/// The query parameters of `GET /v1/industries`.
pub struct IndustryParams;

impl IntoParams for IndustryParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            list_param("level", "Levels 1-5.", integer(1, 5)),
            list_param("section", "Section letters A-U.", pattern("^[A-Ua-u]$")),
            list_param(
                "parent_id",
                "Parent industry ids.",
                integer(0, u32::MAX.into()),
            ),
            list_param("country_code", "Country of national codes.", country()),
        ]
    }
}

/// The `{id}` of a path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// A positive integer.
    #[param(minimum = 1)]
    id: u64,
}

// --------------------------------------------------------------- document

/// The bearer scheme of §8, and bodies the derive cannot express.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // An empty body is an empty batch (`{"upserted": 0}`), not an error.
        for item in openapi.paths.paths.values_mut() {
            if let Some(body) = item.put.as_mut().and_then(|op| op.request_body.as_mut()) {
                body.required = Some(Required::False);
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key: `read` keys for GET endpoints, `admin` keys for all \
                         (KONTAKT_READ_KEYS, KONTAKT_ADMIN_KEYS). Reads are open when no read \
                         keys are configured; writes always need an admin key.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kontakt",
        description = "Find decision-makers and their contact details across Nordic companies. \
            Every error is JSON: `{\"error\": {\"code\", \"message\", \"parameter\"?, \"records\"?}}`. \
            With a rate limit configured, `/v1/*` answers carry `X-RateLimit-Limit` and \
            `X-RateLimit-Remaining`, and `429 rate_limited` carries `Retry-After`."
    ),
    paths(
        handlers::search,
        handlers::suggest,
        handlers::contact,
        handlers::industries,
        handlers::put_contacts,
        handlers::put_companies,
        handlers::delete_contact,
        handlers::delete_company,
        handlers::health,
        handlers::ready,
        handlers::metrics,
        handlers::openapi,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "contacts", description = "Search and read contacts"),
        (name = "industries", description = "The NACE industry table"),
        (name = "writes", description = "Insert, replace and delete records (admin keys)"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::params::{ParamErrorKind, SearchRequest, SuggestRequest};
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(document()).unwrap()
    }

    fn documented(doc: &Value, path: &str) -> Vec<String> {
        let mut names: Vec<String> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// The accepted names, as the parser lists them in its error message.
    fn accepted(message: &str) -> Vec<String> {
        let list = message.split("accepted parameters: ").nth(1).unwrap();
        let mut names: Vec<String> = list.split(", ").map(str::to_owned).collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn documented_parameters_are_the_accepted_ones() {
        let doc = doc();
        let unknown = vec![("no_such_parameter".to_owned(), "1".to_owned())];
        let e = SearchRequest::parse(unknown.clone(), Industries::bundled()).unwrap_err();
        assert_eq!(e.kind, ParamErrorKind::Unknown);
        assert_eq!(documented(&doc, "/v1/contacts"), accepted(&e.message));
        let e = SuggestRequest::parse(unknown.clone(), Industries::bundled()).unwrap_err();
        assert_eq!(
            documented(&doc, "/v1/contacts/suggest"),
            accepted(&e.message)
        );
        let e = crate::query::params::IndustryListRequest::parse(unknown).unwrap_err();
        assert_eq!(documented(&doc, "/v1/industries"), accepted(&e.message));
    }

    #[test]
    fn every_endpoint_is_documented() {
        let doc = doc();
        assert_eq!(doc["openapi"], "3.1.0");
        for (path, methods) in [
            ("/v1/contacts", &["get", "put"][..]),
            ("/v1/contacts/suggest", &["get"]),
            ("/v1/contacts/{id}", &["get", "delete"]),
            ("/v1/companies", &["put"]),
            ("/v1/companies/{id}", &["delete"]),
            ("/v1/industries", &["get"]),
            ("/health", &["get"]),
            ("/ready", &["get"]),
            ("/metrics", &["get"]),
            ("/openapi.json", &["get"]),
        ] {
            for m in methods {
                assert!(doc["paths"][path][m].is_object(), "{m} {path}");
            }
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let ids = &doc["paths"]["/v1/contacts"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "industry_id")
            .unwrap()["schema"]["items"];
        assert!(ids.to_string().contains("3377"), "{ids}");
    }
}
