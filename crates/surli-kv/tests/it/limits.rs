use std::ops::Bound::{Excluded, Included};

use surli_kv::{KeyRange, KvError, KvLimits, KvStore, MAX_KV_KEY_BYTES, MemoryKvStore};

use crate::{contents, ready, unlimited, value};

fn store(limits: KvLimits) -> MemoryKvStore {
    MemoryKvStore::new(limits)
}

fn max_entries(limit: u64) -> KvLimits {
    unlimited().with_max_entries(Some(limit))
}

fn max_value_bytes(limit: u64) -> KvLimits {
    unlimited().with_max_value_bytes(Some(limit))
}

fn max_read_bytes(limit: u64) -> KvLimits {
    unlimited().with_max_read_bytes(Some(limit))
}

#[test]
fn default_limits_are_the_documented_ones() {
    let limits = KvLimits::default();
    assert_eq!(limits.max_entries, None);
    assert_eq!(limits.max_value_bytes, None);
    assert_eq!(limits.max_bytes, None);
    assert_eq!(limits.max_key_bytes, 1024);
    assert_eq!(limits.max_key_bytes, MAX_KV_KEY_BYTES);
    assert_eq!(limits.max_read_bytes, Some(64 * 1024 * 1024));
}

// Key length.

#[tokio::test]
async fn key_at_the_limit_is_accepted_and_one_byte_more_is_refused() {
    let store = store(KvLimits::default());
    store
        .set("k".repeat(MAX_KV_KEY_BYTES), value(b"v"))
        .await
        .unwrap();
    let err = store
        .set("k".repeat(MAX_KV_KEY_BYTES + 1), value(b"v"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KvError::KeyTooLong {
                len: 1025,
                limit: 1024
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn key_length_is_measured_in_bytes_not_chars() {
    let store = store(unlimited().with_max_key_bytes(4));
    // Three characters, six bytes.
    let err = store.set("ééé".into(), value(b"v")).await.unwrap_err();
    assert!(
        matches!(err, KvError::KeyTooLong { len: 6, limit: 4 }),
        "{err:?}"
    );
    store.set("éé".into(), value(b"v")).await.unwrap();
}

#[tokio::test]
async fn set_batch_refuses_an_over_long_key() {
    let store = store(KvLimits::default());
    let err = store
        .set_batch(vec![
            ("fine".into(), value(b"v")),
            ("k".repeat(MAX_KV_KEY_BYTES + 1), value(b"v")),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, KvError::KeyTooLong { .. }), "{err:?}");
    assert!(store.is_empty());
}

#[tokio::test]
async fn key_length_is_checked_before_value_size() {
    let store = store(max_value_bytes(1).with_max_key_bytes(1));
    let err = store.set("kk".into(), value(b"vv")).await.unwrap_err();
    assert!(matches!(err, KvError::KeyTooLong { .. }), "{err:?}");
}

// Value size.

#[tokio::test]
async fn value_at_the_limit_is_accepted_and_one_byte_more_is_refused() {
    let store = store(max_value_bytes(4));
    store.set("ok".into(), value(b"1234")).await.unwrap();
    let err = store.set("big".into(), value(b"12345")).await.unwrap_err();
    match err {
        KvError::ValueTooLarge { key, size, limit } => {
            assert_eq!((key.as_str(), size, limit), ("big", 5, 4));
        }
        other => panic!("expected ValueTooLarge, got {other:?}"),
    }
    assert!(!store.exists("big").await.unwrap());
}

#[tokio::test]
async fn value_size_is_checked_when_overwriting_too() {
    let store = store(max_value_bytes(4));
    store.set("k".into(), value(b"1234")).await.unwrap();
    let err = store.set("k".into(), value(b"12345")).await.unwrap_err();
    assert!(matches!(err, KvError::ValueTooLarge { .. }), "{err:?}");
    assert_eq!(store.get("k").await.unwrap(), Some(value(b"1234")));
}

#[tokio::test]
async fn set_batch_refuses_an_oversized_value() {
    let store = store(max_value_bytes(4));
    let err = store
        .set_batch(vec![
            ("a".into(), value(b"1234")),
            ("b".into(), value(b"12345")),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, KvError::ValueTooLarge { key, .. } if key == "b"),
        "{err:?}"
    );
    assert!(store.is_empty());
}

#[tokio::test]
async fn value_size_is_checked_before_entry_count() {
    let store = store(max_value_bytes(1).with_max_entries(Some(0)));
    let err = store.set("k".into(), value(b"vv")).await.unwrap_err();
    assert!(matches!(err, KvError::ValueTooLarge { .. }), "{err:?}");
}

// Entry count.

#[tokio::test]
async fn entry_limit_refuses_a_new_key_when_full() {
    let store = store(max_entries(2));
    store.set("a".into(), value(b"1")).await.unwrap();
    store.set("b".into(), value(b"2")).await.unwrap();
    let err = store.set("c".into(), value(b"3")).await.unwrap_err();
    assert!(
        matches!(
            err,
            KvError::TooManyEntries {
                would_be: 3,
                limit: 2
            }
        ),
        "{err:?}"
    );
    assert!(!store.exists("c").await.unwrap());
}

#[tokio::test]
async fn overwriting_at_the_entry_limit_is_fine() {
    let store = store(max_entries(2));
    store.set("a".into(), value(b"1")).await.unwrap();
    store.set("b".into(), value(b"2")).await.unwrap();
    store.set("a".into(), value(b"10")).await.unwrap();
    store
        .set_batch(vec![("b".into(), value(b"20")), ("a".into(), value(b"11"))])
        .await
        .unwrap();
    assert_eq!(
        contents(&store),
        [
            ("a".to_owned(), value(b"11")),
            ("b".to_owned(), value(b"20"))
        ]
    );
}

#[tokio::test]
async fn deleting_frees_room_under_the_entry_limit() {
    let store = store(max_entries(1));
    store.set("a".into(), value(b"1")).await.unwrap();
    store.del("a").await.unwrap();
    store.set("b".into(), value(b"2")).await.unwrap();
}

#[tokio::test]
async fn set_batch_counts_only_distinct_new_keys() {
    let store = store(max_entries(3));
    store.set("old".into(), value(b"0")).await.unwrap();
    // Two new keys, one of them three times, plus an existing one: five
    // entries, two new keys, three entries in the end.
    store
        .set_batch(vec![
            ("new-1".into(), value(b"a")),
            ("old".into(), value(b"b")),
            ("new-1".into(), value(b"c")),
            ("new-2".into(), value(b"d")),
            ("new-1".into(), value(b"e")),
        ])
        .await
        .unwrap();
    assert_eq!(store.len(), 3);
}

#[tokio::test]
async fn set_batch_refuses_new_keys_that_do_not_fit() {
    let store = store(max_entries(3));
    store.set("old".into(), value(b"0")).await.unwrap();
    let err = store
        .set_batch(vec![
            ("old".into(), value(b"1")),
            ("a".into(), value(b"1")),
            ("b".into(), value(b"1")),
            ("c".into(), value(b"1")),
            ("a".into(), value(b"2")),
        ])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KvError::TooManyEntries {
                would_be: 4,
                limit: 3
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn last_duplicate_in_a_batch_wins() {
    let store = store(unlimited());
    store
        .set_batch(vec![
            ("k".into(), value(b"first")),
            ("other".into(), value(b"x")),
            ("k".into(), value(b"last")),
        ])
        .await
        .unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(value(b"last")));
}

// All-or-nothing batches.

fn seeded(limits: KvLimits) -> MemoryKvStore {
    let store = store(limits);
    for (key, bytes) in [("a", b"1"), ("b", b"2")] {
        ready(store.set(key.into(), value(bytes))).unwrap();
    }
    store
}

#[tokio::test]
async fn failed_batch_changes_nothing() {
    let limits = KvLimits::default()
        .with_max_entries(Some(3))
        .with_max_value_bytes(Some(4))
        .with_max_bytes(Some(8))
        .with_max_key_bytes(8)
        .with_max_read_bytes(None);
    // Each batch overwrites existing keys and adds new ones before the entry
    // that breaks a limit, so a store that wrote as it validated would show
    // the change.
    let failing_batches = [
        (
            "value too large",
            vec![
                ("a".into(), value(b"9")),
                ("c".into(), value(b"3")),
                ("d".into(), value(b"12345")),
            ],
        ),
        (
            "key too long",
            vec![
                ("b".into(), value(b"9")),
                ("c".into(), value(b"3")),
                ("k".repeat(9), value(b"4")),
            ],
        ),
        (
            "too many entries",
            vec![
                ("a".into(), value(b"9")),
                ("c".into(), value(b"3")),
                ("d".into(), value(b"4")),
            ],
        ),
        (
            // 4 bytes held; 6, then 7, then 10 of 8.
            "store full",
            vec![
                ("a".into(), value(b"999")),
                ("b".into(), value(b"99")),
                ("c".into(), value(b"12")),
            ],
        ),
    ];
    for (why, batch) in failing_batches {
        let store = seeded(limits);
        let before = contents(&store);
        assert!(store.set_batch(batch).await.is_err(), "{why}");
        assert_eq!(contents(&store), before, "{why}");
    }
}

// Read cap.

/// Three entries whose keys are 2 bytes and values 8 bytes: 6 key bytes, 24
/// value bytes, 30 bytes in all.
fn readable(limit: u64) -> MemoryKvStore {
    let store = store(max_read_bytes(limit));
    for key in ["k1", "k2", "k3"] {
        ready(store.set(key.into(), value(b"12345678"))).unwrap();
    }
    store
}

fn assert_read_too_large<T: std::fmt::Debug>(result: Result<T, KvError>, limit: u64) {
    match result {
        Err(KvError::ReadTooLarge { limit: reported }) => assert_eq!(reported, limit),
        other => panic!("expected ReadTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn keys_over_the_read_cap_is_an_error() {
    assert_read_too_large(readable(5).keys(KeyRange::all()).await, 5);
}

#[tokio::test]
async fn values_over_the_read_cap_is_an_error() {
    assert_read_too_large(readable(23).values(KeyRange::all()).await, 23);
}

#[tokio::test]
async fn entries_over_the_read_cap_is_an_error() {
    // Values alone (24 bytes) fit; with the keys (30 bytes) they do not.
    assert_read_too_large(readable(29).entries(KeyRange::all()).await, 29);
}

#[tokio::test]
async fn get_batch_over_the_read_cap_is_an_error() {
    let keys = ["k1", "k2", "missing", "k3"].map(str::to_owned);
    assert_read_too_large(readable(23).get_batch(&keys).await, 23);
}

#[tokio::test]
async fn get_batch_charges_a_repeated_key_each_time() {
    let keys = ["k1", "k1", "k1", "k1"].map(str::to_owned);
    assert_read_too_large(readable(31).get_batch(&keys).await, 31);
}

#[tokio::test]
async fn reads_up_to_the_read_cap_succeed() {
    assert_eq!(readable(6).keys(KeyRange::all()).await.unwrap().len(), 3);
    assert_eq!(readable(24).values(KeyRange::all()).await.unwrap().len(), 3);
    assert_eq!(
        readable(30).entries(KeyRange::all()).await.unwrap().len(),
        3
    );
    let keys = ["k1", "k2", "missing", "k3"].map(str::to_owned);
    assert_eq!(readable(24).get_batch(&keys).await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_narrower_range_fits_under_the_read_cap() {
    let store = readable(20);
    assert_read_too_large(store.entries(KeyRange::all()).await, 20);
    let first_two = KeyRange::new(Included("k1".into()), Excluded("k3".into()));
    assert_eq!(store.entries(first_two).await.unwrap().len(), 2);
}

#[tokio::test]
async fn count_and_del_range_ignore_the_read_cap() {
    let store = readable(1);
    assert_eq!(store.count(KeyRange::all()).await.unwrap(), 3);
    assert_eq!(store.del_range(KeyRange::all()).await.unwrap(), 3);
    assert!(store.is_empty());
}

#[tokio::test]
async fn single_get_ignores_the_read_cap() {
    let store = readable(1);
    assert_eq!(store.get("k1").await.unwrap(), Some(value(b"12345678")));
}

// Messages.

#[test]
fn error_messages_are_lower_case_actionable_and_unpunctuated() {
    let messages = [
        KvError::KeyTooLong {
            len: 2000,
            limit: 1024,
        }
        .to_string(),
        KvError::ValueTooLarge {
            key: "k".into(),
            size: 2048,
            limit: 1024,
        }
        .to_string(),
        KvError::TooManyEntries {
            would_be: 11,
            limit: 10,
        }
        .to_string(),
        KvError::ReadTooLarge { limit: 64 }.to_string(),
        KvError::Backend("connection lost".into()).to_string(),
    ];
    for message in &messages {
        assert!(message.starts_with("kv "), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
    assert!(
        messages[1].starts_with(
            "kv value for key `k` is 2048 bytes, over the module's limit of 1024 bytes"
        )
    );
    assert!(messages[3].contains("narrow the range or page through it with keys"));
}

// Total bytes.

fn max_bytes(limit: u64) -> KvLimits {
    unlimited().with_max_bytes(Some(limit))
}

fn assert_store_full(err: &KvError, would_be: u64, limit: u64) {
    assert!(
        matches!(err, KvError::StoreFull { would_be: w, limit: l } if *w == would_be && *l == limit),
        "{err:?}"
    );
}

#[tokio::test]
async fn total_bytes_count_keys_and_values_and_refuse_the_write_past_them() {
    // Each entry is a 2-byte key and an 8-byte value: 10 bytes.
    let store = store(max_bytes(30));
    for key in ["k1", "k2", "k3"] {
        store.set(key.into(), value(&[0; 8])).await.unwrap();
    }
    assert_eq!(store.bytes(), 30);
    let err = store.set("k4".into(), value(b"")).await.unwrap_err();
    assert_store_full(&err, 32, 30);
    assert_eq!(store.len(), 3);
    assert_eq!(store.bytes(), 30);
}

#[tokio::test]
async fn overwriting_counts_only_the_growth_and_shrinking_always_succeeds() {
    let store = store(max_bytes(20));
    store.set("k1".into(), value(&[0; 8])).await.unwrap();
    store.set("k2".into(), value(&[0; 8])).await.unwrap();
    // Full; the same size again and smaller values are fine.
    store.set("k1".into(), value(&[1; 8])).await.unwrap();
    store.set("k1".into(), value(&[1; 2])).await.unwrap();
    assert_eq!(store.bytes(), 14);
    // Growing back by six fits, by seven does not.
    let err = store.set("k1".into(), value(&[2; 9])).await.unwrap_err();
    assert_store_full(&err, 21, 20);
    store.set("k1".into(), value(&[2; 8])).await.unwrap();
    assert_eq!(store.bytes(), 20);
}

#[tokio::test]
async fn deletes_of_every_kind_give_their_bytes_back() {
    let store = store(max_bytes(1000));
    let entries = |prefix: &str| {
        (0..5)
            .map(|i| (format!("{prefix}{i}"), value(&[0; 10])))
            .collect::<Vec<_>>()
    };
    store.set_batch(entries("a")).await.unwrap();
    store.set_batch(entries("b")).await.unwrap();
    store.set_batch(entries("c")).await.unwrap();
    assert_eq!(store.bytes(), 15 * 12);
    store.del("a0").await.unwrap();
    store.del("missing").await.unwrap();
    assert_eq!(store.bytes(), 14 * 12);
    store
        .del_batch(&["b0".to_owned(), "b1".to_owned(), "b1".to_owned()])
        .await
        .unwrap();
    assert_eq!(store.bytes(), 12 * 12);
    let removed = store
        .del_range(KeyRange::new(Included("c".into()), Excluded("d".into())))
        .await
        .unwrap();
    assert_eq!(removed, 5);
    assert_eq!(store.bytes(), 7 * 12);
}

#[tokio::test]
async fn a_batch_past_the_total_stores_none_of_it() {
    let store = store(max_bytes(25));
    store.set("k1".into(), value(&[0; 8])).await.unwrap();
    let batch = vec![
        ("k2".to_owned(), value(&[0; 8])),
        ("k3".to_owned(), value(&[0; 4])),
    ];
    let err = store.set_batch(batch).await.unwrap_err();
    assert_store_full(&err, 26, 25);
    assert_eq!(contents(&store), [("k1".to_owned(), value(&[0; 8]))]);
    assert_eq!(store.bytes(), 10);
}

#[tokio::test]
async fn a_batch_is_measured_as_written_a_later_duplicate_winning() {
    let store = store(max_bytes(12));
    // The first value for k1 alone would not fit; the last one does.
    let batch = vec![
        ("k1".to_owned(), value(&[0; 30])),
        ("k1".to_owned(), value(&[0; 10])),
    ];
    store.set_batch(batch).await.unwrap();
    assert_eq!(store.bytes(), 12);
    // Replacing k1 inside a batch frees what it held.
    let batch = vec![
        ("k1".to_owned(), value(&[0; 2])),
        ("k2".to_owned(), value(&[0; 6])),
    ];
    store.set_batch(batch).await.unwrap();
    assert_eq!(store.bytes(), 12);
}

proptest::proptest! {
    /// Whatever a guest does, the store's byte count is the sum over what it
    /// holds, and never more than the limit.
    #[test]
    fn the_byte_count_matches_the_contents(ops in proptest::collection::vec(
        (0u8..5, 0u8..8, 0usize..24), 1..60)
    ) {
        let store = store(max_bytes(100));
        for (op, key, len) in ops {
            let key = format!("key{key}");
            let result = match op {
                0 | 1 => ready(store.set(key, value(&vec![7; len]))),
                2 => ready(store.del(&key)),
                3 => ready(store.set_batch(vec![
                    (key.clone(), value(&vec![1; len])),
                    (format!("{key}x"), value(&vec![2; len / 2])),
                ])),
                _ => ready(store.del_range(KeyRange::new(Included(key), Excluded("key9".into()))))
                    .map(|_| ()),
            };
            if let Err(err) = result {
                proptest::prop_assert!(matches!(err, KvError::StoreFull { .. }), "{:?}", err);
            }
            let held: usize = contents(&store).iter().map(|(k, v)| k.len() + v.len()).sum();
            let held = u64::try_from(held).unwrap();
            proptest::prop_assert_eq!(store.bytes(), held);
            proptest::prop_assert!(held <= 100);
        }
    }
}
