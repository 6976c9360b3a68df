//! Tantivy's file footer: every index file ends with a JSON footer holding
//! the CRC32 of the bytes before it, then the footer's length and a magic
//! number (two little-endian `u32`s).
//!
//! Checked here with plain reads rather than through Tantivy's mapped
//! files: a check at start reads every byte of the index once, and through
//! a mapping those pages would all count in the server's resident memory
//! (3.6 GB at ten million contacts) until the kernel needed them back.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use anyhow::Context;

const MAGIC: u32 = 1337;

/// The footer's fields we check.
#[derive(serde::Deserialize)]
struct Footer {
    crc: u32,
}

/// Where the body ends and the CRC it must have, from the last bytes of a
/// file of `len` bytes (`tail`: its last `min(len, 8)` bytes, then `read`
/// gives the footer's JSON given its offset and length).
fn footer(
    name: &str,
    len: usize,
    tail: [u8; 8],
    read: impl FnOnce(usize, usize) -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<(usize, u32)> {
    anyhow::ensure!(len >= 8, "{name} is too short to hold a Tantivy footer");
    let word = |at: usize| u32::from_le_bytes([tail[at], tail[at + 1], tail[at + 2], tail[at + 3]]);
    let (footer_len, magic) = (word(0) as usize, word(4));
    anyhow::ensure!(magic == MAGIC, "{name} has no Tantivy footer");
    anyhow::ensure!(
        footer_len + 8 <= len,
        "{name} has a footer longer than itself"
    );
    let body = len - 8 - footer_len;
    let json = read(body, footer_len)?;
    // Read whole, as Tantivy reads it: fields left unread here (the
    // version) are not checked by serde, and a flipped byte there would
    // pass here and fail Tantivy's opening instead.
    let footer: Footer = serde_json::from_slice::<serde_json::Value>(&json)
        .and_then(serde_json::from_value)
        .with_context(|| format!("{name} has an unreadable Tantivy footer"))?;
    Ok((body, footer.crc))
}

/// Checks an index file held in memory (a replica's download).
pub fn check_bytes(name: &str, data: &[u8]) -> anyhow::Result<()> {
    let n = data.len();
    let mut tail = [0u8; 8];
    if n >= 8 {
        tail.copy_from_slice(&data[n - 8..]);
    }
    let (body, crc) = footer(name, n, tail, |at, len| Ok(data[at..at + len].to_vec()))?;
    anyhow::ensure!(
        crc32fast::hash(&data[..body]) == crc,
        "{name} fails its Tantivy checksum"
    );
    Ok(())
}

/// Whether an index file on disk matches its checksum, reading it once in
/// chunks; an error when it cannot be read or has no footer.
pub fn check_file(path: &Path) -> anyhow::Result<bool> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| format!("opening {name}"))?;
    let n = file.metadata()?.len() as usize;
    let mut tail = [0u8; 8];
    if n >= 8 {
        file.read_exact_at(&mut tail, (n - 8) as u64)?;
    }
    let (body, crc) = footer(&name, n, tail, |at, len| {
        let mut json = vec![0u8; len];
        file.read_exact_at(&mut json, at as u64)?;
        Ok(json)
    })?;
    let mut hasher = crc32fast::Hasher::new();
    let mut reader = (&file).take(body as u64);
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let got = reader.read(&mut chunk)?;
        if got == 0 {
            break;
        }
        hasher.update(&chunk[..got]);
    }
    Ok(hasher.finalize() == crc)
}
