//! Package reads the runtime has seen before: the same bytes become a
//! [`Package`] again from a [`PackageRecord`] instead of a full read.
//!
//! A full read decompresses and digests the whole package (about 2.5 ms
//! for the demo); a recorded one takes a BLAKE3 digest of the compressed
//! bytes and parses two small texts (about 0.1 ms). Records are held in
//! memory (a bounded number) and, with a cache directory, written beside
//! the compiled artifacts as notes, so a restarted process skips the full
//! read too. Combined with an artifact from the cache, the component's
//! bytes are then never decompressed at all.
//!
//! What a module said about itself when a load asked it (its function
//! signatures, from a probe instance) is remembered too, under the package
//! key together with everything that decides whether the module
//! instantiates (the engine flavour, the merged limits, the allocation and
//! surli's version): a later load of the same bytes under the same
//! conditions takes the answer from memory or from a note instead of
//! instantiating the module to ask again. Only answers are remembered; a
//! module that did not describe itself is asked again on every load.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;
use surli_package::{
    ExportsManifest, Package, PackageBytes, PackageError, PackageRecord, ReadOptions,
};

use crate::describe::FunctionSignature;
use crate::runtime::{Runtime, RuntimeInner};

/// What a probe instance found: the signatures, or `None` when the module
/// does not describe itself.
pub(crate) type Described = Option<Vec<FunctionSignature>>;

/// Magic and version of a description note.
const DESCRIBED_MAGIC: &[u8; 8] = b"SURLI-DS";
const DESCRIBED_VERSION: u32 = 1;

/// How many bytes of records (and as many of descriptions) a runtime keeps
/// in memory: each weighs its texts and logo.
pub(crate) const MEMORY_RECORD_BYTES: u64 = 64 << 20;

/// Records are weighed by the bytes they hold, so a bound in count cannot
/// be turned into gigabytes by large manifests.
#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<[u8; 32], Arc<PackageRecord>> for ByBytes {
    fn weight(&self, _: &[u8; 32], record: &Arc<PackageRecord>) -> u64 {
        record.weight()
    }
}

impl quick_cache::Weighter<[u8; 32], Arc<Described>> for ByBytes {
    fn weight(&self, _: &[u8; 32], described: &Arc<Described>) -> u64 {
        let signatures = described.as_deref().unwrap_or_default();
        signatures
            .iter()
            .map(FunctionSignature::weight)
            .sum::<u64>()
            + 64
    }
}

type Held<V> = Cache<[u8; 32], V, ByBytes>;

/// The records of one runtime, and what they answered.
pub(crate) struct Records {
    memory: Held<Arc<PackageRecord>>,
    described: Held<Arc<Described>>,
    descriptions_reused: AtomicU64,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    full_reads: AtomicU64,
    refused: AtomicU64,
}

impl Records {
    pub(crate) fn new() -> Self {
        Self {
            memory: Cache::with_weighter(1024, MEMORY_RECORD_BYTES, ByBytes),
            described: Cache::with_weighter(1024, MEMORY_RECORD_BYTES, ByBytes),
            descriptions_reused: AtomicU64::new(0),
            memory_hits: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
            full_reads: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }
}

/// How a runtime's package reads were answered
/// ([`Runtime::read_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadStats {
    /// Reads answered by a record held in memory.
    pub memory_hits: u64,
    /// Reads answered by a record from the cache directory.
    pub disk_hits: u64,
    /// Reads that decompressed and checked the whole package.
    pub full_reads: u64,
    /// Records and description notes found whole but not used (not a
    /// record, or not matching the bytes): a refused record is followed by
    /// a full read, a refused description by asking the module. Notes that
    /// fail their own checksum are counted in the cache's
    /// `rejected_files`.
    pub refused: u64,
    /// Records held in memory now.
    pub held: u64,
    /// Loads that took the module's signatures from an earlier load of the
    /// same package bytes instead of instantiating it to ask.
    pub descriptions_reused: u64,
}

impl Runtime {
    /// Reads a package as [`Package::from_bytes`] does, and remembers the
    /// read: when the same bytes come again under the same read options,
    /// the package is rebuilt from its record without decompressing them,
    /// and its component is decompressed only if a load must compile it.
    ///
    /// Records live in memory (the last 4,096 packages) and, with a cache
    /// directory, beside the compiled artifacts, so the next process finds
    /// them too. Packages with an attached directory or read warnings are
    /// read in full every time.
    ///
    /// # Errors
    ///
    /// Every error of [`Package::from_bytes`].
    pub fn read_package(
        &self,
        bytes: impl Into<Arc<[u8]>>,
        options: &ReadOptions,
    ) -> Result<Package, PackageError> {
        self.read_named(&PackageBytes::new(bytes, options)?)
    }

    /// Reads a package file as [`read_package`](Self::read_package) reads
    /// bytes (the name must end in `.surli`).
    ///
    /// # Errors
    ///
    /// Those of [`Package::read_file`].
    pub fn read_package_file(
        &self,
        path: impl AsRef<Path>,
        options: &ReadOptions,
    ) -> Result<Package, PackageError> {
        self.read_named(&PackageBytes::read_file(path, options)?)
    }

    /// How package reads were answered so far.
    pub fn read_stats(&self) -> ReadStats {
        let records = &self.inner.records;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        ReadStats {
            memory_hits: get(&records.memory_hits),
            disk_hits: get(&records.disk_hits),
            full_reads: get(&records.full_reads),
            refused: get(&records.refused),
            held: records.memory.len() as u64,
            descriptions_reused: get(&records.descriptions_reused),
        }
    }

    fn read_named(&self, bytes: &PackageBytes) -> Result<Package, PackageError> {
        let records = &self.inner.records;
        let cache = &self.inner.cache;
        let note = || note_name("package", bytes.key());
        if let Some(record) = records.memory.get(bytes.key()) {
            match bytes.read_recorded(&record) {
                Ok(package) => {
                    records.memory_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(package);
                }
                Err(error) => refuse(records, "memory", &error),
            }
        } else if let Some(found) = cache.read_note(&note()) {
            let rebuilt = PackageRecord::from_bytes(&found).and_then(|record| {
                let package = bytes.read_recorded(&record)?;
                Ok((record, package))
            });
            match rebuilt {
                Ok((record, package)) => {
                    records.disk_hits.fetch_add(1, Ordering::Relaxed);
                    records.memory.insert(*bytes.key(), Arc::new(record));
                    return Ok(package);
                }
                Err(error) => refuse(records, "the cache directory", &error),
            }
        }
        let package = bytes.read()?;
        records.full_reads.fetch_add(1, Ordering::Relaxed);
        if let Some(record) = package.record() {
            cache.write_note(&note(), &record.to_bytes());
            records.memory.insert(*bytes.key(), Arc::new(record));
        }
        Ok(package)
    }
}

impl RuntimeInner {
    /// Forgets the record of `key`, in memory and on disk: its component
    /// did not read back as the record said, so the next read of those
    /// bytes reads them in full.
    pub(crate) fn forget_record(&self, key: &[u8; 32]) {
        self.records.memory.remove(key);
        self.cache.remove_note(&note_name("package", key));
        self.records.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// What an earlier load of the package with record key `key` learnt
    /// from its probe instance: from memory, or from a note in the cache
    /// directory.
    pub(crate) fn known_description(&self, key: &[u8; 32]) -> Option<Arc<Described>> {
        let records = &self.records;
        let found = records.described.get(key).or_else(|| {
            let note = self.cache.read_note(&note_name("described", key))?;
            match decode_described(&note) {
                Ok(described) => {
                    let described = Arc::new(described);
                    records.described.insert(*key, Arc::clone(&described));
                    Some(described)
                }
                Err(reason) => {
                    records.refused.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        "not using a module description note ({reason}); asking the module"
                    );
                    None
                }
            }
        })?;
        records.descriptions_reused.fetch_add(1, Ordering::Relaxed);
        Some(found)
    }

    /// Keeps what a probe instance found for the next load of the same
    /// package bytes.
    pub(crate) fn remember_description(&self, key: &[u8; 32], described: &Described) {
        if let Some(note) = encode_described(described) {
            self.cache.write_note(&note_name("described", key), &note);
        }
        self.records
            .described
            .insert(*key, Arc::new(described.clone()));
    }
}

/// The key a module's description is kept under: the package's record key,
/// and what decides whether the module instantiates as it did when it was
/// asked.
pub(crate) fn description_key(
    package: &[u8; 32],
    flavour: surli_engine::Flavour,
    limits: &surli_config::EffectiveLimits,
    allocation: surli_engine::Allocation,
    snapshot: bool,
) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key("surli 2026-12 module description key v1");
    hasher.update(package);
    let conditions = format!(
        "{}|{flavour:?}|{limits:?}|{allocation:?}|snapshot={snapshot}",
        env!("CARGO_PKG_VERSION")
    );
    hasher.update(conditions.as_bytes());
    *hasher.finalize().as_bytes()
}

/// The name of a note about `key`.
fn note_name(kind: &str, key: &[u8; 32]) -> String {
    format!("{kind}-{}", hex::encode(key))
}

/// The note: magic, version, whether the module described itself, then
/// the signatures as the `exports.toml` text the official tool writes
/// (their FlatBuffers bytes in hex).
fn encode_described(described: &Described) -> Option<Vec<u8>> {
    let text = match described {
        Some(signatures) => match crate::describe::exports_manifest(signatures).to_toml() {
            Ok(text) => text,
            Err(error) => {
                tracing::debug!("cannot keep a module's description: {error}");
                return None;
            }
        },
        None => String::new(),
    };
    let mut note = Vec::with_capacity(13 + text.len());
    note.extend_from_slice(DESCRIBED_MAGIC);
    note.extend_from_slice(&DESCRIBED_VERSION.to_le_bytes());
    note.push(u8::from(described.is_some()));
    note.extend_from_slice(text.as_bytes());
    Some(note)
}

fn decode_described(note: &[u8]) -> Result<Described, String> {
    let rest = note
        .strip_prefix(DESCRIBED_MAGIC.as_slice())
        .ok_or("it does not start with the description magic")?;
    let (version, rest) = rest.split_at_checked(4).ok_or("it is cut short")?;
    if version != DESCRIBED_VERSION.to_le_bytes() {
        return Err("it was written by another version of surli".to_owned());
    }
    let (&flag, text) = rest.split_first().ok_or("it is cut short")?;
    match flag {
        0 if text.is_empty() => Ok(None),
        1 => {
            let text = std::str::from_utf8(text).map_err(|_| "its text is not UTF-8")?;
            let manifest = ExportsManifest::parse(text).map_err(|e| e.to_string())?;
            manifest
                .functions
                .iter()
                .map(FunctionSignature::from_export)
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
                .map_err(|e| e.to_string())
        }
        _ => Err("its flag is neither 0 nor 1".to_owned()),
    }
}

fn refuse(records: &Records, from: &str, error: &PackageError) {
    records.refused.fetch_add(1, Ordering::Relaxed);
    tracing::warn!("not using a package record from {from} ({error}); reading in full");
}
