//! The schema types of the OpenAPI document (`openapi.rs`): the bodies the
//! handlers answer and take, and the query parameters of each read, built
//! from `query::param_defs`. The handlers refer to these types in their
//! `#[utoipa::path]` annotations; nothing here imports a handler, so the
//! document (which lists the handlers) sits above both.

// The types below only describe JSON that the handlers build from stored
// records; they are never constructed.
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    AnyOfBuilder, Array, ArrayBuilder, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, ToSchema};

use crate::model::Industries;
use crate::query::param_defs::{
    self, Endpoint, Item, Kind, LEVELS, MAX_LIST_VALUES, MAX_Q_CHARS, Param,
};

pub(super) fn strings(values: impl IntoIterator<Item = &'static str>) -> Object {
    let values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

pub(super) fn named(name: &str) -> Ref {
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

/// The schema of one list item.
fn item_schema(item: Item) -> RefOr<Schema> {
    match item {
        Item::Of(vocab) => named(vocab.schema_name()).into(),
        Item::IndustryId => industry_id().into(),
        Item::AnyIndustryId => Schema::from(integer(0, u32::MAX.into())).into(),
        Item::Section => Schema::from(pattern("^[A-Ua-u]$")).into(),
        Item::Level => {
            Schema::from(integer((*LEVELS.start()).into(), (*LEVELS.end()).into())).into()
        }
        Item::Country => Schema::from(country()).into(),
        Item::Text => Schema::from(pattern("^[^,]*$")).into(),
    }
}

/// The OpenAPI parameter of a table entry.
fn parameter(p: &Param) -> Parameter {
    let schema: RefOr<Schema> = match p.kind {
        Kind::Id => Schema::from(positive_id()).into(),
        Kind::Text => Schema::from(text(MAX_Q_CHARS)).into(),
        Kind::Bool => Schema::from(boolean()).into(),
        Kind::Int { min, max } => Schema::from(integer(
            i64::try_from(min).unwrap_or(i64::MAX),
            i64::try_from(max).unwrap_or(i64::MAX),
        ))
        .into(),
        Kind::Fraction => Schema::from(fraction()).into(),
        Kind::One(vocab) => named(vocab.schema_name()).into(),
        Kind::Token => Schema::from(ObjectBuilder::new().schema_type(Type::String).build()).into(),
        Kind::List(item) => return list_param(p.name, p.doc, item_schema(item)),
    };
    param(p.name, p.doc, schema)
}

/// The query parameters of `endpoint`, from the parameter table.
fn parameters(endpoint: Endpoint) -> Vec<Parameter> {
    param_defs::taken_by(endpoint).map(parameter).collect()
}

/// The query parameters of `GET /v1/contacts`.
pub struct SearchParams;

impl IntoParams for SearchParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        parameters(Endpoint::Search)
    }
}

/// The query parameters of `GET /v1/contacts/suggest`.
pub struct SuggestParams;

impl IntoParams for SuggestParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        parameters(Endpoint::Suggest)
    }
}

/// The query parameters of `GET /v1/industries`.
pub struct IndustryParams;

impl IntoParams for IndustryParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        parameters(Endpoint::Industries)
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
