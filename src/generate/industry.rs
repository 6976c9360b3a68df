//! Which industries a company works in.
//!
//! A company gets one to three industries: a primary one drawn by how common
//! its section is among Nordic enterprises and, within the section, by a
//! per-seed popularity order; the others are mostly its neighbours in the
//! NACE hierarchy, since firms tend to work in related activities.

use rand::Rng;
use rand::seq::SliceRandom;

use super::R;
use super::country::Country;
use super::reference::{Industries, SECTIONS};
use super::rng::{pick_index, pick_weighted, skewed_index};

/// Rough shares of Nordic enterprises per NACE section A–U: trade,
/// professional services and construction dominate, not manufacturing (which
/// merely has the most classes).
const SECTION_WEIGHTS: [u32; SECTIONS] = [
    70, 3, 60, 10, 5, 120, 140, 50, 50, 70, 30, 80, 140, 50, 2, 20, 45, 30, 35, 1, 1,
];

impl Industries {
    /// Real economies are not uniform over industries: shuffle each pool once
    /// per seed, and `pick_independent` then favours the front of it.
    pub(super) fn shuffle_popularity(&mut self, rng: &mut R) {
        for pool in self
            .pools
            .iter_mut()
            .chain(self.level5.iter_mut())
            .flatten()
        {
            pool.shuffle(rng);
        }
    }

    fn pick_independent(&self, country: Country, rng: &mut R) -> u32 {
        let section = pick_index(rng, &SECTION_WEIGHTS);
        let level = if country.has_level5() {
            pick_weighted(rng, &[(5u8, 45), (4, 35), (3, 12), (2, 8)])
        } else {
            pick_weighted(rng, &[(4u8, 65), (3, 22), (2, 13)])
        };
        let mut pool = if level == 5 {
            &self.level5[country.idx()][section]
        } else {
            &self.pools[level as usize - 2][section]
        };
        if pool.is_empty() {
            // E.g. Norway has no subclasses in division 98; every section has classes.
            pool = &self.pools[2][section];
        }
        pool[skewed_index(rng, pool.len())]
    }

    /// An industry close to `id` in the hierarchy (parent, sibling or child),
    /// allowed for `country`; companies tend to work in related activities.
    fn pick_related(&self, id: u32, country: Country, rng: &mut R) -> Option<u32> {
        let i = id as usize;
        let anchor = if self.level[i] == 5 {
            let parent = self.parent[i];
            if rng.gen_bool(0.5) {
                return Some(parent);
            }
            parent
        } else {
            id
        };
        let allowed: Vec<u32> = self.children[anchor as usize]
            .iter()
            .copied()
            .filter(|&c| c != id && self.country[c as usize].is_none_or(|cc| cc == country))
            .collect();
        allowed.choose(rng).copied()
    }

    pub(super) fn pick_for_company(&self, country: Country, rng: &mut R) -> Vec<u32> {
        let count = pick_weighted(rng, &[(1usize, 60), (2, 30), (3, 10)]);
        let primary = self.pick_independent(country, rng);
        let mut ids = vec![primary];
        let mut attempts = 0;
        while ids.len() < count && attempts < 10 {
            attempts += 1;
            let candidate = if rng.gen_bool(0.5) {
                self.pick_related(primary, country, rng)
            } else {
                None
            };
            let candidate = candidate.unwrap_or_else(|| self.pick_independent(country, rng));
            if !ids.contains(&candidate) {
                ids.push(candidate);
            }
        }
        ids
    }
}
