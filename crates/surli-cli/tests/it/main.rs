#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `surli` binary, driven as a user would, on the fixture packages.

mod check;
mod errors;
mod info;
mod pack;
mod support;
