//! What surli's benchmarks share: the fixture packages they run, and the
//! floor they are measured against.
//!
//! The floor is a raw wasmtime call of a component's `invoke` export, with
//! pre-encoded arguments, on an instance made once: the same engine
//! configuration and the same host imports as surli, but no pool, no lease,
//! no deadline arming, no context switching and no decoding. No runtime can
//! call a guest faster on the same machine, so surli's figures are read as
//! ratios to it.
//!
//! [`FreshFloor`] is the floor of a fresh instance per call: raw wasmtime on
//! the pooling settings surli's runtime uses, instantiating a component
//! prepared once, running its `init`, the call, and dropping the store,
//! with each step timed.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use surli::{Package, ReadOptions};
use surli_engine::wasmtime::Store;
use surli_engine::wasmtime::component::{InstancePre, TypedFunc};
use surli_engine::{Allocation, EngineOptions, EpochSource, Flavour, SurliEngine};
use surli_host::{
    CallInfo, HostState, MemoryLimiter, MemoryLimits, ModuleEnv, NullContext, build_linker,
};

/// A package built by `cargo xtask fixtures`; a missing one is an error
/// that says how to make it.
pub fn fixture(name: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures")
        .join(format!("{name}.surli"));
    if !path.is_file() {
        bail!("{} is missing: run `cargo xtask fixtures`", path.display());
    }
    Ok(path)
}

/// Reads a fixture package.
pub fn package(name: &str) -> anyhow::Result<Package> {
    let path = fixture(name)?;
    Package::read_file(&path, &ReadOptions::default())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// `invoke`, with borrowed parameters so a call copies nothing on the host
/// side, typed once with `'static` borrows (see [`Floor::call`]).
type Invoke = InvokeFor<'static>;
type InvokeFor<'a> = TypedFunc<(Option<&'a str>, &'a [u8]), (Result<Vec<u8>, String>,)>;

/// One instance of a package's component and its `invoke`, typed once.
pub struct Floor {
    store: Store<HostState>,
    invoke: Invoke,
    // Keeps the epoch ticker's engine alive as long as the store.
    _engine: SurliEngine,
}

impl Floor {
    /// Compiles the package's component on a guarded engine (as surli
    /// runs every module by default) and instantiates it once, with no
    /// memory limit and a deadline far away.
    pub async fn new(package: &Package) -> anyhow::Result<Self> {
        let engine = SurliEngine::new(EngineOptions {
            flavour: Flavour::Guarded,
            epoch: EpochSource::Automatic,
        })?;
        let component = engine.compile(package.wasm())?;
        let linker = build_linker(engine.wasmtime())?;
        let config = package.config();
        let kv = Arc::new(surli::MemoryKvStore::new(surli::kv::KvLimits::default()));
        let env = Arc::new(ModuleEnv::new(
            config.meta.clone(),
            config.capabilities.clone(),
            kv,
        ));
        let meta = Arc::clone(env.module());
        let mut state =
            HostState::new(env, MemoryLimiter::new(MemoryLimits::with_max_memory(None)))?;
        state.set_call(Arc::new(NullContext), CallInfo::invoke(meta, None));
        let mut store = Store::new(engine.wasmtime(), state);
        // About 350 years of 10 ms ticks: never, for a benchmark.
        store.set_epoch_deadline(1 << 40);
        let instance = linker
            .instantiate_async(&mut store, &component)
            .await
            .map_err(wasm_error)?;
        let invoke: Invoke = instance
            .get_typed_func(&mut store, "invoke")
            .map_err(wasm_error)?;
        Ok(Self {
            store,
            invoke,
            _engine: engine,
        })
    }

    /// Calls `invoke` with arguments already encoded; returns the encoded
    /// answer.
    pub async fn call(&mut self, name: Option<&str>, args: &[u8]) -> anyhow::Result<Vec<u8>> {
        // `TypedFunc` is covariant in its parameters: the `'static` borrows
        // it was typed with shorten to these.
        let invoke: InvokeFor<'_> = self.invoke;
        let (answer,) = invoke
            .call_async(&mut self.store, (name, args))
            .await
            .map_err(wasm_error)?;
        answer.map_err(|message| anyhow::anyhow!("the guest failed: {message}"))
    }
}

/// `init`: no parameters, a `result<_, string>`.
type Init = TypedFunc<(), (Result<(), String>,)>;

/// The floor of [`Isolation::FreshPerCall`](surli::Isolation): every call
/// instantiates the component (prepared once, as surli prepares it), runs
/// its `init`, calls `invoke` and drops the store, on an engine with the
/// allocation surli's runtime uses.
pub struct FreshFloor {
    engine: SurliEngine,
    pre: InstancePre<HostState>,
    env: Arc<ModuleEnv>,
}

/// How long each step of one [`FreshFloor::call`] took.
#[derive(Debug, Clone, Copy, Default)]
pub struct FreshSteps {
    /// A store and an instance from the pool (copy-on-write memory
    /// mapped, tables and globals set), the exports looked up.
    pub instantiate: Duration,
    /// The guest's `init`, with its first touches of memory.
    pub init: Duration,
    /// `invoke`, its arguments encoded and its answer decoded.
    pub call: Duration,
    /// Dropping the store: the instance goes back to the pool, which
    /// resets its memory (wasmtime decommits or zeroes what was touched).
    pub drop: Duration,
}

impl FreshFloor {
    /// Compiles the package's component on a guarded engine with
    /// `allocation` and prepares it for instantiation.
    pub fn new(package: &Package, allocation: Allocation) -> anyhow::Result<Self> {
        let engine = SurliEngine::with_allocation(
            EngineOptions {
                flavour: Flavour::Guarded,
                epoch: EpochSource::Automatic,
            },
            allocation,
        )?;
        let component = engine.compile(package.wasm())?;
        let linker = build_linker(engine.wasmtime())?;
        let pre = linker.instantiate_pre(&component).map_err(wasm_error)?;
        let config = package.config();
        let kv = Arc::new(surli::MemoryKvStore::new(surli::kv::KvLimits::default()));
        let env = Arc::new(ModuleEnv::new(
            config.meta.clone(),
            config.capabilities.clone(),
            kv,
        ));
        Ok(Self { engine, pre, env })
    }

    /// One call on a new instance: instantiate, `init`, `invoke` with
    /// `args` encoded now and the answer decoded, drop. Returns the timed
    /// steps.
    pub async fn call(
        &self,
        name: Option<&str>,
        args: &[surli::Value],
    ) -> anyhow::Result<FreshSteps> {
        let started = Instant::now();
        let meta = Arc::clone(self.env.module());
        let mut state = HostState::new(
            Arc::clone(&self.env),
            MemoryLimiter::new(MemoryLimits::with_max_memory(None)),
        )?;
        state.set_call(Arc::new(NullContext), CallInfo::invoke(meta, None));
        let mut store = Store::new(self.engine.wasmtime(), state);
        store.set_epoch_deadline(1 << 40);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(wasm_error)?;
        let init: Option<Init> = instance.get_typed_func(&mut store, "init").ok();
        let invoke: Invoke = instance
            .get_typed_func(&mut store, "invoke")
            .map_err(wasm_error)?;
        let instantiated = Instant::now();
        if let Some(init) = init {
            let (outcome,) = init.call_async(&mut store, ()).await.map_err(wasm_error)?;
            outcome.map_err(|message| anyhow::anyhow!("init failed: {message}"))?;
        }
        let initialised = Instant::now();
        let bytes = encode(args)?;
        let invoke: InvokeFor<'_> = invoke;
        let (answer,) = invoke
            .call_async(&mut store, (name, &bytes))
            .await
            .map_err(wasm_error)?;
        let answer = answer.map_err(|message| anyhow::anyhow!("the guest failed: {message}"))?;
        surli::codec::decode_value(&answer)?;
        let called = Instant::now();
        drop(store);
        let dropped = Instant::now();
        Ok(FreshSteps {
            instantiate: instantiated - started,
            init: initialised - instantiated,
            call: called - initialised,
            drop: dropped - called,
        })
    }
}

fn wasm_error(error: surli_engine::wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}

/// Encodes call arguments once, for [`Floor::call`] and `call_encoded`,
/// which take them pre-encoded.
pub fn encode(args: &[surli::Value]) -> anyhow::Result<Vec<u8>> {
    Ok(surli_host::codec::encode_args(args)?)
}
