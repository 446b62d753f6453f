//! surli: a host runtime for Surrealism plugins, the WebAssembly user-defined
//! functions of the SurrealDB ecosystem.
//!
//! This facade holds the few types an embedder needs. A [`Runtime`] loads a
//! [`Package`] into a [`Module`]; calls run on pooled instances with your
//! [`InvocationContext`] answering the guest's `sql` and `run`:
//!
//! ```no_run
//! use std::sync::Arc;
//! use surli::{NullContext, ReadOptions, Runtime, RuntimeOptions, SurrealValue};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! // As `Package::read_file`, but a package read before (by this runtime,
//! // or by another process sharing its cache directory) is not
//! // decompressed again.
//! let package = runtime.read_package_file("demo.surli", &ReadOptions::default())?;
//! let module = runtime.load(package).await?;
//! let sum = module
//!     .call(Arc::new(NullContext), Some("add"), vec![1i64.into_value(), 2i64.into_value()])
//!     .await?;
//! assert_eq!(sum, 3i64.into_value());
//! # Ok(()) }
//! ```
//!
//! Everything an embedder names is here: the types above, the options,
//! limits and statistics they hold, and the errors. The layers without
//! wasmtime in their API are also re-exported whole for what the facade
//! leaves out: [`config`], [`package`], [`kv`], [`net`]. wasmtime itself is
//! not part of this API: its version can change under surli without
//! changing surli's.
//!
//! Options, limits and statistics are `#[non_exhaustive]`, so fields can be
//! added without breaking an embedder: build them from their defaults with
//! the `with_*` methods rather than as struct literals.
//!
//! ```
//! use std::time::Duration;
//! use surli::{RuntimeBudget, RuntimeOptions, ServerLimits};
//!
//! let options = RuntimeOptions::default()
//!     .with_server(ServerLimits::default().with_max_execution_time(Some(Duration::from_secs(2))))
//!     .with_budget(RuntimeBudget::default().with_max_instances(64));
//! assert_eq!(options.budget.max_instances, Some(64));
//! ```
//!
//! ```compile_fail
//! // A struct literal would break when a field is added: refused.
//! let options = surli::RuntimeOptions { strict_exports: true, ..Default::default() };
//! ```
//!
//! wasmtime is not part of this API; the engine and host layers, whose own
//! APIs name wasmtime's types, are not re-exported:
//!
//! ```compile_fail
//! use surli::engine::wasmtime::Engine;
//! ```
//!
//! ```compile_fail
//! use surli::host::HostState;
//! ```
#![deny(missing_docs)]

pub use surli_config as config;
pub use surli_kv as kv;
pub use surli_net as net;
pub use surli_package as package;

/// For implementing [`InvocationContext`], [`KvStore`] and [`Resolver`].
pub use async_trait::async_trait;
pub use surli_config::{
    Capabilities, EffectiveLimits, FunctionTargets, Limit, LimitSource, ModuleConfig, PackageMeta,
    ServerLimits,
};
pub use surli_engine::{EngineError, EpochSource};
/// Encoding and decoding values in the plugin ABI's FlatBuffers form, for
/// calls with pre-encoded arguments ([`Module::call_encoded`]).
pub use surli_host::codec;
pub use surli_host::{
    CallInfo, CallKind, ContextError, HostError, HttpCounts, InitEffect, InvocationContext,
    NullContext, SnapshotError, StdioLimits,
};
pub use surli_kv::{KeyRange, KvError, KvLimits, KvStore, KvValue, MemoryKvStore};
pub use surli_net::{NetError, Resolver, SystemResolver};
pub use surli_package::{
    ExportsManifest, FunctionExport, Package, PackageError, PackageLimits, ReadOptions,
};
pub use surli_pool::{
    Allocation, ArtifactCache, ArtifactSource, BudgetResource, BudgetUsage, CacheStats, CallError,
    CallPhase, FunctionSignature, Isolation, Lease, LoadError, Module, ModuleMemory, ModuleOptions,
    ModuleStats, PoolingLimits, ReadStats, Registry, RegistryOptions, RegistryStats, Runtime,
    RuntimeBudget, RuntimeOptions, ShutdownReport, TimeoutLimit, TimeoutWatch, VersionStats,
    WhenFull, exports_manifest, metric_names,
};
/// The SurrealDB value types that cross the boundary.
pub use surrealdb_types::{self as types, Object, SurrealValue, Value};
