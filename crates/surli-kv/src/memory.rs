use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use async_trait::async_trait;
use parking_lot::RwLock;

use crate::{KeyRange, KvError, KvLimits, KvStore, KvValue, ReadBudget};

/// A [`KvStore`] held in process memory: a `BTreeMap<String, KvValue>`
/// behind a [`parking_lot::RwLock`].
///
/// Its contents live as long as the store does and are lost when it is
/// dropped (on host restart or when the module is unloaded). Create one per
/// module; modules never share a store.
///
/// Reads take the lock shared and writes take it exclusively, each for one
/// whole operation, so a batch is atomic with respect to every other
/// operation. No method awaits anything, so the lock is never held across
/// an `.await`. A `get` copies no value bytes: it clones an [`Arc`](std::sync::Arc).
pub struct MemoryKvStore {
    limits: KvLimits,
    map: RwLock<Entries>,
}

/// The entries, and the bytes of their keys and values together, kept in
/// step under one lock so that `max_bytes` is checked against the truth.
#[derive(Default)]
struct Entries {
    map: BTreeMap<String, KvValue>,
    bytes: u64,
}

impl Entries {
    /// Stores `value` under `key`, keeping `bytes` true.
    fn insert(&mut self, key: String, value: KvValue) {
        let new_value = to_u64(value.len());
        let key_bytes = to_u64(key.len());
        match self.map.insert(key, value) {
            // The key was counted when it was first stored.
            Some(old) => {
                self.bytes = self
                    .bytes
                    .saturating_sub(to_u64(old.len()))
                    .saturating_add(new_value);
            }
            None => {
                self.bytes = self
                    .bytes
                    .saturating_add(key_bytes.saturating_add(new_value))
            }
        }
    }

    /// Removes `key`, keeping `bytes` true.
    fn remove(&mut self, key: &str) {
        if let Some((key, value)) = self.map.remove_entry(key) {
            self.forget(&key, &value);
        }
    }

    fn forget(&mut self, key: &str, value: &[u8]) {
        self.bytes = self.bytes.saturating_sub(KvLimits::entry_bytes(key, value));
    }

    /// The bytes the store would hold after writing `entries`, later entries
    /// for the same key winning as they do when written.
    fn bytes_after(&self, entries: &[(String, KvValue)]) -> u64 {
        let mut last: HashMap<&str, &KvValue> = HashMap::with_capacity(entries.len());
        for (key, value) in entries {
            last.insert(key.as_str(), value);
        }
        let mut total = self.bytes;
        for (key, value) in last {
            total = match self.map.get(key) {
                Some(old) => total.saturating_sub(to_u64(old.len())),
                None => total.saturating_add(to_u64(key.len())),
            }
            .saturating_add(to_u64(value.len()));
        }
        total
    }
}

impl MemoryKvStore {
    /// An empty store that enforces `limits`.
    pub fn new(limits: KvLimits) -> Self {
        Self {
            limits,
            map: RwLock::new(Entries::default()),
        }
    }

    /// The limits this store enforces.
    pub fn limits(&self) -> &KvLimits {
        &self.limits
    }

    /// How many entries the store holds.
    pub fn len(&self) -> usize {
        self.map.read().map.len()
    }

    /// The bytes the store holds: its keys' UTF-8 bytes and its values'
    /// encoded bytes, as [`KvLimits::max_bytes`] counts them.
    pub fn bytes(&self) -> u64 {
        self.map.read().bytes
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.map.read().map.is_empty()
    }

    fn check_entry_count(&self, current: usize, adding: usize) -> Result<(), KvError> {
        if let Some(limit) = self.limits.max_entries {
            let would_be = to_u64(current).saturating_add(to_u64(adding));
            if would_be > limit {
                return Err(KvError::TooManyEntries { would_be, limit });
            }
        }
        Ok(())
    }

    fn read_budget(&self) -> ReadBudget {
        ReadBudget::new(self.limits.max_read_bytes)
    }
}

impl Default for MemoryKvStore {
    /// An empty store with [`KvLimits::default`].
    fn default() -> Self {
        Self::new(KvLimits::default())
    }
}

// The contents are left out: a store can hold many megabytes of guest data,
// none of which belongs in a log line.
impl fmt::Debug for MemoryKvStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryKvStore")
            .field("limits", &self.limits)
            .field("len", &self.len())
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KvStore for MemoryKvStore {
    async fn get(&self, key: &str) -> Result<Option<KvValue>, KvError> {
        Ok(self.map.read().map.get(key).cloned())
    }

    async fn set(&self, key: String, value: KvValue) -> Result<(), KvError> {
        self.limits.check_key(&key)?;
        self.limits.check_value(&key, &value)?;
        let mut entries = self.map.write();
        let old = entries.map.get(&key).map(|old| to_u64(old.len()));
        if old.is_none() {
            self.check_entry_count(entries.map.len(), 1)?;
        }
        let added = match old {
            Some(old) => to_u64(value.len()).saturating_sub(old),
            None => KvLimits::entry_bytes(&key, &value),
        };
        if added > 0 {
            self.limits
                .check_total(entries.bytes.saturating_add(added))?;
        }
        entries.insert(key, value);
        Ok(())
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        self.map.write().remove(key);
        Ok(())
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.map.read().map.contains_key(key))
    }

    async fn del_range(&self, range: KeyRange) -> Result<u64, KvError> {
        // `extract_if`, unlike `range`, currently finds nothing in an
        // inverted range rather than panicking, but std does not promise
        // that, and the guest controls the bounds. Checking first also
        // spares an exclusive lock for a delete that cannot delete anything.
        if range.is_empty_or_inverted() {
            return Ok(0);
        }
        let mut entries = self.map.write();
        let removed: Vec<_> = entries
            .map
            .extract_if(range.into_bounds(), |_, _| true)
            .collect();
        for (key, value) in &removed {
            entries.forget(key, value);
        }
        Ok(to_u64(removed.len()))
    }

    async fn get_batch(&self, keys: &[String]) -> Result<Vec<Option<KvValue>>, KvError> {
        let mut budget = self.read_budget();
        let stored = self.map.read();
        let map = &stored.map;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let value = map.get(key).cloned();
            if let Some(value) = &value {
                budget.charge(value.len())?;
            }
            found.push(value);
        }
        Ok(found)
    }

    async fn set_batch(&self, entries: Vec<(String, KvValue)>) -> Result<(), KvError> {
        for (key, value) in &entries {
            self.limits.check_key(key)?;
            self.limits.check_value(key, value)?;
        }
        let mut stored = self.map.write();
        let new_keys = entries
            .iter()
            .map(|(key, _)| key.as_str())
            .filter(|key| !stored.map.contains_key(*key))
            .collect::<HashSet<_>>()
            .len();
        self.check_entry_count(stored.map.len(), new_keys)?;
        let after = stored.bytes_after(&entries);
        if after > stored.bytes {
            self.limits.check_total(after)?;
        }
        for (key, value) in entries {
            stored.insert(key, value);
        }
        Ok(())
    }

    async fn del_batch(&self, keys: &[String]) -> Result<(), KvError> {
        let mut entries = self.map.write();
        for key in keys {
            entries.remove(key);
        }
        Ok(())
    }

    async fn keys(&self, range: KeyRange) -> Result<Vec<String>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let mut budget = self.read_budget();
        let stored = self.map.read();
        let map = &stored.map;
        let mut keys = Vec::new();
        for key in map.range(range.into_bounds()).map(|(key, _)| key) {
            budget.charge(key.len())?;
            keys.push(key.clone());
        }
        Ok(keys)
    }

    async fn values(&self, range: KeyRange) -> Result<Vec<KvValue>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let mut budget = self.read_budget();
        let stored = self.map.read();
        let map = &stored.map;
        let mut values = Vec::new();
        for value in map.range(range.into_bounds()).map(|(_, value)| value) {
            budget.charge(value.len())?;
            values.push(KvValue::clone(value));
        }
        Ok(values)
    }

    async fn entries(&self, range: KeyRange) -> Result<Vec<(String, KvValue)>, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(Vec::new());
        }
        let mut budget = self.read_budget();
        let stored = self.map.read();
        let map = &stored.map;
        let mut entries = Vec::new();
        for (key, value) in map.range(range.into_bounds()) {
            budget.charge(key.len().saturating_add(value.len()))?;
            entries.push((key.clone(), KvValue::clone(value)));
        }
        Ok(entries)
    }

    async fn count(&self, range: KeyRange) -> Result<u64, KvError> {
        if range.is_empty_or_inverted() {
            return Ok(0);
        }
        let stored = self.map.read();
        let map = &stored.map;
        Ok(to_u64(map.range(range.into_bounds()).count()))
    }

    fn resident_bytes(&self) -> Option<u64> {
        Some(self.bytes())
    }
}

// `usize` is at most 64 bits on every target Rust supports, so this never
// saturates; it only avoids a bare `as` cast.
pub(crate) fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
