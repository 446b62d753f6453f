//! Bytes from a guest are hostile: no decoding host function may panic,
//! and none may reach the context or the store with them.

use flatbuffers::{FlatBufferBuilder, WIPOffset};
use proptest::prelude::*;
use surli_host::bindings::surrealism::plugin::host::Host;
use surli_host::codec;

use crate::{in_call, permissive};

/// `ValueType::String` in the `fb::v1` schema.
const VALUE_TYPE_STRING: u8 = 6;
/// Field slots (vtable offsets) of the tables built here.
const VALUE_TYPE_SLOT: u16 = 4;
const VALUE_SLOT: u16 = 6;
const FIRST_SLOT: u16 = 4;
const SECOND_SLOT: u16 = 6;

/// A `Value` whose type says "string" and whose `StringValue` has no
/// string. It passes the FlatBuffers verifier, and `surrealdb-types`
/// answers it with a panic (`expect("String value is guaranteed to be
/// present")`).
fn stringless_value(
    fbb: &mut FlatBufferBuilder<'_>,
) -> WIPOffset<flatbuffers::TableFinishedWIPOffset> {
    let start = fbb.start_table();
    let string_value = fbb.end_table(start);
    let start = fbb.start_table();
    fbb.push_slot_always(VALUE_SLOT, string_value);
    fbb.push_slot::<u8>(VALUE_TYPE_SLOT, VALUE_TYPE_STRING, 0);
    fbb.end_table(start)
}

fn hostile_value() -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let value = stringless_value(&mut fbb);
    fbb.finish(value, None);
    fbb.finished_data().to_vec()
}

/// A `ValueList` (`{ values: [Value] }`) holding the hostile value.
fn hostile_value_list() -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let value = stringless_value(&mut fbb);
    let values = fbb.create_vector(&[value]);
    let start = fbb.start_table();
    fbb.push_slot_always(FIRST_SLOT, values);
    let list = fbb.end_table(start);
    fbb.finish(list, None);
    fbb.finished_data().to_vec()
}

/// A `StringKeyValueList` (`{ entries: [{ key, value }] }`) holding the
/// hostile value under the key `k`.
fn hostile_entries() -> Vec<u8> {
    let mut fbb = FlatBufferBuilder::new();
    let key = fbb.create_string("k");
    let value = stringless_value(&mut fbb);
    let start = fbb.start_table();
    fbb.push_slot_always(FIRST_SLOT, key);
    fbb.push_slot_always(SECOND_SLOT, value);
    let entry = fbb.end_table(start);
    let entries = fbb.create_vector(&[entry]);
    let start = fbb.start_table();
    fbb.push_slot_always(FIRST_SLOT, entries);
    let list = fbb.end_table(start);
    fbb.finish(list, None);
    fbb.finished_data().to_vec()
}

#[test]
fn the_hostile_value_really_panics_surrealdb_types() {
    // The guard below is only proven if the unguarded decoder panics.
    let bytes = hostile_value();
    let outcome = std::panic::catch_unwind(|| {
        let _ = surrealdb_types::decode::<surrealdb_types::Value>(&bytes);
    });
    assert!(outcome.is_err(), "surrealdb-types no longer panics here");
    let list = hostile_value_list();
    assert!(std::panic::catch_unwind(|| surrealdb_types::decode_value_list(&list)).is_err());
    let entries = hostile_entries();
    assert!(
        std::panic::catch_unwind(|| surrealdb_types::decode_string_key_values(&entries)).is_err()
    );
}

#[test]
fn codec_turns_a_decoder_panic_into_an_error() {
    let error = codec::decode_value(&hostile_value()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot decode value: malformed FlatBuffers message ("),
        "{error}"
    );
    assert!(codec::decode_args(&hostile_value_list()).is_err());
    assert!(codec::decode_entries(&hostile_entries()).is_err());
}

#[tokio::test]
async fn hostile_bytes_are_errors_in_every_host_function() {
    let (mut state, ctx) = in_call(permissive(), "f");
    assert!(state.kv_set("k".to_owned(), hostile_value()).await.is_err());
    assert!(state.kv_set_batch(hostile_entries()).await.is_err());
    assert!(
        state
            .sql("RETURN $k".to_owned(), hostile_entries())
            .await
            .is_err()
    );
    assert!(
        state
            .run("fn::x".to_owned(), None, hostile_value_list())
            .await
            .is_err()
    );
    assert!(ctx.seen().is_empty());
    assert!(!state.kv_exists("k".to_owned()).await.unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_a_host_function(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let (mut state, _ctx) = in_call(permissive(), "f");
            let _ = state.sql("RETURN 1".to_owned(), bytes.clone()).await;
            let _ = state.run("fn::x".to_owned(), None, bytes.clone()).await;
            let _ = state.kv_set("k".to_owned(), bytes.clone()).await;
            let _ = state.kv_set_batch(bytes.clone()).await;
            let _ = state.kv_del_rng(bytes.clone()).await;
            let _ = state.kv_keys(bytes.clone()).await;
            let _ = state.kv_values(bytes.clone()).await;
            let _ = state.kv_entries(bytes.clone()).await;
            let _ = state.kv_count(bytes.clone()).await;
        });
    }

    #[test]
    fn random_bytes_never_panic_the_codec(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = codec::decode_value(&bytes);
        let _ = codec::decode_args(&bytes);
        let _ = codec::decode_arguments(&bytes);
        let _ = codec::decode_kind(&bytes);
        let _ = codec::decode_entries(&bytes);
        let _ = codec::decode_range(&bytes);
    }
}
