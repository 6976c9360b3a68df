//! What the end-to-end benchmarks (`search`, `writes`, `hostile`,
//! `replication`) share: `procs` starts and watches `kontakt` processes,
//! `load` drives them over HTTP, `queries` builds the seeded query mix.
//!
//! The path of the binary under test (`CARGO_BIN_EXE_kontakt`) exists only
//! while a benchmark of the kontakt package compiles, so each passes it in.

pub mod load;
pub mod procs;
pub mod queries;
