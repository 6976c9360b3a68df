//! What `/ready`, `/metrics` and the write handlers need to know about
//! replication: the role, the generation served or published, the lag, and
//! whether this primary was fenced.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use prometheus::{IntCounter, IntGauge};

/// What this server is in a replicated deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Publishes its commits (`serve --publish`).
    Primary,
    /// Follows a primary read-only (`serve --follow`).
    Replica,
}

/// Shared replication state of one server.
#[derive(Debug)]
pub struct Status {
    pub role: Role,
    /// A replica is ready only while its lag is at most this.
    pub max_lag: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The generation served (replica) or last published (primary).
    generation: u64,
    /// When that generation was written by the primary.
    generation_created: Option<SystemTime>,
    /// The newest generation seen in the store and when it was written.
    newest: u64,
    newest_created: Option<SystemTime>,
    /// When the store last answered a look for newer generations.
    last_check: Option<Instant>,
    /// Why this primary no longer takes writes.
    fenced: Option<String>,
}

/// What `/ready` says about replication.
#[derive(Debug, serde::Serialize)]
pub struct Snapshot {
    pub role: &'static str,
    pub generation: u64,
    pub generation_age_seconds: f64,
    pub lag_generations: u64,
    pub lag_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fenced: Option<String>,
}

impl Status {
    pub fn new(role: Role, max_lag: Duration) -> Status {
        Status {
            role,
            max_lag,
            inner: Mutex::default(),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A generation is now served (replica) or published (primary).
    pub fn set_generation(&self, generation: u64, created: SystemTime) {
        let mut i = self.inner();
        i.generation = generation;
        i.generation_created = Some(created);
        if generation >= i.newest {
            i.newest = generation;
            i.newest_created = Some(created);
        }
        drop(i);
        gauges().generation.set(generation as i64);
    }

    /// The store was looked at: `newest` is its newest generation.
    pub fn saw_newest(&self, newest: u64, created: SystemTime) {
        let mut i = self.inner();
        if newest >= i.newest {
            i.newest = newest;
            i.newest_created = Some(created);
        }
        i.last_check = Some(Instant::now());
    }

    /// The store answered, with nothing newer.
    pub fn checked(&self) {
        self.inner().last_check = Some(Instant::now());
    }

    pub fn generation(&self) -> u64 {
        self.inner().generation
    }

    /// This primary lost a race for a generation: it takes no more writes.
    pub fn fence(&self, why: String) {
        self.inner().fenced = Some(why);
        gauges().fenced.set(1);
    }

    pub fn fenced(&self) -> Option<String> {
        self.inner().fenced.clone()
    }

    pub fn snapshot(&self) -> Snapshot {
        let i = self.inner();
        let age = |t: Option<SystemTime>| {
            t.and_then(|t| SystemTime::now().duration_since(t).ok())
                .map_or(0.0, |d| d.as_secs_f64())
        };
        // How much older the served data is than the newest in the store.
        let lag_seconds = match (i.generation_created, i.newest_created) {
            (Some(served), Some(newest)) if i.newest > i.generation => newest
                .duration_since(served)
                .map_or(0.0, |d| d.as_secs_f64()),
            _ => 0.0,
        };
        let s = Snapshot {
            role: match self.role {
                Role::Primary => "primary",
                Role::Replica => "replica",
            },
            generation: i.generation,
            generation_age_seconds: age(i.generation_created),
            lag_generations: i.newest.saturating_sub(i.generation),
            lag_seconds,
            fenced: i.fenced.clone(),
        };
        let g = gauges();
        g.age_ms.set((s.generation_age_seconds * 1e3) as i64);
        g.lag_generations.set(s.lag_generations as i64);
        g.lag_ms.set((s.lag_seconds * 1e3) as i64);
        s
    }

    /// Why a replica should get no traffic now, if it should not: it is too
    /// far behind, or it has not reached the store for longer than the lag
    /// allowed (so it cannot know how far behind it is).
    pub fn not_ready(&self) -> Option<String> {
        if self.role != Role::Replica {
            return None;
        }
        let s = self.snapshot();
        let max = self.max_lag.as_secs_f64();
        if s.lag_seconds > max {
            return Some(format!(
                "replica lags {:.1} s ({} generations) behind the newest manifest; the limit is {max} s",
                s.lag_seconds, s.lag_generations
            ));
        }
        let unchecked = self
            .inner()
            .last_check
            .map_or(Duration::MAX, |t| t.elapsed());
        if unchecked > self.max_lag {
            return Some(format!(
                "replica has not reached the object store for over {max} s"
            ));
        }
        None
    }
}

/// Counts bytes downloaded by a replica (or restore).
pub fn add_fetched(bytes: u64) {
    gauges().fetched.inc_by(bytes);
}

/// Counts bytes uploaded by a primary.
pub fn add_uploaded(bytes: u64) {
    gauges().uploaded.inc_by(bytes);
}

struct Gauges {
    generation: IntGauge,
    age_ms: IntGauge,
    lag_generations: IntGauge,
    lag_ms: IntGauge,
    fetched: IntCounter,
    uploaded: IntCounter,
    fenced: IntGauge,
}

/// Registered on first use, so servers without replication show none.
fn gauges() -> &'static Gauges {
    static G: OnceLock<Gauges> = OnceLock::new();
    G.get_or_init(|| {
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let counter = |name: &str, help: &str| IntCounter::new(name, help).expect("valid metric");
        let g = Gauges {
            generation: gauge(
                "kontakt_replication_generation",
                "Generation served (replica) or last published (primary)",
            ),
            age_ms: gauge(
                "kontakt_replication_generation_age_milliseconds",
                "Time since the primary wrote the generation served",
            ),
            lag_generations: gauge(
                "kontakt_replication_lag_generations",
                "Generations in the store newer than the one served",
            ),
            lag_ms: gauge(
                "kontakt_replication_lag_milliseconds",
                "How much older the generation served is than the newest in the store",
            ),
            fetched: counter(
                "kontakt_replication_fetched_bytes_total",
                "Bytes of index files downloaded from the store",
            ),
            uploaded: counter(
                "kontakt_replication_uploaded_bytes_total",
                "Bytes of index files uploaded to the store",
            ),
            fenced: gauge(
                "kontakt_replication_fenced",
                "1 when this primary lost a generation to another primary and takes no writes",
            ),
        };
        for c in [
            Box::new(g.generation.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(g.age_ms.clone()),
            Box::new(g.lag_generations.clone()),
            Box::new(g.lag_ms.clone()),
            Box::new(g.fetched.clone()),
            Box::new(g.uploaded.clone()),
            Box::new(g.fenced.clone()),
        ] {
            crate::metrics::register(c);
        }
        g
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_is_ready_only_within_its_lag_and_while_it_reaches_the_store() {
        let s = Status::new(Role::Replica, Duration::from_secs(5));
        let t0 = SystemTime::now() - Duration::from_secs(60);
        s.set_generation(3, t0);
        let why = s.not_ready().expect("never reached the store");
        assert!(why.contains("object store"), "{why}");
        s.saw_newest(3, t0);
        assert_eq!(s.not_ready(), None);
        // Generation 5 was written 10 s after the one served.
        s.saw_newest(5, t0 + Duration::from_secs(10));
        let snap = s.snapshot();
        assert_eq!((snap.lag_generations, snap.lag_seconds), (2, 10.0));
        let why = s.not_ready().expect("10 s behind, 5 allowed");
        assert!(why.contains("2 generations"), "{why}");
        s.set_generation(5, t0 + Duration::from_secs(10));
        assert_eq!(s.not_ready(), None);
        // A primary is never held back by lag.
        assert_eq!(Status::new(Role::Primary, Duration::ZERO).not_ready(), None);
    }
}
