//! Documents on their way to Tantivy's indexing threads, counted.
//!
//! `IndexWriter::run` only queues documents (its channel holds thousands of
//! runs), so a large batch built faster than it is indexed would sit in
//! the queue whole: several times the body's size. Each document carries a
//! token that it gives back once indexed (Tantivy drops a document when it
//! has added it to its segment), and the writer waits before queueing more
//! than `MAX_QUEUED`.

use std::sync::{Arc, Condvar, Mutex};

use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// Documents queued for indexing, at most, before the writer waits.
pub const MAX_QUEUED: usize = 4_000;

/// How many documents are queued and not yet indexed.
#[derive(Default)]
pub struct InFlight {
    queued: Mutex<usize>,
    indexed: Condvar,
}

impl InFlight {
    /// Waits until at most `MAX_QUEUED` documents are queued.
    pub fn wait_for_room(&self) {
        let mut queued = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        while *queued > MAX_QUEUED {
            queued = self.indexed.wait(queued).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A document and its place in the count.
pub struct Queued {
    doc: TantivyDocument,
    in_flight: Arc<InFlight>,
}

impl Queued {
    pub fn new(doc: TantivyDocument, in_flight: &Arc<InFlight>) -> Queued {
        *in_flight.queued.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Queued {
            doc,
            in_flight: in_flight.clone(),
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        let mut queued = self
            .in_flight
            .queued
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *queued = queued.saturating_sub(1);
        self.in_flight.indexed.notify_all();
    }
}

impl Document for Queued {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_document_gives_its_place_back() {
        let in_flight = Arc::new(InFlight::default());
        let docs: Vec<_> = (0..=MAX_QUEUED)
            .map(|_| Queued::new(TantivyDocument::new(), &in_flight))
            .collect();
        let waiter = {
            let in_flight = in_flight.clone();
            std::thread::spawn(move || in_flight.wait_for_room())
        };
        drop(docs);
        waiter.join().unwrap();
        assert_eq!(*in_flight.queued.lock().unwrap(), 0);
    }
}
