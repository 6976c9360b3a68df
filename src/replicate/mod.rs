//! Replication through an object store: one primary publishes each commit,
//! any number of read-only replicas follow it.
//!
//! Tantivy's segment files never change once written, and `meta.json` names
//! the files of a commit, so a commit is shipped as its files plus a
//! manifest. Under the store prefix:
//!
//! ```text
//! files/<name>.<sha256>        one index file, named by its content
//! manifests/<generation>.json  generation N: meta.json, schema version,
//!                              every file (name, key, size, sha256), time
//! latest.json                  a hint: the newest generation written
//! ```
//!
//! * `publish` (the primary): after each commit, uploads the files the
//!   store lacks and only then creates the next manifest with a conditional
//!   put (create only if absent). A primary whose put finds the generation
//!   taken lost the race to another primary: it is fenced, answers writes
//!   `503 not_primary` and keeps serving reads. It also drops old
//!   generations (`retain`), never a file a kept manifest names.
//! * `follow` (a replica, and `kontakt restore`): downloads a generation's
//!   missing files, checks each size, SHA-256 and Tantivy footer checksum,
//!   then replaces `meta.json` and reloads the reader, so a search sees one
//!   whole generation or the next; it never goes back to an older one.
//! * `manifest`: the manifest format and the store layout.
//!
//! The object store is the only shared state: kontakt adds no consensus of
//! its own, the conditional put decides who may publish.

pub mod follow;
pub mod manifest;
pub mod publish;
pub mod status;

use std::sync::Arc;

use anyhow::Context;
use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

pub use status::{Role, Status};

/// Environment variables passed to the store's configuration: the
/// standard ones of each cloud (`AWS_ACCESS_KEY_ID`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`...).
const ENV_PREFIXES: &[&str] = &["AWS_", "GOOGLE_", "AZURE_"];

/// One object store location (`s3://bucket/prefix`, `gs://`, `az://`,
/// `file:///path`), reached from blocking code through its own runtime.
pub struct Remote {
    store: Arc<dyn ObjectStore>,
    root: StorePath,
    /// The URL as given, for messages.
    pub url: String,
    runtime: tokio::runtime::Runtime,
}

/// An object under the prefix, as a listing shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The key relative to the prefix.
    pub key: String,
    pub size: u64,
    pub modified: std::time::SystemTime,
}

impl Remote {
    /// Opens `url`; nothing is read or written yet.
    pub fn open(url: &str) -> anyhow::Result<Remote> {
        let parsed = url::Url::parse(url).with_context(|| {
            format!("{url} is not a store URL (s3://bucket/prefix, gs://, az://, file:///path)")
        })?;
        let mut options: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| ENV_PREFIXES.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        // A local S3-compatible server speaks plain HTTP; anything else
        // must use TLS unless AWS_ALLOW_HTTP says otherwise.
        let loopback_endpoint = options.iter().any(|(k, v)| {
            k.starts_with("aws_endpoint")
                && url::Url::parse(v).is_ok_and(|u| {
                    u.scheme() == "http"
                        && matches!(
                            u.host_str(),
                            Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
                        )
                })
        });
        if loopback_endpoint && !options.iter().any(|(k, _)| k == "aws_allow_http") {
            options.push(("aws_allow_http".into(), "true".into()));
        }
        let (store, root): (Box<dyn ObjectStore>, StorePath) = if parsed.scheme() == "file" {
            // Durable writes (fsync of files and directories), which a
            // remote-durability answer promises.
            let (_, root) = object_store::ObjectStoreScheme::parse(&parsed)
                .with_context(|| format!("opening the store {url}"))?;
            let local = object_store::local::LocalFileSystem::new().with_fsync(true);
            (Box::new(local), root)
        } else {
            object_store::parse_url_opts(&parsed, options)
                .with_context(|| format!("opening the store {url}"))?
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("kontakt-store")
            // Its blocking threads read and write files for `file://`
            // stores: work that publishing or following waits for, never a
            // search, so it steps back like the writers do.
            .on_thread_start(|| crate::priority::lower_this_thread(crate::priority::Tier::Writing))
            .build()?;
        Ok(Remote {
            store: Arc::from(store),
            root,
            url: url.to_owned(),
            runtime,
        })
    }

    fn path(&self, key: &str) -> StorePath {
        key.split('/')
            .fold(self.root.clone(), |p, part| p.clone().join(part))
    }

    /// The object at `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<bytes::Bytes>> {
        let path = self.path(key);
        self.runtime
            .block_on(async {
                match self.store.get(&path).await {
                    Ok(r) => Ok(Some(r.bytes().await?)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .with_context(|| format!("reading {key} from {}", self.url))
    }

    /// Writes `key`, replacing what is there.
    pub fn put(&self, key: &str, data: bytes::Bytes) -> anyhow::Result<()> {
        let path = self.path(key);
        self.runtime
            .block_on(self.store.put(&path, PutPayload::from_bytes(data)))
            .with_context(|| format!("writing {key} to {}", self.url))?;
        Ok(())
    }

    /// Creates `key` only if it does not exist: `false` when it did.
    pub fn create(&self, key: &str, data: bytes::Bytes) -> anyhow::Result<bool> {
        let path = self.path(key);
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        match self.runtime.block_on(
            self.store
                .put_opts(&path, PutPayload::from_bytes(data), opts),
        ) {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(e @ object_store::Error::NotImplemented { .. }) => Err(anyhow::Error::new(e)
                .context(format!(
                    "{} cannot create an object only if it is absent, which fencing needs",
                    self.url
                ))),
            Err(e) => Err(anyhow::Error::new(e).context(format!("creating {key} in {}", self.url))),
        }
    }

    /// Every object whose key starts with `dir/`.
    pub fn list(&self, dir: &str) -> anyhow::Result<Vec<Listed>> {
        let prefix = self.path(dir);
        let root_parts = self.root.parts().count();
        self.runtime
            .block_on(async {
                self.store
                    .list(Some(&prefix))
                    .map_ok(|meta| Listed {
                        key: meta
                            .location
                            .parts()
                            .skip(root_parts)
                            .map(|p| p.as_ref().to_owned())
                            .collect::<Vec<_>>()
                            .join("/"),
                        size: meta.size,
                        modified: meta.last_modified.into(),
                    })
                    .try_collect::<Vec<_>>()
                    .await
            })
            .with_context(|| format!("listing {dir}/ in {}", self.url))
    }

    /// Deletes `key`; one already gone is fine.
    pub fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = self.path(key);
        match self.runtime.block_on(self.store.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("deleting {key} in {}", self.url))),
        }
    }
}
