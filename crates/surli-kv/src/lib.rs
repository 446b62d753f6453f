//! The per-module key-value store behind surli's `kv-*` host functions.
//!
//! A Surrealism plugin keeps state between calls in a small key-value store
//! of its own, through the host functions `kv-get`, `kv-set`, `kv-del`,
//! `kv-exists`, `kv-del-rng`, `kv-get-batch`, `kv-set-batch`,
//! `kv-del-batch`, `kv-keys`, `kv-values`, `kv-entries` and `kv-count`. This
//! crate is that store: the [`KvStore`] trait the host functions call, and
//! [`MemoryKvStore`], the in-memory implementation. The host layer owns the
//! wasm side (reading arguments out of guest memory, decoding, encoding);
//! this crate knows nothing about wasm or SurrealDB values.
//!
//! Each module gets its own store instance. Isolation between modules comes
//! from that alone: keys carry no module prefix, and nothing stops two
//! modules handed the same store from seeing each other's keys.
//!
//! # Values are stored as the guest's bytes
//!
//! A value arrives from the guest as a FlatBuffers-encoded SurrealDB value,
//! and a guest that reads it back wants those same bytes. So the store keeps
//! the encoded bytes untouched, as a [`KvValue`] (`Arc<[u8]>`), and never
//! decodes them. `get`, the hot path, clones an `Arc` under a read lock: no
//! copy of the value and no re-encoding. The value-size limit is the length
//! of those bytes, so checking it is free. The original Surrealism runtime
//! stored decoded values instead, and so re-encoded a value on every `get`
//! and on every size check.
//!
//! # Ranges never panic
//!
//! Range operations take a [`KeyRange`] with the bounds of
//! [`BTreeMap::range`](std::collections::BTreeMap::range). That method
//! panics when the start lies after the end, or when both ends are the
//! same excluded key. The bounds come from the guest, and the original
//! runtime passed them straight through, so a plugin could panic the host.
//! Here such a range is empty: reads return nothing, `count` returns 0 and
//! `del_range` deletes nothing (see [`KeyRange::is_empty_or_inverted`]).
//!
//! # Limits
//!
//! Each store enforces its own [`KvLimits`], before changing anything:
//!
//! - key length ([`KvLimits::max_key_bytes`], default [`MAX_KV_KEY_BYTES`]),
//!   checked when writing;
//! - value size ([`KvLimits::max_value_bytes`]) and entry count
//!   ([`KvLimits::max_entries`]), as in the original runtime;
//! - bytes returned by one range read or `get_batch`
//!   ([`KvLimits::max_read_bytes`], default 64 MiB), which the original did
//!   not have: without it one call could make the host copy the whole store
//!   into guest memory. A read over it is an error, never a silent
//!   truncation.
//!
//! Batches are all-or-nothing: a `set_batch` that breaks a limit on any
//! entry stores none of them.
//!
//! # Keeping a store in a file
//!
//! [`KvDump`] reads every entry of a store and writes it as a JSON document
//! (values as hex), and restores such a document into a store as one batch,
//! under that store's limits. Local tools use it to keep a module's state
//! between runs; a server wants a durable [`KvStore`] instead.
//!
//! # Example
//!
//! ```
//! use std::ops::Bound;
//! use std::sync::Arc;
//!
//! use surli_kv::{KeyRange, KvError, KvLimits, KvStore, KvValue, MemoryKvStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), KvError> {
//! let limits = KvLimits::default().with_max_entries(Some(1000));
//! let store: Arc<dyn KvStore> = Arc::new(MemoryKvStore::new(limits));
//!
//! // The host stores whatever bytes the guest encoded.
//! let encoded: KvValue = Arc::from(&b"\x10\x00\x00\x00"[..]);
//! store.set("user:1".to_owned(), encoded.clone()).await?;
//! store.set("user:2".to_owned(), encoded.clone()).await?;
//! assert_eq!(store.get("user:1").await?, Some(encoded));
//!
//! let users = KeyRange::new(Bound::Included("user:".into()), Bound::Excluded("user;".into()));
//! assert_eq!(store.keys(users.clone()).await?, ["user:1", "user:2"]);
//! assert_eq!(store.del_range(users).await?, 2);
//!
//! // An inverted range is empty rather than a panic.
//! let inverted = KeyRange::new(Bound::Included("z".into()), Bound::Included("a".into()));
//! assert_eq!(store.count(inverted).await?, 0);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod budget;
mod dump;
mod error;
mod limits;
mod memory;
mod range;
mod store;

pub use budget::ReadBudget;
pub use dump::{KvDump, KvDumpError};
pub use error::KvError;
pub use limits::{KvLimits, MAX_KV_KEY_BYTES};
pub use memory::MemoryKvStore;
pub use range::KeyRange;
pub use store::KvStore;

/// A stored value: the guest's encoded bytes, shared rather than copied.
///
/// The store never looks inside. Cloning one is a reference-count bump, which
/// is why a `get` costs no copy of the value.
pub type KvValue = std::sync::Arc<[u8]>;
