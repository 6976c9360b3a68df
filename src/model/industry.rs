//! The NACE industry table (`index_schema/industries.csv`), compiled into the
//! binary so the service never reads reference data from outside its repo.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

use super::enums::{CountryCode, Section};

/// The table's CSV, the one copy the code loads.
pub const INDUSTRIES_CSV: &str = include_str!("../../index_schema/industries.csv");

/// One row of the industry table.
#[derive(Debug, Clone, Serialize)]
pub struct Industry {
    pub id: u32,
    pub code: String,
    pub level: u8,
    pub parent_id: Option<u32>,
    pub section: Section,
    pub country_code: Option<CountryCode>,
    pub title: String,
}

/// Which rows of the table to list (`GET /v1/industries`): each list that
/// is not empty keeps the rows whose value it holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndustryFilter {
    pub levels: Vec<u8>,
    pub sections: Vec<Section>,
    pub parent_ids: Vec<u32>,
    pub country_codes: Vec<CountryCode>,
}

impl IndustryFilter {
    pub fn matches(&self, r: &Industry) -> bool {
        (self.levels.is_empty() || self.levels.contains(&r.level))
            && (self.sections.is_empty() || self.sections.contains(&r.section))
            && (self.parent_ids.is_empty()
                || r.parent_id.is_some_and(|p| self.parent_ids.contains(&p)))
            && (self.country_codes.is_empty()
                || r.country_code
                    .is_some_and(|c| self.country_codes.contains(&c)))
    }
}

/// The whole table, in id order, with an id index.
#[derive(Debug)]
pub struct Industries {
    rows: Vec<Industry>,
    by_id: HashMap<u32, usize>,
    /// Each id with everything below it, in id order (the industry
    /// filters ask for this on every search).
    below: HashMap<u32, Vec<u32>>,
}

impl Industries {
    /// The table compiled into the binary.
    pub fn bundled() -> &'static Industries {
        static TABLE: OnceLock<Industries> = OnceLock::new();
        TABLE.get_or_init(|| {
            Industries::parse(INDUSTRIES_CSV).expect("bundled industries.csv is valid")
        })
    }

    /// Parses and checks a table: unique ids, parents exist one level up,
    /// sections agree with parents.
    pub fn parse(csv_text: &str) -> anyhow::Result<Industries> {
        #[derive(serde::Deserialize)]
        struct Row {
            id: u32,
            code: String,
            level: u8,
            parent_id: Option<u32>,
            section: String,
            country_code: Option<String>,
            title: String,
        }
        let mut rows = Vec::new();
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        for (i, row) in reader.deserialize::<Row>().enumerate() {
            let row = row.map_err(|e| anyhow::anyhow!("industries.csv row {}: {e}", i + 2))?;
            let section = Section::parse(&row.section)
                .ok_or_else(|| anyhow::anyhow!("industries.csv: bad section {:?}", row.section))?;
            let country_code = match row.country_code.as_deref() {
                None | Some("") => None,
                Some(c) => Some(
                    CountryCode::parse_strict(c)
                        .ok_or_else(|| anyhow::anyhow!("industries.csv: bad country {c:?}"))?,
                ),
            };
            rows.push(Industry {
                id: row.id,
                code: row.code,
                level: row.level,
                parent_id: row.parent_id,
                section,
                country_code,
                title: row.title,
            });
        }
        rows.sort_by_key(|r| r.id);
        let by_id: HashMap<u32, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        anyhow::ensure!(by_id.len() == rows.len(), "industries.csv: duplicate ids");
        for r in &rows {
            anyhow::ensure!((1..=5).contains(&r.level), "industry {}: bad level", r.id);
            match r.parent_id.map(|p| by_id.get(&p).map(|&i| &rows[i])) {
                None => anyhow::ensure!(r.level == 1, "industry {} has no parent", r.id),
                Some(None) => anyhow::bail!("industry {}: unknown parent", r.id),
                Some(Some(p)) => anyhow::ensure!(
                    p.level + 1 == r.level && p.section == r.section,
                    "industry {}: parent is not one level up in the same section",
                    r.id
                ),
            }
        }
        let mut table = Industries {
            rows,
            by_id,
            below: HashMap::new(),
        };
        let mut below: HashMap<u32, Vec<u32>> = HashMap::new();
        for r in &table.rows {
            for a in table.self_and_ancestors(r.id) {
                below.entry(a.id).or_default().push(r.id);
            }
        }
        // Rows are in id order, so each list is too.
        table.below = below;
        Ok(table)
    }

    pub fn rows(&self) -> &[Industry] {
        &self.rows
    }

    pub fn get(&self, id: u32) -> Option<&Industry> {
        self.by_id.get(&id).map(|&i| &self.rows[i])
    }

    /// The industry and all its ancestors, nearest first.
    pub fn self_and_ancestors(&self, id: u32) -> impl Iterator<Item = &Industry> {
        std::iter::successors(self.get(id), |i| i.parent_id.and_then(|p| self.get(p)))
    }

    /// `id` and every industry below it, in id order (empty for an unknown id).
    pub fn self_and_descendants(&self, id: u32) -> &[u32] {
        self.below.get(&id).map_or(&[], Vec::as_slice)
    }

    /// True when `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: u32, ancestor: u32) -> bool {
        self.self_and_ancestors(id).any(|i| i.id == ancestor)
    }

    /// The rows `filter` keeps, in id order.
    pub fn select(&self, filter: &IndustryFilter) -> Vec<&Industry> {
        self.rows.iter().filter(|r| filter.matches(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_loads_with_its_hierarchy() {
        let t = Industries::bundled();
        assert_eq!(t.rows().len(), 3373);
        let c = t
            .rows()
            .iter()
            .find(|r| r.code == "C" && r.level == 1)
            .unwrap();
        let se = t
            .rows()
            .iter()
            .find(|r| r.code == "10111" && r.country_code.map(|c| c.as_str() == "SE") == Some(true))
            .unwrap();
        assert_eq!(se.level, 5);
        assert!(t.is_within(se.id, c.id));
        assert_eq!(t.self_and_ancestors(se.id).count(), 5);
        assert_eq!(t.self_and_ancestors(se.id).last().unwrap().id, c.id);
        let in_c: Vec<u32> = t
            .rows()
            .iter()
            .filter(|r| t.is_within(r.id, c.id))
            .map(|r| r.id)
            .collect();
        assert_eq!(t.self_and_descendants(c.id), in_c.as_slice());
        assert_eq!(t.self_and_descendants(se.id), &[se.id]);
    }
}
