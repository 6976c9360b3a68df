//! Deterministic synthetic dataset generator (`kontakt generate`).
//!
//! Writes `companies.jsonl` and `contacts.jsonl` in the record formats of the
//! API contract (§2). The output depends only on the seed and the two counts:
//! one ChaCha8 stream drives the companies and a second stream of the same
//! seed drives the contacts, so the companies file does not change when only
//! the contact count does. Contacts are streamed one line at a time; only a
//! small per-company summary is kept in memory.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

type R = ChaCha8Rng;

// ---------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------

const INDUSTRIES_CSV: &str = include_str!("../index_schema/industries.csv");
const JOB_TITLES_CSV: &str = include_str!("../fixtures/reference/job_titles.csv");
const SE_FIRST: &str = include_str!("../fixtures/reference/names/se_first_names.txt");
const SE_LAST: &str = include_str!("../fixtures/reference/names/se_last_names.txt");
const NO_FIRST: &str = include_str!("../fixtures/reference/names/no_first_names.txt");
const NO_LAST: &str = include_str!("../fixtures/reference/names/no_last_names.txt");
const DK_FIRST: &str = include_str!("../fixtures/reference/names/dk_first_names.txt");
const DK_LAST: &str = include_str!("../fixtures/reference/names/dk_last_names.txt");
const FI_FIRST: &str = include_str!("../fixtures/reference/names/fi_first_names.txt");
const FI_LAST: &str = include_str!("../fixtures/reference/names/fi_last_names.txt");
const IS_FIRST: &str = include_str!("../fixtures/reference/names/is_first_names.txt");
const IS_LAST: &str = include_str!("../fixtures/reference/names/is_last_names.txt");

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Country {
    Se,
    No,
    Dk,
    Fi,
    Is,
}

impl Country {
    const ALL: [Country; 5] = [
        Country::Se,
        Country::No,
        Country::Dk,
        Country::Fi,
        Country::Is,
    ];

    fn idx(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << self.idx()
    }

    fn code(self) -> &'static str {
        ["SE", "NO", "DK", "FI", "IS"][self.idx()]
    }

    fn tld(self) -> &'static str {
        ["se", "no", "dk", "fi", "is"][self.idx()]
    }

    fn from_code(code: &str) -> Option<Country> {
        Country::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether the industries table has national level-5 rows for it.
    fn has_level5(self) -> bool {
        matches!(self, Country::Se | Country::No | Country::Dk)
    }

    /// Skew of companies per country: SE 35%, NO 25%, DK 20%, FI 15%, IS 5%.
    fn pick(rng: &mut R) -> Country {
        pick_weighted(
            rng,
            &[
                (Country::Se, 35),
                (Country::No, 25),
                (Country::Dk, 20),
                (Country::Fi, 15),
                (Country::Is, 5),
            ],
        )
    }
}

struct Reference {
    industries: Industries,
    names: [Names; 5],
    titles: Vec<JobTitle>,
    english_titles: Vec<usize>,
    nordic_titles: [Vec<usize>; 5],
}

impl Reference {
    fn load() -> Result<Reference> {
        let industries = Industries::parse(INDUSTRIES_CSV)?;
        // Flags: first names by frequency, last names by frequency, patronymics
        // (see the data README).
        let names = [
            Names::parse(SE_FIRST, SE_LAST, true, true, false),
            Names::parse(NO_FIRST, NO_LAST, false, false, false),
            Names::parse(DK_FIRST, DK_LAST, false, true, false),
            Names::parse(FI_FIRST, FI_LAST, true, true, false),
            Names::parse(IS_FIRST, IS_LAST, false, false, true),
        ];
        let titles = parse_job_titles(JOB_TITLES_CSV)?;
        let mut english_titles = Vec::new();
        let mut nordic_titles: [Vec<usize>; 5] = Default::default();
        for (i, t) in titles.iter().enumerate() {
            match nordic_title_countries(t.title) {
                0 => english_titles.push(i),
                mask => {
                    for c in Country::ALL {
                        if mask & c.bit() != 0 {
                            nordic_titles[c.idx()].push(i);
                        }
                    }
                }
            }
        }
        Ok(Reference {
            industries,
            names,
            titles,
            english_titles,
            nordic_titles,
        })
    }
}

/// Splits one CSV line (RFC 4180 quoting, no embedded line breaks).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' {
            quoted = true;
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
        } else {
            field.push(c);
        }
    }
    fields.push(field);
    fields
}

/// The industries table, indexed by public id.
struct Industries {
    level: Vec<u8>,
    parent: Vec<u32>,
    section: Vec<u8>,
    country: Vec<Option<Country>>,
    children: Vec<Vec<u32>>,
    /// Ids of levels 2, 3 and 4 per section (A–U), each in a seed-dependent
    /// "popularity" order.
    pools: [[Vec<u32>; SECTIONS]; 3],
    /// National level-5 ids per country and section (empty for FI and IS).
    level5: [[Vec<u32>; SECTIONS]; 5],
}

const SECTIONS: usize = 21;

/// Rough shares of Nordic enterprises per NACE section A–U: trade,
/// professional services and construction dominate, not manufacturing (which
/// merely has the most classes).
const SECTION_WEIGHTS: [u32; SECTIONS] = [
    70, 3, 60, 10, 5, 120, 140, 50, 50, 70, 30, 80, 140, 50, 2, 20, 45, 30, 35, 1, 1,
];

fn section_index(section: u8) -> Option<usize> {
    let i = section.wrapping_sub(b'A') as usize;
    (i < SECTIONS).then_some(i)
}

impl Industries {
    fn parse(csv: &str) -> Result<Industries> {
        let mut rows = Vec::new();
        for (n, line) in csv.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let f = csv_fields(line);
            if f.len() < 6 {
                bail!("industries.csv line {}: expected 7 columns", n + 1);
            }
            let id: u32 = f[0]
                .parse()
                .with_context(|| format!("industries.csv line {}: id", n + 1))?;
            let level: u8 = f[2]
                .parse()
                .with_context(|| format!("industries.csv line {}: level", n + 1))?;
            let parent: u32 = if f[3].is_empty() {
                0
            } else {
                f[3].parse()
                    .with_context(|| format!("industries.csv line {}: parent_id", n + 1))?
            };
            let section = f[4].bytes().next().unwrap_or(b'?');
            let country = if f[5].is_empty() {
                None
            } else {
                Some(Country::from_code(&f[5]).with_context(|| {
                    format!("industries.csv line {}: country_code {}", n + 1, f[5])
                })?)
            };
            rows.push((id, level, parent, section, country));
        }
        let size = rows.iter().map(|r| r.0 as usize).max().unwrap_or(0) + 1;
        let mut ind = Industries {
            level: vec![0; size],
            parent: vec![0; size],
            section: vec![b'?'; size],
            country: vec![None; size],
            children: vec![Vec::new(); size],
            pools: Default::default(),
            level5: Default::default(),
        };
        for &(id, level, parent, section, country) in &rows {
            let i = id as usize;
            ind.level[i] = level;
            ind.parent[i] = parent;
            ind.section[i] = section;
            ind.country[i] = country;
            if parent != 0 && (parent as usize) < size {
                ind.children[parent as usize].push(id);
            }
            let Some(s) = section_index(section) else {
                continue;
            };
            match (level, country) {
                (2..=4, None) => ind.pools[level as usize - 2][s].push(id),
                (5, Some(c)) => ind.level5[c.idx()][s].push(id),
                _ => {}
            }
        }
        Ok(ind)
    }

    /// Real economies are not uniform over industries: shuffle each pool once
    /// per seed, and `pick_from` then favours the front of it.
    fn shuffle_popularity(&mut self, rng: &mut R) {
        for pool in self
            .pools
            .iter_mut()
            .chain(self.level5.iter_mut())
            .flatten()
        {
            pool.shuffle(rng);
        }
    }

    fn pick_independent(&self, country: Country, rng: &mut R) -> u32 {
        let section = pick_index(rng, &SECTION_WEIGHTS);
        let level = if country.has_level5() {
            pick_weighted(rng, &[(5u8, 45), (4, 35), (3, 12), (2, 8)])
        } else {
            pick_weighted(rng, &[(4u8, 65), (3, 22), (2, 13)])
        };
        let mut pool = if level == 5 {
            &self.level5[country.idx()][section]
        } else {
            &self.pools[level as usize - 2][section]
        };
        if pool.is_empty() {
            // E.g. Norway has no subclasses in division 98; every section has classes.
            pool = &self.pools[2][section];
        }
        pool[skewed_index(rng, pool.len())]
    }

    /// An industry close to `id` in the hierarchy (parent, sibling or child),
    /// allowed for `country`; companies tend to work in related activities.
    fn pick_related(&self, id: u32, country: Country, rng: &mut R) -> Option<u32> {
        let i = id as usize;
        let anchor = if self.level[i] == 5 {
            let parent = self.parent[i];
            if rng.gen_bool(0.5) {
                return Some(parent);
            }
            parent
        } else {
            id
        };
        let allowed: Vec<u32> = self.children[anchor as usize]
            .iter()
            .copied()
            .filter(|&c| c != id && self.country[c as usize].is_none_or(|cc| cc == country))
            .collect();
        allowed.choose(rng).copied()
    }

    fn pick_for_company(&self, country: Country, rng: &mut R) -> Vec<u32> {
        let count = pick_weighted(rng, &[(1usize, 60), (2, 30), (3, 10)]);
        let primary = self.pick_independent(country, rng);
        let mut ids = vec![primary];
        let mut attempts = 0;
        while ids.len() < count && attempts < 10 {
            attempts += 1;
            let candidate = if rng.gen_bool(0.5) {
                self.pick_related(primary, country, rng)
            } else {
                None
            };
            let candidate = candidate.unwrap_or_else(|| self.pick_independent(country, rng));
            if !ids.contains(&candidate) {
                ids.push(candidate);
            }
        }
        ids
    }
}

struct Names {
    female: Vec<&'static str>,
    male: Vec<&'static str>,
    last_male: Vec<&'static str>,
    last_female: Vec<&'static str>,
    first_by_frequency: bool,
    last_by_frequency: bool,
}

impl Names {
    fn parse(
        first: &'static str,
        last: &'static str,
        first_by_frequency: bool,
        last_by_frequency: bool,
        patronymic: bool,
    ) -> Names {
        let mut female = Vec::new();
        let mut male = Vec::new();
        // The first-name files interleave female and male names.
        for (i, name) in lines(first).enumerate() {
            if i % 2 == 0 {
                female.push(name);
            } else {
                male.push(name);
            }
        }
        let all_last: Vec<&'static str> = lines(last).collect();
        let (last_male, last_female) = if patronymic {
            (
                all_last
                    .iter()
                    .copied()
                    .filter(|n| n.ends_with("son"))
                    .collect(),
                all_last
                    .iter()
                    .copied()
                    .filter(|n| n.ends_with("dóttir"))
                    .collect(),
            )
        } else {
            (all_last.clone(), all_last)
        };
        Names {
            female,
            male,
            last_male,
            last_female,
            first_by_frequency,
            last_by_frequency,
        }
    }

    fn first(&self, female: bool, rng: &mut R) -> &'static str {
        let list = if female { &self.female } else { &self.male };
        pick_list(rng, list, self.first_by_frequency)
    }

    fn last(&self, female: bool, rng: &mut R) -> &'static str {
        let list = if female {
            &self.last_female
        } else {
            &self.last_male
        };
        pick_list(rng, list, self.last_by_frequency)
    }
}

fn lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

struct JobTitle {
    title: &'static str,
    department: &'static str,
    seniority: &'static str,
}

fn parse_job_titles(csv: &'static str) -> Result<Vec<JobTitle>> {
    let mut titles = Vec::new();
    for (n, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        // The file has no quoted fields; keep borrowed slices when that holds.
        let parts: Vec<&'static str> = line.split(',').collect();
        if parts.len() != 3 || line.contains('"') {
            bail!(
                "job_titles.csv line {}: expected title,department,seniority",
                n + 1
            );
        }
        titles.push(JobTitle {
            title: parts[0],
            department: parts[1],
            seniority: parts[2],
        });
    }
    Ok(titles)
}

/// Countries whose language a Nordic job title is in (bit mask of
/// `Country::bit`); 0 means English. From the data README.
fn nordic_title_countries(title: &str) -> u8 {
    const SE: u8 = 1;
    const NO: u8 = 2;
    const DK: u8 = 4;
    const FI: u8 = 8;
    const IS: u8 = 16;
    match title {
        "Verkställande direktör"
        | "Styrelseordförande"
        | "Försäljningschef"
        | "Säljare"
        | "Marknadschef"
        | "Kommunikationschef"
        | "Ekonomidirektör"
        | "Ekonomichef"
        | "Ekonomiassistent"
        | "HR-chef"
        | "Rekryterare"
        | "Teknisk chef"
        | "Systemutvecklare"
        | "IT-chef"
        | "Chefsjurist"
        | "Bolagsjurist"
        | "Driftschef"
        | "Inköpschef"
        | "Projektledare"
        | "Kundtjänstchef"
        | "Produktchef"
        | "Produktägare" => SE,
        "Daglig leder" | "Styreleder" | "Salgssjef" | "Selger" | "Markedssjef" | "Økonomisjef"
        | "Regnskapsfører" | "HR-sjef" | "Utvikler" | "IT-sjef" | "Driftssjef"
        | "Prosjektleder" | "Kundeservicesjef" | "Produktsjef" => NO,
        "Bestyrelsesformand"
        | "Salgschef"
        | "Sælger"
        | "Marketingchef"
        | "Økonomichef"
        | "Bogholder"
        | "Systemudvikler"
        | "Indkøber"
        | "Projektleder"
        | "Kundeservicemedarbejder"
        | "Produktejer" => DK,
        "Administrerende direktør"
        | "Salgsdirektør"
        | "Økonomidirektør"
        | "HR-direktør"
        | "HR-konsulent"
        | "Teknisk direktør"
        | "IT-konsulent"
        | "Juridisk direktør"
        | "Kundeansvarlig" => NO | DK,
        "Advokat" | "Jurist" => SE | NO | DK,
        "Toimitusjohtaja"
        | "Hallituksen puheenjohtaja"
        | "Myyntijohtaja"
        | "Myyntipäällikkö"
        | "Markkinointijohtaja"
        | "Markkinointipäällikkö"
        | "Talousjohtaja"
        | "Kirjanpitäjä"
        | "Henkilöstöjohtaja"
        | "HR-päällikkö"
        | "Teknologiajohtaja"
        | "Ohjelmistokehittäjä"
        | "Tietohallintojohtaja"
        | "IT-päällikkö"
        | "Lakimies"
        | "Projektipäällikkö"
        | "Ostaja"
        | "Asiakaspalvelupäällikkö"
        | "Asiakkuuspäällikkö"
        | "Tuotepäällikkö" => FI,
        "Framkvæmdastjóri" | "Stjórnarformaður" | "Sölustjóri" | "Markaðsstjóri"
        | "Fjármálastjóri" | "Mannauðsstjóri" | "Tæknistjóri" | "Lögfræðingur"
        | "Verkefnastjóri" | "Þjónustustjóri" => IS,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------
// Random helpers
// ---------------------------------------------------------------------------

fn pick_weighted<T: Copy>(rng: &mut R, choices: &[(T, u32)]) -> T {
    let total: u32 = choices.iter().map(|c| c.1).sum();
    let mut r = rng.gen_range(0..total);
    for &(value, weight) in choices {
        if r < weight {
            return value;
        }
        r -= weight;
    }
    choices[choices.len() - 1].0
}

fn pick_index(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut r = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if r < w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// An index biased towards the front (P(index < k) = (k/n)^(2/3)), for lists
/// ordered by frequency or popularity.
fn skewed_index(rng: &mut R, len: usize) -> usize {
    let u: f64 = rng.r#gen();
    ((u * u.sqrt() * len as f64) as usize).min(len - 1)
}

fn pick_list<'a>(rng: &mut R, items: &[&'a str], by_frequency: bool) -> &'a str {
    if by_frequency {
        items[skewed_index(rng, items.len())]
    } else {
        items[rng.gen_range(0..items.len())]
    }
}

fn choose<'a>(rng: &mut R, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// How a missing optional field is written: mostly left out, sometimes
/// `null`, occasionally `""` (all mean the same per the contract).
#[derive(Clone, Copy)]
enum Gap {
    Absent,
    Null,
    Empty,
}

fn gap(rng: &mut R) -> Gap {
    match rng.gen_range(0..100) {
        0..75 => Gap::Absent,
        75..95 => Gap::Null,
        _ => Gap::Empty,
    }
}

// ---------------------------------------------------------------------------
// JSON line writer
// ---------------------------------------------------------------------------

/// Builds one JSON object with keys in a fixed order; strings and numbers go
/// through serde_json so escaping and float formatting are correct.
#[derive(Default)]
struct Line {
    buf: Vec<u8>,
}

impl Line {
    fn begin(&mut self) {
        self.buf.clear();
        self.buf.push(b'{');
    }

    fn key(&mut self, key: &str) {
        if self.buf.len() > 1 {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    fn str(&mut self, key: &str, value: &str) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, value)?;
        Ok(())
    }

    fn opt(&mut self, key: &str, value: Option<&str>, rng: &mut R) -> Result<()> {
        match value {
            Some(v) => self.str(key, v),
            None => match gap(rng) {
                Gap::Absent => Ok(()),
                Gap::Null => {
                    self.key(key);
                    self.buf.extend_from_slice(b"null");
                    Ok(())
                }
                Gap::Empty => self.str(key, ""),
            },
        }
    }

    fn int(&mut self, key: &str, value: u64) {
        self.key(key);
        // Writing into a Vec cannot fail.
        let _ = write!(self.buf, "{value}");
    }

    fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn float(&mut self, key: &str, value: f64) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, &value)?;
        Ok(())
    }

    fn ids(&mut self, key: &str, ids: &[u32]) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, ids)?;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.buf.extend_from_slice(b"}\n");
        out.write_all(&self.buf)
    }
}

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

/// Lower-cases and folds one character to ASCII letters or digits; false
/// (and nothing written) for characters without such a form.
fn fold_char(c: char, out: &mut String) -> bool {
    let folded: &str = match c {
        'a'..='z' | '0'..='9' => {
            out.push(c);
            return true;
        }
        'A'..='Z' => {
            out.push(c.to_ascii_lowercase());
            return true;
        }
        'å' | 'ä' | 'à' | 'á' | 'â' | 'ã' | 'Å' | 'Ä' | 'À' | 'Á' | 'Â' | 'Ã' => "a",
        'æ' | 'Æ' => "ae",
        'ø' | 'ö' | 'ó' | 'ò' | 'ô' | 'õ' | 'Ø' | 'Ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => "o",
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'ü' | 'ú' | 'ù' | 'û' | 'Ü' | 'Ú' | 'Ù' | 'Û' => "u",
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => "i",
        'ý' | 'ÿ' | 'Ý' => "y",
        'þ' | 'Þ' => "th",
        'ð' | 'Ð' => "d",
        'ç' | 'Ç' => "c",
        'ñ' | 'Ñ' => "n",
        'ß' => "ss",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        _ => return false,
    };
    out.push_str(folded);
    true
}

/// ASCII slug: folded letters and digits; a space becomes `space`, a hyphen
/// becomes `hyphen` (either may be empty to drop it); anything else is dropped.
fn slug(s: &str, space: &str, hyphen: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut pending: Option<&str> = None;
    for c in s.chars() {
        match c {
            ' ' | '-' => {
                // Separators only between kept characters, never doubled.
                if !out.is_empty() {
                    pending = Some(if c == ' ' { space } else { hyphen });
                }
            }
            _ => {
                let before = out.len();
                if let Some(p) = pending {
                    out.push_str(p);
                }
                if fold_char(c, &mut out) {
                    pending = None;
                } else {
                    out.truncate(before);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Companies
// ---------------------------------------------------------------------------

/// What contacts need to know about their company.
struct CompanyInfo {
    country: Country,
    /// The company's real web domain, used for emails and URLs even when the
    /// record itself lacks it (the dataset is incomplete, the world is not).
    domain: Option<String>,
    /// ASCII handle of the company name, for social media URLs.
    handle: String,
    /// The company's usual email address pattern (index into `email_local`).
    email_pattern: u8,
}

/// Names and domains already given out: registries do not hand out the
/// same company name twice in a country, and a domain has one owner.
/// Only looked up, never iterated, so the output order stays deterministic.
#[derive(Default)]
struct Taken {
    names: HashSet<String>,
    domains: HashSet<String>,
}

fn write_company(
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
            let town = choose(rng, TOWNS[country.idx()]);
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

const TOWNS: [&[&str]; 5] = [
    &[
        "Stockholm",
        "Göteborg",
        "Malmö",
        "Uppsala",
        "Västerås",
        "Örebro",
        "Linköping",
        "Helsingborg",
        "Jönköping",
        "Norrköping",
        "Lund",
        "Umeå",
        "Gävle",
        "Borås",
        "Sundsvall",
        "Luleå",
        "Karlstad",
        "Växjö",
    ],
    &[
        "Oslo",
        "Bergen",
        "Trondheim",
        "Stavanger",
        "Kristiansand",
        "Tromsø",
        "Drammen",
        "Fredrikstad",
        "Bodø",
        "Ålesund",
        "Sandnes",
        "Hamar",
        "Molde",
        "Haugesund",
    ],
    &[
        "København",
        "Aarhus",
        "Odense",
        "Aalborg",
        "Esbjerg",
        "Randers",
        "Kolding",
        "Horsens",
        "Vejle",
        "Roskilde",
        "Herning",
        "Silkeborg",
        "Næstved",
        "Fredericia",
    ],
    &[
        "Helsinki",
        "Espoo",
        "Tampere",
        "Vantaa",
        "Oulu",
        "Turku",
        "Jyväskylä",
        "Lahti",
        "Kuopio",
        "Pori",
        "Joensuu",
        "Lappeenranta",
        "Vaasa",
        "Seinäjoki",
    ],
    &[
        "Reykjavík",
        "Akureyri",
        "Kópavogur",
        "Hafnarfjörður",
        "Selfoss",
        "Ísafjörður",
        "Egilsstaðir",
        "Reykjanesbær",
        "Akranes",
        "Húsavík",
    ],
];

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
            format!("{surname} {}", sector_word(country, section, rng))
        }
        3 if surname_ok => {
            let a = choose(rng, last);
            let mut b = choose(rng, last);
            while b == a {
                b = choose(rng, last);
            }
            format!("{a} & {b}")
        }
        2 => brand(country, rng),
        4 => format!(
            "{} {}",
            choose(rng, ENGLISH_BRANDS),
            choose(rng, english_sector_words(section))
        ),
        _ => format!(
            "{} {}",
            brand(country, rng),
            sector_word(country, section, rng)
        ),
    }
}

const ENGLISH_BRANDS: &[&str] = &[
    "Nordic",
    "Arctic",
    "Scandinavian",
    "Baltic",
    "Polar",
    "Aurora",
    "North",
    "Blue",
    "Green",
    "Smart",
    "Prime",
    "Nova",
    "Vertex",
    "Summit",
    "Core",
    "Bright",
    "Clear",
    "Future",
    "Global",
    "Alpha",
    "Northern",
    "Fjord",
    "Boreal",
    "Viking",
];

/// An invented place-like brand such as "Nordvik" or "Hraunverk".
fn brand(country: Country, rng: &mut R) -> String {
    let (prefixes, endings): (&[&str], &[&str]) = match country {
        Country::Se => (
            &[
                "Nord", "Syd", "Öst", "Väst", "Fjäll", "Sjö", "Skog", "Berg", "Sten", "Lund", "Ek",
                "Björk", "Gran", "Ljung", "Älv", "Vik", "Strand", "Sol", "Norr", "Mälar", "Kust",
                "Stor", "Hav", "Ås",
            ],
            &[
                "vik", "berg", "dal", "lund", "holm", "ström", "by", "näs", "fors", "sund", "hamn",
                "gården", "kraft", "ljus", "tek", "bygd",
            ],
        ),
        Country::No => (
            &[
                "Nord", "Sør", "Øst", "Vest", "Fjell", "Fjord", "Skog", "Berg", "Stein", "Lund",
                "Bjørk", "Gran", "Elv", "Vik", "Strand", "Sol", "Havn", "Tind", "Nes", "Dal", "Ås",
                "Bre",
            ],
            &[
                "vik", "berg", "dal", "lund", "heim", "strand", "nes", "fjord", "haug", "bakken",
                "stad", "by", "tek", "kraft", "ly", "voll",
            ],
        ),
        Country::Dk => (
            &[
                "Nord", "Syd", "Øst", "Vest", "Skov", "Sø", "Bøg", "Eg", "Lyng", "Strand", "Vig",
                "Holm", "Kyst", "Sol", "Fjord", "Hav", "Ager", "Mølle", "Bro", "Å",
            ],
            &[
                "gaard", "holm", "borg", "by", "lund", "bjerg", "dal", "strand", "vig", "sted",
                "rup", "lev", "høj", "bro", "kær", "tek",
            ],
        ),
        Country::Fi => (
            &[
                "Pohjois",
                "Etelä",
                "Itä",
                "Länsi",
                "Tunturi",
                "Järvi",
                "Metsä",
                "Kallio",
                "Koski",
                "Lahti",
                "Ranta",
                "Saari",
                "Kivi",
                "Aalto",
                "Revontuli",
                "Kuusi",
                "Koivu",
                "Mänty",
                "Sisu",
                "Ilma",
            ],
            &[
                "tek",
                "soft",
                "data",
                "linja",
                "net",
                "tekniikka",
                "koski",
                "mäki",
                "lahti",
                "niemi",
                "vaara",
                "talo",
                "palvelu",
            ],
        ),
        Country::Is => (
            &[
                "Norður", "Suður", "Austur", "Vestur", "Hraun", "Jökul", "Eld", "Sól", "Fjarð",
                "Vík", "Heklu", "Esju", "Sögu", "Ask", "Geysis", "Dal", "Hval", "Fjalla", "Lind",
                "Bjarg",
            ],
            &[
                "verk", "tak", "nes", "vík", "fell", "ból", "land", "tækni", "vör", "borg", "ás",
                "garður", "haf", "sýn",
            ],
        ),
    };
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
fn sector_word(country: Country, section: u8, rng: &mut R) -> &'static str {
    let words: [&[&str]; 5] = match section {
        b'A' => [
            &["Lantbruk", "Gård", "Skog"],
            &["Gård", "Landbruk", "Skog"],
            &["Landbrug", "Gård", "Skovbrug"],
            &["Maatalous", "Metsä"],
            &["Búskapur", "Bú"],
        ],
        b'B' => [
            &["Mineral", "Bergteknik"],
            &["Mineral", "Stein"],
            &["Grus", "Råstoffer"],
            &["Kaivos", "Mineraali"],
            &["Náma", "Jarðefni"],
        ],
        b'C' => [
            &["Industri", "Mekaniska", "Verkstad", "Plast", "Snickeri"],
            &["Industri", "Mekaniske", "Verksted", "Plast"],
            &["Industri", "Maskinfabrik", "Metal", "Snedkeri"],
            &["Teollisuus", "Konepaja", "Metalli"],
            &["Smiðja", "Iðnaður"],
        ],
        b'D' => [
            &["Energi", "Kraft"],
            &["Energi", "Kraft"],
            &["Energi", "Forsyning"],
            &["Energia", "Voima"],
            &["Orka", "Orkuveita"],
        ],
        b'E' => [
            &["Miljö", "Återvinning"],
            &["Miljø", "Gjenvinning"],
            &["Miljø", "Genbrug"],
            &["Ympäristö", "Kierrätys"],
            &["Umhverfi", "Endurvinnsla"],
        ],
        b'F' => [
            &["Bygg", "Entreprenad", "Måleri", "El", "Rör"],
            &["Bygg", "Entreprenør", "Maling", "Elektro", "Rør"],
            &["Byg", "Entreprise", "Maler", "El-service", "VVS"],
            &["Rakennus", "Rakennuspalvelu", "Sähkö", "Putki"],
            &["Byggingar", "Verktakar", "Rafverk"],
        ],
        b'G' => [
            &["Handel", "Butik", "Grossist"],
            &["Handel", "Engros"],
            &["Handel", "Engros"],
            &["Kauppa", "Tukku"],
            &["Verslun", "Heildverslun"],
        ],
        b'H' => [
            &["Transport", "Logistik", "Åkeri"],
            &["Transport", "Logistikk"],
            &["Transport", "Logistik", "Vognmand"],
            &["Kuljetus", "Logistiikka"],
            &["Flutningar"],
        ],
        b'I' => [
            &["Restaurang", "Hotell", "Café"],
            &["Restaurant", "Hotell", "Kafé"],
            &["Restaurant", "Hotel", "Café"],
            &["Ravintola", "Hotelli"],
            &["Veitingar", "Hótel"],
        ],
        b'J' => [
            &["IT", "Data", "Tech", "Digital", "Software"],
            &["IT", "Data", "Teknologi", "Digital"],
            &["IT", "Data", "Tech", "Digital"],
            &["IT", "Tieto", "Digital", "Software"],
            &["Tækni", "Hugbúnaður", "IT"],
        ],
        b'K' => [
            &["Kapital", "Finans", "Invest"],
            &["Kapital", "Finans", "Invest"],
            &["Kapital", "Finans", "Invest"],
            &["Rahoitus", "Pääoma", "Invest"],
            &["Fjárfestingar", "Fjármál"],
        ],
        b'L' => [
            &["Fastigheter", "Förvaltning"],
            &["Eiendom", "Forvaltning"],
            &["Ejendomme", "Administration"],
            &["Kiinteistöt", "Isännöinti"],
            &["Fasteignir"],
        ],
        b'M' => [
            &["Konsult", "Consulting", "Revision", "Arkitekter"],
            &["Rådgivning", "Consulting", "Revisjon", "Arkitekter"],
            &["Rådgivning", "Consulting", "Revision", "Arkitekter"],
            &[
                "Consulting",
                "Konsultointi",
                "Tilintarkastus",
                "Arkkitehdit",
            ],
            &["Ráðgjöf", "Endurskoðun", "Arkitektar"],
        ],
        b'N' => [
            &["Service", "Städ", "Bemanning"],
            &["Service", "Renhold", "Bemanning"],
            &["Service", "Rengøring", "Vikarservice"],
            &["Palvelut", "Siivous", "Henkilöstöpalvelut"],
            &["Þjónusta", "Ræstingar"],
        ],
        b'P' => [
            &["Utbildning", "Akademi"],
            &["Utdanning", "Akademi"],
            &["Uddannelse", "Akademi"],
            &["Koulutus", "Akatemia"],
            &["Fræðsla", "Skóli"],
        ],
        b'Q' => [
            &["Vård", "Hälsa", "Tandvård"],
            &["Helse", "Omsorg", "Tannlege"],
            &["Sundhed", "Klinik", "Tandlæge"],
            &["Terveys", "Hoiva"],
            &["Heilsa", "Heilsugæsla"],
        ],
        b'R' => [
            &["Media", "Event", "Kultur"],
            &["Media", "Event", "Kultur"],
            &["Media", "Event", "Kultur"],
            &["Media", "Tapahtumat"],
            &["Miðlun", "Viðburðir"],
        ],
        _ => [
            &["Gruppen", "Partner", "Service"],
            &["Gruppen", "Partner", "Service"],
            &["Gruppen", "Partner", "Service"],
            &["Group", "Palvelut"],
            &["Hópurinn", "Þjónusta"],
        ],
    };
    choose(rng, words[country.idx()])
}

fn english_sector_words(section: u8) -> &'static [&'static str] {
    match section {
        b'A' => &["Agri", "Farms", "Forestry"],
        b'B' => &["Minerals", "Mining"],
        b'C' => &["Industries", "Manufacturing", "Engineering"],
        b'D' => &["Energy", "Power"],
        b'E' => &["Recycling", "Environmental"],
        b'F' => &["Construction", "Builders"],
        b'G' => &["Trading", "Supply", "Retail"],
        b'H' => &["Logistics", "Freight", "Shipping"],
        b'I' => &["Hospitality", "Hotels"],
        b'J' => &["Software", "Systems", "Digital", "Technologies", "Data"],
        b'K' => &["Capital", "Invest", "Finance"],
        b'L' => &["Properties", "Real Estate"],
        b'M' => &["Consulting", "Advisory", "Partners"],
        b'N' => &["Services", "Staffing"],
        b'P' => &["Academy", "Learning"],
        b'Q' => &["Health", "Care"],
        b'R' => &["Media", "Events"],
        _ => &["Group", "Solutions", "Services", "Partners"],
    }
}

/// A plausible registry number in the country's usual notation, with a
/// valid check digit.
fn org_number(country: Country, rng: &mut R) -> String {
    let mut d = [0u32; 10];
    match country {
        // Organisationsnummer of an aktiebolag: 556/559 + 6 digits + Luhn.
        Country::Se => {
            d[0] = 5;
            d[1] = 5;
            d[2] = if rng.gen_bool(0.6) { 6 } else { 9 };
            for x in d.iter_mut().take(9).skip(3) {
                *x = rng.gen_range(0..10);
            }
            let sum: u32 = (0..9)
                .map(|i| {
                    let v = d[i] * if i % 2 == 0 { 2 } else { 1 };
                    v / 10 + v % 10
                })
                .sum();
            d[9] = (10 - sum % 10) % 10;
            format!("{}-{}", digits(&d[..6]), digits(&d[6..]))
        }
        // Organisasjonsnummer: 9 digits, MOD11 with weights 3,2,7,6,5,4,3,2.
        Country::No => loop {
            d[0] = if rng.gen_bool(0.7) { 9 } else { 8 };
            for x in d.iter_mut().take(8).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [3, 2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..8).map(|i| d[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                d[8] = check;
                return digits(&d[..9]);
            }
        },
        // CVR: 8 digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11.
        Country::Dk => loop {
            d[0] = rng.gen_range(1..5);
            for x in d.iter_mut().take(7).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..7).map(|i| d[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                d[7] = check;
                return digits(&d[..8]);
            }
        },
        // Y-tunnus: 7 digits, a hyphen and a MOD11 check digit.
        Country::Fi => loop {
            d[0] = rng.gen_range(0..4);
            for x in d.iter_mut().take(7).skip(1) {
                *x = rng.gen_range(0..10);
            }
            let w = [7, 9, 10, 5, 8, 4, 2];
            let sum: u32 = (0..7).map(|i| d[i] * w[i]).sum();
            let check = match sum % 11 {
                0 => 0,
                1 => continue,
                r => 11 - r,
            };
            return format!("{}-{check}", digits(&d[..7]));
        },
        // Kennitala of a company: day + 40, month, year, two digits, check
        // digit, century digit.
        Country::Is => loop {
            let day = rng.gen_range(1..29) + 40;
            let month = rng.gen_range(1..13);
            let year: u32 = rng.gen_range(1965..2025);
            let body = [
                day / 10,
                day % 10,
                month / 10,
                month % 10,
                (year % 100) / 10,
                year % 10,
                rng.gen_range(2..10),
                rng.gen_range(0..10),
            ];
            let w = [3, 2, 7, 6, 5, 4, 3, 2];
            let sum: u32 = (0..8).map(|i| body[i] * w[i]).sum();
            let check = (11 - sum % 11) % 11;
            if check < 10 {
                let century = if year >= 2000 { 0 } else { 9 };
                return format!(
                    "{}-{}{}{check}{century}",
                    digits(&body[..6]),
                    body[6],
                    body[7]
                );
            }
        },
    }
}

fn digits(d: &[u32]) -> String {
    d.iter()
        .map(|&x| char::from_digit(x, 10).unwrap_or('0'))
        .collect()
}

/// Heavy-tailed company sizes: a few companies hold many contacts, most hold
/// few (Pareto with alpha 1, capped at 1000 times the smallest weight).
struct CompanyPicker {
    cumulative: Vec<u64>,
}

impl CompanyPicker {
    fn new(rng: &mut R, companies: usize) -> CompanyPicker {
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

    fn pick(&self, rng: &mut R) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1);
        let r = rng.gen_range(0..total);
        self.cumulative.partition_point(|&c| c <= r)
    }
}

// ---------------------------------------------------------------------------
// Contacts
// ---------------------------------------------------------------------------

const SOURCES: &[(&str, u32)] = &[
    ("linkedin", 38),
    ("website", 34),
    ("manual", 12),
    ("facebook", 9),
    ("twitter", 7),
];

fn write_contact(
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
    let job_title = has_title.then_some(row.title);
    // Without a title the department or level is still sometimes known.
    let department_rate = if has_title { 0.92 } else { 0.25 };
    let department = rng.gen_bool(department_rate).then_some(row.department);
    let seniority_rate = if has_title { 0.9 } else { 0.15 };
    let seniority = rng.gen_bool(seniority_rate).then_some(row.seniority);

    let is_stale = rng.gen_bool(0.10);
    let is_speculative = rng.gen_bool(0.05);
    let source = pick_weighted(rng, SOURCES);

    let email = contact_email(company, fs, ls, rng);
    let phone = rng.gen_bool(0.7).then(|| phone(country, rng));
    let source_url = source_url(source, company, country, fs, ls, rng);

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

const WEBMAIL: [&[&str]; 5] = [
    &["gmail.com", "hotmail.com", "outlook.com", "telia.com"],
    &["gmail.com", "hotmail.com", "online.no"],
    &["gmail.com", "hotmail.com", "mail.dk"],
    &["gmail.com", "hotmail.com", "outlook.com"],
    &["gmail.com", "simnet.is", "internet.is"],
];

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

fn contact_email(company: &CompanyInfo, first: &str, last: &str, rng: &mut R) -> Option<String> {
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
            let domain = choose(rng, WEBMAIL[company.country.idx()]);
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

const SITE_PATHS: [&[&str]; 5] = [
    &[
        "om-oss",
        "kontakt",
        "medarbetare",
        "kontakta-oss",
        "om-oss/team",
    ],
    &[
        "om-oss",
        "kontakt-oss",
        "ansatte",
        "kontakt",
        "om-oss/ansatte",
    ],
    &[
        "om-os",
        "kontakt",
        "medarbejdere",
        "kontakt-os",
        "om-os/team",
    ],
    &["yhteystiedot", "meista", "henkilosto", "ota-yhteytta"],
    &["um-okkur", "starfsfolk", "hafa-samband"],
];
const SITE_PATHS_EN: &[&str] = &[
    "about",
    "about-us",
    "team",
    "contact",
    "people",
    "en/contact",
];

/// A URL matching the source: a LinkedIn profile, a page on the company
/// website, a Facebook or X/Twitter profile; usually none for manual entry.
fn source_url(
    source: &str,
    company: &CompanyInfo,
    country: Country,
    first: &str,
    last: &str,
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
                    choose(rng, SITE_PATHS[country.idx()])
                } else {
                    choose(rng, SITE_PATHS_EN)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

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
    fn reference_data_parses() {
        let r = Reference::load().unwrap();
        assert_eq!(r.titles.len(), 183);
        assert_eq!(r.english_titles.len(), 95, "every Nordic title is mapped");
        let mapped: usize = r
            .titles
            .iter()
            .filter(|t| nordic_title_countries(t.title) != 0)
            .count();
        assert_eq!(mapped, 88);
        for c in Country::ALL {
            assert!(!r.nordic_titles[c.idx()].is_empty());
            let n = &r.names[c.idx()];
            assert!(!n.female.is_empty() && !n.male.is_empty());
            assert!(!n.last_male.is_empty() && !n.last_female.is_empty());
        }
        let is = &r.names[Country::Is.idx()];
        assert!(is.last_male.iter().all(|n| n.ends_with("son")));
        assert!(is.last_female.iter().all(|n| n.ends_with("dóttir")));
        let ind = &r.industries;
        let count = |pools: &[Vec<u32>; SECTIONS]| pools.iter().map(Vec::len).sum::<usize>();
        assert_eq!(count(&ind.pools[0]), 88);
        assert_eq!(count(&ind.pools[1]), 272);
        assert_eq!(count(&ind.pools[2]), 615);
        assert!(ind.pools[2].iter().all(|p| !p.is_empty()));
        assert_eq!(count(&ind.level5[Country::No.idx()]), 820);
        assert_eq!(count(&ind.level5[Country::Se.idx()]), 821);
        assert_eq!(count(&ind.level5[Country::Dk.idx()]), 736);
        assert_eq!(count(&ind.level5[Country::Fi.idx()]), 0);
        assert_eq!(count(&ind.level5[Country::Is.idx()]), 0);
    }

    #[test]
    fn csv_and_slug_helpers() {
        assert_eq!(
            csv_fields(r#"4,01.11,4,3,A,,"Growing of cereals, ""quoted"" (x)""#),
            vec![
                "4",
                "01.11",
                "4",
                "3",
                "A",
                "",
                r#"Growing of cereals, "quoted" (x)"#
            ]
        );
        assert_eq!(slug("Þórður Ægir", ".", "-"), "thordur.aegir");
        assert_eq!(slug("Anna-Karin", ".", "-"), "anna-karin");
        assert_eq!(slug("Øberg Åström", "-", "-"), "oberg-astrom");
        assert_eq!(slug("Andersson & Lind", "", "-"), "anderssonlind");
        assert_eq!(slug("Andersson & Lind", "-", "-"), "andersson-lind");
        assert_eq!(slug("Jensen Müller", "", ""), "jensenmuller");
    }

    #[test]
    fn org_numbers_have_valid_check_digits() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..200 {
            let se: Vec<u32> = org_number(Country::Se, &mut rng)
                .chars()
                .filter_map(|c| c.to_digit(10))
                .collect();
            let luhn: u32 = se
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    let v = if i % 2 == 0 { d * 2 } else { d };
                    v / 10 + v % 10
                })
                .sum();
            assert_eq!(luhn % 10, 0);
            let no: Vec<u32> = org_number(Country::No, &mut rng)
                .chars()
                .map(|c| c.to_digit(10).unwrap())
                .collect();
            let w = [3, 2, 7, 6, 5, 4, 3, 2, 1];
            assert_eq!(no.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11, 0);
            let dk: Vec<u32> = org_number(Country::Dk, &mut rng)
                .chars()
                .map(|c| c.to_digit(10).unwrap())
                .collect();
            let w = [2, 7, 6, 5, 4, 3, 2, 1];
            assert_eq!(dk.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11, 0);
            let fi = org_number(Country::Fi, &mut rng);
            assert_eq!(fi.len(), 9);
            assert_eq!(&fi[7..8], "-");
            let is = org_number(Country::Is, &mut rng);
            assert_eq!(is.len(), 11);
        }
    }

    #[test]
    fn records_follow_the_contract() {
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
