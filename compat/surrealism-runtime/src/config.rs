//! `surrealism.toml`, in 0.6.5's model.
//!
//! Parsing and writing go through this model with serde, as 0.6.5 does, so
//! a file reads the same here as there; loading converts it into surli's
//! `ModuleConfig`, which carries the same keys.

use semver::Version;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use surrealism_types::err::{PrefixErr, SurrealismResult};

use crate::capabilities::SurrealismCapabilities;

/// The language a module is written in; Rust is the only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Rust crate built for `wasm32-wasip2` with the guest SDK.
    #[default]
    Rust,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rust => f.write_str("rust"),
        }
    }
}

/// The plugin ABI a module targets. A file without `abi` reads as 0, which
/// no runtime accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AbiVersion(pub u32);

impl AbiVersion {
    /// The ABI this runtime serves (and surli's).
    pub const CURRENT: Self = Self(2);
}

impl Serialize for AbiVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AbiVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The integer and legacy string forms are read by surli's own type.
        surli::config::AbiVersion::deserialize(deserializer).map(|abi| Self(abi.0))
    }
}

/// A module's `surrealism.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SurrealismConfig {
    /// The module's language.
    #[serde(default)]
    pub target: Target,
    /// `[package]`: who made the module, its name and version.
    #[serde(rename = "package")]
    pub meta: SurrealismMeta,
    /// `[capabilities]`: what the module may do, and its limits.
    #[serde(default)]
    pub capabilities: SurrealismCapabilities,
    /// `abi`: the plugin ABI.
    #[serde(default)]
    pub abi: AbiVersion,
    /// `[attach]`: what is bundled with the module.
    #[serde(default)]
    pub attach: SurrealismAttach,
}

/// `[attach]` of `surrealism.toml`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SurrealismAttach {
    /// A directory bundled into the package and mounted read-only at `/`
    /// for the module (relative to the project, or absolute).
    pub fs: Option<String>,
}

/// `[package]` of `surrealism.toml`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SurrealismMeta {
    /// The publishing organisation.
    pub organisation: String,
    /// The module's name.
    pub name: String,
    /// The module's version.
    pub version: Version,
}

impl SurrealismConfig {
    /// Reads `surrealism.toml` text.
    pub fn parse(s: &str) -> SurrealismResult<Self> {
        toml::from_str(s).prefix_err(|| "Failed to parse Surrealism config")
    }

    /// Writes the configuration as `surrealism.toml` text.
    pub fn to_toml(&self) -> SurrealismResult<String> {
        toml::to_string(self).prefix_err(|| "Failed to serialize Surrealism config")
    }

    /// `organisation-name-version.surli`, the package's conventional name.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.surli",
            self.meta.organisation, self.meta.name, self.meta.version
        )
    }

    /// The same configuration in surli's model.
    pub(crate) fn to_surli(&self) -> surli::ModuleConfig {
        surli::ModuleConfig {
            target: surli::config::Target::Rust,
            // 0.6.5 writes `abi = 0` for a file that had none; surli keeps
            // "none" apart from a number, and refuses both alike.
            abi: (self.abi.0 != 0).then_some(surli::config::AbiVersion(self.abi.0)),
            meta: surli::config::PackageMeta {
                organisation: self.meta.organisation.clone(),
                name: self.meta.name.clone(),
                version: self.meta.version.clone(),
            },
            capabilities: self.capabilities.to_surli(),
            attach: surli::config::Attach {
                fs: self.attach.fs.clone(),
            },
        }
    }

    /// A configuration read by surli, in 0.6.5's model.
    pub(crate) fn from_surli(config: &surli::ModuleConfig) -> Self {
        Self {
            target: Target::Rust,
            meta: SurrealismMeta {
                organisation: config.meta.organisation.clone(),
                name: config.meta.name.clone(),
                version: config.meta.version.clone(),
            },
            capabilities: SurrealismCapabilities::from_surli(&config.capabilities),
            abi: AbiVersion(config.abi.map_or(0, |abi| abi.0)),
            attach: SurrealismAttach {
                fs: config.attach.fs.clone(),
            },
        }
    }
}
