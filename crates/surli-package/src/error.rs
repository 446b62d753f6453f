//! Why a package could not be read or written, and what looked wrong in one
//! that could.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use surli_config::ConfigError;

/// Why a package could not be read or written.
///
/// Every refusal of an archive entry names the entry's path inside the
/// package; every cap that was hit names the [`PackageLimits`] field that
/// sets it, so an operator who trusts the package knows what to raise.
///
/// [`PackageLimits`]: crate::PackageLimits
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// The file name does not end in `.surli`.
    #[error("`{}` is not a .surli package: the file name must end in `.surli`", path.display())]
    NotSurli {
        /// The path as given.
        path: PathBuf,
    },

    /// The compressed package is larger than
    /// [`max_package_bytes`](crate::PackageLimits::max_package_bytes).
    #[error(
        "the package file is at least {size} bytes, over the {} cap `max_package_bytes`",
        Bytes(*limit)
    )]
    PackageTooLarge {
        /// How many bytes were seen before giving up (the file's length when
        /// it is known up front).
        size: u64,
        /// The cap it broke.
        limit: u64,
    },

    /// More than [`max_total_bytes`](crate::PackageLimits::max_total_bytes)
    /// came out of the decompressor: likely a decompression bomb.
    #[error(
        "the package decompresses to more than {} (stopped after {read} bytes), over the cap \
         `max_total_bytes`; it may be a decompression bomb",
        Bytes(*limit)
    )]
    TooMuchData {
        /// How many decompressed bytes were pulled before the read stopped;
        /// at most `limit + 1`.
        read: u64,
        /// The cap it broke.
        limit: u64,
    },

    /// The archive has more than
    /// [`max_entries`](crate::PackageLimits::max_entries) entries.
    #[error("the package has more than {limit} entries, over the cap `max_entries`")]
    TooManyEntries {
        /// The cap it broke.
        limit: u64,
    },

    /// One entry is larger than the cap for its kind.
    #[error("`{path}` is {size} bytes, over the {} cap `{cap}`", Bytes(*limit))]
    EntryTooLarge {
        /// The entry's path in the package.
        path: String,
        /// The size its header declares (or, when packing, the file's size).
        size: u64,
        /// The cap it broke.
        limit: u64,
        /// The [`PackageLimits`](crate::PackageLimits) field that sets the cap.
        cap: &'static str,
    },

    /// The files of the attached directory add up to more than
    /// [`max_fs_bytes`](crate::PackageLimits::max_fs_bytes).
    #[error(
        "the attached directory reaches {total} bytes with `{path}`, over the {} cap \
         `max_fs_bytes`",
        Bytes(*limit)
    )]
    FsTooLarge {
        /// The entry that crossed the cap.
        path: String,
        /// The total size including that entry.
        total: u64,
        /// The cap it broke.
        limit: u64,
    },

    /// An entry path that could land outside the extraction directory, or
    /// that cannot be represented safely on every platform.
    #[error("entry path `{path}` is refused: {reason}")]
    UnsafePath {
        /// The path as stored (lossily decoded if it is not UTF-8).
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A symbolic or hard link entry. Links are never created: one could
    /// point anywhere on the host.
    #[error(
        "`{path}` is a {kind}{}: links are refused because they could point outside the package",
        target.as_deref().map(|t| format!(" to `{t}`")).unwrap_or_default()
    )]
    LinkEntry {
        /// The entry's path in the package.
        path: String,
        /// Which kind of link.
        kind: LinkKind,
        /// Where it points, if the archive says.
        target: Option<String>,
    },

    /// A device, fifo, sparse or otherwise special entry.
    #[error("`{path}` is a {kind}: only regular files and directories are allowed in a package")]
    SpecialEntry {
        /// The entry's path in the package.
        path: String,
        /// What kind of entry it is, in words.
        kind: String,
    },

    /// The same path appears twice; the original runtime silently lets the
    /// last one win, so two readers could disagree on what a package holds.
    #[error("`{path}` appears more than once in the package")]
    DuplicateEntry {
        /// The entry's path in the package.
        path: String,
    },

    /// One of the three required files is absent.
    #[error(
        "the package has no `{path}`; every package needs `surrealism/mod.wasm`, \
             `surrealism/surrealism.toml` and `surrealism/exports.toml`"
    )]
    Missing {
        /// Which required file.
        path: &'static str,
    },

    /// `surrealism/mod.wasm` is not a WebAssembly component.
    #[error(
        "`surrealism/mod.wasm` is {found}, not a WebAssembly component: core modules and WASI \
         preview 1 builds are unsupported; build the module with `--target wasm32-wasip2`"
    )]
    NotAComponent {
        /// What the bytes look like instead.
        found: &'static str,
    },

    /// `surrealism/logo.png` is not a PNG.
    #[error("`surrealism/logo.png` is refused: {reason}")]
    BadLogo {
        /// What is wrong with it.
        reason: String,
    },

    /// A text file of the package is not UTF-8.
    #[error("`{path}` is not valid UTF-8")]
    NotUtf8 {
        /// Which file.
        path: &'static str,
    },

    /// `surrealism/surrealism.toml` could not be read, or the configuration
    /// could not be written.
    #[error("`surrealism/surrealism.toml`: {0}")]
    Config(ConfigError),

    /// `surrealism/exports.toml` could not be read or written.
    #[error(
        "`surrealism/exports.toml`: {}{message}",
        function.as_deref().map(|f| format!("function {f}: ")).unwrap_or_default()
    )]
    Exports {
        /// The function at fault, as `` `name` `` or `#index (the default
        /// export)`; `None` for the document as a whole.
        function: Option<String>,
        /// What is wrong.
        message: String,
    },

    /// The bytes are not a zstd-compressed tar: garbage, truncation, a bad
    /// header checksum and the like.
    #[error("the package is not a valid zstd-compressed tar: {message}")]
    Corrupt {
        /// What the decompressor or the tar reader found.
        message: String,
    },

    /// A [`PackageRecord`](crate::PackageRecord) does not fit the bytes it
    /// was applied to, or is not a record at all.
    #[error("the package record cannot be used: {reason}; read the package in full instead")]
    StaleRecord {
        /// What did not fit.
        reason: String,
    },

    /// Reading or writing a file on the host failed.
    #[error("{}", io_message(path.as_deref(), error))]
    Io {
        /// The file, when there is one to name.
        path: Option<PathBuf>,
        /// What the operating system said (in the message, not `source()`:
        /// messages here are complete on their own).
        error: io::Error,
    },

    /// The directory being packed contains a symbolic link. Links are not
    /// followed, so a package never carries files from outside the
    /// directory.
    #[error(
        "`{}` is a symbolic link; links are not packed, so that nothing outside the attached \
         directory ends up in the package: copy the file in instead",
        path.display()
    )]
    SourceLink {
        /// The link on the host.
        path: PathBuf,
    },

    /// The directory being packed contains something that is neither a
    /// regular file nor a directory.
    #[error(
        "`{}` is a {kind}: only regular files and directories can be packed",
        path.display()
    )]
    SourceSpecial {
        /// The file on the host.
        path: PathBuf,
        /// What kind of file it is, in words.
        kind: &'static str,
    },

    /// A file in the directory being packed has a name a package cannot
    /// carry.
    #[error("`{}` cannot be packed: {reason}", path.display())]
    SourceName {
        /// The file on the host.
        path: PathBuf,
        /// What is wrong with the name.
        reason: &'static str,
    },
}

impl PackageError {
    pub(crate) fn io(path: impl Into<Option<PathBuf>>, error: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn exports(function: Option<String>, message: impl Into<String>) -> Self {
        Self::Exports {
            function,
            message: message.into(),
        }
    }
}

fn io_message(path: Option<&Path>, error: &io::Error) -> String {
    match path {
        Some(path) => format!("`{}`: {error}", path.display()),
        None => format!("i/o error: {error}"),
    }
}

/// Which kind of link an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A symbolic link (tar type `2`).
    Symbolic,
    /// A hard link (tar type `1`).
    Hard,
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Symbolic => "symbolic link",
            Self::Hard => "hard link",
        })
    }
}

/// Something in a package that loads but is worth telling its author.
///
/// Each one is also logged with `tracing::warn!` as it is found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackageWarning {
    /// An entry that means nothing to a package was skipped. It still
    /// counted against the entry and decompressed-bytes caps.
    SkippedEntry {
        /// The entry's path in the package.
        path: String,
        /// Why it was skipped.
        reason: &'static str,
    },
    /// [`ReadOptions::temp_base`](crate::ReadOptions::temp_base) could not
    /// be used, so the attached directory went to the system temporary
    /// directory.
    TempBaseUnusable {
        /// The directory that was asked for.
        path: PathBuf,
        /// What went wrong there.
        reason: String,
    },
}

impl fmt::Display for PackageWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SkippedEntry { path, reason } => write!(f, "skipped `{path}`: {reason}"),
            Self::TempBaseUnusable { path, reason } => write!(
                f,
                "cannot extract the attached directory under `{}` ({reason}); using the system \
                 temporary directory instead",
                path.display()
            ),
        }
    }
}

/// A byte count written the way its cap is configured: `128 MiB`,
/// `64 KiB`, or `1000 bytes`.
pub(crate) struct Bytes(pub(crate) u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KIB: u64 = 1024;
        const MIB: u64 = 1024 * KIB;
        const GIB: u64 = 1024 * MIB;
        let n = self.0;
        if n >= GIB && n.is_multiple_of(GIB) {
            write!(f, "{} GiB", n / GIB)
        } else if n >= MIB && n.is_multiple_of(MIB) {
            write!(f, "{} MiB", n / MIB)
        } else if n >= KIB && n.is_multiple_of(KIB) {
            write!(f, "{} KiB", n / KIB)
        } else {
            write!(f, "{n} bytes")
        }
    }
}

// By hand rather than `#[from]`, which would also make the config error this
// error's `source()` and have chain-printing reporters show it twice.
impl From<ConfigError> for PackageError {
    fn from(error: ConfigError) -> Self {
        Self::Config(error)
    }
}
