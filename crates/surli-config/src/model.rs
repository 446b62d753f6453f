//! The `surrealism.toml` data model, key for key as the original defines it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::functions::FunctionTargets;

/// A module's `surrealism.toml`.
///
/// Field order follows what TOML needs on output (plain values before
/// tables); the keys and defaults are the original runtime's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleConfig {
    /// `target`: the guest language; only `"rust"` exists.
    #[serde(default)]
    pub target: Target,
    /// `abi`: the host/guest ABI the module was built for. `None` when the
    /// key is missing, which the original reads as 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi: Option<AbiVersion>,
    /// `[package]`: who made the module and which version it is.
    #[serde(rename = "package")]
    pub meta: PackageMeta,
    /// `[capabilities]`: what the module may do and the limits it asks for.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// `[attach]`: a directory bundled into the package and mounted read-only.
    #[serde(default)]
    pub attach: Attach,
}

impl ModuleConfig {
    /// The ABI this runtime implements: the one every guest built with the
    /// `surrealism` SDK 0.3.x to 0.6.x speaks.
    pub const SUPPORTED_ABI: AbiVersion = AbiVersion(2);

    /// Checks that the module speaks the ABI this runtime implements.
    ///
    /// The ABI lives only in `surrealism.toml`; nothing in the component says
    /// which ABI it was built for.
    pub fn check_abi(&self) -> Result<(), ConfigError> {
        match self.abi {
            Some(abi) if abi == Self::SUPPORTED_ABI => Ok(()),
            found => Err(ConfigError::UnsupportedAbi {
                expected: Self::SUPPORTED_ABI.0,
                found: found.map(|abi| abi.0),
            }),
        }
    }

    /// Writes the model back as TOML that both surli and the original
    /// runtime read. Unknown keys of the source text are not kept: they were
    /// reported as warnings when it was parsed.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        Ok(toml::to_string(self)?)
    }

    /// The conventional package file name, `{organisation}-{name}-{version}.surli`.
    pub fn file_name(&self) -> String {
        format!(
            "{}-{}-{}.surli",
            self.meta.organisation, self.meta.name, self.meta.version
        )
    }
}

/// `target`: the language the guest is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A Rust guest built with the `surrealism` SDK; the only target.
    #[default]
    Rust,
}

/// `abi`: the version of the host/guest contract.
///
/// Written as an integer; the legacy strings `"p1"`/`"1"` and `"p2"`/`"2"`
/// are read as 1 and 2, as the original does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AbiVersion(pub u32);

impl fmt::Display for AbiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for AbiVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AbiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AbiVisitor)
    }
}

struct AbiVisitor;

impl serde::de::Visitor<'_> for AbiVisitor {
    type Value = AbiVersion;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an ABI version: an integer such as 2, or a legacy string \"p1\" or \"p2\"")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AbiVersion, E> {
        u32::try_from(v)
            .map(AbiVersion)
            .map_err(|_| E::custom(format!("ABI version {v} is out of range")))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AbiVersion, E> {
        u32::try_from(v)
            .map(AbiVersion)
            .map_err(|_| E::custom(format!("ABI version {v} is out of range")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AbiVersion, E> {
        match v {
            "p1" | "1" => Ok(AbiVersion(1)),
            "p2" | "2" => Ok(AbiVersion(2)),
            other => Err(E::custom(format!(
                "unknown ABI version \"{other}\"; write an integer such as 2"
            ))),
        }
    }
}

/// `[package]`: the module's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageMeta {
    /// `organisation`: who publishes the module.
    pub organisation: String,
    /// `name`: the module's name within its organisation.
    pub name: String,
    /// `version`: a semantic version.
    pub version: semver::Version,
}

/// `[attach]`: files shipped with the module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attach {
    /// `fs`: a directory, relative to the project root, bundled as
    /// `surrealism/fs/` and mounted read-only at `/` in the guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fs: Option<String>,
}

impl Attach {
    /// The directory to attach, if any; an empty string means none, as in
    /// the original.
    pub fn fs_dir(&self) -> Option<&str> {
        self.fs.as_deref().filter(|dir| !dir.is_empty())
    }
}

/// `[capabilities]`: what a module may do, and the limits it asks for.
///
/// Every limit here can only narrow the server's own (see
/// [`EffectiveLimits::merge`](crate::EffectiveLimits::merge)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// `allow_scripting`: read and kept for embedders; the runtime itself
    /// has no scripting to gate.
    pub allow_scripting: bool,
    /// `allow_arbitrary_queries`: whether the guest may call `sql`.
    pub allow_arbitrary_queries: bool,
    /// `allow_functions`: which SurrealDB functions the guest may call
    /// through `run`.
    pub allow_functions: FunctionTargets,
    /// `allow_net`: outbound addresses the guest's sockets may reach, kept as
    /// text here and parsed by `surli-net`.
    pub allow_net: Vec<String>,
    /// `max_memory_bytes`: the most linear memory an instance may use.
    pub max_memory_bytes: Option<u64>,
    /// `max_execution_time`: the longest a call may run, written in
    /// milliseconds.
    #[serde(with = "millis")]
    pub max_execution_time: Option<Duration>,
    /// `max_pool_size`: the most instances of the module alive at once.
    pub max_pool_size: Option<u64>,
    /// `max_kv_entries`: the most keys the module's KV store may hold.
    pub max_kv_entries: Option<u64>,
    /// `max_kv_value_bytes`: the largest encoded value the KV store accepts.
    pub max_kv_value_bytes: Option<u64>,
    /// `max_kv_bytes`: the most bytes the KV store may hold, keys and values
    /// together. A surli key: the original runtime does not read it.
    pub max_kv_bytes: Option<u64>,
    /// `strict_timeout`: `false` asks to run without timeouts (on the fast
    /// engine); only honoured when the server consents.
    pub strict_timeout: bool,
    /// `max_http_requests_per_call`: the most outbound HTTP requests one
    /// call may make. A surli key, like the three below: the original
    /// runtime has no outbound HTTP.
    pub max_http_requests_per_call: Option<u64>,
    /// `max_http_concurrent_requests`: the most outbound HTTP requests one
    /// instance may have open at once.
    pub max_http_concurrent_requests: Option<u64>,
    /// `max_http_request_bytes`: the largest request body the guest sends.
    pub max_http_request_bytes: Option<u64>,
    /// `max_http_response_bytes`: the largest response body the guest
    /// receives.
    pub max_http_response_bytes: Option<u64>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            allow_scripting: false,
            allow_arbitrary_queries: false,
            allow_functions: FunctionTargets::None,
            allow_net: Vec::new(),
            max_memory_bytes: None,
            max_execution_time: None,
            max_pool_size: None,
            max_kv_entries: None,
            max_kv_value_bytes: None,
            max_kv_bytes: None,
            strict_timeout: true,
            max_http_requests_per_call: None,
            max_http_concurrent_requests: None,
            max_http_request_bytes: None,
            max_http_response_bytes: None,
        }
    }
}

/// `max_execution_time` is an integer of milliseconds on disk.
/// `Option<Duration>` as whole milliseconds, as `surrealism.toml` writes
/// `max_execution_time`; for `#[serde(with = "surli_config::millis")]` in
/// other models of the file.
pub mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the duration as whole milliseconds (saturating), or none.
    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            // Durations here come from u64 milliseconds, so they fit; saturate
            // rather than fail for one built by hand.
            Some(d) => s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            None => s.serialize_none(),
        }
    }

    /// Reads whole milliseconds, or none.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
