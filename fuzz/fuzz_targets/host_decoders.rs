//! Guest bytes into every decoder of `surli-codec`, the functions behind
//! `surli_host::codec` that each host function runs on what a guest hands
//! it, and the re-encoding the host does with what they return.
//!
//! Contract: no panic escapes the codec. `surrealdb-types` does panic on
//! some verified but inconsistent messages, and the codec catches those
//! with `catch_unwind` by design; that is the behaviour under test, so
//! caught panics are not crashes here.
//!
//! # Panics under libFuzzer
//!
//! cargo-fuzz builds with unwinding (it passes no `-Cpanic=abort`), but
//! libfuzzer-sys installs a panic hook that calls `abort` before any
//! unwinding, so under its hook `catch_unwind` would never get to catch
//! anything and every caught decoder panic would count as a crash. The
//! `init` below replaces that hook with one that only counts panics (and
//! shows the first and then every power-of-two-th), and the body runs
//! under a `catch_unwind` of its own that aborts, with the panic's message,
//! when a panic gets past the codec: exactly the failures the contract
//! forbids, and only those, are crashes.
//!
//! Besides decoding, the body checks what the host relies on afterwards:
//! `kv-set-batch` stores the re-encoding of each decoded value and later
//! reads decode those stored bytes (a failure there would surface as "kv
//! store holds an unreadable value"), and a decoded key range re-encodes to
//! the same range.
#![no_main]

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;

static CAUGHT: AtomicU64 = AtomicU64::new(0);

fn count_panics_instead_of_aborting() {
    panic::set_hook(Box::new(|info| {
        let seen = CAUGHT.fetch_add(1, Ordering::Relaxed) + 1;
        if seen.is_power_of_two() {
            eprintln!("host_decoders: {seen} panics so far inside the codec guard; latest: {info}");
        }
    }));
}

fn message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message")
}

/// A value the host re-encoded must decode again, as a later read does.
fn reencodes(value: &surrealdb_types::Value) {
    if let Ok(bytes) = surli_codec::encode_value(value) {
        if let Err(error) = surli_codec::decode_value(&bytes) {
            panic!("a decoded value re-encodes to bytes that do not decode: {error}");
        }
    }
}

fn decode_everything(data: &[u8]) {
    // kv-set, and the result of invoke.
    if let Ok(value) = surli_codec::decode_value(data) {
        reencodes(&value);
    }
    // run's arguments.
    let _ = surli_codec::decode_args(data);
    // sql's variables and kv-set-batch's entries.
    if let Ok(entries) = surli_codec::decode_entries(data) {
        for (_, value) in &entries {
            reencodes(value);
        }
    }
    // Every kv range function.
    if let Ok((start, end)) = surli_codec::decode_range(data) {
        match surli_codec::encode_range(&start, &end) {
            Ok(bytes) => assert_eq!(
                surli_codec::decode_range(&bytes),
                Ok((start, end)),
                "a key range does not survive its re-encoding"
            ),
            Err(error) => panic!("a decoded key range cannot be encoded: {error}"),
        }
    }
    // function-args and function-returns, and exports.toml's signatures.
    let _ = surli_codec::decode_arguments(data);
    let _ = surli_codec::decode_kind(data);
}

fuzz_target!(init: count_panics_instead_of_aborting(), |data: &[u8]| {
    if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| decode_everything(data))) {
        eprintln!(
            "host_decoders: a panic escaped the codec: {}",
            message(panic.as_ref())
        );
        std::process::abort();
    }
});
