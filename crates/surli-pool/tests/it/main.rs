//! Integration tests for surli-pool: real guests built with the official
//! SDK (`cargo xtask fixtures`), run end to end.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod budget;
mod cache;
mod calls;
mod capabilities;
mod deadlines;
mod embedding;
mod hostile;
mod http;
mod invariants;
mod isolation;
mod kinds;
mod lifecycle;
mod limits;
mod observe;
mod records;
mod registry;
mod shutdown;
mod snapshot;
mod storm;
