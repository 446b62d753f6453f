//! The FlatBuffers payloads of the plugin boundary, decoded and encoded
//! without ever panicking.
//!
//! Everything goes through `surrealdb-types`, the encoding the guest SDK
//! uses. Its decoders run the FlatBuffers verifier first, but some of them
//! still panic on verified yet inconsistent input (a value whose type tag
//! says "string" with the string missing reaches an `expect`). Bytes from a
//! guest are hostile input, so every call here runs under
//! [`std::panic::catch_unwind`] and a panic becomes
//! [`HostError::Decode`] (or [`HostError::Encode`]). The panic is still
//! reported by the process's panic hook (by default a line on standard
//! error); nothing is left half-done, since these functions only build new
//! values.

use std::ops::Bound;
use std::panic::{self, AssertUnwindSafe};

use surli_kv::KeyRange;
use surrealdb_types::{Kind, Value};

use crate::HostError;

/// Runs `f`, turning an error or a panic into a message.
fn guarded<T, E: std::fmt::Display>(f: impl FnOnce() -> Result<T, E>) -> Result<T, String> {
    // The closures only read their input and build fresh values, so there
    // is no broken state to observe after a panic.
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{error:#}")),
        Err(panic) => Err(panic_message(panic.as_ref())),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("malformed FlatBuffers message ({detail})")
}

fn decode<T, E: std::fmt::Display>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, HostError> {
    guarded(f).map_err(|message| HostError::Decode { what, message })
}

fn encode<T, E: std::fmt::Display>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, HostError> {
    guarded(f).map_err(|message| HostError::Encode { what, message })
}

/// Encodes call arguments for `invoke` (a FlatBuffers `ValueList`).
pub fn encode_args(args: &[Value]) -> Result<Vec<u8>, HostError> {
    encode("arguments", || surrealdb_types::encode_value_list(args))
}

/// Decodes call arguments (a `ValueList`), as `run` receives them.
pub fn decode_args(bytes: &[u8]) -> Result<Vec<Value>, HostError> {
    decode("arguments", || surrealdb_types::decode_value_list(bytes))
}

/// Encodes one value (a FlatBuffers `Value`).
pub fn encode_value(value: &Value) -> Result<Vec<u8>, HostError> {
    encode("value", || surrealdb_types::encode(value))
}

/// Decodes one value, such as the result of `invoke`.
pub fn decode_value(bytes: &[u8]) -> Result<Value, HostError> {
    decode("value", || surrealdb_types::decode::<Value>(bytes))
}

/// Decodes the named parameters `function-args` returns (an
/// `ArgumentList`).
pub fn decode_arguments(bytes: &[u8]) -> Result<Vec<(String, Kind)>, HostError> {
    decode("function parameters", || {
        surrealdb_types::decode_argument_list(bytes)
    })
}

/// Decodes the kind `function-returns` returns.
pub fn decode_kind(bytes: &[u8]) -> Result<Kind, HostError> {
    decode("kind", || surrealdb_types::decode_kind(bytes))
}

/// Decodes name and value pairs (a `StringKeyValueList`): `sql` variables
/// and `kv-set-batch` entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<(String, Value)>, HostError> {
    decode("entries", || {
        surrealdb_types::decode_string_key_values(bytes)
    })
}

/// Encodes name and value pairs (a `StringKeyValueList`).
pub fn encode_entries(entries: &[(String, Value)]) -> Result<Vec<u8>, HostError> {
    encode("entries", || {
        surrealdb_types::encode_string_key_values(entries)
    })
}

/// Encodes a list of values (a `ValueList`), as `kv-values` returns.
pub fn encode_values(values: &[Value]) -> Result<Vec<u8>, HostError> {
    encode("values", || surrealdb_types::encode_value_list(values))
}

/// Encodes a list of optional values (an `OptionalValueList`), as
/// `kv-get-batch` returns.
pub fn encode_optional_values(values: &[Option<Value>]) -> Result<Vec<u8>, HostError> {
    encode("values", || surrealdb_types::encode_optional_values(values))
}

/// Decodes a key range (a `StringRange`).
pub fn decode_range(bytes: &[u8]) -> Result<KeyRange, HostError> {
    decode("key range", || surrealdb_types::decode_string_range(bytes))
        .map(|(start, end)| KeyRange::new(start, end))
}

/// Encodes a key range (a `StringRange`), as a guest sends it.
pub fn encode_range(start: &Bound<String>, end: &Bound<String>) -> Result<Vec<u8>, HostError> {
    encode("key range", || {
        surrealdb_types::encode_string_range(start, end)
    })
}
