//! The API of `surrealism-runtime` 0.6.5, the Surrealism host runtime
//! SurrealDB 3.3 ships, run by surli.
//!
//! An embedder of the original switches with one line in its workspace's
//! `Cargo.toml` and no change to its code:
//!
//! ```toml
//! [patch.crates-io]
//! surrealism-runtime = { git = "https://github.com/surli-rs/surli", package = "surrealism-runtime" }
//! ```
//!
//! (or a `path` to `compat/surrealism-runtime` in a checkout). Paths, names,
//! signatures, public fields and trait definitions are 0.6.5's; the error
//! type is the official `surrealism-types` 0.6.5 crate's own
//! [`SurrealismError`]. Underneath, every module is a surli
//! [`Module`](surli::Module): compiled once into surli's artifact cache,
//! pooled, limited and isolated by surli. `docs/MIGRATING.md` in surli's
//! repository lists what behaves differently and why.
//!
//! # Left out on purpose
//!
//! | item of 0.6.5 | why |
//! |---|---|
//! | `epoch` (`EngineHandle`, `shared_engine`, `EPOCH_TICK_MS`) | hands out wasmtime engines and the ticker; surli owns both, and an engine from outside would bypass its limits |
//! | `store` (`StoreData`) | wasmtime's per-instance store data (WASI context, resource table); surli's is private to it |
//! | `host::implement_host_functions` | registers host functions on a wasmtime `Linker<StoreData>`; surli links its own |
//!
//! No code of SurrealDB 3.3.5 (`surrealdb-core`, `surrealdb-server`) names
//! any of them. The compile test `tests/it/surface.rs` names every item that
//! code does use.
//!
//! # Limits
//!
//! Where 0.6.5 reads `None` as "no limit", this crate applies surli's
//! default instead (`surli::ServerLimits::default()`: 256 MiB of linear
//! memory, 10 s per call, 100,000 KV entries of up to 1 MiB), so a module
//! nobody limited still cannot take the host down. A `Some` is a ceiling,
//! merged with the module's own limit as 0.6.5 merges them (the smaller
//! wins).

pub mod capabilities;
pub mod config;
pub mod controller;
pub mod exports;
pub mod host;
pub mod kv;
pub mod net_allow;
pub mod package;
pub mod runtime;

mod bridge;
mod errors;

pub use net_allow::{ResolvedNetAllow, resolve_allow_net};
pub use surrealism_types::err::{PrefixErr, SurrealismError};

/// The version of the Surrealism SDK this runtime serves, as 0.6.5 gives
/// it: the package version, so it reads "0.6.5". SurrealDB's build tool
/// checks a module's `surrealism` dependency against it.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
