//! The five Nordic countries the generator writes for.
//!
//! One small enum carries everything that differs by country and is not a
//! word table: the ISO code, the top-level domain, whether the industries
//! table has national level-5 rows, and the share of companies (the
//! tables themselves are in `fixtures/reference/`, keyed by the ISO code).

use super::R;
use super::rng::pick_weighted;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Country {
    Se,
    No,
    Dk,
    Fi,
    Is,
}

impl Country {
    pub(super) const ALL: [Country; 5] = [
        Country::Se,
        Country::No,
        Country::Dk,
        Country::Fi,
        Country::Is,
    ];

    pub(super) fn idx(self) -> usize {
        self as usize
    }

    pub(super) fn bit(self) -> u8 {
        1 << self.idx()
    }

    pub(super) fn code(self) -> &'static str {
        ["SE", "NO", "DK", "FI", "IS"][self.idx()]
    }

    pub(super) fn tld(self) -> &'static str {
        ["se", "no", "dk", "fi", "is"][self.idx()]
    }

    pub(super) fn from_code(code: &str) -> Option<Country> {
        Country::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether the industries table has national level-5 rows for it.
    pub(super) fn has_level5(self) -> bool {
        matches!(self, Country::Se | Country::No | Country::Dk)
    }

    /// Skew of companies per country: SE 35%, NO 25%, DK 20%, FI 15%, IS 5%.
    pub(super) fn pick(rng: &mut R) -> Country {
        pick_weighted(
            rng,
            &[
                (Country::Se, 35),
                (Country::No, 25),
                (Country::Dk, 20),
                (Country::Fi, 15),
                (Country::Is, 5),
            ],
        )
    }
}
