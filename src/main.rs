//! The `kontakt` command line (README, Command line): `serve`, `index`,
//! `generate`, `snapshot` and `restore` for copies of an index, and
//! `key scope` (scoped search keys).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use kontakt::http::{self, AppState, CorsOrigins, Keys, ServerOptions};
use kontakt::ingest::build::{BuildSummary, build_index};
use kontakt::replicate::{follow, publish, publish::Durability};
use kontakt::search::SearchService;
use kontakt::write::WriteService;

#[derive(Parser)]
#[command(
    name = "kontakt",
    version,
    about = "Search Nordic decision-makers and their contact details"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve an index over HTTP. When DIR holds no index yet, it first
    /// builds one from the sample built into the binary (20,000 contacts of
    /// 1,500 companies), so it works from any directory.
    Serve {
        /// Index directory: an index, or an absent or empty directory to
        /// build the sample into.
        #[arg(
            long,
            env = "KONTAKT_INDEX",
            default_value = "./data/index",
            value_name = "DIR"
        )]
        index: PathBuf,
        /// Address to listen on (host:port; port 0 picks a free one).
        #[arg(
            long,
            env = "KONTAKT_BIND",
            default_value = "127.0.0.1:8080",
            value_name = "ADDR"
        )]
        bind: String,
        /// Largest accepted write body, in bytes.
        #[arg(long, env = "KONTAKT_MAX_BODY_BYTES", default_value_t = http::DEFAULT_MAX_BODY_BYTES)]
        max_body_bytes: usize,
        /// Comma-separated read keys; with none, reads are open.
        #[arg(
            long,
            env = "KONTAKT_READ_KEYS",
            default_value = "",
            hide_env_values = true
        )]
        read_keys: String,
        /// Comma-separated admin keys; with none, writes are disabled.
        #[arg(
            long,
            env = "KONTAKT_ADMIN_KEYS",
            default_value = "",
            hide_env_values = true
        )]
        admin_keys: String,
        /// Requests per second (and burst) allowed per API key, or per
        /// client address for requests without a known key; 0: no limit.
        /// Applies to /v1/*.
        #[arg(long, env = "KONTAKT_RATE_LIMIT", default_value_t = 0)]
        rate_limit: u32,
        /// A browser origin allowed by CORS (scheme://host[:port]), or `*`
        /// for any; repeat it or separate origins with commas. None: no
        /// CORS headers at all.
        #[arg(
            long = "cors-origin",
            env = "KONTAKT_CORS_ORIGINS",
            value_delimiter = ',',
            value_name = "ORIGIN"
        )]
        cors_origins: Vec<String>,
        /// Answer `503 timeout` to a request not done after this many
        /// seconds (a write may still be applied); 0: no timeout.
        #[arg(long, env = "KONTAKT_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
        request_timeout_secs: u64,
        /// Memory, in bytes, for the filter sets searches keep between
        /// requests, least recently used first out (sort orders and facet
        /// values are kept apart, about 50 bytes a document). Default: 32
        /// bytes per document of the index at start, at least 256 MiB.
        #[arg(long, env = "KONTAKT_CACHE_BYTES")]
        cache_bytes: Option<usize>,
        /// Log format: one line per request, as text or as JSON objects.
        #[arg(long, env = "KONTAKT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// Leave out the search page at `/` (it then answers the JSON 404).
        #[arg(long)]
        no_ui: bool,
        /// `false` leaves out the search page, as --no-ui does.
        #[arg(long = "ui", env = "KONTAKT_UI", default_value_t = true, hide = true,
              action = clap::ArgAction::Set,
              value_parser = clap::builder::BoolishValueParser::new())]
        ui: bool,
        #[command(flatten)]
        replication: Replication,
    },
    /// Write a generation published to an object store (`serve --publish`)
    /// into a new index directory that `kontakt serve --index` can serve.
    Restore {
        /// The store: s3://bucket/prefix, gs://, az:// or file:///path.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The generation; default: the newest.
        #[arg(long)]
        generation: Option<u64>,
        /// The directory to create (absent or empty).
        #[arg(long)]
        index: PathBuf,
    },
    /// API keys: derive scoped search keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Copy the last commit of an index (which may be serving and taking
    /// writes) to a new directory that `kontakt serve --index` can serve.
    Snapshot {
        /// The index to copy; a running server may be serving it and taking
        /// writes meanwhile.
        #[arg(long, default_value = "./data/index", value_name = "DIR")]
        index: PathBuf,
        /// Where the copy goes: a directory that does not exist yet, or an
        /// empty one.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Build an index from JSON Lines files (the record format is in
    /// docs/api.md), replacing any index in DIR only when the build
    /// succeeds. The first bad line stops it with its file, line, field and
    /// reason, and exit code 1.
    Index {
        /// Companies, one JSON object per line.
        #[arg(long, value_name = "FILE")]
        companies: PathBuf,
        /// Contacts, one JSON object per line; each names a company of
        /// --companies by its id.
        #[arg(long, value_name = "FILE")]
        contacts: PathBuf,
        /// Where the index goes: absent, empty, or an index no server is
        /// serving (it is replaced only once the new one is committed).
        #[arg(long, default_value = "./data/index", value_name = "DIR")]
        index: PathBuf,
    },
    /// Write an index's records, writes included, as JSON Lines:
    /// DIR/companies.jsonl and DIR/contacts.jsonl, ready for `kontakt
    /// index`. Reads an index of any schema version: how an index moves
    /// to a release with another one.
    Export {
        /// The index to read (it is only read; stop a server writing to it
        /// first, or export a `kontakt snapshot` of it).
        #[arg(long, default_value = "./data/index", value_name = "DIR")]
        index: PathBuf,
        /// Output directory (created if absent; the two files in it are
        /// replaced once complete).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Write a synthetic Nordic dataset, byte-identical for the same seed
    /// and sizes: DIR/companies.jsonl and DIR/contacts.jsonl, ready for
    /// `kontakt index`.
    Generate {
        /// How many companies (at least 1 when --contacts is not 0).
        #[arg(long, value_name = "N")]
        companies: usize,
        /// How many contacts, spread over the companies.
        #[arg(long, value_name = "N")]
        contacts: usize,
        /// The random seed: the same seed and sizes give the same bytes.
        #[arg(long, default_value_t = 42, value_name = "S")]
        seed: u64,
        /// Output directory (created if absent; the two files in it are
        /// overwritten).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Derive, offline, a search key restricted to FILTER until EXPIRES
    /// from a read (or admin) key; prints it. See README, "Scoped keys".
    Scope {
        /// The parent read or admin key.
        #[arg(long, env = "KONTAKT_PARENT_KEY", hide_env_values = true)]
        parent: String,
        /// Filters ANDed into every request, as /v1/contacts parameters
        /// (`country_code=SE&verified=true`).
        #[arg(long, default_value = "")]
        filter: String,
        /// When the key stops working (RFC 3339, e.g. 2027-01-01T00:00:00Z).
        #[arg(long)]
        expires: String,
        /// The largest `limit` a request may ask for (1-100).
        #[arg(long)]
        max_limit: Option<usize>,
        /// Fields left out of every answer (comma-separated).
        #[arg(long, value_delimiter = ',')]
        hide: Vec<String>,
    },
}

fn report(summary: &BuildSummary, dir: &Path) {
    let secs = summary.elapsed.as_secs_f64();
    eprintln!(
        "indexed {} contacts and {} companies into {} in {:.1} s ({:.0} contacts/s, {} bytes, {:.0} bytes/contact)",
        summary.contacts,
        summary.companies,
        dir.display(),
        secs,
        summary.contacts as f64 / secs.max(1e-9),
        summary.bytes,
        summary.bytes as f64 / (summary.contacts.max(1)) as f64,
    );
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes on one line: file, line, field, reason.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Replication through an object store (docs/deploy.md). Store URLs:
/// s3://bucket/prefix (AWS_* variables, AWS_ENDPOINT_URL for S3-compatible
/// servers), gs://, az://, file:///path.
#[derive(clap::Args)]
struct Replication {
    /// Publish every commit to this store, as its primary.
    #[arg(
        long,
        env = "KONTAKT_PUBLISH",
        value_name = "URL",
        conflicts_with = "follow"
    )]
    publish: Option<String>,
    /// When a write is answered: once fsynced here (local), or once the
    /// store holds it (remote; needs --publish).
    #[arg(long, env = "KONTAKT_DURABILITY", value_enum, default_value_t = Durability::Local)]
    durability: Durability,
    /// Keep the newest N generations in the store.
    #[arg(long, env = "KONTAKT_RETAIN_GENERATIONS", default_value_t = 20)]
    retain_generations: u64,
    /// Keep every generation younger than this many minutes as well.
    #[arg(long, env = "KONTAKT_RETAIN_MINUTES", default_value_t = 0)]
    retain_minutes: u64,
    /// Delete a file that no kept generation names only once it is this
    /// old (younger, it may be part of an upload in flight).
    #[arg(long, env = "KONTAKT_RETAIN_GRACE_SECS", default_value_t = 900)]
    retain_grace_secs: u64,
    /// Serve, read-only, the generations another server publishes to this
    /// store, in --index (a directory of the replica's own).
    #[arg(long, env = "KONTAKT_FOLLOW", value_name = "URL")]
    follow: Option<String>,
    /// Seconds between looks for a newer generation.
    #[arg(long, env = "KONTAKT_FOLLOW_INTERVAL", default_value_t = 1.0)]
    follow_interval: f64,
    /// /ready fails while the replica is more than this many seconds
    /// behind the newest generation.
    #[arg(long, env = "KONTAKT_MAX_LAG", default_value_t = 30.0)]
    max_lag: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr; `RUST_LOG` filters them (default `info`).
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour codes only for a person at a terminal, never in log files
        // or pipes (and never with NO_COLOR set).
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        // Fields at the top level, so log pipelines need no unnesting.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
    }
}

/// mimalloc (where it is a dependency: Linux with glibc): searches allocate and free bitsets of a segment's size
/// (125 KB at a million documents) many times a second; glibc's malloc
/// spent a tenth of the server's time on them and kept freed memory in one
/// arena per thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long freed memory stays mapped before it goes back to the kernel
/// (milliseconds; -1: never). mimalloc's default, 10 ms, suits neither
/// command here: memory returned comes back as fresh pages the kernel
/// zeroes again.
/// - A build frees each indexing thread's buffers (half a gigabyte) at
///   every segment it writes and allocates them again: a seventh of the
///   build's system time, 2–5 % of its wall time at a million contacts. A
///   build is a short process with a bounded heap, so it keeps them all
///   (peak RSS +10 %).
/// - A server's searches allocate and free sets of up to a segment's size
///   many times a second: a tenth of a typeahead's CPU went to page faults
///   and zeroing at 10M contacts. A second's delay keeps the pages of the
///   searches in flight without holding a burst's peak for long.
fn purge_freed_memory_after(delay_ms: i64) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // `mi_option_purge_delay` in mimalloc 3 (libmimalloc-sys 0.1.49
        // names no constant for it).
        const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
        // SAFETY: sets an option mimalloc reads on its next purge; any
        // thread may call it at any time.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, delay_ms as _) };
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = delay_ms;
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(match &cli.command {
        Command::Serve { log_format, .. } => *log_format,
        _ => LogFormat::Text,
    });
    match cli.command {
        Command::Serve {
            index,
            bind,
            max_body_bytes,
            read_keys,
            admin_keys,
            rate_limit,
            cors_origins,
            request_timeout_secs,
            cache_bytes,
            log_format: _,
            no_ui,
            ui,
            replication,
        } => {
            purge_freed_memory_after(1000);
            // Settings are checked before any work, so a typo fails fast.
            let options = ServerOptions {
                no_ui: no_ui || !ui,
                rate_limit: (rate_limit > 0).then_some(rate_limit),
                cors: CorsOrigins::parse(&cors_origins).map_err(anyhow::Error::msg)?,
                request_timeout: (request_timeout_secs > 0)
                    .then(|| std::time::Duration::from_secs(request_timeout_secs)),
            };
            let seconds = |s: f64, name: &str| {
                std::time::Duration::try_from_secs_f64(s)
                    .map_err(|_| anyhow::anyhow!("--{name} must be a number of seconds, not {s}"))
            };
            anyhow::ensure!(
                replication.durability == Durability::Local || replication.publish.is_some(),
                "--durability remote needs --publish URL"
            );
            let max_lag = seconds(replication.max_lag, "max-lag")?;
            let follow_interval = seconds(replication.follow_interval, "follow-interval")?;
            anyhow::ensure!(
                replication.follow.is_none() || replication.publish.is_none(),
                "--follow and --publish cannot be combined: a replica does not publish"
            );
            // Opening a store reads and writes nothing: a mistyped URL fails
            // here, before the sample is built or the address bound.
            for url in replication.follow.iter().chain(&replication.publish) {
                kontakt::replicate::Remote::open(url)?;
            }
            // Bound before any work, so a bad or taken address fails at once
            // (connections that arrive meanwhile wait in the backlog).
            let listener =
                std::net::TcpListener::bind(&bind).with_context(|| format!("binding {bind}"))?;
            // A replica builds nothing: it waits for its primary's data.
            let replica = match &replication.follow {
                Some(url) => {
                    let status = follow::replica_status(max_lag);
                    let options = follow::FollowOptions {
                        url: url.clone(),
                        dir: index.clone(),
                        interval: follow_interval,
                        max_lag: status.max_lag,
                    };
                    Some((follow::bootstrap(options, &status)?, status))
                }
                None => None,
            };
            if replica.is_none() && !kontakt::index::exists(&index) {
                eprintln!(
                    "no index in {}: building one from the bundled sample data",
                    index.display()
                );
                let summary = kontakt::sample::build(&index)?;
                report(&summary, &index);
            }
            let search = SearchService::open(&index)?;
            let cache_bytes = cache_bytes.unwrap_or_else(|| search.default_cache_budget());
            let search = Arc::new(search.with_cache_budget(cache_bytes));
            // The writer takes the index's lock: an index another server is
            // using is refused before the caches are warmed. A replica has
            // no writer: it follows its primary.
            let (writes, writer_thread, status) = match (replica, replication.publish) {
                (Some((boot, status)), _) => {
                    follow::start(boot, search.clone(), status.clone())?;
                    (None, None, Some(status))
                }
                (None, Some(url)) => {
                    let (hook, status) = publish::start(
                        search.clone(),
                        publish::PublishOptions {
                            url,
                            durability: replication.durability,
                            retain_generations: replication.retain_generations,
                            retain_for: std::time::Duration::from_secs(
                                replication.retain_minutes.saturating_mul(60),
                            ),
                            retain_grace: std::time::Duration::from_secs(
                                replication.retain_grace_secs,
                            ),
                        },
                    )?;
                    let (w, t) = WriteService::start_with(search.clone(), Some(hook))?;
                    (Some(w), Some(t), Some(status))
                }
                (None, None) => {
                    let (w, t) = WriteService::start(search.clone())?;
                    (Some(w), Some(t), None)
                }
            };
            // Before the first request, so no early search pays for it.
            let warming = std::time::Instant::now();
            search.engine(&search.searcher()).warm(true)?;
            tracing::info!(
                ms = warming.elapsed().as_millis() as u64,
                "search caches warmed"
            );
            // The merged term dictionaries take seconds at millions of
            // contacts: built behind the first requests, which walk each
            // segment's own meanwhile.
            search.warm_in_background();
            if let Ok(modified) =
                std::fs::metadata(index.join("meta.json")).and_then(|m| m.modified())
            {
                kontakt::metrics::set_last_commit(modified);
            }
            let state = Arc::new(AppState {
                search,
                writes,
                keys: Keys::new(&read_keys, &admin_keys),
                max_body_bytes,
                replication: status,
            });
            eprintln!("listening on http://{}", listener.local_addr()?);
            tracing::info!(
                rate_limit = options.rate_limit,
                cors = ?options.cors,
                request_timeout_secs,
                max_body_bytes,
                cache_bytes,
                read_keys = state.keys.read_count(),
                admin_keys = state.keys.admin_count(),
                "serving"
            );
            actix_web::rt::System::new()
                .block_on(async { http::server_with(state.clone(), listener, options)?.await })
                .context("HTTP server")?;
            // Every request has been answered; let the writer finish and
            // release the index.
            if let Some(w) = &state.writes {
                w.stop();
            }
            if let Some(t) = writer_thread {
                let _ = t.join();
            }
            eprintln!("stopped");
        }
        Command::Key {
            command:
                KeyCommand::Scope {
                    parent,
                    filter,
                    expires,
                    max_limit,
                    mut hide,
                },
        } => {
            let expires = chrono::DateTime::parse_from_rfc3339(&expires)
                .with_context(|| format!("--expires `{expires}` is not an RFC 3339 time"))?
                .timestamp();
            anyhow::ensure!(
                expires > chrono::Utc::now().timestamp(),
                "--expires is in the past"
            );
            anyhow::ensure!(!parent.trim().is_empty(), "--parent is empty");
            hide.retain(|h| !h.trim().is_empty());
            hide.iter_mut().for_each(|h| *h = h.trim().to_owned());
            hide.sort();
            hide.dedup();
            let restrictions = kontakt::query::scope::Restrictions {
                expires,
                filter,
                max_limit,
                hide,
            };
            let key = kontakt::query::scope::mint(
                parent.trim(),
                &restrictions,
                kontakt::model::Industries::bundled(),
            )?;
            println!("{key}");
        }
        Command::Restore {
            from,
            generation,
            index,
        } => {
            let m = follow::restore(&from, generation, &index)?;
            eprintln!(
                "restored generation {} of {from} ({} files, {} bytes, written {}) to {}",
                m.generation,
                m.files.len(),
                m.bytes(),
                m.created_at,
                index.display()
            );
        }
        Command::Snapshot { index, out } => {
            let files = kontakt::index::snapshot(&index, &out)?;
            eprintln!(
                "copied a consistent commit of {} ({files} files) to {}",
                index.display(),
                out.display()
            );
        }
        Command::Index {
            companies,
            contacts,
            index,
        } => {
            purge_freed_memory_after(-1);
            let summary = build_index(&companies, &contacts, &index)?;
            report(&summary, &index);
        }
        Command::Export { index, out } => {
            let summary = kontakt::export::export(&index, &out)?;
            eprintln!(
                "wrote {} companies and {} contacts to {}",
                summary.companies,
                summary.contacts,
                out.display()
            );
        }
        Command::Generate {
            companies,
            contacts,
            seed,
            out,
        } => {
            let summary = kontakt::generate::generate(&kontakt::generate::GenerateOptions {
                companies,
                contacts,
                seed,
                out: out.clone(),
            })?;
            eprintln!(
                "wrote {} companies and {} contacts to {}",
                summary.companies,
                summary.contacts,
                out.display()
            );
        }
    }
    Ok(())
}
