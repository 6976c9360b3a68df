//! Prometheus metrics (`GET /metrics`).
//!
//! One process-wide registry: the writer thread records commits through
//! [`observe_commit`] / [`observe_reload`] without holding any handle, and
//! the request middleware records every answer.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::ErrorCode;
use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets, seconds: typeahead answers live in the first few.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Commit and reload buckets, seconds: an fsync is milliseconds, a big
/// batch can take many seconds.
const COMMIT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    contacts: IntGauge,
    commit: Histogram,
    reload: Histogram,
    last_commit: Gauge,
    fenced: IntGauge,
    failed_commits: IntCounterVec,
    unreadable: IntCounter,
    cache_bytes: IntGaugeVec,
    cache_budget: IntGauge,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new(
                "kontakt_http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            labels,
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kontakt_http_request_duration_seconds",
                "Time from the request to its answer, by method, route pattern and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        )
        .expect("valid metric");
        let contacts = IntGauge::new(
            "kontakt_index_contacts",
            "Contacts in the index (as of the last reload)",
        )
        .expect("valid metric");
        let commit = Histogram::with_opts(
            HistogramOpts::new(
                "kontakt_index_commit_duration_seconds",
                "Duration of index commits (prepare, fsync, publish)",
            )
            .buckets(COMMIT_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let reload = Histogram::with_opts(
            HistogramOpts::new(
                "kontakt_index_reload_duration_seconds",
                "Duration of reader reloads after a commit",
            )
            .buckets(COMMIT_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        let last_commit = Gauge::new(
            "kontakt_index_last_commit_timestamp_seconds",
            "Unix time of the last commit of the index (0 when unknown)",
        )
        .expect("valid metric");
        let fenced = IntGauge::new(
            "kontakt_index_writes_fenced",
            "1 when an fsync of the index failed and writes are refused until a restart",
        )
        .expect("valid metric");
        let failed_commits = IntCounterVec::new(
            Opts::new(
                "kontakt_index_failed_commits_total",
                "Commits that failed (their writes refused, nothing applied), by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let unreadable = IntCounter::new(
            "kontakt_index_unreadable_records_total",
            "Stored records that could not be read back (a damaged index)",
        )
        .expect("valid metric");
        let cache_bytes = IntGaugeVec::new(
            Opts::new(
                "kontakt_cache_bytes",
                "Bytes the search caches keep, by cache (clauses, facets, permutations, columns)",
            ),
            &["cache"],
        )
        .expect("valid metric");
        let cache_budget = IntGauge::new(
            "kontakt_cache_budget_bytes",
            "The byte budget all search caches share (--cache-bytes)",
        )
        .expect("valid metric");
        let registry = Registry::new();
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(contacts.clone()),
            Box::new(commit.clone()),
            Box::new(reload.clone()),
            Box::new(last_commit.clone()),
            Box::new(fenced.clone()),
            Box::new(failed_commits.clone()),
            Box::new(unreadable.clone()),
            Box::new(cache_bytes.clone()),
            Box::new(cache_budget.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics {
            registry,
            requests,
            latency,
            contacts,
            commit,
            reload,
            last_commit,
            fenced,
            failed_commits,
            unreadable,
            cache_bytes,
            cache_budget,
        }
    })
}

/// Records one answered request. `route` must be a route pattern (or a
/// fixed placeholder), never a raw path: raw paths would make one series
/// per contact id.
pub fn observe_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let m = metrics();
    let status = status.to_string();
    let labels = [method, route, status.as_str()];
    m.requests.with_label_values(&labels).inc();
    m.latency
        .with_label_values(&labels)
        .observe(elapsed.as_secs_f64());
}

/// Records a finished commit: call after the commit is durable.
pub fn observe_commit(seconds: f64) {
    let m = metrics();
    m.commit.observe(seconds);
    set_last_commit(SystemTime::now());
}

/// Records a reader reload (the moment a commit becomes visible to searches).
pub fn observe_reload(seconds: f64) {
    metrics().reload.observe(seconds);
}

/// Sets the time of the last commit (at startup: that of the index on disk).
pub fn set_last_commit(at: SystemTime) {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    metrics().last_commit.set(secs);
}

/// Counts a failed commit; `reason` is the error code its writes got.
pub fn count_failed_commit(reason: ErrorCode) {
    metrics()
        .failed_commits
        .with_label_values(&[reason.as_str()])
        .inc();
}

/// Counts a stored record that could not be read.
pub fn count_unreadable_record() {
    metrics().unreadable.inc();
}

/// Whether writes are fenced (set at each scrape).
pub fn set_fenced(fenced: bool) {
    metrics().fenced.set(i64::from(fenced));
}

/// Sets the number of contacts in the index.
pub fn set_contacts(n: u64) {
    metrics().contacts.set(i64::try_from(n).unwrap_or(i64::MAX));
}

/// Sets the bytes each search cache keeps (named as in `names`) and
/// their shared budget.
pub fn set_cache(names: &[&str], bytes: &[usize], budget: usize) {
    let m = metrics();
    for (name, bytes) in names.iter().zip(bytes) {
        m.cache_bytes
            .with_label_values(&[*name])
            .set(i64::try_from(*bytes).unwrap_or(i64::MAX));
    }
    m.cache_budget
        .set(i64::try_from(budget).unwrap_or(i64::MAX));
}

/// Adds a collector of another module (replication) to the registry.
pub fn register(c: Box<dyn prometheus::core::Collector>) {
    if let Err(e) = metrics().registry.register(c) {
        tracing::warn!(error = %e, "a metric could not be registered");
    }
}

/// Every metric in the Prometheus text exposition format.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&metrics().registry.gather(), &mut out)
        .expect("text encoding into memory cannot fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        observe_request("GET", "/v1/contacts/{id}", 200, Duration::from_millis(3));
        observe_commit(0.02);
        observe_reload(0.001);
        set_contacts(7);
        count_failed_commit(ErrorCode::InsufficientStorage);
        count_unreadable_record();
        set_fenced(false);
        set_cache(&["clauses"], &[1024], 4096);
        let text = render();
        for name in [
            "kontakt_http_requests_total{method=\"GET\",route=\"/v1/contacts/{id}\",status=\"200\"}",
            "kontakt_http_request_duration_seconds_bucket",
            "kontakt_index_contacts 7",
            "kontakt_index_commit_duration_seconds_count",
            "kontakt_index_reload_duration_seconds_count",
            "kontakt_index_last_commit_timestamp_seconds",
            "kontakt_index_writes_fenced 0",
            "kontakt_index_failed_commits_total{reason=\"insufficient_storage\"}",
            "kontakt_index_unreadable_records_total",
            "kontakt_cache_bytes{cache=\"clauses\"} 1024",
            "kontakt_cache_budget_bytes 4096",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
