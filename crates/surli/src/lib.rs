//! surli: a host runtime for Surrealism plugins, the WebAssembly user-defined
//! functions of the SurrealDB ecosystem.
//!
//! This facade holds the few types an embedder needs. A [`Runtime`] loads a
//! [`Package`] into a [`Module`]; calls run on pooled instances with your
//! [`InvocationContext`] answering the guest's `sql` and `run`:
//!
//! ```no_run
//! use std::sync::Arc;
//! use surli::{NullContext, Package, ReadOptions, Runtime, RuntimeOptions, SurrealValue};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let package = Package::read_file("demo.surli", &ReadOptions::default())?;
//! let module = runtime.load(package).await?;
//! let sum = module
//!     .call(Arc::new(NullContext), Some("add"), vec![1i64.into_value(), 2i64.into_value()])
//!     .await?;
//! assert_eq!(sum, 3i64.into_value());
//! # Ok(()) }
//! ```
//!
//! The layers underneath are re-exported as modules for what the facade
//! leaves out: [`config`], [`package`], [`kv`], [`net`], [`host`],
//! [`engine`], [`pool`].
#![deny(missing_docs)]

pub use surli_config as config;
pub use surli_engine as engine;
pub use surli_host as host;
pub use surli_kv as kv;
pub use surli_net as net;
pub use surli_package as package;
pub use surli_pool as pool;

/// For implementing [`InvocationContext`].
pub use async_trait::async_trait;
pub use surli_config::{EffectiveLimits, ModuleConfig, ServerLimits};
pub use surli_host::{CallInfo, CallKind, ContextError, InvocationContext, NullContext};
pub use surli_kv::{KvStore, MemoryKvStore};
pub use surli_package::{Package, PackageError, ReadOptions};
pub use surli_pool::{
    ArtifactCache, ArtifactSource, BudgetResource, BudgetUsage, CacheStats, CallError, CallPhase,
    FunctionSignature, Lease, LoadError, Module, ModuleOptions, ModuleStats, Runtime,
    RuntimeBudget, RuntimeOptions, TimeoutLimit, TimeoutWatch, WhenFull,
};
/// The SurrealDB value types that cross the boundary.
pub use surrealdb_types::{self as types, Object, SurrealValue, Value};
