//! The runtime: the engines and linkers shared by every module it loads.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_engine::wasmtime::component::Linker;
use surli_engine::{ArtifactCache, CacheStats, EngineOptions, EpochSource, Flavour, SurliEngine};
use surli_host::{HostState, StdioLimits};
use surli_net::{Resolver, SystemResolver};
use surli_package::Package;

use crate::error::LoadError;
use crate::module::{Module, ModuleOptions};

/// How a [`Runtime`] runs its modules.
#[derive(Clone)]
pub struct RuntimeOptions {
    /// The ceilings every module runs under; a module may only narrow them.
    pub server: ServerLimits,
    /// Who advances the epoch of the guarded engine. `Automatic` in a real
    /// host; tests choose `Manual` to count ticks instead of waiting.
    pub epoch: EpochSource,
    /// How host names in `allow_net` are resolved at load.
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
            .finish_non_exhaustive()
    }
}

/// Loads modules and owns what they share: a guarded and a fast engine and
/// a linker for each. Cheap to clone; build one per process.
#[derive(Clone, Debug)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) options: RuntimeOptions,
    pub(crate) guarded: EngineSet,
    pub(crate) fast: EngineSet,
    pub(crate) cache: ArtifactCache,
}

impl std::fmt::Debug for RuntimeInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// An engine and the linker built for it.
pub(crate) struct EngineSet {
    pub(crate) engine: SurliEngine,
    pub(crate) linker: Linker<HostState>,
}

impl Runtime {
    /// Builds the engines and linkers.
    pub fn new(options: RuntimeOptions) -> Result<Self, LoadError> {
        let guarded = engine_set(Flavour::Guarded, options.epoch)?;
        let fast = engine_set(Flavour::Fast, options.epoch)?;
        let cache = match &options.cache_dir {
            Some(dir) => ArtifactCache::with_dir(dir),
            None => ArtifactCache::in_memory(),
        };
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                options,
                guarded,
                fast,
                cache,
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

    /// The guarded engine, e.g. to advance a manual epoch in tests.
    pub fn guarded_engine(&self) -> &SurliEngine {
        &self.inner.guarded.engine
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
        Module::load(Arc::clone(&self.inner), package, options, strict).await
    }
}

fn engine_set(flavour: Flavour, epoch: EpochSource) -> Result<EngineSet, LoadError> {
    let engine =
        SurliEngine::new(EngineOptions { flavour, epoch }).map_err(|error| LoadError::Engine {
            module: "(runtime)".to_owned(),
            error,
        })?;
    let linker = surli_host::build_linker(engine.wasmtime()).map_err(|error| LoadError::Host {
        module: "(runtime)".to_owned(),
        error,
    })?;
    Ok(EngineSet { engine, linker })
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
        )
        .await?;
        Ok(module.functions().to_vec())
    }
}
