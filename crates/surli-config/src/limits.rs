//! Server limits, and their merge with what a module asks for.
//!
//! The rule is the same for every limit: where both the server and the
//! module set one, the smaller wins; where only one sets it, that one holds.
//! A module can therefore narrow what the server allows, never widen it.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::error::ConfigWarning;
use crate::model::Capabilities;

/// The limits a host sets for every module it runs.
///
/// Each field is a ceiling: a module's `[capabilities]` may ask for less,
/// never more. `None` means the server sets no ceiling of its own, so the
/// module's value (if any) holds; think twice before leaving one at `None`
/// for modules you did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// The most instances of one module alive at once, and so the most calls
    /// of that module running in parallel. Each instance costs its linear
    /// memory (up to `max_memory_bytes`), so memory use grows with this
    /// number. Default 8.
    pub max_pool_size: NonZeroUsize,
    /// The most linear memory one instance may grow to. A guest that asks
    /// for more sees `memory.grow` fail, and the call ends in an
    /// out-of-memory error. Default 256 MiB.
    pub max_memory_bytes: Option<u64>,
    /// The longest one call may run before it is interrupted. Default 10 s;
    /// a caller's own deadline can shorten it per call.
    pub max_execution_time: Option<Duration>,
    /// The most keys one module's KV store may hold. Default 100,000.
    pub max_kv_entries: Option<u64>,
    /// The largest encoded value one KV entry may hold. Default 1 MiB.
    pub max_kv_value_bytes: Option<u64>,
    /// The most bytes one module's KV store may hold in all: every key's
    /// UTF-8 bytes plus every value's encoded bytes. Default 64 MiB, so a
    /// module's store costs the host tens of MiB at most, whatever
    /// `max_kv_entries` and `max_kv_value_bytes` allow on their own.
    pub max_kv_bytes: Option<u64>,
    /// Whether a module may set `strict_timeout = false` and run with no
    /// timeout at all (on an engine without epoch checks, a little faster).
    /// The original runtime grants this to any module that asks; here the
    /// server must consent. Default false.
    pub allow_relaxed_timeout: bool,
    /// The most outbound HTTP requests (`wasi:http`) one call may make; each
    /// redirect a guest's client follows is a request of its own. Default 32.
    pub max_http_requests_per_call: Option<u64>,
    /// The most outbound HTTP requests one instance may have open at once,
    /// from sending until its response body is finished or dropped.
    /// Default 4.
    pub max_http_concurrent_requests: Option<u64>,
    /// The largest request body a guest may send. Default 1 MiB.
    pub max_http_request_bytes: Option<u64>,
    /// The largest response body a guest may receive. Default 8 MiB.
    pub max_http_response_bytes: Option<u64>,
}

impl ServerLimits {
    /// These limits with `max_pool_size` set to `max_pool_size`.
    #[must_use]
    pub fn with_max_pool_size(mut self, max_pool_size: NonZeroUsize) -> Self {
        self.max_pool_size = max_pool_size;
        self
    }

    /// These limits with `max_memory_bytes` set to `max_memory_bytes`.
    #[must_use]
    pub fn with_max_memory_bytes(mut self, max_memory_bytes: Option<u64>) -> Self {
        self.max_memory_bytes = max_memory_bytes;
        self
    }

    /// These limits with `max_execution_time` set to `max_execution_time`.
    #[must_use]
    pub fn with_max_execution_time(mut self, max_execution_time: Option<Duration>) -> Self {
        self.max_execution_time = max_execution_time;
        self
    }

    /// These limits with `max_kv_entries` set to `max_kv_entries`.
    #[must_use]
    pub fn with_max_kv_entries(mut self, max_kv_entries: Option<u64>) -> Self {
        self.max_kv_entries = max_kv_entries;
        self
    }

    /// These limits with `max_kv_value_bytes` set to `max_kv_value_bytes`.
    #[must_use]
    pub fn with_max_kv_value_bytes(mut self, max_kv_value_bytes: Option<u64>) -> Self {
        self.max_kv_value_bytes = max_kv_value_bytes;
        self
    }

    /// These limits with `max_kv_bytes` set to `max_kv_bytes`.
    #[must_use]
    pub fn with_max_kv_bytes(mut self, max_kv_bytes: Option<u64>) -> Self {
        self.max_kv_bytes = max_kv_bytes;
        self
    }

    /// These limits with `max_http_requests_per_call` set to `max`.
    #[must_use]
    pub fn with_max_http_requests_per_call(mut self, max: Option<u64>) -> Self {
        self.max_http_requests_per_call = max;
        self
    }

    /// These limits with `max_http_concurrent_requests` set to `max`.
    #[must_use]
    pub fn with_max_http_concurrent_requests(mut self, max: Option<u64>) -> Self {
        self.max_http_concurrent_requests = max;
        self
    }

    /// These limits with `max_http_request_bytes` set to `max`.
    #[must_use]
    pub fn with_max_http_request_bytes(mut self, max: Option<u64>) -> Self {
        self.max_http_request_bytes = max;
        self
    }

    /// These limits with `max_http_response_bytes` set to `max`.
    #[must_use]
    pub fn with_max_http_response_bytes(mut self, max: Option<u64>) -> Self {
        self.max_http_response_bytes = max;
        self
    }

    /// These limits with `allow_relaxed_timeout` set to `allow_relaxed_timeout`.
    #[must_use]
    pub fn with_allow_relaxed_timeout(mut self, allow_relaxed_timeout: bool) -> Self {
        self.allow_relaxed_timeout = allow_relaxed_timeout;
        self
    }
}

/// The default pool size, chosen for small machines: a few calls in
/// parallel without holding many idle instances.
const DEFAULT_POOL_SIZE: NonZeroUsize = match NonZeroUsize::new(8) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// The default ceiling on one module's KV store, keys and values together.
const DEFAULT_MAX_KV_BYTES: u64 = 64 * 1024 * 1024;

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_pool_size: DEFAULT_POOL_SIZE,
            max_memory_bytes: Some(256 * 1024 * 1024),
            max_execution_time: Some(Duration::from_secs(10)),
            max_kv_entries: Some(100_000),
            max_kv_value_bytes: Some(1024 * 1024),
            max_kv_bytes: Some(DEFAULT_MAX_KV_BYTES),
            allow_relaxed_timeout: false,
            max_http_requests_per_call: Some(32),
            max_http_concurrent_requests: Some(4),
            max_http_request_bytes: Some(1024 * 1024),
            max_http_response_bytes: Some(8 * 1024 * 1024),
        }
    }
}

impl ServerLimits {
    /// No ceilings at all, as the original runtime behaves when the embedder
    /// passes none: pool size 1 would be too small, so it keeps the default
    /// pool size. Meant for trusted modules and tests.
    pub fn unlimited() -> Self {
        Self {
            max_pool_size: DEFAULT_POOL_SIZE,
            max_memory_bytes: None,
            max_execution_time: None,
            max_kv_entries: None,
            max_kv_value_bytes: None,
            max_kv_bytes: None,
            allow_relaxed_timeout: true,
            max_http_requests_per_call: None,
            max_http_concurrent_requests: None,
            max_http_request_bytes: None,
            max_http_response_bytes: None,
        }
    }
}

/// Which side set an effective limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitSource {
    /// The server's ceiling (also when both sides set the same value).
    Server,
    /// The module's own, stricter, value.
    Module,
}

/// An effective limit and the side that set it, so that an error can say
/// "the module's 100 ms limit" rather than just "timeout".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit<T> {
    /// The value in force.
    pub value: T,
    /// Who set it.
    pub set_by: LimitSource,
}

/// The limits a module runs under: the merge of [`ServerLimits`] and the
/// module's [`Capabilities`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EffectiveLimits {
    /// Most instances alive at once.
    pub pool_size: Limit<NonZeroUsize>,
    /// Most linear memory per instance.
    pub max_memory_bytes: Option<Limit<u64>>,
    /// Longest call.
    pub max_execution_time: Option<Limit<Duration>>,
    /// Most KV keys.
    pub max_kv_entries: Option<Limit<u64>>,
    /// Largest encoded KV value.
    pub max_kv_value_bytes: Option<Limit<u64>>,
    /// Most bytes of keys and values in the KV store together.
    pub max_kv_bytes: Option<Limit<u64>>,
    /// Whether timeouts are enforced. False only when the module asked for
    /// it and the server consents.
    pub strict_timeout: bool,
    /// Most outbound HTTP requests per call.
    pub max_http_requests_per_call: Option<Limit<u64>>,
    /// Most outbound HTTP requests open at once per instance.
    pub max_http_concurrent_requests: Option<Limit<u64>>,
    /// Largest outbound HTTP request body.
    pub max_http_request_bytes: Option<Limit<u64>>,
    /// Largest HTTP response body a guest receives.
    pub max_http_response_bytes: Option<Limit<u64>>,
}

/// The outcome of [`EffectiveLimits::merge`]: the limits, and what the
/// module asked for that it did not get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedLimits {
    /// The limits in force.
    pub limits: EffectiveLimits,
    /// Requests that were adjusted, for the operator's log.
    pub warnings: Vec<ConfigWarning>,
}

impl EffectiveLimits {
    /// Merges server ceilings with a module's requests.
    pub fn merge(server: &ServerLimits, module: &Capabilities) -> MergedLimits {
        let mut warnings = Vec::new();

        let module_pool = module.max_pool_size.map(|requested| {
            let requested = usize::try_from(requested).unwrap_or(usize::MAX);
            NonZeroUsize::new(requested).unwrap_or_else(|| {
                warnings.push(ConfigWarning::ZeroPoolSize);
                NonZeroUsize::MIN
            })
        });
        let pool_size = smaller(Some(server.max_pool_size), module_pool).unwrap_or(Limit {
            value: server.max_pool_size,
            set_by: LimitSource::Server,
        });

        let strict_timeout = if module.strict_timeout {
            true
        } else if server.allow_relaxed_timeout {
            false
        } else {
            warnings.push(ConfigWarning::RelaxedTimeoutRefused);
            true
        };

        MergedLimits {
            limits: EffectiveLimits {
                pool_size,
                max_memory_bytes: smaller(server.max_memory_bytes, module.max_memory_bytes),
                max_execution_time: smaller(server.max_execution_time, module.max_execution_time),
                max_kv_entries: smaller(server.max_kv_entries, module.max_kv_entries),
                max_kv_value_bytes: smaller(server.max_kv_value_bytes, module.max_kv_value_bytes),
                max_kv_bytes: smaller(server.max_kv_bytes, module.max_kv_bytes),
                strict_timeout,
                max_http_requests_per_call: smaller(
                    server.max_http_requests_per_call,
                    module.max_http_requests_per_call,
                ),
                max_http_concurrent_requests: smaller(
                    server.max_http_concurrent_requests,
                    module.max_http_concurrent_requests,
                ),
                max_http_request_bytes: smaller(
                    server.max_http_request_bytes,
                    module.max_http_request_bytes,
                ),
                max_http_response_bytes: smaller(
                    server.max_http_response_bytes,
                    module.max_http_response_bytes,
                ),
            },
            warnings,
        }
    }
}

fn smaller<T: Ord>(server: Option<T>, module: Option<T>) -> Option<Limit<T>> {
    match (server, module) {
        (Some(s), Some(m)) if m < s => Some(Limit {
            value: m,
            set_by: LimitSource::Module,
        }),
        (Some(s), _) => Some(Limit {
            value: s,
            set_by: LimitSource::Server,
        }),
        (None, Some(m)) => Some(Limit {
            value: m,
            set_by: LimitSource::Module,
        }),
        (None, None) => None,
    }
}
