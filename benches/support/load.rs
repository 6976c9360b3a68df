//! The HTTP clients: keep-alive ureq agents, one per thread, replaying
//! pre-built URLs; every answer is read to the end and checked for 200.

use std::io::Read;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::http::Uri;

use crate::queries::enc;

/// Error examples kept per run.
const MAX_EXAMPLES: usize = 5;

/// A keep-alive agent that reports statuses instead of failing on them.
pub fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .max_idle_connections_per_host(4)
        .build()
        .into()
}

pub fn uri(s: &str) -> Uri {
    s.parse()
        .unwrap_or_else(|e| panic!("benchmark built a bad URL {s}: {e}"))
}

/// GETs `uri` into `body`; `Err` for a transport error or any status but 200.
pub fn get(agent: &Agent, uri: &Uri, body: &mut Vec<u8>) -> Result<(), String> {
    body.clear();
    let mut resp = agent
        .get(uri.clone())
        .call()
        .map_err(|e| format!("transport error: {e}"))?;
    let status = resp.status();
    resp.body_mut()
        .as_reader()
        .read_to_end(body)
        .map_err(|e| format!("{status}, reading the body: {e}"))?;
    if status != 200 {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
        return Err(format!("{status}: {text}"));
    }
    Ok(())
}

/// A failed request.
#[derive(Debug, Clone)]
pub struct Failure {
    pub url: String,
    pub why: String,
}

/// Everything measured in one run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// (latency µs, index of the query, or page number for walks).
    pub samples: Vec<(u32, u32)>,
    pub elapsed: Duration,
    pub errors: usize,
    pub examples: Vec<Failure>,
    /// Where the CPU went meanwhile (set by the caller).
    pub cpu: Option<crate::procs::CpuUse>,
}

impl Outcome {
    fn absorb(&mut self, other: Outcome) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    pub fn fail(&mut self, url: &Uri, why: String) {
        self.errors += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(Failure {
                url: url.to_string(),
                why,
            });
        }
    }

    /// Latencies in µs, sorted.
    pub fn sorted(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.samples.iter().map(|s| s.0).collect();
        v.sort_unstable();
        v
    }

    pub fn qps(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u32::MAX as u128) as u32
}

/// Runs `clients` threads for `duration`, each cycling through `uris` from
/// its own starting point and sending the next request as soon as the last
/// answer is read (a closed loop: as many requests as the server can take).
pub fn run(uris: &[Uri], clients: usize, duration: Duration) -> Outcome {
    run_paced(uris, clients, duration, None)
}

/// Like `run`, but with `rate` requests per second in all (an open loop):
/// each client sends on a fixed schedule, and a request's latency counts
/// from when it was due, so time spent waiting behind a slow answer counts
/// too (no coordinated omission). `None` is the closed loop of `run`.
pub fn run_paced(uris: &[Uri], clients: usize, duration: Duration, rate: Option<f64>) -> Outcome {
    assert!(!uris.is_empty());
    // Time between two requests of one client; clients are staggered.
    let interval = rate.map(|r| Duration::from_secs_f64(clients as f64 / r.max(1e-3)));
    let barrier = Barrier::new(clients + 1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let agent = agent();
                    let mut body = Vec::with_capacity(64 * 1024);
                    let mut out = Outcome::default();
                    let mut i = t * uris.len() / clients;
                    barrier.wait();
                    let begin = Instant::now();
                    let deadline = begin + duration;
                    let mut due =
                        interval.map(|every| begin + every.mul_f64(t as f64 / clients as f64));
                    while Instant::now() < deadline {
                        let idx = i % uris.len();
                        let uri = &uris[idx];
                        let start = match (due, interval) {
                            (Some(at), Some(every)) => {
                                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                                    std::thread::sleep(wait);
                                }
                                due = Some(at + every);
                                at
                            }
                            _ => Instant::now(),
                        };
                        let result = get(&agent, uri, &mut body);
                        let took = start.elapsed();
                        match result {
                            Ok(()) => out.samples.push((micros(took), idx as u32)),
                            Err(why) => out.fail(uri, why),
                        }
                        i += 1;
                    }
                    out
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut total = Outcome::default();
        for t in threads {
            total.absorb(t.join().expect("client thread panicked"));
        }
        total.elapsed = start.elapsed();
        total
    })
}

/// `next_cursor` of a search answer, without parsing the JSON.
pub fn next_cursor(body: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"\"next_cursor\":";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let rest = body[at..].trim_ascii_start();
    let rest = rest.strip_prefix(b"\"")?;
    let end = rest.iter().position(|b| *b == b'"')?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// `total` of a search answer.
pub fn total(body: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"total\":";
    let at = body.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let rest = body[at..].trim_ascii_start();
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

/// Cursor walks: the latency of every page, by page number.
#[derive(Debug, Default)]
pub struct Walks {
    /// Samples are (latency µs, page number from 1).
    pub outcome: Outcome,
    pub walks: usize,
    /// Walks that reached the last page asked for.
    pub complete: usize,
}

impl Walks {
    /// Median latency (µs) of page `page` over the walks that reached it.
    pub fn page_median(&self, page: u32) -> Option<(u32, usize)> {
        let mut v: Vec<u32> = self
            .outcome
            .samples
            .iter()
            .filter(|s| s.1 == page)
            .map(|s| s.0)
            .collect();
        v.sort_unstable();
        (!v.is_empty()).then(|| (v[(v.len() - 1) / 2], v.len()))
    }
}

/// Follows `next_cursor` for up to `pages` pages of each query in `walks`
/// (round robin); each of `clients` threads starts walks until it has done
/// `min_walks` and `duration` has passed.
pub fn walk(
    base: &str,
    walks: &[&str],
    pages: u32,
    clients: usize,
    duration: Duration,
    min_walks: usize,
) -> Walks {
    let barrier = Barrier::new(clients + 1);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let agent = agent();
                    let mut body = Vec::with_capacity(64 * 1024);
                    let mut out = Walks::default();
                    barrier.wait();
                    let deadline = Instant::now() + duration;
                    while out.walks < min_walks || Instant::now() < deadline {
                        let query = walks[(t + out.walks) % walks.len()];
                        let first = format!("{base}/v1/contacts?{query}");
                        let mut uri = self::uri(&first);
                        out.walks += 1;
                        for page in 1..=pages {
                            let start = Instant::now();
                            let result = get(&agent, &uri, &mut body);
                            let took = start.elapsed();
                            if let Err(why) = result {
                                out.outcome.fail(&uri, why);
                                break;
                            }
                            out.outcome.samples.push((micros(took), page));
                            if page == pages {
                                out.complete += 1;
                                break;
                            }
                            match next_cursor(&body) {
                                Some(c) => uri = self::uri(&format!("{first}&cursor={}", enc(&c))),
                                None => break,
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut total = Walks::default();
        for t in threads {
            let w = t.join().expect("walk thread panicked");
            total.walks += w.walks;
            total.complete += w.complete;
            total.outcome.absorb(w.outcome);
        }
        total.outcome.elapsed = start.elapsed();
        total
    })
}

/// Polls `base/ready` until it answers 200 (the answer's body), failing
/// with the server log's tail if the server exits or takes 10 minutes.
pub fn wait_ready(
    child: &mut crate::procs::ChildGuard,
    base: &str,
    log_path: &std::path::Path,
) -> Vec<u8> {
    let start = Instant::now();
    let ready = uri(&format!("{base}/ready"));
    let agent = agent();
    let mut body = Vec::new();
    loop {
        if let Some(status) = child.try_wait() {
            panic!(
                "kontakt serve exited ({status}); last lines of {}:\n{}",
                log_path.display(),
                crate::procs::log_tail(log_path)
            );
        }
        if get(&agent, &ready, &mut body).is_ok() {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "server not ready after 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
