use std::collections::BTreeMap;
use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::panic::{AssertUnwindSafe, catch_unwind};

use proptest::prelude::*;
use surli_kv::{KeyRange, KvStore, KvValue, MemoryKvStore};

use crate::{contents, ready, store_with, unlimited, value};

/// What `BTreeMap::range` yields for `range`, or nothing where it panics.
///
/// The oracle calls std itself rather than restating its rules, so the
/// store is held to the real behaviour, panicking cases included.
fn oracle(data: &BTreeMap<String, KvValue>, range: &KeyRange) -> Vec<(String, KvValue)> {
    let bounds = range.clone().into_bounds();
    catch_unwind(AssertUnwindSafe(|| {
        data.range(bounds)
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }))
    .unwrap_or_default()
}

/// Checks every range operation of a store holding `data` against the
/// oracle for `range`.
fn assert_matches_btreemap(data: &BTreeMap<String, KvValue>, range: &KeyRange) {
    let expected = oracle(data, range);
    let store = MemoryKvStore::new(unlimited());
    ready(store.set_batch(data.clone().into_iter().collect())).unwrap();

    let expected_keys: Vec<String> = expected.iter().map(|(key, _)| key.clone()).collect();
    let expected_values: Vec<KvValue> = expected.iter().map(|(_, value)| value.clone()).collect();
    assert_eq!(
        ready(store.keys(range.clone())).unwrap(),
        expected_keys,
        "keys {range:?}"
    );
    assert_eq!(
        ready(store.values(range.clone())).unwrap(),
        expected_values,
        "values {range:?}"
    );
    assert_eq!(
        ready(store.entries(range.clone())).unwrap(),
        expected,
        "entries {range:?}"
    );
    assert_eq!(
        ready(store.count(range.clone())).unwrap(),
        expected.len() as u64,
        "count {range:?}"
    );

    assert_eq!(
        ready(store.del_range(range.clone())).unwrap(),
        expected.len() as u64,
        "del_range {range:?}"
    );
    let remaining: Vec<(String, KvValue)> = data
        .iter()
        .filter(|(key, _)| !expected_keys.contains(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    assert_eq!(contents(&store), remaining, "left by del_range {range:?}");
}

fn bounds_over(points: &[&str]) -> Vec<Bound<String>> {
    let mut bounds = vec![Unbounded];
    for point in points {
        bounds.push(Included((*point).to_owned()));
        bounds.push(Excluded((*point).to_owned()));
    }
    bounds
}

#[test]
fn every_bound_combination_matches_btreemap_range() {
    let data: BTreeMap<String, KvValue> = ["a", "b", "bb", "c", "e"]
        .into_iter()
        .map(|key| (key.to_owned(), value(key.as_bytes())))
        .collect();
    // Points on, between, before and after the stored keys, so every pair
    // covers ordered, equal and inverted bounds of every kind.
    let bounds = bounds_over(&["", "a", "b", "ba", "bb", "d", "e", "f"]);
    for start in &bounds {
        for end in &bounds {
            assert_matches_btreemap(&data, &KeyRange::new(start.clone(), end.clone()));
        }
    }
}

fn key() -> impl Strategy<Value = String> {
    // A tiny alphabet (with a multi-byte character) so that bounds often
    // coincide with stored keys and with each other.
    "[ab\u{e9}]{0,3}"
}

fn bound() -> impl Strategy<Value = Bound<String>> {
    prop_oneof![
        Just(Unbounded),
        key().prop_map(Included),
        key().prop_map(Excluded),
    ]
}

fn data() -> impl Strategy<Value = BTreeMap<String, KvValue>> {
    proptest::collection::btree_map(
        key(),
        proptest::collection::vec(any::<u8>(), 0..4).prop_map(|bytes| value(&bytes)),
        0..10,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn range_operations_match_btreemap_range(data in data(), start in bound(), end in bound()) {
        assert_matches_btreemap(&data, &KeyRange::new(start, end));
    }
}

fn populated() -> MemoryKvStore {
    store_with(&[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")])
}

/// Asserts that every range operation treats `range` as empty on a store
/// whose keys surround both bounds, where `BTreeMap::range` would panic
/// or find nothing.
fn assert_every_operation_sees_nothing(range: KeyRange) {
    let store = populated();
    let before = contents(&store);
    assert_eq!(
        ready(store.keys(range.clone())).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        ready(store.values(range.clone())).unwrap(),
        Vec::<KvValue>::new()
    );
    assert_eq!(ready(store.entries(range.clone())).unwrap(), Vec::new());
    assert_eq!(ready(store.count(range.clone())).unwrap(), 0);
    assert_eq!(ready(store.del_range(range)).unwrap(), 0);
    assert_eq!(contents(&store), before);
}

#[test]
fn inverted_range_returns_nothing_instead_of_panicking() {
    for (start, end) in [
        (Included("c"), Included("b")),
        (Included("c"), Excluded("b")),
        (Excluded("c"), Included("b")),
        (Excluded("c"), Excluded("b")),
    ] {
        assert_every_operation_sees_nothing(KeyRange::new(
            start.map(str::to_owned),
            end.map(str::to_owned),
        ));
    }
}

#[test]
fn range_with_both_ends_excluded_at_one_key_returns_nothing_instead_of_panicking() {
    assert_every_operation_sees_nothing(KeyRange::new(Excluded("b".into()), Excluded("b".into())));
}

#[test]
fn range_with_one_end_excluded_at_one_key_is_empty() {
    assert_every_operation_sees_nothing(KeyRange::new(Included("b".into()), Excluded("b".into())));
    assert_every_operation_sees_nothing(KeyRange::new(Excluded("b".into()), Included("b".into())));
}

#[test]
fn range_with_both_ends_included_at_one_key_is_that_key() {
    let store = populated();
    let range = KeyRange::new(Included("b".into()), Included("b".into()));
    assert_eq!(
        ready(store.entries(range.clone())).unwrap(),
        [("b".to_owned(), value(b"2"))]
    );
    assert_eq!(ready(store.del_range(range)).unwrap(), 1);
    assert!(!ready(store.exists("b")).unwrap());
}

#[test]
fn del_range_deletes_exactly_the_range_and_counts_it() {
    let store = populated();
    let range = KeyRange::new(Excluded("a".into()), Excluded("d".into()));
    assert_eq!(ready(store.del_range(range)).unwrap(), 2);
    assert_eq!(
        contents(&store),
        [("a".to_owned(), value(b"1")), ("d".to_owned(), value(b"4"))]
    );
}

#[test]
fn is_empty_or_inverted_flags_inverted_and_collapsed_ranges_only() {
    let flagged = |start: Bound<&str>, end: Bound<&str>| {
        KeyRange::new(start.map(str::to_owned), end.map(str::to_owned)).is_empty_or_inverted()
    };
    // Inverted, whatever the bound kinds.
    assert!(flagged(Included("b"), Included("a")));
    assert!(flagged(Included("b"), Excluded("a")));
    assert!(flagged(Excluded("b"), Included("a")));
    assert!(flagged(Excluded("b"), Excluded("a")));
    // Collapsed onto one key that an end excludes.
    assert!(flagged(Excluded("a"), Excluded("a")));
    assert!(flagged(Included("a"), Excluded("a")));
    assert!(flagged(Excluded("a"), Included("a")));
    // Everything else is left to the range walk.
    assert!(!flagged(Included("a"), Included("a")));
    assert!(!flagged(Included("a"), Excluded("b")));
    assert!(!flagged(Excluded("a"), Excluded("b")));
    assert!(!flagged(Unbounded, Included("a")));
    assert!(!flagged(Excluded("z"), Unbounded));
    assert!(!flagged(Unbounded, Unbounded));
}

#[test]
fn key_range_constructors_agree() {
    assert_eq!(KeyRange::all(), KeyRange::new(Unbounded, Unbounded));
    assert_eq!(KeyRange::default(), KeyRange::all());
    let bounds = (Included("a".to_owned()), Excluded("b".to_owned()));
    let range = KeyRange::from(bounds.clone());
    assert_eq!(range.start, bounds.0);
    assert_eq!(range.end, bounds.1);
    assert_eq!(range.into_bounds(), bounds);
}
