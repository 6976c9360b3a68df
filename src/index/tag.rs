//! The keyword values filters select on, as terms of one indexed field.
//!
//! Each indexed field costs Tantivy a term dictionary (a finite-state
//! transducer, whose builder sets up a 20,000-entry node registry) in every
//! segment it writes, whatever the segment's size. A one-record commit writes
//! a segment, so that fixed cost was most of the CPU of a small write with
//! one field per filter. The values that filters only test for equality
//! (company, department, source, seniority, email status, flags, country,
//! industry) therefore share the `tag` field, each term prefixed with what
//! it is: `country:3`, `department:sales`. Text fields that are searched by
//! prefix or scanned (`q`, job titles) keep fields of their own; facets read
//! fast columns, not terms.

use tantivy::Term;

use super::Fields;

/// One keyword value of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag<'a> {
    /// The company of a contact (`company_id`).
    Company(u64),
    /// The id of a company record (its upsert key).
    CompanyRecord(u64),
    /// A normalized department.
    Department(&'a str),
    Source(u64),
    Seniority(u64),
    EmailStatus(u64),
    Verified(bool),
    HasEmail(bool),
    HasPhone(bool),
    /// Staleness and speculation joined (`document::visibility`).
    Visibility(u64),
    Country(u64),
    Industry(u64),
}

impl Tag<'_> {
    /// The term's text: a name for the kind of value, `:`, the value.
    pub fn text(&self) -> String {
        let flag = |b: bool| u64::from(b);
        match *self {
            Tag::Company(v) => format!("company:{v}"),
            Tag::CompanyRecord(v) => format!("company_record:{v}"),
            Tag::Department(v) => format!("department:{v}"),
            Tag::Source(v) => format!("source:{v}"),
            Tag::Seniority(v) => format!("seniority:{v}"),
            Tag::EmailStatus(v) => format!("email_status:{v}"),
            Tag::Verified(v) => format!("verified:{}", flag(v)),
            Tag::HasEmail(v) => format!("has_email:{}", flag(v)),
            Tag::HasPhone(v) => format!("has_phone:{}", flag(v)),
            Tag::Visibility(v) => format!("visibility:{v}"),
            Tag::Country(v) => format!("country:{v}"),
            Tag::Industry(v) => format!("industry:{v}"),
        }
    }

    /// The tag a term's text names: the inverse of `text`.
    pub fn parse(text: &str) -> Option<Tag<'_>> {
        let (kind, value) = text.split_once(':')?;
        let code = || value.parse::<u64>().ok();
        let flag = || match value {
            "0" => Some(false),
            "1" => Some(true),
            _ => None,
        };
        Some(match kind {
            "company" => Tag::Company(code()?),
            "company_record" => Tag::CompanyRecord(code()?),
            "department" => Tag::Department(value),
            "source" => Tag::Source(code()?),
            "seniority" => Tag::Seniority(code()?),
            "email_status" => Tag::EmailStatus(code()?),
            "verified" => Tag::Verified(flag()?),
            "has_email" => Tag::HasEmail(flag()?),
            "has_phone" => Tag::HasPhone(flag()?),
            "visibility" => Tag::Visibility(code()?),
            "country" => Tag::Country(code()?),
            "industry" => Tag::Industry(code()?),
            _ => return None,
        })
    }

    /// The term that finds the documents with this value.
    pub fn term(&self, f: &Fields) -> Term {
        Term::from_field_text(f.tag, &self.text())
    }

    /// A term no document has: no kind of value is called `none`.
    pub fn nowhere(f: &Fields) -> Term {
        Term::from_field_text(f.tag, NOWHERE)
    }
}

const NOWHERE: &str = "none:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_never_share_a_term() {
        // A department spelled like another kind's value stays a department.
        let texts = [
            Tag::Company(7).text(),
            Tag::CompanyRecord(7).text(),
            Tag::Department("7").text(),
            Tag::Department("country:7").text(),
            Tag::Source(7).text(),
            Tag::Seniority(7).text(),
            Tag::EmailStatus(7).text(),
            Tag::Visibility(7).text(),
            Tag::Country(7).text(),
            Tag::Industry(7).text(),
            Tag::Verified(true).text(),
            Tag::HasEmail(true).text(),
            Tag::HasPhone(true).text(),
            Tag::HasPhone(false).text(),
        ];
        assert!(texts.iter().all(|t| !t.starts_with(NOWHERE)));
        for t in &texts {
            assert_eq!(Tag::parse(t).map(|tag| tag.text()).as_ref(), Some(t));
        }
        assert_eq!(Tag::parse(NOWHERE), None);
        assert_eq!(Tag::parse("country:SE"), None);
        let unique: std::collections::HashSet<&String> = texts.iter().collect();
        assert_eq!(unique.len(), texts.len());
        assert_eq!(Tag::Department("country:7").text(), "department:country:7");
    }
}
