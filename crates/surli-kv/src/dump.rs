//! A store's contents as a JSON document, so that a module's KV can
//! outlive one process in local tools (`surli call --kv-file`).
//!
//! The document keeps each value as the guest's encoded bytes in hex, since
//! the store never decodes values. A writer may add a human-readable
//! `note` to each entry (the `surli` CLI writes the value in SurrealQL);
//! readers ignore it, so editing a note changes nothing.
//!
//! ```json
//! {
//!   "format": "surli-kv",
//!   "version": 1,
//!   "entries": [
//!     { "key": "counter", "value": "0c00…", "note": "5" }
//!   ]
//! }
//! ```

use serde::{Deserialize, Serialize};

use crate::{KeyRange, KvError, KvStore, KvValue};

const FORMAT: &str = "surli-kv";
const VERSION: u32 = 1;

/// Every entry of a store at one moment, in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvDump {
    entries: Vec<(String, KvValue)>,
}

/// Why a KV document could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KvDumpError {
    /// The text is not JSON of the expected shape.
    #[error("not a surli KV document: {message}")]
    Malformed {
        /// What the JSON reader said, with line and column.
        message: String,
    },
    /// The document says it is something else, or a version this build
    /// does not read.
    #[error(
        "unsupported KV document: format `{format}` version {version}; \
         this build reads format `surli-kv` version 1"
    )]
    Unsupported {
        /// The `format` field found.
        format: String,
        /// The `version` field found.
        version: u32,
    },
    /// An entry's value is not hex.
    #[error("entry `{key}`: the value is not hex ({message})")]
    BadValue {
        /// The entry's key.
        key: String,
        /// What is wrong with the hex.
        message: String,
    },
    /// A key appears twice, so one of the values would be lost.
    #[error("key `{key}` appears more than once")]
    DuplicateKey {
        /// The repeated key.
        key: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    version: u32,
    entries: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    key: String,
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl KvDump {
    /// A dump of the given entries, sorted by key. A later entry for the
    /// same key wins, as in a `set_batch`.
    pub fn new(entries: impl IntoIterator<Item = (String, KvValue)>) -> Self {
        let map: std::collections::BTreeMap<String, KvValue> = entries.into_iter().collect();
        Self {
            entries: map.into_iter().collect(),
        }
    }

    /// Reads every entry of `store`.
    ///
    /// # Errors
    ///
    /// Whatever the store's `entries` refuses, e.g. [`KvError::ReadTooLarge`]
    /// when the store holds more than one read may return.
    pub async fn from_store(store: &dyn KvStore) -> Result<Self, KvError> {
        Ok(Self::new(store.entries(KeyRange::all()).await?))
    }

    /// Writes every entry into `store` as one batch: all or nothing, under
    /// the store's limits.
    ///
    /// # Errors
    ///
    /// The store's refusal (a key too long, a value too large, too many
    /// entries); the store is then unchanged.
    pub async fn restore_into(&self, store: &dyn KvStore) -> Result<(), KvError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        store.set_batch(self.entries.clone()).await
    }

    /// The entries, in key order.
    pub fn entries(&self) -> &[(String, KvValue)] {
        &self.entries
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The JSON document, pretty-printed. `note` gives each value's
    /// human-readable form, or `None` to write no note.
    pub fn to_json(&self, note: impl Fn(&[u8]) -> Option<String>) -> String {
        let document = Document {
            format: FORMAT.to_owned(),
            version: VERSION,
            entries: self
                .entries
                .iter()
                .map(|(key, value)| Entry {
                    key: key.clone(),
                    value: hex::encode(value),
                    note: note(value),
                })
                .collect(),
        };
        // Strings, numbers and vectors only: serialising cannot fail.
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a document written by [`KvDump::to_json`] (or by hand).
    ///
    /// # Errors
    ///
    /// [`KvDumpError`] naming what is wrong; nothing is guessed.
    pub fn from_json(text: &str) -> Result<Self, KvDumpError> {
        let document: Document =
            serde_json::from_str(text).map_err(|error| KvDumpError::Malformed {
                message: error.to_string(),
            })?;
        if document.format != FORMAT || document.version != VERSION {
            return Err(KvDumpError::Unsupported {
                format: document.format,
                version: document.version,
            });
        }
        let mut seen = std::collections::BTreeMap::new();
        for entry in document.entries {
            let bytes = hex::decode(entry.value.trim()).map_err(|error| KvDumpError::BadValue {
                key: entry.key.clone(),
                message: error.to_string(),
            })?;
            if seen.contains_key(&entry.key) {
                return Err(KvDumpError::DuplicateKey { key: entry.key });
            }
            seen.insert(entry.key, KvValue::from(bytes));
        }
        Ok(Self {
            entries: seen.into_iter().collect(),
        })
    }
}
