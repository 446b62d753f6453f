//! The wasmtime layer of surli: the guarded (epoch-interrupted) and fast
//! engines, the process-wide epoch ticker, deadline arithmetic and the
//! compiled-artifact cache.
//!
//! This crate is a placeholder until the runtime work lands: it holds no code
//! yet, so nothing can depend on behaviour it does not have. It is the only
//! crate besides `surli-host` that will depend on wasmtime.
#![deny(missing_docs)]
