//! What every instance of one module shares.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use surli_config::{Capabilities, PackageMeta};
use surli_kv::KvStore;
use surli_net::{NetAllowList, Resolver, SystemResolver};

use crate::http::{HttpCounters, HttpCounts, HttpLimits};

/// Everything the host functions and the WASI context of one module need,
/// shared by all of its instances (hold it in an `Arc`).
///
/// Built once when the module loads: its identity, its capabilities (the
/// grants `sql` and `run` are checked against), its key-value store, its
/// resolved network allow list, the directory attached read-only at `/`,
/// and the limits on guest output.
///
/// ```
/// use std::sync::Arc;
/// use surli_config::{Capabilities, PackageMeta};
/// use surli_host::ModuleEnv;
/// use surli_kv::{KvLimits, MemoryKvStore};
///
/// let meta = PackageMeta {
///     organisation: "acme".into(),
///     name: "greeter".into(),
///     version: "1.0.0".parse().unwrap(),
/// };
/// let env = ModuleEnv::new(
///     meta,
///     Capabilities::default(),
///     Arc::new(MemoryKvStore::new(KvLimits::default())),
/// );
/// assert!(env.net().is_empty());
/// assert!(env.fs_root().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ModuleEnv {
    module: Arc<PackageMeta>,
    capabilities: Capabilities,
    /// `capabilities.allow_functions`, shared with the call info of every
    /// `sql` and `run` so contexts can hold queries to it.
    allowed_functions: Arc<surli_config::FunctionTargets>,
    kv: Arc<dyn KvStore>,
    net: Arc<NetAllowList>,
    fs_root: Option<PathBuf>,
    stdio: StdioLimits,
    max_answer_bytes: usize,
    http: HttpLimits,
    resolver: SharedResolver,
    http_counters: Arc<HttpCounters>,
}

/// The resolver of outbound HTTP host names; a type of its own only to be
/// printed in `ModuleEnv`'s `Debug`.
#[derive(Clone)]
struct SharedResolver(Arc<dyn Resolver>);

impl std::fmt::Debug for SharedResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}

/// The default for [`ModuleEnv::max_answer_bytes`]: 64 MiB, the pool's
/// default `max_result_bytes`.
const DEFAULT_MAX_ANSWER_BYTES: usize = 64 << 20;

impl ModuleEnv {
    /// The environment of `module` with `capabilities` and its own `kv`
    /// store; no network, no attached directory, default output limits.
    ///
    /// `kv` must be this module's store and no other module's: it is the
    /// only thing that keeps modules' keys apart.
    pub fn new(module: PackageMeta, capabilities: Capabilities, kv: Arc<dyn KvStore>) -> Self {
        Self {
            module: Arc::new(module),
            allowed_functions: Arc::new(capabilities.allow_functions.clone()),
            capabilities,
            kv,
            net: Arc::new(NetAllowList::deny_all()),
            fs_root: None,
            stdio: StdioLimits::default(),
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            http: HttpLimits::default(),
            resolver: SharedResolver(Arc::new(SystemResolver)),
            http_counters: Arc::default(),
        }
    }

    /// Caps the encoded answer of one `sql` or `run` handed to the guest
    /// at `bytes`; a larger one is refused before any of it reaches guest
    /// memory, and the guest gets an error naming the limit.
    #[must_use]
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// The most bytes one `sql` or `run` answer may encode to (default
    /// 64 MiB).
    pub fn max_answer_bytes(&self) -> usize {
        self.max_answer_bytes
    }

    /// Lets the guest's sockets reach the addresses `net` allows (resolved
    /// at load; the guest gets no DNS). An empty list turns TCP and UDP off.
    #[must_use]
    pub fn with_net(mut self, net: Arc<NetAllowList>) -> Self {
        self.net = net;
        self
    }

    /// Attaches the host directory `root` read-only at the guest's `/`.
    #[must_use]
    pub fn with_fs_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.fs_root = Some(root.into());
        self
    }

    /// Replaces the limits on guest output.
    #[must_use]
    pub fn with_stdio_limits(mut self, limits: StdioLimits) -> Self {
        self.stdio = limits;
        self
    }

    /// This environment with outbound HTTP (`wasi:http`) held to
    /// `limits`. Without this call there are none beyond `allow_net`.
    #[must_use]
    pub fn with_http_limits(mut self, limits: HttpLimits) -> Self {
        self.http = limits;
        self
    }

    /// This environment resolving the host names of outbound HTTP requests
    /// through `resolver` (by default the system's). Use the resolver the
    /// module's `allow_net` was resolved with.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = SharedResolver(resolver);
        self
    }

    /// The outbound HTTP limits.
    pub fn http_limits(&self) -> HttpLimits {
        self.http
    }

    /// The resolver of outbound HTTP host names.
    pub fn resolver(&self) -> &dyn Resolver {
        self.resolver.0.as_ref()
    }

    /// What the module's guests did over outbound HTTP so far, across every
    /// instance sharing this environment.
    pub fn http_counts(&self) -> HttpCounts {
        self.http_counters.snapshot()
    }

    pub(crate) fn http_counters(&self) -> &Arc<HttpCounters> {
        &self.http_counters
    }

    /// The module's identity.
    pub fn module(&self) -> &Arc<PackageMeta> {
        &self.module
    }

    /// The module's capabilities.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The module's `allow_functions`, shared.
    pub fn allowed_functions(&self) -> &Arc<surli_config::FunctionTargets> {
        &self.allowed_functions
    }

    /// The module's key-value store.
    pub fn kv(&self) -> &Arc<dyn KvStore> {
        &self.kv
    }

    /// The addresses the guest may connect to.
    pub fn net(&self) -> &Arc<NetAllowList> {
        &self.net
    }

    /// The directory attached at the guest's `/`, if any.
    pub fn fs_root(&self) -> Option<&Path> {
        self.fs_root.as_deref()
    }

    /// The limits on guest output.
    pub fn stdio_limits(&self) -> StdioLimits {
        self.stdio
    }
}

/// Limits on what the host buffers of a guest's standard output and error.
///
/// Output reaches the [`InvocationContext`](crate::InvocationContext) line
/// by line. A line longer than [`max_line_bytes`](Self::max_line_bytes)
/// is not held whole: it is delivered in pieces of at most that many bytes,
/// each cut where a UTF-8 character starts, so no character is split into
/// replacement characters and nothing is dropped. The host therefore holds
/// at most `max_line_bytes` per stream, however long a guest writes without
/// a newline (the original runtime's buffer grew without bound).
///
/// What one call may print in all is bounded too, both streams together:
/// [`max_call_bytes`](Self::max_call_bytes) and
/// [`max_call_lines`](Self::max_call_lines) (a piece of an over-long line
/// counts as a line). Past either, the rest of the call's output is
/// dropped; the context receives one notice on stderr saying so, and the
/// dropped bytes are counted (see [`CallOutput`](crate::CallOutput)). A
/// guest looping on `println!` cannot flood the embedder's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StdioLimits {
    /// The most bytes of one line delivered at once, and so the most the
    /// host buffers per stream. Values below 4 (one UTF-8 character) count
    /// as 4.
    ///
    /// Default: [`StdioLimits::DEFAULT_MAX_LINE_BYTES`] (64 KiB).
    pub max_line_bytes: usize,
    /// The most bytes of output one call delivers, stdout and stderr
    /// together (line ends not counted).
    ///
    /// Default: [`StdioLimits::DEFAULT_MAX_CALL_BYTES`] (1 MiB).
    pub max_call_bytes: u64,
    /// The most lines (or pieces of over-long lines) one call delivers,
    /// stdout and stderr together.
    ///
    /// Default: [`StdioLimits::DEFAULT_MAX_CALL_LINES`] (10,000).
    pub max_call_lines: u64,
}

impl StdioLimits {
    /// These limits with `max_line_bytes` set to `max_line_bytes`.
    #[must_use]
    pub fn with_max_line_bytes(mut self, max_line_bytes: usize) -> Self {
        self.max_line_bytes = max_line_bytes;
        self
    }

    /// These limits with `max_call_bytes` set to `max_call_bytes`.
    #[must_use]
    pub fn with_max_call_bytes(mut self, max_call_bytes: u64) -> Self {
        self.max_call_bytes = max_call_bytes;
        self
    }

    /// These limits with `max_call_lines` set to `max_call_lines`.
    #[must_use]
    pub fn with_max_call_lines(mut self, max_call_lines: u64) -> Self {
        self.max_call_lines = max_call_lines;
        self
    }
}

impl StdioLimits {
    /// The default line cap: 64 KiB.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

    /// The default bytes of output per call: 1 MiB.
    pub const DEFAULT_MAX_CALL_BYTES: u64 = 1024 * 1024;

    /// The default lines of output per call: 10,000.
    pub const DEFAULT_MAX_CALL_LINES: u64 = 10_000;

    /// The smallest cap that always holds a whole UTF-8 character.
    pub(crate) const MIN_LINE_BYTES: usize = 4;

    /// The cap in force, never below one character.
    pub(crate) fn line_cap(self) -> usize {
        self.max_line_bytes.max(Self::MIN_LINE_BYTES)
    }
}

impl Default for StdioLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
            max_call_bytes: Self::DEFAULT_MAX_CALL_BYTES,
            max_call_lines: Self::DEFAULT_MAX_CALL_LINES,
        }
    }
}
