use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use surli_kv::{KeyRange, KvLimits, KvStore, MemoryKvStore};

use crate::{contents, ready, store_with, unlimited, value};

#[tokio::test]
async fn get_returns_the_same_bytes_that_were_set() {
    let store = MemoryKvStore::new(unlimited());
    let stored = value(b"\x0c\x00\x00\x00encoded");
    store.set("k".into(), stored.clone()).await.unwrap();

    let got = store.get("k").await.unwrap().unwrap();
    assert!(
        Arc::ptr_eq(&stored, &got),
        "get must hand back the stored bytes, not a copy"
    );

    let batch = store.get_batch(&["k".to_owned()]).await.unwrap();
    assert!(Arc::ptr_eq(&stored, batch[0].as_ref().unwrap()));
    let values = store.values(KeyRange::all()).await.unwrap();
    assert!(Arc::ptr_eq(&stored, &values[0]));
}

#[tokio::test]
async fn get_of_a_missing_key_is_none() {
    let store = store_with(&[("a", b"1")]);
    assert_eq!(store.get("b").await.unwrap(), None);
    assert!(!store.exists("b").await.unwrap());
}

#[tokio::test]
async fn set_overwrites_the_previous_value() {
    let store = store_with(&[("k", b"old")]);
    store.set("k".into(), value(b"new")).await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(value(b"new")));
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn del_removes_the_key_and_missing_keys_are_fine() {
    let store = store_with(&[("a", b"1"), ("b", b"2")]);
    store.del("a").await.unwrap();
    store.del("a").await.unwrap();
    store.del("never-there").await.unwrap();
    assert!(!store.exists("a").await.unwrap());
    assert!(store.exists("b").await.unwrap());
}

#[tokio::test]
async fn get_batch_answers_position_by_position() {
    let store = store_with(&[("a", b"1"), ("c", b"3")]);
    let keys = ["c", "missing", "a", "c"].map(str::to_owned);
    let got = store.get_batch(&keys).await.unwrap();
    assert_eq!(
        got,
        [
            Some(value(b"3")),
            None,
            Some(value(b"1")),
            Some(value(b"3"))
        ]
    );
    assert!(store.get_batch(&[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn set_batch_stores_every_entry() {
    let store = MemoryKvStore::new(unlimited());
    store
        .set_batch(vec![("b".into(), value(b"2")), ("a".into(), value(b"1"))])
        .await
        .unwrap();
    assert_eq!(
        contents(&store),
        [("a".to_owned(), value(b"1")), ("b".to_owned(), value(b"2"))]
    );
}

#[tokio::test]
async fn del_batch_removes_listed_keys_and_skips_missing() {
    let store = store_with(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
    let keys = ["a", "missing", "c", "a"].map(str::to_owned);
    store.del_batch(&keys).await.unwrap();
    assert_eq!(contents(&store), [("b".to_owned(), value(b"2"))]);
}

#[tokio::test]
async fn keys_are_ordered_bytewise() {
    // Byte-wise UTF-8 order: upper case before lower case, a prefix before
    // its extensions, multi-byte characters after ASCII.
    let store = store_with(&[
        ("é", b""),
        ("ab", b""),
        ("a", b""),
        ("B", b""),
        ("a\0", b""),
        ("😀", b""),
        ("", b""),
    ]);
    assert_eq!(
        store.keys(KeyRange::all()).await.unwrap(),
        ["", "B", "a", "a\0", "ab", "é", "😀"]
    );
}

#[tokio::test]
async fn over_long_keys_are_simply_not_found_by_reads_and_deletes() {
    let store = MemoryKvStore::new(unlimited().with_max_key_bytes(4));
    let long = "x".repeat(5);
    assert_eq!(store.get(&long).await.unwrap(), None);
    assert!(!store.exists(&long).await.unwrap());
    store.del(&long).await.unwrap();
    store.del_batch(std::slice::from_ref(&long)).await.unwrap();
    assert_eq!(
        store.get_batch(std::slice::from_ref(&long)).await.unwrap(),
        [None]
    );
}

#[tokio::test]
async fn two_stores_are_independent() {
    let first = store_with(&[("shared", b"first")]);
    let second = store_with(&[("shared", b"second")]);

    first.set("only-first".into(), value(b"1")).await.unwrap();
    first.del("shared").await.unwrap();

    assert_eq!(contents(&second), [("shared".to_owned(), value(b"second"))]);
    assert_eq!(contents(&first), [("only-first".to_owned(), value(b"1"))]);
}

#[tokio::test]
async fn store_works_as_a_shared_trait_object() {
    let store: Arc<dyn KvStore> = Arc::new(MemoryKvStore::default());
    let other_handle = Arc::clone(&store);
    store.set("k".into(), value(b"v")).await.unwrap();
    assert_eq!(other_handle.get("k").await.unwrap(), Some(value(b"v")));
    assert_eq!(other_handle.count(KeyRange::all()).await.unwrap(), 1);
}

#[test]
fn memory_store_never_yields() {
    // `ready` panics on a pending poll, so each call below completing proves
    // the method finished without awaiting, and so never held its lock
    // across an await.
    let store = MemoryKvStore::new(unlimited());
    let keys = ["a".to_owned(), "b".to_owned()];
    ready(store.set("a".into(), value(b"1"))).unwrap();
    ready(store.set_batch(vec![("b".into(), value(b"2"))])).unwrap();
    ready(store.get("a")).unwrap();
    ready(store.exists("a")).unwrap();
    ready(store.get_batch(&keys)).unwrap();
    ready(store.keys(KeyRange::all())).unwrap();
    ready(store.values(KeyRange::all())).unwrap();
    ready(store.entries(KeyRange::all())).unwrap();
    ready(store.count(KeyRange::all())).unwrap();
    ready(store.del("a")).unwrap();
    ready(store.del_batch(&keys)).unwrap();
    ready(store.del_range(KeyRange::all())).unwrap();
}

#[test]
fn readers_never_see_half_a_batch() {
    const BATCH: usize = 64;
    // Enough rounds that reads overlap writes many times over even on a
    // busy two-core machine.
    const ROUNDS: usize = 10_000;
    let store = MemoryKvStore::new(unlimited());
    let keys: Vec<String> = (0..BATCH).map(|i| format!("key-{i:03}")).collect();
    let rounds_done = AtomicUsize::new(0);
    let start = Barrier::new(2);

    let partial: Vec<u64> = std::thread::scope(|scope| {
        scope.spawn(|| {
            start.wait();
            for _ in 0..ROUNDS {
                let entries = keys.iter().map(|key| (key.clone(), value(b"v"))).collect();
                ready(store.set_batch(entries)).unwrap();
                ready(store.del_batch(&keys)).unwrap();
                rounds_done.fetch_add(1, Ordering::Release);
            }
        });
        start.wait();
        let mut partial = Vec::new();
        while rounds_done.load(Ordering::Acquire) < ROUNDS {
            let count = ready(store.count(KeyRange::all())).unwrap();
            if count != 0 && count != BATCH as u64 {
                partial.push(count);
            }
        }
        partial
    });
    assert!(
        partial.is_empty(),
        "readers saw part of a batch {} times, e.g. {:?} of {BATCH} keys",
        partial.len(),
        partial.first()
    );
}

#[test]
fn len_and_is_empty_track_entries() {
    let store = MemoryKvStore::new(unlimited());
    assert!(store.is_empty());
    assert_eq!(store.len(), 0);
    ready(store.set("a".into(), value(b"1"))).unwrap();
    ready(store.set("a".into(), value(b"2"))).unwrap();
    ready(store.set("b".into(), value(b"3"))).unwrap();
    assert!(!store.is_empty());
    assert_eq!(store.len(), 2);
}

#[test]
fn limits_returns_what_the_store_was_built_with() {
    let limits = KvLimits::default()
        .with_max_entries(Some(7))
        .with_max_value_bytes(Some(8))
        .with_max_bytes(Some(11))
        .with_max_key_bytes(9)
        .with_max_read_bytes(Some(10));
    assert_eq!(*MemoryKvStore::new(limits).limits(), limits);
}

#[test]
fn debug_output_leaves_out_contents() {
    let store = store_with(&[("secret-key", b"secret-value")]);
    let debug = format!("{store:?}");
    assert!(debug.contains("len: 1"), "{debug}");
    assert!(!debug.contains("secret"), "{debug}");
}
