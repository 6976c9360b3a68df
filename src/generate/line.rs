//! The JSON line writer for generated records.
//!
//! The record tables list the keys in a fixed order and the fixtures
//! are compared byte for byte, so records are written key by key into one
//! reused buffer instead of through a serialized struct; a missing optional
//! field is written in one of the three spellings the record format allows.

use std::io::Write;

use anyhow::Result;

use super::R;
use super::rng::{Gap, gap};

/// Builds one JSON object with keys in a fixed order; strings and numbers go
/// through serde_json so escaping and float formatting are correct.
#[derive(Default)]
pub(super) struct Line {
    buf: Vec<u8>,
}

impl Line {
    pub(super) fn begin(&mut self) {
        self.buf.clear();
        self.buf.push(b'{');
    }

    fn key(&mut self, key: &str) {
        if self.buf.len() > 1 {
            self.buf.push(b',');
        }
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
    }

    pub(super) fn str(&mut self, key: &str, value: &str) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, value)?;
        Ok(())
    }

    pub(super) fn opt(&mut self, key: &str, value: Option<&str>, rng: &mut R) -> Result<()> {
        match value {
            Some(v) => self.str(key, v),
            None => match gap(rng) {
                Gap::Absent => Ok(()),
                Gap::Null => {
                    self.key(key);
                    self.buf.extend_from_slice(b"null");
                    Ok(())
                }
                Gap::Empty => self.str(key, ""),
            },
        }
    }

    pub(super) fn int(&mut self, key: &str, value: u64) {
        self.key(key);
        // Writing into a Vec cannot fail.
        let _ = write!(self.buf, "{value}");
    }

    pub(super) fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.buf
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    pub(super) fn float(&mut self, key: &str, value: f64) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, &value)?;
        Ok(())
    }

    pub(super) fn ids(&mut self, key: &str, ids: &[u32]) -> Result<()> {
        self.key(key);
        serde_json::to_writer(&mut self.buf, ids)?;
        Ok(())
    }

    pub(super) fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.buf.extend_from_slice(b"}\n");
        out.write_all(&self.buf)
    }
}
