//! The host side of the `surrealism:plugin` world: the `sql`, `run` and
//! `kv-*` functions a Surrealism guest imports, the capability checks that
//! run before an embedder is reached, the WASI context every instance gets,
//! and typed access to the guest's exports.
//!
//! It and `surli-engine` are the only crates that touch wasmtime; the
//! guarded decoding of guest bytes lives in `surli-codec`, which [`codec`]
//! wraps with this crate's error. It compiles nothing and
//! keeps no instances: `surli-pool` does that, with the pieces from here.
//!
//! # The pieces
//!
//! - [`build_linker`]: a `Linker<HostState>` with WASI 0.2 (async),
//!   `wasi:http` for outbound requests, and the fourteen
//!   `surrealism:plugin/host` functions. One per engine.
//! - [`ModuleEnv`]: what all instances of one module share: its identity,
//!   [`Capabilities`](surli_config::Capabilities), its own key-value store,
//!   its resolved `allow_net` list, the directory attached read-only at `/`,
//!   [`StdioLimits`], [`HttpLimits`] and the resolver of outbound HTTP host
//!   names. One per loaded module, in an `Arc`; [`ModuleEnv::http_counts`]
//!   reads what its guests did over HTTP.
//! - [`HostState`]: the data of one instance's `Store`: WASI state, the
//!   module's env, the call in progress and a [`MemoryLimiter`]. The host
//!   functions are implemented on it.
//! - [`InvocationContext`]: what an embedder implements for a call: `sql`,
//!   `run`, and where guest output lines go. [`NullContext`] stands in
//!   between calls.
//! - [`PluginExports`] and [`GuestExports`]: the guest's seven exports,
//!   found once per component, checked once per instance, called with
//!   `call_async`.
//! - [`codec`]: the FlatBuffers payloads, decoded without ever panicking
//!   (the functions of the `surli-codec` crate, with [`HostError`]).
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use surli_config::{Capabilities, PackageMeta};
//! use surli_host::{
//!     CallInfo, HostState, InvocationContext, MemoryLimiter, MemoryLimits, ModuleEnv,
//!     PluginExports, build_linker, codec,
//! };
//! use surli_kv::{KvLimits, MemoryKvStore};
//! use wasmtime::component::Component;
//! use wasmtime::{Engine, Store};
//!
//! # async fn call(ctx: Arc<dyn InvocationContext>, wasm: &[u8], meta: PackageMeta)
//! # -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let engine = Engine::default();
//! let linker = build_linker(&engine)?;
//! let component = Component::new(&engine, wasm)?;
//! let exports = PluginExports::resolve(&component)?;
//! let env = Arc::new(ModuleEnv::new(
//!     meta,
//!     Capabilities::default(),
//!     Arc::new(MemoryKvStore::new(KvLimits::default())),
//! ));
//!
//! let limits = MemoryLimits::with_max_memory(Some(64 << 20));
//! let state = HostState::new(Arc::clone(&env), MemoryLimiter::new(limits))?;
//! let mut store = Store::new(&engine, state);
//! store.limiter(|state| state.limiter_mut());
//! let instance = linker.instantiate_async(&mut store, &component).await?;
//! let guest = exports.bind(&mut store, &instance)?;
//!
//! store.data_mut().set_call(ctx, CallInfo::invoke(Arc::clone(env.module()), Some("greet")));
//! let args = codec::encode_args(&[surrealdb_types::Value::String("world".into())])?;
//! let outcome = guest.invoke(&mut store, Some("greet"), &args).await;
//! store.data_mut().clear_call();
//! match outcome {
//!     // The function's result.
//!     Ok(Ok(bytes)) => drop(codec::decode_value(&bytes)?),
//!     // The guest's own error; the instance is fine.
//!     Ok(Err(message)) => drop(message),
//!     // A trap: never use this instance again. After a refused grow it
//!     // means the guest ran out of memory.
//!     Err(trap) => {
//!         let out_of_memory = store.data().memory_limiter().exhausted().is_some();
//!         drop((trap, out_of_memory));
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Imports by `bindgen!`, exports by hand
//!
//! The fourteen host functions come from `wasmtime::component::bindgen!`
//! over this crate's `wit/surrealism.wit` (world `host-side`, which only
//! imports `host`), so their Rust signatures are generated from the WIT and
//! a change to either side fails to compile; they are async (`imports: {
//! default: async }`) and cannot trap (every failure is the WIT `result`
//! error). The seven exports are not generated: bindgen's world type would
//! refuse any component lacking one of them, yet six are optional (a
//! component built by other tools may export `invoke` alone, and a missing
//! `init` just means nothing to initialise). So [`PluginExports::resolve`]
//! looks them up once per component with `Component::get_export` (only
//! `invoke` is required), and [`PluginExports::bind`] checks each present
//! one's signature once per instance. `invoke` and the name-taking exports
//! are called with borrowed parameters (`Option<&str>`, `&[u8]`), copied
//! straight into guest memory; since a wasmtime `TypedFunc` carries those
//! lifetimes in its type, they are stored untyped and re-typed per call (a
//! type walk of about 15 ns, against some 700 ns for a call of an empty
//! guest function).
//!
//! # Capabilities are checked here
//!
//! `sql` is refused unless the module has `allow_arbitrary_queries`, and
//! `run` unless `allow_functions` allows the function, before the embedder's
//! [`InvocationContext`] is reached. The original runtime left both checks
//! to each embedder.
//!
//! # The key-value store belongs to the module
//!
//! The `kv-*` functions reach only the store in their module's
//! [`ModuleEnv`], given once at load. The original asked the embedder's
//! context for a store on every call, so modules were kept apart only if
//! every embedder handed back the right one. Values are stored as the bytes
//! the guest encoded, after checking that they decode (so a batch read can
//! never meet a malformed value); a `kv-get` returns them untouched.
//!
//! # Guest bytes are hostile
//!
//! Every buffer from a guest is decoded through [`codec`], which catches the
//! panics `surrealdb-types` raises on some verified but inconsistent
//! messages, so no guest can panic the host through a host function.
//! Decoding and encoding a value recurse once per level of nesting, up to
//! the FlatBuffers verifier's depth of 512 tables (about 250 nested arrays):
//! that takes about 250 KiB of stack in release builds and up to 2 MiB in
//! debug builds. Host functions run on wasmtime's async fiber stack, so the
//! engine's `async_stack_size` must leave that much above `max_wasm_stack`.
//!
//! # WASI
//!
//! Each instance gets: no stdin, no environment, no arguments; the attached
//! directory read-only at `/`; monotonic and wall clocks and random as
//! wasmtime-wasi provides them; sockets only to what `allow_net` allows
//! (see [`socket_allowed`]), with TCP and UDP switched off entirely when it
//! is empty, and no DNS (names were resolved at load). Standard output and
//! error are delivered line by line to the current call's context, bounded
//! by [`StdioLimits`] (see [`GuestOutput`]).
//!
//! `wasi:http/outgoing-handler` sends through surli's own sender: each
//! request is checked against `allow_net` (a name only when an entry names
//! it, looked up again and connected by address), held to [`HttpLimits`],
//! ended at the call's deadline ([`CallInfo::deadline`]) and failed when its
//! call ends. Refusals are the guest's HTTP errors, counted in
//! [`HttpCounts`]. The original runtime links no `wasi:http`.
//!
//! # Architecture Invariant
//!
//! A host function only checks, decodes, delegates and encodes: every
//! failure reaches the guest as its `result` error, never as a trap or a
//! host panic, and nothing of one call's context (its `sql`/`run` handler or
//! its output) is reachable once [`HostState::clear_call`] has run.
//!
//! # API Boundary
//!
//! In: an engine, a component, a [`ModuleEnv`] (identity, capabilities, the
//! module's `KvStore`, its `NetAllowList`, an optional directory) and, per
//! call, an [`InvocationContext`]; out: a linker, a store state, typed
//! exports and encoded values. No pooling, deadlines or compilation.
#![deny(missing_docs)]

mod call;
pub mod codec;
mod context;
mod env;
mod error;
mod exports;
mod host_fns;
mod http;
mod limiter;
mod linker;
mod net;
mod snapshot;
mod state;
mod stdio;
mod wasi;

/// Bindings generated by `wasmtime::component::bindgen!` from
/// `wit/surrealism.wit`, world `host-side` (the `host` imports only).
///
/// [`HostState`] implements
/// [`bindings::surrealism::plugin::host::Host`], whose async methods are
/// the host functions; [`build_linker`] adds them to a linker. Calling the
/// trait's methods directly on a `HostState` runs a host function without a
/// guest, as the tests do.
pub mod bindings {
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        world: "host-side",
        path: "wit",
        imports: { default: async },
    });
}

pub use call::CallOutput;
pub use context::{CallInfo, CallKind, ContextError, InvocationContext, NullContext};
pub use env::{ModuleEnv, StdioLimits};
pub use error::HostError;
pub use exports::{GuestExports, InvokeAnswer, PluginExport, PluginExports};
pub use http::{HttpCounts, HttpLimits};
pub use limiter::{Exhaustion, MemoryBudget, MemoryLimiter, MemoryLimits, Resource};
pub use linker::build_linker;
pub use net::socket_allowed;
pub use snapshot::{InitEffect, SnapshotError, SnapshotLimits, snapshot_after_init};
pub use state::HostState;
pub use stdio::{GuestOutput, StdioChannel};
