//! Reading a package: one pass over the decompressed tar, every entry
//! checked before anything of it is kept.
//!
//! The tar is walked in raw mode, with GNU long-name and PAX headers
//! gathered here rather than by the tar crate, which would read each of them
//! into memory whole; here each is held to
//! [`max_extension_bytes`](crate::PackageLimits::max_extension_bytes).

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;
use std::rc::Rc;

use sha2::{Digest, Sha256};
use surli_config::{ModuleConfig, ParseOptions, ParsedConfig};
use tar::EntryType;

use crate::capped::{CappedReader, Meter, Meters};
use crate::error::{LinkKind, PackageError, PackageWarning};
use crate::exports::ExportsManifest;
use crate::fs::{AttachedFs, Extractor};
use crate::layout::{
    self, COMPONENT_PREAMBLE, CONFIG_ENTRY, EXPORTS_ENTRY, EntryPath, LOGO_ENTRY, PNG_SIGNATURE,
    Place, WASM_ENTRY,
};
use crate::limits::ReadOptions;
use crate::package::Package;
use crate::record::{ComponentBytes, Recordable};

/// Buffers for payloads start no larger than this, so a header that claims
/// a large size costs nothing until the bytes actually arrive.
const INITIAL_CAPACITY: u64 = 1024 * 1024;

impl Package {
    /// Reads a package file.
    ///
    /// The name must end in `.surli`. The file is read whole into memory,
    /// up to [`max_package_bytes`](crate::PackageLimits::max_package_bytes),
    /// then parsed as by [`Package::from_bytes`].
    pub fn read_file(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Self, PackageError> {
        let bytes = read_file_bytes(path.as_ref(), options)?;
        Self::from_bytes(&bytes, options)
    }

    /// Reads a package from a stream, holding it in memory (up to
    /// [`max_package_bytes`](crate::PackageLimits::max_package_bytes)) so
    /// that [`package_sha256`](Self::package_sha256) covers exactly the bytes
    /// parsed.
    pub fn from_reader(reader: impl Read, options: &ReadOptions) -> Result<Self, PackageError> {
        let bytes = read_input(reader, options.limits.max_package_bytes, None)?;
        Self::from_bytes(&bytes, options)
    }

    /// Parses a package held in memory.
    ///
    /// If the package has an attached directory it is extracted under
    /// [`ReadOptions::temp_base`]; on any error, whatever was extracted is
    /// removed before this returns.
    pub fn from_bytes(bytes: &[u8], options: &ReadOptions) -> Result<Self, PackageError> {
        let limit = options.limits.max_package_bytes;
        let size = bytes.len() as u64;
        if size > limit {
            return Err(PackageError::PackageTooLarge { size, limit });
        }
        let (contents, digests) = read_and_digest(bytes, options)?;
        let Digests {
            package: package_sha256,
            wasm: wasm_sha256,
        } = digests;
        Ok(Self {
            config: contents.config.config,
            config_warnings: contents.config.warnings,
            wasm: ComponentBytes::ready(contents.wasm.into()),
            exports: contents.exports,
            logo: contents.logo,
            fs: contents.fs,
            wasm_sha256,
            package_sha256,
            warnings: contents.warnings,
            recordable: Some(Box::new(Recordable {
                key: None,
                config: contents.config_text,
                exports: contents.exports_text,
                source: None,
            })),
        })
    }
}

/// The two SHA-256 digests a package carries.
struct Digests {
    package: [u8; 32],
    wasm: [u8; 32],
}

/// Below this many compressed bytes a package is read and digested on the
/// calling thread alone: a second thread would cost more than it saves.
const DIGEST_THREAD_MIN_BYTES: usize = 64 * 1024;

/// The component goes to the digest thread in pieces of about this size.
const DIGEST_CHUNK: usize = 256 * 1024;

/// Reads the archive and computes both digests. With more than one CPU
/// and a package worth it, a scoped thread digests the compressed bytes,
/// then the component as the decompressor produces it, so the two SHA-256
/// passes (about 1.1 ms for the demo's 1.5 MB component on the benchmark
/// machine) overlap the decompression instead of following it: 0.4 to
/// 0.6 ms off every load of it (PERFORMANCE.md).
fn read_and_digest(
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<(Contents, Digests), PackageError> {
    let sequential = || -> Result<(Contents, Digests), PackageError> {
        let package = Sha256::digest(bytes).into();
        let contents = read_archive(bytes, None, options, Mode::Full, None)?;
        let wasm = Sha256::digest(&contents.wasm).into();
        Ok((contents, Digests { package, wasm }))
    };
    if bytes.len() < DIGEST_THREAD_MIN_BYTES || !several_cpus() {
        return sequential();
    }
    std::thread::scope(|scope| {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let digester = std::thread::Builder::new()
            .name("surli-package-digest".to_owned())
            .spawn_scoped(scope, move || {
                let package: [u8; 32] = Sha256::digest(bytes).into();
                let mut wasm = Sha256::new();
                let mut len = 0usize;
                for chunk in received {
                    len += chunk.len();
                    wasm.update(&chunk);
                }
                (package, <[u8; 32]>::from(wasm.finalize()), len)
            });
        let Ok(digester) = digester else {
            // No thread to be had: the same work, one step after the other.
            return sequential();
        };
        // On an error the sender drops with the walk, the digest thread
        // runs out of chunks and the scope joins it.
        let contents = read_archive(bytes, None, options, Mode::Full, Some(chunks))?;
        let (package, wasm, len) = digester
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // The thread saw the component's bytes in the order they were read.
        // Should that ever be other than exactly the component, digest it
        // again here rather than trust a partial digest.
        let wasm = if len == contents.wasm.len() {
            wasm
        } else {
            Sha256::digest(&contents.wasm).into()
        };
        Ok((contents, Digests { package, wasm }))
    })
}

fn several_cpus() -> bool {
    static SEVERAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SEVERAL.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// Passes every byte read through it on to the digest thread, in chunks.
struct Tee<'a, R> {
    inner: R,
    pending: Vec<u8>,
    chunks: &'a std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl<R> Tee<'_, R> {
    /// Sends what is left; called once the payload is read.
    fn flush(&mut self) {
        if !self.pending.is_empty() {
            // A closed channel means the digest thread is gone; the length
            // check after it is joined notices the missing bytes.
            let _ = self.chunks.send(std::mem::take(&mut self.pending));
        }
    }
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= DIGEST_CHUNK {
            let full = std::mem::replace(&mut self.pending, Vec::with_capacity(DIGEST_CHUNK));
            let _ = self.chunks.send(full);
        }
        Ok(n)
    }
}

/// Reads only the exports manifest of a package, for cheap inspection.
///
/// The package is streamed, never held whole: the component, the logo and
/// the attached directory are checked (sizes, paths, magic numbers) but
/// neither kept nor extracted. Every cap of a full read applies, and every
/// package a full read accepts is accepted here.
pub fn read_exports_only(
    reader: impl Read,
    options: &ReadOptions,
) -> Result<ExportsManifest, PackageError> {
    let package = Meter::new(options.limits.max_package_bytes);
    let input = BufReader::new(CappedReader::new(reader, Rc::clone(&package)));
    let contents = read_archive(input, Some(package), options, Mode::ExportsOnly, None)?;
    Ok(contents.exports)
}

/// Reads only the component of a package held in memory: every check of a
/// full read, but no logo kept and no directory extracted. For a package
/// rebuilt from a record, whose component is wanted at last.
pub(crate) fn read_component(bytes: &[u8], options: &ReadOptions) -> Result<Vec<u8>, PackageError> {
    Ok(read_archive(bytes, None, options, Mode::Component, None)?.wasm)
}

pub(crate) fn check_extension(path: &Path) -> Result<(), PackageError> {
    if path.extension().and_then(OsStr::to_str) == Some("surli") {
        Ok(())
    } else {
        Err(PackageError::NotSurli {
            path: path.to_path_buf(),
        })
    }
}

/// A package file's bytes: the name checked, the size capped before and
/// during the read (the length can change after the check, and special
/// files report none).
pub(crate) fn read_file_bytes(path: &Path, options: &ReadOptions) -> Result<Vec<u8>, PackageError> {
    check_extension(path)?;
    let limit = options.limits.max_package_bytes;
    let file = File::open(path).map_err(|e| PackageError::io(path.to_path_buf(), e))?;
    let size = file
        .metadata()
        .map_err(|e| PackageError::io(path.to_path_buf(), e))?
        .len();
    if size > limit {
        return Err(PackageError::PackageTooLarge { size, limit });
    }
    read_input(file, limit, Some(path))
}

fn read_input(reader: impl Read, limit: u64, path: Option<&Path>) -> Result<Vec<u8>, PackageError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| PackageError::io(path.map(Path::to_path_buf), e))?;
    let size = bytes.len() as u64;
    if size > limit {
        return Err(PackageError::PackageTooLarge { size, limit });
    }
    Ok(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Keep every payload and extract the attached directory.
    Full,
    /// Keep only the manifests; check the rest and let it go by.
    ExportsOnly,
    /// Keep the manifests and the component; check the rest and let it go
    /// by.
    Component,
}

impl Mode {
    /// Whether the logo is kept and the attached directory extracted.
    fn keeps_files(self) -> bool {
        self == Mode::Full
    }
}

/// What a walk found. In [`Mode::ExportsOnly`] `wasm` is empty, and
/// outside [`Mode::Full`] `logo` and `fs` are `None`.
struct Contents {
    config: ParsedConfig,
    /// `surrealism.toml` as read, for a package record.
    config_text: String,
    /// `exports.toml` as read, for a package record.
    exports_text: String,
    wasm: Vec<u8>,
    exports: ExportsManifest,
    logo: Option<Vec<u8>>,
    fs: Option<AttachedFs>,
    warnings: Vec<PackageWarning>,
}

fn read_archive<B: BufRead>(
    input: B,
    package: Option<Rc<Meter>>,
    options: &ReadOptions,
    mode: Mode,
    wasm_chunks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
) -> Result<Contents, PackageError> {
    let meters = Meters {
        total: Meter::new(options.limits.max_total_bytes),
        package,
    };
    let decoder =
        zstd::stream::read::Decoder::with_buffer(input).map_err(|e| meters.stream_error(e))?;
    let mut archive = tar::Archive::new(CappedReader::new(decoder, Rc::clone(&meters.total)));
    let mut walk = Walk::new(options, mode, &meters);
    walk.wasm_chunks = wasm_chunks;
    for entry in archive
        .entries()
        .map_err(|e| meters.stream_error(e))?
        .raw(true)
    {
        let entry = entry.map_err(|e| meters.stream_error(e))?;
        walk.entry(entry)?;
    }
    // Whatever follows the end of the tar is decompressed too: it counts
    // against the cap, and a corrupt or truncated frame there is still a
    // corrupt package.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| meters.stream_error(e))?;
    walk.finish()
}

/// GNU long-name and PAX headers seen since the last real entry; they
/// describe the next one.
#[derive(Debug, Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }

    /// Merges the headers the way the tar crate (and so the original
    /// runtime) does: a GNU long name wins over a PAX `path`.
    fn resolve(self) -> Result<Extensions, PackageError> {
        let mut extensions = Extensions {
            path: self.long_name.map(strip_nul),
            link: self.long_link.map(strip_nul),
            size: None,
            sparse: false,
        };
        let Some(pax) = self.pax else {
            return Ok(extensions);
        };
        for record in tar::PaxExtensions::new(&pax) {
            let record = record.map_err(|e| corrupt(format!("malformed pax header: {e}")))?;
            let key = record
                .key()
                .map_err(|_| corrupt("a pax header has a key that is not UTF-8"))?;
            match key {
                "path" => {
                    extensions
                        .path
                        .get_or_insert_with(|| record.value_bytes().to_vec());
                }
                "linkpath" => {
                    extensions
                        .link
                        .get_or_insert_with(|| record.value_bytes().to_vec());
                }
                "size" => {
                    let size = record
                        .value()
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                        .ok_or_else(|| corrupt("a pax header has a `size` that is not a number"))?;
                    extensions.size = Some(size);
                }
                key if key.starts_with("GNU.sparse.") => extensions.sparse = true,
                _ => {}
            }
        }
        Ok(extensions)
    }
}

struct Extensions {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
    sparse: bool,
}

/// GNU tar ends a long name with one NUL; the tar crate strips exactly one.
fn strip_nul(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&0) {
        bytes.pop();
    }
    bytes
}

fn corrupt(message: impl Into<String>) -> PackageError {
    PackageError::Corrupt {
        message: message.into(),
    }
}

/// The state of one pass over an archive.
struct Walk<'o> {
    options: &'o ReadOptions,
    mode: Mode,
    meters: &'o Meters,
    headers: u64,
    entries: u64,
    seen: HashSet<String>,
    pending: Pending,
    wasm: Option<Vec<u8>>,
    /// Where the component's bytes go as they are read, when a thread
    /// digests them meanwhile.
    wasm_chunks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    config: Option<(ParsedConfig, String)>,
    exports: Option<(ExportsManifest, String)>,
    logo: Option<Vec<u8>>,
    fs_total: u64,
    extractor: Extractor<'o>,
    warnings: Vec<PackageWarning>,
}

impl<'o> Walk<'o> {
    fn new(options: &'o ReadOptions, mode: Mode, meters: &'o Meters) -> Self {
        Self {
            options,
            mode,
            meters,
            headers: 0,
            entries: 0,
            seen: HashSet::new(),
            pending: Pending::default(),
            wasm: None,
            wasm_chunks: None,
            config: None,
            exports: None,
            logo: None,
            fs_total: 0,
            extractor: Extractor::new(options),
            warnings: Vec::new(),
        }
    }

    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), PackageError> {
        self.headers += 1;
        let kind = entry.header().entry_type();
        match kind {
            EntryType::GNULongName => {
                let data = self.extension(
                    &mut entry,
                    "GNU long name",
                    self.pending.long_name.is_some(),
                )?;
                self.pending.long_name = Some(data);
                return Ok(());
            }
            EntryType::GNULongLink => {
                let data = self.extension(
                    &mut entry,
                    "GNU long link",
                    self.pending.long_link.is_some(),
                )?;
                self.pending.long_link = Some(data);
                return Ok(());
            }
            EntryType::XHeader => {
                let data = self.extension(&mut entry, "pax", self.pending.pax.is_some())?;
                self.pending.pax = Some(data);
                return Ok(());
            }
            _ => {}
        }

        // Counted before anything else, so entries that end up skipped
        // still use up the cap.
        self.entries += 1;
        let limits = &self.options.limits;
        if self.entries > limits.max_entries {
            return Err(PackageError::TooManyEntries {
                limit: limits.max_entries,
            });
        }

        let pending = std::mem::take(&mut self.pending);
        if kind == EntryType::XGlobalHeader {
            if !pending.is_empty() {
                return Err(corrupt("extension headers describe a pax global header"));
            }
            let path = String::from_utf8_lossy(&entry.header().path_bytes()).into_owned();
            self.skip(path, "pax global headers carry nothing a package uses");
            return Ok(());
        }

        let extensions = pending.resolve()?;
        let raw_path: Cow<'_, [u8]> = match &extensions.path {
            Some(path) => Cow::Borrowed(path),
            None => entry.header().path_bytes(),
        };
        let path = EntryPath::parse(&raw_path)?;
        let size = entry
            .header()
            .entry_size()
            .map_err(|e| corrupt(format!("`{}`: {e}", path.text)))?;
        if let Some(pax_size) = extensions.size.filter(|s| *s != size) {
            // The tar crate would trust the pax size and other readers the
            // header: the two would see different archives.
            return Err(corrupt(format!(
                "`{}`: its pax header declares {pax_size} bytes but its tar header {size}",
                path.text
            )));
        }

        let is_dir = match kind {
            EntryType::Directory => true,
            EntryType::Regular if extensions.sparse => {
                return Err(special(&path, "sparse file"));
            }
            // The oldest tars mark a directory only by a trailing slash.
            EntryType::Regular if path.trailing_slash => {
                if size > 0 {
                    return Err(PackageError::UnsafePath {
                        path: path.text,
                        reason: "it ends in `/` like a directory but is a file with data",
                    });
                }
                true
            }
            EntryType::Regular => false,
            EntryType::Symlink | EntryType::Link => {
                let target = extensions
                    .link
                    .map(Cow::Owned)
                    .or_else(|| entry.header().link_name_bytes())
                    .map(|t| String::from_utf8_lossy(&t).into_owned());
                return Err(PackageError::LinkEntry {
                    path: path.text,
                    kind: if kind == EntryType::Symlink {
                        LinkKind::Symbolic
                    } else {
                        LinkKind::Hard
                    },
                    target,
                });
            }
            EntryType::Char => return Err(special(&path, "character device")),
            EntryType::Block => return Err(special(&path, "block device")),
            EntryType::Fifo => return Err(special(&path, "fifo")),
            EntryType::Continuous => return Err(special(&path, "contiguous file")),
            EntryType::GNUSparse => return Err(special(&path, "sparse file")),
            other => {
                let flag = std::ascii::escape_default(other.as_byte()).to_string();
                return Err(special(&path, &format!("entry of unknown type `{flag}`")));
            }
        };

        if !self.seen.insert(path.text.clone()) {
            return Err(PackageError::DuplicateEntry { path: path.text });
        }

        match (Place::of(&path), is_dir) {
            (Place::LayoutDir, true) => Ok(()),
            (Place::FsRoot, true) => self.fs_dir(None),
            (Place::Fs(relative), true) => self.fs_dir(Some(relative)),
            (Place::Fs(relative), false) => self.fs_file(&mut entry, &path.text, relative, size),
            (Place::Wasm, false) => self.wasm(&mut entry, size),
            (Place::Config, false) => self.config(&mut entry, size),
            (Place::Exports, false) => self.exports(&mut entry, size),
            (Place::Logo, false) => self.logo(&mut entry, size),
            (Place::Outside, _) => {
                self.skip(
                    path.text,
                    "it is outside `surrealism/`, the only directory a package reads",
                );
                Ok(())
            }
            (Place::Unknown, _) => {
                self.skip(path.text, "it is not part of the package layout");
                Ok(())
            }
            (_, true) => {
                self.skip(path.text, "it is a directory where the layout has a file");
                Ok(())
            }
            (_, false) => {
                self.skip(path.text, "it is a file where the layout has a directory");
                Ok(())
            }
        }
    }

    fn extension<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        what: &'static str,
        already: bool,
    ) -> Result<Vec<u8>, PackageError> {
        if already {
            return Err(corrupt(format!(
                "two {what} headers describe the same entry"
            )));
        }
        let size = entry
            .header()
            .entry_size()
            .map_err(|e| corrupt(format!("{what} header: {e}")))?;
        read_payload(
            entry,
            &format!("({what} header)"),
            size,
            self.options.limits.max_extension_bytes,
            "max_extension_bytes",
            self.meters,
        )
    }

    fn skip(&mut self, path: String, reason: &'static str) {
        let warning = PackageWarning::SkippedEntry { path, reason };
        tracing::warn!("{warning}");
        self.warnings.push(warning);
    }

    fn wasm<R: Read>(&mut self, entry: &mut R, size: u64) -> Result<(), PackageError> {
        let limit = self.options.limits.max_wasm_bytes;
        let wasm = match self.mode {
            Mode::Full | Mode::Component => {
                let read = |entry: &mut dyn Read| {
                    read_payload(
                        entry,
                        WASM_ENTRY,
                        size,
                        limit,
                        "max_wasm_bytes",
                        self.meters,
                    )
                };
                let wasm = match &self.wasm_chunks {
                    Some(chunks) => {
                        let mut tee = Tee {
                            inner: entry,
                            pending: Vec::with_capacity(DIGEST_CHUNK),
                            chunks,
                        };
                        let wasm = read(&mut tee);
                        tee.flush();
                        wasm
                    }
                    None => read(entry),
                }?;
                layout::check_component(&wasm)?;
                wasm
            }
            Mode::ExportsOnly => {
                check_size(WASM_ENTRY, size, limit, "max_wasm_bytes")?;
                let head = read_head(entry, COMPONENT_PREAMBLE.len(), self.meters)?;
                layout::check_component(&head)?;
                Vec::new()
            }
        };
        self.wasm = Some(wasm);
        Ok(())
    }

    fn config<R: Read>(&mut self, entry: &mut R, size: u64) -> Result<(), PackageError> {
        let limit = self.options.limits.max_config_bytes;
        let bytes = read_payload(
            entry,
            CONFIG_ENTRY,
            size,
            limit,
            "max_config_bytes",
            self.meters,
        )?;
        let text =
            String::from_utf8(bytes).map_err(|_| PackageError::NotUtf8 { path: CONFIG_ENTRY })?;
        let parse = ParseOptions {
            strict: self.options.strict_config,
        };
        self.config = Some((ModuleConfig::parse(&text, parse)?, text));
        Ok(())
    }

    fn exports<R: Read>(&mut self, entry: &mut R, size: u64) -> Result<(), PackageError> {
        let limit = self.options.limits.max_exports_bytes;
        let bytes = read_payload(
            entry,
            EXPORTS_ENTRY,
            size,
            limit,
            "max_exports_bytes",
            self.meters,
        )?;
        let text = String::from_utf8(bytes).map_err(|_| PackageError::NotUtf8 {
            path: EXPORTS_ENTRY,
        })?;
        self.exports = Some((ExportsManifest::parse(&text)?, text));
        Ok(())
    }

    fn logo<R: Read>(&mut self, entry: &mut R, size: u64) -> Result<(), PackageError> {
        let limit = self.options.limits.max_logo_bytes;
        match self.mode {
            Mode::Full => {
                let logo = read_payload(
                    entry,
                    LOGO_ENTRY,
                    size,
                    limit,
                    "max_logo_bytes",
                    self.meters,
                )?;
                layout::check_logo(&logo, limit)?;
                self.logo = Some(logo);
            }
            Mode::ExportsOnly | Mode::Component => {
                check_size(LOGO_ENTRY, size, limit, "max_logo_bytes")?;
                let head = read_head(entry, PNG_SIGNATURE.len(), self.meters)?;
                layout::check_logo(&head, limit)?;
            }
        }
        Ok(())
    }

    fn fs_dir(&mut self, relative: Option<&str>) -> Result<(), PackageError> {
        if !self.mode.keeps_files() {
            return Ok(());
        }
        match relative {
            Some(relative) => self.extractor.dir(relative),
            None => self.extractor.root(),
        }
        Ok(())
    }

    fn fs_file<R: Read>(
        &mut self,
        entry: &mut R,
        path: &str,
        relative: &str,
        size: u64,
    ) -> Result<(), PackageError> {
        let limits = &self.options.limits;
        check_size(path, size, limits.max_fs_entry_bytes, "max_fs_entry_bytes")?;
        let total = self.fs_total.saturating_add(size);
        if total > limits.max_fs_bytes {
            return Err(PackageError::FsTooLarge {
                path: path.to_owned(),
                total,
                limit: limits.max_fs_bytes,
            });
        }
        self.fs_total = total;
        if !self.mode.keeps_files() {
            return Ok(());
        }

        // Staged in the spool; the file is made once the whole archive has
        // passed (see `Extractor`).
        let spool = self.extractor.spool()?;
        // Never more than the header declared, which is within the caps.
        let mut data = entry.take(size);
        let mut buffer = vec![0u8; 64 * 1024];
        let mut copied: u64 = 0;
        loop {
            let n = match data.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.meters.stream_error(e)),
            };
            spool
                .write_all(&buffer[..n])
                .map_err(|e| PackageError::io(std::env::temp_dir(), e))?;
            copied += n as u64;
        }
        if copied != size {
            return Err(cut_short(path, size, copied));
        }
        self.extractor.file(relative, size);
        Ok(())
    }

    fn finish(self) -> Result<Contents, PackageError> {
        if self.headers == 0 {
            return Err(corrupt("the archive has no entries"));
        }
        if !self.pending.is_empty() {
            return Err(corrupt(
                "the archive ends with extension headers that describe no entry",
            ));
        }
        let wasm = self
            .wasm
            .ok_or(PackageError::Missing { path: WASM_ENTRY })?;
        let (config, config_text) = self
            .config
            .ok_or(PackageError::Missing { path: CONFIG_ENTRY })?;
        let (exports, exports_text) = self.exports.ok_or(PackageError::Missing {
            path: EXPORTS_ENTRY,
        })?;
        // Every check of the archive has passed: only now does the attached
        // directory reach the disk.
        let mut warnings = self.warnings;
        let fs = self.extractor.finish(&mut warnings)?;
        Ok(Contents {
            config,
            config_text,
            exports_text,
            wasm,
            exports,
            logo: self.logo,
            fs,
            warnings,
        })
    }
}

fn special(path: &EntryPath, kind: &str) -> PackageError {
    PackageError::SpecialEntry {
        path: path.text.clone(),
        kind: kind.to_owned(),
    }
}

pub(crate) fn check_size(
    path: &str,
    size: u64,
    limit: u64,
    cap: &'static str,
) -> Result<(), PackageError> {
    if size > limit {
        return Err(PackageError::EntryTooLarge {
            path: path.to_owned(),
            size,
            limit,
            cap,
        });
    }
    Ok(())
}

fn cut_short(path: &str, declared: u64, found: u64) -> PackageError {
    corrupt(format!(
        "`{path}` is cut short: its header declares {declared} bytes but only {found} follow"
    ))
}

/// Reads an entry's payload whole: refused up front if its header declares
/// more than `limit`, and never reading more than `limit + 1` bytes whatever
/// the header says.
fn read_payload<R: Read + ?Sized>(
    entry: &mut R,
    path: &str,
    size: u64,
    limit: u64,
    cap: &'static str,
    meters: &Meters,
) -> Result<Vec<u8>, PackageError> {
    check_size(path, size, limit, cap)?;
    let capacity = usize::try_from(size.min(INITIAL_CAPACITY)).unwrap_or(0);
    let mut data = Vec::with_capacity(capacity);
    entry
        .take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|e| meters.stream_error(e))?;
    let read = data.len() as u64;
    check_size(path, read, limit, cap)?;
    if read != size {
        return Err(cut_short(path, size, read));
    }
    Ok(data)
}

/// Reads up to the first `len` bytes of an entry; the tar reader skips the
/// rest when it moves on.
fn read_head<R: Read>(entry: &mut R, len: usize, meters: &Meters) -> Result<Vec<u8>, PackageError> {
    let mut head = Vec::with_capacity(len);
    entry
        .take(len as u64)
        .read_to_end(&mut head)
        .map_err(|e| meters.stream_error(e))?;
    Ok(head)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::fs::created;
    use crate::{COMPONENT_PREAMBLE, PackageLimits};

    /// A package with `fs_files` empty files under `fs/`, then one more
    /// entry.
    fn package(fs_files: usize) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |path: &str, data: &[u8]| {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, path, data).unwrap();
        };
        let mut wasm = COMPONENT_PREAMBLE.to_vec();
        wasm.extend_from_slice(b"body");
        add("surrealism/mod.wasm", &wasm);
        add(
            "surrealism/surrealism.toml",
            b"abi = 2\n[package]\norganisation = \"a\"\nname = \"b\"\nversion = \"1.0.0\"\n",
        );
        add("surrealism/exports.toml", b"functions = []\n");
        for i in 0..fs_files {
            add(&format!("surrealism/fs/f{i}"), b"");
        }
        add("surrealism/fs/last", b"x");
        zstd::encode_all(&tar.into_inner().unwrap()[..], 1).unwrap()
    }

    fn options(max_entries: u64) -> ReadOptions {
        ReadOptions {
            limits: PackageLimits {
                max_entries,
                ..PackageLimits::default()
            },
            ..ReadOptions::default()
        }
    }

    #[test]
    fn a_package_over_the_entry_cap_writes_nothing_to_disk() {
        let before = created::count();
        let error = crate::Package::from_bytes(&package(100), &options(50)).unwrap_err();
        assert!(
            matches!(error, PackageError::TooManyEntries { limit: 50 }),
            "{error}"
        );
        assert_eq!(
            created::count(),
            before,
            "files were made before the refusal"
        );

        // Within the cap the same package is extracted whole, once.
        let package = crate::Package::from_bytes(&package(10), &options(50)).unwrap();
        assert_eq!(created::count(), before + 1);
        let root = package.fs_path().unwrap();
        assert_eq!(std::fs::read_dir(root).unwrap().count(), 11);
        assert_eq!(std::fs::read(root.join("last")).unwrap(), b"x");
    }
}
