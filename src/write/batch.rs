//! Parsing a JSON Lines request body into a batch, all or nothing.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::ingest::{RecordError, is_blank, parse_company, parse_contact};
use crate::model::{Company, Contact, FieldError, Industries};

/// The most bad lines one answer lists.
pub const MAX_REPORTED: usize = 100;

/// The records of a body, and its bad lines in line order.
pub struct Parsed<T> {
    pub records: Vec<(usize, T)>,
    pub errors: Vec<RecordError>,
}

impl<T> Parsed<T> {
    /// Adds the errors of checks made after parsing; all or nothing. Every
    /// bad line is returned; the answer lists the first `MAX_REPORTED`.
    pub fn finish(mut self, more: Vec<RecordError>) -> Result<Vec<(usize, T)>, Vec<RecordError>> {
        self.errors.extend(more);
        if self.errors.is_empty() {
            return Ok(self.records);
        }
        self.errors.sort_by_key(|e| e.line);
        Err(self.errors)
    }
}

/// Parses every non-blank line with `parse`, in parallel; a repeated id is
/// an error too.
fn parse_lines<T: Send>(
    body: &[u8],
    parse: impl Fn(&str) -> Result<T, FieldError> + Sync,
    id_of: impl Fn(&T) -> u64,
) -> Parsed<T> {
    let body = crate::ingest::strip_bom(body);
    let lines: Vec<(usize, &[u8])> = body
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .collect();
    let parsed: Vec<(usize, Option<Result<T, FieldError>>)> = super::pool().install(|| {
        lines
            .into_par_iter()
            .map(|(line, bytes)| match std::str::from_utf8(bytes) {
                Ok(text) if is_blank(text) => (line, None),
                Ok(text) => (line, Some(parse(text))),
                Err(_) => (
                    line,
                    Some(Err(FieldError::syntax("line is not valid UTF-8"))),
                ),
            })
            .collect()
    });
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of: HashMap<u64, usize> = HashMap::new();
    for (line, result) in parsed {
        match result {
            None => {}
            Some(Err(e)) => errors.push(RecordError::new(line, e)),
            Some(Ok(record)) => {
                let id = id_of(&record);
                if let Some(first) = first_line_of.insert(id, line) {
                    errors.push(RecordError {
                        line,
                        field: Some("id".into()),
                        reason: format!("id {id} appears twice in the batch (also line {first})"),
                    });
                } else {
                    records.push((line, record));
                }
            }
        }
    }
    Parsed { records, errors }
}

/// A `PUT /v1/contacts` body.
pub fn parse_contacts(body: &[u8]) -> Parsed<Contact> {
    parse_lines(body, parse_contact, |c| c.id)
}

/// A `PUT /v1/companies` body.
pub fn parse_companies(body: &[u8], industries: &Industries) -> Parsed<Company> {
    parse_lines(body, |l| parse_company(l, industries), |c| c.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, field) of each bad line of a company body.
    fn bad_lines(body: &[u8]) -> Vec<(usize, Option<String>)> {
        parse_companies(body, Industries::bundled())
            .finish(vec![])
            .unwrap_err()
            .into_iter()
            .map(|e| (e.line, e.field))
            .collect()
    }

    #[test]
    fn bad_lines_are_listed_with_line_and_field() {
        let body = b"{\"id\": 1, \"name\": \"A\", \"country_code\": \"SE\"}\n\nnot json\n{\"id\": 1, \"name\": \"B\", \"country_code\": \"NO\"}\n{\"id\": 2, \"name\": \"\", \"country_code\": \"NO\"}\r\n";
        assert_eq!(
            bad_lines(body),
            [(3, None), (4, Some("id".into())), (5, Some("name".into()))]
        );
        let ok = parse_companies(
            b"{\"id\": 1, \"name\": \"A\", \"country_code\": \"SE\"}\r\n",
            Industries::bundled(),
        );
        assert_eq!(ok.finish(vec![]).unwrap().len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_line() {
        let body = "\u{feff}{\"id\": 1, \"name\": \"A\", \"country_code\": \"SE\"}\n";
        let ok = parse_companies(body.as_bytes(), Industries::bundled());
        assert_eq!(ok.finish(vec![]).unwrap().len(), 1);
        // Line numbers stay those of the file.
        let bad = "\u{feff}{\"id\": 1, \"name\": \"\"}\nnot json\n";
        assert_eq!(
            bad_lines(bad.as_bytes()),
            [(1, Some("name".into())), (2, None)]
        );
    }
}
