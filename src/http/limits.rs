//! Rate limits (docs/api.md, Access) and request timeouts.
//!
//! The rate limit is a token bucket per API key (per client address when no
//! known key is presented): N requests per second, bursts of up to N. A
//! bucket left alone for a second is full again, so it is no different from
//! a new one and can be dropped; that keeps memory bounded by the number of
//! clients active within the last second, and a hard cap bounds even that.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};

use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};

use super::{ApiError, AppState};
use crate::error::ErrorCode;

pub const X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub const X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

/// Whose bucket a request draws from. Keys are held only as their SHA-256
/// digest, like everywhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    Key([u8; 32]),
    Addr(IpAddr),
}

/// The verdict on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed { remaining: u32 },
    Limited { retry_after_secs: u64 },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Shards keep the lock of one bucket from serialising every request.
const SHARDS: usize = 16;
/// At most this many buckets per shard (about 4 MB in all): beyond it, a
/// client not seen in the last second is refused until old buckets expire,
/// rather than letting a flood of addresses grow memory without end.
const MAX_BUCKETS_PER_SHARD: usize = 16_384;
/// A shard is swept of idle buckets when it grows past this (or twice its
/// size after the last sweep), so sweeping costs O(1) per request on average.
const FIRST_SWEEP_AT: usize = 256;

struct Shard {
    buckets: HashMap<Client, Bucket>,
    /// Never above `MAX_BUCKETS_PER_SHARD`, so the cap is checked.
    sweep_at: usize,
    swept: Option<Instant>,
}

/// Token buckets of N requests per second, burst N.
pub struct RateLimiter {
    per_second: u32,
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl RateLimiter {
    /// `per_second` must be at least 1.
    pub fn new(per_second: u32) -> RateLimiter {
        assert!(per_second >= 1, "a rate limit of 0 would refuse everything");
        RateLimiter {
            per_second,
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        buckets: HashMap::new(),
                        sweep_at: FIRST_SWEEP_AT,
                        swept: None,
                    })
                })
                .collect(),
            hasher: RandomState::new(),
        }
    }

    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Buckets currently held (for tests and diagnostics).
    pub fn buckets(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).buckets.len())
            .sum()
    }

    /// Takes one token from `client`'s bucket at time `now`.
    pub fn check(&self, client: Client, now: Instant) -> Decision {
        let shard = &self.shards[self.hasher.hash_one(client) as usize % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
        let rate = f64::from(self.per_second);
        let full_after = Duration::from_secs(1);

        if !shard.buckets.contains_key(&client) && shard.buckets.len() >= shard.sweep_at {
            // At the cap, sweep at most every 100 ms: a flood of new
            // addresses must not make every request walk the whole shard.
            let may_sweep = shard.buckets.len() < MAX_BUCKETS_PER_SHARD
                || shard
                    .swept
                    .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_millis(100));
            if may_sweep {
                shard
                    .buckets
                    .retain(|_, b| now.saturating_duration_since(b.last) < full_after);
                shard.swept = Some(now);
                shard.sweep_at =
                    (shard.buckets.len() * 2).clamp(FIRST_SWEEP_AT, MAX_BUCKETS_PER_SHARD);
            }
            if shard.buckets.len() >= MAX_BUCKETS_PER_SHARD {
                return Decision::Limited {
                    retry_after_secs: 1,
                };
            }
        }
        let bucket = shard.buckets.entry(client).or_insert(Bucket {
            tokens: rate,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed {
                remaining: bucket.tokens.floor() as u32,
            }
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Decision::Limited {
                retry_after_secs: (wait.ceil() as u64).max(1),
            }
        }
    }
}

/// Server-wide limits, shared by every worker.
#[derive(Default)]
pub struct Limits {
    /// `None`: no rate limit.
    pub rate: Option<RateLimiter>,
    /// `None`: no timeout.
    pub request_timeout: Option<Duration>,
}

/// Only the API is limited: health checks, metrics scrapes and the
/// OpenAPI document must keep working for operators whatever clients do.
fn is_limited_path(path: &str) -> bool {
    path == "/v1" || path.starts_with("/v1/")
}

fn header_number(n: impl std::fmt::Display) -> HeaderValue {
    HeaderValue::from_str(&n.to_string()).expect("digits are a valid header value")
}

/// Middleware: applies the rate limit and adds the `X-RateLimit-*` headers.
pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let limits = req.app_data::<web::Data<Limits>>().cloned();
    let limiter = match limits.as_deref().and_then(|l| l.rate.as_ref()) {
        Some(l) if is_limited_path(req.path()) => l,
        _ => return Ok(next.call(req).await?.map_into_left_body()),
    };
    let key = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.keys.known_digest(req.request()));
    let client = match key {
        Some(digest) => Client::Key(digest),
        // No peer address only happens in unit tests; they share a bucket.
        None => Client::Addr(
            req.peer_addr()
                .map(|a| a.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        ),
    };
    let limit = header_number(limiter.per_second());
    match limiter.check(client, Instant::now()) {
        Decision::Allowed { remaining } => {
            let remaining = header_number(remaining);
            match next.call(req).await {
                Ok(mut res) => {
                    let headers = res.headers_mut();
                    headers.insert(X_RATELIMIT_LIMIT, limit);
                    headers.insert(X_RATELIMIT_REMAINING, remaining);
                    Ok(res.map_into_left_body())
                }
                // A timeout: the answer is made later, from the error.
                Err(mut e) => {
                    e.add_response_mapper(move |mut res| {
                        let headers = res.headers_mut();
                        headers.insert(X_RATELIMIT_LIMIT, limit.clone());
                        headers.insert(X_RATELIMIT_REMAINING, remaining.clone());
                        res
                    });
                    Err(e)
                }
            }
        }
        Decision::Limited { retry_after_secs } => {
            let mut res = ApiError::new(ErrorCode::RateLimited, format!(
                    "rate limit of {} requests per second exceeded; retry after {retry_after_secs} s",
                    limiter.per_second()
                ),
            )
            .error_response();
            let headers = res.headers_mut();
            headers.insert(RETRY_AFTER, header_number(retry_after_secs));
            headers.insert(X_RATELIMIT_LIMIT, limit);
            headers.insert(X_RATELIMIT_REMAINING, HeaderValue::from_static("0"));
            Ok(req.into_response(res).map_into_right_body())
        }
    }
}

/// Middleware: answers `503 timeout` when a request takes longer than the
/// configured time. The work itself is not interrupted: a search finishes
/// on the blocking pool, and a write that was already queued may still be
/// applied (writes are upserts or deletes, so a client may retry one).
///
/// The answer leaves as an error: the request was moved into the abandoned
/// work, and actix renders an error without one.
pub async fn timeout(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = req
        .app_data::<web::Data<Limits>>()
        .and_then(|l| l.request_timeout);
    let Some(limit) = limit else {
        return next.call(req).await;
    };
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(res) => res,
        Err(_) => Err(ApiError::new(
            ErrorCode::Timeout,
            format!(
                "the request did not finish within {} s; a write may still be applied",
                limit.as_secs_f64()
            ),
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u32) -> Client {
        Client::Addr(IpAddr::from(i.to_be_bytes()))
    }

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let l = RateLimiter::new(3);
        let t0 = Instant::now();
        let c = addr(1);
        assert_eq!(l.check(c, t0), Decision::Allowed { remaining: 2 });
        assert_eq!(l.check(c, t0), Decision::Allowed { remaining: 1 });
        assert_eq!(l.check(c, t0), Decision::Allowed { remaining: 0 });
        assert_eq!(
            l.check(c, t0),
            Decision::Limited {
                retry_after_secs: 1
            }
        );
        // Another client has its own bucket.
        assert_eq!(l.check(addr(2), t0), Decision::Allowed { remaining: 2 });
        // One token back after a third of a second.
        let t1 = t0 + Duration::from_millis(340);
        assert_eq!(l.check(c, t1), Decision::Allowed { remaining: 0 });
        // Full again, never more than the burst.
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(l.check(c, t2), Decision::Allowed { remaining: 2 });
    }

    #[test]
    fn retry_after_is_whole_seconds_and_at_least_one() {
        let l = RateLimiter::new(1);
        let t0 = Instant::now();
        assert!(matches!(l.check(addr(1), t0), Decision::Allowed { .. }));
        let t1 = t0 + Duration::from_millis(999);
        assert_eq!(
            l.check(addr(1), t1),
            Decision::Limited {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn idle_buckets_are_dropped_and_memory_is_capped() {
        let l = RateLimiter::new(5);
        let t0 = Instant::now();
        let n = (SHARDS * FIRST_SWEEP_AT * 4) as u32;
        for i in 0..n {
            l.check(addr(i), t0);
        }
        assert_eq!(l.buckets(), n as usize);
        // A second later those buckets are full again, so new clients sweep
        // them away: without that, 3n buckets would be held.
        let t1 = t0 + Duration::from_secs(2);
        for i in 0..2 * n {
            l.check(addr(n + i), t1);
        }
        assert!(l.buckets() <= 2 * n as usize, "{}", l.buckets());

        // Past the cap, new clients are refused until buckets expire.
        let cap = RateLimiter::new(5);
        let excess = 50_000;
        let mut refused = 0;
        for i in 0..(SHARDS * MAX_BUCKETS_PER_SHARD) as u32 + excess {
            if matches!(cap.check(addr(i), t0), Decision::Limited { .. }) {
                refused += 1;
            }
        }
        assert!(refused >= excess);
        assert!(cap.buckets() <= SHARDS * MAX_BUCKETS_PER_SHARD);
        assert!(matches!(
            cap.check(addr(u32::MAX), t0 + Duration::from_secs(2)),
            Decision::Allowed { .. }
        ));
    }
}
