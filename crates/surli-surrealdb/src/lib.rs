//! A real SurrealDB behind a Surrealism module: the `sql` and `run` host
//! functions answered by the official [`surrealdb`] client, and a module KV
//! store kept in the database, so it survives restarts.
//!
//! - [`SurrealContext`] is an [`InvocationContext`](surli_host::InvocationContext)
//!   over a [`Surreal`](surrealdb::Surreal) handle the embedder signed in as
//!   the caller. Every `sql` and `run` runs on a session of its own, cloned
//!   from that handle, so it has exactly the caller's namespace, database
//!   and rights, and nothing one query sets (`LET`, `USE`) reaches another.
//! - [`SurrealKvStore`] is a [`KvStore`](surli_kv::KvStore) in one table
//!   per module, with the limits and the byte-wise key order of the
//!   in-memory store and all-or-nothing batches in transactions.
//! - [`connect`] opens an embedded database (`mem://`, `surrealkv://PATH`)
//!   and selects a namespace and database, for the command line and tests.
//!
//! Values pass through unconverted: the client and the host share one
//! `surrealdb-types`. Remote engines (`ws://`, `http://`) work the same way
//! through the client; this crate builds only the embedded ones, so an
//! embedder that wants a remote one enables that feature on its own
//! `surrealdb` dependency and hands the handle in. See `docs/EMBEDDING.md`.

#![deny(missing_docs)]

mod connect;
mod context;
mod error;
mod kv;
mod response;
mod scope;

pub use connect::connect;
pub use context::SurrealContext;
pub use error::SurrealError;
pub use kv::SurrealKvStore;
/// The client crate, re-exported so an embedder names the same version.
pub use surrealdb;
