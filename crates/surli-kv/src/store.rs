use std::fmt::Debug;

use async_trait::async_trait;

use crate::{KeyRange, KvError, KvValue};

/// One module's key-value store, as the `kv-*` host functions see it.
///
/// The host keeps one store per loaded module and hands it around as
/// `Arc<dyn KvStore>`; isolation between modules comes from that, not from
/// anything inside the store (keys carry no module prefix). The in-memory
/// implementation is [`MemoryKvStore`](crate::MemoryKvStore); a durable
/// store backed by a database implements this same trait.
///
/// # Contract for implementations
///
/// - **Values are opaque.** They are the guest's encoded bytes. Store them
///   as given and return the same bytes; never decode, re-encode or
///   normalise them.
/// - **Order.** Keys are ordered byte-wise, by their UTF-8 bytes (the order
///   of `String`'s `Ord`, and of a `BTreeMap<String, _>`). `keys`, `values`
///   and `entries` return results in ascending key order.
/// - **Ranges.** A [`KeyRange`] means what the same bounds mean to
///   `BTreeMap::range`, except that a range for which
///   [`KeyRange::is_empty_or_inverted`] holds is empty: reads return
///   nothing, `count` returns 0, `del_range` deletes nothing. Such a range
///   is never an error and must never panic; the bounds come from the
///   guest.
/// - **Limits.** Enforce the store's [`KvLimits`](crate::KvLimits), checked
///   before anything changes:
///   - `set` checks the key length, then the value size, then, only when
///     the key is new, the entry count;
///   - `set_batch` checks the key length and value size of every entry,
///     then counts the distinct keys it would add and checks the entry
///     count once;
///   - `keys`, `values`, `entries` and `get_batch` refuse with
///     [`KvError::ReadTooLarge`] a result larger than `max_read_bytes`
///     instead of truncating it;
///   - `get`, `exists` and the deletes check no limits: a key too long to
///     have been stored is simply not found.
/// - **Batches are all-or-nothing.** A `set_batch` or `del_batch` that fails
///   changes nothing, and other operations see either none or all of it.
///   Within one `set_batch`, a later entry for the same key wins.
/// - **Missing keys are not errors.** Deleting a key that is not there, or
///   a range that holds nothing, succeeds.
/// - **No lock across an await.** An implementation that guards shared
///   state with a blocking lock must release it before awaiting, or it
///   stalls every other task on the same worker thread.
/// - **Errors.** Refuse with the matching [`KvError`] variant; report
///   failures of the underlying storage as [`KvError::Backend`].
#[async_trait]
pub trait KvStore: Send + Sync + Debug {
    /// The value stored under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<KvValue>, KvError>;

    /// Stores `value` under `key`, replacing any value already there.
    ///
    /// # Errors
    ///
    /// [`KvError::KeyTooLong`], [`KvError::ValueTooLarge`] or, when `key` is
    /// new, [`KvError::TooManyEntries`]; the store is then unchanged.
    async fn set(&self, key: String, value: KvValue) -> Result<(), KvError>;

    /// Removes `key` and its value. Removing a missing key succeeds.
    async fn del(&self, key: &str) -> Result<(), KvError>;

    /// Whether a value is stored under `key`.
    async fn exists(&self, key: &str) -> Result<bool, KvError>;

    /// Removes every key in `range` and returns how many there were.
    ///
    /// Not limited by `max_read_bytes`: it returns no data.
    async fn del_range(&self, range: KeyRange) -> Result<u64, KvError>;

    /// The values stored under `keys`, position by position; `None` where a
    /// key holds nothing. A key may appear more than once.
    ///
    /// # Errors
    ///
    /// [`KvError::ReadTooLarge`] when the values found add up to more than
    /// `max_read_bytes` (a repeated key counts each time).
    async fn get_batch(&self, keys: &[String]) -> Result<Vec<Option<KvValue>>, KvError>;

    /// Stores every entry, all or nothing; a later entry for the same key
    /// wins.
    ///
    /// # Errors
    ///
    /// [`KvError::KeyTooLong`] or [`KvError::ValueTooLarge`] for the first
    /// entry that breaks a limit, or [`KvError::TooManyEntries`] when the
    /// distinct new keys do not fit; the store is then unchanged.
    async fn set_batch(&self, entries: Vec<(String, KvValue)>) -> Result<(), KvError>;

    /// Removes every key in `keys`, all or nothing. Missing keys are skipped.
    async fn del_batch(&self, keys: &[String]) -> Result<(), KvError>;

    /// The keys in `range`, in ascending order.
    ///
    /// # Errors
    ///
    /// [`KvError::ReadTooLarge`] when the keys add up to more than
    /// `max_read_bytes`.
    async fn keys(&self, range: KeyRange) -> Result<Vec<String>, KvError>;

    /// The values in `range`, in ascending key order.
    ///
    /// # Errors
    ///
    /// [`KvError::ReadTooLarge`] when the values add up to more than
    /// `max_read_bytes`.
    async fn values(&self, range: KeyRange) -> Result<Vec<KvValue>, KvError>;

    /// The key-value pairs in `range`, in ascending key order.
    ///
    /// # Errors
    ///
    /// [`KvError::ReadTooLarge`] when the keys and values together add up
    /// to more than `max_read_bytes`.
    async fn entries(&self, range: KeyRange) -> Result<Vec<(String, KvValue)>, KvError>;

    /// How many keys `range` holds.
    ///
    /// Not limited by `max_read_bytes`: it returns no data.
    async fn count(&self, range: KeyRange) -> Result<u64, KvError>;

    /// The bytes of this process's memory the store's data takes, when the
    /// store keeps its data in memory; `None` (the default) for a store
    /// whose data lives elsewhere (on disk, in a database). A module
    /// registry weighs modules by it. Must be cheap: no I/O, no await.
    fn resident_bytes(&self) -> Option<u64> {
        None
    }
}
