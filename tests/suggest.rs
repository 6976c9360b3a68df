//! Suggest for people, through the real HTTP server: typo-tolerant items
//! carry the offsets of what they matched, and come fewest edits first,
//! names before emails, then quality.

mod common;

use common::get;
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
