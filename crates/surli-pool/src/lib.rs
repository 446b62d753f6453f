//! A loaded module and its instances: the `Module` built from a package and
//! server limits, the instance pool with its semaphore, the leases that
//! return healthy instances and discard broken ones, and per-module stats.
//!
//! This crate is a placeholder until the runtime work lands; it holds no code
//! yet.
#![deny(missing_docs)]
