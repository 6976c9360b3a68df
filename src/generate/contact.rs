//! Contacts: people, their titles, addresses, sources and timestamps.
//!
//! Each contact works at a company drawn by size, carries a name from its
//! nationality's lists and a title in the local language or English, and
//! gets an email address in the company's scheme, a phone number in the
//! country's notation and a source URL matching where the record came from.
//! Verification, email status, quality and confidence are drawn together so
//! they correlate the way a real, aging database's do.

use anyhow::Result;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat};
use rand::Rng;

use super::R;
use super::company::CompanyInfo;
use super::country::Country;
use super::line::Line;
use super::reference::{ENGLISH, Reference};
use super::rng::{choose, pick_weighted};
use super::slug::slug;

const SOURCES: &[(&str, u32)] = &[
    ("linkedin", 38),
    ("website", 34),
    ("manual", 12),
    ("facebook", 9),
    ("twitter", 7),
];

/// Writes contact `id` of company `company_idx` (0-based) into `line`.
pub(super) fn write_contact(
    id: usize,
    company_idx: usize,
    company: &CompanyInfo,
    reference: &Reference,
    rng: &mut R,
    line: &mut Line,
) -> Result<()> {
    let country = company.country;
    // Some people work in a neighbouring Nordic country.
    let nationality = if rng.gen_bool(0.92) {
        country
    } else {
        Country::ALL[rng.gen_range(0..5)]
    };
    let female = rng.gen_bool(0.5);
    let (first, last) = person_name(nationality, female, reference, rng);
    let full_name = format!("{first} {last}");
    // ASCII forms for addresses and URLs: "Jón Gunnar" -> "jon.gunnar".
    let first_slug = slug(&first, ".", "-");
    let last_slug = slug(&last, "-", "-");
    let (fs, ls) = (first_slug.as_str(), last_slug.as_str());

    // Job title: about half the time in the local language when one exists.
    let nordic = &reference.nordic_titles[country.idx()];
    let pool = if !nordic.is_empty() && rng.gen_bool(0.5) {
        nordic
    } else {
        &reference.english_titles
    };
    let row = &reference.titles[pool[rng.gen_range(0..pool.len())]];
    let has_title = rng.gen_bool(0.88);
    let job_title = has_title.then_some(row.title.as_str());
    // Without a title the department or level is still sometimes known.
    let department_rate = if has_title { 0.92 } else { 0.25 };
    let department = rng
        .gen_bool(department_rate)
        .then_some(row.department.as_str());
    let seniority_rate = if has_title { 0.9 } else { 0.15 };
    let seniority = rng
        .gen_bool(seniority_rate)
        .then_some(row.seniority.as_str());

    let is_stale = rng.gen_bool(0.10);
    let is_speculative = rng.gen_bool(0.05);
    let source = pick_weighted(rng, SOURCES);

    let email = contact_email(company, fs, ls, reference, rng);
    let phone = rng.gen_bool(0.7).then(|| phone(country, rng));
    let source_url = source_url(source, company, country, fs, ls, reference, rng);

    let verify_rate = match source {
        "manual" => 0.8,
        "linkedin" => 0.65,
        "website" => 0.66,
        _ => 0.45,
    };
    let verified = !is_speculative
        && rng.gen_bool(if is_stale {
            verify_rate * 0.6
        } else {
            verify_rate
        });

    let email_status = email.as_ref().and_then(|_| {
        let weights: &[(Option<&str>, u32)] = if is_speculative {
            &[
                (Some("pending"), 40),
                (Some("catch_all"), 35),
                (Some("invalid"), 10),
                (None, 15),
            ]
        } else if verified {
            &[
                (Some("valid"), 78),
                (Some("catch_all"), 10),
                (Some("pending"), 3),
                (Some("invalid"), 2),
                (None, 7),
            ]
        } else {
            &[
                (Some("valid"), 45),
                (Some("catch_all"), 15),
                (Some("pending"), 20),
                (Some("invalid"), 8),
                (None, 12),
            ]
        };
        let status = pick_weighted(rng, weights);
        // People leave: stale addresses bounce more often.
        if is_stale && status.is_some() && rng.gen_bool(0.25) {
            Some("invalid")
        } else {
            status
        }
    });

    // Quality reflects how complete and trustworthy the record is, plus
    // noise, which gives a lumpy, skewed distribution.
    let mut score: i32 = 18 + rng.gen_range(-12..=14);
    if verified {
        score += 22;
    }
    if email.is_some() {
        score += 6;
    }
    score += match email_status {
        Some("valid") => 15,
        Some("catch_all") => 6,
        Some("pending") => 2,
        Some("invalid") => -10,
        _ => 0,
    };
    if phone.is_some() {
        score += 10;
    }
    if job_title.is_some() {
        score += 8;
    }
    if department.is_some() {
        score += 2;
    }
    if source_url.is_some() {
        score += 4;
    }
    if is_stale {
        score -= 20;
    }
    if is_speculative {
        score -= 15;
    }
    let quality_score = score.clamp(0, 100);

    let u: f64 = rng.r#gen();
    let mut confidence = if is_speculative {
        0.05 + 0.5 * u
    } else {
        1.0 - 0.6 * u * u
    };
    if !verified && !is_speculative {
        confidence *= 0.85;
    }
    if is_stale {
        confidence *= 0.8;
    }
    let millis = (confidence * 1000.0).round().clamp(0.0, 1000.0);
    let confidence = millis / 1000.0;

    let (created_at, updated_at) = timestamps(country, is_stale, rng);

    line.begin();
    line.int("id", id as u64);
    line.int("company_id", company_idx as u64 + 1);
    line.str("full_name", &full_name)?;
    line.opt("job_title", job_title, rng)?;
    line.opt("email", email.as_deref(), rng)?;
    line.opt("phone", phone.as_deref(), rng)?;
    line.str("source", source)?;
    line.opt("source_url", source_url.as_deref(), rng)?;
    line.bool("verified", verified);
    line.opt("seniority_level", seniority, rng)?;
    line.opt("email_status", email_status, rng)?;
    line.opt("department", department, rng)?;
    line.int("quality_score", quality_score as u64);
    line.float("confidence", confidence)?;
    line.bool("is_stale", is_stale);
    line.bool("is_speculative", is_speculative);
    line.str("created_at", &created_at)?;
    line.str("updated_at", &updated_at)?;
    Ok(())
}

/// First and last name, with occasional hyphenated/double first names and
/// double last names; Icelanders get a patronymic matching their gender.
fn person_name(
    country: Country,
    female: bool,
    reference: &Reference,
    rng: &mut R,
) -> (String, String) {
    let names = &reference.names[country.idx()];
    let first1 = names.first(female, rng);
    let mut first = first1.to_string();
    if country == Country::Is {
        // Two given names are common in Iceland, written with a space.
        if rng.gen_bool(0.12) {
            let second = names.first(female, rng);
            if second != first1 {
                first.push(' ');
                first.push_str(second);
            }
        }
    } else if rng.gen_bool(0.04) && !first1.contains('-') {
        let second = names.first(female, rng);
        if second != first1 && !second.contains('-') {
            first.push('-');
            first.push_str(second);
        }
    }
    let last1 = names.last(female, rng);
    let mut last = last1.to_string();
    if country != Country::Is && rng.gen_bool(0.05) {
        let second = names.last(female, rng);
        if second != last1 {
            last.push(if rng.gen_bool(0.5) { '-' } else { ' ' });
            last.push_str(second);
        }
    }
    (first, last)
}

fn email_local(pattern: u8, first: &str, last: &str) -> String {
    let initial = &first[..first.chars().next().map_or(0, char::len_utf8)];
    match pattern {
        0 => format!("{first}.{last}"),
        1 => format!("{initial}{last}"),
        2 => first.to_string(),
        3 => format!("{initial}.{last}"),
        4 => format!("{first}{last}"),
        _ => format!("{first}_{last}"),
    }
}

fn contact_email(
    company: &CompanyInfo,
    first: &str,
    last: &str,
    reference: &Reference,
    rng: &mut R,
) -> Option<String> {
    if first.is_empty() || last.is_empty() {
        return None;
    }
    match &company.domain {
        Some(domain) => {
            if !rng.gen_bool(0.82) {
                return None;
            }
            // Companies use one address scheme, with the odd exception.
            let pattern = if rng.gen_bool(0.85) {
                company.email_pattern
            } else {
                rng.gen_range(0..6)
            };
            Some(format!("{}@{domain}", email_local(pattern, first, last)))
        }
        None => {
            // No company domain: some people give a private address.
            if !rng.gen_bool(0.5) {
                return None;
            }
            let pattern = if rng.gen_bool(0.6) { 0 } else { 4 };
            let mut local = email_local(pattern, first, last);
            if rng.gen_bool(0.4) {
                local.push_str(&rng.gen_range(10..100).to_string());
            }
            let domain = choose(rng, &reference.words.webmail[company.country.idx()]);
            Some(format!("{local}@{domain}"))
        }
    }
}

/// A phone number in the country's usual international notation.
fn phone(country: Country, rng: &mut R) -> String {
    let mut n = |lo: u32, hi: u32| rng.gen_range(lo..hi);
    match country {
        Country::Se => {
            if n(0, 100) < 78 {
                let prefix = [70, 72, 73, 76, 79][n(0, 5) as usize];
                format!(
                    "+46 {prefix} {:03} {:02} {:02}",
                    n(0, 1000),
                    n(0, 100),
                    n(0, 100)
                )
            } else if n(0, 2) == 0 {
                format!(
                    "+46 8 {:03} {:03} {:02}",
                    n(100, 1000),
                    n(0, 1000),
                    n(0, 100)
                )
            } else {
                let area = [31, 40, 18, 13, 90, 60, 19, 54][n(0, 8) as usize];
                format!(
                    "+46 {area} {:03} {:02} {:02}",
                    n(100, 1000),
                    n(0, 100),
                    n(0, 100)
                )
            }
        }
        Country::No => {
            if n(0, 100) < 80 {
                let lead = if n(0, 2) == 0 { 4 } else { 9 };
                format!(
                    "+47 {lead}{:02} {:02} {:03}",
                    n(0, 100),
                    n(0, 100),
                    n(0, 1000)
                )
            } else {
                let lead = [2, 3, 5, 6, 7][n(0, 5) as usize];
                format!(
                    "+47 {lead}{} {:02} {:02} {:02}",
                    n(0, 10),
                    n(0, 100),
                    n(0, 100),
                    n(0, 100)
                )
            }
        }
        Country::Dk => format!(
            "+45 {:02} {:02} {:02} {:02}",
            n(20, 100),
            n(0, 100),
            n(0, 100),
            n(0, 100)
        ),
        Country::Fi => {
            if n(0, 100) < 85 {
                let prefix = [40, 41, 44, 45, 50][n(0, 5) as usize];
                format!("+358 {prefix} {:03} {:04}", n(0, 1000), n(0, 10000))
            } else {
                format!("+358 9 {:03} {:04}", n(100, 1000), n(0, 10000))
            }
        }
        Country::Is => {
            let lead = if n(0, 100) < 80 {
                [6, 7, 8][n(0, 3) as usize]
            } else {
                [4, 5][n(0, 2) as usize]
            };
            format!("+354 {lead}{:02} {:04}", n(0, 100), n(0, 10000))
        }
    }
}

/// A URL matching the source: a LinkedIn profile, a page on the company
/// website, a Facebook or X/Twitter profile; usually none for manual entry.
fn source_url(
    source: &str,
    company: &CompanyInfo,
    country: Country,
    first: &str,
    last: &str,
    reference: &Reference,
    rng: &mut R,
) -> Option<String> {
    let person = format!("{}-{}", first.replace('.', "-"), last);
    match source {
        "linkedin" => rng.gen_bool(0.95).then(|| {
            let host = if rng.gen_bool(0.3) {
                format!("{}.linkedin.com", country.tld())
            } else {
                "www.linkedin.com".to_string()
            };
            if rng.gen_bool(0.55) {
                let tag: u32 = rng.r#gen();
                format!("https://{host}/in/{person}-{tag:08x}")
            } else {
                format!("https://{host}/in/{person}")
            }
        }),
        "website" => {
            let domain = company.domain.as_deref()?;
            rng.gen_bool(0.92).then(|| {
                let www = if rng.gen_bool(0.7) { "www." } else { "" };
                let path = if rng.gen_bool(0.6) {
                    choose(rng, &reference.words.site_paths[country.idx()])
                } else {
                    choose(rng, &reference.words.site_paths[ENGLISH])
                };
                if rng.gen_bool(0.3) {
                    format!("https://{www}{domain}/{path}/{person}")
                } else {
                    format!("https://{www}{domain}/{path}")
                }
            })
        }
        "facebook" => rng.gen_bool(0.9).then(|| {
            if rng.gen_bool(0.6) {
                format!("https://www.facebook.com/{}", company.handle)
            } else {
                let n: u32 = rng.gen_range(1..1000);
                format!(
                    "https://www.facebook.com/{}.{}.{n}",
                    first.replace('.', ""),
                    last.replace('-', "")
                )
            }
        }),
        "twitter" => rng.gen_bool(0.9).then(|| {
            let f: String = first.chars().filter(char::is_ascii_alphanumeric).collect();
            let l: String = last.chars().filter(char::is_ascii_alphanumeric).collect();
            let mut handle = match rng.gen_range(0..4) {
                0 => format!("{f}{l}"),
                1 => format!("{f}_{l}"),
                2 => format!("{}{l}", &f[..1.min(f.len())]),
                _ => format!("{f}{l}{}", rng.gen_range(1..100)),
            };
            // X/Twitter handles are at most 15 characters.
            handle.truncate(15);
            let host = if rng.gen_bool(0.6) {
                "twitter.com"
            } else {
                "x.com"
            };
            format!("https://{host}/{handle}")
        }),
        _ => {
            let domain = company.domain.as_deref()?;
            rng.gen_bool(0.2).then(|| format!("https://www.{domain}"))
        }
    }
}

const CREATED_START: i64 = 1_546_300_800; // 2019-01-01T00:00:00Z
const CREATED_END: i64 = 1_790_812_800; // 2026-10-01T00:00:00Z
const UPDATED_END: i64 = 1_793_491_200; // 2026-11-01T00:00:00Z
const STALE_BEFORE: i64 = 1_748_736_000; // 2025-06-01T00:00:00Z

/// `created_at` and `updated_at` (never earlier), mostly in UTC and
/// sometimes in the company's local time.
fn timestamps(country: Country, is_stale: bool, rng: &mut R) -> (String, String) {
    let span = (CREATED_END - CREATED_START) as f64;
    // Skewed towards recent years: the database grows over time.
    let u: f64 = rng.r#gen();
    let created = CREATED_START + (span * u.sqrt()) as i64;
    let updated = if rng.gen_bool(0.25) {
        created
    } else if is_stale {
        // Stale records have not been touched for a long time.
        if created < STALE_BEFORE {
            created + rng.gen_range(0..=STALE_BEFORE - created)
        } else {
            created
        }
    } else {
        created + rng.gen_range(0..=UPDATED_END - created)
    };
    let local = rng.gen_bool(0.18);
    (
        format_ts(created, country, local),
        format_ts(updated, country, local),
    )
}

fn format_ts(ts: i64, country: Country, local: bool) -> String {
    let utc = DateTime::from_timestamp(ts, 0).unwrap_or_default();
    if !local {
        return utc.to_rfc3339_opts(SecondsFormat::Secs, true);
    }
    let summer = eu_summer_time(ts, utc.year());
    let hours = match country {
        Country::Is => 0,
        Country::Fi => 2 + i32::from(summer),
        _ => 1 + i32::from(summer),
    };
    match FixedOffset::east_opt(hours * 3600) {
        // `use_z = false` so Iceland's local time shows as "+00:00".
        Some(offset) => utc
            .with_timezone(&offset)
            .to_rfc3339_opts(SecondsFormat::Secs, false),
        None => utc.to_rfc3339_opts(SecondsFormat::Secs, true),
    }
}

/// EU summer time: from 01:00 UTC on the last Sunday of March to 01:00 UTC on
/// the last Sunday of October.
fn eu_summer_time(ts: i64, year: i32) -> bool {
    let switch = |month: u32| -> i64 {
        NaiveDate::from_ymd_opt(year, month, 31)
            .map(|d| {
                let back = i64::from(d.weekday().num_days_from_sunday());
                (d - chrono::Duration::days(back))
                    .and_hms_opt(1, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp())
            })
            .unwrap_or(0)
    };
    ts >= switch(3) && ts < switch(10)
}
