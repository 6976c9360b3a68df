//! The closed vocabularies of the data model. Each value has a stable small
//! code (its position) that the index stores in a fast field.

/// Declares a closed vocabulary with its wire names.
macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in JSON and query strings.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// Parses a name, ignoring ASCII case.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(s))
            }

            /// The code stored in the index.
            pub fn code(self) -> u64 {
                self as u64
            }

            /// The value of a stored code.
            pub fn from_code(code: u64) -> Option<Self> {
                Self::ALL.get(usize::try_from(code).ok()?).copied()
            }

            /// The wire names, comma-separated (for error messages).
            pub fn names() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Where a contact was found.
    Source {
        Website => "website",
        Linkedin => "linkedin",
        Facebook => "facebook",
        Twitter => "twitter",
        Manual => "manual",
    }
);

vocabulary!(
    /// How senior a contact is.
    Seniority {
        Executive => "executive",
        Senior => "senior",
        Manager => "manager",
        Staff => "staff",
    }
);

vocabulary!(
    /// What is known about deliverability of the email.
    EmailStatus {
        Valid => "valid",
        CatchAll => "catch_all",
        Pending => "pending",
        Invalid => "invalid",
    }
);

/// The officially assigned ISO 3166-1 alpha-2 codes (249), sorted.
const ISO_3166_ALPHA2: &str = concat!(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE ",
    "BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD ",
    "CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM ",
    "DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF ",
    "GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ",
    "ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN ",
    "KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME ",
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA ",
    "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM ",
    "PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI ",
    "SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK ",
    "TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI ",
    "VN VU WF WS YE YT ZA ZM ZW ",
);

/// A two-letter ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Accepts two ASCII letters in any case.
    pub fn parse_any_case(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
            .then(|| CountryCode([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
    }

    /// Accepts exactly two upper-case ASCII letters (the stored form).
    pub fn parse_strict(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_uppercase)).then(|| CountryCode([b[0], b[1]]))
    }

    /// The stored form, and an officially assigned code (records must name
    /// a real country; queries only need a well-formed one).
    pub fn parse_assigned(s: &str) -> Option<Self> {
        Self::parse_strict(s).filter(|c| {
            ISO_3166_ALPHA2
                .split_ascii_whitespace()
                .any(|code| code == c.as_str())
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII letters")
    }

    pub fn code(self) -> u64 {
        u64::from(self.0[0]) << 8 | u64::from(self.0[1])
    }

    pub fn from_code(code: u64) -> Option<Self> {
        let s = [(code >> 8) as u8, code as u8];
        std::str::from_utf8(&s).ok().and_then(Self::parse_strict)
    }
}

/// A NACE section letter, A–U.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Section(u8);

impl Section {
    pub fn parse(s: &str) -> Option<Self> {
        match s.as_bytes() {
            [c] if c.to_ascii_uppercase().is_ascii_uppercase()
                && c.to_ascii_uppercase() <= b'U' =>
            {
                Some(Section(c.to_ascii_uppercase()))
            }
            _ => None,
        }
    }

    pub fn letter(self) -> char {
        char::from(self.0)
    }

    pub fn code(self) -> u64 {
        u64::from(self.0 - b'A')
    }

    pub fn from_code(code: u64) -> Option<Self> {
        u8::try_from(code)
            .ok()
            .filter(|c| *c <= b'U' - b'A')
            .map(|c| Section(b'A' + c))
    }
}

impl serde::Serialize for CountryCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl serde::Serialize for Section {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.letter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_parse_case_insensitively_and_round_trip() {
        assert_eq!(Source::parse("LinkedIn"), Some(Source::Linkedin));
        assert_eq!(EmailStatus::parse("CATCH_ALL"), Some(EmailStatus::CatchAll));
        assert_eq!(Seniority::parse("boss"), None);
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(*s));
        }
    }

    #[test]
    fn countries_and_sections() {
        assert_eq!(CountryCode::parse_any_case("se").unwrap().as_str(), "SE");
        assert!(CountryCode::parse_strict("se").is_none());
        assert_eq!(ISO_3166_ALPHA2.split_ascii_whitespace().count(), 249);
        for c in ["SE", "NO", "DK", "FI", "IS", "DE", "GB", "US"] {
            assert!(CountryCode::parse_assigned(c).is_some(), "{c}");
        }
        assert!(CountryCode::parse_assigned("XX").is_none());
        assert!(CountryCode::parse_assigned("UK").is_none());
        assert!(CountryCode::parse_any_case("SWE").is_none());
        let no = CountryCode::parse_strict("NO").unwrap();
        assert_eq!(CountryCode::from_code(no.code()), Some(no));
        assert_eq!(Section::parse("c").unwrap().letter(), 'C');
        assert!(Section::parse("V").is_none());
        assert!(Section::parse("CC").is_none());
        assert_eq!(
            Section::from_code(Section::parse("U").unwrap().code())
                .unwrap()
                .letter(),
            'U'
        );
    }
}
