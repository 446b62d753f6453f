//! The per-module KV store, in 0.6.5's shape: values are SurrealDB values.
//!
//! [`BTreeMapStore`] keeps them in surli's in-memory store (encoded bytes in
//! a `BTreeMap`), so it has surli's guards: a range whose start lies past its
//! end reads as empty instead of panicking, and one read returns at most
//! 64 MiB.

use std::ops::Bound;
use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use surli::kv::{KeyRange, KvLimits, KvStore as _, KvValue, MemoryKvStore};
use surrealdb_types::Value;

/// The longest key, in bytes.
pub const MAX_KV_KEY_BYTES: usize = 1024;

/// A module's key-value store, as the `kv-*` host functions see it.
#[async_trait]
pub trait KVStore: Send + Sync {
    /// The value under `key`.
    async fn get(&self, key: String) -> Result<Option<Value>>;
    /// Stores `value` under `key`.
    async fn set(&self, key: String, value: Value) -> Result<()>;
    /// Removes `key`.
    async fn del(&self, key: String) -> Result<()>;
    /// Whether `key` holds a value.
    async fn exists(&self, key: String) -> Result<bool>;

    /// Removes every key between `start` and `end`.
    async fn del_rng(&self, start: Bound<String>, end: Bound<String>) -> Result<()>;

    /// The values under `keys`, position by position.
    async fn get_batch(&self, keys: Vec<String>) -> Result<Vec<Option<Value>>>;
    /// Stores every entry, all or nothing.
    async fn set_batch(&self, entries: Vec<(String, Value)>) -> Result<()>;
    /// Removes every key in `keys`.
    async fn del_batch(&self, keys: Vec<String>) -> Result<()>;

    /// The keys between `start` and `end`, in order.
    async fn keys(&self, start: Bound<String>, end: Bound<String>) -> Result<Vec<String>>;
    /// The values between `start` and `end`, in key order.
    async fn values(&self, start: Bound<String>, end: Bound<String>) -> Result<Vec<Value>>;
    /// The entries between `start` and `end`, in key order.
    async fn entries(
        &self,
        start: Bound<String>,
        end: Bound<String>,
    ) -> Result<Vec<(String, Value)>>;
    /// How many keys lie between `start` and `end`.
    async fn count(&self, start: Bound<String>, end: Bound<String>) -> Result<u64>;
}

/// The in-memory store a runtime gives each module, with optional limits
/// on its entry count and on each encoded value's size.
pub struct BTreeMapStore {
    inner: Arc<MemoryKvStore>,
}

impl std::fmt::Debug for BTreeMapStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BTreeMapStore")
            .field("entries", &self.inner.len())
            .field("limits", self.inner.limits())
            .finish()
    }
}

impl BTreeMapStore {
    /// An empty store without entry or value limits (keys are still held to
    /// [`MAX_KV_KEY_BYTES`]).
    pub fn new() -> Self {
        Self::with_limits(None, None)
    }

    /// An empty store holding at most `max_entries` keys, each value
    /// encoding to at most `max_value_bytes`.
    pub fn with_limits(max_entries: Option<usize>, max_value_bytes: Option<usize>) -> Self {
        Self::bounded(max_entries, max_value_bytes, None)
    }

    /// [`with_limits`](Self::with_limits), also holding the keys' and
    /// values' bytes together to `max_bytes`: the store a runtime gives its
    /// module (0.6.5's API has no way to say it, so surli's ceiling holds).
    pub(crate) fn bounded(
        max_entries: Option<usize>,
        max_value_bytes: Option<usize>,
        max_bytes: Option<u64>,
    ) -> Self {
        let widen = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        Self {
            inner: Arc::new(MemoryKvStore::new(
                KvLimits::default()
                    .with_max_entries(max_entries.map(widen))
                    .with_max_value_bytes(max_value_bytes.map(widen))
                    .with_max_bytes(max_bytes)
                    .with_max_key_bytes(MAX_KV_KEY_BYTES),
            )),
        }
    }

    /// The store as surli's byte-valued store, for the guest's `kv-*`
    /// calls: the same entries, no conversion.
    pub(crate) fn shared(&self) -> Arc<MemoryKvStore> {
        Arc::clone(&self.inner)
    }
}

impl Default for BTreeMapStore {
    fn default() -> Self {
        Self::new()
    }
}

fn encode(value: &Value) -> Result<KvValue> {
    Ok(KvValue::from(surli::codec::encode_value(value)?))
}

fn decode(bytes: &[u8]) -> Result<Value> {
    Ok(surli::codec::decode_value(bytes)?)
}

fn range(start: Bound<String>, end: Bound<String>) -> KeyRange {
    KeyRange::new(start, end)
}

#[async_trait]
impl KVStore for BTreeMapStore {
    async fn get(&self, key: String) -> Result<Option<Value>> {
        self.inner.get(&key).await?.map(|v| decode(&v)).transpose()
    }

    async fn set(&self, key: String, value: Value) -> Result<()> {
        Ok(self.inner.set(key, encode(&value)?).await?)
    }

    async fn del(&self, key: String) -> Result<()> {
        Ok(self.inner.del(&key).await?)
    }

    async fn exists(&self, key: String) -> Result<bool> {
        Ok(self.inner.exists(&key).await?)
    }

    async fn del_rng(&self, start: Bound<String>, end: Bound<String>) -> Result<()> {
        self.inner.del_range(range(start, end)).await?;
        Ok(())
    }

    async fn get_batch(&self, keys: Vec<String>) -> Result<Vec<Option<Value>>> {
        self.inner
            .get_batch(&keys)
            .await?
            .iter()
            .map(|v| v.as_deref().map(decode).transpose())
            .collect()
    }

    async fn set_batch(&self, entries: Vec<(String, Value)>) -> Result<()> {
        let entries = entries
            .into_iter()
            .map(|(key, value)| Ok((key, encode(&value)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(self.inner.set_batch(entries).await?)
    }

    async fn del_batch(&self, keys: Vec<String>) -> Result<()> {
        Ok(self.inner.del_batch(&keys).await?)
    }

    async fn keys(&self, start: Bound<String>, end: Bound<String>) -> Result<Vec<String>> {
        Ok(self.inner.keys(range(start, end)).await?)
    }

    async fn values(&self, start: Bound<String>, end: Bound<String>) -> Result<Vec<Value>> {
        self.inner
            .values(range(start, end))
            .await?
            .iter()
            .map(|v| decode(v))
            .collect()
    }

    async fn entries(
        &self,
        start: Bound<String>,
        end: Bound<String>,
    ) -> Result<Vec<(String, Value)>> {
        self.inner
            .entries(range(start, end))
            .await?
            .into_iter()
            .map(|(key, v)| Ok((key, decode(&v)?)))
            .collect()
    }

    async fn count(&self, start: Bound<String>, end: Bound<String>) -> Result<u64> {
        Ok(self.inner.count(range(start, end)).await?)
    }
}
