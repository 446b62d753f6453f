//! Compiled components kept in memory and on disk, so a module compiles
//! once per machine instead of on every load.
//!
//! # Keys
//!
//! An artifact is found by the SHA-256 of the component's bytes, the
//! engine's precompile compatibility hash (wasmtime's own summary of the
//! compiler, its version and every setting that changes the machine code)
//! and the engine's flavour. A different wasmtime, CPU feature set or
//! configuration therefore looks for a different file, and never loads an
//! artifact compiled for another.
//!
//! # Files are verified before wasmtime sees them
//!
//! Loading a compiled artifact is `unsafe` in wasmtime: it is machine code,
//! trusted as it is. So every file is wasmtime's artifact followed by a
//! trailer surli wrote:
//!
//! | bytes | field |
//! |---|---|
//! | n | the artifact, as `Component::serialize` made it |
//! | 8 | magic `SURLI-CC` |
//! | 4 | format version (little endian) |
//! | 32 | SHA-256 of the component |
//! | 32 | SHA-256 of the engine's compatibility hash |
//! | 1 | flavour (0 guarded, 1 fast) |
//! | 8 | artifact length `n` (little endian) |
//! | 4 | CRC-32 of the artifact |
//!
//! and the file is handed to wasmtime only when the magic, the version,
//! the key, the length and the checksum all match (and wasmtime's own
//! checks pass). A truncated, corrupt or foreign file is rejected, logged,
//! counted, and replaced by a fresh compile. The checksum catches
//! accidents, not attacks: **the cache directory must not be writable by
//! anyone the host does not trust**, since whoever can write it can choose
//! the machine code surli runs. On Unix surli checks this itself before it
//! reads or writes a file there: it creates the directory owner-only
//! (`0700`), and it refuses a directory that another user owns or that its
//! group or others may write. A refused directory is not used at all: the
//! cache keeps compiled components in memory only, logs a warning once and
//! says why in [`CacheStats::dir_refused`].
//!
//! The trailer sits after the artifact, not before it, so that wasmtime can
//! map the file itself (`Component::deserialize_file`): the artifact's
//! pages are shared with the page cache and fault in as the code runs,
//! instead of being copied into fresh memory on every load (about 1.4 ms
//! for the demo's 4 MB artifact on the benchmark machine). On Unix the
//! file surli verified is checked to be the one wasmtime mapped (same
//! device and inode); elsewhere the verified bytes are loaded from memory.
//! surli never changes a cache file in place: a file that is mapped stays
//! as it was verified.
//!
//! Files are written to a temporary name in the same directory and renamed
//! into place, so a reader sees a whole file or none, even when two
//! processes compile the same component at once (both write the same
//! bytes; the last rename wins).
//!
//! # In memory
//!
//! Within a process, the first load of a component compiles it and every
//! later load (on the same engine) shares the result. Concurrent first
//! loads wait for the one compile instead of each doing it.
//!
//! What the cache holds in memory is bounded in bytes (the size of each
//! component's compiled code; [`ArtifactCache::DEFAULT_MEMORY_BYTES`] unless
//! [`with_memory_limit`](ArtifactCache::with_memory_limit) says otherwise):
//! past the bound, the components least recently loaded are forgotten
//! first, and [`forget`](ArtifactCache::forget) drops one on request. A
//! forgotten component's code stays alive for as long as a module loaded
//! from it does; the cache only stops holding it, so its next load reads
//! the disk or compiles.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use lru::LruCache;
use parking_lot::Mutex;
use sha2::{Digest as _, Sha256};
use wasmtime::component::Component;

use crate::{EngineError, Flavour, SurliEngine};

const MAGIC: &[u8; 8] = b"SURLI-CC";
/// 1 put the header before the artifact; 2 puts it after, as a trailer.
const FORMAT: u32 = 2;
const TRAILER_LEN: usize = 8 + 4 + 32 + 32 + 1 + 8 + 4;
/// How much of a file is checksummed at a time: one buffer, reused, so a
/// verification touches no fresh memory.
#[cfg(not(unix))]
const VERIFY_CHUNK: usize = 256 * 1024;
/// How often a read starts over when the file changed under it (another
/// process replacing it with the same artifact).
const READ_ATTEMPTS: usize = 3;

/// Where a compiled component came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArtifactSource {
    /// Compiled earlier in this process, on the same engine.
    Memory,
    /// Read from the cache directory.
    Disk,
    /// Compiled now (and written to the cache directory, if there is one).
    #[default]
    Compiled,
}

/// A compiled component and how it was obtained.
#[derive(Clone)]
pub struct Cached {
    /// The component, ready to instantiate on the engine it was asked for.
    pub component: Component,
    /// Where it came from.
    pub source: ArtifactSource,
    /// The size of its serialized artifact, when known (a disk hit or a
    /// compile that was written out).
    pub artifact_bytes: Option<u64>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached")
            .field("source", &self.source)
            .field("artifact_bytes", &self.artifact_bytes)
            .finish_non_exhaustive()
    }
}

/// What a cache has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Loads answered from memory.
    pub memory_hits: u64,
    /// Loads answered from the cache directory.
    pub disk_hits: u64,
    /// Loads that compiled.
    pub misses: u64,
    /// Files found but refused (truncated, corrupt, foreign) and replaced.
    pub rejected_files: u64,
    /// Bytes of artifacts read from disk.
    pub bytes_read: u64,
    /// Bytes of artifacts written to disk.
    pub bytes_written: u64,
    /// Artifacts that could not be written (the load still succeeded).
    pub write_errors: u64,
    /// Why the cache directory is not used, when it was refused (another
    /// user owns it, or others may write it): the cache then works in
    /// memory only. `None` while the directory is trusted or not yet looked
    /// at, and for a cache without one.
    pub dir_refused: Option<String>,
    /// Bytes of compiled code held in memory now.
    pub memory_bytes: u64,
    /// Components forgotten to keep the memory bound.
    pub evictions: u64,
    /// Notes read from the cache directory ([`ArtifactCache::read_note`]).
    pub notes_read: u64,
    /// Notes written to the cache directory.
    pub notes_written: u64,
}

#[derive(Default)]
struct Counters {
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    misses: AtomicU64,
    rejected_files: AtomicU64,
    bytes_read: AtomicU64,
    bytes_written: AtomicU64,
    write_errors: AtomicU64,
    evictions: AtomicU64,
    notes_read: AtomicU64,
    notes_written: AtomicU64,
}

/// One slot per (engine, component): the lock is held while the first
/// load compiles, so concurrent loads of the same component wait for it.
type Slot = Arc<Mutex<Option<(Component, Option<u64>)>>>;

/// The slots in least-recently-loaded order, with the bytes each filled
/// one holds (0 while its first load is still compiling).
struct Slots {
    lru: LruCache<(u64, [u8; 32]), (Slot, u64)>,
    bytes: u64,
    limit: u64,
}

/// A cache of compiled components: always in memory, and on disk when
/// given a directory. Share one per process (or per runtime); it is
/// `Send + Sync`.
pub struct ArtifactCache {
    dir: Option<PathBuf>,
    /// Whether `dir` may be used: decided on first use, once.
    trust: OnceLock<Result<(), String>>,
    slots: Mutex<Slots>,
    counters: Counters,
}

impl std::fmt::Debug for ArtifactCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactCache")
            .field("dir", &self.dir)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl ArtifactCache {
    /// The default bound on the compiled code held in memory: 512 MiB
    /// (the demo's component compiles to about 4 MB).
    pub const DEFAULT_MEMORY_BYTES: u64 = 512 << 20;

    /// A cache that keeps compiled components in memory only.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            trust: OnceLock::new(),
            slots: Mutex::new(Slots {
                lru: LruCache::unbounded(),
                bytes: 0,
                limit: Self::DEFAULT_MEMORY_BYTES,
            }),
            counters: Counters::default(),
        }
    }

    /// Holds at most `bytes` of compiled code in memory (one component
    /// larger than that is still held, alone, until the next one loads).
    #[must_use]
    pub fn with_memory_limit(self, bytes: u64) -> Self {
        self.slots.lock().limit = bytes;
        self
    }

    /// Stops holding the compiled code of the component whose SHA-256 is
    /// `wasm_sha256`, on every engine; returns how many were dropped.
    /// Modules loaded from it keep running on their own reference to it.
    pub fn forget(&self, wasm_sha256: &[u8; 32]) -> usize {
        let mut slots = self.slots.lock();
        let keys: Vec<(u64, [u8; 32])> = slots
            .lru
            .iter()
            .map(|(key, _)| *key)
            .filter(|(_, sha)| sha == wasm_sha256)
            .collect();
        for key in &keys {
            if let Some((_, bytes)) = slots.lru.pop(key) {
                slots.bytes = slots.bytes.saturating_sub(bytes);
            }
        }
        keys.len()
    }

    /// A cache that also keeps artifacts in `dir` (created owner-only when
    /// first used). The directory must be writable only by users the host
    /// trusts; on Unix one that is not is refused (see the module docs).
    pub fn with_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::in_memory()
        }
    }

    /// The conventional directory for the current user: `surli/artifacts`
    /// under the platform's cache directory (`$XDG_CACHE_HOME` or
    /// `~/.cache` on Linux), or `None` when the platform has none.
    pub fn user_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|dir| dir.join("surli").join("artifacts"))
    }

    /// The cache directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Counters since the cache was made.
    pub fn stats(&self) -> CacheStats {
        let c = &self.counters;
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        CacheStats {
            memory_hits: get(&c.memory_hits),
            disk_hits: get(&c.disk_hits),
            misses: get(&c.misses),
            rejected_files: get(&c.rejected_files),
            bytes_read: get(&c.bytes_read),
            bytes_written: get(&c.bytes_written),
            write_errors: get(&c.write_errors),
            dir_refused: self.trust.get().and_then(|trust| trust.clone().err()),
            memory_bytes: self.slots.lock().bytes,
            evictions: get(&c.evictions),
            notes_read: get(&c.notes_read),
            notes_written: get(&c.notes_written),
        }
    }

    /// The cache directory, when it can be trusted. Checked once, on first
    /// use; a refusal is logged then.
    fn trusted_dir(&self) -> Option<&Path> {
        let dir = self.dir.as_deref()?;
        let trust = self.trust.get_or_init(|| {
            let verdict = prepare_dir(dir);
            if let Err(reason) = &verdict {
                tracing::warn!(
                    dir = %dir.display(),
                    "not using the artifact cache directory ({reason}); compiled components are \
                     kept in memory only"
                );
            }
            verdict
        });
        trust.is_ok().then_some(dir)
    }

    /// Forgets every component held in memory (the files stay).
    pub fn clear_memory(&self) {
        let mut slots = self.slots.lock();
        slots.lru.clear();
        slots.bytes = 0;
    }

    /// Records that the slot of `key` now holds `bytes` of code, then
    /// forgets the least recently loaded components until the memory
    /// bound holds again (never the one just filled).
    fn filled(&self, key: (u64, [u8; 32]), slot: &Slot, bytes: u64) {
        let mut slots = self.slots.lock();
        match slots.lru.peek_mut(&key) {
            // Still this slot (not forgotten or replaced meanwhile).
            Some((held, weight)) if Arc::ptr_eq(held, slot) => {
                let old = std::mem::replace(weight, bytes);
                slots.bytes = slots.bytes.saturating_sub(old).saturating_add(bytes);
            }
            _ => return,
        }
        while slots.bytes > slots.limit && slots.lru.len() > 1 {
            let Some((oldest, _)) = slots.lru.peek_lru() else {
                break;
            };
            if *oldest == key {
                break;
            }
            if let Some((_, (_, weight))) = slots.lru.pop_lru() {
                slots.bytes = slots.bytes.saturating_sub(weight);
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The component for `wasm` on `engine`: from memory, from disk, or
    /// compiled now. `wasm_sha256` must be the SHA-256 of `wasm` (packages
    /// already know it). Blocks for as long as a compile takes: call it on
    /// a blocking thread.
    ///
    /// # Errors
    ///
    /// Only a compile failure. Problems with the cache directory are
    /// logged and counted, never fatal.
    pub fn get_or_compile(
        &self,
        engine: &SurliEngine,
        wasm: &[u8],
        wasm_sha256: &[u8; 32],
    ) -> Result<Cached, EngineError> {
        self.get_or_compile_with(engine, wasm_sha256, || Ok::<_, EngineError>(wasm))
    }

    /// As [`get_or_compile`](Self::get_or_compile), asking `wasm` for the
    /// component's bytes only when it must compile them: a caller whose
    /// bytes are still compressed (a package rebuilt from a record) never
    /// decompresses them when memory or disk has the artifact.
    ///
    /// # Errors
    ///
    /// What `wasm` returns, or a compile failure.
    pub fn get_or_compile_with<W, E>(
        &self,
        engine: &SurliEngine,
        wasm_sha256: &[u8; 32],
        wasm: impl FnOnce() -> Result<W, E>,
    ) -> Result<Cached, E>
    where
        W: AsRef<[u8]>,
        E: From<EngineError>,
    {
        let key = (engine.identity(), *wasm_sha256);
        let slot_arc = self.slot(key);
        // The map lock is released; only loads of this same component
        // wait on the slot.
        let mut slot = slot_arc.lock();
        if let Some((component, artifact_bytes)) = slot.as_ref() {
            self.counters.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Cached {
                component: component.clone(),
                source: ArtifactSource::Memory,
                artifact_bytes: *artifact_bytes,
            });
        }
        let file_key = Key::new(engine, wasm_sha256);
        let cached = match self.read(engine, &file_key) {
            Some(found) => found,
            None => self.compile(engine, wasm()?.as_ref(), &file_key)?,
        };
        *slot = Some((cached.component.clone(), cached.artifact_bytes));
        drop(slot);
        self.filled(key, &slot_arc, code_bytes(&cached.component));
        Ok(cached)
    }

    /// The slot of `key`, made empty if there is none; marked the most
    /// recently loaded.
    fn slot(&self, key: (u64, [u8; 32])) -> Slot {
        let mut slots = self.slots.lock();
        match slots.lru.get(&key) {
            Some((slot, _)) => Arc::clone(slot),
            None => {
                let slot = Slot::default();
                slots.lru.put(key, (Arc::clone(&slot), 0));
                slot
            }
        }
    }

    /// `component` (compiled on `engine`, from the component whose SHA-256
    /// is `wasm_sha256`) on `engine`'s overflow twin: moved there once
    /// ([`SurliEngine::overflow_component`]) and then shared by every
    /// module of the same component, held in memory under the same bound
    /// as the others. Without the cache each module made its own copy of
    /// the code (about 4 MB for the demo) the first time the pool ran out.
    /// `None` when the engine has no twin.
    ///
    /// # Errors
    ///
    /// Those of [`SurliEngine::overflow_component`].
    pub fn overflow_component(
        &self,
        engine: &SurliEngine,
        wasm_sha256: &[u8; 32],
        component: &Component,
    ) -> Result<Option<Component>, EngineError> {
        if engine.overflow().is_none() {
            return Ok(None);
        }
        // Engine identities count up from zero: the top bit names the twin.
        let key = (engine.identity() | (1 << 63), *wasm_sha256);
        let slot_arc = self.slot(key);
        let mut slot = slot_arc.lock();
        if let Some((component, _)) = slot.as_ref() {
            return Ok(Some(component.clone()));
        }
        let Some(moved) = engine.overflow_component(component)? else {
            return Ok(None);
        };
        *slot = Some((moved.clone(), None));
        drop(slot);
        self.filled(key, &slot_arc, code_bytes(&moved));
        Ok(Some(moved))
    }

    fn compile(&self, engine: &SurliEngine, wasm: &[u8], key: &Key) -> Result<Cached, EngineError> {
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        let component = engine.compile(wasm)?;
        let artifact_bytes = self.write(&component, key);
        Ok(Cached {
            component,
            source: ArtifactSource::Compiled,
            artifact_bytes,
        })
    }

    /// A verified artifact from disk, or `None` (no directory, no file, or
    /// a file that failed verification).
    fn read(&self, engine: &SurliEngine, key: &Key) -> Option<Cached> {
        let path = self.trusted_dir()?.join(key.file_name());
        for _ in 0..READ_ATTEMPTS {
            let mut file = match File::open(&path) {
                Ok(file) => file,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
                Err(error) => {
                    self.reject(&path, &format!("cannot open it: {error}"));
                    return None;
                }
            };
            let verified = match verify(&mut file, key) {
                Ok(verified) => verified,
                Err(reason) => {
                    self.reject(&path, &reason);
                    return None;
                }
            };
            let len = verified.len();
            match deserialize(engine, &path, &mut file, verified) {
                Ok(Some(component)) => {
                    self.counters.disk_hits.fetch_add(1, Ordering::Relaxed);
                    self.counters.bytes_read.fetch_add(len, Ordering::Relaxed);
                    return Some(Cached {
                        component,
                        source: ArtifactSource::Disk,
                        artifact_bytes: Some(len),
                    });
                }
                // Replaced between the check and the mapping: check the
                // file that is there now.
                Ok(None) => continue,
                Err(error) => {
                    self.reject(&path, &format!("wasmtime refused it: {error:#}"));
                    return None;
                }
            }
        }
        tracing::warn!(
            path = %path.display(),
            "a cached artifact kept changing while it was read; compiling instead"
        );
        None
    }

    fn reject(&self, path: &Path, reason: &str) {
        self.counters.rejected_files.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            path = %path.display(),
            "ignoring a cached artifact ({reason}); compiling again"
        );
    }

    /// Writes the artifact; returns its size, or `None` when there is no
    /// directory or the write failed (logged and counted).
    fn write(&self, component: &Component, key: &Key) -> Option<u64> {
        let dir = self.trusted_dir()?;
        let outcome = (|| -> Result<u64, String> {
            let artifact = component
                .serialize()
                .map_err(|e| format!("cannot serialize the component: {e:#}"))?;
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| format!("cannot create a temporary file: {e}"))?;
            file.write_all(&artifact)
                .and_then(|()| file.write_all(&trailer(key, &artifact)))
                .and_then(|()| file.as_file().sync_all())
                .map_err(|e| format!("cannot write: {e}"))?;
            file.persist(dir.join(key.file_name()))
                .map_err(|e| format!("cannot rename into place: {}", e.error))?;
            Ok(artifact.len() as u64)
        })();
        match outcome {
            Ok(bytes) => {
                self.counters
                    .bytes_written
                    .fetch_add(bytes, Ordering::Relaxed);
                Some(bytes)
            }
            Err(reason) => {
                self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    dir = %dir.display(),
                    "cannot cache a compiled component ({reason}); it will compile again next time"
                );
                None
            }
        }
    }
}

impl ArtifactCache {
    /// A small file the embedder keeps in the cache directory beside the
    /// artifacts, written by [`write_note`](Self::write_note): the bytes,
    /// when the file is whole (its length and CRC-32 match). `None` without
    /// a trusted directory, without the file, or for a damaged file (logged
    /// and counted in `rejected_files`).
    ///
    /// `name` is made of ASCII letters, digits and `-`; the file is
    /// `NAME.note`. A note is as trusted as the directory (see the module
    /// docs): surli keeps facts about packages there, never code.
    pub fn read_note(&self, name: &str) -> Option<Vec<u8>> {
        let path = self.trusted_dir()?.join(note_file(name)?);
        let mut bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => {
                self.reject_note(&path, &format!("cannot read it: {error}"));
                return None;
            }
        };
        match check_note(&bytes) {
            Ok(len) => {
                bytes.truncate(len);
                self.counters.notes_read.fetch_add(1, Ordering::Relaxed);
                Some(bytes)
            }
            Err(reason) => {
                self.reject_note(&path, reason);
                None
            }
        }
    }

    /// Removes a note (see [`read_note`](Self::read_note)), so that what it
    /// said is no longer found; whether there was one. A failure to remove
    /// it is logged.
    pub fn remove_note(&self, name: &str) -> bool {
        let (Some(dir), Some(file_name)) = (self.trusted_dir(), note_file(name)) else {
            return false;
        };
        let path = dir.join(file_name);
        match std::fs::remove_file(&path) {
            Ok(()) => true,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
            Err(error) => {
                tracing::warn!(path = %path.display(), "cannot remove a cache note: {error}");
                false
            }
        }
    }

    fn reject_note(&self, path: &Path, reason: &str) {
        self.counters.rejected_files.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(path = %path.display(), "ignoring a cache note ({reason})");
    }

    /// Writes a note (see [`read_note`](Self::read_note)), whole or not at
    /// all: a temporary file renamed into place. Whether it was written; a
    /// failure is logged and counted in `write_errors`, never fatal.
    pub fn write_note(&self, name: &str, bytes: &[u8]) -> bool {
        let (Some(dir), Some(file_name)) = (self.trusted_dir(), note_file(name)) else {
            return false;
        };
        let outcome = (|| -> Result<(), String> {
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| format!("cannot create a temporary file: {e}"))?;
            let mut trailer = Vec::with_capacity(NOTE_TRAILER_LEN);
            trailer.extend_from_slice(NOTE_MAGIC);
            trailer.extend_from_slice(&NOTE_FORMAT.to_le_bytes());
            trailer.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            trailer.extend_from_slice(&crc32fast::hash(bytes).to_le_bytes());
            file.write_all(bytes)
                .and_then(|()| file.write_all(&trailer))
                .map_err(|e| format!("cannot write: {e}"))?;
            file.persist(dir.join(file_name))
                .map_err(|e| format!("cannot rename into place: {}", e.error))?;
            Ok(())
        })();
        match outcome {
            Ok(()) => {
                self.counters.notes_written.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(reason) => {
                self.counters.write_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(dir = %dir.display(), "cannot write a cache note ({reason})");
                false
            }
        }
    }
}

const NOTE_MAGIC: &[u8; 8] = b"SURLI-NT";
const NOTE_FORMAT: u32 = 1;
const NOTE_TRAILER_LEN: usize = 8 + 4 + 8 + 4;

/// The file of note `name`, or `None` (logged) for a name that could
/// reach outside the directory or clash with an artifact.
fn note_file(name: &str) -> Option<String> {
    let fine = !name.is_empty()
        && name.len() <= 128
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !fine {
        tracing::warn!(
            name,
            "a cache note name must be 1 to 128 ASCII letters, digits or `-`"
        );
        return None;
    }
    Some(format!("{name}.note"))
}

/// The length of the note's contents when its trailer vouches for them.
fn check_note(bytes: &[u8]) -> Result<usize, &'static str> {
    let len = bytes
        .len()
        .checked_sub(NOTE_TRAILER_LEN)
        .ok_or("shorter than its trailer")?;
    let (contents, trailer) = bytes.split_at(len);
    let (magic, rest) = trailer.split_at(8);
    let (format, rest) = rest.split_at(4);
    let (declared, crc) = rest.split_at(8);
    if magic != NOTE_MAGIC {
        Err("not a surli cache note")
    } else if format != NOTE_FORMAT.to_le_bytes() {
        Err("a note written by another version of surli")
    } else if declared != (len as u64).to_le_bytes() {
        Err("a note truncated or padded")
    } else if crc != crc32fast::hash(contents).to_le_bytes() {
        Err("a note whose checksum does not match")
    } else {
        Ok(len)
    }
}

/// The bytes of machine code `component` holds in memory (what the memory
/// cache's bound counts).
pub fn code_bytes(component: &Component) -> u64 {
    let range = component.image_range();
    u64::try_from((range.end as usize).saturating_sub(range.start as usize)).unwrap_or(u64::MAX)
}

/// Creates `dir` (owner-only) if it is missing, and says whether it may be
/// trusted with machine code: on Unix, owned by this process's effective
/// user and writable by nobody else. A reason when not.
fn prepare_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot read its metadata: {e}"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".to_owned());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Err(format!(
                "it is owned by user {}, not by this process's user {me}",
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "its group or other users may write it (mode {:o}); run `chmod go-w` on it",
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// What identifies an artifact on disk.
struct Key {
    wasm_sha256: [u8; 32],
    engine_hash: [u8; 32],
    flavour: u8,
}

impl Key {
    fn new(engine: &SurliEngine, wasm_sha256: &[u8; 32]) -> Self {
        let mut hasher = ShaHasher(Sha256::new());
        engine
            .wasmtime()
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        Self {
            wasm_sha256: *wasm_sha256,
            engine_hash: hasher.0.finalize().into(),
            flavour: match engine.flavour() {
                Flavour::Guarded => 0,
                Flavour::Fast => 1,
            },
        }
    }

    fn file_name(&self) -> String {
        let flavour = if self.flavour == 0 { "guarded" } else { "fast" };
        format!(
            "{}-{}-{flavour}.cwasm",
            hex(&self.wasm_sha256),
            // Enough of the engine hash to tell configurations apart in a
            // listing; the header holds all of it.
            &hex(&self.engine_hash)[..16]
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds `Hash` output into SHA-256, so the key does not depend on the
/// standard library's hasher, whose output may change between releases.
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

fn trailer(key: &Key, artifact: &[u8]) -> Vec<u8> {
    let mut trailer = Vec::with_capacity(TRAILER_LEN);
    trailer.extend_from_slice(MAGIC);
    trailer.extend_from_slice(&FORMAT.to_le_bytes());
    trailer.extend_from_slice(&key.wasm_sha256);
    trailer.extend_from_slice(&key.engine_hash);
    trailer.push(key.flavour);
    trailer.extend_from_slice(&(artifact.len() as u64).to_le_bytes());
    trailer.extend_from_slice(&crc32fast::hash(artifact).to_le_bytes());
    trailer
}

/// An artifact whose file passed [`verify`].
enum Verified {
    /// Its length; wasmtime may map the file itself.
    #[cfg(unix)]
    InFile(u64),
    /// The artifact, read into memory while it was checked.
    #[cfg(not(unix))]
    InMemory(Vec<u8>),
}

impl Verified {
    fn len(&self) -> u64 {
        match self {
            #[cfg(unix)]
            Self::InFile(len) => *len,
            #[cfg(not(unix))]
            Self::InMemory(bytes) => bytes.len() as u64,
        }
    }
}

/// Checks that `file` holds the artifact `key` names, whole: its trailer
/// first (cheap), then the checksum over the artifact.
fn verify(file: &mut File, key: &Key) -> Result<Verified, String> {
    let io = |e: std::io::Error| format!("cannot read it: {e}");
    let size = file.metadata().map_err(io)?.len();
    let Some(artifact_len) = size.checked_sub(TRAILER_LEN as u64) else {
        return Err("shorter than its trailer".to_owned());
    };
    let mut trailer = [0u8; TRAILER_LEN];
    file.seek(SeekFrom::Start(artifact_len)).map_err(io)?;
    file.read_exact(&mut trailer).map_err(io)?;
    let (magic, rest) = trailer.split_at(8);
    let (format, rest) = rest.split_at(4);
    let (wasm_sha256, rest) = rest.split_at(32);
    let (engine_hash, rest) = rest.split_at(32);
    let (flavour, rest) = rest.split_at(1);
    let (len, crc) = rest.split_at(8);
    let problem = if magic != MAGIC {
        Some("not a surli artifact, or written by an older surli")
    } else if format != FORMAT.to_le_bytes() {
        Some("written by another version of surli")
    } else if wasm_sha256 != key.wasm_sha256 || flavour != [key.flavour] {
        Some("it is for another component")
    } else if engine_hash != key.engine_hash {
        Some("it is for another engine configuration")
    } else if len != artifact_len.to_le_bytes() {
        Some("truncated or padded")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(problem.to_owned());
    }
    #[cfg(unix)]
    {
        // Checksummed where it lies in the page cache, through a read-only
        // mapping, rather than copied out chunk by chunk: about 0.05 ms
        // less for the demo's 4 MB artifact.
        let len = usize::try_from(artifact_len).map_err(|_| "larger than memory".to_owned())?;
        // SAFETY: surli never changes a cache file in place (files are
        // renamed into place whole), and the directory is trusted not to
        // be written by others (module docs); the mapping is read-only and
        // dropped before this returns.
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&*file) }.map_err(io)?;
        if crc != crc32fast::hash(&map).to_le_bytes() {
            return Err("its checksum does not match".to_owned());
        }
        Ok(Verified::InFile(artifact_len))
    }
    #[cfg(not(unix))]
    verify_by_reading(file, artifact_len, crc)
}

/// Checksums the artifact by reading it, and keeps it for wasmtime.
#[cfg(not(unix))]
fn verify_by_reading(file: &mut File, artifact_len: u64, crc: &[u8]) -> Result<Verified, String> {
    let io = |e: std::io::Error| format!("cannot read it: {e}");
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut artifact = file.take(artifact_len);
    let mut hasher = crc32fast::Hasher::new();
    // The length comes from the file: reserve no more than a large
    // artifact needs up front, and let a larger one grow as it is read.
    let mut kept = Vec::with_capacity(usize::try_from(artifact_len.min(64 << 20)).unwrap_or(0));
    let mut chunk = vec![0u8; VERIFY_CHUNK];
    let mut seen = 0u64;
    loop {
        let n = match artifact.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        hasher.update(&chunk[..n]);
        kept.extend_from_slice(&chunk[..n]);
        seen += n as u64;
    }
    if seen != artifact_len {
        return Err("truncated while it was read".to_owned());
    }
    if crc != hasher.finalize().to_le_bytes() {
        return Err("its checksum does not match".to_owned());
    }
    Ok(Verified::InMemory(kept))
}

/// Loads a verified artifact. `Ok(None)` when the file at `path` is no
/// longer the one that was verified (replaced by a rename meanwhile).
#[allow(unsafe_code)]
fn deserialize(
    engine: &SurliEngine,
    path: &Path,
    file: &mut File,
    verified: Verified,
) -> Result<Option<Component>, wasmtime::Error> {
    match verified {
        #[cfg(unix)]
        Verified::InFile(_) => {
            use std::os::unix::fs::MetadataExt as _;
            let identity = |m: std::fs::Metadata| (m.dev(), m.ino());
            // SAFETY: wasmtime requires that the file be an artifact it
            // produced itself, since it is machine code run as it is, and
            // that the file not change while it is mapped. `verify` has
            // checked that the file names this exact component and engine
            // configuration, arrived whole and matches the checksum written
            // with it. The path may since have been renamed over; the
            // identity check below refuses the component in that case.
            // surli never writes to a cache file in place, and the cache
            // directory is trusted (writable only by the host's own users,
            // as the module docs require). wasmtime checks the artifact's
            // format and engine compatibility again, and ignores the
            // trailer after the ELF image.
            let component = unsafe { Component::deserialize_file(engine.wasmtime(), path) }?;
            let checked = file.metadata().map(identity);
            let mapped = std::fs::metadata(path).map(identity);
            match (checked, mapped) {
                (Ok(checked), Ok(mapped)) if checked == mapped => Ok(Some(component)),
                _ => Ok(None),
            }
        }
        #[cfg(not(unix))]
        Verified::InMemory(bytes) => {
            let _ = (path, file);
            // SAFETY: as above, for bytes read and checked in one pass.
            unsafe { Component::deserialize(engine.wasmtime(), bytes) }.map(Some)
        }
    }
}
