//! A loaded package and what it holds.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use surli_config::{ConfigWarning, ModuleConfig};

use crate::error::PackageWarning;
use crate::exports::ExportsManifest;
use crate::fs::AttachedFs;

/// A `.surli` package that passed every check of the reader.
///
/// Built by [`Package::read_file`], [`Package::from_bytes`] or
/// [`Package::from_reader`]. The ABI in its configuration is *not* checked
/// here (see [`ModuleConfig::check_abi`]), so tools can show a package built
/// for another runtime.
///
/// If the package has an attached directory, it lives on disk for as long
/// as this value does.
pub struct Package {
    pub(crate) config: ModuleConfig,
    pub(crate) config_warnings: Vec<ConfigWarning>,
    pub(crate) wasm: Arc<[u8]>,
    pub(crate) exports: ExportsManifest,
    pub(crate) logo: Option<Vec<u8>>,
    pub(crate) fs: Option<AttachedFs>,
    pub(crate) wasm_sha256: [u8; 32],
    pub(crate) package_sha256: [u8; 32],
    pub(crate) warnings: Vec<PackageWarning>,
}

impl Package {
    /// The module configuration from `surrealism/surrealism.toml`.
    pub fn config(&self) -> &ModuleConfig {
        &self.config
    }

    /// What looked wrong in `surrealism.toml`: unknown keys, patterns that
    /// never match.
    pub fn config_warnings(&self) -> &[ConfigWarning] {
        &self.config_warnings
    }

    /// The component, `surrealism/mod.wasm`.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// The component, shared: cheap to clone into another thread.
    pub fn wasm_shared(&self) -> Arc<[u8]> {
        Arc::clone(&self.wasm)
    }

    /// The exported functions from `surrealism/exports.toml`.
    pub fn exports(&self) -> &ExportsManifest {
        &self.exports
    }

    /// The PNG logo, if the package has one.
    pub fn logo(&self) -> Option<&[u8]> {
        self.logo.as_deref()
    }

    /// The extracted attached directory, if the package has one.
    pub fn fs(&self) -> Option<&AttachedFs> {
        self.fs.as_ref()
    }

    /// The directory to mount at `/` in the guest, if the package has one.
    pub fn fs_path(&self) -> Option<&Path> {
        self.fs.as_ref().map(AttachedFs::path)
    }

    /// SHA-256 of `surrealism/mod.wasm`.
    pub fn wasm_sha256(&self) -> &[u8; 32] {
        &self.wasm_sha256
    }

    /// SHA-256 of `surrealism/mod.wasm`, as lowercase hex.
    pub fn wasm_sha256_hex(&self) -> String {
        hex::encode(self.wasm_sha256)
    }

    /// SHA-256 of the compressed package exactly as read.
    pub fn package_sha256(&self) -> &[u8; 32] {
        &self.package_sha256
    }

    /// SHA-256 of the compressed package, as lowercase hex.
    pub fn package_sha256_hex(&self) -> String {
        hex::encode(self.package_sha256)
    }

    /// What looked wrong in the package itself, such as skipped entries.
    pub fn warnings(&self) -> &[PackageWarning] {
        &self.warnings
    }
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("config", &self.config)
            .field("config_warnings", &self.config_warnings)
            .field("wasm_len", &self.wasm.len())
            .field("exports", &self.exports.functions.len())
            .field("logo_len", &self.logo.as_ref().map(Vec::len))
            .field("fs", &self.fs_path())
            .field("wasm_sha256", &self.wasm_sha256_hex())
            .field("package_sha256", &self.package_sha256_hex())
            .field("warnings", &self.warnings)
            .finish()
    }
}
