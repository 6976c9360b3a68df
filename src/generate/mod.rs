//! Deterministic synthetic dataset generator (`kontakt generate`).
//!
//! Writes `companies.jsonl` and `contacts.jsonl` in the record formats of the
//! record format (docs/api.md, The record format). The output depends only on the seed and the two counts:
//! one ChaCha8 stream drives the companies and a second stream of the same
//! seed drives the contacts, so the companies file does not change when only
//! the contact count does. Contacts are streamed one line at a time; only a
//! small per-company summary is kept in memory.
//!
//! One file per idea: `reference` loads the word tables of
//! `fixtures/reference/`, `rng` holds the weighted picks, `line` writes a
//! JSON line, `slug` folds names to ASCII, `country`, `industry`,
//! `org_number`, `company` and `contact` draw the records. The bytes are a
//! promise of their own (the bundled sample is generated, not read), so a
//! test below pins a hash of a small generated set.

mod company;
mod contact;
mod country;
mod industry;
mod line;
mod org_number;
mod reference;
mod rng;
mod slug;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use company::{CompanyPicker, Taken, write_company};
use contact::write_contact;
use line::Line;
use reference::Reference;

/// Options of `kontakt generate`.
pub struct GenerateOptions {
    pub companies: usize,
    pub contacts: usize,
    pub seed: u64,
    pub out: PathBuf,
}

/// How many records were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSummary {
    pub companies: usize,
    pub contacts: usize,
}

/// Creates `opts.out` and writes `companies.jsonl` and `contacts.jsonl` into it.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary> {
    fs::create_dir_all(&opts.out)
        .with_context(|| format!("creating output directory {}", opts.out.display()))?;
    let companies_path = opts.out.join("companies.jsonl");
    let contacts_path = opts.out.join("contacts.jsonl");
    let companies_file = File::create(&companies_path)
        .with_context(|| format!("creating {}", companies_path.display()))?;
    let contacts_file = File::create(&contacts_path)
        .with_context(|| format!("creating {}", contacts_path.display()))?;
    let mut companies_out = BufWriter::with_capacity(1 << 20, companies_file);
    let mut contacts_out = BufWriter::with_capacity(1 << 20, contacts_file);
    let summary = generate_to(
        opts.companies,
        opts.contacts,
        opts.seed,
        &mut companies_out,
        &mut contacts_out,
    )?;
    companies_out
        .flush()
        .with_context(|| format!("writing {}", companies_path.display()))?;
    contacts_out
        .flush()
        .with_context(|| format!("writing {}", contacts_path.display()))?;
    Ok(summary)
}

/// Same data, written to any writers (used by tests without touching disk).
pub fn generate_to(
    companies: usize,
    contacts: usize,
    seed: u64,
    companies_out: &mut dyn Write,
    contacts_out: &mut dyn Write,
) -> Result<GenerateSummary> {
    if companies == 0 && contacts > 0 {
        bail!("cannot generate contacts without companies (--companies must be at least 1)");
    }
    let mut company_rng = ChaCha8Rng::seed_from_u64(seed);
    let mut contact_rng = ChaCha8Rng::seed_from_u64(seed);
    // A separate stream keeps the companies independent of the contact count.
    contact_rng.set_stream(1);

    let mut reference = Reference::load()?;
    let mut taken = Taken::default();
    reference.industries.shuffle_popularity(&mut company_rng);

    // Buffer here as well so that unbuffered writers stay fast.
    let mut companies_out = BufWriter::with_capacity(1 << 20, companies_out);
    let mut line = Line::default();
    let mut infos = Vec::with_capacity(companies);
    for id in 1..=companies {
        let info = write_company(id, &reference, &mut taken, &mut company_rng, &mut line)?;
        line.finish(&mut companies_out)
            .context("writing companies")?;
        infos.push(info);
    }
    companies_out.flush().context("writing companies")?;
    drop(companies_out);
    // Only needed while naming companies.
    drop(taken);

    let picker = CompanyPicker::new(&mut company_rng, companies);
    let mut contacts_out = BufWriter::with_capacity(1 << 20, contacts_out);
    for id in 1..=contacts {
        let company_idx = picker.pick(&mut contact_rng);
        write_contact(
            id,
            company_idx,
            &infos[company_idx],
            &reference,
            &mut contact_rng,
            &mut line,
        )?;
        line.finish(&mut contacts_out).context("writing contacts")?;
    }
    contacts_out.flush().context("writing contacts")?;
    Ok(GenerateSummary {
        companies,
        contacts,
    })
}

/// The one random stream type; every draw goes through `rng`'s helpers.
type R = ChaCha8Rng;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike};
    use country::Country;
    use serde_json::Value;
    use sha2::{Digest, Sha256};

    fn run(companies: usize, contacts: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
        let mut a = Vec::new();
        let mut b = Vec::new();
        let summary = generate_to(companies, contacts, seed, &mut a, &mut b).unwrap();
        assert_eq!(
            summary,
            GenerateSummary {
                companies,
                contacts
            }
        );
        (a, b)
    }

    fn parse_lines(bytes: &[u8]) -> Vec<Value> {
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect()
    }

    /// A present, non-empty string (null, "" and absent all mean missing).
    fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        match v.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => panic!("{key} is not a string: {other}"),
        }
    }

    /// Hex SHA-256 of generated bytes.
    fn sha256(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_small_set_hashes_to_the_checked_in_value() {
        // Computed before `generate` became a folder of modules and its word
        // tables data files; a change here changes every dataset and the
        // bundled sample, so it must be deliberate.
        let (companies, contacts) = run(50, 300, 7);
        assert_eq!(
            sha256(&companies),
            "269bddbf7c04e0b6a2342544a140f5919f9e26703e1bd1b686049dbc4501dd21"
        );
        assert_eq!(
            sha256(&contacts),
            "4680df4fa9c0b9491789e49e2e3134b03120534f3bea8b1719081ba17e9cdea6"
        );
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let first = run(200, 3000, 42);
        assert_eq!(first, run(200, 3000, 42));
        let other = run(200, 3000, 43);
        assert_ne!(first.0, other.0);
        assert_ne!(first.1, other.1);
    }

    #[test]
    fn companies_do_not_depend_on_contact_count() {
        assert_eq!(run(300, 10, 5).0, run(300, 5000, 5).0);
    }

    #[test]
    fn empty_and_invalid_counts() {
        let (a, b) = run(0, 0, 1);
        assert!(a.is_empty() && b.is_empty());
        let (a, b) = run(3, 0, 1);
        assert_eq!(parse_lines(&a).len(), 3);
        assert!(b.is_empty());
        let mut sink = Vec::new();
        let mut sink2 = Vec::new();
        assert!(generate_to(0, 5, 1, &mut sink, &mut sink2).is_err());
    }

    #[test]
    fn records_follow_the_record_format() {
        let n_companies = 600;
        let n_contacts = 30_000;
        let (a, b) = run(n_companies, n_contacts, 7);
        let reference = Reference::load().unwrap();
        let ind = &reference.industries;

        let companies = parse_lines(&a);
        assert_eq!(companies.len(), n_companies);
        let mut country_of = vec![String::new(); n_companies + 1];
        let mut per_country = std::collections::BTreeMap::<String, usize>::new();
        let mut missing_domain = 0;
        for (i, c) in companies.iter().enumerate() {
            let obj = c.as_object().unwrap();
            for key in obj.keys() {
                assert!(
                    [
                        "id",
                        "name",
                        "country_code",
                        "org_number",
                        "domain",
                        "industry_ids"
                    ]
                    .contains(&key.as_str()),
                    "unexpected key {key}"
                );
            }
            assert_eq!(c["id"].as_u64().unwrap(), i as u64 + 1);
            let name = c["name"].as_str().unwrap();
            assert!(!name.trim().is_empty());
            let cc = c["country_code"].as_str().unwrap();
            let country = Country::from_code(cc).unwrap();
            let suffix = name.rsplit(' ').next().unwrap();
            let allowed: &[&str] = match country {
                Country::Se => &["AB"],
                Country::No => &["AS", "ASA"],
                Country::Dk => &["ApS", "A/S"],
                Country::Fi => &["Oy", "Oyj"],
                Country::Is => &["ehf.", "hf."],
            };
            assert!(allowed.contains(&suffix), "{name}");
            country_of[i + 1] = cc.to_string();
            *per_country.entry(cc.to_string()).or_default() += 1;
            match text(c, "domain") {
                Some(d) => {
                    assert!(d.is_ascii() && d == d.to_lowercase(), "{d}");
                    assert!(
                        d.ends_with(&format!(".{}", country.tld())) || d.ends_with(".com"),
                        "{d}"
                    );
                }
                None => missing_domain += 1,
            }
            text(c, "org_number");
            let ids = c["industry_ids"].as_array().unwrap();
            assert!((1..=3).contains(&ids.len()));
            let mut seen = Vec::new();
            for id in ids {
                let id = id.as_u64().unwrap() as usize;
                assert!(!seen.contains(&id));
                seen.push(id);
                assert!(
                    id < ind.level.len() && ind.level[id] != 0,
                    "unknown id {id}"
                );
                match ind.level[id] {
                    2..=4 => assert!(ind.country[id].is_none()),
                    5 => assert_eq!(ind.country[id], Some(country)),
                    l => panic!("level {l} not allowed"),
                }
            }
        }
        assert!(missing_domain > 0 && missing_domain < n_companies / 4);
        let se = per_country["SE"] as f64 / n_companies as f64;
        assert!((0.28..0.42).contains(&se), "SE share {se}");
        assert!(per_country["IS"] > 0);

        let contacts = parse_lines(&b);
        assert_eq!(contacts.len(), n_contacts);
        let keys = [
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
        let mut per_company = vec![0usize; n_companies + 1];
        let (mut stale, mut speculative, mut unverified) = (0, 0, 0);
        let (mut offsets, mut nulls, mut empties, mut hyphenated) = (0, 0, 0, 0);
        let (mut is_total, mut is_patronymic) = (0, 0);
        let mut score_hist = [0usize; 11];
        for (i, c) in contacts.iter().enumerate() {
            let obj = c.as_object().unwrap();
            for (key, value) in obj {
                assert!(keys.contains(&key.as_str()), "unexpected key {key}");
                match value {
                    Value::Null => nulls += 1,
                    Value::String(s) if s.is_empty() => empties += 1,
                    _ => {}
                }
            }
            assert_eq!(c["id"].as_u64().unwrap(), i as u64 + 1);
            let company_id = c["company_id"].as_u64().unwrap() as usize;
            assert!((1..=n_companies).contains(&company_id));
            per_company[company_id] += 1;
            let cc = country_of[company_id].as_str();
            let full_name = c["full_name"].as_str().unwrap();
            assert!(!full_name.trim().is_empty() && full_name.contains(' '));
            if full_name.split(' ').next().unwrap().contains('-') {
                hyphenated += 1;
            }
            if cc == "IS" {
                is_total += 1;
                if full_name.ends_with("son") || full_name.ends_with("dóttir") {
                    is_patronymic += 1;
                }
            }
            if let Some(email) = text(c, "email") {
                assert!(email.is_ascii(), "{email}");
                assert_eq!(email.matches('@').count(), 1, "{email}");
                assert!(!email.starts_with('@') && !email.contains(".@"), "{email}");
            }
            if let Some(phone) = text(c, "phone") {
                let prefix = match cc {
                    "SE" => "+46 ",
                    "NO" => "+47 ",
                    "DK" => "+45 ",
                    "FI" => "+358 ",
                    _ => "+354 ",
                };
                assert!(phone.starts_with(prefix), "{phone} for {cc}");
            }
            let source = c["source"].as_str().unwrap();
            if let Some(url) = text(c, "source_url") {
                assert!(url.starts_with("https://"), "{url}");
                let expected = match source {
                    "linkedin" => "linkedin.com/in/",
                    "facebook" => "facebook.com/",
                    "twitter" => ".com/",
                    "website" | "manual" => ".",
                    other => panic!("bad source {other}"),
                };
                assert!(url.contains(expected), "{source} {url}");
            }
            assert!(["website", "linkedin", "facebook", "twitter", "manual"].contains(&source));
            if let Some(s) = text(c, "seniority_level") {
                assert!(["executive", "senior", "manager", "staff"].contains(&s));
            }
            if let Some(s) = text(c, "email_status") {
                assert!(["valid", "catch_all", "pending", "invalid"].contains(&s));
            }
            let q = c["quality_score"].as_u64().unwrap();
            assert!(q <= 100);
            score_hist[q as usize / 10] += 1;
            let conf = c["confidence"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&conf));
            assert!(((conf * 1000.0).round() - conf * 1000.0).abs() < 1e-6);
            if c["is_stale"].as_bool().unwrap() {
                stale += 1;
            }
            if c["is_speculative"].as_bool().unwrap() {
                speculative += 1;
            }
            if !c["verified"].as_bool().unwrap() {
                unverified += 1;
            }
            let created_s = c["created_at"].as_str().unwrap();
            let created = DateTime::parse_from_rfc3339(created_s).unwrap();
            let updated = DateTime::parse_from_rfc3339(c["updated_at"].as_str().unwrap()).unwrap();
            assert!(updated >= created);
            assert!((2019..=2026).contains(&created.year()));
            assert!((2019..=2026).contains(&updated.year()));
            if !created_s.ends_with('Z') {
                offsets += 1;
            }
        }
        let rate = |n: usize| n as f64 / n_contacts as f64;
        assert!((0.08..0.12).contains(&rate(stale)), "stale {}", rate(stale));
        assert!((0.035..0.065).contains(&rate(speculative)));
        assert!(
            (0.35..0.47).contains(&rate(unverified)),
            "unverified {}",
            rate(unverified)
        );
        assert!((0.1..0.3).contains(&rate(offsets)));
        assert!(nulls > 0 && empties > 0 && hyphenated > 0);
        assert!(is_patronymic as f64 > 0.85 * is_total as f64);
        // Skewed, not uniform: the busiest band of ten scores holds several
        // times what the lowest band does.
        let max_bucket = *score_hist.iter().max().unwrap();
        assert!(max_bucket > 5 * score_hist[0], "{score_hist:?}");
        assert!(
            max_bucket as f64 > 0.15 * n_contacts as f64,
            "{score_hist:?}"
        );
        // Some companies are large, many are small.
        let mut sizes: Vec<usize> = per_company[1..].to_vec();
        sizes.sort_unstable();
        let median = sizes[sizes.len() / 2];
        let max = *sizes.last().unwrap();
        assert!(max > 10 * median.max(1), "max {max} median {median}");
    }

    #[test]
    fn generate_writes_both_files() {
        let dir =
            std::env::temp_dir().join(format!("kontakt-generate-test-{}", std::process::id()));
        let opts = GenerateOptions {
            companies: 20,
            contacts: 100,
            seed: 3,
            out: dir.join("nested"),
        };
        let summary = generate(&opts).unwrap();
        assert_eq!(
            summary,
            GenerateSummary {
                companies: 20,
                contacts: 100
            }
        );
        let companies = fs::read(opts.out.join("companies.jsonl")).unwrap();
        let contacts = fs::read(opts.out.join("contacts.jsonl")).unwrap();
        assert_eq!((companies, contacts), run(20, 100, 3));
        fs::remove_dir_all(&dir).unwrap();
    }
}
