//! Loaded modules and their instances: the part of surli an embedder
//! drives.
//!
//! A [`Runtime`] owns a guarded and a fast engine and a linker for each.
//! [`Runtime::load`] turns a [`Package`](surli_package::Package) into a
//! [`Module`]: it checks the ABI, merges the module's limits with the
//! server's, resolves `allow_net` without blocking, compiles the component
//! on a blocking thread, instantiates it once to learn what it really
//! exports (and to compare that with `exports.toml`), and builds the
//! module's KV store.
//!
//! Calls go through a pool capped at the module's `max_pool_size`
//! checked-out instances (a semaphore; idle instances hold no permit):
//! [`Module::call`] for one call, [`Module::lease`] for several under one
//! context. The [`Lease`] returns a healthy instance to the pool on drop and
//! discards one that trapped, timed out, ran out of memory or whose call was
//! cancelled. Between calls an instance sees a `NullContext`.
//!
//! Timeouts are the tighter of the caller's timeout and the module's
//! effective limit; the epoch stops guest code, and a wall-clock guard
//! stops a guest blocked in a slow host call. The error says which limit
//! fired ([`TimeoutLimit`]) and how it was noticed ([`TimeoutWatch`]).
#![deny(missing_docs)]

mod budget;
mod caller;
mod chain;
mod describe;
mod error;
mod instance;
mod lease;
mod module;
mod observe;
mod portability;
mod records;
mod registry;
mod runtime;
mod shutdown;
mod stats;

pub use budget::{BudgetUsage, RuntimeBudget, WhenFull};
pub use describe::{FunctionSignature, exports_manifest};
pub use error::{BudgetResource, CallError, CallPhase, LoadError, TimeoutLimit, TimeoutWatch};
pub use lease::Lease;
pub use module::{Isolation, Module, ModuleOptions};
pub use observe::names as metric_names;
pub use portability::portability_warning;
pub use records::ReadStats;
pub use registry::{Registry, RegistryOptions, RegistryStats, VersionStats};
pub use runtime::{Runtime, RuntimeOptions};
pub use shutdown::ShutdownReport;
pub use stats::{ModuleMemory, ModuleStats};
pub use surli_engine::{Allocation, ArtifactCache, ArtifactSource, CacheStats, PoolingLimits};
