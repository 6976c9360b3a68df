//! Suggest for people, through the real HTTP server: typo-tolerant items
//! carry the offsets of what they matched, and come fewest edits first,
//! names before emails, then quality.

mod common;

use common::{enc, get, get_at, world};
use serde_json::Value;

fn spans(item: &Value, field: &str) -> Vec<[usize; 2]> {
    serde_json::from_value(item["_matches"][field].clone()).unwrap()
}

fn quality(id: &Value) -> u64 {
    let (_, c) = get(&format!("/v1/contacts/{id}"));
    c["data"]["quality_score"].as_u64().unwrap()
}

/// Per item: (is it matched through the name, its quality).
fn tiers(q: &str) -> (Vec<Value>, Vec<(bool, u64)>) {
    let (status, body) = get(&format!("/v1/contacts/suggest?q={q}&limit=20"));
    assert_eq!(status, 200, "{body}");
    let items = body["data"].as_array().unwrap().clone();
    assert!(items.iter().all(|i| i["fuzzy"] == true), "{body}");
    let t = items
        .iter()
        .map(|i| (!spans(i, "full_name").is_empty(), quality(&i["id"])))
        .collect();
    (items, t)
}

#[test]
fn svenson_marks_the_whole_surname_of_svensson() {
    let (items, _) = tiers("svenson");
    let anna = items.iter().find(|i| i["id"] == 9000001).unwrap();
    assert_eq!(spans(anna, "full_name"), [[5, 13]]);
    assert_eq!(spans(anna, "email"), [[5, 13]]);
}

#[test]
fn name_matches_come_before_email_only_matches_then_quality() {
    // Two Evensens (one edit from `evenson`), then six people at
    // evensenhotell.no, whose names do not match.
    let (items, t) = tiers("evenson");
    let names: Vec<bool> = t.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [true, true, false, false, false, false, false, false]
    );
    assert_eq!(spans(&items[2], "email"), [[7, 14]]); // l.lund@[evense]nhotell
    for tier in [&t[..2], &t[2..]] {
        assert!(tier.windows(2).all(|w| w[0].1 >= w[1].1), "{t:?}");
    }
}

#[test]
fn fewer_edits_come_first() {
    // `gustafson` (9 letters) may be two edits away. One away: the
    // Gustafssons by name, then gustafssonconsulting.fi by email; two
    // away: Gustavsen and the Gustavssons.
    let (items, t) = tiers("gustafson");
    let names: Vec<bool> = t.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            true, true, true, false, false, false, false, false, false, true, true, true
        ]
    );
    let surname = |i: &Value| {
        i["full_name"]
            .as_str()
            .unwrap()
            .split([' ', '-'])
            .next_back()
            .unwrap()
            .to_owned()
    };
    assert!(items[..3].iter().all(|i| surname(i) == "Gustafsson"));
    assert!(items[9..].iter().all(|i| surname(i).starts_with("Gustav")));
}

/// `token` with `edits` random edits (a letter changed, dropped, added, or
/// two neighbours swapped), by the generator `next`.
fn typo(token: &str, edits: usize, next: &mut impl FnMut() -> usize) -> String {
    let mut c: Vec<char> = token.chars().collect();
    for _ in 0..edits {
        let at = next() % c.len();
        let letter = (b'a' + (next() % 26) as u8) as char;
        match next() % 4 {
            0 => c[at] = letter,
            1 if c.len() > 1 => {
                c.remove(at);
            }
            2 => c.insert(at, letter),
            _ if at + 1 < c.len() => c.swap(at, at + 1),
            _ => c[at] = letter,
        }
    }
    c.into_iter().collect()
}

#[test]
fn typo_fill_up_is_the_same_from_merged_and_per_segment_dictionaries() {
    // The warm server walks the merged dictionaries, the cold one each
    // segment's; a suggest must not tell them apart.
    let w = world();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as usize
    };
    let mut fuzzy_items = 0;
    let mut compared_with_strict = 0;
    for contact in w.contacts.iter().step_by(13).take(150) {
        let email = contact.email.as_deref().unwrap_or("");
        let source = match next() % 3 {
            0 => email.split('@').next().unwrap_or(""),
            1 => email.split(['@', '.']).nth(1).unwrap_or(""),
            _ => contact.full_name.split(' ').next_back().unwrap_or(""),
        };
        let token = source.to_lowercase();
        if token.chars().count() < 5 {
            continue;
        }
        // Some tokens typed right: their strict matches are also within
        // reach of the typo tiers, which must leave them out.
        let edits = match next() % 5 {
            0 => 0,
            _ if token.chars().count() >= 9 => 1 + next() % 2,
            _ => 1,
        };
        let q = enc(&typo(&token, edits, &mut next));
        let path = format!("/v1/contacts/suggest?q={q}&limit=20");
        let (status, warm) = get_at(&w.base, &path);
        assert_eq!(status, 200, "{warm}");
        let (status, cold) = get_at(&w.cold_base, &path);
        assert_eq!(status, 200, "{cold}");
        assert_eq!(warm["data"], cold["data"], "{path}");
        // No one twice, and no typo-tolerant item that matches strictly.
        let items = warm["data"].as_array().unwrap();
        let ids: Vec<&Value> = items.iter().map(|i| &i["id"]).collect();
        let unique: std::collections::HashSet<String> = ids.iter().map(|i| i.to_string()).collect();
        assert_eq!(unique.len(), ids.len(), "{path}: {warm}");
        let (status, strict) = get_at(&w.base, &format!("/v1/contacts?q={q}&limit=100"));
        assert_eq!(status, 200, "{strict}");
        if strict["total"].as_u64().unwrap() <= 100 {
            compared_with_strict += 1;
            let strict_ids: Vec<&Value> = strict["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| &c["id"])
                .collect();
            for item in items {
                let strictly = strict_ids.contains(&&item["id"]);
                assert_eq!(item["fuzzy"] == false, strictly, "{path}: {item}");
            }
        }
        fuzzy_items += warm["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["fuzzy"] == true)
            .count();
    }
    // Typos found people, so both walks were compared on real matches.
    assert!(fuzzy_items > 200, "{fuzzy_items} typo-tolerant items");
    // Most queries were checked against their strict matches.
    assert!(compared_with_strict > 80, "{compared_with_strict} compared");
}
