//! The caps every package read and write is held to, and the options of a
//! read.

use std::path::PathBuf;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// How large a package and each of its parts may be.
///
/// A `.surli` file is a zstd-compressed tar, so a few kilobytes on disk can
/// claim gigabytes once inflated, and a tar header can claim any size. Every
/// cap here is checked against the size a header *declares* before anything
/// is read, and again while reading, so a lying header gains nothing. The
/// writer applies the same caps, so it never produces a package the reader
/// would refuse.
///
/// The defaults fit every plugin we know of with a wide margin; raise a cap
/// only for a package you trust (an administrator's own build, say), never
/// to make an untrusted upload load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageLimits {
    /// The size of the compressed `.surli` file itself.
    ///
    /// This bounds the memory a read takes before decompression starts:
    /// [`Package::from_reader`](crate::Package::from_reader) and
    /// [`Package::read_file`](crate::Package::read_file) hold the compressed
    /// bytes in memory to hash them. Raise it for a package that embeds a
    /// large, poorly compressible attached directory.
    ///
    /// Default: 256 MiB.
    pub max_package_bytes: u64,

    /// The number of decompressed bytes pulled out of zstd in all: tar
    /// headers, padding, skipped entries and anything after the end of the
    /// tar included.
    ///
    /// This is the decompression-bomb guard. zstd reaches ratios of tens of
    /// thousands to one on repetitive data, so without it a 50 KB package can
    /// keep a reader busy for minutes; the read stops with
    /// [`PackageError::TooMuchData`](crate::PackageError::TooMuchData) as
    /// soon as one byte more than this has come out. It must exceed the sum
    /// of the parts you expect, plus 512 bytes of header per entry. Raise it
    /// together with [`max_wasm_bytes`](Self::max_wasm_bytes) or
    /// [`max_fs_bytes`](Self::max_fs_bytes).
    ///
    /// Default: 512 MiB.
    pub max_total_bytes: u64,

    /// The number of tar entries: files, directories, and entries that are
    /// skipped because they mean nothing to a package.
    ///
    /// An entry costs a header and a path in memory even when it is empty,
    /// so this bounds the work of listing an archive of millions of empty
    /// files. GNU and PAX extension headers belong to the entry they
    /// describe and are not counted separately. Raise it for an attached
    /// directory with many small files.
    ///
    /// Default: 10,000.
    pub max_entries: u64,

    /// The size of `surrealism/mod.wasm`, which is held in memory.
    ///
    /// Release builds of real plugins are a few MiB. Raise it for a
    /// component that embeds large data or is built without optimisation.
    ///
    /// Default: 128 MiB.
    pub max_wasm_bytes: u64,

    /// The size of `surrealism/surrealism.toml`.
    ///
    /// The file holds a few dozen lines; the cap keeps a hostile one from
    /// making the TOML parser chew on megabytes. There is no reason to raise
    /// it short of a very long `allow_net` or `allow_functions` list.
    ///
    /// Default: 64 KiB.
    pub max_config_bytes: u64,

    /// The size of `surrealism/exports.toml`.
    ///
    /// Each exported function takes a few hundred bytes of hex-encoded
    /// signature. Raise it for a module that exports thousands of functions.
    ///
    /// Default: 4 MiB.
    pub max_exports_bytes: u64,

    /// The size of `surrealism/logo.png`.
    ///
    /// The default is the original runtime's own cap (`MAX_LOGO_BYTES`), so
    /// a package with a larger logo would not load there either; raise it
    /// only for packages meant for surli alone.
    ///
    /// Default: 256 KiB.
    pub max_logo_bytes: u64,

    /// The sum of the sizes of the files under `surrealism/fs/`, which are
    /// written to a temporary directory while the package is loaded.
    ///
    /// This is the disk a package may take. The default is the original
    /// runtime's (`DEFAULT_MAX_FS_BYTES`). Each file's declared size is
    /// added before the file is created, and the file receives exactly that
    /// many bytes, so the sum bounds what reaches the disk. Raise it for a
    /// plugin that ships a large model or dataset.
    ///
    /// Default: 100 MiB.
    pub max_fs_bytes: u64,

    /// The size of any one file under `surrealism/fs/`.
    ///
    /// Lower it below [`max_fs_bytes`](Self::max_fs_bytes) to catch a
    /// single runaway file early; raise both together for one large file.
    ///
    /// Default: 100 MiB.
    pub max_fs_entry_bytes: u64,

    /// The size of the data of one GNU long-name or long-link header, or of
    /// one PAX extended header.
    ///
    /// These carry paths longer than 100 bytes and other per-entry metadata,
    /// and are held in memory whole; without a cap a single such header
    /// could claim all of [`max_total_bytes`](Self::max_total_bytes) of
    /// memory. There is no reason to raise it: no file system accepts paths
    /// this long.
    ///
    /// Default: 64 KiB.
    pub max_extension_bytes: u64,
}

impl PackageLimits {
    /// These limits with `max_package_bytes` set to `max_package_bytes`.
    #[must_use]
    pub fn with_max_package_bytes(mut self, max_package_bytes: u64) -> Self {
        self.max_package_bytes = max_package_bytes;
        self
    }

    /// These limits with `max_total_bytes` set to `max_total_bytes`.
    #[must_use]
    pub fn with_max_total_bytes(mut self, max_total_bytes: u64) -> Self {
        self.max_total_bytes = max_total_bytes;
        self
    }

    /// These limits with `max_entries` set to `max_entries`.
    #[must_use]
    pub fn with_max_entries(mut self, max_entries: u64) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// These limits with `max_wasm_bytes` set to `max_wasm_bytes`.
    #[must_use]
    pub fn with_max_wasm_bytes(mut self, max_wasm_bytes: u64) -> Self {
        self.max_wasm_bytes = max_wasm_bytes;
        self
    }

    /// These limits with `max_config_bytes` set to `max_config_bytes`.
    #[must_use]
    pub fn with_max_config_bytes(mut self, max_config_bytes: u64) -> Self {
        self.max_config_bytes = max_config_bytes;
        self
    }

    /// These limits with `max_exports_bytes` set to `max_exports_bytes`.
    #[must_use]
    pub fn with_max_exports_bytes(mut self, max_exports_bytes: u64) -> Self {
        self.max_exports_bytes = max_exports_bytes;
        self
    }

    /// These limits with `max_logo_bytes` set to `max_logo_bytes`.
    #[must_use]
    pub fn with_max_logo_bytes(mut self, max_logo_bytes: u64) -> Self {
        self.max_logo_bytes = max_logo_bytes;
        self
    }

    /// These limits with `max_fs_bytes` set to `max_fs_bytes`.
    #[must_use]
    pub fn with_max_fs_bytes(mut self, max_fs_bytes: u64) -> Self {
        self.max_fs_bytes = max_fs_bytes;
        self
    }

    /// These limits with `max_fs_entry_bytes` set to `max_fs_entry_bytes`.
    #[must_use]
    pub fn with_max_fs_entry_bytes(mut self, max_fs_entry_bytes: u64) -> Self {
        self.max_fs_entry_bytes = max_fs_entry_bytes;
        self
    }

    /// These limits with `max_extension_bytes` set to `max_extension_bytes`.
    #[must_use]
    pub fn with_max_extension_bytes(mut self, max_extension_bytes: u64) -> Self {
        self.max_extension_bytes = max_extension_bytes;
        self
    }
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            max_package_bytes: 256 * MIB,
            max_total_bytes: 512 * MIB,
            max_entries: 10_000,
            max_wasm_bytes: 128 * MIB,
            max_config_bytes: 64 * KIB,
            max_exports_bytes: 4 * MIB,
            max_logo_bytes: 256 * KIB,
            max_fs_bytes: 100 * MIB,
            max_fs_entry_bytes: 100 * MIB,
            max_extension_bytes: 64 * KIB,
        }
    }
}

/// How to read a package.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// The caps the package is held to.
    pub limits: PackageLimits,
    /// Refuse unknown keys in `surrealism.toml` instead of warning about
    /// them (see [`surli_config::ParseOptions::strict`]).
    pub strict_config: bool,
    /// The directory under which the attached directory is extracted; the
    /// system temporary directory when `None`, or when this one cannot be
    /// used (a [`PackageWarning::TempBaseUnusable`](crate::PackageWarning)
    /// says so).
    pub temp_base: Option<PathBuf>,
    /// The name prefix of the extraction directory, so an operator can tell
    /// whose directories these are.
    ///
    /// Default: `SURREAL_MODFS_local_`, the original runtime's.
    pub temp_prefix: String,
}

impl ReadOptions {
    /// These options with the package limits set to `limits`.
    #[must_use]
    pub fn with_limits(mut self, limits: PackageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// These options with `strict_config` set to `strict_config`.
    #[must_use]
    pub fn with_strict_config(mut self, strict_config: bool) -> Self {
        self.strict_config = strict_config;
        self
    }

    /// These options with the temporary directory prefix set to `temp_prefix`.
    #[must_use]
    pub fn with_temp_prefix(mut self, temp_prefix: String) -> Self {
        self.temp_prefix = temp_prefix;
        self
    }

    /// These options with temporary directories made under `base`.
    #[must_use]
    pub fn with_temp_base(mut self, base: impl Into<PathBuf>) -> Self {
        self.temp_base = Some(base.into());
        self
    }
}

impl ReadOptions {
    /// The original runtime's prefix for extraction directories.
    pub const DEFAULT_TEMP_PREFIX: &'static str = "SURREAL_MODFS_local_";
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            limits: PackageLimits::default(),
            strict_config: false,
            temp_base: None,
            temp_prefix: Self::DEFAULT_TEMP_PREFIX.to_owned(),
        }
    }
}
