//! The FlatBuffers payloads of the `surrealism:plugin` boundary, decoded
//! and encoded without ever panicking.
//!
//! Everything goes through `surrealdb-types`, the encoding the guest SDK
//! uses. Its decoders run the FlatBuffers verifier first, but some of them
//! still panic on verified yet inconsistent input (a value whose type tag
//! says "string" with the string missing reaches an `expect`). Bytes from a
//! guest are hostile input, so every function here runs under
//! [`std::panic::catch_unwind`] and a panic becomes a [`CodecError`]. The
//! panic is still reported by the process's panic hook (by default a line on
//! standard error); nothing is left half-done, since these functions only
//! build new values.
//!
//! This crate is the whole of that guard and nothing else: it depends on
//! `surrealdb-types`, the `flatbuffers` and `surrealdb-protocol` crates it
//! builds on (for the argument encoder's reused builder, [`encode_args`]),
//! `anyhow` and `thiserror` only, so it can be fuzzed (`fuzz/`, target
//! `host_decoders`) without building a WebAssembly runtime.
//! `surli-host` calls it for every buffer a guest hands a host function and
//! re-exports the same functions as `surli_host::codec`, with its own error
//! type.
//!
//! # The decoders, and who calls them
//!
//! | function | message | bytes from |
//! |---|---|---|
//! | [`decode_args`] | `ValueList` | a guest's `run` arguments |
//! | [`decode_value`] | `Value` | a guest's `kv-set` value, `invoke`'s result |
//! | [`decode_entries`] | `StringKeyValueList` | a guest's `sql` variables and `kv-set-batch` entries |
//! | [`decode_range`] | `StringRange` | a guest's `kv-*-range` / `kv-keys` / `kv-values` / `kv-entries` range |
//! | [`decode_arguments`] | `ArgumentList` | a guest's `function-args`, `exports.toml`'s `args` |
//! | [`decode_kind`] | `Kind` | a guest's `function-returns`, `exports.toml`'s `returns` |
//!
//! # Architecture Invariant
//!
//! No input makes a function here panic past its guard or abort: every
//! failure is a [`CodecError`] naming what was being decoded or encoded.
//!
//! # API Boundary
//!
//! Bytes in, `surrealdb-types` values out, and the reverse. No I/O, no
//! WebAssembly, no knowledge of host functions.
#![deny(missing_docs)]

use std::ops::Bound;
use std::panic::{self, AssertUnwindSafe};

use surrealdb_types::{Kind, Value};
use thiserror::Error;

/// A payload that could not be decoded or encoded.
///
/// Exhaustive on purpose: a codec fails in one of two directions, and
/// `surli-host` maps each to a variant of its own error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// Bytes did not decode as the FlatBuffers message expected, or made
    /// the decoder panic.
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded, such as `value` or `key range`.
        what: &'static str,
        /// Why it failed, from `surrealdb-types` (or its panic message).
        message: String,
    },

    /// A value could not be encoded.
    #[error("cannot encode {what}: {message}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why it failed, from `surrealdb-types` (or its panic message).
        message: String,
    },
}

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
) -> Result<T, CodecError> {
    guarded(f).map_err(|message| CodecError::Decode { what, message })
}

fn encode<T, E: std::fmt::Display>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, CodecError> {
    guarded(f).map_err(|message| CodecError::Encode { what, message })
}

/// Encodes call arguments for `invoke` (a FlatBuffers `ValueList`).
///
/// The same bytes as `surrealdb_types::encode_value_list` (each value is
/// encoded by that crate's own `to_fb`), built in a builder kept per thread
/// and reused: a call's arguments then cost one allocation (the answer)
/// instead of a builder grown by `realloc` several times and freed. Under
/// glibc those `realloc`s and `free`s take a malloc arena's lock, and two
/// threads encoding at once slept on it (docs/PERFORMANCE.md, the
/// concurrency tail).
pub fn encode_args(args: &[Value]) -> Result<Vec<u8>, CodecError> {
    encode("arguments", || encode_value_list_reusing(args))
}

/// A builder at most this large is kept for the thread's next encoding; a
/// larger one (after a large argument) is let go, so a thread never holds
/// more than this between calls.
const KEPT_BUILDER_BYTES: usize = 64 * 1024;

thread_local! {
    static BUILDER: std::cell::RefCell<flatbuffers::FlatBufferBuilder<'static>> =
        std::cell::RefCell::new(flatbuffers::FlatBufferBuilder::with_capacity(1024));
}

fn encode_value_list_reusing(values: &[Value]) -> anyhow::Result<Vec<u8>> {
    BUILDER.with(|cell| {
        // Only a panic inside an earlier encoding on this thread, caught by
        // `guarded`, could leave it borrowed; encode afresh then.
        let Ok(mut fbb) = cell.try_borrow_mut() else {
            return surrealdb_types::encode_value_list(values);
        };
        fbb.reset();
        let encoded = value_list_into(&mut fbb, values).map(|()| fbb.finished_data().to_vec());
        // The whole buffer the builder grew to, written or not.
        if fbb.mut_finished_buffer().0.len() > KEPT_BUILDER_BYTES {
            *fbb = flatbuffers::FlatBufferBuilder::with_capacity(1024);
        }
        encoded
    })
}

/// Writes `values` as a finished `ValueList` into `fbb`, as
/// `surrealdb_types::encode_value_list` does.
fn value_list_into(
    fbb: &mut flatbuffers::FlatBufferBuilder<'static>,
    values: &[Value],
) -> anyhow::Result<()> {
    use surrealdb_protocol::fb::v1 as proto;
    use surrealdb_types::ToFlatbuffers as _;
    let offsets = values
        .iter()
        .map(|value| value.to_fb(fbb))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let list = fbb.create_vector(&offsets);
    let root = proto::ValueList::create(fbb, &proto::ValueListArgs { values: Some(list) });
    fbb.finish(root, None);
    Ok(())
}

/// Decodes call arguments (a `ValueList`), as `run` receives them.
pub fn decode_args(bytes: &[u8]) -> Result<Vec<Value>, CodecError> {
    decode("arguments", || surrealdb_types::decode_value_list(bytes))
}

/// Encodes one value (a FlatBuffers `Value`).
pub fn encode_value(value: &Value) -> Result<Vec<u8>, CodecError> {
    encode("value", || surrealdb_types::encode(value))
}

/// Decodes one value, such as the result of `invoke`.
pub fn decode_value(bytes: &[u8]) -> Result<Value, CodecError> {
    decode("value", || surrealdb_types::decode::<Value>(bytes))
}

/// Decodes the named parameters `function-args` returns (an
/// `ArgumentList`).
pub fn decode_arguments(bytes: &[u8]) -> Result<Vec<(String, Kind)>, CodecError> {
    decode("function parameters", || {
        surrealdb_types::decode_argument_list(bytes)
    })
}

/// Decodes the kind `function-returns` returns.
pub fn decode_kind(bytes: &[u8]) -> Result<Kind, CodecError> {
    decode("kind", || surrealdb_types::decode_kind(bytes))
}

/// Decodes name and value pairs (a `StringKeyValueList`): `sql` variables
/// and `kv-set-batch` entries.
pub fn decode_entries(bytes: &[u8]) -> Result<Vec<(String, Value)>, CodecError> {
    decode("entries", || {
        surrealdb_types::decode_string_key_values(bytes)
    })
}

/// Encodes name and value pairs (a `StringKeyValueList`).
pub fn encode_entries(entries: &[(String, Value)]) -> Result<Vec<u8>, CodecError> {
    encode("entries", || {
        surrealdb_types::encode_string_key_values(entries)
    })
}

/// Encodes a list of values (a `ValueList`), as `kv-values` returns.
pub fn encode_values(values: &[Value]) -> Result<Vec<u8>, CodecError> {
    encode("values", || surrealdb_types::encode_value_list(values))
}

/// Encodes a list of optional values (an `OptionalValueList`), as
/// `kv-get-batch` returns.
pub fn encode_optional_values(values: &[Option<Value>]) -> Result<Vec<u8>, CodecError> {
    encode("values", || surrealdb_types::encode_optional_values(values))
}

/// Decodes a key range (a `StringRange`) into its start and end bounds.
pub fn decode_range(bytes: &[u8]) -> Result<(Bound<String>, Bound<String>), CodecError> {
    decode("key range", || surrealdb_types::decode_string_range(bytes))
}

/// Encodes a key range (a `StringRange`), as a guest sends it.
pub fn encode_range(start: &Bound<String>, end: &Bound<String>) -> Result<Vec<u8>, CodecError> {
    encode("key range", || {
        surrealdb_types::encode_string_range(start, end)
    })
}
