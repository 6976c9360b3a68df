//! Micro-benchmarks of the search core: `cargo bench --bench core`.
//!
//! The end-to-end benchmark (`--bench search`) times whole HTTP searches;
//! a slower core shows there only mixed with parsing, JSON and the network.
//! These time the three things every search does, on a segment the size of
//! the end-to-end run's (1,000,000 documents), so a regression in one of
//! them shows up by name and in seconds rather than minutes:
//! * the bitset AND and popcount that combine filter clauses and count
//!   totals and facets (`search::bits`);
//! * the walk along a sort order's permutation for a page of `limit + 1`
//!   matches after a cursor (`search::order`), over a broad match set and
//!   the sparsest one the engine walks rather than heaps;
//! * parsing a query string and building its plan (`query::params`,
//!   `query::plan`), which runs before any index work.
//!
//! The segment holds only the fast columns an order reads, with seeded
//! random values, and is built in memory once per run (a few seconds).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tantivy::{Index, TantivyDocument};

use kontakt::index::schema::IndexSchema;
use kontakt::model::Industries;
use kontakt::query::params::decode_query_string;
use kontakt::query::plan::filter_plan;
use kontakt::query::request::{SearchRequest, Sort, SortKey};
use kontakt::search::bits::{DocBits, DocCollector};
use kontakt::search::order::{
    Columns, SegmentOrder, first_by_place, first_of, prefer_walk, walk, window,
};

/// Documents in the segment, as in the end-to-end benchmark.
const DOCS: u32 = 1_000_000;
/// A page as the API serves it by default: `limit` 50 plus one to tell
/// whether there is a next page.
const PAGE: usize = 51;

/// A set holding each document with probability `share`.
fn random_bits(rng: &mut ChaCha8Rng, share: f64) -> DocBits {
    let mut bits = DocCollector::new(DOCS);
    for doc in 0..DOCS {
        if rng.gen_bool(share) {
            bits.push(doc);
        }
    }
    bits.finish()
}

fn bitsets(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // A broad clause (a country) and a narrow one (a department).
    let broad = random_bits(&mut rng, 0.35);
    let narrow = random_bits(&mut rng, 0.02);
    let mut group = c.benchmark_group("bits 1M");
    group.bench_function("and", |b| {
        b.iter_batched_ref(
            || broad.clone(),
            |acc| acc.and(black_box(&narrow)),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function("count", |b| b.iter(|| black_box(&broad).count()));
    group.bench_function("and_count", |b| {
        b.iter(|| black_box(&broad).and_count(black_box(&narrow)))
    });
    group.finish();
}

/// One in-memory segment of `DOCS` contacts with random sort keys.
fn segment() -> tantivy::Result<Index> {
    let schema =
        IndexSchema::declared().map_err(|e| tantivy::TantivyError::SchemaError(e.to_string()))?;
    let f = &schema.fields;
    let index = Index::create_in_ram(schema.schema.clone());
    // One thread and room for everything: a single segment, as after a merge.
    let mut writer = index.writer_with_num_threads(1, 1 << 30)?;
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for id in 1..=u64::from(DOCS) {
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, id);
        doc.add_u64(f.quality_score, rng.gen_range(0..=100));
        doc.add_f64(f.confidence, f64::from(rng.gen_range(0..=1000)) / 1000.0);
        doc.add_i64(f.created_at_s, rng.gen_range(1_546_300_800..1_790_812_800));
        doc.add_u64(f.created_at_ns, 0);
        doc.add_text(
            f.name_sort,
            format!("name {:06}", rng.gen_range(0..200_000)),
        );
        writer.add_document(doc)?;
    }
    writer.commit()?;
    Ok(index)
}

fn permutation_walk(c: &mut Criterion) {
    let index = match segment() {
        Ok(index) => index,
        Err(e) => panic!("building the benchmark segment: {e}"),
    };
    let searcher = index.reader().expect("a reader").searcher();
    assert_eq!(searcher.segment_readers().len(), 1, "one segment");
    let reader = searcher.segment_reader(0);
    let columns = Columns::open(reader).expect("the sort columns");
    let sort = Sort {
        key: SortKey::QualityScore,
        descending: true,
    };
    let order = SegmentOrder::open(sort, &columns);
    let permutation = order.permutation(&DocBits::full(reader.max_doc()), true);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // A broad filter, and about the sparsest set the engine still walks
    // (`order::prefer_walk`: below ~3,600 matches of 1M it uses a heap), where
    // the walk tests the most documents per page.
    let broad = random_bits(&mut rng, 0.35);
    let narrow = random_bits(&mut rng, 0.004);
    assert!(
        prefer_walk(narrow.count(), DOCS as usize, PAGE),
        "the engine walks it"
    );
    // A cursor half-way down the order, as a deep page leaves it.
    let middle = order.entry(permutation[permutation.len() / 2]);
    let cursor = Some((middle.rank, middle.id));

    let mut group = c.benchmark_group("walk 1M");
    for (name, matched) in [("35%", &broad), ("0.4%", &narrow)] {
        group.bench_function(format!("first page, {name} match"), |b| {
            b.iter(|| {
                walk(
                    &order,
                    &permutation,
                    black_box(matched),
                    None,
                    PAGE,
                    usize::MAX,
                )
            })
        });
        group.bench_function(format!("after a cursor, {name} match"), |b| {
            b.iter(|| {
                walk(
                    &order,
                    &permutation,
                    black_box(matched),
                    cursor,
                    PAGE,
                    usize::MAX,
                )
            })
        });
    }
    // Below the walk's threshold, a heap: over keys and ids read from the
    // columns, or over places in the permutation.
    let sparse = random_bits(&mut rng, 0.0005);
    assert!(
        !prefer_walk(sparse.count(), DOCS as usize, PAGE),
        "the engine uses a heap"
    );
    let all = window(&order, &permutation, (None, None));
    let places = permutation
        .places()
        .expect("places of the best-quality order");
    group.bench_function("heap over keys, 0.05% match", |b| {
        b.iter(|| first_of(&order, black_box(&sparse).iter(), (None, None), None, PAGE))
    });
    group.bench_function("heap over places, 0.05% match", |b| {
        b.iter(|| {
            let docs = black_box(&sparse).iter();
            first_by_place(&order, &permutation, places, docs, all.clone(), None, PAGE)
        })
    });
    group.finish();
}

fn plans(c: &mut Criterion) {
    let industries = Industries::bundled();
    let schema = IndexSchema::declared().expect("the declared schema");
    let queries = [
        ("country and verified", "country_code=SE&verified=true"),
        (
            "industry subtree, quality range, two exclusions",
            "industry_id=2&min_quality_score=60&exclude_country_code=NO&exclude_stale=true",
        ),
        (
            "q, departments, seniority, facets",
            "q=anna%20lind&department=Sales,Marketing&seniority_level=manager,senior&facets=country_code,source",
        ),
    ];
    let mut group = c.benchmark_group("plan");
    for (name, query) in queries {
        group.bench_function(format!("parse: {name}"), |b| {
            b.iter(|| {
                let pairs = decode_query_string(black_box(query)).expect("a valid query");
                SearchRequest::parse(pairs, industries).expect("valid parameters")
            })
        });
        let pairs = decode_query_string(query).expect("a valid query");
        let request = SearchRequest::parse(pairs, industries).expect("valid parameters");
        group.bench_function(format!("build: {name}"), |b| {
            b.iter(|| filter_plan(&schema.fields, industries, black_box(&request.filters)))
        });
    }
    group.finish();
}

criterion_group!(benches, bitsets, permutation_walk, plans);
criterion_main!(benches);
