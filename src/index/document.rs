//! Turns companies and contacts into index documents.
//!
//! A contact document carries its company's country and industries, so every
//! filter is a plain term or range lookup on one document. The terms of the
//! text fields are computed here with `crate::text`, never by a tokenizer.

use std::collections::BTreeSet;

use serde::Serialize;
use tantivy::TantivyDocument;

use super::schema::Fields;
use super::tag::Tag;
use crate::model::{Company, Contact, Industries};
use crate::text;

/// The company summary a returned contact carries.
#[derive(Serialize)]
struct CompanySummary<'a> {
    id: u64,
    name: &'a str,
    country_code: &'a str,
}

#[derive(Serialize)]
struct StoredContact<'a> {
    #[serde(flatten)]
    contact: &'a Contact,
    company: CompanySummary<'a>,
}

/// The JSON a contact is stored (and returned) as.
pub fn contact_json(contact: &Contact, company: &Company) -> Vec<u8> {
    serde_json::to_vec(&StoredContact {
        contact,
        company: CompanySummary {
            id: company.id,
            name: &company.name,
            country_code: company.country_code.as_str(),
        },
    })
    .expect("a contact serializes")
}

/// The `visibility` value of a contact.
pub fn visibility(is_stale: bool, is_speculative: bool) -> u64 {
    u64::from(is_stale) | u64::from(is_speculative) << 1
}

/// The document of a company record. It carries id 0 (no contact has it)
/// and zero sort keys: with a value on every document, those columns are
/// dense and cheaper to read per hit.
pub fn company_document(f: &Fields, company: &Company) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.id, 0);
    doc.add_u64(f.source, 0);
    doc.add_u64(f.quality_score, 0);
    doc.add_f64(f.confidence, 0.0);
    doc.add_i64(f.created_at_s, 0);
    doc.add_u64(f.created_at_ns, 0);
    doc.add_text(f.name_sort, "");
    doc.add_u64(f.country, 0);
    doc.add_text(f.tag, Tag::CompanyRecord(company.id).text());
    doc.add_bytes(
        f.record,
        &serde_json::to_vec(company).expect("a company serializes"),
    );
    doc
}

/// The document of a contact of `company`.
pub fn contact_document(
    f: &Fields,
    industries: &Industries,
    contact: &Contact,
    company: &Company,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.id, contact.id);
    let mut tags = vec![Tag::Company(contact.company_id)];
    doc.add_bytes(f.record, &contact_json(contact, company));

    let name_norm = text::normalize(&contact.full_name);
    let name_tokens: Vec<&str> = text::split_tokens(&name_norm).collect();
    let name_prefixes = sorted_unique(name_tokens.iter().flat_map(|t| prefixes(t)));
    add_terms(&mut doc, f.name_prefix, name_prefixes.iter().copied());
    add_terms(
        &mut doc,
        f.name_token,
        sorted_unique(name_tokens.iter().copied()).into_iter(),
    );
    doc.add_text(f.name_sort, &name_norm);

    let mut accent_tokens = text::accent_tokens(&contact.full_name);
    if let Some(email) = &contact.email {
        let email_norm = text::normalize(email);
        // `q` matches either field, so a prefix the name has is not
        // repeated here (an email usually spells the name).
        let email_prefixes = sorted_unique(
            text::split_tokens(&email_norm)
                .flat_map(prefixes)
                .filter(|p| name_prefixes.binary_search(p).is_err()),
        );
        add_terms(&mut doc, f.email_prefix, email_prefixes.into_iter());
        accent_tokens.extend(text::accent_tokens(email));
    }
    let accent_refs: Vec<&str> = accent_tokens.iter().map(String::as_str).collect();
    add_prefixes(&mut doc, f.accent_prefix, &accent_refs);

    if let Some(title) = &contact.job_title {
        let tokens = text::tokens(title);
        add_terms(
            &mut doc,
            f.title_token,
            sorted_unique(tokens.iter().map(String::as_str)).into_iter(),
        );
    }
    let department = contact.department.as_deref().map(text::normalize);
    if let Some(dep) = &department {
        doc.add_text(f.department, dep);
        tags.push(Tag::Department(dep));
    }
    doc.add_u64(f.source, contact.source.code());
    tags.push(Tag::Source(contact.source.code()));
    if let Some(s) = contact.seniority_level {
        doc.add_u64(f.seniority_level, s.code());
        tags.push(Tag::Seniority(s.code()));
    }
    if let Some(s) = contact.email_status {
        doc.add_u64(f.email_status, s.code());
        tags.push(Tag::EmailStatus(s.code()));
    }
    tags.extend([
        Tag::Verified(contact.verified),
        Tag::HasEmail(contact.has_email()),
        Tag::HasPhone(contact.has_phone()),
        Tag::Visibility(visibility(contact.is_stale, contact.is_speculative)),
    ]);
    doc.add_u64(f.quality_score, u64::from(contact.quality_score));
    doc.add_f64(f.confidence, contact.confidence);
    let (secs, nanos) = contact.created_at.parts();
    doc.add_i64(f.created_at_s, secs);
    doc.add_u64(f.created_at_ns, u64::from(nanos));

    doc.add_u64(f.country, company.country_code.code());
    tags.push(Tag::Country(company.country_code.code()));
    let mut sections = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for &id in &company.industry_ids {
        if let Some(ind) = industries.get(id) {
            sections.insert(ind.section.code());
            ids.insert(u64::from(id));
        }
    }
    for s in sections {
        doc.add_u64(f.section, s);
    }
    tags.extend(ids.into_iter().map(Tag::Industry));
    for tag in tags {
        doc.add_text(f.tag, tag.text());
    }
    doc
}

/// The prefixes of `token` a query can ask for: a `q` has at most
/// `MAX_Q_CHARS` characters, each normalizing to at most
/// `max_normalized_len` (`æ` → `ae`), and suggest's typo tolerance reaches
/// two more.
fn prefixes(token: &str) -> impl Iterator<Item = &str> {
    let longest = text::MAX_Q_CHARS * text::max_normalized_len() + 2;
    text::prefixes(token).take(longest)
}

/// Adds every prefix of every token (see `prefixes`), once each.
fn add_prefixes(doc: &mut TantivyDocument, field: tantivy::schema::Field, tokens: &[&str]) {
    add_terms(
        doc,
        field,
        sorted_unique(tokens.iter().flat_map(|t| prefixes(t))).into_iter(),
    );
}

/// Adds `terms` to a whitespace-tokenized field as one value: one value per
/// term cost Tantivy a token stream (and a copy) each.
fn add_terms<'a>(
    doc: &mut TantivyDocument,
    field: tantivy::schema::Field,
    terms: impl Iterator<Item = &'a str>,
) {
    let mut joined = String::new();
    for t in terms {
        debug_assert!(!t.contains(|c: char| c.is_ascii_whitespace()), "{t:?}");
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(t);
    }
    if !joined.is_empty() {
        doc.add_text(field, joined);
    }
}

/// `items` in order, once each: what a `BTreeSet` would hold, built at a
/// fraction of its cost (a document's dozens of prefixes are sorted once
/// instead of inserted one by one into a tree).
fn sorted_unique<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.sort_unstable();
    v.dedup();
    v
}
