//! surli-surrealdb against a real embedded SurrealDB: no mocks. The
//! context tests run the official-SDK fixtures `hostcalls` and `library`
//! through the surli runtime; the KV tests hold the store to the in-memory
//! store's behaviour, operation by operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod context;
mod docs;
mod durability;
mod kv;
mod support;
