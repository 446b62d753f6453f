#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dump;
mod limits;
mod memory;
mod ranges;

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use surli_kv::{KeyRange, KvLimits, KvStore, KvValue, MemoryKvStore};

/// Runs a store future to completion on its first poll.
///
/// `MemoryKvStore` never awaits, so every call must be ready at once; a
/// pending poll would mean it yields somewhere, possibly while locked.
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory store operation yielded instead of completing"),
    }
}

fn value(bytes: &[u8]) -> KvValue {
    KvValue::from(bytes)
}

fn unlimited() -> KvLimits {
    KvLimits::default()
        .with_max_entries(None)
        .with_max_value_bytes(None)
        .with_max_bytes(None)
        .with_max_key_bytes(surli_kv::MAX_KV_KEY_BYTES)
        .with_max_read_bytes(None)
}

/// A store holding `entries`, with no limits that could get in the way.
fn store_with(entries: &[(&str, &[u8])]) -> MemoryKvStore {
    let store = MemoryKvStore::new(unlimited());
    for (key, bytes) in entries {
        ready(store.set((*key).to_owned(), value(bytes))).unwrap();
    }
    store
}

/// Everything in `store`, in key order.
fn contents(store: &dyn KvStore) -> Vec<(String, KvValue)> {
    ready(store.entries(KeyRange::all())).unwrap()
}
