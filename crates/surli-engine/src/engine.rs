//! The engine handle: a wasmtime engine, its flavour and its epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolConcurrencyLimitError,
    PoolingAllocationConfig,
};

use crate::deadline::{TICK, clamp_delta, ticks_for};
use crate::error::EngineError;
use crate::ticker::{self, EpochTarget};

/// Which kind of code the engine generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    /// Epoch checks in every loop and function entry: calls can be
    /// interrupted at their deadline. The default for every module.
    Guarded,
    /// No epoch checks: slightly faster code that can never be interrupted.
    /// Only for modules that set `strict_timeout = false` with the server's
    /// consent.
    Fast,
}

/// Who advances a guarded engine's epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EpochSource {
    /// The process ticker, every [`TICK`]. What a running host wants.
    #[default]
    Automatic,
    /// Nobody but the caller of [`SurliEngine::tick`]: for tests that count
    /// ticks instead of waiting on a clock, and for embedders that drive
    /// time themselves.
    Manual,
}

/// How to build a [`SurliEngine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Guarded or fast code.
    pub flavour: Flavour,
    /// Who advances the epoch (ignored by fast engines, which have none).
    pub epoch: EpochSource,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            flavour: Flavour::Guarded,
            epoch: EpochSource::Automatic,
        }
    }
}

/// How an engine allocates the memories, tables, instance metadata and
/// fiber stacks of its instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocation {
    /// Allocated (`mmap`) when a store instantiates, freed when it drops:
    /// nothing reserved up front, but every instantiation pays for the
    /// mappings. wasmtime's default.
    #[default]
    OnDemand,
    /// wasmtime's pooling allocator: slots reserved once, when the engine is
    /// built, and reused by instantiations, with linear memories
    /// initialised copy-on-write from the component's memory image. The
    /// pool's sizes bound how many pooled instances may be alive on the
    /// engine at once; an instantiation past them fails (see
    /// [`is_pool_exhausted`]) and can be made on the engine's
    /// [`overflow`](SurliEngine::overflow) twin instead.
    Pooling(PoolingLimits),
}

/// The sizes of a pooling allocator. Every `total_*` counts what may be
/// alive at once, on one engine, across every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolingLimits {
    /// Component instances (one per store here: a plugin instance).
    pub total_component_instances: u32,
    /// Core instances; a component holds several (its module, its shims).
    pub total_core_instances: u32,
    /// Linear memories. Each one reserves wasmtime's static memory
    /// reservation (4 GiB) plus its guard (32 MiB) of address space up
    /// front, so this is the count that decides whether the pool fits the
    /// address space.
    pub total_memories: u32,
    /// Tables, each reserved at wasmtime's `table_elements` (20,000).
    pub total_tables: u32,
    /// Fiber stacks for async calls, each as large as the engine's async
    /// stack; one is held by every call under way.
    pub total_stacks: u32,
    /// The most bytes one linear memory may grow to; `None`: wasmtime's
    /// default, 4 GiB, all a 32-bit memory can address.
    pub max_memory_size: Option<usize>,
    /// The most elements one table may grow to; `None`: wasmtime's
    /// default, 20,000. Each table slot reserves this many pointers of
    /// address space. Set it to the store's own table limit, so that the
    /// limit, not the size of a slot, decides when a `table.grow` fails.
    pub max_table_elements: Option<usize>,
    /// Bytes at the start of each linear memory and table that stay mapped
    /// when an instance ends and are reset in place, page by page, for the
    /// slot's next instance, where the kernel can say which pages were
    /// written (Linux 6.7 and later: the `PAGEMAP_SCAN` ioctl). The next
    /// instance then takes no page faults there: a fresh instance per call
    /// costs about a third of what it costs with every page unmapped
    /// (PERFORMANCE.md). Written pages stay resident after their instance
    /// ends, at most this many bytes per memory of each slot kept warm.
    /// Without `PAGEMAP_SCAN`, or at 0, memories are unmapped as wasmtime
    /// does by default (resetting a fixed span by `memset` instead costs
    /// more than the faults it saves).
    pub keep_resident: usize,
}

impl PoolingLimits {
    /// These limits with `total_component_instances` set to `total_component_instances`.
    #[must_use]
    pub fn with_total_component_instances(mut self, total_component_instances: u32) -> Self {
        self.total_component_instances = total_component_instances;
        self
    }

    /// These limits with `total_core_instances` set to `total_core_instances`.
    #[must_use]
    pub fn with_total_core_instances(mut self, total_core_instances: u32) -> Self {
        self.total_core_instances = total_core_instances;
        self
    }

    /// These limits with `total_memories` set to `total_memories`.
    #[must_use]
    pub fn with_total_memories(mut self, total_memories: u32) -> Self {
        self.total_memories = total_memories;
        self
    }

    /// These limits with `total_tables` set to `total_tables`.
    #[must_use]
    pub fn with_total_tables(mut self, total_tables: u32) -> Self {
        self.total_tables = total_tables;
        self
    }

    /// These limits with `total_stacks` set to `total_stacks`.
    #[must_use]
    pub fn with_total_stacks(mut self, total_stacks: u32) -> Self {
        self.total_stacks = total_stacks;
        self
    }

    /// These limits with `max_memory_size` set to `max_memory_size`.
    #[must_use]
    pub fn with_max_memory_size(mut self, max_memory_size: Option<usize>) -> Self {
        self.max_memory_size = max_memory_size;
        self
    }

    /// These limits with `keep_resident` set to `keep_resident` bytes.
    #[must_use]
    pub fn with_keep_resident(mut self, keep_resident: usize) -> Self {
        self.keep_resident = keep_resident;
        self
    }

    /// These limits with `max_table_elements` set to `max_table_elements`.
    #[must_use]
    pub fn with_max_table_elements(mut self, max_table_elements: Option<usize>) -> Self {
        self.max_table_elements = max_table_elements;
        self
    }
}

impl PoolingLimits {
    /// Core instances a plugin component may hold, per component instance:
    /// its module, the shim and fix-up modules of its canonical lowerings
    /// and WASI's adapter, with room to spare.
    pub const CORE_INSTANCES_PER_COMPONENT: u32 = 8;
    /// Linear memories per component instance: the module's own and, for
    /// a component built through the WASI preview 1 adapter, the adapter's.
    pub const MEMORIES_PER_COMPONENT: u32 = 2;
    /// Tables per component instance: the module's and the shims'.
    pub const TABLES_PER_COMPONENT: u32 = 4;
    /// The default [`keep_resident`](Self::keep_resident): 4 MiB, more than
    /// a Rust guest built with the SDK writes in its first calls.
    pub const DEFAULT_KEEP_RESIDENT: usize = 4 << 20;

    /// Whether this kernel lets memories be reset in place
    /// ([`keep_resident`](Self::keep_resident)).
    pub fn can_reset_in_place() -> bool {
        wasmtime::PoolingAllocationConfig::is_pagemap_scan_available()
    }

    /// Limits for `instances` plugin instances alive at once, each with
    /// the per-component allowances above, one fiber stack each (an
    /// instance runs one call at a time, so stacks never run out before
    /// instances do), memories capped at `max_memory_size` and tables at
    /// wasmtime's default size.
    pub fn for_instances(instances: u32, max_memory_size: Option<usize>) -> Self {
        Self {
            total_component_instances: instances,
            total_core_instances: instances.saturating_mul(Self::CORE_INSTANCES_PER_COMPONENT),
            total_memories: instances.saturating_mul(Self::MEMORIES_PER_COMPONENT),
            total_tables: instances.saturating_mul(Self::TABLES_PER_COMPONENT),
            total_stacks: instances,
            max_memory_size,
            max_table_elements: None,
            keep_resident: Self::DEFAULT_KEEP_RESIDENT,
        }
    }

    fn config(&self) -> PoolingAllocationConfig {
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_component_instances(self.total_component_instances)
            .total_core_instances(self.total_core_instances)
            .total_memories(self.total_memories)
            .total_tables(self.total_tables)
            .total_stacks(self.total_stacks);
        if let Some(bytes) = self.max_memory_size {
            pooling.max_memory_size(bytes);
        }
        if let Some(elements) = self.max_table_elements {
            pooling.table_elements(elements);
        }
        if self.keep_resident > 0 && Self::can_reset_in_place() {
            pooling
                .pagemap_scan(wasmtime::Enabled::Yes)
                .linear_memory_keep_resident(self.keep_resident)
                .table_keep_resident(self.keep_resident);
        }
        pooling
    }
}

/// Whether `error` (from an instantiation or a call) is a pooling
/// allocator refusing because one of its pools has no free slot: the
/// engine has as many instances (or memories, tables, stacks) alive as
/// its [`PoolingLimits`] allow. wasmtime has no per-instantiation fallback
/// to on-demand allocation; [`SurliEngine::overflow`] is surli's.
pub fn is_pool_exhausted(error: &wasmtime::Error) -> bool {
    error.downcast_ref::<PoolConcurrencyLimitError>().is_some()
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// A wasmtime engine configured for Surrealism plugins. Cheap to clone;
/// compiled components are shareable between threads and instances.
#[derive(Clone)]
pub struct SurliEngine {
    inner: Arc<Inner>,
}

struct Inner {
    /// Unique in the process, never reused: what the artifact cache keys
    /// compiled components by, since a component only runs on its engine.
    id: u64,
    flavour: Flavour,
    source: EpochSource,
    /// What the engine was built with, after any fallback.
    allocation: Allocation,
    target: Arc<EpochTarget>,
}

impl std::fmt::Debug for SurliEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurliEngine")
            .field("flavour", &self.inner.flavour)
            .field("epoch", &self.inner.source)
            .field("allocation", &self.inner.allocation)
            .field("current_epoch", &self.current_epoch())
            .finish()
    }
}

impl SurliEngine {
    /// Builds an engine that allocates on demand. A guarded engine with an
    /// automatic epoch joins the process ticker (starting it if needed)
    /// until it is dropped.
    pub fn new(options: EngineOptions) -> Result<Self, EngineError> {
        Self::with_allocation(options, Allocation::OnDemand)
    }

    /// [`SurliEngine::new`] with a choice of instance allocation.
    ///
    /// A pooling allocator reserves all of its address space when the
    /// engine is built. When that fails (the pool does not fit the address
    /// space, or `ulimit -v` forbids it) the engine is built again with
    /// on-demand allocation and a warning is logged, as `wasmtime serve`
    /// does: [`SurliEngine::allocation`] tells which one is in use.
    pub fn with_allocation(
        options: EngineOptions,
        allocation: Allocation,
    ) -> Result<Self, EngineError> {
        let (engine, allocation) = build(options.flavour, allocation)?;
        // A pool has an on-demand twin for the instances it has no slot
        // for; an engine without a pool needs none.
        let overflow = match allocation {
            Allocation::Pooling(_) => Some(on_demand(options.flavour)?),
            Allocation::OnDemand => None,
        };
        let target = Arc::new(EpochTarget {
            engine,
            overflow,
            epoch: AtomicU64::new(0),
        });
        if options.flavour == Flavour::Guarded && options.epoch == EpochSource::Automatic {
            ticker::register(&target);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                flavour: options.flavour,
                source: options.epoch,
                allocation,
                target,
            }),
        })
    }

    /// This engine's identity in the process (never reused).
    pub(crate) fn identity(&self) -> u64 {
        self.inner.id
    }

    /// The wasmtime engine, for linkers, stores and components.
    pub fn wasmtime(&self) -> &Engine {
        &self.inner.target.engine
    }

    /// The engine's flavour.
    pub fn flavour(&self) -> Flavour {
        self.inner.flavour
    }

    /// How the engine allocates instances: what was asked for, or
    /// [`Allocation::OnDemand`] when a pool was asked for but could not be
    /// reserved.
    pub fn allocation(&self) -> Allocation {
        self.inner.allocation
    }

    /// The on-demand twin of a pooling engine: the same configuration
    /// (so the same compiled code runs on it) without a pool, its epoch
    /// advanced in step with this one's. An instantiation the pool has no
    /// slot for (see [`is_pool_exhausted`]) can be made here instead, at
    /// on-demand cost, with the component from
    /// [`SurliEngine::overflow_component`] and a store and linker of this
    /// engine. `None` when the engine allocates on demand already.
    pub fn overflow(&self) -> Option<&Engine> {
        self.inner.target.overflow.as_ref()
    }

    /// `component`, compiled by this engine, made ready for its
    /// [`overflow`](Self::overflow) engine without compiling it again
    /// (wasmtime's serialized form of the same code; a few milliseconds).
    /// `None` when there is no overflow engine.
    pub fn overflow_component(
        &self,
        component: &Component,
    ) -> Result<Option<Component>, EngineError> {
        let Some(overflow) = self.overflow() else {
            return Ok(None);
        };
        let artifact = component.serialize().map_err(|e| EngineError::Compile {
            message: format!("cannot serialize the compiled component: {e:#}"),
        })?;
        deserialize_own(overflow, &artifact)
            .map(Some)
            .map_err(|e| EngineError::Compile {
                message: format!(
                    "cannot load the compiled component on the overflow engine: {e:#}"
                ),
            })
    }

    /// Who advances this engine's epoch.
    pub fn epoch_source(&self) -> EpochSource {
        self.inner.source
    }

    /// Whether calls on this engine can be interrupted at a deadline.
    pub fn interrupts(&self) -> bool {
        self.inner.flavour == Flavour::Guarded
    }

    /// The number of ticks since the engine was built.
    pub fn current_epoch(&self) -> u64 {
        self.inner.target.epoch.load(Ordering::Acquire)
    }

    /// Advances the epoch by one tick. With [`EpochSource::Manual`] this is
    /// the only way time passes for guest code; on an automatic engine it
    /// makes every deadline one tick nearer.
    pub fn tick(&self) {
        self.inner.target.advance();
    }

    /// The delta to pass to `Store::set_epoch_deadline` for a call that may
    /// run for `limit` (`None`: no limit), saturated so the deadline cannot
    /// overflow at the current epoch.
    pub fn deadline_ticks(&self, limit: Option<Duration>) -> u64 {
        clamp_delta(
            self.current_epoch(),
            limit.map(|limit| ticks_for(limit, TICK)),
        )
    }

    /// Compiles a component. This is CPU-heavy (up to a second for a large
    /// module): async callers should run it on a blocking thread.
    pub fn compile(&self, wasm: &[u8]) -> Result<Component, EngineError> {
        let compiled = Component::new(self.wasmtime(), wasm).map_err(|e| EngineError::Compile {
            message: format!("{e:#}"),
        });
        release_freed_heap();
        compiled
    }
}

/// Builds the wasmtime engine, falling back from a pool that cannot be
/// reserved to on-demand allocation.
fn build(flavour: Flavour, allocation: Allocation) -> Result<(Engine, Allocation), EngineError> {
    let Allocation::Pooling(limits) = allocation else {
        return Ok((on_demand(flavour)?, Allocation::OnDemand));
    };
    let pooling = InstanceAllocationStrategy::Pooling(limits.config());
    match Engine::new(&config(flavour, pooling)) {
        Ok(engine) => Ok((engine, allocation)),
        Err(error) => {
            tracing::warn!(
                ?flavour,
                ?limits,
                "cannot reserve the pooling allocator ({error:#}); allocating instances on \
                 demand instead"
            );
            Ok((on_demand(flavour)?, Allocation::OnDemand))
        }
    }
}

fn on_demand(flavour: Flavour) -> Result<Engine, EngineError> {
    Engine::new(&config(flavour, InstanceAllocationStrategy::OnDemand)).map_err(|e| {
        EngineError::Config {
            message: format!("{e:#}"),
        }
    })
}

#[allow(unsafe_code)]
fn deserialize_own(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: wasmtime requires that the bytes be an artifact it produced
    // itself. These were produced a moment ago, in this process, by
    // `Component::serialize` of a component this engine's twin compiled;
    // they never left memory. The two engines share every setting but the
    // instance allocator, which is not part of compiled code, and wasmtime
    // checks the artifact's compatibility with the engine again.
    unsafe { Component::deserialize(engine, artifact) }
}

fn config(flavour: Flavour, allocation: InstanceAllocationStrategy) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        // Off: the component-model-async machinery routes every
        // `call_async` through a slower path, and guests of ABI 2 never use
        // it.
        .concurrency_support(false)
        .epoch_interruption(flavour == Flavour::Guarded)
        // Off: wasmtime is built without its `gc` feature, yet 48.0.8's
        // validator still accepts the GC proposal's non-final function
        // types, and a subtype check on one (`call_indirect` through it)
        // reaches a builtin that aborts the process (GHSA-rc4p-x33f-vpr2,
        // fixed in 48.0.9, which this registry does not serve with a
        // matching wasmtime-wasi). With the proposal off such a module is
        // refused when it compiles. No SDK guest uses GC. See
        // docs/SECURITY.md.
        .wasm_gc(false)
        // Host functions run on the fiber stack of the async call, and
        // decoding a deeply nested value recurses once per level: in debug
        // builds 250 levels take about 2 MiB. Twice the default leaves room
        // over the 512 KiB wasm stack.
        .async_stack_size(4 << 20)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        // `memory_init_cow` stays at wasmtime's default (on): with the
        // pooling allocator a linear memory starts as a copy-on-write
        // mapping of the component's memory image, which is what makes
        // instantiation fast. Not set here, so the compiled artifacts'
        // settings (and the cache's keys) do not change. The pool's other
        // knobs (warm slots, keep-resident bytes, decommit batches) keep
        // wasmtime's defaults too.
        .allocation_strategy(allocation);
    config
}

/// Hands the heap a compile freed back to the operating system.
///
/// Cranelift works in tens of megabytes of short-lived allocations spread
/// over its worker threads' malloc arenas; glibc keeps what they free for
/// reuse, so a process that compiled one module would hold about 40 MiB
/// more than one that loaded it from the cache, for as long as it runs.
/// Compiles are rare (once per module per machine, thanks to the cache),
/// so trimming after each costs nothing that matters.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_heap() {
    // SAFETY: `malloc_trim` only returns free memory at the top of each
    // arena and whole free pages inside them to the kernel; it takes the
    // arenas' own locks and touches no memory still allocated.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_heap() {}
