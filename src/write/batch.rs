//! Parsing a JSON Lines request body into a batch, all or nothing, as the
//! body arrives.
//!
//! Memory is bounded by design: a body is fed in pieces, only its complete
//! lines are parsed, and those in groups of `GROUP` non-blank lines (in
//! parallel within a group), so what a body costs beyond its records is a
//! group's worth of parse results. Blank lines cost nothing; of the bad
//! lines only the first `MAX_REPORTED` are kept (the rest are counted). A
//! body of a million blank or invalid lines once took 200× its size: a
//! line list, a parse result per line and an error per bad line, all at
//! once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rayon::prelude::*;

use crate::ingest::{RecordError, is_blank, parse_company, parse_contact};
use crate::model::{Company, Contact, FieldError, Industries};

/// The most bad lines one answer lists.
pub const MAX_REPORTED: usize = 100;
/// Non-blank lines parsed side by side, at most.
const GROUP: usize = 1024;

/// The known companies, which contact lines must name.
pub type Companies = Arc<RwLock<HashMap<u64, Company>>>;

/// A kind of record a write body holds.
pub trait Record: Sized + Send {
    fn parse(line: &str, industries: &Industries) -> Result<Self, FieldError>;
    fn id(&self) -> u64;
    /// The company the record must name, if any.
    fn company(&self) -> Option<u64>;
}

impl Record for Contact {
    fn parse(line: &str, _: &Industries) -> Result<Self, FieldError> {
        parse_contact(line)
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn company(&self) -> Option<u64> {
        Some(self.company_id)
    }
}

impl Record for Company {
    fn parse(line: &str, industries: &Industries) -> Result<Self, FieldError> {
        parse_company(line, industries)
    }
    fn id(&self) -> u64 {
        self.id
    }
    fn company(&self) -> Option<u64> {
        None
    }
}

/// Why a batch was refused: its first bad lines, in line order, and how
/// many there are in all.
#[derive(Debug)]
pub struct BadLines {
    pub first: Vec<RecordError>,
    pub total: usize,
}

impl std::fmt::Display for BadLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.first.first() {
            Some(first) if self.total == 1 => write!(f, "the batch was not applied: {first}"),
            Some(first) => write!(
                f,
                "the batch was not applied: {} bad lines, the first: {first}",
                self.total
            ),
            None => f.write_str("the batch was not applied"),
        }
    }
}

impl std::error::Error for BadLines {}

/// A body being parsed (see the module documentation).
pub struct BodyParser<T> {
    industries: &'static Industries,
    /// Contact lines must name one of these (checked again when applied).
    companies: Option<Companies>,
    /// The unfinished last line of what was fed so far.
    tail: Vec<u8>,
    /// Lines seen so far.
    line: usize,
    records: Vec<(usize, T)>,
    first_line_of: HashMap<u64, usize>,
    errors: Vec<RecordError>,
    bad: usize,
}

impl<T: Record> BodyParser<T> {
    pub fn new(industries: &'static Industries, companies: Option<Companies>) -> Self {
        BodyParser {
            industries,
            companies,
            tail: Vec::new(),
            line: 0,
            records: Vec::new(),
            first_line_of: HashMap::new(),
            errors: Vec::new(),
            bad: 0,
        }
    }

    /// Takes the next piece of the body; parses the lines it completes.
    pub fn feed(&mut self, bytes: &[u8]) {
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
            self.tail.extend_from_slice(bytes);
            return;
        };
        let (complete, rest) = bytes.split_at(end + 1);
        let mut lines = complete[..end].split(|b| *b == b'\n');
        // The line begun in an earlier piece.
        let mut joined = std::mem::take(&mut self.tail);
        joined.extend_from_slice(lines.next().unwrap_or_default());
        let mut group = Vec::with_capacity(GROUP);
        for line in std::iter::once(joined.as_slice()).chain(lines) {
            if let Some(line) = self.next_line(line) {
                group.push(line);
                if group.len() == GROUP {
                    self.parse_group(&mut group);
                }
            }
        }
        self.parse_group(&mut group);
        joined.clear();
        joined.extend_from_slice(rest);
        self.tail = joined;
    }

    /// The records, or why the batch is refused; all or nothing.
    pub fn finish(mut self) -> Result<Vec<(usize, T)>, BadLines> {
        let last = std::mem::take(&mut self.tail);
        let mut group: Vec<_> = self.next_line(&last).into_iter().collect();
        self.parse_group(&mut group);
        if self.bad == 0 {
            Ok(self.records)
        } else {
            Err(BadLines {
                first: self.errors,
                total: self.bad,
            })
        }
    }

    /// Numbers the next line; `None` when it is blank.
    fn next_line<'a>(&mut self, bytes: &'a [u8]) -> Option<(usize, &'a [u8])> {
        self.line += 1;
        let mut bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if self.line == 1 {
            bytes = crate::ingest::strip_bom(bytes);
        }
        // Most blank lines are ASCII; others are told apart once parsed.
        (!bytes.iter().all(u8::is_ascii_whitespace)).then_some((self.line, bytes))
    }

    /// Parses a group of lines side by side (they borrow the body: no copy
    /// is made, and nothing is allocated on one thread to be freed on
    /// another, which left the allocator holding freed memory per thread).
    fn parse_group(&mut self, group: &mut Vec<(usize, &[u8])>) {
        if group.is_empty() {
            return;
        }
        let industries = self.industries;
        let parsed: Vec<(usize, Option<Result<T, FieldError>>)> = super::pool().install(|| {
            group
                .par_iter()
                .map(|&(line, bytes)| match std::str::from_utf8(bytes) {
                    Ok(text) if is_blank(text) => (line, None),
                    Ok(text) => (line, Some(T::parse(text, industries))),
                    Err(_) => (
                        line,
                        Some(Err(FieldError::syntax("line is not valid UTF-8"))),
                    ),
                })
                .collect()
        });
        group.clear();
        let companies = self.companies.clone();
        let known = companies
            .as_ref()
            .map(|c| c.read().unwrap_or_else(|e| e.into_inner()));
        for (line, result) in parsed {
            match result {
                None => {}
                Some(Err(e)) => self.bad_line(RecordError::new(line, e)),
                Some(Ok(record)) => {
                    let id = record.id();
                    if let Some(first) = self.first_line_of.insert(id, line) {
                        self.bad_line(RecordError {
                            line,
                            field: Some("id".into()),
                            reason: format!(
                                "id {id} appears twice in the batch (also line {first})"
                            ),
                        });
                    } else if let (Some(company), Some(known)) = (record.company(), &known)
                        && !known.contains_key(&company)
                    {
                        self.bad_line(unknown_company(line, company));
                    } else if self.bad == 0 {
                        self.records.push((line, record));
                    }
                }
            }
        }
        // A refused batch keeps no records: they would only be dropped.
        if self.bad > 0 {
            self.records = Vec::new();
        }
    }

    fn bad_line(&mut self, e: RecordError) {
        self.bad += 1;
        if self.errors.len() < MAX_REPORTED {
            self.errors.push(e);
        }
    }
}

/// The error of a contact line naming a company that does not exist.
pub fn unknown_company(line: usize, company: u64) -> RecordError {
    RecordError {
        line,
        field: Some("company_id".into()),
        reason: format!("no company with id {company}"),
    }
}

/// Parses a whole body at once (tests and tools).
pub fn parse<T: Record>(
    body: &[u8],
    industries: &'static Industries,
    companies: Option<Companies>,
) -> Result<Vec<(usize, T)>, BadLines> {
    let mut parser = BodyParser::new(industries, companies);
    parser.feed(body);
    parser.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, field) of each bad line of a company body.
    fn bad_lines(body: &[u8]) -> Vec<(usize, Option<String>)> {
        parse::<Company>(body, Industries::bundled(), None)
            .unwrap_err()
            .first
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
        let ok = parse::<Company>(
            b"{\"id\": 1, \"name\": \"A\", \"country_code\": \"SE\"}\r\n",
            Industries::bundled(),
            None,
        );
        assert_eq!(ok.unwrap().len(), 1);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_line() {
        let body = "\u{feff}{\"id\": 1, \"name\": \"A\", \"country_code\": \"SE\"}\n";
        let ok = parse::<Company>(body.as_bytes(), Industries::bundled(), None);
        assert_eq!(ok.unwrap().len(), 1);
        // Line numbers stay those of the file.
        let bad = "\u{feff}{\"id\": 1, \"name\": \"\"}\nnot json\n";
        assert_eq!(
            bad_lines(bad.as_bytes()),
            [(1, Some("name".into())), (2, None)]
        );
    }

    #[test]
    fn a_body_fed_in_pieces_reads_as_the_whole() {
        let mut body = Vec::new();
        for id in 1..=3000 {
            body.extend_from_slice(
                format!("{{\"id\": {id}, \"name\": \"A\", \"country_code\": \"SE\"}}\r\n\n  \n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            "not json\n\u{3000}\n{\"id\": 7, \"name\": \"B\", \"country_code\": \"SE\"}".as_bytes(),
        );
        for piece in [1, 7, 4096, body.len()] {
            let mut parser = BodyParser::<Company>::new(Industries::bundled(), None);
            for chunk in body.chunks(piece) {
                parser.feed(chunk);
            }
            let bad = parser.finish().unwrap_err();
            assert_eq!(bad.total, 2);
            let lines: Vec<_> = bad
                .first
                .iter()
                .map(|e| (e.line, e.field.clone()))
                .collect();
            assert_eq!(lines, [(9001, None), (9003, Some("id".into()))]);
        }
    }

    #[test]
    fn only_the_first_bad_lines_are_kept_but_all_are_counted() {
        let body = "x\n\n".repeat(250);
        let bad = parse::<Company>(body.as_bytes(), Industries::bundled(), None).unwrap_err();
        assert_eq!(bad.total, 250);
        assert_eq!(bad.first.len(), MAX_REPORTED);
        assert_eq!(bad.first[99].line, 199);
    }

    #[test]
    fn contacts_of_unknown_companies_are_bad_lines_in_line_order() {
        let known: Companies = Arc::default();
        let line = |id: u64, company: u64| {
            format!(
                "{{\"id\":{id},\"company_id\":{company},\"full_name\":\"A B\",\"source\":\"manual\",\"quality_score\":1,\"confidence\":0.5,\"created_at\":\"2021-01-01T00:00:00Z\",\"updated_at\":\"2021-01-01T00:00:00Z\"}}\n"
            )
        };
        let body = format!("{}not json\n{}", line(1, 5), line(1, 6));
        let bad =
            parse::<Contact>(body.as_bytes(), Industries::bundled(), Some(known)).unwrap_err();
        let lines: Vec<_> = bad
            .first
            .iter()
            .map(|e| (e.line, e.field.clone()))
            .collect();
        assert_eq!(
            lines,
            [
                (1, Some("company_id".into())),
                (2, None),
                (3, Some("id".into()))
            ]
        );
    }
}
