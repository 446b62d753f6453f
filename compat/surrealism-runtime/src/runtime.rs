//! A loaded module: 0.6.5's `Runtime`, a surli [`Module`] underneath.
//!
//! Every `Runtime` of a process shares one surli runtime (its guarded and
//! fast engines, its instance pools and its compiled-artifact cache in
//! memory), built on first use, as 0.6.5 shares its engines. A module is
//! compiled once per process however many times it is loaded; its
//! instances are pooled by surli (at most the effective pool size checked
//! out, idle ones holding no permit), and broken ones are discarded by surli
//! whatever the caller does with the controller.
//!
//! # Usage
//!
//! ```no_run
//! use std::sync::Arc;
//! use surrealism_runtime::package::SurrealismPackage;
//! use surrealism_runtime::runtime::Runtime;
//! # use surrealism_runtime::host::InvocationContext;
//! # async fn demo(context: Box<dyn InvocationContext>) -> Result<(), surrealism_runtime::SurrealismError> {
//! let package = SurrealismPackage::from_file("demo.surli".into())?;
//! let runtime = Arc::new(Runtime::new(package, 8, None, None, None, None)?);
//! let mut controller = runtime.acquire_controller(context).await?;
//! let result = controller.invoke(Some("add".to_owned()), (1i64, 2i64)).await;
//! match &result {
//!     // A trap: the instance is gone; surli discarded it already.
//!     Err(error) if error.is_trap() => drop(controller),
//!     _ => runtime.release_controller(controller),
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use surli::{Module, ModuleOptions, RuntimeOptions, ServerLimits};
use surrealism_types::err::{SurrealismError, SurrealismResult};

use crate::bridge::Bridge;
use crate::capabilities::SurrealismCapabilities;
use crate::config::{AbiVersion, SurrealismConfig};
use crate::controller::Controller;
use crate::errors::{from_call, from_load, other};
use crate::exports::{ExportsManifest, FunctionExport};
use crate::host::InvocationContext;
use crate::kv::BTreeMapStore;
use crate::net_allow::{ResolvedNetAllow, resolve_allow_net};
use crate::package::SurrealismPackage;

/// A compiled module and its pool of instances. Share it with `Arc`.
pub struct Runtime {
    module: Module,
    config: Arc<SurrealismConfig>,
    exports: ExportsManifest,
    kv_store: Arc<BTreeMapStore>,
    wasm_size: usize,
    resolved_allow_net: Arc<Vec<ResolvedNetAllow>>,
    limits: Limits,
}

/// The limits a module runs under: the server's ceiling (surli's default
/// where the embedder gave none) merged with the module's own request.
#[derive(Debug, Clone, Copy)]
struct Limits {
    pool_size: usize,
    max_memory_bytes: usize,
    max_execution_time: Duration,
    max_kv_entries: usize,
    max_kv_value_bytes: usize,
    /// surli's ceiling on the store's bytes: 0.6.5 has no such limit to
    /// pass, and its `surrealism.toml` model drops the module's own.
    max_kv_bytes: Option<u64>,
}

impl Limits {
    fn merge(
        module: &SurrealismCapabilities,
        server_pool_size: usize,
        server_max_memory: Option<usize>,
        server_max_execution_time: Option<Duration>,
        server_max_kv_entries: Option<usize>,
        server_max_kv_value_bytes: Option<usize>,
    ) -> Self {
        let defaults = ServerLimits::default();
        let fit =
            |v: Option<u64>| v.map_or(usize::MAX, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let ceiling = |server: Option<usize>, default: Option<u64>| server.unwrap_or(fit(default));
        let smaller =
            |ceiling: usize, module: Option<usize>| module.map_or(ceiling, |m| m.min(ceiling));
        Self {
            // 0.6.5's own rule; zero would allow nothing, so one.
            pool_size: module
                .max_pool_size
                .map_or(server_pool_size, |m| m.min(server_pool_size))
                .max(1),
            max_memory_bytes: smaller(
                ceiling(server_max_memory, defaults.max_memory_bytes),
                module.max_memory_bytes,
            ),
            max_execution_time: {
                let ceiling = server_max_execution_time
                    .or(defaults.max_execution_time)
                    .unwrap_or(Duration::MAX);
                module
                    .max_execution_time
                    .map_or(ceiling, |m| m.min(ceiling))
            },
            max_kv_entries: smaller(
                ceiling(server_max_kv_entries, defaults.max_kv_entries),
                module.max_kv_entries,
            ),
            max_kv_value_bytes: smaller(
                ceiling(server_max_kv_value_bytes, defaults.max_kv_value_bytes),
                module.max_kv_value_bytes,
            ),
            max_kv_bytes: defaults.max_kv_bytes,
        }
    }

    /// The module's capabilities with these limits written in, for surli.
    fn apply(&self, caps: &mut SurrealismCapabilities) {
        caps.max_pool_size = Some(self.pool_size);
        caps.max_memory_bytes = Some(self.max_memory_bytes);
        caps.max_execution_time = Some(self.max_execution_time);
        caps.max_kv_entries = Some(self.max_kv_entries);
        caps.max_kv_value_bytes = Some(self.max_kv_value_bytes);
    }
}

/// The surli runtime every `Runtime` of the process shares.
fn shared() -> SurrealismResult<&'static surli::Runtime> {
    static SHARED: OnceLock<surli::Runtime> = OnceLock::new();
    if let Some(runtime) = SHARED.get() {
        return Ok(runtime);
    }
    // Each module carries its own merged limits (see `Limits`), so the
    // runtime itself sets no ceiling but one: it does not consent to
    // `strict_timeout = false`, which 0.6.5 granted to any module.
    let server = ServerLimits::unlimited()
        .with_max_pool_size(NonZeroUsize::MAX)
        .with_allow_relaxed_timeout(false);
    let runtime =
        surli::Runtime::new(RuntimeOptions::default().with_server(server)).map_err(from_load)?;
    // Two threads may both build one; the second is dropped unused.
    Ok(SHARED.get_or_init(|| runtime))
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("module", &self.module.id())
            .field("wasm_size", &self.wasm_size)
            .field("idle_instances", &self.module.idle_instances())
            .field("limits", &self.limits)
            .field("exported_functions", &self.exports.functions.len())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Compiles the package's module and prepares its pool. Expensive (it
    /// compiles, unless this process compiled the same component before):
    /// do it once and share the result. It blocks the calling thread while
    /// it compiles, needs no async runtime, and does not panic inside a
    /// tokio one.
    ///
    /// The `server_*` values are the embedder's ceilings: the module's own
    /// limits can only narrow them. Where one is `None`, surli's default
    /// ceiling holds (256 MiB of memory, 10 s per call, 100,000 KV entries
    /// of up to 1 MiB each) instead of no limit at all, and a module asking
    /// for more than that gets the default: pass a larger ceiling to allow
    /// it. The module is untrusted; only the embedder raises limits. The
    /// module's store also holds at most surli's `max_kv_bytes` (64 MiB of
    /// keys and values together), a ceiling 0.6.5's API cannot name.
    pub fn new(
        package: SurrealismPackage,
        server_pool_size: usize,
        server_max_memory: Option<usize>,
        server_max_execution_time: Option<Duration>,
        server_max_kv_entries: Option<usize>,
        server_max_kv_value_bytes: Option<usize>,
    ) -> SurrealismResult<Self> {
        if package.config.abi != AbiVersion::CURRENT {
            return Err(SurrealismError::UnsupportedAbi {
                expected: AbiVersion::CURRENT.0,
                got: package.config.abi.0,
            });
        }
        let limits = Limits::merge(
            &package.config.capabilities,
            server_pool_size,
            server_max_memory,
            server_max_execution_time,
            server_max_kv_entries,
            server_max_kv_value_bytes,
        );
        let config = Arc::new(package.config.clone());
        let exports = package.exports.clone();
        let wasm_size = package.wasm.len();
        let kv_store = Arc::new(BTreeMapStore::bounded(
            Some(limits.max_kv_entries),
            Some(limits.max_kv_value_bytes),
            limits.max_kv_bytes,
        ));

        let mut package = package;
        limits.apply(&mut package.config.capabilities);
        let surli_package = package.into_surli()?;
        let options = ModuleOptions::default().with_kv(kv_store.shared());
        let module = shared()?
            .load_blocking(surli_package, options)
            .map_err(from_load)?;
        let resolved_allow_net = resolve_allow_net(&config.capabilities.allow_net)
            .map_err(|e| other(format!("Failed to resolve allow_net entries: {e}")))?;
        tracing::debug!(module = %module.id(), ?limits, "surrealism runtime ready");
        Ok(Self {
            module,
            config,
            exports,
            kv_store,
            wasm_size,
            resolved_allow_net,
            limits,
        })
    }

    /// The size of the module's component, in bytes.
    pub fn wasm_size(&self) -> usize {
        self.wasm_size
    }

    /// The module's KV store, shared by every call whose context hands it
    /// back (and by `init`), for as long as the runtime lives.
    pub fn kv_store(&self) -> &Arc<BTreeMapStore> {
        &self.kv_store
    }

    /// The module's configuration, as the package gave it.
    pub fn config(&self) -> &SurrealismConfig {
        &self.config
    }

    /// `allow_net` as resolved when the module was loaded.
    pub fn resolved_allow_net(&self) -> Arc<Vec<ResolvedNetAllow>> {
        Arc::clone(&self.resolved_allow_net)
    }

    /// A controller with `context` installed: an idle instance of the pool
    /// if there is one, else a new one (whose `init` runs first, under a
    /// context that refuses `sql` and `run`). Waits while the pool's every
    /// instance is checked out; refused at once when that wait could never
    /// end because the caller's own call chain holds them all (a module's
    /// `run` calling the module again).
    pub async fn acquire_controller(
        &self,
        context: Box<dyn InvocationContext>,
    ) -> SurrealismResult<Controller> {
        self.controller(context, Initialised::Yes).await
    }

    /// Hands a controller back. Its context is cleared; a healthy instance
    /// returns to the pool and a broken one is discarded (surli knows which,
    /// so dropping a controller instead is just as safe).
    pub fn release_controller(&self, mut controller: Controller) {
        controller.clear_context();
        drop(controller);
    }

    /// The signature of `sub` (`None`: the default export) from the
    /// package's `exports.toml`.
    pub fn get_signature(&self, sub: Option<&str>) -> SurrealismResult<&FunctionExport> {
        self.exports.get_signature(sub).ok_or_else(|| {
            let name = sub.unwrap_or("<default>");
            other(format!("function '{name}' not found in exports manifest"))
        })
    }

    /// The package's `exports.toml`.
    pub fn exports(&self) -> &ExportsManifest {
        &self.exports
    }

    /// A controller on a new instance in which `init` has not run: call
    /// [`Controller::init`] first to run it (under `context`), or describe
    /// the module without it, as a build tool does. Counts against the pool
    /// like any controller; its instance is pooled afterwards only if
    /// `init` ran.
    pub async fn new_controller(
        &self,
        context: Box<dyn InvocationContext>,
    ) -> SurrealismResult<Controller> {
        self.controller(context, Initialised::No).await
    }

    /// A controller with `context` installed on a lease of the module.
    async fn controller(
        &self,
        context: Box<dyn InvocationContext>,
        initialised: Initialised,
    ) -> SurrealismResult<Controller> {
        let bridge = Bridge::new(
            Arc::clone(&self.config),
            Arc::clone(&self.kv_store),
            context,
        );
        let ctx = Arc::clone(&bridge) as Arc<dyn surli::InvocationContext>;
        let lease = match initialised {
            Initialised::Yes => self.module.lease(ctx).await,
            Initialised::No => self.module.lease_uninitialised(ctx).await,
        }
        .map_err(|e| from_call(e, None, Some(self.limits.max_execution_time)))?;
        Ok(Controller::new(
            lease,
            bridge,
            self.module.clone(),
            self.limits.max_execution_time,
        ))
    }
}

/// Whether a new controller's instance has run `init`.
enum Initialised {
    Yes,
    No,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn no_server_ceiling_means_surlis_default_and_the_smaller_side_wins() {
        let defaults = ServerLimits::default();
        let module = SurrealismCapabilities::default();
        let limits = Limits::merge(&module, 8, None, None, None, None);
        assert_eq!(limits.pool_size, 8);
        assert_eq!(
            Some(limits.max_memory_bytes as u64),
            defaults.max_memory_bytes
        );
        assert_eq!(Some(limits.max_execution_time), defaults.max_execution_time);
        assert_eq!(Some(limits.max_kv_entries as u64), defaults.max_kv_entries);
        assert_eq!(limits.max_kv_bytes, defaults.max_kv_bytes);
        assert!(limits.max_kv_bytes.is_some());

        let module = SurrealismCapabilities {
            max_pool_size: Some(0),
            max_memory_bytes: Some(1 << 20),
            max_execution_time: Some(Duration::from_secs(60)),
            max_kv_entries: Some(50),
            ..SurrealismCapabilities::default()
        };
        let limits = Limits::merge(
            &module,
            4,
            Some(1 << 30),
            Some(Duration::from_millis(200)),
            Some(1_000),
            Some(64),
        );
        assert_eq!(limits.pool_size, 1, "a pool of zero allows one");
        assert_eq!(limits.max_memory_bytes, 1 << 20, "the module's is smaller");
        assert_eq!(limits.max_execution_time, Duration::from_millis(200));
        assert_eq!(limits.max_kv_entries, 50);
        assert_eq!(limits.max_kv_value_bytes, 64);
    }
}
