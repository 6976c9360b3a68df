//! The writer clients: each owns a share of the existing contact ids and a
//! range of new ones, sends `PUT /v1/contacts` JSON Lines batches of
//! records taken from the generated `contacts.jsonl` with a new name, score
//! and `updated_at`, and remembers what each acknowledged id must now read
//! back as.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use ureq::Agent;
use ureq::http::Uri;

use kontakt_bench::load::{self, Outcome};

/// `updated_at` of the first write: 2025-06-01T00:00:00Z; every write gets
/// its own second after it, so the latest content of an id is unambiguous.
const FIRST_UPDATE: i64 = 1_748_736_000;

/// The generated contacts, as JSON lines.
pub struct Pool {
    lines: Vec<String>,
    ids: Vec<u64>,
    /// Last names to give people.
    surnames: Vec<String>,
    max_id: u64,
}

impl Pool {
    pub fn load(path: &Path) -> Pool {
        let file = File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        let mut lines = Vec::new();
        let mut ids = Vec::new();
        let mut surnames = HashSet::new();
        for line in BufReader::with_capacity(1 << 20, file).lines() {
            let line = line.expect("reading contacts");
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).expect("a contact line is JSON");
            ids.push(v["id"].as_u64().expect("contact id"));
            if surnames.len() < 20_000
                && let Some(last) = v["full_name"]
                    .as_str()
                    .and_then(|n| n.split_whitespace().last())
            {
                surnames.insert(last.to_owned());
            }
            lines.push(line);
        }
        assert!(!lines.is_empty(), "no contacts in {}", path.display());
        let mut surnames: Vec<String> = surnames.into_iter().collect();
        surnames.sort();
        Pool {
            max_id: ids.iter().copied().max().unwrap_or(0),
            lines,
            ids,
            surnames,
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }
}

/// What an id must read back as after its last acknowledged write.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub full_name: String,
    pub quality_score: u64,
    pub updated_at: String,
}

/// One writer client and what its acknowledged writes left behind.
pub struct Client {
    me: u64,
    clients: u64,
    rng: ChaCha8Rng,
    /// Lines of the pool whose ids this client updates, shuffled; `cursor`
    /// walks them round and round, so a batch never holds an id twice.
    mine: Vec<u32>,
    cursor: usize,
    next_new: u64,
    writes: u64,
    pub expected: HashMap<u64, Expected>,
    /// Ids whose last write got no success answer: their content is unknown.
    pub uncertain: HashSet<u64>,
    /// Ids of the last acknowledged request.
    pub last: Vec<u64>,
}

impl Client {
    /// `clients` clients that share the ids of `pool` between them.
    pub fn many(pool: &Pool, clients: usize, seed: u64) -> Vec<Client> {
        (0..clients as u64)
            .map(|me| {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ ((me + 1) * 0x9e37_79b9));
                let mut mine: Vec<u32> = (0..pool.len() as u32)
                    .filter(|i| pool.ids[*i as usize] % clients as u64 == me)
                    .collect();
                mine.shuffle(&mut rng);
                Client {
                    me,
                    clients: clients as u64,
                    rng,
                    mine,
                    cursor: 0,
                    next_new: pool.max_id + 1 + me,
                    writes: 0,
                    expected: HashMap::new(),
                    uncertain: HashSet::new(),
                    last: Vec::new(),
                }
            })
            .collect()
    }

    /// Appends one record (line `line` of the pool, under `new_id` if
    /// given) with a new last name, score and `updated_at` to `body`.
    fn record(
        &mut self,
        pool: &Pool,
        line: usize,
        new_id: Option<u64>,
        body: &mut Vec<u8>,
    ) -> (u64, Expected) {
        let mut v: Value = serde_json::from_str(&pool.lines[line]).expect("a contact line is JSON");
        let o = v.as_object_mut().expect("a contact is an object");
        let id = match new_id {
            Some(id) => {
                o.insert("id".into(), json!(id));
                id
            }
            None => o["id"].as_u64().expect("contact id"),
        };
        let first = o["full_name"]
            .as_str()
            .and_then(|n| n.split_whitespace().next())
            .unwrap_or("Anna")
            .to_owned();
        let surname = pool.surnames.choose(&mut self.rng).expect("surnames");
        let expected = Expected {
            full_name: format!("{first} {surname}"),
            quality_score: self.rng.gen_range(0..=100),
            updated_at: timestamp(FIRST_UPDATE + (self.writes * self.clients + self.me) as i64),
        };
        self.writes += 1;
        o.insert("full_name".into(), json!(expected.full_name));
        o.insert("quality_score".into(), json!(expected.quality_score));
        o.insert("updated_at".into(), json!(expected.updated_at));
        serde_json::to_writer(&mut *body, &v).expect("serializing a record");
        body.push(b'\n');
        (id, expected)
    }

    /// A body of `size` records, a share `new_share` of them new contacts
    /// (copies of random generated ones under new ids), the others updates
    /// of this client's existing ids.
    fn batch(
        &mut self,
        pool: &Pool,
        size: usize,
        new_share: f64,
        body: &mut Vec<u8>,
    ) -> Vec<(u64, Expected)> {
        body.clear();
        let mut out = Vec::with_capacity(size);
        let mut updates = 0;
        for _ in 0..size {
            let new =
                self.mine.is_empty() || updates >= self.mine.len() || self.rng.gen_bool(new_share);
            let record = if new {
                let id = self.next_new;
                self.next_new += self.clients;
                let line = self.rng.gen_range(0..pool.len());
                self.record(pool, line, Some(id), body)
            } else {
                let line = self.mine[self.cursor % self.mine.len()] as usize;
                self.cursor += 1;
                updates += 1;
                self.record(pool, line, None, body)
            };
            out.push(record);
        }
        out
    }
}

/// A request body made before a phase, with what each of its ids must
/// read back as once it is acknowledged.
pub struct Prepared {
    body: Vec<u8>,
    records: Vec<(u64, Expected)>,
}

/// Bodies each client makes ready before a phase: generating a
/// 1,000-record body costs the client milliseconds of CPU, which on a
/// 2-core machine would be taken from the server it measures.
pub fn prepare(
    pool: &Pool,
    clients: &mut [Client],
    size: usize,
    new_share: f64,
    per_client: usize,
) -> Vec<Vec<Prepared>> {
    std::thread::scope(|scope| {
        let threads: Vec<_> = clients
            .iter_mut()
            .map(|client| {
                scope.spawn(move || {
                    (0..per_client)
                        .map(|_| client.prepared(pool, size, new_share))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("preparing bodies panicked"))
            .collect()
    })
}

impl Client {
    /// The next body of `size` records (see `batch`).
    fn prepared(&mut self, pool: &Pool, size: usize, new_share: f64) -> Prepared {
        let mut body = Vec::with_capacity(size * 400);
        let records = self.batch(pool, size, new_share, &mut body);
        Prepared { body, records }
    }
}

/// RFC 3339 in UTC, as the API returns timestamps.
fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("a valid time")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// PUTs `body`; the count the server says it upserted, or why not.
fn put(agent: &Agent, uri: &Uri, auth: &str, body: &[u8]) -> Result<u64, String> {
    let mut resp = agent
        .put(uri.clone())
        .header("Authorization", auth)
        .header("Content-Type", "application/x-ndjson")
        .send(body)
        .map_err(|e| format!("transport error: {e}"))?;
    let status = resp.status();
    let mut answer = Vec::new();
    resp.body_mut()
        .as_reader()
        .read_to_end(&mut answer)
        .map_err(|e| format!("{status}, reading the body: {e}"))?;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&answer[..answer.len().min(300)]);
        return Err(format!("{status}: {text}"));
    }
    serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|v| v["upserted"].as_u64())
        .ok_or_else(|| format!("{status} without an upserted count"))
}

/// What the writers did in one phase. Samples are (latency µs, records).
#[derive(Debug, Default)]
pub struct WriteRun {
    pub outcome: Outcome,
    /// Records acknowledged.
    pub records: u64,
    /// Requests whose body was generated during the phase, the prepared
    /// ones having run out.
    pub generated_late: usize,
}

impl WriteRun {
    pub fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.outcome.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Every client sends batches of `size` records until `duration` has
/// passed: its `prepared` bodies first, then bodies made on the spot.
#[allow(clippy::too_many_arguments)]
pub fn run(
    base: &str,
    admin_key: &str,
    pool: &Pool,
    clients: &mut [Client],
    prepared: Vec<Vec<Prepared>>,
    size: usize,
    new_share: f64,
    duration: Duration,
) -> WriteRun {
    let uri = load::uri(&format!("{base}/v1/contacts"));
    let auth = format!("Bearer {admin_key}");
    let barrier = Barrier::new(clients.len() + 1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = clients
            .iter_mut()
            .zip(prepared)
            .map(|(client, prepared)| {
                let (barrier, uri, auth) = (&barrier, &uri, &auth);
                scope.spawn(move || {
                    let agent = load::agent();
                    let mut prepared = prepared.into_iter();
                    let mut run = WriteRun::default();
                    barrier.wait();
                    let deadline = Instant::now() + duration;
                    while Instant::now() < deadline {
                        let Prepared { body, records } = prepared.next().unwrap_or_else(|| {
                            run.generated_late += 1;
                            client.prepared(pool, size, new_share)
                        });
                        let start = Instant::now();
                        let result = put(&agent, uri, auth, &body);
                        let took = start.elapsed();
                        match result {
                            Ok(n) if n == records.len() as u64 => {
                                let us = took.as_micros().min(u32::MAX as u128) as u32;
                                run.outcome.samples.push((us, n as u32));
                                run.records += n;
                                client.last.clear();
                                for (id, expected) in records {
                                    client.uncertain.remove(&id);
                                    client.last.push(id);
                                    client.expected.insert(id, expected);
                                }
                            }
                            other => {
                                let why = match other {
                                    Ok(n) => format!("upserted {n} of {}", records.len()),
                                    Err(e) => e,
                                };
                                run.outcome.fail(uri, why);
                                client.uncertain.extend(records.iter().map(|r| r.0));
                            }
                        }
                    }
                    run
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut total = WriteRun::default();
        for t in threads {
            let run = t.join().expect("writer thread panicked");
            total.records += run.records;
            total.generated_late += run.generated_late;
            total.outcome.samples.extend(run.outcome.samples);
            total.outcome.errors += run.outcome.errors;
            total.outcome.examples.extend(run.outcome.examples);
        }
        total.outcome.examples.truncate(5);
        total.outcome.elapsed = start.elapsed();
        total
    })
}

/// The read-back check of acknowledged writes.
#[derive(Debug, Default)]
pub struct Verification {
    pub acknowledged: usize,
    pub checked: usize,
    pub matching: usize,
    /// Found, but not with the content of the last acknowledged write.
    pub stale: usize,
    pub stale_examples: Vec<String>,
    /// Answers other than 200 (404 included).
    pub errors: Outcome,
}

/// GETs `sample` random acknowledged ids plus those of every client's last
/// acknowledged request and compares them with their last write.
pub fn verify(base: &str, clients: &[Client], sample: usize, seed: u64) -> Verification {
    let mut ids: Vec<(u64, &Expected)> = clients
        .iter()
        .flat_map(|c| {
            c.expected
                .iter()
                .filter(|(id, _)| !c.uncertain.contains(id))
                .map(|(id, e)| (*id, e))
        })
        .collect();
    let mut v = Verification {
        acknowledged: ids.len(),
        ..Verification::default()
    };
    ids.sort_unstable_by_key(|x| x.0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen: Vec<(u64, &Expected)> =
        ids.choose_multiple(&mut rng, sample).copied().collect();
    for c in clients {
        for id in c
            .last
            .iter()
            .filter(|id| !c.uncertain.contains(id))
            .take(100)
        {
            chosen.push((*id, &c.expected[id]));
        }
    }
    chosen.sort_unstable_by_key(|x| x.0);
    chosen.dedup_by_key(|x| x.0);
    let agent = load::agent();
    let mut body = Vec::new();
    let start = Instant::now();
    for (id, expected) in chosen {
        let uri = load::uri(&format!("{base}/v1/contacts/{id}"));
        v.checked += 1;
        if let Err(why) = load::get(&agent, &uri, &mut body) {
            v.errors.fail(&uri, why);
            continue;
        }
        let got: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let d = &got["data"];
        let actual = Expected {
            full_name: d["full_name"].as_str().unwrap_or("").to_owned(),
            quality_score: d["quality_score"].as_u64().unwrap_or(u64::MAX),
            updated_at: d["updated_at"].as_str().unwrap_or("").to_owned(),
        };
        if &actual == expected {
            v.matching += 1;
        } else {
            v.stale += 1;
            if v.stale_examples.len() < 5 {
                v.stale_examples
                    .push(format!("id {id}: expected {expected:?}, read {actual:?}"));
            }
        }
    }
    v.errors.elapsed = start.elapsed();
    v
}
