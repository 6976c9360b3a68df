//! Getting records into the index: parsing JSON Lines, validating whole
//! batches, and building a fresh index from files.

pub mod build;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::model::record::{ObjectFields, not_an_object};
use crate::model::{Company, Contact, FieldError, Industries};

/// A refused record, located in its input.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordError {
    /// 1-based line number.
    pub line: usize,
    pub field: Option<String>,
    pub reason: String,
}

impl RecordError {
    pub fn new(line: usize, e: FieldError) -> Self {
        RecordError {
            line,
            field: e.field,
            reason: e.reason,
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: field `{field}`: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for RecordError {}

/// One line of `companies.jsonl`.
pub fn parse_company(line: &str, industries: &Industries) -> Result<Company, FieldError> {
    Company::from_fields(&parse_keys(line, Company::KEYS)?, industries)
}

/// One line of `contacts.jsonl` (its company is checked by the caller).
pub fn parse_contact(line: &str) -> Result<Contact, FieldError> {
    Contact::from_fields(&parse_keys(line, Contact::KEYS)?)
}

/// The values of `keys` in a line holding one JSON object.
///
/// A line is read as `serde_json::Value` would read it (the same syntax
/// errors, nesting limit, and a repeated key's last value), but only the
/// values of `keys` are kept: building the whole object (a map, a string
/// per key) was a third of the parsing time of a bulk build.
fn parse_keys(line: &str, keys: &'static [&'static str]) -> Result<KnownKeys, FieldError> {
    let mut de = serde_json::Deserializer::from_str(line);
    let parsed = (LineSeed { keys })
        .deserialize(&mut de)
        .and_then(|parsed| de.end().map(|()| parsed))
        .map_err(|e| FieldError::syntax(format!("not valid JSON: {e}")))?;
    parsed.ok_or_else(not_an_object)
}

/// The values of some keys of an object (`parse_keys`).
struct KnownKeys {
    keys: &'static [&'static str],
    values: Vec<Option<Value>>,
}

impl ObjectFields for KnownKeys {
    fn field(&self, key: &str) -> Option<&Value> {
        let at = self.keys.iter().position(|k| *k == key);
        debug_assert!(at.is_some(), "`{key}` is read but not kept");
        self.values[at?].as_ref()
    }
}

/// Reads a line's value: `Some` for an object, `None` for any other JSON.
struct LineSeed {
    keys: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for LineSeed {
    type Value = Option<KnownKeys>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed {
    type Value = Option<KnownKeys>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = vec![None; self.keys.len()];
        while let Some(key) = map.next_key_seed(KeySeed { keys: self.keys })? {
            match key {
                Some(at) => values[at] = Some(map.next_value::<Value>()?),
                // Read as a `Value` all the same: the same nesting limit.
                None => {
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(Some(KnownKeys {
            keys: self.keys,
            values,
        }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Value>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An object key: its place in `keys`, or `None` for a key not read.
struct KeySeed {
    keys: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.keys.iter().position(|k| *k == key))
    }
}

/// `bytes` without the byte order mark some editors put at the start of a
/// UTF-8 file: it is not part of the first record.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
}

/// Lines that hold nothing but white space are not records.
pub fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const CONTACT: &str = r#"{"id":7,"company_id":3,"full_name":"Anna Öberg","job_title":"CTO","email":"anna@acme.se","phone":"+46 8 123","source":"website","source_url":"https://acme.se","verified":true,"seniority_level":"executive","email_status":"valid","department":"IT","quality_score":50,"confidence":0.5,"is_stale":false,"is_speculative":true,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-02T00:00:00+01:00"}"#;
    const COMPANY: &str =
        r#"{"id":3,"name":"Acme AB","country_code":"SE","domain":"acme.se","industry_ids":[1]}"#;

    /// What reading the line as a whole `Value` gives.
    fn via_value<T>(
        line: &str,
        read: impl Fn(&Value) -> Result<T, FieldError>,
    ) -> Result<T, FieldError> {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| FieldError::syntax(format!("not valid JSON: {e}")))?;
        read(&value)
    }

    /// Pieces that, spliced into a record, make every kind of line: other
    /// JSON, broken JSON, repeated keys, nulls, wrong types, deep nesting.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("\"id\":".to_owned()),
            Just("\"id\":0,".to_owned()),
            Just("\"quality_score\":5e1,".to_owned()),
            Just("\"email\":null,".to_owned()),
            Just("\"full_name\":\"B\\u00f6rje\",".to_owned()),
            Just("\"extra\":{\"a\":[1,2,{}]},".to_owned()),
            Just("\"n\u{e4}me\":1,".to_owned()),
            Just("\"verified\":\"yes\",".to_owned()),
            Just("\"industry_ids\":[2,2],".to_owned()),
            Just("\"country_code\":\"NO\",".to_owned()),
            Just("[".repeat(130)),
            Just("\"deep\":".to_owned() + &"[".repeat(127) + &"]".repeat(127) + ","),
            Just("\"deep\":".to_owned() + &"[".repeat(128) + &"]".repeat(128) + ","),
            Just("}".to_owned()),
            Just(",".to_owned()),
            Just("\\".to_owned()),
            "[ -~]{0,3}",
        ]
    }

    fn line(base: &'static str) -> impl Strategy<Value = String> {
        (0..=base.len(), piece(), prop::bool::ANY, 0..=base.len()).prop_map(
            move |(at, piece, cut, cut_at)| {
                let mut at = at.min(base.len());
                while !base.is_char_boundary(at) {
                    at -= 1;
                }
                let mut s = format!("{}{}{}", &base[..at], piece, &base[at..]);
                if cut {
                    let mut c = cut_at.min(s.len());
                    while !s.is_char_boundary(c) {
                        c -= 1;
                    }
                    s.truncate(c);
                }
                s
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_contact_line_reads_as_its_whole_value_would(line in line(CONTACT)) {
            prop_assert_eq!(parse_contact(&line), via_value(&line, Contact::from_json));
        }

        #[test]
        fn a_company_line_reads_as_its_whole_value_would(line in line(COMPANY)) {
            let t = Industries::bundled();
            prop_assert_eq!(
                parse_company(&line, t),
                via_value(&line, |v| Company::from_json(v, t))
            );
        }
    }

    #[test]
    fn lines_that_are_not_objects() {
        for line in ["1", "\"x\"", "null", "true", "[1,{}]", "-2.5", "[]"] {
            assert_eq!(parse_contact(line).unwrap_err(), not_an_object(), "{line}");
        }
        let deep = "[".repeat(200);
        assert!(
            parse_contact(&deep)
                .unwrap_err()
                .reason
                .contains("recursion limit")
        );
        assert!(parse_contact(CONTACT).is_ok());
        assert!(parse_company(COMPANY, Industries::bundled()).is_ok());
    }
}
