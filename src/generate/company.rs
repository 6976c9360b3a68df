//! Companies: names, domains and industries.
//!
//! A company's name is drawn in one of the styles Nordic firms use (a
//! surname and a business word, two surnames, an invented place-like brand,
//! an English brand) and made unique in its country the way registries
//! require; its domain is the folded name, respelled when taken. What the
//! contacts need later (country, domain, email scheme) is returned as a small
//! `CompanyInfo`, so contacts can be streamed without keeping the companies.

use std::collections::HashSet;

use anyhow::Result;
use rand::Rng;

use super::R;
use super::country::Country;
use super::line::Line;
use super::org_number::org_number;
use super::reference::{ENGLISH, Reference};
use super::rng::{choose, pick_weighted};
use super::slug::slug;

/// What contacts need to know about their company.
pub(super) struct CompanyInfo {
    pub(super) country: Country,
    /// The company's real web domain, used for emails and URLs even when the
    /// record itself lacks it (the dataset is incomplete, the world is not).
    pub(super) domain: Option<String>,
    /// ASCII handle of the company name, for social media URLs.
    pub(super) handle: String,
    /// The company's usual email address pattern (index into `email_local`).
    pub(super) email_pattern: u8,
}

/// Names and domains already given out: registries do not hand out the
/// same company name twice in a country, and a domain has one owner.
/// Only looked up, never iterated, so the output order stays deterministic.
#[derive(Default)]
pub(super) struct Taken {
    names: HashSet<String>,
    domains: HashSet<String>,
}

/// Writes company `id` into `line` and returns what its contacts need.
pub(super) fn write_company(
    id: usize,
    reference: &Reference,
    taken: &mut Taken,
    rng: &mut R,
    line: &mut Line,
) -> Result<CompanyInfo> {
    let country = Country::pick(rng);
    let industry_ids = reference.industries.pick_for_company(country, rng);
    let section = reference.industries.section[industry_ids[0] as usize];
    let suffix = match country {
        Country::Se => "AB",
        Country::No => pick_weighted(rng, &[("AS", 93), ("ASA", 7)]),
        Country::Dk => pick_weighted(rng, &[("ApS", 55), ("A/S", 45)]),
        Country::Fi => pick_weighted(rng, &[("Oy", 93), ("Oyj", 7)]),
        Country::Is => pick_weighted(rng, &[("ehf.", 88), ("hf.", 12)]),
    };
    let base = unique_company_base(country, section, reference, taken, rng);
    let name = format!("{base} {suffix}");

    let domain = if rng.gen_bool(0.96) {
        Some(unique_domain(&base, suffix, country, taken, rng))
    } else {
        None
    };
    let handle = slug(&base, "", "");
    let org_number = rng.gen_bool(0.86).then(|| org_number(country, rng));
    let listed_domain = if rng.gen_bool(0.9) {
        domain.as_deref()
    } else {
        None
    };

    line.begin();
    line.int("id", id as u64);
    line.str("name", &name)?;
    line.str("country_code", country.code())?;
    line.opt("org_number", org_number.as_deref(), rng)?;
    line.opt("domain", listed_domain, rng)?;
    line.ids("industry_ids", &industry_ids)?;

    let email_pattern = pick_weighted(rng, &[(0u8, 50), (1, 14), (2, 12), (3, 10), (4, 8), (5, 6)]);
    Ok(CompanyInfo {
        country,
        domain,
        handle,
        email_pattern,
    })
}

/// A company name (without legal suffix) not yet used in the country: a few
/// fresh draws, then a town added, then a number as the last resort.
fn unique_company_base(
    country: Country,
    section: u8,
    reference: &Reference,
    taken: &mut Taken,
    rng: &mut R,
) -> String {
    for attempt in 0u32.. {
        let mut base = company_base(country, section, reference, rng);
        if attempt >= 8 {
            let town = choose(rng, &reference.words.towns[country.idx()]);
            base = if country == Country::Se {
                format!("{base} i {town}")
            } else {
                format!("{base} {town}")
            };
        }
        if attempt >= 16 {
            base = format!("{base} {}", attempt - 14);
        }
        if taken.names.insert(format!("{}:{base}", country.code())) {
            return base;
        }
    }
    unreachable!("the numbered fallback always ends the loop")
}

/// A free domain for the company: the folded name with the country's TLD
/// (sometimes .com); when taken, other spellings as real firms do.
fn unique_domain(
    base: &str,
    suffix: &str,
    country: Country,
    taken: &mut Taken,
    rng: &mut R,
) -> String {
    let hyphen = rng.gen_bool(0.2);
    let tld = if rng.gen_bool(0.12) {
        "com"
    } else {
        country.tld()
    };
    let plain = slug(base, if hyphen { "-" } else { "" }, "-");
    let other = slug(base, if hyphen { "" } else { "-" }, "-");
    let legal = slug(suffix, "", "");
    let candidates = [
        format!("{plain}.{tld}"),
        format!("{other}.{tld}"),
        format!("{plain}.{}", country.tld()),
        format!("{plain}-{legal}.{}", country.tld()),
    ];
    for candidate in candidates {
        if taken.domains.insert(candidate.clone()) {
            return candidate;
        }
    }
    for n in 2u32.. {
        let candidate = format!("{plain}{n}.{}", country.tld());
        if taken.domains.insert(candidate.clone()) {
            return candidate;
        }
    }
    unreachable!("the numbered fallback always ends the loop")
}

/// One draw of a company name without the legal suffix.
fn company_base(country: Country, section: u8, reference: &Reference, rng: &mut R) -> String {
    let last = &reference.names[country.idx()].last_male;
    // Icelanders rarely name firms after a patronymic, so no surname styles there.
    let surname_ok = country != Country::Is;
    let style = pick_weighted(rng, &[(0u8, 28), (1, 30), (2, 12), (3, 8), (4, 22)]);
    match style {
        0 if surname_ok => {
            let surname = choose(rng, last);
            format!(
                "{surname} {}",
                sector_word(country, section, reference, rng)
            )
        }
        3 if surname_ok => {
            let a = choose(rng, last);
            let mut b = choose(rng, last);
            while b == a {
                b = choose(rng, last);
            }
            format!("{a} & {b}")
        }
        2 => brand(country, reference, rng),
        4 => format!(
            "{} {}",
            choose(rng, &reference.words.english_brands),
            choose(rng, reference.words.sector(section, ENGLISH))
        ),
        _ => format!(
            "{} {}",
            brand(country, reference, rng),
            sector_word(country, section, reference, rng)
        ),
    }
}

/// An invented place-like brand such as "Nordvik" or "Hraunverk".
fn brand(country: Country, reference: &Reference, rng: &mut R) -> String {
    let prefixes = &reference.words.brand_prefixes[country.idx()];
    let endings = &reference.words.brand_endings[country.idx()];
    loop {
        let prefix = choose(rng, prefixes);
        let ending = choose(rng, endings);
        // Avoid "Vikvik"-style doubles.
        if !prefix.to_lowercase().ends_with(ending) && !ending.starts_with(&prefix.to_lowercase()) {
            return format!("{prefix}{ending}");
        }
    }
}

/// A business word in the country's language fitting the NACE section.
fn sector_word<'a>(
    country: Country,
    section: u8,
    reference: &'a Reference,
    rng: &mut R,
) -> &'a str {
    choose(rng, reference.words.sector(section, country.idx()))
}

/// Heavy-tailed company sizes: a few companies hold many contacts, most hold
/// few (Pareto with alpha 1, capped at 1000 times the smallest weight).
pub(super) struct CompanyPicker {
    cumulative: Vec<u64>,
}

impl CompanyPicker {
    pub(super) fn new(rng: &mut R, companies: usize) -> CompanyPicker {
        let mut total = 0u64;
        let cumulative = (0..companies)
            .map(|_| {
                let u: u64 = rng.gen_range(1_000_000..=1_000_000_000);
                total += (1_000_000_000_000 / u).min(1_000_000);
                total
            })
            .collect();
        CompanyPicker { cumulative }
    }

    pub(super) fn pick(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let r = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= r)
    }
}
