//! What surli's benchmarks share: the fixture packages they run, and the
//! floor they are measured against.
//!
//! The floor is a raw wasmtime call of a component's `invoke` export, with
//! pre-encoded arguments, on an instance made once: the same engine
//! configuration and the same host imports as surli, but no pool, no lease,
//! no deadline arming, no context switching and no decoding. No runtime can
//! call a guest faster on the same machine, so surli's figures are read as
//! ratios to it.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use surli::{Package, ReadOptions};
use surli_engine::wasmtime::Store;
use surli_engine::wasmtime::component::TypedFunc;
use surli_engine::{EngineOptions, EpochSource, Flavour, SurliEngine};
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

fn wasm_error(error: surli_engine::wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{error:#}")
}

/// Encodes call arguments once, for [`Floor::call`] and `call_encoded`,
/// which take them pre-encoded.
pub fn encode(args: &[surli::Value]) -> anyhow::Result<Vec<u8>> {
    Ok(surli_host::codec::encode_args(args)?)
}
