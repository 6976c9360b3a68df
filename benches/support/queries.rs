//! The query mix: seeded, built once from a sample of the generated contacts
//! so that every prefix and filter value is one a real user could type.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use kontakt::text;

/// The longest typed prefix, in characters.
const MAX_KEYSTROKES: usize = 12;
/// How many URLs each static class holds (threads cycle through them).
const PER_CLASS: usize = 4000;

const COUNTRIES: [&str; 5] = ["SE", "NO", "DK", "FI", "IS"];
const SECTIONS: [&str; 21] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q", "R", "S",
    "T", "U",
];
const SENIORITY: [&str; 4] = ["executive", "senior", "manager", "staff"];
const EMAIL_STATUS: [&str; 4] = ["valid", "catch_all", "pending", "invalid"];
const SOURCES: [&str; 5] = ["website", "linkedin", "facebook", "twitter", "manual"];
const SORT_KEYS: [&str; 4] = ["quality_score", "confidence", "created_at", "full_name"];
pub const FACETS: &str =
    "country_code,industry_section,seniority_level,department,source,email_status";

/// The broad sorted queries whose cursors are followed (docs/api.md, Pages and cursors).
pub const WALKS: [&str; 4] = [
    "country_code=SE&sort_by=created_at&limit=50",
    "country_code=SE&sort_by=created_at&sort_order=asc&limit=50",
    "country_code=SE,NO&sort_by=full_name&sort_order=asc&limit=50",
    "country_code=SE&sort_by=quality_score&limit=50",
];
/// The query whose page 5,000 is compared with its page 1.
pub const DEEP: &str = "sort_by=quality_score&limit=50";

/// What the mix needs of a generated contact.
#[derive(Debug, Clone)]
pub struct Sample {
    pub full_name: String,
    pub email: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
}

/// One request: a path with its query string, and the group it is reported in.
#[derive(Debug, Clone)]
pub struct Query {
    pub path: String,
    pub label: String,
}

/// A named list of requests.
#[derive(Debug, Clone)]
pub struct Class {
    pub name: &'static str,
    pub queries: Vec<Query>,
}

/// Every `contacts / want`-th contact of `contacts.jsonl`.
pub fn load_samples(path: &Path, contacts: usize, want: usize) -> Vec<Sample> {
    load_samples_at(path, contacts, want, 0)
}

/// Like `load_samples`, starting `phase` contacts later (another sample of
/// the same data: a warm-up that shares no contact with the measured mix).
pub fn load_samples_at(path: &Path, contacts: usize, want: usize, phase: usize) -> Vec<Sample> {
    let step = (contacts / want.max(1)).max(1);
    let phase = phase % step;
    let file = File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut out = Vec::with_capacity(want + 1);
    let mut n = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("reading contacts") == 0 {
            break;
        }
        n += 1;
        if n % step != phase {
            continue;
        }
        let v: Value = serde_json::from_str(&line).expect("a contact line is JSON");
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        out.push(Sample {
            full_name: s("full_name").expect("full_name"),
            email: s("email"),
            job_title: s("job_title"),
            department: s("department"),
        });
    }
    assert!(!out.is_empty(), "no contacts in {}", path.display());
    out
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved bytes).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// "J", "Jø", "Jør", … up to 12 characters.
fn keystrokes(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    (1..=chars.len().min(MAX_KEYSTROKES))
        .map(|n| chars[..n].iter().collect())
        .collect()
}

fn length_bucket(q: &str) -> &'static str {
    match q.chars().count() {
        0..=1 => "1 char",
        2..=3 => "2-3 chars",
        4..=6 => "4-6 chars",
        _ => "7+ chars",
    }
}

fn has_accent(s: &str) -> bool {
    !s.is_ascii()
}

/// Typed sequences: (kind, prefixes). Accented names are typed both as
/// written and folded; emails as they are.
fn sequences(samples: &[Sample], rng: &mut ChaCha8Rng) -> Vec<(&'static str, Vec<String>)> {
    let mut accented: Vec<&Sample> = samples
        .iter()
        .filter(|s| has_accent(&s.full_name))
        .collect();
    let mut plain: Vec<&Sample> = samples
        .iter()
        .filter(|s| !has_accent(&s.full_name))
        .collect();
    accented.shuffle(rng);
    plain.shuffle(rng);
    let mut out = Vec::new();
    for i in 0..accented.len().max(plain.len()) {
        if let Some(s) = accented.get(i) {
            out.push(("name", keystrokes(&s.full_name)));
            out.push(("folded name", keystrokes(&text::normalize(&s.full_name))));
        }
        if let Some(s) = plain.get(i) {
            // Most people type in lower case ("anna s").
            let typed = if rng.gen_bool(0.5) {
                s.full_name.clone()
            } else {
                text::normalize(&s.full_name)
            };
            out.push(("name", keystrokes(&typed)));
            if let Some(email) = &s.email {
                out.push(("email", keystrokes(email)));
            }
        }
    }
    out
}

/// Replaces one letter (at position 1..=3, so every typed prefix of 5+
/// letters carries it) of the first 5+ letter token of the name.
fn with_typo(s: &Sample, rng: &mut ChaCha8Rng) -> Option<(String, String)> {
    let tokens = text::tokens(&s.full_name);
    let (ti, token) = tokens
        .iter()
        .enumerate()
        .find(|(_, t)| t.chars().count() >= 5)?;
    let mut chars: Vec<char> = token.chars().collect();
    let pos = rng.gen_range(1..=3);
    let was = chars[pos];
    let mut c = was;
    while c == was {
        c = rng.gen_range(b'a'..=b'z') as char;
    }
    chars[pos] = c;
    let typo: String = chars.into_iter().collect();
    let prefix = tokens[..ti].join(" ");
    Some((prefix, typo))
}

fn typeahead(seqs: &[(&'static str, Vec<String>)]) -> Class {
    let mut queries = Vec::new();
    'outer: for (kind, seq) in seqs {
        for q in seq {
            queries.push(Query {
                path: format!("/v1/contacts?q={}&limit=10", enc(q)),
                label: format!("{kind}, {}", length_bucket(q)),
            });
            if queries.len() >= PER_CLASS {
                break 'outer;
            }
        }
    }
    Class {
        name: "typeahead",
        queries,
    }
}

fn suggest(
    seqs: &[(&'static str, Vec<String>)],
    samples: &[Sample],
    rng: &mut ChaCha8Rng,
) -> Class {
    let typos: Vec<(String, String)> = samples.iter().filter_map(|s| with_typo(s, rng)).collect();
    let mut typos = typos.into_iter();
    let mut queries = Vec::new();
    'outer: for (i, (kind, seq)) in seqs.iter().enumerate() {
        for q in seq {
            queries.push(Query {
                path: format!("/v1/contacts/suggest?q={}", enc(q)),
                label: format!("{kind}, {}", length_bucket(q)),
            });
        }
        // Every third sequence is followed by one typed with a typo, from
        // five letters on (where the fuzzy fill-up may run).
        if i % 3 == 2
            && let Some((before, typo)) = typos.next()
        {
            let typo_chars: Vec<char> = typo.chars().collect();
            for n in 5..=typo_chars.len().min(MAX_KEYSTROKES) {
                let token: String = typo_chars[..n].iter().collect();
                let q = if before.is_empty() || rng.gen_bool(0.5) {
                    token
                } else {
                    format!("{before} {token}")
                };
                queries.push(Query {
                    path: format!("/v1/contacts/suggest?q={}", enc(&q)),
                    label: "typo (fuzzy fill-up)".to_owned(),
                });
            }
        }
        if queries.len() >= PER_CLASS {
            break 'outer;
        }
    }
    Class {
        name: "suggest",
        queries,
    }
}

/// 1..=max distinct values, comma-joined.
fn some_of(rng: &mut ChaCha8Rng, items: &[&str], max: usize) -> String {
    let n = rng.gen_range(1..=max.min(items.len()));
    items
        .choose_multiple(rng, n)
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

/// A substring (4–6 letters) of a real job title token.
fn job_title_part(samples: &[Sample], rng: &mut ChaCha8Rng) -> String {
    loop {
        let s = samples.choose(rng).expect("samples");
        let Some(title) = &s.job_title else { continue };
        let tokens: Vec<Vec<char>> = text::tokens(title)
            .into_iter()
            .map(|t| t.chars().collect())
            .filter(|t: &Vec<char>| t.len() >= 4)
            .collect();
        let Some(token) = tokens.choose(rng) else {
            continue;
        };
        let len = rng.gen_range(4..=token.len().min(6));
        let start = rng.gen_range(0..=token.len() - len);
        return token[start..start + len].iter().collect();
    }
}

/// `n` distinct filters (docs/api.md, Parameters), as `name=value` pairs.
fn filters(samples: &[Sample], rng: &mut ChaCha8Rng, n: usize) -> Vec<String> {
    let mut kinds: Vec<u8> = (0..13).collect();
    kinds.shuffle(rng);
    kinds.truncate(n);
    kinds.sort();
    kinds
        .into_iter()
        .map(|k| match k {
            0 => format!("country_code={}", some_of(rng, &COUNTRIES, 2)),
            1 => format!("industry_section={}", some_of(rng, &SECTIONS, 3)),
            2 => format!("seniority_level={}", some_of(rng, &SENIORITY, 2)),
            3 => format!("verified={}", rng.gen_bool(0.6)),
            4 => format!("has_email={}", rng.gen_bool(0.8)),
            5 => format!("min_quality_score={}", rng.gen_range(20..=90)),
            6 => format!("email_status={}", some_of(rng, &EMAIL_STATUS, 2)),
            7 => format!("source={}", some_of(rng, &SOURCES, 2)),
            8 => format!("job_title={}", enc(&job_title_part(samples, rng))),
            9 => {
                let dept = samples
                    .iter()
                    .filter_map(|s| s.department.as_deref())
                    .nth(rng.gen_range(0..64))
                    .unwrap_or("Sales");
                format!("department={}", enc(dept))
            }
            10 => format!("has_phone={}", rng.gen_bool(0.7)),
            11 => format!("min_confidence={:.2}", rng.gen_range(0.3..0.95)),
            _ => format!(
                "exclude_country_code={}",
                COUNTRIES.choose(rng).expect("countries")
            ),
        })
        .collect()
}

/// A prefix (1–6 characters) of a real name token, sometimes two words.
fn q_prefix(samples: &[Sample], rng: &mut ChaCha8Rng) -> String {
    let s = samples.choose(rng).expect("samples");
    let tokens = text::tokens(&s.full_name);
    let token: Vec<char> = tokens
        .choose(rng)
        .expect("a name has a token")
        .chars()
        .collect();
    let n = rng.gen_range(1..=token.len().min(6));
    let prefix: String = token[..n].iter().collect();
    if tokens.len() >= 2 && rng.gen_bool(0.25) {
        let first = &tokens[0];
        let last: String = tokens[1].chars().take(rng.gen_range(1..=3)).collect();
        format!("{first} {last}")
    } else {
        prefix
    }
}

fn filter_sort(samples: &[Sample], rng: &mut ChaCha8Rng, with_q: bool) -> Class {
    let mut queries = Vec::with_capacity(PER_CLASS);
    for _ in 0..PER_CLASS {
        let n = rng.gen_range(1..=6);
        let mut params = filters(samples, rng, n);
        let sort = *SORT_KEYS.choose(rng).expect("sort keys");
        let order = if rng.gen_bool(0.5) { "desc" } else { "asc" };
        let label = if with_q {
            let q = q_prefix(samples, rng);
            let label = format!("q {}", length_bucket(&q));
            params.insert(0, format!("q={}", enc(&q)));
            label
        } else {
            format!("sort_by={sort}")
        };
        params.push(format!("sort_by={sort}&sort_order={order}&limit=50"));
        queries.push(Query {
            path: format!("/v1/contacts?{}", params.join("&")),
            label,
        });
    }
    Class {
        name: if with_q {
            "filter+sort+q"
        } else {
            "filter+sort"
        },
        queries,
    }
}

fn facets(rng: &mut ChaCha8Rng) -> Class {
    let mut queries = Vec::with_capacity(PER_CLASS);
    for _ in 0..PER_CLASS {
        let n = rng.gen_range(0..=2);
        let mut kinds: Vec<u8> = (0..6).collect();
        kinds.shuffle(rng);
        let mut params: Vec<String> = kinds[..n]
            .iter()
            .map(|k| match k {
                0 => format!("country_code={}", COUNTRIES.choose(rng).expect("countries")),
                1 => "verified=true".to_owned(),
                2 => "has_email=true".to_owned(),
                3 => format!("seniority_level={}", SENIORITY.choose(rng).expect("levels")),
                4 => format!(
                    "industry_section={}",
                    SECTIONS.choose(rng).expect("sections")
                ),
                _ => format!("source={}", SOURCES.choose(rng).expect("sources")),
            })
            .collect();
        params.push(format!("facets={FACETS}&limit=10"));
        queries.push(Query {
            path: format!("/v1/contacts?{}", params.join("&")),
            label: match n {
                0 => "no filter".to_owned(),
                1 => "1 filter".to_owned(),
                _ => "2 filters".to_owned(),
            },
        });
    }
    Class {
        name: "facets",
        queries,
    }
}

/// The static classes, in the order they are run.
pub fn classes(samples: &[Sample], seed: u64) -> Vec<Class> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let seqs = sequences(samples, &mut rng);
    vec![
        typeahead(&seqs),
        suggest(&seqs, samples, &mut rng),
        filter_sort(samples, &mut rng, false),
        filter_sort(samples, &mut rng, true),
        facets(&mut rng),
    ]
}

/// A shuffled mix of the classes (with the first pages of the walks), as a
/// search UI might send them.
pub fn mixed(classes: &[Class], seed: u64) -> Class {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6d_6978_6564);
    let weight = |name: &str| match name {
        "typeahead" => 35,
        "suggest" => 25,
        "filter+sort" => 15,
        "filter+sort+q" => 10,
        _ => 10,
    };
    let mut queries = Vec::new();
    for class in classes {
        let n = PER_CLASS * weight(class.name) / 100;
        // Keystroke sequences stay in order, in runs of one sequence.
        let start = rng.gen_range(0..class.queries.len());
        queries.extend(
            class
                .queries
                .iter()
                .cycle()
                .skip(start)
                .take(n)
                .map(|q| Query {
                    path: q.path.clone(),
                    label: class.name.to_owned(),
                }),
        );
    }
    for w in WALKS {
        for _ in 0..PER_CLASS * 5 / 100 / WALKS.len() {
            queries.push(Query {
                path: format!("/v1/contacts?{w}"),
                label: "cursor page 1".to_owned(),
            });
        }
    }
    // Shuffle in chunks of 8 so typed sequences keep some locality.
    let mut chunks: Vec<Vec<Query>> = queries.chunks(8).map(<[Query]>::to_vec).collect();
    chunks.shuffle(&mut rng);
    Class {
        name: "mixed",
        queries: chunks.into_iter().flatten().collect(),
    }
}
