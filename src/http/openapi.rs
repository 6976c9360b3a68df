//! The OpenAPI 3.1 document served at `GET /openapi.json`.
//!
//! Generated, not hand-written: the operations come from the handlers'
//! `#[utoipa::path]` annotations, the bodies and query parameters from the
//! schema types of `schema.rs` (the parameters from the same table that
//! `query::params` parses with, `query::param_defs`), and the vocabularies
//! from the types that validate them, so the document cannot drift from
//! what the server accepts without the tests here or schemathesis in CI
//! noticing.
//!
//! It is written for client generators as much as for readers: every closed
//! vocabulary is one named schema (a generator makes one enum of it, not one
//! per use), write bodies are JSON Lines text whose line format is a named
//! schema, and reads carry an optional key. `.ci/clients.sh` lints the served
//! document and drives a Python and a TypeScript client generated from it.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Required};
use utoipa::{Modify, OpenApi};

use super::handlers;
use super::schema::{CompanyInputDoc, ContactInputDoc, named, strings};
use crate::error::ErrorCode;
use crate::model::{EmailStatus, Seniority, Source};
use crate::query::request::{Facet, Sort, SortKey};

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
            SortKey::CHOSEN.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "SortOrder",
            "A sort direction.",
            Sort::ORDERS.iter().map(|(name, _)| *name).collect(),
        ),
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

/// This OpenAPI document
///
/// The OpenAPI 3.1 description of this API, generated from the server's own
/// code.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)))]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
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
        serve,
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
    use crate::model::Industries;
    use crate::query::params::ParamErrorKind;
    use crate::query::request::{IndustryListRequest, SearchRequest, SuggestRequest};
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
        let e = IndustryListRequest::parse(unknown).unwrap_err();
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
