//! The keyset cursor (docs/api.md, Pages and cursors): an opaque token holding the sort position of the
//! last contact of a page, bound to the meaning of the query that made it.
//!
//! Layout before base64url: version, query fingerprint (16 bytes), sort value,
//! contact id, checksum (8 bytes). The fingerprint is a hash of the canonical
//! filters and sort (`params::Filters` is already canonical), so equivalent
//! spellings share cursors and any other query refuses them; the checksum
//! makes any alteration of the token detectable. Neither is a secret: a
//! cursor only says where in a public ordering a page ended.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::request::{Filters, Sort, SortKey};

const VERSION: u8 = 1;

/// A sort value comparable across segments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortValue {
    /// Numeric keys (scores, dates, relevance), mapped to unsigned order.
    Num(u128),
    /// `normalize(full_name)` as bytes.
    Text(Vec<u8>),
}

/// Order-preserving map of an `f64` onto `u64`.
pub fn f64_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Order-preserving map of an `i64` onto `u64`.
pub fn i64_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

/// Where a page ended: the last contact's sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub value: SortValue,
    pub id: u64,
}

/// The fingerprint of a query's meaning.
pub fn fingerprint(filters: &Filters, sort: &Sort) -> [u8; 16] {
    // Outside relevance order, a q means only its set of tokens: `an a` and
    // `a an` (or `Än a`) select the same contacts in the same order.
    let mut filters = filters.clone();
    if sort.key != SortKey::Relevance
        && let Some(q) = &mut filters.q
    {
        q.tokens.sort();
        q.tokens.dedup();
        q.accent_tokens.clear();
    }
    let canonical = serde_json::to_vec(&(&filters, sort)).expect("filters serialize");
    let digest = Sha256::digest(&canonical);
    digest[..16].try_into().expect("16 bytes")
}

fn checksum(bytes: &[u8]) -> [u8; 8] {
    Sha256::digest(bytes)[..8].try_into().expect("8 bytes")
}

/// Encodes the cursor that continues after `pos`.
pub fn encode(fingerprint: &[u8; 16], pos: &Position) -> String {
    let mut b = vec![VERSION];
    b.extend_from_slice(fingerprint);
    match &pos.value {
        SortValue::Num(n) => {
            b.push(0);
            b.extend_from_slice(&n.to_be_bytes());
        }
        SortValue::Text(t) => {
            b.push(1);
            b.extend_from_slice(&(t.len() as u32).to_be_bytes());
            b.extend_from_slice(t);
        }
    }
    b.extend_from_slice(&pos.id.to_be_bytes());
    let sum = checksum(&b);
    b.extend_from_slice(&sum);
    URL_SAFE_NO_PAD.encode(b)
}

/// Why a cursor was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor of this service, or altered.
    Malformed,
    /// A cursor of another query.
    OtherQuery,
}

impl std::fmt::Display for CursorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CursorError::Malformed => "not a cursor of this service, or altered",
            CursorError::OtherQuery => "a cursor of another query",
        })
    }
}

impl std::error::Error for CursorError {}

/// Decodes a cursor made for the query with `fingerprint`.
pub fn decode(token: &str, fingerprint: &[u8; 16]) -> Result<Position, CursorError> {
    let b = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| CursorError::Malformed)?;
    if b.len() < 1 + 16 + 1 + 8 + 8 {
        return Err(CursorError::Malformed);
    }
    let (body, sum) = b.split_at(b.len() - 8);
    if checksum(body) != sum || body[0] != VERSION {
        return Err(CursorError::Malformed);
    }
    if body[1..17] != fingerprint[..] {
        return Err(CursorError::OtherQuery);
    }
    let rest = &body[17..];
    let (value, rest) = match rest[0] {
        0 if rest.len() == 1 + 16 + 8 => (
            SortValue::Num(u128::from_be_bytes(rest[1..17].try_into().expect("16"))),
            &rest[17..],
        ),
        1 if rest.len() >= 1 + 4 + 8 => {
            let len = u32::from_be_bytes(rest[1..5].try_into().expect("4")) as usize;
            if rest.len() != 1 + 4 + len + 8 {
                return Err(CursorError::Malformed);
            }
            (SortValue::Text(rest[5..5 + len].to_vec()), &rest[5 + len..])
        }
        _ => return Err(CursorError::Malformed),
    };
    let id = u64::from_be_bytes(rest.try_into().map_err(|_| CursorError::Malformed)?);
    Ok(Position { value, id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_key_maps_preserve_order() {
        let fs = [-1.0, -0.0, 0.0, 0.001, 0.5, 1.0];
        for w in fs.windows(2) {
            assert!(f64_key(w[0]) <= f64_key(w[1]), "{w:?}");
        }
        assert!(i64_key(-5) < i64_key(0) && i64_key(0) < i64_key(7));
    }

    fn sort() -> Sort {
        Sort {
            key: SortKey::FullName,
            descending: false,
        }
    }

    #[test]
    fn round_trips_and_refuses_other_queries_and_tampering() {
        let fp = fingerprint(&Filters::default(), &sort());
        let pos = Position {
            value: SortValue::Text(b"anna svensson".to_vec()),
            id: 42,
        };
        let token = encode(&fp, &pos);
        assert_eq!(decode(&token, &fp), Ok(pos));

        let other = fingerprint(
            &Filters {
                verified: Some(true),
                ..Filters::default()
            },
            &sort(),
        );
        assert_eq!(decode(&token, &other), Err(CursorError::OtherQuery));

        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            let altered = URL_SAFE_NO_PAD.encode(&bytes);
            assert!(decode(&altered, &fp).is_err(), "byte {i}");
            bytes[i] ^= 1;
        }
        assert_eq!(decode("not a cursor", &fp), Err(CursorError::Malformed));
        assert_eq!(decode("", &fp), Err(CursorError::Malformed));
    }

    #[test]
    fn token_order_matters_only_to_relevance() {
        use crate::query::request::TextQuery;
        let with_q = |q: &str| Filters {
            q: TextQuery::parse(q),
            ..Filters::default()
        };
        assert_eq!(
            fingerprint(&with_q("an a"), &sort()),
            fingerprint(&with_q("Än A"), &sort())
        );
        let relevance = Sort {
            key: SortKey::Relevance,
            descending: true,
        };
        assert_ne!(
            fingerprint(&with_q("an a"), &relevance),
            fingerprint(&with_q("a an"), &relevance)
        );
    }
}
