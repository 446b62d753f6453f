#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One test binary for the package reader and writer.

mod baseline;
mod bomb;
mod exports;
mod extraction;
mod guards;
mod record;
mod support;
mod writer;
