//! Model check: random combinations of every filter and sort, run through
//! the real HTTP server and against a plain in-memory filter of the same
//! records; `total` and the full ordered id list (walked with the cursor,
//! with random page sizes) must agree exactly.

mod common;

use std::collections::HashMap;

use common::{enc, walk, walk_at, world};
use kontakt::model::{Company, Contact, Industries};
use kontakt::text::{normalize, tokens};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One random query, kept both as parameters and as what the model needs.
#[derive(Debug, Default, Clone)]
struct Case {
    params: Vec<(String, String)>,
    company_id: Option<u64>,
    q: Option<String>,
    sources: Vec<String>,
    verified: Option<bool>,
    has_email: Option<bool>,
    has_phone: Option<bool>,
    departments: Vec<String>,
    job_title: Option<String>,
    seniority: Vec<String>,
    min_q: Option<u8>,
    max_q: Option<u8>,
    min_c: Option<f64>,
    max_c: Option<f64>,
    email_status: Vec<String>,
    include_stale: bool,
    include_speculative: bool,
    industry_ids: Vec<u32>,
    sections: Vec<char>,
    levels: Vec<u8>,
    countries: Vec<String>,
    exclude_industry_ids: Vec<u32>,
    exclude_countries: Vec<String>,
    sort_by: Option<&'static str>,
    ascending: bool,
}

impl Case {
    fn push(&mut self, k: &str, v: String) {
        self.params.push((k.to_owned(), v));
    }

    fn query(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Picks a random, often sloppy, spelling of a list (case, commas, repeats).
fn list_param(rng: &mut ChaCha8Rng, case: &mut Case, name: &str, values: &[String]) {
    let vals: Vec<String> = values
        .iter()
        .map(|v| {
            if rng.gen_bool(0.3) {
                v.to_uppercase()
            } else {
                v.clone()
            }
        })
        .collect();
    if rng.gen_bool(0.5) {
        case.push(name, vals.join(","));
    } else {
        for v in vals {
            case.push(name, v);
        }
    }
}

fn random_case(
    rng: &mut ChaCha8Rng,
    contacts: &[Contact],
    companies: &HashMap<u64, &Company>,
) -> Case {
    let mut c = Case::default();
    let sample = &contacts[rng.gen_range(0..contacts.len())];
    let industries = Industries::bundled();
    let p = 0.18;
    if rng.gen_bool(0.05) {
        c.company_id = Some(sample.company_id);
        c.push("company_id", sample.company_id.to_string());
    }
    if rng.gen_bool(0.3) {
        // A prefix of one or two real name/email tokens, sometimes accented.
        let mut words: Vec<String> = sample
            .full_name
            .split(|ch: char| !ch.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(e) = &sample.email
            && rng.gen_bool(0.3)
        {
            words = vec![e.split('@').nth(1).unwrap_or(e).to_owned()];
        }
        words.shuffle(rng);
        let n = rng.gen_range(1..=words.len().min(2));
        let q: Vec<String> = words[..n]
            .iter()
            .map(|w| {
                let len = w.chars().count();
                let take = rng.gen_range(1..=len);
                let mut s: String = w.chars().take(take).collect();
                if rng.gen_bool(0.2) {
                    s = s.to_lowercase();
                }
                s
            })
            .collect();
        let q = q.join(if rng.gen_bool(0.5) { " " } else { "-" });
        c.q = Some(q.clone());
        c.push("q", q);
    }
    if rng.gen_bool(p) {
        let all = ["website", "linkedin", "facebook", "twitter", "manual"];
        let n = rng.gen_range(1..=3);
        let v: Vec<String> = all.choose_multiple(rng, n).map(|s| s.to_string()).collect();
        c.sources = v.clone();
        list_param(rng, &mut c, "source", &v);
    }
    for (name, slot) in [("verified", 0), ("has_email", 1), ("has_phone", 2)] {
        if rng.gen_bool(p) {
            let b = rng.gen_bool(0.5);
            match slot {
                0 => c.verified = Some(b),
                1 => c.has_email = Some(b),
                _ => c.has_phone = Some(b),
            }
            c.push(name, b.to_string());
        }
    }
    if rng.gen_bool(p)
        && let Some(d) = &sample.department
    {
        let mut v = vec![d.clone()];
        if rng.gen_bool(0.3) {
            v.push("Engineering".into());
        }
        c.departments = v.clone();
        list_param(rng, &mut c, "department", &v);
    }
    if rng.gen_bool(p)
        && let Some(t) = &sample.job_title
    {
        // A substring of one title word.
        let word: Vec<char> = t.split_whitespace().next().unwrap_or(t).chars().collect();
        let a = rng.gen_range(0..word.len());
        let b = rng.gen_range(a + 1..=word.len());
        let s: String = word[a..b].iter().collect();
        c.job_title = Some(s.clone());
        c.push("job_title", s);
    }
    if rng.gen_bool(p) {
        let all = ["executive", "senior", "manager", "staff"];
        let n = rng.gen_range(1..=2);
        let v: Vec<String> = all.choose_multiple(rng, n).map(|s| s.to_string()).collect();
        c.seniority = v.clone();
        list_param(rng, &mut c, "seniority_level", &v);
    }
    if rng.gen_bool(p) {
        let lo = rng.gen_range(0..=100u8);
        c.min_q = Some(lo);
        c.push("min_quality_score", lo.to_string());
    }
    if rng.gen_bool(p) {
        let hi = rng.gen_range(c.min_q.unwrap_or(0)..=100u8);
        c.max_q = Some(hi);
        c.push("max_quality_score", hi.to_string());
    }
    if rng.gen_bool(p) {
        let lo = (rng.gen_range(0..=100u32) as f64) / 100.0;
        c.min_c = Some(lo);
        c.push("min_confidence", lo.to_string());
    }
    if rng.gen_bool(p) {
        // Sometimes exactly a stored value, to test inclusiveness.
        let hi = if rng.gen_bool(0.5) {
            sample.confidence
        } else {
            (rng.gen_range(0..=100u32) as f64) / 100.0
        };
        if c.min_c.is_none_or(|lo| lo <= hi) {
            c.max_c = Some(hi);
            c.push("max_confidence", hi.to_string());
        }
    }
    if rng.gen_bool(p) {
        let all = ["valid", "catch_all", "pending", "invalid"];
        let n = rng.gen_range(1..=2);
        let v: Vec<String> = all.choose_multiple(rng, n).map(|s| s.to_string()).collect();
        c.email_status = v.clone();
        list_param(rng, &mut c, "email_status", &v);
    }
    if rng.gen_bool(0.3) {
        c.include_stale = rng.gen_bool(0.7);
        c.push("exclude_stale", (!c.include_stale).to_string());
    }
    if rng.gen_bool(0.3) {
        c.include_speculative = rng.gen_bool(0.7);
        c.push("exclude_speculative", (!c.include_speculative).to_string());
    }
    let company = companies[&sample.company_id];
    if rng.gen_bool(p)
        && let Some(&ind) = company.industry_ids.first()
    {
        // The industry itself or one of its ancestors.
        let chain: Vec<u32> = industries.self_and_ancestors(ind).map(|i| i.id).collect();
        let id = *chain.choose(rng).unwrap();
        c.industry_ids = vec![id];
        c.push("industry_id", id.to_string());
    }
    if rng.gen_bool(p) {
        let n = rng.gen_range(1..=2);
        let s: Vec<char> = ['C', 'G', 'J', 'M', 'A', 'F']
            .choose_multiple(rng, n)
            .copied()
            .collect();
        c.sections = s.clone();
        let v: Vec<String> = s.iter().map(|ch| ch.to_string()).collect();
        list_param(rng, &mut c, "industry_section", &v);
    }
    if rng.gen_bool(p) {
        let n = rng.gen_range(1..=2);
        let l: Vec<u8> = [2u8, 3, 4, 5].choose_multiple(rng, n).copied().collect();
        c.levels = l.clone();
        let v: Vec<String> = l.iter().map(|x| x.to_string()).collect();
        list_param(rng, &mut c, "industry_level", &v);
    }
    if rng.gen_bool(p) {
        let all = ["SE", "NO", "DK", "FI", "IS", "DE"];
        let n = rng.gen_range(1..=2);
        let v: Vec<String> = all.choose_multiple(rng, n).map(|s| s.to_string()).collect();
        c.countries = v.clone();
        let spelled: Vec<String> = v.iter().map(|s| s.to_lowercase()).collect();
        list_param(rng, &mut c, "country_code", &spelled);
    }
    if rng.gen_bool(0.1) {
        let id = *[1u32, 2, 3, 100, 200, 300].choose(rng).unwrap();
        c.exclude_industry_ids = vec![id];
        c.push("exclude_industry_id", id.to_string());
    }
    if rng.gen_bool(0.1) {
        let v = ["SE", "NO"].choose(rng).unwrap().to_string();
        c.exclude_countries = vec![v.clone()];
        c.push("exclude_country_code", v);
    }
    if rng.gen_bool(0.7) {
        let s = *["quality_score", "confidence", "created_at", "full_name"]
            .choose(rng)
            .unwrap();
        c.sort_by = Some(s);
        c.push("sort_by", s.to_owned());
    }
    if rng.gen_bool(0.5) {
        c.ascending = rng.gen_bool(0.5);
        c.push(
            "sort_order",
            if c.ascending { "asc" } else { "desc" }.to_owned(),
        );
    }
    c.params.shuffle(rng);
    c
}

/// Lower-cased tokens that folding changes.
fn accent_tokens(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|t| !t.is_empty() && normalize(t) != *t)
        .map(str::to_owned)
        .collect()
}

/// The README's relevance tier, computed directly from the record.
fn tier(q: &str, c: &Contact) -> u64 {
    let mut qt: Vec<String> = Vec::new();
    for t in tokens(q) {
        if !qt.contains(&t) {
            qt.push(t);
        }
    }
    let mut qa: Vec<String> = Vec::new();
    for t in accent_tokens(q) {
        if !qa.contains(&t) {
            qa.push(t);
        }
    }
    let name = tokens(&c.full_name);
    let mut own = accent_tokens(&c.full_name);
    own.extend(c.email.as_deref().map(accent_tokens).unwrap_or_default());
    let mut tier = 0;
    for t in qt.iter().take(15) {
        if name.contains(t) {
            tier += 4096;
        }
        if name.iter().any(|n| n.starts_with(t.as_str())) {
            tier += 16;
        }
    }
    for a in qa.iter().take(15) {
        if own.iter().any(|o| o.starts_with(a.as_str())) {
            tier += 256;
        }
    }
    if let Some(first_q) = qt.first()
        && normalize(&c.full_name).starts_with(first_q.as_str())
    {
        tier += 1;
    }
    tier
}

/// Per-contact text, tokenized once.
struct Prepared {
    name: Vec<String>,
    email: Vec<String>,
    title: Vec<String>,
    department: Option<String>,
    name_sort: String,
}

fn prepare(contacts: &[Contact]) -> HashMap<u64, Prepared> {
    contacts
        .iter()
        .map(|c| {
            let p = Prepared {
                name: tokens(&c.full_name),
                email: c.email.as_deref().map(tokens).unwrap_or_default(),
                title: c.job_title.as_deref().map(tokens).unwrap_or_default(),
                department: c.department.as_deref().map(normalize),
                name_sort: normalize(&c.full_name),
            };
            (c.id, p)
        })
        .collect()
}

fn model(
    case: &Case,
    contacts: &[Contact],
    companies: &HashMap<u64, &Company>,
    prepared: &HashMap<u64, Prepared>,
) -> Vec<u64> {
    let industries = Industries::bundled();
    let eq_any = |list: &[String], v: &str| {
        list.is_empty() || list.iter().any(|x| x.eq_ignore_ascii_case(v))
    };
    let q_tokens = case.q.as_deref().map(tokens).filter(|t| !t.is_empty());
    let title_tokens = case
        .job_title
        .as_deref()
        .map(tokens)
        .filter(|t| !t.is_empty());
    let mut hits: Vec<&Contact> = contacts
        .iter()
        .filter(|c| {
            let co = companies[&c.company_id];
            let pre = &prepared[&c.id];
            let (name_t, email_t) = (&pre.name, &pre.email);
            case.company_id.is_none_or(|id| c.company_id == id)
                && q_tokens.as_ref().is_none_or(|qt| {
                    qt.iter().all(|t| {
                        name_t
                            .iter()
                            .chain(email_t)
                            .any(|n| n.starts_with(t.as_str()))
                    })
                })
                && eq_any(&case.sources, c.source.as_str())
                && case.verified.is_none_or(|v| c.verified == v)
                && case.has_email.is_none_or(|v| c.email.is_some() == v)
                && case.has_phone.is_none_or(|v| c.phone.is_some() == v)
                && (case.departments.is_empty()
                    || pre
                        .department
                        .as_deref()
                        .is_some_and(|d| case.departments.iter().any(|p| normalize(p) == d)))
                && title_tokens.as_ref().is_none_or(|tt| {
                    tt.iter()
                        .all(|t| pre.title.iter().any(|x| x.contains(t.as_str())))
                })
                && (case.seniority.is_empty()
                    || c.seniority_level
                        .is_some_and(|s| eq_any(&case.seniority, s.as_str())))
                && case.min_q.is_none_or(|v| c.quality_score >= v)
                && case.max_q.is_none_or(|v| c.quality_score <= v)
                && case.min_c.is_none_or(|v| c.confidence >= v)
                && case.max_c.is_none_or(|v| c.confidence <= v)
                && (case.email_status.is_empty()
                    || c.email_status
                        .is_some_and(|s| eq_any(&case.email_status, s.as_str())))
                && (case.include_stale || !c.is_stale)
                && (case.include_speculative || !c.is_speculative)
                && ((case.industry_ids.is_empty()
                    && case.sections.is_empty()
                    && case.levels.is_empty())
                    || co.industry_ids.iter().any(|&i| {
                        let ind = industries.get(i).unwrap();
                        (case.industry_ids.is_empty()
                            || case
                                .industry_ids
                                .iter()
                                .any(|&a| industries.is_within(i, a)))
                            && (case.sections.is_empty()
                                || case.sections.contains(&ind.section.letter()))
                            && (case.levels.is_empty() || case.levels.contains(&ind.level))
                    }))
                && eq_any(&case.countries, co.country_code.as_str())
                && !co.industry_ids.iter().any(|&i| {
                    case.exclude_industry_ids
                        .iter()
                        .any(|&x| industries.is_within(i, x))
                })
                && !case
                    .exclude_countries
                    .iter()
                    .any(|x| x == co.country_code.as_str())
        })
        .collect();
    let relevance = case.sort_by.is_none() && q_tokens.is_some();
    let tiers: HashMap<u64, u64> = if relevance {
        hits.iter()
            .map(|c| (c.id, tier(case.q.as_deref().unwrap(), c)))
            .collect()
    } else {
        HashMap::new()
    };
    hits.sort_by(|a, b| {
        let by_key = if relevance {
            (tiers[&b.id], b.quality_score).cmp(&(tiers[&a.id], a.quality_score))
        } else {
            let k = match case.sort_by.unwrap_or("quality_score") {
                "quality_score" => a.quality_score.cmp(&b.quality_score),
                "confidence" => a.confidence.partial_cmp(&b.confidence).unwrap(),
                "created_at" => a.created_at.cmp(&b.created_at),
                _ => prepared[&a.id]
                    .name_sort
                    .as_bytes()
                    .cmp(prepared[&b.id].name_sort.as_bytes()),
            };
            if case.ascending { k } else { k.reverse() }
        };
        by_key.then(a.id.cmp(&b.id))
    });
    hits.iter().map(|c| c.id).collect()
}

const FACETS: &str = "country_code,industry_section,seniority_level,department,source,email_status";

/// Facet counts of the first page against counts over the model's matches.
fn check_facets(
    query: &str,
    expected: &[u64],
    w: &common::World,
    companies: &HashMap<u64, &Company>,
    prepared: &HashMap<u64, Prepared>,
) {
    use std::collections::{BTreeMap, BTreeSet};
    let by_id: HashMap<u64, &Contact> = w.contacts.iter().map(|c| (c.id, c)).collect();
    let industries = Industries::bundled();
    let mut want: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for f in FACETS.split(',') {
        want.insert(f, BTreeMap::new());
    }
    let mut bump = |facet: &'static str, value: String| {
        *want.get_mut(facet).unwrap().entry(value).or_default() += 1;
    };
    for id in expected {
        let c = by_id[id];
        let co = companies[&c.company_id];
        bump("country_code", co.country_code.as_str().to_owned());
        let sections: BTreeSet<char> = co
            .industry_ids
            .iter()
            .map(|i| industries.get(*i).unwrap().section.letter())
            .collect();
        for s in sections {
            bump("industry_section", s.to_string());
        }
        if let Some(s) = c.seniority_level {
            bump("seniority_level", s.as_str().to_owned());
        }
        if let Some(d) = &prepared[id].department {
            bump("department", d.clone());
        }
        bump("source", c.source.as_str().to_owned());
        if let Some(s) = c.email_status {
            bump("email_status", s.as_str().to_owned());
        }
    }
    let sep = if query.is_empty() { "" } else { "&" };
    let (status, body) = common::get(&format!("/v1/contacts?{query}{sep}facets={FACETS}&limit=3"));
    assert_eq!(status, 200);
    let got: BTreeMap<String, BTreeMap<String, u64>> =
        serde_json::from_value(body["facets"].clone()).unwrap();
    let want: BTreeMap<String, BTreeMap<String, u64>> =
        want.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(got, want, "facets of ?{query}");
}

#[test]
fn random_queries_agree_with_the_in_memory_model() {
    let w = world();
    let companies: HashMap<u64, &Company> = w.companies.iter().map(|c| (c.id, c)).collect();
    let prepared = prepare(&w.contacts);
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let cases = std::env::var("MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut nonempty = 0;
    for i in 0..cases {
        let case = random_case(&mut rng, &w.contacts, &companies);
        let expected = model(&case, &w.contacts, &companies, &prepared);
        // Random page sizes, but at most ~8 pages per walk.
        let limit = *[1usize, 3, 17, 50, 100, 100].choose(&mut rng).unwrap();
        let limit = limit.max(expected.len().div_ceil(8)).min(100);
        let query = case.query();
        // Both the warmed server and one whose segments have no sort
        // permutations yet (the two ways a page is read).
        for (server, base) in [("warm", &w.base), ("cold", &w.cold_base)] {
            let (total, got) = walk_at(base, &query, limit);
            assert_eq!(
                total as usize,
                expected.len(),
                "case {i} ({server}): total of ?{query}"
            );
            assert_eq!(
                got, expected,
                "case {i} ({server}): order of ?{query} (limit {limit})"
            );
        }
        // Again, at the same page size and a larger one: a repeated first
        // page (and its facets) may be read from what the server kept of
        // the first request, but never one kept for a smaller page.
        if i % 8 == 0 {
            for again in [limit, (limit + 7).min(100)] {
                let (total, got) = walk_at(&w.base, &query, again);
                assert_eq!(
                    (total as usize, got),
                    (expected.len(), expected.clone()),
                    "case {i} (repeated): ?{query} (limit {again})"
                );
            }
        }
        if !expected.is_empty() {
            nonempty += 1;
        }
        if i % 4 == 0 {
            check_facets(&query, &expected, w, &companies, &prepared);
        }
    }
    // The two servers stayed what they stand for: searches never build a
    // permutation, so the cold one has none (its pages came from the
    // columns) and the warm one kept those of its warm-up.
    assert_eq!(w.cold_service.search.cache.permutations(), 0);
    assert!(w.service.search.cache.permutations() > 0);
    // The generator of cases must produce real matches, not just empty sets.
    assert!(
        nonempty * 3 > cases,
        "only {nonempty} of {cases} cases matched anything"
    );
}

#[test]
fn concatenated_pages_equal_the_unpaged_order() {
    let w = world();
    let companies: HashMap<u64, &Company> = w.companies.iter().map(|c| (c.id, c)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut checked = 0;
    while checked < 60 {
        let case = random_case(&mut rng, &w.contacts, &companies);
        let query = case.query();
        let (_, one_page) = walk(&query, 100);
        if one_page.len() > 40 || one_page.is_empty() {
            continue;
        }
        for limit in [1, 4, 9] {
            let (_, paged) = walk(&query, limit);
            assert_eq!(paged, one_page, "?{query} with limit {limit}");
        }
        checked += 1;
    }
}
