//! The FlatBuffers payloads of the plugin boundary, decoded and encoded
//! without ever panicking.
//!
//! These are the functions of the `surli-codec` crate, which holds the
//! guard (every decoder runs under [`std::panic::catch_unwind`], because
//! `surrealdb-types` panics on some verified yet inconsistent messages),
//! with this crate's error: a failure is [`HostError::Decode`] or
//! [`HostError::Encode`], naming what was being decoded or encoded. The
//! codec lives in a crate of its own so it can be fuzzed without building
//! wasmtime.

use std::ops::Bound;

use surli_kv::KeyRange;
use surrealdb_types::{Kind, Value};

use crate::HostError;

/// Encodes call arguments for `invoke` (a FlatBuffers `ValueList`).
pub fn encode_args(args: &[Value]) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_args(args)?)
}

/// Decodes call arguments (a `ValueList`), as `run` receives them.
pub fn decode_args(bytes: &[u8]) -> Result<Vec<Value>, HostError> {
    Ok(surli_codec::decode_args(bytes)?)
}

/// Encodes one value (a FlatBuffers `Value`).
pub fn encode_value(value: &Value) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_value(value)?)
}

/// Decodes one value, such as the result of `invoke`.
pub fn decode_value(bytes: &[u8]) -> Result<Value, HostError> {
    Ok(surli_codec::decode_value(bytes)?)
}

/// Decodes the named parameters `function-args` returns (an
/// `ArgumentList`).
pub fn decode_arguments(bytes: &[u8]) -> Result<Vec<(String, Kind)>, HostError> {
    Ok(surli_codec::decode_arguments(bytes)?)
}

/// Decodes the kind `function-returns` returns.
pub fn decode_kind(bytes: &[u8]) -> Result<Kind, HostError> {
    Ok(surli_codec::decode_kind(bytes)?)
}

/// Decodes name and value pairs (a `StringKeyValueList`): `sql` variables
/// and `kv-set-batch` entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<(String, Value)>, HostError> {
    Ok(surli_codec::decode_entries(bytes)?)
}

/// Encodes name and value pairs (a `StringKeyValueList`).
pub fn encode_entries(entries: &[(String, Value)]) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_entries(entries)?)
}

/// Encodes a list of values (a `ValueList`), as `kv-values` returns.
pub fn encode_values(values: &[Value]) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_values(values)?)
}

/// Encodes a list of optional values (an `OptionalValueList`), as
/// `kv-get-batch` returns.
pub fn encode_optional_values(values: &[Option<Value>]) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_optional_values(values)?)
}

/// Decodes a key range (a `StringRange`).
pub fn decode_range(bytes: &[u8]) -> Result<KeyRange, HostError> {
    let (start, end) = surli_codec::decode_range(bytes)?;
    Ok(KeyRange::new(start, end))
}

/// Encodes a key range (a `StringRange`), as a guest sends it.
pub fn encode_range(start: &Bound<String>, end: &Bound<String>) -> Result<Vec<u8>, HostError> {
    Ok(surli_codec::encode_range(start, end)?)
}
