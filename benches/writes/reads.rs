//! The read load that runs alongside the writes: a fixed, seeded mix of
//! typeahead prefixes (in keystroke order) and filter+sort searches (with
//! and without a `q`), built by the search benchmark's query generator.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use ureq::http::Uri;

use kontakt_bench::load;
use kontakt_bench::queries::{Class, Sample, classes};

/// Share of each class in the mix, in URLs out of 4000.
const WEIGHTS: [(&str, usize); 3] = [
    ("typeahead", 2000),
    ("filter+sort", 1000),
    ("filter+sort+q", 1000),
];

pub struct ReadMix {
    pub uris: Vec<Uri>,
    /// The class of each URL.
    pub labels: Vec<&'static str>,
}

impl ReadMix {
    pub fn new(samples: &[Sample], seed: u64, base: &str) -> ReadMix {
        let all = classes(samples, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7772_6974_6573);
        let mut picked: Vec<(&'static str, &str)> = Vec::new();
        for (name, n) in WEIGHTS {
            let class: &Class = all
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("the search benchmark has no class {name}"));
            picked.extend(
                class
                    .queries
                    .iter()
                    .cycle()
                    .take(n)
                    .map(|q| (class.name, q.path.as_str())),
            );
        }
        // Chunks of 8 keep runs of one typed sequence together.
        let mut chunks: Vec<&[(&'static str, &str)]> = picked.chunks(8).collect();
        chunks.shuffle(&mut rng);
        let (labels, uris) = chunks
            .into_iter()
            .flatten()
            .map(|(label, path)| (*label, load::uri(&format!("{base}{path}"))))
            .unzip();
        ReadMix { uris, labels }
    }

    pub fn class_names() -> impl Iterator<Item = &'static str> {
        WEIGHTS.iter().map(|w| w.0)
    }
}
