//! The host side of the `surrealism:plugin` WIT world: the `sql`, `run` and
//! `kv-*` imports, the `InvocationContext` an embedder implements, the
//! capability checks that run before the embedder is reached, and the WASI
//! context (read-only fs, bounded stdio, allow_net sockets).
//!
//! This crate is a placeholder until the runtime work lands; it holds no code
//! yet. It and `surli-engine` are the only crates that touch wasmtime, and it
//! is the only one that touches `surrealdb-types`.
#![deny(missing_docs)]
