//! The wasmtime layer of surli: the two engine flavours, the process-wide
//! epoch ticker, and deadline arithmetic that cannot overflow.
//!
//! - A **guarded** engine compiles guests with epoch checks, so a call can
//!   be interrupted when its deadline passes. This is the default for every
//!   module.
//! - A **fast** engine compiles without epoch checks (a little less code in
//!   every loop) and so cannot interrupt anything. A module runs on it only
//!   when it sets `strict_timeout = false` *and* the server consents
//!   (`ServerLimits::allow_relaxed_timeout`).
//!
//! Epochs advance on one ticker thread per process, every [`TICK`]. Unlike
//! the original runtime's ticker, which runs forever, ours runs only while
//! some guarded engine with an automatic epoch is alive, and stops when the
//! last one is dropped. Tests (and embedders that want a deterministic
//! clock) choose [`EpochSource::Manual`] and advance the epoch themselves
//! with [`SurliEngine::tick`].
//!
//! Deadlines are counted in ticks and always rounded **up**, plus one tick
//! for the part of the current tick that has already gone by: a timeout
//! never fires before its limit (the original rounded down, so a 100 ms
//! limit could fire at 94 ms), and fires at most one tick after it in tick
//! terms. The arithmetic saturates instead of overflowing at any epoch.
//!
//! ```
//! use std::time::Duration;
//! use surli_engine::{EngineOptions, EpochSource, Flavour, SurliEngine};
//!
//! let engine = SurliEngine::new(EngineOptions {
//!     flavour: Flavour::Guarded,
//!     epoch: EpochSource::Manual,
//! })
//! .unwrap();
//! // 100 ms at 10 ms a tick: ten whole ticks, plus the one under way.
//! assert_eq!(engine.deadline_ticks(Some(Duration::from_millis(100))), 11);
//! ```
#![deny(missing_docs)]

mod cache;
mod deadline;
mod engine;
mod error;
mod ticker;

pub use cache::{ArtifactCache, ArtifactSource, CacheStats, Cached, code_bytes};
pub use deadline::{TICK, ticks_for};
pub use engine::{
    Allocation, EngineOptions, EpochSource, Flavour, PoolingLimits, SurliEngine, is_pool_exhausted,
};
pub use error::EngineError;
pub use ticker::ticker_running;

/// The wasmtime types that cross this crate's boundary, re-exported so
/// the crates above use the exact same wasmtime.
pub use wasmtime;
