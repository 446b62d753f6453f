//! `.surli` packages, read and written by surli's `surli::package` with
//! every guard it has (size caps, decompression bombs, unsafe paths and
//! links in the attached directory), presented in 0.6.5's types.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use surli::package::{PackageLimits, PackageParts, PackageWriter, ReadOptions};
use surrealism_types::err::{SurrealismError, SurrealismResult};

use crate::config::SurrealismConfig;
use crate::errors::other;
use crate::exports::ExportsManifest;

/// The largest logo, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;

/// The default cap on all attached files together: 100 MiB.
pub const DEFAULT_MAX_FS_BYTES: u64 = 100 * 1024 * 1024;

/// Checks that `bytes` is a PNG of at most [`MAX_LOGO_BYTES`].
pub fn verify_logo(bytes: &[u8]) -> SurrealismResult<()> {
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(other(format!(
            "logo.png is too large ({} bytes, max {MAX_LOGO_BYTES} bytes / {} KiB)",
            bytes.len(),
            MAX_LOGO_BYTES / 1024
        )));
    }
    if !bytes.starts_with(&surli::package::PNG_SIGNATURE) {
        return Err(other(
            "logo.png is not a valid PNG file (invalid file signature)",
        ));
    }
    Ok(())
}

/// A package's attached directory, extracted to a private temporary
/// directory that is removed when this value is dropped.
pub struct AttachedFs {
    inner: surli::package::AttachedFs,
}

impl AttachedFs {
    /// The directory the module sees as `/`.
    pub fn path(&self) -> &Path {
        self.inner.path()
    }
}

impl std::fmt::Debug for AttachedFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttachedFs")
            .field("root", &self.path())
            .finish()
    }
}

/// What a `.surli` package holds.
pub struct SurrealismPackage {
    /// `surrealism/surrealism.toml`.
    pub config: SurrealismConfig,
    /// `surrealism/mod.wasm`: the component.
    pub wasm: Vec<u8>,
    /// `surrealism/exports.toml`.
    pub exports: ExportsManifest,
    /// `surrealism/fs/`, extracted, when the package has one.
    pub fs: Option<AttachedFs>,
    /// `surrealism/logo.png`, when the package has one.
    pub logo: Option<Vec<u8>>,
}

/// How [`SurrealismPackage::from_reader`] extracts the attached directory.
pub struct UnpackOptions<'a> {
    /// Where to make the extraction directory (the system's temporary
    /// directory when `None`, or when this one is unusable).
    pub temp_base: Option<&'a Path>,
    /// The extraction directory's name prefix.
    pub temp_prefix: &'a str,
    /// The cap on all attached files together, in bytes.
    pub max_fs_bytes: u64,
}

impl Default for UnpackOptions<'_> {
    fn default() -> Self {
        Self {
            temp_base: None,
            temp_prefix: ReadOptions::DEFAULT_TEMP_PREFIX,
            max_fs_bytes: DEFAULT_MAX_FS_BYTES,
        }
    }
}

impl UnpackOptions<'_> {
    fn to_surli(&self) -> ReadOptions {
        let defaults = PackageLimits::default();
        let limits = defaults
            .with_max_fs_bytes(self.max_fs_bytes)
            // One file can be as large as all of them together.
            .with_max_fs_entry_bytes(self.max_fs_bytes)
            .with_max_total_bytes(
                defaults
                    .max_total_bytes
                    .max(self.max_fs_bytes.saturating_add(defaults.max_wasm_bytes)),
            );
        let mut options = ReadOptions::default()
            .with_limits(limits)
            .with_temp_prefix(self.temp_prefix.to_owned());
        options.temp_base = self.temp_base.map(Path::to_path_buf);
        options
    }
}

fn package_error(error: surli::PackageError) -> SurrealismError {
    other(error)
}

/// Reads only `surrealism/exports.toml` of a package: nothing is compiled,
/// kept or extracted (the other entries are still checked as they pass).
pub fn exports_manifest_from_reader<R: Read>(reader: R) -> SurrealismResult<ExportsManifest> {
    let manifest = surli::package::read_exports_only(reader, &ReadOptions::default())
        .map_err(package_error)?;
    ExportsManifest::from_surli(&manifest)
}

impl SurrealismPackage {
    /// Reads the `.surli` file at `file`.
    pub fn from_file(file: PathBuf) -> SurrealismResult<Self> {
        if file.extension().and_then(|e| e.to_str()) != Some("surli") {
            return Err(other("Only .surli files are supported"));
        }
        if !file.exists() {
            return Err(other(format!("File not found: {}", file.display())));
        }
        let archive = File::open(&file).map_err(|e| {
            other(format!(
                "Failed to open archive file {}: {e}",
                file.display()
            ))
        })?;
        Self::from_reader(archive, &UnpackOptions::default())
    }

    /// Reads a package from `reader`, extracting its attached directory as
    /// `opts` says.
    pub fn from_reader<R: Read>(reader: R, opts: &UnpackOptions<'_>) -> SurrealismResult<Self> {
        let package =
            surli::Package::from_reader(reader, &opts.to_surli()).map_err(package_error)?;
        for warning in package.warnings() {
            tracing::warn!("{warning}");
        }
        let PackageParts {
            config,
            wasm,
            exports,
            logo,
            fs,
        } = package.into_parts().map_err(package_error)?;
        Ok(Self {
            config: SurrealismConfig::from_surli(&config),
            wasm: wasm.to_vec(),
            exports: ExportsManifest::from_surli(&exports)?,
            fs: fs.map(|inner| AttachedFs { inner }),
            logo,
        })
    }

    /// Writes the package to `output` (which must end in `.surli`), with
    /// `fs_dir` as its attached directory. The write is atomic: a failed
    /// one leaves nothing behind.
    #[allow(clippy::needless_pass_by_value)] // 0.6.5's signature.
    pub fn pack(&self, output: PathBuf, fs_dir: Option<&Path>) -> SurrealismResult<()> {
        if output.extension().and_then(|e| e.to_str()) != Some("surli") {
            return Err(other("Output file must have .surli extension"));
        }
        match (&self.config.attach.fs, fs_dir) {
            (Some(attach), None) => tracing::warn!(
                attach_fs = %attach,
                "config.attach.fs is set but no fs_dir was given to pack()"
            ),
            (None, Some(dir)) => tracing::warn!(
                fs_dir = %dir.display(),
                "fs_dir was given to pack() but config.attach.fs is not set"
            ),
            _ => {}
        }
        if let Some(logo) = &self.logo {
            verify_logo(logo)?;
        }
        let config = self.config.to_surli();
        let exports = self.exports.to_surli()?;
        let mut writer = PackageWriter::new(&config, &self.wasm, &exports);
        if let Some(logo) = &self.logo {
            writer = writer.logo(logo);
        }
        if let Some(dir) = fs_dir {
            writer = writer.fs_dir(dir);
        }
        writer.write_file(&output).map_err(package_error)
    }

    /// The same package as surli's, for loading. The attached directory
    /// moves with it.
    pub(crate) fn into_surli(self) -> SurrealismResult<surli::Package> {
        let parts = PackageParts {
            config: self.config.to_surli(),
            wasm: Arc::from(self.wasm),
            exports: self.exports.to_surli()?,
            logo: self.logo,
            fs: self.fs.map(|fs| fs.inner),
        };
        surli::Package::from_parts(parts).map_err(package_error)
    }
}
