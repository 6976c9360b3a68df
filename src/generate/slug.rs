//! ASCII slugs of names, for domains, email addresses and profile URLs.
//!
//! Real firms and people fold Nordic letters when they need ASCII ("Þórður"
//! becomes "thordur", "Åström" becomes "astrom"); this is that folding, not
//! the search index's (`text.rs`), which must match what users type rather
//! than what mail servers accept.

/// Lower-cases and folds one character to ASCII letters or digits; false
/// (and nothing written) for characters without such a form.
fn fold_char(c: char, out: &mut String) -> bool {
    let folded: &str = match c {
        'a'..='z' | '0'..='9' => {
            out.push(c);
            return true;
        }
        'A'..='Z' => {
            out.push(c.to_ascii_lowercase());
            return true;
        }
        'å' | 'ä' | 'à' | 'á' | 'â' | 'ã' | 'Å' | 'Ä' | 'À' | 'Á' | 'Â' | 'Ã' => "a",
        'æ' | 'Æ' => "ae",
        'ø' | 'ö' | 'ó' | 'ò' | 'ô' | 'õ' | 'Ø' | 'Ö' | 'Ó' | 'Ò' | 'Ô' | 'Õ' => "o",
        'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'ü' | 'ú' | 'ù' | 'û' | 'Ü' | 'Ú' | 'Ù' | 'Û' => "u",
        'í' | 'ì' | 'î' | 'ï' | 'Í' | 'Ì' | 'Î' | 'Ï' => "i",
        'ý' | 'ÿ' | 'Ý' => "y",
        'þ' | 'Þ' => "th",
        'ð' | 'Ð' => "d",
        'ç' | 'Ç' => "c",
        'ñ' | 'Ñ' => "n",
        'ß' => "ss",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        _ => return false,
    };
    out.push_str(folded);
    true
}

/// ASCII slug: folded letters and digits; a space becomes `space`, a hyphen
/// becomes `hyphen` (either may be empty to drop it); anything else is dropped.
pub(super) fn slug(s: &str, space: &str, hyphen: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut pending: Option<&str> = None;
    for c in s.chars() {
        match c {
            ' ' | '-' => {
                // Separators only between kept characters, never doubled.
                if !out.is_empty() {
                    pending = Some(if c == ' ' { space } else { hyphen });
                }
            }
            _ => {
                let before = out.len();
                if let Some(p) = pending {
                    out.push_str(p);
                }
                if fold_char(c, &mut out) {
                    pending = None;
                } else {
                    out.truncate(before);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_fold_nordic_letters_and_separate_only_kept_characters() {
        assert_eq!(slug("Þórður Ægir", ".", "-"), "thordur.aegir");
        assert_eq!(slug("Anna-Karin", ".", "-"), "anna-karin");
        assert_eq!(slug("Øberg Åström", "-", "-"), "oberg-astrom");
        assert_eq!(slug("Andersson & Lind", "", "-"), "anderssonlind");
        assert_eq!(slug("Andersson & Lind", "-", "-"), "andersson-lind");
        assert_eq!(slug("Jensen Müller", "", ""), "jensenmuller");
    }
}
