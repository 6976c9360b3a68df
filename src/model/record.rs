//! Companies and contacts as docs/api.md (The record format) defines them, and the
//! rules a JSON record must meet to become one.
//!
//! Validation reports the first field at fault, so the caller can name the
//! line and the field. Rules that need other records (a company that must
//! exist, unique ids) are checked by the ingest layer, which sees them all.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use super::enums::{CountryCode, EmailStatus, Seniority, Source};
use super::industry::Industries;

/// Why one record was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field at fault; `None` when the line is not a JSON object.
    pub field: Option<String>,
    pub reason: String,
}

impl FieldError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }

    /// A line that is not JSON (or not an object).
    pub fn syntax(reason: impl Into<String>) -> Self {
        FieldError {
            field: None,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.reason),
            None => write!(f, "{}", self.reason),
        }
    }
}

impl std::error::Error for FieldError {}

/// A timestamp, kept in UTC and written back as RFC 3339 with `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Parses RFC 3339 (an offset is required). The UTC form must be a
    /// year from 0000 to 9999 too, or it could not be returned as RFC 3339
    /// (`9999-12-31T23:59:59-01:00` is in year 10000 in UTC).
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| (0..=9999).contains(&t.year()))
            .map(Timestamp)
    }

    /// Whole seconds since the epoch and the nanoseconds within that second:
    /// together an exact sort key.
    pub fn parts(&self) -> (i64, u32) {
        (self.0.timestamp(), self.0.timestamp_subsec_nanos())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// The longest `full_name` and `email` taken, in characters. Every prefix
/// of their tokens is indexed (for `q`), which costs the square of a
/// token's length: without a bound one record could take the writer's
/// memory. Far above real names; an email address has at most 320 (64
/// before the `@`, 255 after).
pub const MAX_NAME_CHARS: usize = 1_000;
pub const MAX_EMAIL_CHARS: usize = 320;

fn at_most(s: &str, field: &str, max: usize) -> Result<(), FieldError> {
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// A company (docs/api.md, Companies).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Company {
    pub id: u64,
    pub name: String,
    pub country_code: CountryCode,
    pub org_number: Option<String>,
    pub domain: Option<String>,
    pub industry_ids: Vec<u32>,
}

/// A contact (docs/api.md, Contacts), the Contact Object of the API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: u64,
    pub company_id: u64,
    pub full_name: String,
    pub job_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: Source,
    pub source_url: Option<String>,
    pub verified: bool,
    pub seniority_level: Option<Seniority>,
    pub email_status: Option<EmailStatus>,
    pub department: Option<String>,
    pub quality_score: u8,
    pub confidence: f64,
    pub is_stale: bool,
    pub is_speculative: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The values of a JSON object's keys: the whole object, or only the keys
/// a record reads (`crate::ingest` parses lines that way, without building
/// the object).
pub trait ObjectFields {
    /// The value of `key`, as the object holds it.
    fn field(&self, key: &str) -> Option<&Value>;
}

impl ObjectFields for Map<String, Value> {
    fn field(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

/// Reads the fields of one JSON object, turning each rule into a `FieldError`.
struct Reader<'a, F: ?Sized>(&'a F);

impl<'a, F: ObjectFields + ?Sized> Reader<'a, F> {
    /// The value of a field; `null` counts as missing.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.0.field(field).filter(|v| !v.is_null())
    }

    fn id(&self, field: &str) -> Result<u64, FieldError> {
        match self.get(field) {
            None => Err(FieldError::new(field, "is required")),
            Some(v) => v
                .as_u64()
                .filter(|n| *n >= 1)
                .ok_or_else(|| FieldError::new(field, "must be an integer >= 1")),
        }
    }

    /// An optional string; `null`, `""` and a missing field all give `None`.
    fn opt_str(&self, field: &str) -> Result<Option<String>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(field, "must be a string")),
        }
    }

    fn req_str(&self, field: &str) -> Result<String, FieldError> {
        match self.opt_str(field)? {
            Some(s) => Ok(s),
            _ => Err(FieldError::new(field, "is required and must not be empty")),
        }
    }

    fn bool_or_false(&self, field: &str) -> Result<bool, FieldError> {
        match self.get(field) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(FieldError::new(field, "must be true or false")),
        }
    }

    fn opt_enum<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Option<T>,
        names: fn() -> String,
    ) -> Result<Option<T>, FieldError> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| FieldError::new(field, format!("must be one of: {}", names()))),
        }
    }

    fn timestamp(&self, field: &str) -> Result<Timestamp, FieldError> {
        let s = self.req_str(field)?;
        Timestamp::parse(&s).ok_or_else(|| {
            FieldError::new(
                field,
                "must be an RFC 3339 timestamp with an offset, e.g. 2024-03-01T11:00:00Z, \
                 in the years 0000-9999 (UTC)",
            )
        })
    }
}

fn object(value: &Value) -> Result<&Map<String, Value>, FieldError> {
    value.as_object().ok_or_else(not_an_object)
}

/// A line or element that is JSON but not an object.
pub fn not_an_object() -> FieldError {
    FieldError::syntax("a record must be a JSON object")
}

impl Company {
    /// The keys `from_fields` reads.
    pub const KEYS: &[&str] = &[
        "id",
        "name",
        "country_code",
        "org_number",
        "domain",
        "industry_ids",
    ];

    /// Checks a company record; `industries` is the table its ids must be in.
    pub fn from_json(value: &Value, industries: &Industries) -> Result<Company, FieldError> {
        Company::from_fields(object(value)?, industries)
    }

    /// `from_json` on the fields of an object.
    pub fn from_fields(
        fields: &(impl ObjectFields + ?Sized),
        industries: &Industries,
    ) -> Result<Company, FieldError> {
        let r = Reader(fields);
        let id = r.id("id")?;
        let name = r.req_str("name")?;
        let country_code = match r.get("country_code") {
            None => return Err(FieldError::new("country_code", "is required")),
            Some(v) => v
                .as_str()
                .and_then(CountryCode::parse_assigned)
                .ok_or_else(|| {
                    FieldError::new(
                        "country_code",
                        "must be an assigned ISO 3166-1 alpha-2 code in upper case",
                    )
                })?,
        };
        let org_number = r.opt_str("org_number")?;
        let domain = r.opt_str("domain")?;
        let mut industry_ids = Vec::new();
        match r.get("industry_ids") {
            None => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let id = item
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| FieldError::new("industry_ids", "must hold integer ids"))?;
                    if industries.get(id).is_none() {
                        return Err(FieldError::new(
                            "industry_ids",
                            format!("unknown industry id {id}"),
                        ));
                    }
                    if !industry_ids.contains(&id) {
                        industry_ids.push(id);
                    }
                }
            }
            Some(_) => return Err(FieldError::new("industry_ids", "must be an array of ids")),
        }
        Ok(Company {
            id,
            name,
            country_code,
            org_number,
            domain,
            industry_ids,
        })
    }
}

impl Contact {
    /// The keys `from_fields` reads.
    pub const KEYS: &[&str] = &[
        "id",
        "company_id",
        "full_name",
        "job_title",
        "email",
        "phone",
        "source",
        "source_url",
        "verified",
        "seniority_level",
        "email_status",
        "department",
        "quality_score",
        "confidence",
        "is_stale",
        "is_speculative",
        "created_at",
        "updated_at",
    ];

    /// Checks a contact record on its own (its company is checked by ingest).
    pub fn from_json(value: &Value) -> Result<Contact, FieldError> {
        Contact::from_fields(object(value)?)
    }

    /// `from_json` on the fields of an object.
    pub fn from_fields(fields: &(impl ObjectFields + ?Sized)) -> Result<Contact, FieldError> {
        let r = Reader(fields);
        let id = r.id("id")?;
        let company_id = r.id("company_id")?;
        let full_name = r.req_str("full_name")?;
        at_most(&full_name, "full_name", MAX_NAME_CHARS)?;
        let job_title = r.opt_str("job_title")?;
        let email = r.opt_str("email")?;
        if let Some(email) = &email {
            at_most(email, "email", MAX_EMAIL_CHARS)?;
        }
        let phone = r.opt_str("phone")?;
        let source = r
            .opt_enum("source", Source::parse, Source::names)?
            .ok_or_else(|| {
                FieldError::new("source", format!("is required: one of {}", Source::names()))
            })?;
        let source_url = r.opt_str("source_url")?;
        let verified = r.bool_or_false("verified")?;
        let seniority_level = r.opt_enum("seniority_level", Seniority::parse, Seniority::names)?;
        let email_status = r.opt_enum("email_status", EmailStatus::parse, EmailStatus::names)?;
        let department = r.opt_str("department")?;
        let quality_score = match r.get("quality_score") {
            None => return Err(FieldError::new("quality_score", "is required")),
            // An integral number in any JSON spelling (`50`, `50.0`, `5e1`).
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 255.0)
                        .map(|f| f as u64)
                })
                .filter(|n| *n <= 100)
                .map(|n| n as u8)
                .ok_or_else(|| {
                    FieldError::new("quality_score", "must be an integer from 0 to 100")
                })?,
        };
        let confidence = match r.get("confidence") {
            None => return Err(FieldError::new("confidence", "is required")),
            Some(v) => v
                .as_f64()
                .filter(|n| (0.0..=1.0).contains(n))
                // -0.0 becomes 0.0: equal numbers get one sort key.
                .map(|n| n + 0.0)
                .ok_or_else(|| FieldError::new("confidence", "must be a number from 0.0 to 1.0"))?,
        };
        let is_stale = r.bool_or_false("is_stale")?;
        let is_speculative = r.bool_or_false("is_speculative")?;
        let created_at = r.timestamp("created_at")?;
        let updated_at = r.timestamp("updated_at")?;
        Ok(Contact {
            id,
            company_id,
            full_name,
            job_title,
            email,
            phone,
            source,
            source_url,
            verified,
            seniority_level,
            email_status,
            department,
            quality_score,
            confidence,
            is_stale,
            is_speculative,
            created_at,
            updated_at,
        })
    }

    /// `has_email` (docs/api.md, Parameters): a non-empty email.
    pub fn has_email(&self) -> bool {
        self.email.is_some()
    }

    /// `has_phone` (docs/api.md, Parameters): a non-empty phone.
    pub fn has_phone(&self) -> bool {
        self.phone.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contact() -> Value {
        json!({"id": 1, "company_id": 2, "full_name": "Anna Svensson", "source": "linkedin",
               "quality_score": 80, "confidence": 0.5,
               "created_at": "2024-03-01T12:00:00+01:00", "updated_at": "2024-03-02T00:00:00Z"})
    }

    #[test]
    fn a_minimal_contact_gets_defaults_and_utc_times() {
        let c = Contact::from_json(&contact()).unwrap();
        assert!(!c.verified && !c.is_stale && c.email.is_none());
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["created_at"], "2024-03-01T11:00:00Z");
        assert_eq!(v["job_title"], Value::Null);
        assert_eq!(v["source"], "linkedin");
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: &[(&str, Value)] = &[
            ("id", json!(0)),
            ("company_id", json!("2")),
            ("full_name", json!("")),
            ("full_name", json!(null)),
            ("source", json!("myspace")),
            ("quality_score", json!(101)),
            ("quality_score", json!(5.5)),
            ("confidence", json!(1.5)),
            ("verified", json!("yes")),
            ("email", json!(42)),
            ("created_at", json!("2024-03-01 12:00")),
            ("created_at", json!("9999-12-31T23:59:59-01:00")),
            ("updated_at", json!("0000-01-01T00:00:00+01:00")),
            ("full_name", json!("x".repeat(MAX_NAME_CHARS + 1))),
            (
                "email",
                json!(format!("{}@a.se", "x".repeat(MAX_EMAIL_CHARS))),
            ),
            ("seniority_level", json!("boss")),
        ];
        for (field, bad) in cases {
            let mut v = contact();
            v[*field] = bad.clone();
            let err = Contact::from_json(&v).unwrap_err();
            assert_eq!(err.field.as_deref(), Some(*field), "{field} = {bad}");
        }
        let mut v = contact();
        v.as_object_mut().unwrap().remove("updated_at");
        assert_eq!(
            Contact::from_json(&v).unwrap_err().field.as_deref(),
            Some("updated_at")
        );
        assert_eq!(Contact::from_json(&json!([1])).unwrap_err().field, None);
    }

    #[test]
    fn limits_take_their_boundary_values() {
        let ok = |field: &str, value: Value| {
            let mut v = contact();
            v[field] = value.clone();
            assert!(Contact::from_json(&v).is_ok(), "{field} = {value}");
        };
        ok("full_name", json!("x".repeat(MAX_NAME_CHARS)));
        ok(
            "email",
            json!(format!("{}@a.se", "x".repeat(MAX_EMAIL_CHARS - 5))),
        );
        ok("created_at", json!("9999-12-31T23:59:59Z"));
        ok("created_at", json!("0000-01-01T00:00:00Z"));
        ok("updated_at", json!("9999-12-31T23:59:59+01:00"));
    }

    #[test]
    fn an_integral_quality_score_may_be_spelled_as_a_float() {
        for (given, stored) in [(json!(50.0), 50), (json!(5e1), 50), (json!(100.0), 100)] {
            let mut v = contact();
            v["quality_score"] = given.clone();
            let c = Contact::from_json(&v).unwrap();
            assert_eq!(c.quality_score, stored, "{given}");
            assert_eq!(
                serde_json::to_value(&c).unwrap()["quality_score"],
                json!(stored)
            );
        }
        for bad in [json!(50.5), json!(100.5), json!(-1.0), json!(1e3)] {
            let mut v = contact();
            v["quality_score"] = bad.clone();
            assert!(Contact::from_json(&v).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_strings_and_nulls_are_missing() {
        let mut v = contact();
        v["email"] = json!("");
        v["phone"] = Value::Null;
        let c = Contact::from_json(&v).unwrap();
        assert!(!c.has_email() && !c.has_phone());
    }

    #[test]
    fn companies_check_country_and_industries() {
        let t = Industries::bundled();
        let ok = json!({"id": 1, "name": "Acme AB", "country_code": "SE", "industry_ids": [1, 1]});
        assert_eq!(Company::from_json(&ok, t).unwrap().industry_ids, vec![1]);
        let bad = json!({"id": 1, "name": "Acme AB", "country_code": "se"});
        assert_eq!(
            Company::from_json(&bad, t).unwrap_err().field.as_deref(),
            Some("country_code")
        );
        let bad =
            json!({"id": 1, "name": "Acme AB", "country_code": "SE", "industry_ids": [999999]});
        assert_eq!(
            Company::from_json(&bad, t).unwrap_err().field.as_deref(),
            Some("industry_ids")
        );
    }
}
