//! Tests of the compatibility crate: its surface (a compile test), and
//! embeddings written against 0.6.5 running real fixture modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod embedding;
mod surface;
