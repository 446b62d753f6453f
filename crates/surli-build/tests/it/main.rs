#![allow(clippy::unwrap_used, clippy::expect_used)]
//! surli-build's tests: stripping, the SDK and crate checks, the logo and
//! attached directory, and whole builds of the demo guest.

mod assets;
mod build;
mod project;
mod strip;
mod support;
