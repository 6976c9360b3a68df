//! Getting records into the index: parsing JSON Lines, validating whole
//! batches, and building a fresh index from files.

pub mod build;

use serde_json::Value;

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

fn parse_json(line: &str) -> Result<Value, FieldError> {
    serde_json::from_str(line).map_err(|e| FieldError::syntax(format!("not valid JSON: {e}")))
}

/// One line of `companies.jsonl`.
pub fn parse_company(line: &str, industries: &Industries) -> Result<Company, FieldError> {
    Company::from_json(&parse_json(line)?, industries)
}

/// One line of `contacts.jsonl` (its company is checked by the caller).
pub fn parse_contact(line: &str) -> Result<Contact, FieldError> {
    Contact::from_json(&parse_json(line)?)
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
