//! A loaded package and what it holds.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use surli_config::{ConfigWarning, ModuleConfig};

use crate::error::PackageWarning;
use crate::exports::ExportsManifest;
use crate::fs::AttachedFs;
use crate::record::{ComponentBytes, Recordable};

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
    pub(crate) wasm: ComponentBytes,
    pub(crate) exports: ExportsManifest,
    pub(crate) logo: Option<Vec<u8>>,
    pub(crate) fs: Option<AttachedFs>,
    pub(crate) wasm_sha256: [u8; 32],
    pub(crate) package_sha256: [u8; 32],
    pub(crate) warnings: Vec<PackageWarning>,
    /// The texts a [`PackageRecord`](crate::PackageRecord) keeps; `None`
    /// for a package assembled from parts.
    pub(crate) recordable: Option<Box<Recordable>>,
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
    ///
    /// A package rebuilt from a [`PackageRecord`](crate::PackageRecord)
    /// decompresses it here, on first use. Should that fail (a damaged or
    /// forged record: see [`try_wasm`](Self::try_wasm), which says why),
    /// the failure is logged and the slice is empty.
    pub fn wasm(&self) -> &[u8] {
        match self.wasm.get() {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::error!(
                    module = %self.config.meta.name,
                    "the component cannot be read from its package: {error}"
                );
                &[]
            }
        }
    }

    /// The component, decompressed now if the package was rebuilt from a
    /// record and nothing asked for it yet.
    ///
    /// # Errors
    ///
    /// [`PackageError::StaleRecord`](crate::PackageError::StaleRecord)
    /// when the package's bytes do not hold the component its record names.
    pub fn try_wasm(&self) -> Result<&[u8], crate::PackageError> {
        self.wasm.get().map(|bytes| &bytes[..])
    }

    /// The component, shared: cheap to clone into another thread. Empty
    /// where [`wasm`](Self::wasm) is.
    pub fn wasm_shared(&self) -> Arc<[u8]> {
        match self.wasm.get() {
            Ok(bytes) => Arc::clone(bytes),
            Err(_) => Arc::from(self.wasm()),
        }
    }

    /// The component as a handle that decompresses it when first asked,
    /// cheap to clone into another thread.
    pub fn component_bytes(&self) -> ComponentBytes {
        self.wasm.clone()
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

/// What a [`Package`] is made of, for an embedder that assembles packages
/// from their pieces ([`Package::from_parts`]) or takes one apart
/// ([`Package::into_parts`]).
#[derive(Debug)]
pub struct PackageParts {
    /// The module configuration.
    pub config: ModuleConfig,
    /// The component.
    pub wasm: Arc<[u8]>,
    /// The exported functions.
    pub exports: ExportsManifest,
    /// The PNG logo, if any.
    pub logo: Option<Vec<u8>>,
    /// The extracted attached directory, if any.
    pub fs: Option<AttachedFs>,
}

impl Package {
    /// A package assembled from its pieces instead of read from a `.surli`
    /// file, for an embedder that holds them already (the original
    /// runtime's `SurrealismPackage` is such a set of pieces).
    ///
    /// The component must be a component, and a logo a PNG, as in a file;
    /// the logo is held to the default cap. The pieces are otherwise taken
    /// as given (the read-time caps are for untrusted archives). There are no package bytes, so
    /// [`package_sha256`](Self::package_sha256) is the SHA-256 of the
    /// component, like [`wasm_sha256`](Self::wasm_sha256).
    ///
    /// # Errors
    ///
    /// [`PackageError::NotAComponent`] or [`PackageError::BadLogo`].
    pub fn from_parts(parts: PackageParts) -> Result<Self, crate::PackageError> {
        crate::layout::check_component(&parts.wasm)?;
        if let Some(logo) = &parts.logo {
            crate::layout::check_logo(logo, crate::PackageLimits::default().max_logo_bytes)?;
        }
        let wasm_sha256: [u8; 32] = Sha256::digest(&parts.wasm).into();
        Ok(Self {
            config: parts.config,
            config_warnings: Vec::new(),
            wasm: ComponentBytes::ready(parts.wasm),
            exports: parts.exports,
            logo: parts.logo,
            fs: parts.fs,
            wasm_sha256,
            package_sha256: wasm_sha256,
            warnings: Vec::new(),
            recordable: None,
        })
    }

    /// Takes the package apart. The attached directory stays on disk for as
    /// long as the returned [`AttachedFs`] lives.
    ///
    /// # Errors
    ///
    /// Those of [`try_wasm`](Self::try_wasm), for a package rebuilt from a
    /// record.
    pub fn into_parts(self) -> Result<PackageParts, crate::PackageError> {
        let wasm = Arc::clone(self.wasm.get()?);
        Ok(PackageParts {
            config: self.config,
            wasm,
            exports: self.exports,
            logo: self.logo,
            fs: self.fs,
        })
    }
}

impl fmt::Debug for Package {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Package")
            .field("config", &self.config)
            .field("config_warnings", &self.config_warnings)
            .field("wasm", &self.wasm)
            .field("exports", &self.exports.functions.len())
            .field("logo_len", &self.logo.as_ref().map(Vec::len))
            .field("fs", &self.fs_path())
            .field("wasm_sha256", &self.wasm_sha256_hex())
            .field("package_sha256", &self.package_sha256_hex())
            .field("warnings", &self.warnings)
            .finish()
    }
}
