//! The manifest of a generation and where things live in the store.
//!
//! A manifest is written once, with a conditional put, after every file it
//! names is in the store; a manifest that exists is therefore complete. Its
//! generation numbers are zero-padded so that names sort as numbers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::Remote;

/// The manifest format this kontakt writes and reads.
pub const FORMAT: u32 = 1;
/// Where manifests live under the prefix.
pub const MANIFESTS: &str = "manifests";
/// Where index files live under the prefix.
pub const FILES: &str = "files";
/// The hint naming the newest generation (rewritten after each manifest;
/// readers look past it, so a stale hint only costs a request).
pub const LATEST: &str = "latest.json";

/// One index file of a generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// The name in the index directory.
    pub name: String,
    /// The key in the store, relative to the prefix.
    pub key: String,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// Generation N: one commit of the primary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub generation: u64,
    /// The index schema version (see `index::CommitPayload`).
    pub schema_version: u32,
    /// When the primary wrote it: RFC 3339 and Unix milliseconds.
    pub created_at: String,
    pub created_unix_ms: u64,
    /// Which primary process wrote it (random per start), for the logs of
    /// two primaries on one prefix.
    pub writer: String,
    /// Tantivy's opstamp of the commit.
    pub opstamp: u64,
    /// The commit's `meta.json`.
    pub meta: serde_json::Value,
    pub files: Vec<FileEntry>,
}

impl Manifest {
    /// The manifest's key.
    pub fn key(generation: u64) -> String {
        format!("{MANIFESTS}/{generation:020}.json")
    }

    /// When it was written.
    pub fn created(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.created_unix_ms)
    }

    /// Its total size in bytes.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    pub fn parse(bytes: &[u8], what: &str) -> anyhow::Result<Manifest> {
        let m: Manifest =
            serde_json::from_slice(bytes).with_context(|| format!("{what} is not a manifest"))?;
        anyhow::ensure!(
            m.format == FORMAT,
            "{what} has manifest format {}; this kontakt reads format {FORMAT}",
            m.format
        );
        Ok(m)
    }
}

/// The store key of a file: its name and content, so a name Tantivy uses
/// again for other content (a delete file after a crash) never overwrites.
pub fn file_key(name: &str, sha256: &str) -> String {
    format!("{FILES}/{name}.{sha256}")
}

/// SHA-256 of `data`, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = sha2::Sha256::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The generation number of a manifest key, if it is one.
pub fn generation_of(key: &str) -> Option<u64> {
    key.strip_prefix(MANIFESTS)?
        .strip_prefix('/')?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// Manifest `generation`, or `None` when it does not exist.
pub fn read(remote: &Remote, generation: u64) -> anyhow::Result<Option<Manifest>> {
    let key = Manifest::key(generation);
    match remote.get(&key)? {
        None => Ok(None),
        Some(bytes) => {
            let m = Manifest::parse(&bytes, &format!("{key} in {}", remote.url))?;
            anyhow::ensure!(
                m.generation == generation,
                "{key} in {} says it is generation {}",
                remote.url,
                m.generation
            );
            Ok(Some(m))
        }
    }
}

/// The newest generation in the store, at least `at_least` (a generation
/// already seen, so a stale hint never sends a reader back), or `None` when
/// the store holds no manifest.
pub fn newest(remote: &Remote, at_least: u64) -> anyhow::Result<Option<Manifest>> {
    #[derive(Deserialize)]
    struct Latest {
        generation: u64,
    }
    let hint = remote
        .get(LATEST)?
        .and_then(|b| serde_json::from_slice::<Latest>(&b).ok())
        .map(|l| l.generation);
    let start = match hint {
        Some(g) => g.max(at_least),
        None if at_least > 0 => at_least,
        // No hint yet: look for any manifest.
        None => match list_generations(remote)?.last() {
            Some(g) => *g,
            None => return Ok(None),
        },
    };
    let mut found = None;
    let mut g = start;
    // Past the hint: a primary stopped between manifest and hint.
    while let Some(m) = read(remote, g)? {
        found = Some(m);
        g += 1;
    }
    if found.is_none() && start > 0 {
        // The hinted generation was dropped by retention (or never written):
        // fall back to listing.
        if let Some(last) = list_generations(remote)?.last().copied()
            && last >= at_least
        {
            return read(remote, last);
        }
    }
    Ok(found)
}

/// Every generation in the store, in order.
pub fn list_generations(remote: &Remote) -> anyhow::Result<Vec<u64>> {
    let mut gens: Vec<u64> = remote
        .list(MANIFESTS)?
        .iter()
        .filter_map(|l| generation_of(&l.key))
        .collect();
    gens.sort_unstable();
    Ok(gens)
}

/// Writes the hint after manifest `generation`.
pub fn write_latest(remote: &Remote, generation: u64) -> anyhow::Result<()> {
    remote.put(
        LATEST,
        serde_json::to_vec(&serde_json::json!({ "generation": generation }))?.into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_sort_as_numbers_and_read_back() {
        assert!(Manifest::key(9) < Manifest::key(10));
        assert_eq!(generation_of(&Manifest::key(12345)), Some(12345));
        assert_eq!(generation_of("manifests/x.json"), None);
        assert_eq!(generation_of("files/00000000000000000001.json"), None);
    }

    #[test]
    fn a_manifest_of_another_format_is_refused_by_name() {
        let err = Manifest::parse(
            br#"{"format": 2, "generation": 1, "schema_version": 1, "created_at": "",
                "created_unix_ms": 0, "writer": "", "opstamp": 0, "meta": {}, "files": []}"#,
            "manifests/1.json",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("format 2") && err.contains("manifests/1.json"),
            "{err}"
        );
    }
}
