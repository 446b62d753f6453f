//! A module's `[capabilities]` in `surrealism.toml`, in 0.6.5's model.
//!
//! The matching of `allow_functions` patterns is surli's
//! (`surli::config::FunctionTargets`), which keeps the original's rules,
//! quirks included; this type only carries 0.6.5's shape.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a module asks to be allowed, and the limits it asks for. The
/// server can narrow these; a module cannot widen the server's.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SurrealismCapabilities {
    /// Whether the module needs the scripting capability.
    #[serde(default)]
    pub allow_scripting: bool,
    /// Whether the module may run SurrealQL through the `sql` host function.
    #[serde(default)]
    pub allow_arbitrary_queries: bool,
    /// Which SurrealDB functions the module may call through `run`.
    #[serde(default)]
    pub allow_functions: FunctionTargets,
    /// Where the module may open outbound connections.
    #[serde(default)]
    pub allow_net: Vec<String>,
    /// The most linear memory per instance, in bytes.
    #[serde(default)]
    pub max_memory_bytes: Option<usize>,
    /// The longest one call may run (milliseconds in the file).
    #[serde(default, with = "surli::config::millis")]
    pub max_execution_time: Option<Duration>,
    /// The most instances of the module checked out at once.
    #[serde(default)]
    pub max_pool_size: Option<usize>,
    /// The most keys in the module's KV store.
    #[serde(default)]
    pub max_kv_entries: Option<usize>,
    /// The largest encoded value one KV entry may hold.
    #[serde(default)]
    pub max_kv_value_bytes: Option<usize>,
    /// Whether timeouts are enforced (epoch checks compiled in). surli
    /// honours `false` only where its server limits consent, which this
    /// crate never gives: such a module runs with timeouts enforced.
    #[serde(default = "enforced")]
    pub strict_timeout: bool,
}

fn enforced() -> bool {
    true
}

impl Default for SurrealismCapabilities {
    /// The defaults of a `[capabilities]` table with no keys: surli's.
    fn default() -> Self {
        Self::from_surli(&surli::config::Capabilities::default())
    }
}

/// The functions a module may call through `run`: none (the default, also
/// for an empty list), all (`["*"]`, or any list holding `"*"`), or those
/// matching one of the patterns (`"family"`, `"family::*"`,
/// `"family::name"`).
#[derive(Debug, Default, Clone)]
pub enum FunctionTargets {
    /// No function may be called.
    #[default]
    None,
    /// Every function may be called.
    All,
    /// Functions matching one of these patterns may be called.
    Some(Vec<String>),
}

impl FunctionTargets {
    /// Whether the fully qualified function `fnc` is allowed.
    pub fn allows(&self, fnc: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Some(patterns) => patterns
                .iter()
                .any(|pattern| surli::config::pattern_matches(pattern, fnc)),
        }
    }

    pub(crate) fn to_surli(&self) -> surli::config::FunctionTargets {
        match self {
            Self::None => surli::config::FunctionTargets::None,
            Self::All => surli::config::FunctionTargets::All,
            Self::Some(patterns) => surli::config::FunctionTargets::Some(patterns.clone()),
        }
    }

    pub(crate) fn from_surli(targets: &surli::config::FunctionTargets) -> Self {
        match targets {
            surli::config::FunctionTargets::None => Self::None,
            surli::config::FunctionTargets::All => Self::All,
            surli::config::FunctionTargets::Some(patterns) => Self::Some(patterns.clone()),
        }
    }
}

// Read and written as surli reads and writes the same key.
impl Serialize for FunctionTargets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_surli().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FunctionTargets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        surli::config::FunctionTargets::deserialize(deserializer).map(|t| Self::from_surli(&t))
    }
}

fn widen(value: Option<usize>) -> Option<u64> {
    value.map(|v| u64::try_from(v).unwrap_or(u64::MAX))
}

fn narrow(value: Option<u64>) -> Option<usize> {
    value.map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

impl SurrealismCapabilities {
    pub(crate) fn to_surli(&self) -> surli::config::Capabilities {
        surli::config::Capabilities {
            allow_scripting: self.allow_scripting,
            allow_arbitrary_queries: self.allow_arbitrary_queries,
            allow_functions: self.allow_functions.to_surli(),
            allow_net: self.allow_net.clone(),
            max_memory_bytes: widen(self.max_memory_bytes),
            max_execution_time: self.max_execution_time,
            max_pool_size: widen(self.max_pool_size),
            max_kv_entries: widen(self.max_kv_entries),
            max_kv_value_bytes: widen(self.max_kv_value_bytes),
            // 0.6.5's model has no such key; the store the runtime hands
            // surli carries its own bound (see `Limits`).
            max_kv_bytes: None,
            strict_timeout: self.strict_timeout,
            // Nor these: 0.6.5 links no `wasi:http`, so a module written for
            // it makes no HTTP requests, and the server's limits stand.
            ..surli::config::Capabilities::default()
        }
    }

    pub(crate) fn from_surli(caps: &surli::config::Capabilities) -> Self {
        Self {
            allow_scripting: caps.allow_scripting,
            allow_arbitrary_queries: caps.allow_arbitrary_queries,
            allow_functions: FunctionTargets::from_surli(&caps.allow_functions),
            allow_net: caps.allow_net.clone(),
            max_memory_bytes: narrow(caps.max_memory_bytes),
            max_execution_time: caps.max_execution_time,
            max_pool_size: narrow(caps.max_pool_size),
            max_kv_entries: narrow(caps.max_kv_entries),
            max_kv_value_bytes: narrow(caps.max_kv_value_bytes),
            strict_timeout: caps.strict_timeout,
        }
    }
}
