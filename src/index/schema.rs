//! The index schema, built from the declaration in `index_schema/schema.json`
//! (the one place fields and their options are written down).

use serde::Deserialize;
use tantivy::schema::{
    BytesOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};

/// The declaration, compiled into the binary.
pub const SCHEMA_JSON: &str = include_str!("../../index_schema/schema.json");

#[derive(Deserialize)]
struct Declaration {
    version: u32,
    fields: Vec<FieldDecl>,
}

#[derive(Deserialize)]
struct FieldDecl {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    indexed: bool,
    #[serde(default)]
    fast: bool,
    #[serde(default)]
    stored: bool,
    #[serde(default)]
    tokenizer: Option<String>,
}

/// Handles to every field the code uses, checked against the declaration.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub record: Field,
    pub name_prefix: Field,
    pub email_prefix: Field,
    pub name_token: Field,
    pub accent_prefix: Field,
    pub title_token: Field,
    pub department: Field,
    pub source: Field,
    pub seniority_level: Field,
    pub email_status: Field,
    pub quality_score: Field,
    pub confidence: Field,
    pub created_at_s: Field,
    pub created_at_ns: Field,
    pub name_sort: Field,
    pub country: Field,
    pub section: Field,
    pub tag: Field,
}

/// Fast-field column names, for the search engine.
pub mod columns {
    pub const ID: &str = "id";
    pub const QUALITY: &str = "quality_score";
    pub const CONFIDENCE: &str = "confidence";
    pub const CREATED_S: &str = "created_at_s";
    pub const CREATED_NS: &str = "created_at_ns";
    pub const NAME_SORT: &str = "name_sort";
    pub const COUNTRY: &str = "country";
    pub const SECTION: &str = "section";
    pub const SENIORITY: &str = "seniority_level";
    pub const DEPARTMENT: &str = "department";
    pub const SOURCE: &str = "source";
    pub const EMAIL_STATUS: &str = "email_status";
}

/// The schema with its version and field handles.
#[derive(Debug, Clone)]
pub struct IndexSchema {
    pub version: u32,
    pub schema: Schema,
    pub fields: Fields,
}

impl IndexSchema {
    /// Builds the declared schema.
    pub fn declared() -> anyhow::Result<IndexSchema> {
        let decl: Declaration = serde_json::from_str(SCHEMA_JSON)?;
        let mut builder = Schema::builder();
        for f in &decl.fields {
            match f.kind.as_str() {
                "u64" | "i64" | "f64" | "bool" => {
                    let mut opts = NumericOptions::default();
                    if f.indexed {
                        opts = opts.set_indexed();
                    }
                    if f.fast {
                        opts = opts.set_fast();
                    }
                    if f.stored {
                        opts = opts.set_stored();
                    }
                    match f.kind.as_str() {
                        "u64" => builder.add_u64_field(&f.name, opts),
                        "i64" => builder.add_i64_field(&f.name, opts),
                        "f64" => builder.add_f64_field(&f.name, opts),
                        _ => builder.add_bool_field(&f.name, opts),
                    };
                }
                "str" => {
                    let mut opts = TextOptions::default();
                    if f.indexed {
                        // Terms are computed by the code (`raw`: the value is
                        // the term; `whitespace`: terms joined by spaces);
                        // only membership matters.
                        opts = opts.set_indexing_options(
                            TextFieldIndexing::default()
                                .set_tokenizer(f.tokenizer.as_deref().unwrap_or("raw"))
                                .set_index_option(IndexRecordOption::Basic)
                                .set_fieldnorms(false),
                        );
                    }
                    if f.fast {
                        opts = opts.set_fast("raw");
                    }
                    if f.stored {
                        opts = opts.set_stored();
                    }
                    builder.add_text_field(&f.name, opts);
                }
                "bytes" => {
                    let mut opts = BytesOptions::default();
                    if f.stored {
                        opts = opts.set_stored();
                    }
                    builder.add_bytes_field(&f.name, opts);
                }
                other => anyhow::bail!("schema.json: field {}: unknown type {other}", f.name),
            }
        }
        let schema = builder.build();
        let get = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| anyhow::anyhow!("schema.json does not declare field `{name}`"))
        };
        let fields = Fields {
            id: get("id")?,
            record: get("record")?,
            name_prefix: get("name_prefix")?,
            email_prefix: get("email_prefix")?,
            name_token: get("name_token")?,
            accent_prefix: get("accent_prefix")?,
            title_token: get("title_token")?,
            department: get("department")?,
            source: get("source")?,
            seniority_level: get("seniority_level")?,
            email_status: get("email_status")?,
            quality_score: get("quality_score")?,
            confidence: get("confidence")?,
            created_at_s: get("created_at_s")?,
            created_at_ns: get("created_at_ns")?,
            name_sort: get("name_sort")?,
            country: get("country")?,
            section: get("section")?,
            tag: get("tag")?,
        };
        Ok(IndexSchema {
            version: decl.version,
            schema,
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_builds_every_field() {
        let s = IndexSchema::declared().unwrap();
        assert!(s.version >= 1);
        assert!(s.schema.get_field_entry(s.fields.id).is_fast());
        assert!(s.schema.get_field_entry(s.fields.record).is_stored());
        for name in [
            columns::ID,
            columns::QUALITY,
            columns::CONFIDENCE,
            columns::CREATED_S,
            columns::CREATED_NS,
            columns::NAME_SORT,
            columns::COUNTRY,
            columns::SECTION,
            columns::SENIORITY,
            columns::DEPARTMENT,
            columns::SOURCE,
            columns::EMAIL_STATUS,
        ] {
            let f = s.schema.get_field(name).unwrap();
            assert!(s.schema.get_field_entry(f).is_fast(), "{name} must be fast");
        }
    }
}
