//! Writing a package, byte for byte the same from the same inputs.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use surli_config::ModuleConfig;
use tar::{EntryType, Header};

use crate::error::PackageError;
use crate::exports::ExportsManifest;
use crate::fs::{SourceEntry, walk_source};
use crate::layout::{self, CONFIG_ENTRY, EXPORTS_ENTRY, LOGO_ENTRY, WASM_ENTRY};
use crate::limits::PackageLimits;
use crate::read::{check_extension, check_size};

const BLOCK: u64 = 512;
/// A GNU header's name field; longer paths need a long-name header.
const NAME_FIELD: usize = 100;

/// Builds a `.surli` package.
///
/// The output depends on the inputs alone: GNU tar headers with mtime 0,
/// uid and gid 0, no user or group names, mode 0644 for files and 0755 for
/// directories; entries in the original runtime's order (`mod.wasm`,
/// `surrealism.toml`, `exports.toml`, `logo.png`, then the attached
/// directory sorted by path); one zstd frame at the library's default level.
/// Every input is checked against the same [`PackageLimits`] the reader
/// applies, so a package this writes is one the reader accepts.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use surli_config::{ModuleConfig, ParseOptions};
/// use surli_package::{ExportsManifest, PackageWriter};
///
/// let config = ModuleConfig::parse(&std::fs::read_to_string("surrealism.toml")?, ParseOptions::default())?.config;
/// let wasm = std::fs::read("target/wasm32-wasip2/release/plugin.wasm")?;
/// let exports = ExportsManifest::parse(&std::fs::read_to_string("exports.toml")?)?;
/// PackageWriter::new(&config, &wasm, &exports)
///     .fs_dir("assets")
///     .write_file(config.file_name())?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PackageWriter<'a> {
    config: &'a ModuleConfig,
    wasm: &'a [u8],
    exports: &'a ExportsManifest,
    logo: Option<&'a [u8]>,
    fs_dir: Option<PathBuf>,
    limits: PackageLimits,
}

impl<'a> PackageWriter<'a> {
    /// A package of the three required parts, under the default limits.
    pub fn new(config: &'a ModuleConfig, wasm: &'a [u8], exports: &'a ExportsManifest) -> Self {
        Self {
            config,
            wasm,
            exports,
            logo: None,
            fs_dir: None,
            limits: PackageLimits::default(),
        }
    }

    /// Adds a PNG logo.
    #[must_use]
    pub fn logo(mut self, logo: &'a [u8]) -> Self {
        self.logo = Some(logo);
        self
    }

    /// Packs the directory `dir` as the attached directory.
    #[must_use]
    pub fn fs_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.fs_dir = Some(dir.into());
        self
    }

    /// Holds the package to `limits` instead of the defaults.
    #[must_use]
    pub fn limits(mut self, limits: PackageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Writes the package to `out`.
    ///
    /// Every check runs before the first byte is written; only an I/O error
    /// (or a file of the attached directory changing meanwhile) can leave
    /// `out` with a partial package.
    pub fn write_to<W: Write>(&self, out: W) -> Result<(), PackageError> {
        let plan = self.plan()?;
        let output_error = |e: io::Error| PackageError::io(None, e);
        let encoder = zstd::stream::write::Encoder::new(out, 0).map_err(output_error)?;
        let mut tar = tar::Builder::new(encoder);
        for part in &plan.parts {
            let size = part.data.len() as u64;
            append(
                &mut tar,
                part.path,
                EntryType::Regular,
                size,
                &part.data[..],
            )
            .map_err(output_error)?;
        }
        for entry in &plan.fs {
            let Some(size) = entry.size else {
                append(
                    &mut tar,
                    &entry.archive_path,
                    EntryType::Directory,
                    0,
                    io::empty(),
                )
                .map_err(output_error)?;
                continue;
            };
            let host_error = |e: io::Error| PackageError::io(entry.host.clone(), e);
            let file = File::open(&entry.host).map_err(host_error)?;
            // A file that grew since it was listed is cut at the listed size.
            let mut source = Source {
                inner: file.take(size),
                read: 0,
                failed: None,
            };
            let appended = append(
                &mut tar,
                &entry.archive_path,
                EntryType::Regular,
                size,
                &mut source,
            );
            if let Some(error) = source.failed.take() {
                return Err(host_error(error));
            }
            appended.map_err(output_error)?;
            if source.read != size {
                return Err(host_error(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the file shrank from {size} to {} bytes while it was being packed",
                        source.read
                    ),
                )));
            }
        }
        let encoder = tar.into_inner().map_err(output_error)?;
        encoder.finish().map_err(output_error)?;
        Ok(())
    }

    /// Writes the package into memory.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PackageError> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// Writes the package to the file `path`, whose name must end in
    /// `.surli` (see [`ModuleConfig::file_name`] for the conventional one).
    ///
    /// The package goes to a temporary file in the same directory first and
    /// is renamed into place once complete, so a failure never leaves a
    /// partial package behind and leaves an existing file at `path`
    /// untouched; a success replaces that file atomically.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), PackageError> {
        let path = path.as_ref();
        check_extension(path)?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let io_error = |e: io::Error| PackageError::io(path.to_path_buf(), e);
        let temp = tempfile::Builder::new()
            .prefix(".surli-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io_error)?;
        let mut out = BufWriter::new(temp);
        self.write_to(&mut out).map_err(|e| match e {
            PackageError::Io { path: None, error } => io_error(error),
            other => other,
        })?;
        let temp = out.into_inner().map_err(|e| io_error(e.into_error()))?;
        temp.as_file().sync_all().map_err(io_error)?;
        // A temporary file is private to its owner; a package is not.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            temp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(io_error)?;
        }
        temp.persist(path).map_err(|e| io_error(e.error))?;
        Ok(())
    }

    /// Checks every input against the limits and lists what to write.
    fn plan(&self) -> Result<Plan<'_>, PackageError> {
        let limits = &self.limits;
        check_part(
            WASM_ENTRY,
            self.wasm.len(),
            limits.max_wasm_bytes,
            "max_wasm_bytes",
        )?;
        layout::check_component(self.wasm)?;
        let config = self.config.to_toml()?;
        check_part(
            CONFIG_ENTRY,
            config.len(),
            limits.max_config_bytes,
            "max_config_bytes",
        )?;
        let exports = self.exports.to_toml()?;
        check_part(
            EXPORTS_ENTRY,
            exports.len(),
            limits.max_exports_bytes,
            "max_exports_bytes",
        )?;
        if let Some(logo) = self.logo {
            layout::check_logo(logo, limits.max_logo_bytes)?;
        }

        let mut parts = vec![
            Part {
                path: WASM_ENTRY,
                data: self.wasm.into(),
            },
            Part {
                path: CONFIG_ENTRY,
                data: config.into_bytes().into(),
            },
            Part {
                path: EXPORTS_ENTRY,
                data: exports.into_bytes().into(),
            },
        ];
        if let Some(logo) = self.logo {
            parts.push(Part {
                path: LOGO_ENTRY,
                data: logo.into(),
            });
        }
        let fixed = parts.len() as u64;
        if fixed > limits.max_entries {
            return Err(PackageError::TooManyEntries {
                limit: limits.max_entries,
            });
        }
        let fs = match &self.fs_dir {
            Some(dir) => walk_source(dir, limits, limits.max_entries - fixed)?,
            None => Vec::new(),
        };

        let tar_bytes = parts
            .iter()
            .map(|part| entry_bytes(part.path, part.data.len() as u64))
            .chain(
                fs.iter()
                    .map(|e| entry_bytes(&e.archive_path, e.size.unwrap_or(0))),
            )
            .fold(2 * BLOCK, u64::saturating_add);
        if tar_bytes > limits.max_total_bytes {
            return Err(PackageError::TooMuchData {
                read: tar_bytes,
                limit: limits.max_total_bytes,
            });
        }
        Ok(Plan { parts, fs })
    }
}

/// Writes a package to `out` in one call; see [`PackageWriter`].
pub fn write_package(
    config: &ModuleConfig,
    wasm: &[u8],
    exports: &ExportsManifest,
    logo: Option<&[u8]>,
    fs_dir: Option<&Path>,
    out: impl Write,
) -> Result<(), PackageError> {
    let mut writer = PackageWriter::new(config, wasm, exports);
    if let Some(logo) = logo {
        writer = writer.logo(logo);
    }
    if let Some(dir) = fs_dir {
        writer = writer.fs_dir(dir);
    }
    writer.write_to(out)
}

struct Plan<'a> {
    parts: Vec<Part<'a>>,
    fs: Vec<SourceEntry>,
}

struct Part<'a> {
    path: &'static str,
    data: std::borrow::Cow<'a, [u8]>,
}

/// The reader's size check, for a part held in memory: the writer applies
/// the same caps so it never writes a package the reader would refuse.
fn check_part(path: &str, len: usize, limit: u64, cap: &'static str) -> Result<(), PackageError> {
    check_size(path, u64::try_from(len).unwrap_or(u64::MAX), limit, cap)
}

/// The bytes an entry takes in the tar: header, padded data, and a long-name
/// header with its padded data when the path does not fit the name field.
fn entry_bytes(path: &str, size: u64) -> u64 {
    let padded = |n: u64| n.div_ceil(BLOCK).saturating_mul(BLOCK);
    let long_name = if path.len() > NAME_FIELD {
        BLOCK + padded(path.len() as u64 + 1)
    } else {
        0
    };
    long_name + BLOCK + padded(size)
}

/// A file of the attached directory being packed. It keeps its own read
/// error, so the error can name the file rather than the output, and counts
/// what it gave, so a file that shrank since it was listed is caught.
struct Source<R> {
    inner: R,
    read: u64,
    failed: Option<io::Error>,
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.read += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let summary = io::Error::new(e.kind(), e.to_string());
                self.failed = Some(e);
                Err(summary)
            }
        }
    }
}

/// Appends one entry with the fixed metadata that makes output reproducible.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    kind: EntryType,
    size: u64,
    data: impl Read,
) -> io::Result<()> {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(if kind == EntryType::Directory {
        0o755
    } else {
        0o644
    });
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    // The builder writes a GNU long-name header first when the path does not
    // fit, and sets the checksum.
    tar.append_data(&mut header, path, data)
}
