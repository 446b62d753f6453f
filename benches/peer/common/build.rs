//! Tells the benchmark which versions it was built with, read from the
//! workspace's own Cargo.lock, so every report names the exact runtime,
//! wasmtime and surrealdb-types it measured.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let lock = dir.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for (crate_name, variable) in [
        ("surrealism-runtime", "PEER_RUNTIME_VERSION"),
        ("wasmtime", "PEER_WASMTIME_VERSION"),
        ("surrealdb-types", "PEER_TYPES_VERSION"),
    ] {
        let version = locked_version(&text, crate_name).unwrap_or_else(|| "unknown".to_owned());
        println!("cargo:rustc-env={variable}={version}");
    }
}

/// The version of the first `[[package]]` entry named `name` (each of these
/// crates appears once in a peer lock).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let next = lines.next()?.trim();
            let quoted = next.strip_prefix("version = ")?;
            return Some(quoted.trim_matches('"').to_owned());
        }
    }
    None
}
