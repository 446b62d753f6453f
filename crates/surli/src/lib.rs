//! surli: a host runtime for Surrealism plugins, the WebAssembly user-defined
//! functions of the SurrealDB ecosystem.
//!
//! This facade re-exports the few types an embedder needs. Today that is the
//! package and configuration layer; the runtime (`Module`, leases,
//! `InvocationContext`) joins it when the runtime crates land.
#![deny(missing_docs)]

pub use surli_config as config;
pub use surli_kv as kv;
pub use surli_net as net;
pub use surli_package as package;
