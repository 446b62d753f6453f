//! A loaded module: compiled once, shared by `Arc`, with its pool of
//! instances, its KV store and its counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use surli_config::{EffectiveLimits, ModuleConfig};
use surli_engine::SurliEngine;
use surli_engine::wasmtime::Store;
use surli_engine::wasmtime::component::InstancePre;
use surli_host::{
    CallInfo, GuestExports, HostState, InvocationContext, MemoryLimiter, MemoryLimits, ModuleEnv,
    NullContext, PluginExports,
};
use surli_kv::{KvLimits, KvStore, MemoryKvStore};
use surli_net::{NetAllowList, parse_entries};
use surli_package::Package;
use surrealdb_types::Value;
use tokio::sync::Semaphore;

use crate::caller::{CallerDeadline, within};
use crate::describe::{self, FunctionSignature};
use crate::error::{CallError, CallPhase, LoadError};
use crate::instance::{Deadline, Instance};
use crate::lease::{Lease, Tally};
use crate::observe::Observation;
use crate::runtime::RuntimeInner;
use crate::stats::{ArtifactStats, Counters, ModuleMemory, ModuleStats};

/// Awaits the async block `$work` inside `$span` (an `Option<Span>`), or,
/// with no span, in place. In place matters: a call's future is large, and
/// passing it to a function would copy all of it on every call.
macro_rules! in_span {
    ($span:expr, $work:expr) => {
        match $span {
            None => $work.await,
            Some(span) => Box::pin(tracing::Instrument::instrument($work, span)).await,
        }
    };
}

/// How much a module's callers share its instances: the embedder's trade
/// between the cost of a fresh instance and what one caller can leave
/// behind in an instance's memory for the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Instances are pooled and reused by any caller until one breaks (a
    /// trap, timeout, running out of memory): the original runtime's
    /// behaviour, and the fastest. A guest's static state, and whatever it
    /// leaves in its memory, outlives the call that made it.
    #[default]
    Reuse,
    /// Instances are pooled and reused, but retired after `max_uses` calls
    /// (`Some(0)` counts as `Some(1)`), or, when a lease would take one
    /// that sat idle in the pool for longer than `max_idle`, before it is
    /// used again. Bounds how long state lives (a slow leak, a growing
    /// memory) without paying for an instance per call. Idle time is
    /// checked when a lease is taken; no task runs in the background.
    Recycle {
        /// Calls after which an instance is retired; `None`: no bound.
        max_uses: Option<u32>,
        /// How long an instance may sit idle and still be reused; `None`:
        /// no bound.
        max_idle: Option<Duration>,
    },
    /// Every call runs in a new instance, initialised by `init` and torn
    /// down after the call (a lease making several calls gets a new one
    /// for each): no memory is ever shared between two calls. The most
    /// isolated and the slowest; nothing is pooled.
    FreshPerCall,
}

impl Isolation {
    /// Whether an instance that has run `uses` calls must not run another.
    fn spent(self, uses: u32) -> bool {
        match self {
            Self::Reuse => false,
            Self::Recycle { max_uses, .. } => max_uses.is_some_and(|max| uses >= max.max(1)),
            Self::FreshPerCall => uses >= 1,
        }
    }

    fn max_idle(self) -> Option<Duration> {
        match self {
            Self::Recycle { max_idle, .. } => max_idle,
            Self::Reuse | Self::FreshPerCall => None,
        }
    }
}

/// Per-module choices an embedder makes at load.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ModuleOptions {
    /// The module's KV store. `None`: a fresh in-memory store with the
    /// module's effective KV limits. Pass a durable store to keep data
    /// across restarts; never pass one module's store to another.
    pub kv: Option<Arc<dyn KvStore>>,
    /// The context `init` runs under. `None`: a [`NullContext`], so `init`
    /// can use the KV store but not `sql` or `run`.
    ///
    /// `init` runs once per new instance, whichever caller happened to make
    /// the pool grow. The original ran it under that caller's context, so a
    /// module's set-up ran with a random user's rights; here it runs under
    /// a context the embedder chose for the module, bounded by the module's
    /// own time limit rather than that caller's.
    pub init_context: Option<Arc<dyn InvocationContext>>,
    /// How the module's instances are shared between calls; default
    /// [`Isolation::Reuse`].
    pub isolation: Isolation,
    /// Start every instance from a snapshot taken after `init` ran once,
    /// at load, instead of running `init` in each instance. The snapshot is
    /// kept in the artifact cache beside the compiled code.
    ///
    /// A snapshot holds the instance's linear memory and globals only, so
    /// an `init` that calls any import (the KV store, `sql`, `run`, a
    /// clock, random bytes, files, stdio) is refused one: the load fails
    /// with [`LoadError::Snapshot`](crate::LoadError::Snapshot), whose
    /// reason names the import, and the module loads as usual without this
    /// option. `init` runs with no context, so `init_context` is not used.
    pub snapshot_init: bool,
}

impl ModuleOptions {
    /// These options with `kv` as the module's KV store.
    #[must_use]
    pub fn with_kv(mut self, kv: Arc<dyn KvStore>) -> Self {
        self.kv = Some(kv);
        self
    }

    /// These options with `init` running under `context`.
    #[must_use]
    pub fn with_init_context(mut self, context: Arc<dyn InvocationContext>) -> Self {
        self.init_context = Some(context);
        self
    }

    /// These options with how the module's instances are shared between calls set to `isolation`.
    #[must_use]
    pub fn with_isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }

    /// These options with instances started from a snapshot taken after
    /// `init` (see [`snapshot_init`](Self::snapshot_init)).
    #[must_use]
    pub fn with_snapshot_init(mut self, snapshot_init: bool) -> Self {
        self.snapshot_init = snapshot_init;
        self
    }
}

impl std::fmt::Debug for ModuleOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleOptions")
            .field("kv", &self.kv)
            .field(
                "init_context",
                &self.init_context.as_ref().map(|_| "custom"),
            )
            .field("isolation", &self.isolation)
            .field("snapshot_init", &self.snapshot_init)
            .finish()
    }
}

/// A loaded module. Cheap to clone: clones share the compiled component,
/// the instance pool, the KV store and the counters.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("module", &self.inner.id)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

pub(crate) struct ModuleInner {
    pub(crate) runtime: Arc<RuntimeInner>,
    pub(crate) id: String,
    pub(crate) package: Package,
    pub(crate) limits: EffectiveLimits,
    pub(crate) warnings: Vec<String>,
    pub(crate) engine: SurliEngine,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: PluginExports,
    /// The component on the engine's on-demand twin, made the first time
    /// the engine's pool has no slot for an instance of this module.
    overflow: Mutex<Option<Overflow>>,
    pub(crate) env: Arc<ModuleEnv>,
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) idle: Mutex<Vec<Instance>>,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) counters: Counters,
    pub(crate) artifact: ArtifactStats,
    pub(crate) init_context: Arc<dyn InvocationContext>,
    pub(crate) init_failure: Mutex<Option<InitFailure>>,
    pub(crate) signatures: Vec<FunctionSignature>,
    /// Whether the module answered the describing exports at load.
    pub(crate) described: bool,
    pub(crate) isolation: Isolation,
    /// Whether instances start from a snapshot taken after `init`, and so
    /// are born initialised.
    pub(crate) snapshot: bool,
    /// What the compiled code is cached under: the component's SHA-256, or
    /// for a snapshot the key derived from it ([`snapshot_key`]).
    pub(crate) code_key: [u8; 32],
    /// How many idle-instance sweeps ran ([`Module::trim_idle`]); an
    /// instance going back to the pool is stamped with it.
    sweeps: AtomicU64,
    /// Set once the module is drained ([`ModuleInner::drain`]): from then
    /// on, an instance coming back from a call is retired, not pooled.
    drained: AtomicBool,
    /// Told the module's final counters when the last handle to it goes.
    on_drop: Mutex<Option<FinalStats>>,
    /// The call-path metrics, when the runtime records them.
    pub(crate) metrics: Option<crate::observe::ModuleMetrics>,
}

/// What receives a module's final counters.
pub(crate) type FinalStats = Box<dyn FnOnce(ModuleStats) + Send>;

impl Drop for ModuleInner {
    fn drop(&mut self) {
        if let Some(report) = self.on_drop.get_mut().take() {
            report(
                self.counters
                    .snapshot(self.artifact, self.env.http_counts()),
            );
        }
    }
}

/// Why an instantiation did not give an instance.
enum Attempt {
    /// The engine's pool has no free slot; the overflow engine may. The
    /// room taken under the runtime's budget comes back for that attempt.
    PoolExhausted(
        surli_engine::wasmtime::Error,
        tokio::sync::OwnedSemaphorePermit,
    ),
    /// Anything else, final.
    Failed(CallError),
}

/// What instantiates a module on its engine's overflow twin.
#[derive(Clone)]
struct Overflow {
    pre: InstancePre<HostState>,
    exports: PluginExports,
}

/// The last `init` failure, remembered so a module whose `init` keeps
/// failing is not re-instantiated on every call.
pub(crate) struct InitFailure {
    pub(crate) message: String,
    pub(crate) at: Instant,
    pub(crate) backoff: Duration,
}

const FIRST_INIT_BACKOFF: Duration = Duration::from_millis(100);
const MAX_INIT_BACKOFF: Duration = Duration::from_secs(30);

/// Why a load got no compiled component.
enum Compile {
    Engine(surli_engine::EngineError),
    /// The component could not be read from its package (a package rebuilt
    /// from a damaged record).
    Package(surli_package::PackageError),
    /// `init` could not be snapshotted.
    Snapshot(surli_host::SnapshotError),
}

/// How `init` is bounded while it is snapshotted: by the module's memory
/// limit, and on an engine that interrupts, by its time limit, counted
/// from the first epoch tick the guest sees (compiling the instrumented
/// copy before it does not count).
fn init_snapshot_limits(
    engine: &SurliEngine,
    limits: &EffectiveLimits,
    budget: &Arc<surli_host::MemoryBudget>,
) -> surli_host::SnapshotLimits {
    let max_memory = limits
        .max_memory_bytes
        .map(|l| usize::try_from(l.value).unwrap_or(usize::MAX));
    let out_of_time = limits
        .max_execution_time
        .filter(|_| engine.interrupts())
        .map(|limit| {
            let engine = engine.clone();
            let ticks = engine.deadline_ticks(Some(limit.value));
            let first = std::sync::OnceLock::new();
            Arc::new(move || {
                let now = engine.current_epoch();
                now >= first.get_or_init(|| now).saturating_add(ticks)
            }) as Arc<dyn Fn() -> bool + Send + Sync>
        });
    surli_host::SnapshotLimits {
        memory: MemoryLimits::with_max_memory(max_memory),
        budget: Some(Arc::clone(budget)),
        out_of_time,
    }
}

/// Makes the snapshot of `wasm` after `init` on a thread of its own: the
/// load may already be inside `block_on` (`Runtime::load_blocking`), which
/// does not nest, and a panic in the snapshotter becomes an error instead
/// of taking the load's thread down. On a pooling engine the on-demand twin
/// runs it, so it never takes a slot from the module's instances.
fn make_snapshot(
    engine: &SurliEngine,
    wasm: &[u8],
    limits: surli_host::SnapshotLimits,
) -> Result<Vec<u8>, surli_host::SnapshotError> {
    let wasmtime = engine.overflow().unwrap_or_else(|| engine.wasmtime());
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("surli-snapshot".to_owned())
            .spawn_scoped(scope, || {
                futures_executor::block_on(surli_host::snapshot_after_init(wasmtime, wasm, limits))
            })
            .map_err(|error| surli_host::SnapshotError::Unsupported {
                message: format!("cannot start the snapshot's thread: {error}"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(surli_host::SnapshotError::Unsupported {
                    message: "the snapshotter panicked (the log has its message)".to_owned(),
                })
            })
    })
}

/// What a load compiles: the package's component, or its snapshot after
/// `init`, made for this load.
enum Code {
    Component(Arc<[u8]>),
    Snapshot(Vec<u8>),
}

impl AsRef<[u8]> for Code {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::Component(bytes) => bytes,
            Self::Snapshot(bytes) => bytes,
        }
    }
}

/// The cache key of a component's snapshot after `init`: derived from the
/// component's SHA-256, from surli's version (which pins the snapshotter,
/// wasmtime-wizer, that wrote it), and from the limits `init` was accepted
/// under (its memory limit, and its time limit where one applies), so a
/// snapshot made under looser limits is never used under tighter ones.
pub(crate) fn snapshot_key(wasm_sha256: &[u8; 32], limits: &EffectiveLimits) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key("surli 2026-12 init snapshot v1");
    let time = limits
        .max_execution_time
        .filter(|_| limits.strict_timeout)
        .map(|l| l.value);
    let conditions = format!(
        "{}|{:?}|{time:?}",
        env!("CARGO_PKG_VERSION"),
        limits.max_memory_bytes.map(|l| l.value)
    );
    hasher.update(conditions.as_bytes());
    hasher.update(&[0]);
    hasher.update(wasm_sha256);
    *hasher.finalize().as_bytes()
}

impl From<surli_engine::EngineError> for Compile {
    fn from(error: surli_engine::EngineError) -> Self {
        Self::Engine(error)
    }
}

/// Where a load runs the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadMode {
    /// On tokio's blocking pool, awaited: the caller is an async task.
    Async,
    /// On the calling thread: the caller asked to block
    /// ([`Runtime::load_blocking`](crate::Runtime::load_blocking)).
    Blocking,
}

impl Module {
    /// Loads a package, in a `load` span and counted in the load metrics.
    pub(crate) async fn load(
        runtime: Arc<RuntimeInner>,
        package: Package,
        options: ModuleOptions,
        strict_exports: bool,
        mode: LoadMode,
    ) -> Result<Self, LoadError> {
        let id = module_id(package.config());
        let metrics = runtime.options.metrics;
        let load = Self::load_unobserved(runtime, package, options, strict_exports, mode);
        crate::observe::load(&id, metrics, load).await
    }

    async fn load_unobserved(
        runtime: Arc<RuntimeInner>,
        package: Package,
        options: ModuleOptions,
        strict_exports: bool,
        mode: LoadMode,
    ) -> Result<Self, LoadError> {
        let config = package.config().clone();
        let id = module_id(&config);
        if !runtime.gate.is_open() {
            return Err(LoadError::ShuttingDown { module: id });
        }
        config.check_abi().map_err(|error| LoadError::Config {
            module: id.clone(),
            error,
        })?;

        let merged = EffectiveLimits::merge(&runtime.options.server, &config.capabilities);
        let mut warnings: Vec<String> = package
            .config_warnings()
            .iter()
            .map(ToString::to_string)
            .chain(package.warnings().iter().map(ToString::to_string))
            .chain(merged.warnings.iter().map(ToString::to_string))
            .collect();
        let limits = merged.limits;

        let net = resolve_net(&runtime, &config, &id, mode).await?;
        let kv = options
            .kv
            .unwrap_or_else(|| Arc::new(MemoryKvStore::new(kv_limits(&limits))));

        let set = if limits.strict_timeout {
            &runtime.guarded
        } else {
            &runtime.fast
        };
        let engine = set.engine.clone();
        // A package rebuilt from a record still holds its component
        // compressed: it is decompressed only if the cache must compile it.
        let wasm = package.component_bytes();
        let sha = *package.wasm_sha256();
        let snapshot = options.snapshot_init;
        let code_key = if snapshot {
            snapshot_key(&sha, &limits)
        } else {
            sha
        };
        let compiling = engine.clone();
        let loader = Arc::clone(&runtime);
        let snapshot_limits =
            snapshot.then(|| init_snapshot_limits(&engine, &limits, runtime.budget.memory()));
        let started = Instant::now();
        let compile = move || {
            loader.cache.get_or_compile_with(&compiling, &code_key, || {
                let wasm = wasm.get().map_err(Compile::Package)?;
                match snapshot_limits {
                    None => Ok(Code::Component(Arc::clone(wasm))),
                    Some(limits) => make_snapshot(&compiling, wasm, limits)
                        .map(Code::Snapshot)
                        .map_err(Compile::Snapshot),
                }
            })
        };
        let compiled = match mode {
            LoadMode::Async => {
                tokio::task::spawn_blocking(compile)
                    .await
                    .map_err(|e| LoadError::Task {
                        module: id.clone(),
                        message: e.to_string(),
                    })?
            }
            LoadMode::Blocking => compile(),
        };
        let cached = compiled.map_err(|error| match error {
            Compile::Engine(error) => LoadError::Engine {
                module: id.clone(),
                error,
            },
            Compile::Package(error) => {
                // The component did not read back as the package's record
                // said: the next read of these bytes must be a full one.
                if let Some(key) = package.record_key() {
                    runtime.forget_record(key);
                }
                LoadError::Package(error)
            }
            Compile::Snapshot(error) => LoadError::Snapshot {
                module: id.clone(),
                error,
            },
        })?;
        let artifact = ArtifactStats {
            source: cached.source,
            bytes: cached.artifact_bytes.unwrap_or(0),
            time: started.elapsed(),
        };
        let component = cached.component;
        // The code is compiled: a package read through the runtime's
        // records keeps its compressed bytes only (a quarter of the
        // component, for the demo), and decompresses again if asked.
        let mut package = package;
        package.shed_component();
        warnings.extend(
            component
                .component_type()
                .imports(set.linker.engine())
                .filter_map(|(name, _)| crate::portability_warning(name)),
        );
        let exports = PluginExports::resolve(&component).map_err(|error| LoadError::Host {
            module: id.clone(),
            error,
        })?;
        let pre = set
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Instantiation {
                module: id.clone(),
                message: format!("{e:#}"),
            })?;

        let mut env = ModuleEnv::new(
            config.meta.clone(),
            config.capabilities.clone(),
            Arc::clone(&kv),
        )
        .with_net(Arc::new(net))
        .with_stdio_limits(runtime.options.stdio)
        .with_max_answer_bytes(runtime.options.max_result_bytes)
        .with_http_limits(http_limits(&limits))
        .with_resolver(Arc::clone(&runtime.options.resolver));
        if let Some(root) = package.fs_path() {
            env = env.with_fs_root(root);
        }
        let env = Arc::new(env);

        let pool_size = limits.pool_size.value.get();
        let metrics = runtime
            .options
            .metrics
            .then(|| crate::observe::ModuleMetrics::new(&id));
        let mut inner = ModuleInner {
            runtime,
            id,
            package,
            limits,
            warnings: Vec::new(),
            engine,
            pre,
            exports,
            overflow: Mutex::new(None),
            env,
            kv,
            idle: Mutex::new(Vec::with_capacity(pool_size)),
            permits: Arc::new(Semaphore::new(pool_size)),
            counters: Counters::default(),
            artifact,
            init_context: options
                .init_context
                .unwrap_or_else(|| Arc::new(NullContext)),
            init_failure: Mutex::new(None),
            signatures: Vec::new(),
            described: false,
            isolation: options.isolation,
            snapshot,
            code_key,
            sweeps: AtomicU64::new(0),
            drained: AtomicBool::new(false),
            on_drop: Mutex::new(None),
            metrics,
        };

        // One instance, without `init`, proves the module instantiates and
        // tells what it really exports; it is not pooled because `init`
        // never ran in it.
        //
        // A package read before through the runtime's records
        // (`Runtime::read_package`) may have been asked already: the same
        // package bytes hold the same component and configuration, so the
        // answer is taken as it was given.
        let key = inner.package.record_key().map(|package| {
            crate::records::description_key(
                package,
                inner.engine.flavour(),
                &inner.limits,
                inner.engine.allocation(),
                inner.snapshot,
            )
        });
        let known = key.and_then(|key| inner.runtime.known_description(&key));
        let probed = match known {
            Some(described) => Option::clone(&described),
            None => {
                let probed =
                    describe::probe(&inner)
                        .await
                        .map_err(|e| LoadError::Instantiation {
                            module: inner.id.clone(),
                            message: e.to_string(),
                        })?;
                // Only an answer is kept: a module that did not describe
                // itself (or refused to, perhaps only this time) is asked
                // again next time.
                if let (Some(key), Some(_)) = (key, &probed) {
                    inner.runtime.remember_description(&key, &probed);
                }
                probed
            }
        };
        let described = probed.is_some();
        let signatures = probed.unwrap_or_else(|| {
            warnings.push(
                "the module does not describe its functions (list-functions, function-args or \
                 function-returns is missing or refused): calls work, but their signatures are \
                 known only from exports.toml"
                    .to_owned(),
            );
            Vec::new()
        });
        let mismatches = if described {
            describe::compare(inner.package.exports(), &signatures)
        } else {
            Vec::new()
        };
        if !mismatches.is_empty() && strict_exports {
            return Err(LoadError::ExportsMismatch {
                module: inner.id.clone(),
                mismatches,
            });
        }
        warnings.extend(
            mismatches
                .into_iter()
                .map(|m| format!("exports.toml does not match the module: {m}")),
        );
        for warning in &warnings {
            tracing::warn!(module = %inner.id, "{warning}");
        }
        inner.signatures = signatures;
        inner.described = described;
        inner.warnings = warnings;
        let inner = Arc::new(inner);
        inner.runtime.budget.register(&inner);
        Ok(Self { inner })
    }

    /// Whether `self` and `other` are handles to the same loaded module
    /// (not merely loaded from the same package).
    pub fn is_same(&self, other: &Module) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// `organisation/name@version`.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The module's `surrealism.toml`.
    pub fn config(&self) -> &ModuleConfig {
        self.inner.package.config()
    }

    /// The package the module was loaded from.
    pub fn package(&self) -> &Package {
        &self.inner.package
    }

    /// The limits the module runs under.
    pub fn limits(&self) -> &EffectiveLimits {
        &self.inner.limits
    }

    /// What looked wrong at load: unknown config keys, limits adjusted,
    /// `exports.toml` disagreeing with the module.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The module's functions as the module itself reports them (asked once
    /// at load). The live module is the authority; `exports.toml` is only a
    /// cheap preview of this. Empty when the module cannot describe itself
    /// (see [`Module::is_described`]).
    pub fn functions(&self) -> &[FunctionSignature] {
        &self.inner.signatures
    }

    /// Whether the module described its functions at load. The describing
    /// exports (`list-functions`, `function-args`, `function-returns`) are
    /// optional: a module without them loads and runs, and its signatures
    /// are known only from `exports.toml`.
    pub fn is_described(&self) -> bool {
        self.inner.described
    }

    /// The module's KV store.
    pub fn kv(&self) -> &Arc<dyn KvStore> {
        &self.inner.kv
    }

    /// A snapshot of the module's counters.
    pub fn stats(&self) -> ModuleStats {
        self.inner
            .counters
            .snapshot(self.inner.artifact, self.inner.env.http_counts())
    }

    /// How the module's instances are shared between calls.
    pub fn isolation(&self) -> Isolation {
        self.inner.isolation
    }

    /// How many instances sit idle in the pool.
    pub fn idle_instances(&self) -> usize {
        self.inner.idle.lock().len()
    }

    /// How many more leases can be taken right now before one must wait.
    pub fn available_permits(&self) -> usize {
        self.inner.permits.available_permits()
    }

    /// The memory the module holds now: its compiled code, its idle
    /// instances' linear memory, and its KV store's data when the store
    /// keeps it in memory. Instances out on leases are not counted.
    pub fn memory(&self) -> ModuleMemory {
        let inner = &self.inner;
        let (idle_instances, idle_instance_bytes) = {
            let idle = inner.idle.lock();
            (
                idle.len(),
                idle.iter().map(Instance::memory_bytes).sum::<u64>(),
            )
        };
        ModuleMemory {
            code_bytes: surli_engine::code_bytes(inner.pre.component()),
            idle_instances,
            idle_instance_bytes,
            kv_bytes: inner.kv.resident_bytes(),
        }
    }

    /// Drops the idle instances that sat in the pool since before the
    /// previous call of `trim_idle` and returns how many it dropped.
    ///
    /// A sweep, not a clock: called every `interval`, it drops an instance
    /// once it has been idle for between one and two intervals, and the
    /// call path reads no clock for it. Dropped instances are counted as
    /// retired. [`Registry`](crate::Registry) calls it from its
    /// maintenance.
    pub fn trim_idle(&self) -> usize {
        let inner = &self.inner;
        let stale: Vec<Instance> = {
            let mut idle = inner.idle.lock();
            let previous = inner.sweeps.fetch_add(1, Ordering::Relaxed);
            // Returned instances are pushed on top, so their stamps rise
            // from the bottom of the stack: the stale ones are a prefix.
            let stale = idle.partition_point(|instance| instance.returned_in < previous);
            idle.drain(..stale).collect()
        };
        for _ in &stale {
            inner.counters.instance_retired();
        }
        stale.len()
    }

    /// Calls `function` (`None`: the default export) with `args`, on a
    /// pooled instance, under the module's time limit.
    pub async fn call(
        &self,
        ctx: Arc<dyn InvocationContext>,
        function: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, CallError> {
        self.call_with_timeout(ctx, function, args, None).await
    }

    /// [`Module::call`] with the caller's own timeout, which can only
    /// shorten the module's limit.
    ///
    /// The caller's timeout covers the whole call, end to end: waiting for
    /// a free instance, creating one and running its `init` when the pool
    /// has none idle, and the guest's run; [`CallError::Timeout`] says in
    /// which [`CallPhase`] it fired. The module's own `max_execution_time`
    /// covers only the guest's run.
    ///
    /// # Errors
    ///
    /// Every [`CallError`]; [`CallError::TimeoutNotEnforceable`] when a
    /// timeout is given for a module that runs without timeouts.
    pub async fn call_with_timeout(
        &self,
        ctx: Arc<dyn InvocationContext>,
        function: Option<&str>,
        args: Vec<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, CallError> {
        let tally = Tally::start(&self.inner.counters);
        let mut observation = Observation::start(&self.inner, function);
        let span = observation.span();
        let outcome = in_span!(span, async {
            let deadline = self.inner.caller_deadline(timeout)?;
            let encoded = surli_host::codec::encode_args(&args).map_err(CallError::Codec)?;
            let mut lease = self
                .lease_until(ctx, deadline, Some(&mut observation))
                .await?;
            let bytes = lease.invoke(function, &encoded, deadline).await?;
            surli_host::codec::decode_value(&bytes).map_err(CallError::Codec)
        });
        tally.finish(&outcome);
        observation.finish(&outcome);
        outcome
    }

    /// Calls `function` with arguments already encoded as a FlatBuffers
    /// value list, returning the encoded result: for embedders that hold
    /// encoded values and should not pay to decode and re-encode them.
    pub async fn call_encoded(
        &self,
        ctx: Arc<dyn InvocationContext>,
        function: Option<&str>,
        args: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, CallError> {
        let tally = Tally::start(&self.inner.counters);
        let mut observation = Observation::start(&self.inner, function);
        let span = observation.span();
        let outcome = in_span!(span, async {
            let deadline = self.inner.caller_deadline(timeout)?;
            let mut lease = self
                .lease_until(ctx, deadline, Some(&mut observation))
                .await?;
            lease.invoke(function, args, deadline).await
        });
        tally.finish(&outcome);
        observation.finish(&outcome);
        outcome
    }

    /// Takes an instance for several calls under one context. The instance
    /// goes back to the pool when the lease is dropped, unless a call broke
    /// it (trap, timeout, out of memory, or a call future dropped midway),
    /// in which case it is discarded: callers cannot get this wrong.
    pub async fn lease(&self, ctx: Arc<dyn InvocationContext>) -> Result<Lease, CallError> {
        self.lease_until(ctx, None, None).await
    }

    /// Takes a new instance on which `init` has *not* run, for a caller
    /// that wants to decide: it may call [`Lease::init`] first, or call the
    /// module's functions (or nothing) without it, as the original runtime's
    /// `new_controller` allowed (`surreal module build` describes a module
    /// that way). The instance is never pooled unless `init` ran in it.
    ///
    /// A module loaded with [`ModuleOptions::snapshot_init`] has no such
    /// instance: each starts from the state `init` left, so the lease holds
    /// an initialised one and [`Lease::init`] does nothing.
    pub async fn lease_uninitialised(
        &self,
        ctx: Arc<dyn InvocationContext>,
    ) -> Result<Lease, CallError> {
        self.inner.check_open()?;
        let permit = self.inner.permit().await?;
        let instance = self.inner.new_instance(None).await?;
        Ok(Lease::new(self.clone(), instance, permit, ctx))
    }

    /// A lease for a call that must be over by `deadline`: waiting for a
    /// permit and making a new instance count against it.
    async fn lease_until(
        &self,
        ctx: Arc<dyn InvocationContext>,
        deadline: Option<CallerDeadline>,
        observation: Option<&mut Observation<'_>>,
    ) -> Result<Lease, CallError> {
        let inner = &self.inner;
        inner.check_open()?;
        let queued = observation
            .as_ref()
            .is_some_and(|o| o.timed())
            .then(Instant::now);
        let permit = within(deadline, CallPhase::Queue, inner.permit()).await?;
        let pooled = inner.take_idle();
        if let Some(observation) = observation {
            observation.leased(queued.map(|from| from.elapsed()), pooled.is_some());
        }
        let instance = match pooled {
            Some(instance) => {
                inner.counters.pool_hit();
                instance
            }
            None => inner.new_initialised_instance(deadline).await?,
        };
        Ok(Lease::new(self.clone(), instance, permit, ctx))
    }
}

impl ModuleInner {
    /// The deadline of a call starting now with the caller's `timeout`.
    ///
    /// # Errors
    ///
    /// [`CallError::TimeoutNotEnforceable`] when the module runs without
    /// timeouts: nothing could hold its guest to the caller's.
    pub(crate) fn caller_deadline(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<CallerDeadline>, CallError> {
        if timeout.is_some() && !self.limits.strict_timeout {
            return Err(CallError::TimeoutNotEnforceable {
                module: self.id.clone(),
            });
        }
        Ok(CallerDeadline::starting_now(timeout))
    }

    /// [`CallError::ShuttingDown`] once the runtime's shutdown has begun.
    pub(crate) fn check_open(&self) -> Result<(), CallError> {
        if self.runtime.gate.is_open() {
            Ok(())
        } else {
            Err(self.shutting_down())
        }
    }

    pub(crate) fn shutting_down(&self) -> CallError {
        CallError::ShuttingDown {
            module: self.id.clone(),
        }
    }

    /// This module's key in the task's call chain.
    pub(crate) fn chain_id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// A permit to check out an instance: waits for one, unless calls of
    /// this module further up the caller's own chain hold them all, in
    /// which case waiting would never end.
    async fn permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, CallError> {
        let pool_size = self.limits.pool_size.value.get();
        if crate::chain::held_by_caller(self.chain_id()) >= pool_size {
            return Err(CallError::Reentrant {
                module: self.id.clone(),
                pool_size,
            });
        }
        // Only a shutdown's stop closes the semaphore, which ends every
        // wait for a permit at once.
        Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| self.shutting_down())
    }

    /// A fresh instance, not yet initialised: from the engine's pool, or,
    /// when the pool has no free slot, allocated on demand on the engine's
    /// overflow twin. It first takes room under the runtime's budget; a
    /// caller's `deadline` bounds that wait and the instantiation.
    pub(crate) async fn new_instance(
        &self,
        deadline: Option<CallerDeadline>,
    ) -> Result<Instance, CallError> {
        let slot = self.runtime.budget.slot(&self.id, deadline).await?;
        let make = async {
            let (error, slot) = match self.instantiate(&self.pre, &self.exports, slot).await {
                Err(Attempt::PoolExhausted(error, slot)) => (error, slot),
                Err(Attempt::Failed(error)) => return Err(error),
                Ok(instance) => return Ok(instance),
            };
            let overflow = self
                .overflow()
                .map_err(|message| CallError::Instantiation {
                    module: self.id.clone(),
                    message: format!(
                        "the engine's instance pool is exhausted ({error:#}) and no instance \
                         could be allocated on demand instead: {message}"
                    ),
                })?;
            tracing::debug!(module = %self.id, "instance pool exhausted; allocating on demand");
            match self
                .instantiate(&overflow.pre, &overflow.exports, slot)
                .await
            {
                Ok(instance) => {
                    self.counters.instance_overflowed();
                    Ok(instance)
                }
                Err(Attempt::Failed(error)) => Err(error),
                // The overflow engine has no pool; kept for completeness.
                Err(Attempt::PoolExhausted(error, _)) => Err(CallError::Instantiation {
                    module: self.id.clone(),
                    message: format!("{error:#}"),
                }),
            }
        };
        within(deadline, CallPhase::Instantiate, make).await
    }

    /// The module on the overflow engine, made once.
    fn overflow(&self) -> Result<Overflow, String> {
        let mut slot = self.overflow.lock();
        if let Some(overflow) = slot.as_ref() {
            return Ok(overflow.clone());
        }
        let set = self.runtime.engine_set(self.engine.flavour());
        let linker = set
            .overflow_linker
            .as_ref()
            .ok_or_else(|| "the engine has no overflow twin".to_owned())?;
        let component = self
            .runtime
            .cache
            .overflow_component(&self.engine, &self.code_key, self.pre.component())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the engine has no overflow twin".to_owned())?;
        let exports = PluginExports::resolve(&component).map_err(|e| e.to_string())?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| format!("{e:#}"))?;
        let overflow = Overflow { pre, exports };
        *slot = Some(overflow.clone());
        Ok(overflow)
    }

    /// Instantiates `pre` in a new store of its engine, with the module's
    /// limits, host state and deadline, and binds its exports.
    async fn instantiate(
        &self,
        pre: &InstancePre<HostState>,
        exports: &PluginExports,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Instance, Attempt> {
        let failed = |message: String| {
            Attempt::Failed(CallError::Instantiation {
                module: self.id.clone(),
                message,
            })
        };
        let max_memory = self
            .limits
            .max_memory_bytes
            .map(|l| usize::try_from(l.value).unwrap_or(usize::MAX));
        let limiter = MemoryLimiter::new(MemoryLimits::with_max_memory(max_memory))
            .sharing(Arc::clone(self.runtime.budget.memory()));
        let state =
            HostState::new(Arc::clone(&self.env), limiter).map_err(|e| failed(e.to_string()))?;
        let mut store = Store::new(pre.engine(), state);
        store.limiter(|state| state.limiter_mut());
        // What one host call may take from the guest, from `init` on; each
        // call sets it again (see `GuestExports::invoke_bounded`).
        store.set_hostcall_fuel(self.runtime.options.max_result_bytes);
        // The overflow engine's epoch moves in step with its twin's, so the
        // twin's count arms deadlines on either.
        let deadline = Deadline::install(&mut store, &self.engine);
        let limit = self.limits.max_execution_time.map(|l| l.value);
        deadline.arm(&mut store, &self.engine, limit);
        // Guarded as a call is: a start function that loops meets the epoch
        // deadline, one blocked in a host call meets the wall clock.
        let limit = crate::instance::own_limit(self, CallPhase::Instantiate);
        let instantiated = crate::instance::guard(self, limit, pre.instantiate_async(&mut store))
            .await
            .map_err(Attempt::Failed)?;
        let instance = match instantiated {
            Ok(instance) => instance,
            Err(e) if surli_engine::is_pool_exhausted(&e) => {
                return Err(Attempt::PoolExhausted(e, slot));
            }
            Err(e) => {
                return Err(match store.data().memory_limiter().exhausted() {
                    Some(exhausted) => {
                        Attempt::Failed(crate::instance::memory_error(self, exhausted))
                    }
                    None => failed(format!("{e:#}")),
                });
            }
        };
        let exports: GuestExports = exports
            .bind(&mut store, &instance)
            .map_err(|e| failed(e.to_string()))?;
        self.counters.instance_created();
        let mut instance = Instance::new(store, exports, deadline, slot);
        if self.snapshot {
            // Its memory and globals are what `init` left in the snapshot.
            instance.mark_initialised();
        }
        Ok(instance)
    }

    /// A new instance with `init` run in it; a caller's `deadline` bounds
    /// making it and running `init` (and `init` meets the module's own
    /// limit besides).
    pub(crate) async fn new_initialised_instance(
        &self,
        deadline: Option<CallerDeadline>,
    ) -> Result<Instance, CallError> {
        if let Some(error) = self.remembered_init_failure() {
            return Err(error);
        }
        if self.runtime.gate.is_stopped() {
            return Err(self.shutting_down());
        }
        let mut instance = self.new_instance(deadline).await?;
        if instance.is_initialised() {
            return Ok(instance);
        }
        // Until `init` succeeds the instance is on its way out: if it fails,
        // or if this future is dropped while `init` runs (a cancelled call
        // that had to grow the pool), the instance is dropped here and
        // counted as discarded.
        let unfinished = Unfinished(&self.counters);
        let info = CallInfo::init(Arc::clone(self.env.module()));
        let init = async {
            Ok(instance
                .run_init(self, Arc::clone(&self.init_context), info)
                .await)
        };
        // The caller's deadline passing while `init` runs is the caller's
        // timeout, not a failure of `init`: nothing is remembered, and the
        // half-initialised instance is dropped (counted by `unfinished`).
        match within(deadline, CallPhase::Init, init).await? {
            Ok(()) => {
                std::mem::forget(unfinished);
                *self.init_failure.lock() = None;
                Ok(instance)
            }
            Err(message) => {
                drop(unfinished);
                self.counters.init_failed();
                self.remember_init_failure(&message);
                Err(CallError::InitFailed {
                    module: self.id.clone(),
                    message,
                    remembered: false,
                })
            }
        }
    }

    fn remembered_init_failure(&self) -> Option<CallError> {
        let failure = self.init_failure.lock();
        let failure = failure.as_ref()?;
        (failure.at.elapsed() < failure.backoff).then(|| CallError::InitFailed {
            module: self.id.clone(),
            message: failure.message.clone(),
            remembered: true,
        })
    }

    fn remember_init_failure(&self, message: &str) {
        let mut failure = self.init_failure.lock();
        let backoff = failure.as_ref().map_or(FIRST_INIT_BACKOFF, |f| {
            (f.backoff * 2).min(MAX_INIT_BACKOFF)
        });
        *failure = Some(InitFailure {
            message: message.to_owned(),
            at: Instant::now(),
            backoff,
        });
    }

    /// An idle instance for a new lease, most recently returned first.
    /// Under [`Isolation::Recycle`] with `max_idle`, the instances that sat
    /// idle too long are retired first (the oldest are at the bottom of the
    /// stack, so they are a prefix of it), and dropped outside the lock.
    fn take_idle(&self) -> Option<Instance> {
        let (instance, stale) = {
            let mut idle = self.idle.lock();
            let stale: Vec<Instance> = match self.isolation.max_idle() {
                Some(max_idle) => {
                    let now = Instant::now();
                    let keep_from = idle
                        .iter()
                        .position(|instance| instance.idle_for(now) <= max_idle)
                        .unwrap_or(idle.len());
                    idle.drain(..keep_from).collect()
                }
                None => Vec::new(),
            };
            (idle.pop(), stale)
        };
        for _ in &stale {
            self.counters.instance_retired();
        }
        drop(stale);
        instance
    }

    /// The idle instance that has sat in the pool longest (the bottom of
    /// the stack), for the runtime's budget to drop.
    pub(crate) fn take_oldest_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock();
        (!idle.is_empty()).then(|| idle.remove(0))
    }

    /// Retires the module's idle instances now, and every instance that
    /// comes back from a call from now on: the module still answers the
    /// calls and leases of whoever holds it, but keeps no instance between
    /// them. Returns how many idle instances it dropped.
    pub(crate) fn drain(&self) -> usize {
        self.drained.store(true, Ordering::Relaxed);
        let idle = std::mem::take(&mut *self.idle.lock());
        for _ in &idle {
            self.counters.instance_retired();
        }
        idle.len()
    }

    /// Ends every wait for a permit with [`CallError::ShuttingDown`] (a
    /// shutdown's stop); no permit is handed out again.
    pub(crate) fn close_permits(&self) {
        self.permits.close();
    }

    /// Has `report` told the module's final counters when the last handle
    /// to the module is dropped (replacing any earlier one).
    pub(crate) fn on_drop(&self, report: FinalStats) {
        *self.on_drop.lock() = Some(report);
    }

    /// Whether an instance must be retired after its last call instead of
    /// running another, under the module's isolation.
    pub(crate) fn is_spent(&self, instance: &Instance) -> bool {
        self.isolation.spent(instance.uses())
    }

    /// Puts a healthy instance back, or retires it when the pool is full.
    /// Under [`Isolation::FreshPerCall`] (a lease that made no call) and
    /// once an instance is spent, it is retired instead.
    pub(crate) fn return_instance(&self, mut instance: Instance) {
        // The pool holds only instances whose `init` ran.
        if self.isolation == Isolation::FreshPerCall
            || self.is_spent(&instance)
            || !instance.is_initialised()
        {
            self.counters.instance_retired();
            return;
        }
        // Only an idle-time bound reads the stamp: no clock read otherwise.
        if self.isolation.max_idle().is_some() {
            instance.mark_idle();
        }
        let overflow = {
            let mut idle = self.idle.lock();
            // Read under the lock `drain` takes after setting the flag: an
            // instance either sees the flag or is pushed before `drain`
            // empties the pool.
            if self.drained.load(Ordering::Relaxed) {
                drop(idle);
                self.counters.instance_retired();
                return;
            }
            // Stamped under the lock a sweep takes, so the stamps rise
            // from the bottom of the stack.
            instance.returned_in = self.sweeps.load(Ordering::Relaxed);
            // Calls are waiting for room under the runtime's budget: this
            // instance makes it. Checked under the idle lock, so a waiter
            // that counted itself before this check sees the instance
            // dropped, and one that counted itself after it finds the
            // instance idle when it looks again (see `Budget::slot`).
            if self.runtime.budget.has_waiters() {
                drop(idle);
                self.counters.instance_reclaimed();
                self.runtime.budget.note_reclaimed();
                return;
            }
            if idle.len() < self.limits.pool_size.value.get() {
                idle.push(instance);
                None
            } else {
                Some(instance)
            }
        };
        // Cannot happen while instances are only created for leases that
        // found the pool empty; counted anyway so the stats add up.
        if overflow.is_some() {
            self.counters.instance_retired();
        }
    }
}

/// Counts an instance as discarded when dropped; forgotten once the
/// instance is kept.
struct Unfinished<'a>(&'a Counters);

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        self.0.instance_discarded();
    }
}

/// `organisation/name@version` of the module `config` describes.
pub(crate) fn module_id(config: &ModuleConfig) -> String {
    format!(
        "{}/{}@{}",
        config.meta.organisation, config.meta.name, config.meta.version
    )
}

async fn resolve_net(
    runtime: &RuntimeInner,
    config: &ModuleConfig,
    id: &str,
    mode: LoadMode,
) -> Result<NetAllowList, LoadError> {
    let net_error = |error| LoadError::Net {
        module: id.to_owned(),
        error,
    };
    let entries = parse_entries(&config.capabilities.allow_net).map_err(net_error)?;
    let resolver = runtime.options.resolver.as_ref();
    let resolved = match mode {
        LoadMode::Async => NetAllowList::resolve(&entries, resolver).await,
        // A blocking load may itself run on tokio's blocking pool: queueing
        // the look-ups there too could wait for a thread that never frees.
        LoadMode::Blocking => NetAllowList::resolve(&entries, &OnThisThread(resolver)).await,
    };
    resolved.map_err(net_error)
}

/// A resolver that looks up on the calling thread when the one it wraps
/// can, for blocking loads.
struct OnThisThread<'a>(&'a dyn surli_net::Resolver);

#[surli_net::async_trait]
impl surli_net::Resolver for OnThisThread<'_> {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
        match self.0.resolve_blocking(host, port) {
            Some(addrs) => addrs,
            None => self.0.resolve(host, port).await,
        }
    }
}

/// The outbound HTTP limits of a module with effective limits `limits`.
pub(crate) fn http_limits(limits: &surli_config::EffectiveLimits) -> surli_host::HttpLimits {
    surli_host::HttpLimits::default()
        .with_max_requests_per_call(limits.max_http_requests_per_call.map(|l| l.value))
        .with_max_concurrent_requests(limits.max_http_concurrent_requests.map(|l| l.value))
        .with_max_request_bytes(limits.max_http_request_bytes.map(|l| l.value))
        .with_max_response_bytes(limits.max_http_response_bytes.map(|l| l.value))
}

/// The KV limits of a module with effective limits `limits`.
pub(crate) fn kv_limits(limits: &surli_config::EffectiveLimits) -> KvLimits {
    KvLimits::default()
        .with_max_entries(limits.max_kv_entries.map(|l| l.value))
        .with_max_value_bytes(limits.max_kv_value_bytes.map(|l| l.value))
        .with_max_bytes(limits.max_kv_bytes.map(|l| l.value))
}
