use crate::KvError;
use crate::memory::to_u64;

/// The longest key, in UTF-8 bytes, that `set` and `set_batch` accept by
/// default.
///
/// Long enough for hierarchical keys such as `cache::user::42::preferences`,
/// short enough that keys stay cheap to compare and to copy out.
pub const MAX_KV_KEY_BYTES: usize = 1024;

/// The default for [`KvLimits::max_read_bytes`]: 64 MiB.
const DEFAULT_MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

/// The limits one module's key-value store enforces.
///
/// Each store gets its own `KvLimits` when it is created and keeps them for
/// its whole life. Limits are checked before anything changes, so an
/// operation that breaks one leaves the store as it was and returns a
/// [`KvError`](crate::KvError) naming the limit.
///
/// Build one from the defaults and override what you need:
///
/// ```
/// use surli_kv::KvLimits;
///
/// let limits = KvLimits::default()
///     .with_max_entries(Some(10_000))
///     .with_max_value_bytes(Some(64 * 1024));
/// assert_eq!(limits.max_key_bytes, surli_kv::MAX_KV_KEY_BYTES);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KvLimits {
    /// The most entries (distinct keys) the store may hold.
    ///
    /// Only writes that add a key are checked, so overwriting an existing
    /// key is always allowed, even when the store is full. A `set_batch`
    /// counts the distinct keys it would add and is refused as a whole if
    /// they do not fit.
    ///
    /// Together with `max_key_bytes` and `max_value_bytes` this bounds the
    /// memory one module's store can take: roughly
    /// `max_entries * (max_key_bytes + max_value_bytes)` plus per-entry map
    /// overhead of a few dozen bytes. Set it whenever modules are not fully
    /// trusted; leave it unset only when something else bounds the module.
    ///
    /// Default: `None` (no limit), as in the original Surrealism runtime.
    pub max_entries: Option<u64>,

    /// The largest value, in bytes of its encoded form, that `set` and
    /// `set_batch` accept.
    ///
    /// The size is the length of the bytes the guest handed over, which is
    /// exactly what the store keeps, so checking it costs nothing. Values
    /// at the limit are accepted; one byte more is refused.
    ///
    /// Lower it to bound memory per entry; raise or unset it for modules
    /// that cache large documents.
    ///
    /// Default: `None` (no limit), as in the original Surrealism runtime.
    pub max_value_bytes: Option<u64>,

    /// The most bytes the store may hold in all: the UTF-8 bytes of every
    /// key plus the encoded bytes of every value.
    ///
    /// Every write that would take the store past it is refused whole with
    /// [`KvError::StoreFull`](crate::KvError::StoreFull), before anything
    /// changes; overwriting a key with a value no larger than the one it
    /// replaces, and every delete, always succeed. This is the bound on the
    /// memory a module's store takes: `max_entries` and `max_value_bytes`
    /// alone would let it reach their product.
    ///
    /// Only payload bytes are counted, not the map's per-entry overhead of a
    /// few dozen bytes (which `max_entries` bounds).
    ///
    /// Default: `None` (no limit), as in the original Surrealism runtime; a
    /// runtime builds each module's store with its effective `max_kv_bytes`
    /// (64 MiB under the default server limits).
    pub max_bytes: Option<u64>,

    /// The longest key, in UTF-8 bytes (not characters), that `set` and
    /// `set_batch` accept.
    ///
    /// Only writes are checked: a read, `exists` or delete with a longer key
    /// is not an error, it simply finds nothing, since no such key can have
    /// been stored.
    ///
    /// Keys are compared on every lookup and copied out by range reads, so
    /// long keys cost on every operation, not only in memory. There is
    /// rarely a reason to change it.
    ///
    /// Default: [`MAX_KV_KEY_BYTES`] (1024).
    pub max_key_bytes: usize,

    /// The most bytes one read may return: the key bytes plus value bytes of
    /// the result of `keys`, `values`, `entries` or `get_batch`.
    ///
    /// A read that would go over is refused with
    /// [`KvError::ReadTooLarge`](crate::KvError::ReadTooLarge), never cut
    /// short, so one call cannot make the host copy (and then encode into
    /// guest memory) the whole store at once; the guest pages through a
    /// large range instead. `count` and `del_range` return no data and are
    /// not limited. The store stops walking the range as soon as the limit
    /// is passed, so a refused read costs no more than the limit.
    ///
    /// Only payload bytes are counted, not the per-item overhead of the
    /// returned vectors; `max_entries` bounds how many items there can be.
    ///
    /// Lower it when many modules share a host and a burst of large reads
    /// could exhaust memory; unset it only for trusted modules.
    ///
    /// Default: `Some(64 MiB)`.
    pub max_read_bytes: Option<u64>,
}

impl KvLimits {
    /// These limits with `max_entries` set to `max_entries`.
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: Option<u64>) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// These limits with `max_value_bytes` set to `max_value_bytes`.
    #[must_use]
    pub fn with_max_value_bytes(mut self, max_value_bytes: Option<u64>) -> Self {
        self.max_value_bytes = max_value_bytes;
        self
    }

    /// These limits with `max_bytes` set to `max_bytes`.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: Option<u64>) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// These limits with `max_key_bytes` set to `max_key_bytes`.
    #[must_use]
    pub fn with_max_key_bytes(mut self, max_key_bytes: usize) -> Self {
        self.max_key_bytes = max_key_bytes;
        self
    }

    /// These limits with `max_read_bytes` set to `max_read_bytes`.
    #[must_use]
    pub fn with_max_read_bytes(mut self, max_read_bytes: Option<u64>) -> Self {
        self.max_read_bytes = max_read_bytes;
        self
    }
}

impl Default for KvLimits {
    fn default() -> Self {
        Self {
            max_entries: None,
            max_value_bytes: None,
            max_bytes: None,
            max_key_bytes: MAX_KV_KEY_BYTES,
            max_read_bytes: Some(DEFAULT_MAX_READ_BYTES),
        }
    }
}

impl KvLimits {
    /// Refuses a key longer than [`max_key_bytes`](Self::max_key_bytes), as
    /// `set` and `set_batch` must before anything changes.
    ///
    /// # Errors
    ///
    /// [`KvError::KeyTooLong`].
    pub fn check_key(&self, key: &str) -> Result<(), KvError> {
        if key.len() > self.max_key_bytes {
            return Err(KvError::KeyTooLong {
                len: key.len(),
                limit: self.max_key_bytes,
            });
        }
        Ok(())
    }

    /// Refuses a store of `would_be` bytes (keys and values together) when it
    /// is over [`max_bytes`](Self::max_bytes).
    ///
    /// # Errors
    ///
    /// [`KvError::StoreFull`].
    pub fn check_total(&self, would_be: u64) -> Result<(), KvError> {
        match self.max_bytes {
            Some(limit) if would_be > limit => Err(KvError::StoreFull { would_be, limit }),
            _ => Ok(()),
        }
    }

    /// The bytes `key` and `value` count against
    /// [`max_bytes`](Self::max_bytes).
    pub fn entry_bytes(key: &str, value: &[u8]) -> u64 {
        to_u64(key.len()).saturating_add(to_u64(value.len()))
    }

    /// Refuses a value larger than [`max_value_bytes`](Self::max_value_bytes)
    /// for `key`.
    ///
    /// # Errors
    ///
    /// [`KvError::ValueTooLarge`].
    pub fn check_value(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        if let Some(limit) = self.max_value_bytes {
            let size = to_u64(value.len());
            if size > limit {
                return Err(KvError::ValueTooLarge {
                    key: key.to_owned(),
                    size,
                    limit,
                });
            }
        }
        Ok(())
    }
}
