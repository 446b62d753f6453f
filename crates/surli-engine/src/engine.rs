//! The engine handle: a wasmtime engine, its flavour and its epoch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::{Config, Engine, OptLevel};

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
    target: Arc<EpochTarget>,
}

impl std::fmt::Debug for SurliEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurliEngine")
            .field("flavour", &self.inner.flavour)
            .field("epoch", &self.inner.source)
            .field("current_epoch", &self.current_epoch())
            .finish()
    }
}

impl SurliEngine {
    /// Builds an engine. A guarded engine with an automatic epoch joins the
    /// process ticker (starting it if needed) until it is dropped.
    pub fn new(options: EngineOptions) -> Result<Self, EngineError> {
        let engine = Engine::new(&config(options.flavour)).map_err(|e| EngineError::Config {
            message: format!("{e:#}"),
        })?;
        let target = Arc::new(EpochTarget {
            engine,
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
        Component::new(self.wasmtime(), wasm).map_err(|e| EngineError::Compile {
            message: format!("{e:#}"),
        })
    }
}

fn config(flavour: Flavour) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        // Off: the component-model-async machinery routes every
        // `call_async` through a slower path, and guests of ABI 2 never use
        // it.
        .concurrency_support(false)
        .epoch_interruption(flavour == Flavour::Guarded)
        // Host functions run on the fiber stack of the async call, and
        // decoding a deeply nested value recurses once per level: in debug
        // builds 250 levels take about 2 MiB. Twice the default leaves room
        // over the 512 KiB wasm stack.
        .async_stack_size(4 << 20)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true);
    config
}
