use thiserror::Error;

/// Why a key-value operation was refused.
///
/// Every variant is a refusal the guest can act on (shorten a key, shrink a
/// value, delete entries, read less at once), except [`KvError::Backend`],
/// which reports a failure of the storage behind the store. A refused
/// operation has changed nothing.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KvError {
    /// A `set` or `set_batch` named a key longer than
    /// [`KvLimits::max_key_bytes`](crate::KvLimits::max_key_bytes).
    ///
    /// The key itself is left out of the message on purpose: it is the one
    /// thing known to be too long to print.
    #[error("kv key is {len} bytes, over the limit of {limit} bytes; use a shorter key")]
    KeyTooLong {
        /// The length of the key, in UTF-8 bytes.
        len: usize,
        /// The limit it broke.
        limit: usize,
    },

    /// A `set` or `set_batch` carried a value whose encoded form is larger
    /// than [`KvLimits::max_value_bytes`](crate::KvLimits::max_value_bytes).
    #[error(
        "kv value for key `{key}` is {size} bytes, over the module's limit of {limit} bytes; \
         store a smaller value or split it across keys"
    )]
    ValueTooLarge {
        /// The key the value was meant for.
        key: String,
        /// The size of the encoded value, in bytes.
        size: u64,
        /// The limit it broke.
        limit: u64,
    },

    /// A `set` or `set_batch` would have added keys past
    /// [`KvLimits::max_entries`](crate::KvLimits::max_entries).
    #[error(
        "kv store would hold {would_be} entries, over the module's limit of {limit}; \
         delete entries that are no longer needed"
    )]
    TooManyEntries {
        /// How many entries the store would have held after the write.
        would_be: u64,
        /// The limit it broke.
        limit: u64,
    },

    /// A `set` or `set_batch` would have taken the store past
    /// [`KvLimits::max_bytes`](crate::KvLimits::max_bytes), its keys' and
    /// values' bytes together.
    #[error(
        "kv store would hold {would_be} bytes of keys and values, over the module's limit of \
         {limit} bytes; delete entries that are no longer needed or store smaller values"
    )]
    StoreFull {
        /// The bytes the store would have held after the write.
        would_be: u64,
        /// The limit it broke.
        limit: u64,
    },

    /// A range read or `get_batch` would have returned more than
    /// [`KvLimits::max_read_bytes`](crate::KvLimits::max_read_bytes).
    ///
    /// The read is refused whole rather than cut short, so a guest never
    /// mistakes a truncated answer for the full one.
    #[error(
        "kv read would return more than {limit} bytes, over the module's limit for one read; \
         narrow the range or page through it with keys, or fetch fewer keys per batch"
    )]
    ReadTooLarge {
        /// The limit it broke.
        limit: u64,
    },

    /// The storage behind a [`KvStore`](crate::KvStore) failed, for example
    /// a durable store whose database refused a transaction.
    ///
    /// [`MemoryKvStore`](crate::MemoryKvStore) never returns it.
    #[error("kv backend failed: {0}")]
    Backend(String),
}
