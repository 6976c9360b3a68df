//! The OpenAPI 3.1 document served at `GET /openapi.json`.
//!
//! Generated, not hand-written: the operations come from the handlers'
//! `#[utoipa::path]` annotations, the bodies from the schema types below,
//! and the query parameters from the same constants and vocabularies that
//! `query::params` validates against (limits, enum values, the industry
//! table), so the document cannot drift from what the server accepts
//! without the tests here or schemathesis in CI noticing.
//!
//! It is written for client generators as much as for readers: every closed
//! vocabulary is one named schema (a generator makes one enum of it, not one
//! per use), write bodies are JSON Lines text whose line format is a named
//! schema, and reads carry an optional key. `.ci/clients.sh` lints the served
//! document and drives a Python and a TypeScript client generated from it.

// The types below only describe JSON that the handlers build from stored
// records; they are never constructed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::handlers;
use crate::error::ErrorCode;
use crate::model::{EmailStatus, Industries, Seniority, Source};
use crate::query::params::{Facet, MAX_LIST_VALUES, MAX_Q_CHARS};

// ---------------------------------------------------------------- schemas

fn strings(values: impl IntoIterator<Item = &'static str>) -> Object {
    let values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// The closed vocabularies, each a named schema that every use refers to:
/// (name, description, values).
fn vocabularies() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "Source",
            "Where a contact was found.",
            Source::ALL.iter().map(|s| s.as_str()).collect(),
        ),
        (
            "SeniorityLevel",
            "How senior a contact is.",
            Seniority::ALL.iter().map(|s| s.as_str()).collect(),
        ),
        (
            "EmailStatus",
            "What is known of a contact's email address.",
            EmailStatus::ALL.iter().map(|s| s.as_str()).collect(),
        ),
        (
            "SortBy",
            "A sort key.",
            vec!["quality_score", "confidence", "created_at", "full_name"],
        ),
        ("SortOrder", "A sort direction.", vec!["asc", "desc"]),
        (
            "Facet",
            "A field whose values can be counted over all matches.",
            Facet::ALL.iter().map(|f| f.as_str()).collect(),
        ),
        (
            "ErrorCode",
            "The stable code of an error.",
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect(),
        ),
    ]
}

/// A reference to a named schema.
fn named(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

/// A named schema, or `null`.
fn named_or_null(name: &str) -> Schema {
    AnyOfBuilder::new()
        .item(named(name))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}

fn source() -> Ref {
    named("Source")
}
fn seniority_or_null() -> Schema {
    named_or_null("SeniorityLevel")
}
fn email_status_or_null() -> Schema {
    named_or_null("EmailStatus")
}
fn error_code() -> Ref {
    named("ErrorCode")
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

/// Where the `q` tokens matched: per field, `[start, end)` offsets, in
/// Unicode scalar values of the original text, of the part of each token that
/// a `q` token matched (`q=jor` on "Jørgen Hansen" gives `[[0, 3]]`).
#[derive(ToSchema)]
#[schema(as = Matches)]
pub struct MatchesDoc {
    #[schema(value_type = Vec<Vec<u32>>)]
    full_name: Vec<Vec<u32>>,
    #[schema(value_type = Vec<Vec<u32>>)]
    email: Vec<Vec<u32>>,
}

/// A contact. Every field is present, optional ones as `null`; more fields
/// may be added in later versions.
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

/// Where a page stands. A page with `has_more: true` holds exactly `limit`
/// contacts.
#[derive(ToSchema)]
#[schema(as = Pagination)]
pub struct PaginationDoc {
    #[schema(minimum = 1, maximum = 100)]
    limit: u32,
    has_more: bool,
    /// Pass it as `cursor`, with the same filters, `q` and sort, for the
    /// next page; `null` exactly when `has_more` is false.
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// For each requested facet, the number of matching contacts per value,
/// over all matches (not just the page). Contacts with no value are not
/// counted; `department` is keyed by its normalized form (lower case,
/// accents folded), `industry_section` counts a contact once per section
/// its company has.
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

/// A row of the NACE industry table. Levels: 1 section (`C`), 2 division
/// (`10`), 3 group (`10.1`), 4 class (`10.11`), 5 national subclass (Norway
/// `10.110`, Sweden `10110`, Denmark `101100`). Ids never change.
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
    strings(["ok"])
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
    strings(["ready"])
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

/// What went wrong.
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

fn industry_id_list_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(RefOr::T(industry_id()))
        .build()
}

/// A contact as written: one JSON object per line of a `PUT /v1/contacts`
/// body or of the contacts file of `kontakt index`. `null`, an empty string
/// and a missing optional field mean the same (stored as `null`). A contact
/// with the id of an existing one replaces it.
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
    #[schema(schema_with = seniority_or_null)]
    seniority_level: Option<String>,
    #[schema(schema_with = email_status_or_null)]
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
    /// RFC 3339 with an offset (`Z` or `±hh:mm`); answers give it in UTC.
    #[schema(format = DateTime)]
    created_at: String,
    /// RFC 3339 with an offset (`Z` or `±hh:mm`); answers give it in UTC.
    #[schema(format = DateTime)]
    updated_at: String,
}

/// A company as written: one JSON object per line of a `PUT /v1/companies`
/// body or of the companies file of `kontakt index`. A company with the id of
/// an existing one replaces it, and its contacts are found by its new country
/// and industries from then on.
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
    /// Ids of the industry table (`GET /v1/industries`).
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

/// A list parameter: repeated and/or comma-separated.
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

/// The filters shared by search and suggest; they combine with AND.
fn filter_params() -> Vec<Parameter> {
    vec![
        param("company_id", "The contact's company.", positive_id()),
        param(
            "q",
            "Every token of `q` must be a prefix of a token of the contact's name or \
             email. Tokens are the runs of letters and digits, lower-cased with \
             accents folded (`q=jorgen` matches Jørgen, `q=acme.se` every @acme.se \
             address). With `q` and no `sort_by`, results are ranked by relevance.",
            text(MAX_Q_CHARS),
        ),
        list_param("source", "Where the contact was found.", source()),
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
            "Departments, compared after normalization (lower case, accents folded).",
            pattern("^[^,]*$"),
        ),
        param(
            "job_title",
            "Every token must be a substring of a token of the job title (titles are \
             often compound words: `chef` matches Försäljningschef).",
            text(MAX_Q_CHARS),
        ),
        list_param(
            "seniority_level",
            "Seniority levels.",
            named("SeniorityLevel"),
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
            named("EmailStatus"),
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
        "Default desc; relevance is always best first.",
        named("SortOrder"),
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
                "Default: relevance with `q`, else quality_score. Ties are broken by \
                 ascending id.",
                named("SortBy"),
            ),
            sort_order(),
            param(
                "cursor",
                "The `next_cursor` of the previous page, sent with the same filters, `q` and \
                 sort (`limit` and `facets` may change). Following it from the first page \
                 to the last gives every match once; a cursor used with another query \
                 is refused with `400 invalid_cursor`.",
                ObjectBuilder::new().schema_type(Type::String).build(),
            ),
            param("limit", "Page size (default 50).", integer(1, 100)),
            list_param(
                "facets",
                "Facets to count over all matches.",
                named("Facet"),
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

/// The example body of `PUT /v1/contacts`: a contact with every field, and
/// one with only the required ones (of a company of the bundled sample).
pub const CONTACTS_EXAMPLE: &str = concat!(
    r#"{"id":20001,"company_id":1,"full_name":"Ingrid Solberg","job_title":"Salgssjef","#,
    r#""email":"ingrid.solberg@bluetrading.no","phone":"+47 912 34 567","source":"linkedin","#,
    r#""source_url":"https://www.linkedin.com/in/ingrid-solberg","verified":true,"#,
    r#""seniority_level":"manager","email_status":"valid","department":"Sales","#,
    r#""quality_score":88,"confidence":0.92,"is_stale":false,"is_speculative":false,"#,
    r#""created_at":"2024-03-01T12:00:00+01:00","updated_at":"2024-03-01T11:00:00Z"}"#,
    "\n",
    r#"{"id":20002,"company_id":1,"full_name":"Ola Nordmann","source":"manual","#,
    r#""quality_score":40,"confidence":0.5,"created_at":"2024-03-01T11:00:00Z","#,
    r#""updated_at":"2024-03-01T11:00:00Z"}"#,
    "\n",
);

/// The example body of `PUT /v1/companies`: a company with every field.
pub const COMPANIES_EXAMPLE: &str = concat!(
    r#"{"id":1501,"name":"Fjord Analyse AS","country_code":"NO","org_number":"923456789","#,
    r#""domain":"fjordanalyse.no","industry_ids":[684]}"#,
    "\n",
);

/// A JSON Lines body whose lines are the named schema `record`.
///
/// To a generator the body is text: declared as a JSON array, generated
/// clients send one, which the server refuses. So the schema is a string of
/// `application/x-ndjson` (`format: binary` lets generators that send raw
/// bodies only as binary strings, like openapi-python-client, send it), and
/// its `contentSchema` says what the lines decode to: an array of `record`.
/// (OpenAPI 3.2 has `itemSchema` for this; 3.1 does not.)
fn ndjson_body(record: &str, example: &str) -> Content {
    let lines = ArrayBuilder::new().items(named(record)).build();
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .content_media_type("application/x-ndjson")
        .description(Some(format!(
            "UTF-8 text: one `{record}` JSON object per line (`\\n` or `\\r\\n` line \
             ends); blank lines are skipped."
        )))
        .build();
    // utoipa has no field for `contentSchema`; its extensions are written
    // flat into the schema object.
    schema.extensions = Some(Extensions::from_iter([(
        "contentSchema",
        serde_json::to_value(&lines).unwrap_or_default(),
    )]));
    let mut content = Content::new(Some(schema));
    content.example = Some(example.into());
    content
}

/// What the derives cannot express: the named vocabularies, write bodies,
/// the bearer scheme and who needs a key.
struct Finish;

impl Modify for Finish {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let record = match path.as_str() {
                "/v1/contacts" => Some(("ContactInput", CONTACTS_EXAMPLE)),
                "/v1/companies" => Some(("CompanyInput", COMPANIES_EXAMPLE)),
                _ => None,
            };
            let body = item.put.as_mut().and_then(|op| op.request_body.as_mut());
            if let (Some((record, example)), Some(body)) = (record, body) {
                let content = ndjson_body(record, example);
                body.content = [("application/x-ndjson".to_owned(), content)]
                    .into_iter()
                    .collect();
                // An empty body is an empty batch (`{"upserted": 0}`), not an error.
                body.required = Some(Required::False);
            }
            // Operations outside /v1 need no key, even where reads need one.
            if !path.starts_with("/v1/")
                && let Some(op) = item.get.as_mut()
            {
                op.security = Some(Vec::new());
            }
        }
        // Reads take a key only when the server has read keys, so their
        // requirement is "none, or the bearer key". It is the document's
        // default, which reads inherit, rather than said on each read:
        // openapi-python-client reads only an operation's own `security`, and
        // takes any non-empty one as "a key is required" (its issue #1372).
        openapi.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, description, values) in vocabularies() {
            let mut schema = strings(values);
            schema.description = Some(description.to_owned());
            components.schemas.insert(name.to_owned(), schema.into());
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key, sent as `Authorization: Bearer <key>`. Read keys \
                         (`--read-keys`, KONTAKT_READ_KEYS) allow the GET endpoints of /v1, \
                         admin keys (`--admin-keys`, KONTAKT_ADMIN_KEYS) everything. With no \
                         read keys configured, reads need no key, but an unknown key is still \
                         refused (401). Writes always need an admin key; with none configured \
                         they answer `403 writes_disabled`. /health, /ready, /metrics and \
                         /openapi.json never need a key.",
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
        description = "Find decision-makers and their contact details across Nordic companies \
            (SE, NO, DK, FI, IS): filtered search with exact totals, facet counts and cursor \
            pagination, typeahead suggestions, the NACE industry table, and JSON Lines writes \
            that are durable when answered.\n\n\
            Every error is JSON with a stable code: \
            `{\"error\": {\"code\", \"message\", \"parameter\"?, \"records\"?}}`. \
            A query parameter given with an empty value counts as absent; enumerated values and \
            codes are case-insensitive. With a rate limit configured, `/v1/*` answers carry \
            `X-RateLimit-Limit` and `X-RateLimit-Remaining`, and `429 rate_limited` carries \
            `Retry-After` (seconds).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers(
        (url = "/", description = "The server that serves this document"),
        (url = "http://127.0.0.1:8080", description = "`kontakt serve` with its default address"),
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
    components(schemas(ContactInputDoc, CompanyInputDoc)),
    modifiers(&Finish),
    tags(
        (name = "contacts", description = "Search, suggest and read contacts"),
        (name = "industries", description = "The NACE industry table"),
        (name = "writes", description = "Insert, replace and delete records (admin keys)"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
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

    /// Every operation of the document, with its path and method.
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                ops.push((path.clone(), method.clone(), op.clone()));
            }
        }
        ops
    }

    /// Every string of the document: keys, values and descriptions.
    fn strings_of(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| strings_of(v, out)),
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    strings_of(v, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn the_document_points_to_nothing_outside_the_repository() {
        let mut all = Vec::new();
        strings_of(&doc(), &mut all);
        for s in all {
            for outside in ["§", "shared/", "the contract", "contract's"] {
                assert!(!s.contains(outside), "{outside:?} in {s:?}");
            }
        }
    }

    #[test]
    fn every_operation_has_an_id_a_summary_a_description_and_a_tag() {
        let doc = doc();
        let mut ids = Vec::new();
        for (path, method, op) in operations(&doc) {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(!ids.contains(&id), "{id} twice");
            ids.push(id);
            for field in ["summary", "description"] {
                let text = op[field].as_str().unwrap_or_default();
                assert!(text.len() > 5, "{method} {path}: {field} {text:?}");
            }
            assert_eq!(op["tags"].as_array().unwrap().len(), 1, "{method} {path}");
        }
        assert_eq!(ids.len(), 12);
    }

    #[test]
    fn reads_take_an_optional_key_writes_need_one_and_operations_none() {
        let doc = doc();
        let optional = serde_json::json!([{}, {"bearer": []}]);
        assert_eq!(doc["security"], optional);
        for (path, method, op) in operations(&doc) {
            // An operation without its own `security` has the document's.
            let effective = if op["security"].is_null() {
                &doc["security"]
            } else {
                &op["security"]
            };
            let expected = match (path.starts_with("/v1/"), method.as_str()) {
                (false, _) => serde_json::json!([]),
                (true, "get") => optional.clone(),
                (true, _) => serde_json::json!([{"bearer": []}]),
            };
            assert_eq!(effective, &expected, "{method} {path}");
            // A non-empty `security` of its own makes openapi-python-client
            // demand an authenticated client, so reads must have none.
            if method == "get" && path.starts_with("/v1/") {
                assert!(op["security"].is_null(), "{method} {path}");
            }
        }
    }

    #[test]
    fn every_v1_operation_declares_its_client_errors() {
        let doc = doc();
        for (path, method, op) in operations(&doc) {
            if path.starts_with("/v1/") {
                for status in ["400", "401", "429"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }

    #[test]
    fn write_bodies_are_json_lines_text_whose_lines_are_named_records() {
        let doc = doc();
        for (path, record) in [
            ("/v1/contacts", "ContactInput"),
            ("/v1/companies", "CompanyInput"),
        ] {
            let body = &doc["paths"][path]["put"]["requestBody"]["content"];
            assert_eq!(body.as_object().unwrap().len(), 1, "{path}");
            let schema = &body["application/x-ndjson"]["schema"];
            assert_eq!(schema["type"], "string", "{path}");
            assert_eq!(schema["format"], "binary", "{path}");
            assert_eq!(schema["contentMediaType"], "application/x-ndjson");
            assert_eq!(
                schema["contentSchema"]["items"]["$ref"],
                format!("#/components/schemas/{record}")
            );
            assert!(doc["components"]["schemas"][record]["properties"]["id"].is_object());
        }
    }

    #[test]
    fn the_example_write_bodies_are_accepted_by_the_parsers() {
        use crate::model::{Company, Contact};
        use crate::write::batch::parse;
        let contacts = parse::<Contact>(CONTACTS_EXAMPLE.as_bytes(), Industries::bundled(), None);
        assert_eq!(contacts.unwrap().len(), 2);
        let companies = parse::<Company>(COMPANIES_EXAMPLE.as_bytes(), Industries::bundled(), None);
        assert_eq!(companies.unwrap().len(), 1);
        let doc = doc();
        let body = &doc["paths"]["/v1/contacts"]["put"]["requestBody"]["content"];
        assert_eq!(body["application/x-ndjson"]["example"], CONTACTS_EXAMPLE);
    }

    #[test]
    fn no_enum_is_written_twice() {
        fn enums(value: &Value, out: &mut Vec<Value>) {
            match value {
                Value::Array(items) => items.iter().for_each(|v| enums(v, out)),
                Value::Object(map) => {
                    if let Some(values) = map.get("enum") {
                        out.push(values.clone());
                    }
                    map.values().for_each(|v| enums(v, out));
                }
                _ => {}
            }
        }
        let doc = doc();
        let mut all = Vec::new();
        enums(&doc, &mut all);
        let count = all.len();
        all.sort_by_key(|v| v.to_string());
        all.dedup();
        assert_eq!(all.len(), count, "{all:?}");
        // The vocabularies are named schemas; nullable fields refer to them.
        let contact = &doc["components"]["schemas"]["Contact"]["properties"];
        assert_eq!(
            contact["seniority_level"]["anyOf"],
            serde_json::json!([{"$ref": "#/components/schemas/SeniorityLevel"}, {"type": "null"}])
        );
        assert_eq!(
            doc["components"]["schemas"]["EmailStatus"]["enum"],
            serde_json::json!(["valid", "catch_all", "pending", "invalid"])
        );
        let search = &doc["paths"]["/v1/contacts"]["get"]["parameters"];
        let source = search
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "source")
            .unwrap();
        assert_eq!(
            source["schema"]["items"]["$ref"],
            "#/components/schemas/Source"
        );
    }

    #[test]
    fn the_document_names_its_servers_and_license() {
        let doc = doc();
        // The relative server first: tools that read the document from a
        // running server then call that same server.
        assert_eq!(doc["servers"][0]["url"], "/");
        assert_eq!(doc["servers"][1]["url"], "http://127.0.0.1:8080");
        assert_eq!(doc["info"]["license"]["identifier"], "MIT");
        assert_eq!(doc["info"]["license"]["name"], "MIT");
    }
}
