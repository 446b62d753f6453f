//! Integration tests for surli-config: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abi;
mod functions;
mod limits;
mod parse;
