//! Reading the same package bytes again without decompressing them.
//!
//! A full read decompresses the archive, walks the tar, checks every entry
//! and takes two SHA-256 digests: about 2.5 ms for the demo package, most
//! of it zstd. A host that loads the same package again and again (every
//! process start, every module reloaded from a registry) repeats exactly
//! the same work on exactly the same bytes.
//!
//! [`PackageBytes`] names a package's compressed bytes by a BLAKE3 digest
//! of them, taken together with the read options that decide what a read
//! accepts (its caps and `strict_config`). A [`PackageRecord`] keeps what a
//! full read of those bytes found: the configuration and exports manifest
//! as text, the logo, the length and SHA-256 of the component and the
//! SHA-256 of the package. [`PackageBytes::read_recorded`] rebuilds the
//! [`Package`] from the record after checking that the record names these
//! very bytes: the texts are parsed again, and the component is
//! decompressed only when something asks for it
//! ([`Package::try_wasm`]), which a load served by the compiled-artifact
//! cache never does.
//!
//! BLAKE3 is a cryptographic digest: two different packages do not share
//! a key, so a record cannot be applied to bytes it was not made from.
//! When the component is finally decompressed it is checked against the
//! SHA-256 the record holds, so a damaged or forged record is refused
//! ([`PackageError::StaleRecord`]) rather than trusted.
//!
//! Packages with an attached directory or with read warnings get no
//! record: the directory must be extracted on every read, and warnings are
//! reported by the read that finds them.

use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use surli_config::{ModuleConfig, ParseOptions};

use crate::error::PackageError;
use crate::exports::ExportsManifest;
use crate::limits::ReadOptions;
use crate::package::Package;

/// The BLAKE3 context string of record keys; a change to what a key
/// covers changes it.
const KEY_CONTEXT: &str = "surli 2026-12 package record key v1";

/// Magic and version at the start of an encoded record.
const RECORD_MAGIC: &[u8; 8] = b"SURLI-PR";
const RECORD_VERSION: u32 = 1;

/// A package's compressed bytes, named by their record key.
///
/// Made by [`PackageBytes::new`], which checks the size cap and takes the
/// BLAKE3 digest (about 0.07 ms for a 0.4 MB package). Cheap to clone.
#[derive(Clone)]
pub struct PackageBytes {
    bytes: Arc<[u8]>,
    options: ReadOptions,
    key: [u8; 32],
}

impl PackageBytes {
    /// Names `bytes`, to be read under `options`.
    ///
    /// # Errors
    ///
    /// [`PackageError::PackageTooLarge`] past
    /// [`max_package_bytes`](crate::PackageLimits::max_package_bytes).
    pub fn new(bytes: impl Into<Arc<[u8]>>, options: &ReadOptions) -> Result<Self, PackageError> {
        let bytes = bytes.into();
        let limit = options.limits.max_package_bytes;
        let size = bytes.len() as u64;
        if size > limit {
            return Err(PackageError::PackageTooLarge { size, limit });
        }
        let key = record_key(&bytes, options);
        Ok(Self {
            bytes,
            options: options.clone(),
            key,
        })
    }

    /// Reads a package file whole (it must end in `.surli`, and is held to
    /// [`max_package_bytes`](crate::PackageLimits::max_package_bytes) as
    /// [`Package::read_file`] holds it) and names its bytes.
    ///
    /// # Errors
    ///
    /// [`PackageError::NotSurli`], [`PackageError::Io`] or
    /// [`PackageError::PackageTooLarge`].
    pub fn read_file(
        path: impl AsRef<std::path::Path>,
        options: &ReadOptions,
    ) -> Result<Self, PackageError> {
        let bytes = crate::read::read_file_bytes(path.as_ref(), options)?;
        Self::new(bytes, options)
    }

    /// The record key: BLAKE3 of the bytes together with the options that
    /// decide what a read accepts. Equal keys mean the same bytes read the
    /// same way.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The key as lowercase hex, for file names and logs.
    pub fn key_hex(&self) -> String {
        hex::encode(self.key)
    }

    /// The compressed bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Reads the package in full, as [`Package::from_bytes`] does. The
    /// package can then give a [`record`](Package::record) of itself.
    ///
    /// # Errors
    ///
    /// Every error of [`Package::from_bytes`].
    pub fn read(&self) -> Result<Package, PackageError> {
        let mut package = Package::from_bytes(&self.bytes, &self.options)?;
        // Only a package that can let go of its component keeps the
        // compressed bytes to read it again from: one with an attached
        // directory or warnings never does.
        let source = (package.fs.is_none() && package.warnings.is_empty()).then(|| Source {
            bytes: Arc::clone(&self.bytes),
            options: self.options.clone(),
        });
        package.recordable = package.recordable.take().map(|mut recordable| {
            recordable.key = Some(self.key);
            recordable.source = source;
            recordable
        });
        Ok(package)
    }

    /// Rebuilds the package from a record of an earlier read of these
    /// same bytes, without decompressing them.
    ///
    /// The configuration and exports manifest are parsed again (so the
    /// configuration's warnings are found again), the logo comes from the
    /// record, and the component is decompressed on first use.
    ///
    /// # Errors
    ///
    /// [`PackageError::StaleRecord`] when the record was made from other
    /// bytes or other read options; the errors of parsing the texts it
    /// holds.
    pub fn read_recorded(&self, record: &PackageRecord) -> Result<Package, PackageError> {
        if record.key != self.key {
            return Err(PackageError::StaleRecord {
                reason: "it was made from other bytes or under other read options".to_owned(),
            });
        }
        let parsed = ModuleConfig::parse(
            &record.config,
            ParseOptions {
                strict: self.options.strict_config,
            },
        )?;
        let exports = ExportsManifest::parse(&record.exports)?;
        let wasm = ComponentBytes::deferred(Deferred {
            package: Arc::clone(&self.bytes),
            options: self.options.clone(),
            wasm_sha256: record.wasm_sha256,
            wasm_len: record.wasm_len,
            cell: OnceLock::new(),
        });
        Ok(Package {
            config: parsed.config,
            config_warnings: parsed.warnings,
            wasm,
            exports,
            logo: record.logo.clone(),
            fs: None,
            wasm_sha256: record.wasm_sha256,
            package_sha256: record.package_sha256,
            warnings: Vec::new(),
            recordable: Some(Box::new(Recordable {
                key: Some(self.key),
                config: record.config.clone(),
                exports: record.exports.clone(),
                source: None,
            })),
        })
    }
}

impl std::fmt::Debug for PackageBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageBytes")
            .field("len", &self.bytes.len())
            .field("key", &self.key_hex())
            .finish_non_exhaustive()
    }
}

/// BLAKE3 over the options that decide what a read accepts, then the bytes.
fn record_key(bytes: &[u8], options: &ReadOptions) -> [u8; 32] {
    let limits = &options.limits;
    let mut hasher = blake3::Hasher::new_derive_key(KEY_CONTEXT);
    for cap in [
        limits.max_package_bytes,
        limits.max_total_bytes,
        limits.max_entries,
        limits.max_wasm_bytes,
        limits.max_config_bytes,
        limits.max_exports_bytes,
        limits.max_logo_bytes,
        limits.max_fs_bytes,
        limits.max_fs_entry_bytes,
        limits.max_extension_bytes,
    ] {
        hasher.update(&cap.to_le_bytes());
    }
    hasher.update(&[u8::from(options.strict_config)]);
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
    *hasher.finalize().as_bytes()
}

/// What a [`Package`] keeps so that it can give a record of itself.
#[derive(Debug, Clone)]
pub(crate) struct Recordable {
    /// Set when the package was read through [`PackageBytes`].
    pub(crate) key: Option<[u8; 32]>,
    pub(crate) config: String,
    pub(crate) exports: String,
    /// The compressed bytes a full read through [`PackageBytes`] came
    /// from, so the component can be let go of and read again
    /// ([`Package::shed_component`]).
    pub(crate) source: Option<Source>,
}

/// Compressed package bytes and the options they were read under.
#[derive(Clone)]
pub(crate) struct Source {
    bytes: Arc<[u8]>,
    options: ReadOptions,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("len", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// What a full read of a package found, enough to rebuild the package from
/// the same bytes without decompressing them
/// ([`PackageBytes::read_recorded`]).
///
/// Made by [`Package::record`]; kept in memory or written out with
/// [`to_bytes`](Self::to_bytes) and read back with
/// [`from_bytes`](Self::from_bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    key: [u8; 32],
    config: String,
    exports: String,
    logo: Option<Vec<u8>>,
    wasm_sha256: [u8; 32],
    wasm_len: u64,
    package_sha256: [u8; 32],
}

impl PackageRecord {
    /// About how many bytes the record holds: its texts, its logo and a
    /// fixed part.
    pub fn weight(&self) -> u64 {
        let logo = self.logo.as_ref().map_or(0, Vec::len);
        (self.config.len() + self.exports.len() + logo + 128) as u64
    }

    /// The key of the bytes it was made from.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The record as bytes, to keep on disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        let logo = self.logo.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(128 + self.config.len() + self.exports.len() + logo.len());
        out.extend_from_slice(RECORD_MAGIC);
        out.extend_from_slice(&RECORD_VERSION.to_le_bytes());
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.wasm_sha256);
        out.extend_from_slice(&self.wasm_len.to_le_bytes());
        out.extend_from_slice(&self.package_sha256);
        let mut field = |bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        };
        field(self.config.as_bytes());
        field(self.exports.as_bytes());
        out.push(u8::from(self.logo.is_some()));
        out.extend_from_slice(&(logo.len() as u64).to_le_bytes());
        out.extend_from_slice(logo);
        out
    }

    /// Reads a record written by [`to_bytes`](Self::to_bytes).
    ///
    /// # Errors
    ///
    /// [`PackageError::StaleRecord`] for bytes that are not a whole record
    /// of this version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PackageError> {
        let mut reader = Fields { rest: bytes };
        if reader.take(RECORD_MAGIC.len())? != RECORD_MAGIC {
            return Err(stale("it does not start with the record magic"));
        }
        let version = u32::from_le_bytes(reader.array()?);
        if version != RECORD_VERSION {
            return Err(stale(format!(
                "it is version {version}, this build reads {RECORD_VERSION}"
            )));
        }
        let key = reader.array()?;
        let wasm_sha256 = reader.array()?;
        let wasm_len = u64::from_le_bytes(reader.array()?);
        let package_sha256 = reader.array()?;
        let config = reader.text()?;
        let exports = reader.text()?;
        let has_logo = reader.take(1)?[0];
        let logo = reader.field()?.to_vec();
        if !reader.rest.is_empty() {
            return Err(stale("bytes follow its end"));
        }
        let logo = match has_logo {
            0 if logo.is_empty() => None,
            1 => Some(logo),
            _ => return Err(stale("its logo flag is neither 0 nor 1")),
        };
        Ok(Self {
            key,
            config,
            exports,
            logo,
            wasm_sha256,
            wasm_len,
            package_sha256,
        })
    }
}

fn stale(reason: impl Into<String>) -> PackageError {
    PackageError::StaleRecord {
        reason: reason.into(),
    }
}

/// Reads a record's fields in order, never past its end.
struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], PackageError> {
        if self.rest.len() < len {
            return Err(stale("it is cut short"));
        }
        let (head, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PackageError> {
        let bytes = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    fn field(&mut self) -> Result<&'a [u8], PackageError> {
        let len = u64::from_le_bytes(self.array()?);
        let len = usize::try_from(len).map_err(|_| stale("a field is longer than memory"))?;
        self.take(len)
    }

    fn text(&mut self) -> Result<String, PackageError> {
        let bytes = self.field()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| stale("a text field is not UTF-8"))
    }
}

impl Package {
    /// The [record key](PackageBytes::key) of the bytes this package was
    /// read from, when it was read through [`PackageBytes`]: equal keys
    /// mean the same package bytes, read under the same options.
    pub fn record_key(&self) -> Option<&[u8; 32]> {
        self.recordable.as_ref()?.key.as_ref()
    }

    /// Lets go of the decompressed component when it can be read again
    /// from the package's compressed bytes, which are usually a quarter of
    /// its size: a host that holds many loaded modules, whose code is
    /// compiled already, then holds the compressed packages only. The next
    /// [`wasm`](Self::wasm) decompresses again (and checks the SHA-256).
    ///
    /// Does nothing, and says so, for a package not read through
    /// [`PackageBytes`], or with an attached directory or read warnings.
    pub fn shed_component(&mut self) -> bool {
        if self.fs.is_some() || !self.warnings.is_empty() {
            return false;
        }
        let (package, options) = match &self.wasm.0 {
            // Rebuilt from a record and decompressed since: the
            // compressed bytes are at hand already.
            Inner::Deferred(deferred) if deferred.cell.get().is_some() => {
                (Arc::clone(&deferred.package), deferred.options.clone())
            }
            Inner::Deferred(_) => return false,
            Inner::Ready(_) => {
                let Some(source) = self.recordable.as_mut().and_then(|r| r.source.take()) else {
                    return false;
                };
                (source.bytes, source.options)
            }
        };
        self.wasm = ComponentBytes::deferred(Deferred {
            package,
            options,
            wasm_sha256: self.wasm_sha256,
            wasm_len: self.wasm.len(),
            cell: OnceLock::new(),
        });
        true
    }

    /// A record of this package, to rebuild it from the same bytes without
    /// decompressing them ([`PackageBytes::read_recorded`]).
    ///
    /// `None` unless the package was read through [`PackageBytes`], and
    /// for packages with an attached directory or with read warnings.
    pub fn record(&self) -> Option<PackageRecord> {
        let recordable = self.recordable.as_ref()?;
        let key = recordable.key?;
        if self.fs.is_some() || !self.warnings.is_empty() {
            return None;
        }
        Some(PackageRecord {
            key,
            config: recordable.config.clone(),
            exports: recordable.exports.clone(),
            logo: self.logo.clone(),
            wasm_sha256: self.wasm_sha256,
            wasm_len: self.wasm.len(),
            package_sha256: self.package_sha256,
        })
    }
}

/// A package's component: held in memory, or still compressed in the
/// package's bytes until first asked for (a package rebuilt from a
/// [`PackageRecord`]). Cheap to clone; clones share the decompressed bytes.
#[derive(Clone)]
pub struct ComponentBytes(Inner);

#[derive(Clone)]
enum Inner {
    Ready(Arc<[u8]>),
    Deferred(Arc<Deferred>),
}

struct Deferred {
    package: Arc<[u8]>,
    options: ReadOptions,
    wasm_sha256: [u8; 32],
    wasm_len: u64,
    cell: OnceLock<Result<Arc<[u8]>, String>>,
}

impl ComponentBytes {
    pub(crate) fn ready(bytes: Arc<[u8]>) -> Self {
        Self(Inner::Ready(bytes))
    }

    fn deferred(deferred: Deferred) -> Self {
        Self(Inner::Deferred(Arc::new(deferred)))
    }

    /// The component's length in bytes, known without decompressing it.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Inner::Ready(bytes) => bytes.len() as u64,
            Inner::Deferred(deferred) => deferred.wasm_len,
        }
    }

    /// Whether the component is empty (never, for a package that passed
    /// the reader).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the bytes are in memory already (nothing left to
    /// decompress).
    pub fn is_ready(&self) -> bool {
        match &self.0 {
            Inner::Ready(_) => true,
            Inner::Deferred(deferred) => deferred.cell.get().is_some(),
        }
    }

    /// The component, decompressed now if it was not yet.
    ///
    /// # Errors
    ///
    /// [`PackageError::StaleRecord`] when the package's bytes do not hold
    /// the component its record names (a damaged or forged record).
    pub fn get(&self) -> Result<&Arc<[u8]>, PackageError> {
        match &self.0 {
            Inner::Ready(bytes) => Ok(bytes),
            Inner::Deferred(deferred) => deferred
                .cell
                .get_or_init(|| deferred.decompress())
                .as_ref()
                .map_err(|reason| stale(reason.clone())),
        }
    }
}

impl Deferred {
    fn decompress(&self) -> Result<Arc<[u8]>, String> {
        let wasm = crate::read::read_component(&self.package, &self.options)
            .map_err(|e| format!("its package no longer reads: {e}"))?;
        if wasm.len() as u64 != self.wasm_len {
            return Err(format!(
                "its component is {} bytes, the record says {}",
                wasm.len(),
                self.wasm_len
            ));
        }
        let sha: [u8; 32] = Sha256::digest(&wasm).into();
        if sha != self.wasm_sha256 {
            return Err("its component's SHA-256 is not the one the record holds".to_owned());
        }
        Ok(wasm.into())
    }
}

impl std::fmt::Debug for ComponentBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentBytes")
            .field("len", &self.len())
            .field("ready", &self.is_ready())
            .finish()
    }
}
