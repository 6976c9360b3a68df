//! A Tantivy writer made ready for this index: the merge policy, and a
//! guard against a delete that a merge would lose.
//!
//! Every operation (an add, a delete) gets an opstamp, and a commit takes
//! one too. A new writer, and a writer after `rollback`, number their
//! operations from the opstamp of the last commit (Tantivy 0.27,
//! `IndexWriter::new`), so the first operation shares its opstamp with that
//! commit. Tantivy assumes no operation does:
//!
//! * a merge of committed segments applies the deletes up to the last
//!   commit's opstamp, so it takes that first delete for a committed one;
//! * but it skips each segment whose deletes are already "up to date" with
//!   that opstamp (those that got deletes in that commit), without moving
//!   past the delete;
//! * and the merged segment goes on from the first segment's place in the
//!   list of deletes.
//!
//! When that first segment is not one of the skipped ones, the delete never
//! reaches the documents that came from the skipped ones. After a restart
//! this brought an older version of a contact back next to the newer one
//! (the crash test in `tests/writes.rs` failed in about one run of eight).
//! So the first opstamp goes to a delete that matches nothing, and every
//! real operation comes after the commit it follows.

use tantivy::indexer::IndexWriter;
use tantivy::schema::document::Document;

use super::Fields;
use super::merge::TieredMergePolicy;
use super::tag::Tag;

/// Sets up `writer`, new or just rolled back (`rollback` also gives it
/// Tantivy's default merge policy again): see the module documentation.
pub fn make_ready<D: Document>(writer: &IndexWriter<D>, fields: &Fields) {
    writer.set_merge_policy(Box::new(TieredMergePolicy));
    writer.delete_term(Tag::nowhere(fields));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexSchema;
    use tantivy::collector::Count;
    use tantivy::merge_policy::NoMergePolicy;
    use tantivy::query::TermQuery;
    use tantivy::schema::IndexRecordOption;
    use tantivy::{TantivyDocument, Term};

    fn doc(fields: &Fields, id: u64) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_u64(fields.id, id);
        d
    }

    /// The sequence that lost a delete: a writer's first delete hits a
    /// segment that got deletes in the last commit, and a merge of that
    /// segment behind another one starts before the writer commits.
    fn copies_after_first_delete_and_merge(ready: bool) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let schema = IndexSchema::declared().unwrap();
        let f = &schema.fields;
        let index = crate::index::create(dir.path(), &schema).unwrap();
        {
            let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
            w.set_merge_policy(Box::new(NoMergePolicy));
            for id in 100..110 {
                w.add_document(doc(f, id)).unwrap();
            }
            w.commit().unwrap();
            for id in 1..10 {
                w.add_document(doc(f, id)).unwrap();
            }
            w.commit().unwrap();
            // This segment's deletes are now as of the last commit.
            w.delete_term(Term::from_field_u64(f.id, 2));
            w.commit().unwrap();
        }
        let metas = index.load_metas().unwrap();
        let mut w: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        if ready {
            make_ready(&w, f);
        }
        w.set_merge_policy(Box::new(NoMergePolicy));
        // An upsert of id 5.
        w.delete_term(Term::from_field_u64(f.id, 5));
        w.add_document(doc(f, 5)).unwrap();
        // The segment without deletes first.
        let mut segments: Vec<_> = metas
            .segments
            .iter()
            .map(|m| (m.has_deletes(), m.id()))
            .collect();
        segments.sort();
        assert!(!segments[0].0 && segments[1].0);
        let ids: Vec<_> = segments.into_iter().map(|s| s.1).collect();
        w.merge(&ids).wait().unwrap();
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let query = TermQuery::new(Term::from_field_u64(f.id, 5), IndexRecordOption::Basic);
        searcher.search(&query, &Count).unwrap()
    }

    #[test]
    fn a_ready_writer_loses_no_delete_to_a_merge_before_its_first_commit() {
        assert_eq!(copies_after_first_delete_and_merge(true), 1);
    }

    /// The guard is still needed: Tantivy itself still loses that delete.
    /// When this fails, a new Tantivy fixed it and the guard can go.
    #[test]
    fn tantivy_alone_still_loses_the_first_delete() {
        assert_eq!(copies_after_first_delete_and_merge(false), 2);
    }
}
