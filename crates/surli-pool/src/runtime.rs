//! The runtime: the engines and linkers shared by every module it loads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use surli_config::{EffectiveLimits, ModuleConfig, ServerLimits};
use surli_engine::wasmtime::component::Linker;
use surli_engine::{
    Allocation, ArtifactCache, CacheStats, EngineOptions, EpochSource, Flavour, PoolingLimits,
    SurliEngine,
};
use surli_host::{HostState, MemoryLimits, StdioLimits};
use surli_kv::KvLimits;
use surli_net::{Resolver, SystemResolver};
use surli_package::Package;

use crate::budget::{Budget, BudgetUsage, RuntimeBudget};
use crate::error::LoadError;
use crate::module::{LoadMode, Module, ModuleOptions};
use crate::shutdown::{Gate, ShutdownReport};

/// How a [`Runtime`] runs its modules.
#[derive(Clone)]
#[non_exhaustive]
pub struct RuntimeOptions {
    /// The ceilings every module runs under; a module may only narrow them.
    pub server: ServerLimits,
    /// Who advances the epoch of the guarded engine. `Automatic` in a real
    /// host; tests choose `Manual` to count ticks instead of waiting.
    pub epoch: EpochSource,
    /// How host names are resolved: those in `allow_net` at load, and those
    /// of guests' outbound HTTP requests when they are sent.
    pub resolver: Arc<dyn Resolver>,
    /// Refuse a module whose `exports.toml` disagrees with what the module
    /// itself reports (otherwise each disagreement is a warning).
    pub strict_exports: bool,
    /// Bounds on the guest's stdout and stderr lines.
    pub stdio: StdioLimits,
    /// How long after its deadline a call blocked outside guest code (in a
    /// slow host call, say) is abandoned by the wall-clock guard. The epoch
    /// fires first for guest code; this catches what epochs cannot.
    pub wall_clock_grace: Duration,
    /// The most bytes a guest may answer a call with: its encoded result
    /// value, or its error text. A longer answer is measured in the guest's
    /// memory and refused before any of it is copied
    /// ([`CallError::ResultTooLarge`](crate::CallError::ResultTooLarge));
    /// the instance is discarded, since its memory has grown to hold the
    /// answer and a wasm memory never shrinks.
    ///
    /// The same bound applies to what one host call made by the guest
    /// (`sql`, `run`, `kv-*`, WASI) takes from it, strings and lists
    /// together: it is wasmtime's hostcall fuel, whose own default is
    /// 128 MiB. A host call over it traps (`CallError::Trap`).
    ///
    /// And it bounds what one `sql` or `run` hands back to the guest: an
    /// answer that encodes to more is refused before it reaches guest
    /// memory, and the guest's host call fails with an error that names
    /// this limit (an SDK guest passes it on as its own error).
    ///
    /// Default: 64 MiB.
    pub max_result_bytes: usize,
    /// Where compiled components are kept between processes, so a module
    /// compiles once per machine. `None` (the default): in memory only, so
    /// the same component loaded twice by this runtime still compiles
    /// once. [`ArtifactCache::user_dir`] is the conventional place. The
    /// directory must be writable only by users the host trusts: whoever
    /// can write it chooses the machine code surli runs (see
    /// [`ArtifactCache`]).
    pub cache_dir: Option<PathBuf>,
    /// The most compiled code the runtime's artifact cache holds in memory;
    /// past it the components least recently loaded are forgotten (a
    /// module loaded from one keeps its code). See
    /// [`Runtime::forget_compiled`] to drop one at once.
    ///
    /// Default: [`ArtifactCache::DEFAULT_MEMORY_BYTES`] (512 MiB).
    pub cache_memory_bytes: u64,
    /// How the engines allocate instances. The default is wasmtime's
    /// pooling allocator with copy-on-write memory images, sized by
    /// [`RuntimeOptions::DEFAULT_POOLED_INSTANCES`]; a pool whose
    /// `max_memory_size` is `None` caps memories at the server's
    /// `max_memory_bytes`. Each of the runtime's two engines (guarded and
    /// fast) gets a pool of these sizes.
    ///
    /// Instances alive at once, across every module on one engine, should
    /// fit the pool: at most the sum of the modules' pool sizes, plus one
    /// briefly for each module being loaded. An instance the pool has no
    /// slot for is allocated on demand instead, on the engine's overflow
    /// twin (counted in
    /// [`ModuleStats::instances_overflowed`](crate::ModuleStats::instances_overflowed)),
    /// at on-demand cost. A pool the address space cannot hold falls back
    /// to on-demand allocation when the engine is built, with a warning;
    /// see [`Runtime::allocation`].
    pub allocation: Allocation,
    /// Ceilings over all modules together: instances alive and linear
    /// memory held. Default: none (each module bounded only by its own
    /// limits). See [`RuntimeBudget`].
    pub budget: RuntimeBudget,
    /// Record calls' and loads' metrics through the `metrics` facade, to
    /// whatever recorder is installed when a module loads (see
    /// [`Runtime::publish_metrics`] for the rest). Default: off, so a call
    /// reads no clock for them.
    pub metrics: bool,
}

impl RuntimeOptions {
    /// These options with the server limits set to `server`.
    #[must_use]
    pub fn with_server(mut self, server: ServerLimits) -> Self {
        self.server = server;
        self
    }

    /// These options with who advances the guarded engine's epoch set to `epoch`.
    #[must_use]
    pub fn with_epoch(mut self, epoch: EpochSource) -> Self {
        self.epoch = epoch;
        self
    }

    /// These options with the resolver of host names (`allow_net` at load,
    /// outbound HTTP requests when sent) set to `resolver`.
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = resolver;
        self
    }

    /// These options with whether a module whose `exports.toml` disagrees with it is refused set to `strict_exports`.
    #[must_use]
    pub fn with_strict_exports(mut self, strict_exports: bool) -> Self {
        self.strict_exports = strict_exports;
        self
    }

    /// These options with the bounds on guest output set to `stdio`.
    #[must_use]
    pub fn with_stdio(mut self, stdio: StdioLimits) -> Self {
        self.stdio = stdio;
        self
    }

    /// These options with the wall-clock grace period set to `wall_clock_grace`.
    #[must_use]
    pub fn with_wall_clock_grace(mut self, wall_clock_grace: Duration) -> Self {
        self.wall_clock_grace = wall_clock_grace;
        self
    }

    /// These options with the largest answer a guest may give set to `max_result_bytes`.
    #[must_use]
    pub fn with_max_result_bytes(mut self, max_result_bytes: usize) -> Self {
        self.max_result_bytes = max_result_bytes;
        self
    }

    /// These options with the most compiled code held in memory set to `cache_memory_bytes`.
    #[must_use]
    pub fn with_cache_memory_bytes(mut self, cache_memory_bytes: u64) -> Self {
        self.cache_memory_bytes = cache_memory_bytes;
        self
    }

    /// These options with how the engines allocate instances set to `allocation`.
    #[must_use]
    pub fn with_allocation(mut self, allocation: Allocation) -> Self {
        self.allocation = allocation;
        self
    }

    /// These options with calls' and loads' metrics recorded (`true`) or
    /// not.
    #[must_use]
    pub fn with_metrics(mut self, metrics: bool) -> Self {
        self.metrics = metrics;
        self
    }
}

impl RuntimeOptions {
    /// How many plugin instances the default pool holds per engine: 32
    /// modules at the default `max_pool_size` of 8. Each instance may take
    /// two linear memories, each reserving 4 GiB and a 32 MiB guard of
    /// address space, so the pool reserves about 2 TiB per engine, well
    /// inside the 128 TiB of a 64-bit Linux process.
    pub const DEFAULT_POOLED_INSTANCES: u32 = 256;
}

impl RuntimeOptions {
    /// These options with compiled components kept in `dir` between
    /// processes (see [`RuntimeOptions::cache_dir`]).
    #[must_use]
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// These options with `budget` as the runtime-wide budget.
    pub fn with_budget(mut self, budget: RuntimeBudget) -> Self {
        self.budget = budget;
        self
    }
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            server: ServerLimits::default(),
            epoch: EpochSource::Automatic,
            resolver: Arc::new(SystemResolver),
            strict_exports: false,
            stdio: StdioLimits::default(),
            wall_clock_grace: Duration::from_millis(50),
            max_result_bytes: 64 << 20,
            cache_dir: None,
            cache_memory_bytes: ArtifactCache::DEFAULT_MEMORY_BYTES,
            allocation: Allocation::Pooling(PoolingLimits::for_instances(
                Self::DEFAULT_POOLED_INSTANCES,
                None,
            )),
            budget: RuntimeBudget::default(),
            metrics: false,
        }
    }
}

impl std::fmt::Debug for RuntimeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeOptions")
            .field("server", &self.server)
            .field("epoch", &self.epoch)
            .field("strict_exports", &self.strict_exports)
            .field("stdio", &self.stdio)
            .field("wall_clock_grace", &self.wall_clock_grace)
            .field("max_result_bytes", &self.max_result_bytes)
            .field("cache_dir", &self.cache_dir)
            .field("cache_memory_bytes", &self.cache_memory_bytes)
            .field("allocation", &self.allocation)
            .field("budget", &self.budget)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

/// Loads modules and owns what they share: a guarded and a fast engine and
/// a linker for each. Cheap to clone; build one per process.
#[derive(Clone, Debug)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) options: RuntimeOptions,
    pub(crate) guarded: EngineSet,
    pub(crate) fast: EngineSet,
    pub(crate) cache: ArtifactCache,
    pub(crate) budget: Budget,
    /// Open, closing or stopped ([`Runtime::shutdown`]).
    pub(crate) gate: Gate,
    /// Package reads seen before ([`Runtime::read_package`]).
    pub(crate) records: crate::records::Records,
}

impl std::fmt::Debug for RuntimeInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// An engine and the linkers built for it and for its overflow twin.
pub(crate) struct EngineSet {
    pub(crate) engine: SurliEngine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) overflow_linker: Option<Linker<HostState>>,
}

impl RuntimeInner {
    /// The engine set of a flavour.
    pub(crate) fn engine_set(&self, flavour: Flavour) -> &EngineSet {
        match flavour {
            Flavour::Guarded => &self.guarded,
            Flavour::Fast => &self.fast,
        }
    }
}

impl Runtime {
    /// Builds the engines and linkers.
    pub fn new(options: RuntimeOptions) -> Result<Self, LoadError> {
        let allocation = match options.allocation {
            Allocation::Pooling(mut limits) => {
                if limits.max_memory_size.is_none() {
                    limits.max_memory_size = options
                        .server
                        .max_memory_bytes
                        // A 32-bit memory never grows past 4 GiB, and the
                        // pool refuses a cap over its 4 GiB slots.
                        .map(|bytes| {
                            usize::try_from(bytes.min(MAX_32BIT_MEMORY)).unwrap_or(usize::MAX)
                        });
                }
                // A pool slot smaller than the store's table limit would
                // refuse grows the limit allows, with no record of why.
                limits
                    .max_table_elements
                    .get_or_insert(MemoryLimits::DEFAULT_MAX_TABLE_ELEMENTS);
                Allocation::Pooling(limits)
            }
            Allocation::OnDemand => Allocation::OnDemand,
        };
        let guarded = engine_set(Flavour::Guarded, options.epoch, allocation)?;
        let fast = engine_set(Flavour::Fast, options.epoch, allocation)?;
        let cache = match &options.cache_dir {
            Some(dir) => ArtifactCache::with_dir(dir),
            None => ArtifactCache::in_memory(),
        }
        .with_memory_limit(options.cache_memory_bytes);
        let budget = Budget::new(options.budget);
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                options,
                guarded,
                fast,
                cache,
                budget,
                gate: Gate::default(),
                records: crate::records::Records::new(),
            }),
        })
    }

    /// The options the runtime was built with.
    pub fn options(&self) -> &RuntimeOptions {
        &self.inner.options
    }

    /// What the compiled-artifact cache has done for this runtime's loads:
    /// hits in memory and on disk, compiles, bytes read and written, and
    /// files it refused.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// How much of the runtime-wide budget is in use: instances alive and
    /// linear memory held across all modules (counted even when
    /// [`RuntimeOptions::budget`] sets no ceiling), and what the budget
    /// has done so far.
    pub fn budget_usage(&self) -> BudgetUsage {
        self.inner.budget.usage()
    }

    /// Stops the runtime's artifact cache from holding the compiled code of
    /// `package`'s component (on both engines, and its snapshot after
    /// `init` if one was made), so its memory is freed once
    /// no module loaded from it is left; the next load reads the disk cache
    /// or compiles. Returns how many compiled components were dropped.
    /// Modules already loaded are not affected.
    pub fn forget_compiled(&self, package: &Package) -> usize {
        let sha = package.wasm_sha256();
        let limits =
            EffectiveLimits::merge(&self.inner.options.server, &package.config().capabilities)
                .limits;
        self.inner.cache.forget(sha) + self.forget_code(&crate::module::snapshot_key(sha, &limits))
    }

    /// Forgets the compiled code kept under `code_key` (see
    /// [`forget_compiled`](Self::forget_compiled)).
    pub(crate) fn forget_code(&self, code_key: &[u8; 32]) -> usize {
        self.inner.cache.forget(code_key)
    }

    /// How the guarded engine allocates instances: the pool asked for in
    /// [`RuntimeOptions::allocation`] (with its memory cap filled in), or
    /// [`Allocation::OnDemand`] when it could not be reserved. The fast
    /// engine is built the same way; see its own
    /// `SurliEngine::allocation`.
    pub fn allocation(&self) -> Allocation {
        self.inner.guarded.engine.allocation()
    }

    /// Advances the epoch of the runtime's guarded engine (and its
    /// overflow twin) by one tick. Under [`EpochSource::Manual`] this is
    /// the only way time passes for guest code (tests count ticks instead
    /// of waiting); on an automatic runtime it makes every running guest's
    /// deadline one tick nearer.
    pub fn tick_epoch(&self) {
        self.inner.guarded.engine.tick();
    }

    /// Shuts the runtime down, for good: from now on it loads no module and
    /// starts no call or lease ([`CallError::ShuttingDown`],
    /// [`LoadError::ShuttingDown`]). Calls and leases already under way get
    /// until `deadline` to finish; then every guest still running is told
    /// to stop. A guest on a guarded engine stops at its next epoch tick, a
    /// call paused in a host function (a query, a KV read, an HTTP request)
    /// at once, and either ends in [`CallError::ShuttingDown`] with its
    /// instance discarded. A call queued for an instance ends the same way,
    /// and a lease that outlived the deadline refuses its next call.
    ///
    /// A guest on the fast engine (`strict_timeout = false`) has no
    /// interruption points: one running guest code at the deadline runs on
    /// until it returns, and is reported in
    /// [`ShutdownReport::still_out`], as are leases their callers still
    /// hold. The runtime cannot drop its callers' futures or leases; their
    /// instances go when they do. Every idle instance is dropped before
    /// this returns.
    ///
    /// Needs a tokio runtime with its timer (it waits with
    /// `tokio::time::sleep`).
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let inner = &self.inner;
        crate::shutdown::shut_down(
            &inner.gate,
            || inner.budget.modules(),
            || inner.budget.usage().instances,
            deadline,
        )
        .await
    }

    /// Sets, through the `metrics` facade, what is read rather than
    /// counted as it happens: each module's instances created and idle,
    /// pool hits, leases out and memory (code, idle instances, in-memory
    /// KV data), and the runtime's instances, memory and artifact-cache
    /// hits. Call it before each scrape, or on a schedule. The names are
    /// in [`metric_names`](crate::metric_names).
    pub fn publish_metrics(&self) {
        let inner = &self.inner;
        crate::observe::publish(
            &inner.budget.modules(),
            inner.budget.usage(),
            inner.cache.stats(),
        );
    }

    /// Whether [`Runtime::shutdown`] has begun.
    pub fn is_shut_down(&self) -> bool {
        !self.inner.gate.is_open()
    }

    /// The KV limits a module loaded from a package with `config` gets:
    /// the server's limits merged with what the module asks for. The
    /// in-memory store a load makes by default enforces these; pass them to
    /// a store of your own (a durable one) given in
    /// [`ModuleOptions::kv`].
    pub fn kv_limits(&self, config: &ModuleConfig) -> KvLimits {
        crate::module::kv_limits(
            &EffectiveLimits::merge(&self.inner.options.server, &config.capabilities).limits,
        )
    }

    /// Loads a package: checks its ABI, merges its limits with the server's,
    /// resolves its `allow_net`, compiles its component on a blocking
    /// thread, and checks `exports.toml` against the module itself.
    pub async fn load(&self, package: Package) -> Result<Module, LoadError> {
        self.load_with(package, ModuleOptions::default()).await
    }

    /// [`Runtime::load`] with per-module options (a KV store of the
    /// embedder's, the context `init` runs under).
    pub async fn load_with(
        &self,
        package: Package,
        options: ModuleOptions,
    ) -> Result<Module, LoadError> {
        let strict = self.inner.options.strict_exports;
        Module::load(
            Arc::clone(&self.inner),
            package,
            options,
            strict,
            LoadMode::Async,
        )
        .await
    }

    /// [`Runtime::load_with`] for callers that cannot await: it compiles on
    /// the calling thread and returns the loaded module, as the original
    /// runtime's synchronous `Runtime::new` did.
    ///
    /// It needs no tokio runtime and starts none: the few steps that wait
    /// (looking up `allow_net` host names, the first instance that asks
    /// the module what it exports) are driven on this thread. Called from
    /// an async task it does not panic, but it holds that task's worker
    /// thread for the whole compile (tens of milliseconds to seconds), as
    /// any blocking call would: prefer [`Runtime::load_with`] there, or call
    /// this from `spawn_blocking`.
    pub fn load_blocking(
        &self,
        package: Package,
        options: ModuleOptions,
    ) -> Result<Module, LoadError> {
        let strict = self.inner.options.strict_exports;
        futures_executor::block_on(Module::load(
            Arc::clone(&self.inner),
            package,
            options,
            strict,
            LoadMode::Blocking,
        ))
    }
}

/// All a 32-bit linear memory can address.
const MAX_32BIT_MEMORY: u64 = 4 << 30;

fn engine_set(
    flavour: Flavour,
    epoch: EpochSource,
    allocation: Allocation,
) -> Result<EngineSet, LoadError> {
    let engine = SurliEngine::with_allocation(EngineOptions { flavour, epoch }, allocation)
        .map_err(|error| LoadError::Engine {
            module: "(runtime)".to_owned(),
            error,
        })?;
    let linker_for = |engine| {
        surli_host::build_linker(engine).map_err(|error| LoadError::Host {
            module: "(runtime)".to_owned(),
            error,
        })
    };
    let linker = linker_for(engine.wasmtime())?;
    let overflow_linker = engine.overflow().map(linker_for).transpose()?;
    Ok(EngineSet {
        engine,
        linker,
        overflow_linker,
    })
}

impl Runtime {
    /// What a component exports, asked of the component itself: the job
    /// `surreal module build` does before it writes `exports.toml`. The
    /// component is instantiated once, without `init` and with no context,
    /// under `config`'s limits.
    pub async fn describe_component(
        &self,
        config: &surli_config::ModuleConfig,
        wasm: &[u8],
    ) -> Result<Vec<crate::FunctionSignature>, LoadError> {
        let empty = surli_package::ExportsManifest::default();
        let bytes = surli_package::PackageWriter::new(config, wasm, &empty)
            .to_bytes()
            .map_err(LoadError::Package)?;
        let package = Package::from_bytes(&bytes, &surli_package::ReadOptions::default())?;
        // The manifest is empty on purpose, so it cannot be held against
        // the module even under strict_exports.
        let module = Module::load(
            Arc::clone(&self.inner),
            package,
            ModuleOptions::default(),
            false,
            LoadMode::Async,
        )
        .await?;
        Ok(module.functions().to_vec())
    }
}
