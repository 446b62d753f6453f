//! The `kv-*` host functions over the module's store.

use std::ops::Bound;
use std::sync::Arc;

use surli_config::Capabilities;
use surli_host::bindings::surrealism::plugin::host::Host;
use surli_host::{HostState, MemoryLimiter, ModuleEnv, codec};
use surli_kv::{KvLimits, MemoryKvStore};
use surrealdb_types::{Array, Number, Object, Value};

use crate::{meta, state};

fn encoded(value: &Value) -> Vec<u8> {
    codec::encode_value(value).unwrap()
}

fn text(value: &str) -> Value {
    Value::String(value.to_owned())
}

fn int(value: i64) -> Value {
    Value::Number(Number::Int(value))
}

fn range(start: Bound<&str>, end: Bound<&str>) -> Vec<u8> {
    codec::encode_range(&start.map(str::to_owned), &end.map(str::to_owned)).unwrap()
}

fn all() -> Vec<u8> {
    range(Bound::Unbounded, Bound::Unbounded)
}

async fn filled() -> HostState {
    let mut state = state();
    for (key, value) in [
        ("a", int(1)),
        ("b", text("two")),
        ("c", int(3)),
        ("d", Value::Null),
    ] {
        state.kv_set(key.to_owned(), encoded(&value)).await.unwrap();
    }
    state
}

#[tokio::test]
async fn set_then_get_returns_the_same_bytes() {
    let mut state = state();
    let mut object = Object::new();
    object.insert("name".to_owned(), text("Ada"));
    let value = Value::Array(Array::from(vec![int(1), Value::Object(object)]));
    let bytes = encoded(&value);
    state.kv_set("k".to_owned(), bytes.clone()).await.unwrap();
    assert_eq!(state.kv_get("k".to_owned()).await.unwrap(), Some(bytes));
    assert_eq!(state.kv_get("missing".to_owned()).await.unwrap(), None);
}

#[tokio::test]
async fn set_of_malformed_bytes_is_refused_and_stores_nothing() {
    let mut state = state();
    for bytes in [
        Vec::new(),
        vec![0xff; 3],
        b"hello world, not a value".to_vec(),
    ] {
        let error = state.kv_set("k".to_owned(), bytes).await.unwrap_err();
        assert!(
            error.starts_with("kv-set of key `k`: cannot decode value:"),
            "{error}"
        );
    }
    assert!(!state.kv_exists("k".to_owned()).await.unwrap());
    assert_eq!(state.kv_count(all()).await.unwrap(), 0);
}

#[tokio::test]
async fn del_and_exists() {
    let mut state = filled().await;
    assert!(state.kv_exists("a".to_owned()).await.unwrap());
    state.kv_del("a".to_owned()).await.unwrap();
    assert!(!state.kv_exists("a".to_owned()).await.unwrap());
    // Deleting a missing key succeeds.
    state.kv_del("a".to_owned()).await.unwrap();
}

#[tokio::test]
async fn get_batch_returns_optional_values_by_position() {
    let mut state = filled().await;
    let keys = ["c", "missing", "a", "c"].map(str::to_owned).to_vec();
    let bytes = state.kv_get_batch(keys).await.unwrap();
    let values = surrealdb_types::decode_optional_values(&bytes).unwrap();
    assert_eq!(values, [Some(int(3)), None, Some(int(1)), Some(int(3))]);
}

#[tokio::test]
async fn set_batch_stores_every_entry() {
    let mut state = state();
    let entries =
        codec::encode_entries(&[("x".to_owned(), int(10)), ("y".to_owned(), text("why"))]).unwrap();
    state.kv_set_batch(entries).await.unwrap();
    assert_eq!(
        state.kv_get("y".to_owned()).await.unwrap(),
        Some(encoded(&text("why")))
    );
    assert_eq!(state.kv_count(all()).await.unwrap(), 2);
}

#[tokio::test]
async fn set_batch_over_a_limit_stores_nothing() {
    let kv = Arc::new(MemoryKvStore::new(
        KvLimits::default().with_max_entries(Some(1)),
    ));
    let env = ModuleEnv::new(meta(), Capabilities::default(), kv);
    let mut state = HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap();
    let entries =
        codec::encode_entries(&[("x".to_owned(), int(1)), ("y".to_owned(), int(2))]).unwrap();
    let error = state.kv_set_batch(entries).await.unwrap_err();
    assert!(
        error.starts_with("kv store would hold 2 entries"),
        "{error}"
    );
    assert_eq!(state.kv_count(all()).await.unwrap(), 0);
}

#[tokio::test]
async fn set_batch_of_malformed_bytes_is_refused() {
    let mut state = state();
    let error = state.kv_set_batch(vec![9; 40]).await.unwrap_err();
    assert!(error.starts_with("cannot decode entries:"), "{error}");
}

#[tokio::test]
async fn del_batch_removes_the_listed_keys() {
    let mut state = filled().await;
    state
        .kv_del_batch(["a", "c", "missing"].map(str::to_owned).to_vec())
        .await
        .unwrap();
    assert_eq!(state.kv_keys(all()).await.unwrap(), ["b", "d"]);
}

#[tokio::test]
async fn range_reads_follow_the_bounds() {
    let mut state = filled().await;
    let b_to_c = range(Bound::Included("b"), Bound::Included("c"));
    assert_eq!(state.kv_keys(b_to_c.clone()).await.unwrap(), ["b", "c"]);
    assert_eq!(state.kv_count(b_to_c.clone()).await.unwrap(), 2);

    let values = state.kv_values(b_to_c.clone()).await.unwrap();
    assert_eq!(codec::decode_args(&values).unwrap(), [text("two"), int(3)]);

    let entries = state.kv_entries(b_to_c).await.unwrap();
    assert_eq!(
        codec::decode_entries(&entries).unwrap(),
        [("b".to_owned(), text("two")), ("c".to_owned(), int(3))]
    );

    let after_a = range(Bound::Excluded("a"), Bound::Unbounded);
    assert_eq!(state.kv_keys(after_a).await.unwrap(), ["b", "c", "d"]);
}

#[tokio::test]
async fn inverted_ranges_are_empty_and_never_panic() {
    let mut state = filled().await;
    for inverted in [
        range(Bound::Included("z"), Bound::Included("a")),
        range(Bound::Excluded("b"), Bound::Excluded("b")),
        range(Bound::Included("b"), Bound::Excluded("b")),
    ] {
        assert!(state.kv_keys(inverted.clone()).await.unwrap().is_empty());
        assert_eq!(state.kv_count(inverted.clone()).await.unwrap(), 0);
        let values = state.kv_values(inverted.clone()).await.unwrap();
        assert!(codec::decode_args(&values).unwrap().is_empty());
        let entries = state.kv_entries(inverted.clone()).await.unwrap();
        assert!(codec::decode_entries(&entries).unwrap().is_empty());
        state.kv_del_rng(inverted).await.unwrap();
    }
    assert_eq!(state.kv_count(all()).await.unwrap(), 4);
}

#[tokio::test]
async fn del_rng_removes_the_range() {
    let mut state = filled().await;
    state
        .kv_del_rng(range(Bound::Included("b"), Bound::Excluded("d")))
        .await
        .unwrap();
    assert_eq!(state.kv_keys(all()).await.unwrap(), ["a", "d"]);
}

#[tokio::test]
async fn malformed_ranges_are_errors() {
    let mut state = filled().await;
    let bad = b"\x01\x02".to_vec();
    let expect = |result: Result<(), String>| {
        let error = result.unwrap_err();
        assert!(error.starts_with("cannot decode key range:"), "{error}");
    };
    expect(state.kv_del_rng(bad.clone()).await);
    expect(state.kv_keys(bad.clone()).await.map(drop));
    expect(state.kv_values(bad.clone()).await.map(drop));
    expect(state.kv_entries(bad.clone()).await.map(drop));
    expect(state.kv_count(bad).await.map(drop));
    assert_eq!(state.kv_count(all()).await.unwrap(), 4);
}

#[tokio::test]
async fn store_errors_reach_the_guest_as_messages() {
    let kv = Arc::new(MemoryKvStore::new(
        KvLimits::default().with_max_value_bytes(Some(8)),
    ));
    let env = ModuleEnv::new(meta(), Capabilities::default(), kv);
    let mut state = HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap();
    let error = state
        .kv_set("big".to_owned(), encoded(&text("a long string value")))
        .await
        .unwrap_err();
    assert!(error.starts_with("kv value for key `big` is"), "{error}");
}

#[tokio::test]
async fn instances_share_their_modules_store_and_no_other() {
    let module = |store: Arc<MemoryKvStore>| {
        Arc::new(ModuleEnv::new(meta(), Capabilities::default(), store))
    };
    let instance =
        |env: &Arc<ModuleEnv>| HostState::new(Arc::clone(env), MemoryLimiter::default()).unwrap();
    let store = Arc::new(MemoryKvStore::default());
    let one = module(Arc::clone(&store));
    // A second module with the same identity, but a store of its own.
    let other = module(Arc::new(MemoryKvStore::default()));
    let mut first = instance(&one);
    let mut second = instance(&one);
    let mut stranger = instance(&other);
    first
        .kv_set("k".to_owned(), encoded(&int(1)))
        .await
        .unwrap();
    // Another instance of the same module reads it: the host wrote to the
    // module's store, not to one of its own.
    assert_eq!(
        second.kv_get("k".to_owned()).await.unwrap(),
        Some(encoded(&int(1)))
    );
    assert_eq!(store.len(), 1);
    assert_eq!(stranger.kv_get("k".to_owned()).await.unwrap(), None);
}
