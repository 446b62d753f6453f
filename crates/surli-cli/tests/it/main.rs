#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `surli` binary, driven as a user would, on the fixture packages.

mod bench;
mod build;
mod call;
mod check;
mod database;
mod dev;
mod errors;
mod info;
mod pack;
mod run;
mod support;
mod surrealql;
