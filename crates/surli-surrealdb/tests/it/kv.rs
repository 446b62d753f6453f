//! The SurrealDB store must behave exactly like the in-memory one: the same
//! answers, the same order, the same refusals.

use std::ops::Bound;
use std::sync::Arc;

use proptest::prelude::*;
use surli::kv::{KeyRange, KvError, KvLimits, KvStore, KvValue, MemoryKvStore};
use surli_surrealdb::SurrealKvStore;
use surli_surrealdb::surrealdb::Surreal;
use surli_surrealdb::surrealdb::engine::any::Any;

use crate::support::{exec, memory_db, value};

/// Keys whose byte-wise order differs from other plausible orders: case,
/// digits as text, NUL, a space, multi-byte characters, the largest BMP
/// character against one beyond it (UTF-16 would order them the other
/// way), the empty key, and one longer than the test limit.
const KEYS: &[&str] = &[
    "",
    "a",
    "a\0",
    "a\0b",
    "a b",
    "ab",
    "B",
    "é",
    "\u{ffff}",
    "\u{10000}",
    "10",
    "9",
    "z",
    "\u{7f}",
    "toolong",
];

const TABLE: &str = "surli_kv/test/kv@0.1.0";

fn limits() -> KvLimits {
    KvLimits::default()
        .with_max_entries(Some(8))
        .with_max_value_bytes(Some(16))
        .with_max_bytes(Some(70))
        .with_max_key_bytes(5)
        .with_max_read_bytes(Some(40))
}

#[derive(Debug, Clone)]
enum Op {
    Get(String),
    Set(String, Vec<u8>),
    Del(String),
    Exists(String),
    DelRange(KeyRange),
    GetBatch(Vec<String>),
    SetBatch(Vec<(String, Vec<u8>)>),
    DelBatch(Vec<String>),
    Keys(KeyRange),
    Values(KeyRange),
    Entries(KeyRange),
    Count(KeyRange),
}

/// What an operation answered, in a form two stores can be compared by.
async fn apply(store: &dyn KvStore, op: &Op) -> String {
    let value = |bytes: &[u8]| KvValue::from(bytes);
    let shown = match op {
        Op::Get(key) => format!("{:?}", store.get(key).await),
        Op::Set(key, bytes) => format!("{:?}", store.set(key.clone(), value(bytes)).await),
        Op::Del(key) => format!("{:?}", store.del(key).await),
        Op::Exists(key) => format!("{:?}", store.exists(key).await),
        Op::DelRange(range) => format!("{:?}", store.del_range(range.clone()).await),
        Op::GetBatch(keys) => format!("{:?}", store.get_batch(keys).await),
        Op::SetBatch(entries) => format!(
            "{:?}",
            store
                .set_batch(
                    entries
                        .iter()
                        .map(|(key, bytes)| (key.clone(), value(bytes)))
                        .collect()
                )
                .await
        ),
        Op::DelBatch(keys) => format!("{:?}", store.del_batch(keys).await),
        Op::Keys(range) => format!("{:?}", store.keys(range.clone()).await),
        Op::Values(range) => format!("{:?}", store.values(range.clone()).await),
        Op::Entries(range) => format!("{:?}", store.entries(range.clone()).await),
        Op::Count(range) => format!("{:?}", store.count(range.clone()).await),
    };
    assert!(
        !shown.contains("Backend"),
        "{op:?} failed in the backend: {shown}"
    );
    shown
}

async fn kv_store(db: &Surreal<Any>, limits: KvLimits) -> SurrealKvStore<Any> {
    SurrealKvStore::new(db.clone(), TABLE, limits)
}

/// Runs `ops` on a fresh in-memory store and a fresh SurrealDB store and
/// fails at the first answer that differs.
async fn same_answers(ops: &[Op]) {
    let db = memory_db().await;
    let surreal = kv_store(&db, limits()).await;
    let memory = MemoryKvStore::new(limits());
    for (step, op) in ops.iter().enumerate() {
        let expected = apply(&memory, op).await;
        let got = apply(&surreal, op).await;
        assert_eq!(got, expected, "step {step}: {op:?}");
    }
    // And the whole contents, through an unlimited read.
    let everything = KeyRange::all();
    let unlimited = SurrealKvStore::new(db.clone(), TABLE, KvLimits::default());
    let mut mirror = Vec::new();
    for key in KEYS {
        if let Some(value) = memory.get(key).await.unwrap() {
            mirror.push(((*key).to_owned(), value));
        }
    }
    mirror.sort();
    assert_eq!(unlimited.entries(everything).await.unwrap(), mirror);
}

fn key(i: usize) -> String {
    KEYS[i % KEYS.len()].to_owned()
}

fn range(a: usize, a_kind: u8, b: usize, b_kind: u8) -> KeyRange {
    let bound = |k: usize, kind: u8| match kind % 3 {
        0 => Bound::Unbounded,
        1 => Bound::Included(key(k)),
        _ => Bound::Excluded(key(k)),
    };
    KeyRange::new(bound(a, a_kind), bound(b, b_kind))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_the_memory_store_does() {
    let mut ops = Vec::new();
    // Fill with every key (the long one is refused, the ninth new key
    // breaks max_entries), then read every range of every kind.
    for (i, k) in KEYS.iter().enumerate() {
        ops.push(Op::Set((*k).to_owned(), vec![u8::try_from(i).unwrap(); 3]));
    }
    ops.push(Op::Set("a".to_owned(), vec![9; 17]));
    ops.push(Op::Set("a".to_owned(), vec![9; 16]));
    // 51 bytes held of 70: growing by 13 fits once, not twice, in a `set`
    // or a batch; shrinking is always fine.
    ops.push(Op::Set("B".to_owned(), vec![1; 16]));
    ops.push(Op::Set("ab".to_owned(), vec![1; 16]));
    ops.push(Op::SetBatch(vec![
        ("ab".to_owned(), vec![2; 16]),
        ("B".to_owned(), vec![2; 1]),
    ]));
    ops.push(Op::SetBatch(vec![("B".to_owned(), vec![3; 1])]));
    ops.push(Op::Set("ab".to_owned(), vec![1; 16]));
    for a in 0..KEYS.len() {
        for b in [0, 3, 6, 9, 12] {
            for kinds in [(0, 1), (1, 2), (2, 1), (1, 1), (2, 2), (1, 0)] {
                ops.push(Op::Keys(range(a, kinds.0, b, kinds.1)));
                ops.push(Op::Count(range(a, kinds.0, b, kinds.1)));
            }
        }
    }
    ops.push(Op::Values(KeyRange::all()));
    ops.push(Op::Entries(range(1, 1, 6, 2)));
    ops.push(Op::GetBatch(vec![
        key(1),
        key(99),
        key(1),
        "nope".to_owned(),
    ]));
    ops.push(Op::GetBatch(KEYS.iter().map(|k| (*k).to_owned()).collect()));
    ops.push(Op::DelRange(range(1, 2, 5, 1)));
    ops.push(Op::Keys(KeyRange::all()));
    ops.push(Op::SetBatch(vec![
        ("x".to_owned(), vec![1]),
        ("y".to_owned(), vec![2]),
        ("x".to_owned(), vec![3]),
    ]));
    ops.push(Op::DelBatch(vec![key(0), key(2), "missing".to_owned()]));
    ops.push(Op::SetBatch(vec![
        ("x".to_owned(), vec![4]),
        ("y".to_owned(), vec![5]),
    ]));
    ops.push(Op::Entries(KeyRange::all()));
    ops.push(Op::Exists("x".to_owned()));
    ops.push(Op::Del("x".to_owned()));
    ops.push(Op::Exists("x".to_owned()));
    ops.push(Op::Get("y".to_owned()));
    ops.push(Op::DelRange(range(5, 2, 1, 1)));
    ops.push(Op::DelRange(KeyRange::all()));
    ops.push(Op::Count(KeyRange::all()));
    same_answers(&ops).await;
}

fn op() -> impl Strategy<Value = Op> {
    let k = || (0..KEYS.len() + 2).prop_map(key);
    let bytes = || prop::collection::vec(any::<u8>(), 0..20);
    let r = || {
        (0..KEYS.len(), 0u8..3, 0..KEYS.len(), 0u8..3).prop_map(|(a, x, b, y)| range(a, x, b, y))
    };
    prop_oneof![
        k().prop_map(Op::Get),
        (k(), bytes()).prop_map(|(k, v)| Op::Set(k, v)),
        k().prop_map(Op::Del),
        k().prop_map(Op::Exists),
        r().prop_map(Op::DelRange),
        prop::collection::vec(k(), 0..6).prop_map(Op::GetBatch),
        prop::collection::vec((k(), bytes()), 0..6).prop_map(Op::SetBatch),
        prop::collection::vec(k(), 0..6).prop_map(Op::DelBatch),
        r().prop_map(Op::Keys),
        r().prop_map(Op::Values),
        r().prop_map(Op::Entries),
        r().prop_map(Op::Count),
    ]
}

proptest! {
    // Each case opens a database; a few dozen random histories on top of
    // the exhaustive one above.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_answer_as_the_memory_store_does(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(same_answers(&ops));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_page_through_large_ranges_in_order_and_stop_at_the_read_limit() {
    let db = memory_db().await;
    let store = SurrealKvStore::new(db.clone(), TABLE, KvLimits::default());
    let keys: Vec<String> = (0..2_500).map(|i| format!("k{i:05}")).collect();
    for chunk in keys.chunks(500) {
        store
            .set_batch(
                chunk
                    .iter()
                    .map(|k| (k.clone(), KvValue::from(k.as_bytes())))
                    .collect(),
            )
            .await
            .unwrap();
    }
    assert_eq!(store.keys(KeyRange::all()).await.unwrap(), keys);
    assert_eq!(store.count(KeyRange::all()).await.unwrap(), 2_500);
    let entries = store
        .entries(KeyRange::new(
            Bound::Excluded("k00100".to_owned()),
            Bound::Included("k00300".to_owned()),
        ))
        .await
        .unwrap();
    assert_eq!(entries.len(), 200);
    assert!(entries.iter().all(|(k, v)| k.as_bytes() == &v[..]));
    assert_eq!(entries.first().unwrap().0, "k00101");
    assert_eq!(entries.last().unwrap().0, "k00300");

    // 2,500 keys of 6 bytes are 15,000 bytes: exactly that passes, a byte
    // less is refused, whichever page it falls in.
    let exact = KvLimits::default().with_max_read_bytes(Some(15_000));
    let store = SurrealKvStore::new(db.clone(), TABLE, exact);
    assert_eq!(store.keys(KeyRange::all()).await.unwrap().len(), 2_500);
    let short = KvLimits::default().with_max_read_bytes(Some(14_999));
    let store = SurrealKvStore::new(db.clone(), TABLE, short);
    assert!(matches!(
        store.keys(KeyRange::all()).await,
        Err(KvError::ReadTooLarge { limit: 14_999 })
    ));
    assert!(matches!(
        store.values(KeyRange::all()).await,
        Err(KvError::ReadTooLarge { limit: 14_999 })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_fails_half_way_leaves_nothing_behind() {
    let db = memory_db().await;
    let store = SurrealKvStore::new(db.clone(), TABLE, KvLimits::default());
    store
        .set("before".to_owned(), KvValue::from(&b"kept"[..]))
        .await
        .unwrap();
    // The database itself refuses the third entry, after the first two
    // were written inside the batch's transaction.
    exec(
        &db,
        "DEFINE FIELD v ON TABLE `surli_kv/test/kv@0.1.0` TYPE bytes \
         ASSERT $value != <bytes>'poison';",
    )
    .await;
    let batch = vec![
        ("one".to_owned(), KvValue::from(&b"1"[..])),
        ("two".to_owned(), KvValue::from(&b"2"[..])),
        ("three".to_owned(), KvValue::from(&b"poison"[..])),
        ("four".to_owned(), KvValue::from(&b"4"[..])),
        ("before".to_owned(), KvValue::from(&b"overwritten"[..])),
    ];
    let failed = store.set_batch(batch).await.unwrap_err();
    assert!(matches!(failed, KvError::Backend(_)), "{failed}");
    assert_eq!(
        store.keys(KeyRange::all()).await.unwrap(),
        vec!["before".to_owned()]
    );
    assert_eq!(
        store.get("before").await.unwrap().as_deref(),
        Some(&b"kept"[..])
    );

    // A batch over the entry limit is undone after its writes, too.
    let limited = SurrealKvStore::new(
        db.clone(),
        TABLE,
        KvLimits::default().with_max_entries(Some(3)),
    );
    let over = limited
        .set_batch(vec![
            ("a".to_owned(), KvValue::from(&b"a"[..])),
            ("b".to_owned(), KvValue::from(&b"b"[..])),
            ("c".to_owned(), KvValue::from(&b"c"[..])),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            over,
            KvError::TooManyEntries {
                would_be: 4,
                limit: 3
            }
        ),
        "{over}"
    );
    assert_eq!(limited.count(KeyRange::all()).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_pass_the_entry_limit_together() {
    let db = memory_db().await;
    let store = Arc::new(SurrealKvStore::new(
        db.clone(),
        TABLE,
        KvLimits::default().with_max_entries(Some(10)),
    ));
    let writers: Vec<_> = (0..24)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .set(format!("key{i:02}"), KvValue::from(&b"v"[..]))
                    .await
            })
        })
        .collect();
    let mut stored = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(()) => stored += 1,
            Err(KvError::TooManyEntries { limit: 10, .. }) => {}
            Err(other) => panic!("a writer failed otherwise: {other}"),
        }
    }
    assert_eq!(stored, 10);
    assert_eq!(store.count(KeyRange::all()).await.unwrap(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_module_has_a_table_named_after_it() {
    let meta = surli::config::PackageMeta {
        organisation: "acme".to_owned(),
        name: "geo".to_owned(),
        version: "1.2.3".parse().unwrap(),
    };
    assert_eq!(
        SurrealKvStore::<Any>::table_name(&meta),
        "surli_kv/acme/geo@1.2.3"
    );
    let db = memory_db().await;
    let store = SurrealKvStore::for_module(db.clone(), &meta, KvLimits::default());
    store
        .set("k".to_owned(), KvValue::from(&b"v"[..]))
        .await
        .unwrap();
    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM `surli_kv/acme/geo@1.2.3`)").await,
        surli::SurrealValue::into_value(1i64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_name_that_needs_escaping_is_still_one_table() {
    let db = memory_db().await;
    // The second name would remove table `b` if it were spliced into the
    // query's text unescaped.
    exec(&db, "DEFINE TABLE b; CREATE b:1;").await;
    for table in [
        "surli_kv/we`ird\\org/x y@1.0.0",
        "surli_kv/a`; REMOVE TABLE b; `/c@1.0.0",
    ] {
        let store = SurrealKvStore::new(db.clone(), table, KvLimits::default());
        store
            .set("k".to_owned(), KvValue::from(table.as_bytes()))
            .await
            .unwrap();
        assert_eq!(
            store.get("k").await.unwrap().as_deref(),
            Some(table.as_bytes())
        );
    }
    let tables = value(&db, "INFO FOR DB").await;
    let shown = format!("{tables:?}");
    assert!(shown.contains("we`ird\\\\org"), "{shown}");
    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM b)").await,
        surli::SurrealValue::into_value(1i64),
        "table `b` was touched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_without_totals_is_counted_when_a_store_opens_it() {
    let db = memory_db().await;
    let unlimited = SurrealKvStore::new(db.clone(), TABLE, KvLimits::default());
    for key in ["k1", "k2", "k3"] {
        unlimited
            .set(key.to_owned(), KvValue::from(&[0u8; 8][..]))
            .await
            .unwrap();
    }
    // As a table written before surli kept totals, or edited by hand: no
    // guard record.
    exec(&db, "DELETE surli_kv_guard").await;
    let limited = SurrealKvStore::new(
        db.clone(),
        TABLE,
        KvLimits::default()
            .with_max_entries(Some(4))
            .with_max_bytes(Some(35)),
    );
    // 30 bytes held: a fourth entry of 10 would make 40.
    let err = limited
        .set("k4".to_owned(), KvValue::from(&[0u8; 8][..]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KvError::StoreFull {
                would_be: 40,
                limit: 35
            }
        ),
        "{err:?}"
    );
    limited
        .set("k4".to_owned(), KvValue::from(&[0u8; 3][..]))
        .await
        .unwrap();
    let err = limited
        .set("k5".to_owned(), KvValue::from(&[][..]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KvError::TooManyEntries {
                would_be: 5,
                limit: 4
            }
        ),
        "{err:?}"
    );
    assert_eq!(limited.count(KeyRange::all()).await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_finds_the_totals_gone_counts_them_again() {
    let db = memory_db().await;
    let store = SurrealKvStore::new(
        db.clone(),
        TABLE,
        KvLimits::default().with_max_bytes(Some(45)),
    );
    let ten = || KvValue::from(&[0u8; 8][..]);
    for key in ["k1", "k2", "k3"] {
        store.set(key.to_owned(), ten()).await.unwrap();
    }
    // Deleted while this store is open, as an operator editing the table
    // by hand is told to: the next write must not start from nothing.
    exec(&db, "DELETE surli_kv_guard").await;
    store.set("k4".to_owned(), ten()).await.unwrap();
    let err = store.set("k5".to_owned(), ten()).await.unwrap_err();
    assert!(
        matches!(
            err,
            KvError::StoreFull {
                would_be: 50,
                limit: 45
            }
        ),
        "{err:?}"
    );
    store.del("k1").await.unwrap();
    store.set("k5".to_owned(), ten()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_overwrites_and_deletes_keep_the_totals_exact() {
    let db = memory_db().await;
    let store = Arc::new(SurrealKvStore::new(db.clone(), TABLE, KvLimits::default()));
    let writers: Vec<_> = (0..16u8)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let key = format!("k{}", i % 5);
                store
                    .set(key.clone(), KvValue::from(vec![i; usize::from(i)]))
                    .await?;
                if i % 3 == 0 {
                    store.del(&key).await?;
                }
                store
                    .set_batch(vec![(format!("b{i}"), KvValue::from(vec![i; 3]))])
                    .await
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    // What the table holds, and a limit one byte short of one more entry:
    // the guard's totals must be exactly the contents for the refusal to
    // name the right figure.
    let held: u64 = store
        .entries(KeyRange::all())
        .await
        .unwrap()
        .iter()
        .map(|(key, value)| (key.len() + value.len()) as u64)
        .sum();
    let limited = SurrealKvStore::new(
        db.clone(),
        TABLE,
        KvLimits::default().with_max_bytes(Some(held + 5)),
    );
    let err = limited
        .set("new".to_owned(), KvValue::from(&[0u8; 3][..]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, KvError::StoreFull { would_be, .. } if would_be == held + 6),
        "{err:?} (held {held})"
    );
}
