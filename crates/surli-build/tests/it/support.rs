//! Where the repository and its fixtures are, and a runtime to introspect
//! components with.

use std::path::{Path, PathBuf};

use surli_package::{Package, ReadOptions};
use surli_pool::{Runtime, RuntimeOptions};

/// The root of the surli repository.
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A package built by `cargo xtask fixtures`. A missing one fails the test
/// and says how to build it; it is never skipped.
pub(crate) fn fixture(name: &str) -> Package {
    let path = repo_root()
        .join("target/fixtures")
        .join(format!("{name}.surli"));
    assert!(
        path.is_file(),
        "the fixture {} is missing: run `cargo xtask fixtures`",
        path.display()
    );
    Package::read_file(&path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{} should read: {e}", path.display()))
}

/// The target directory `cargo xtask fixtures` builds the guests in, so a
/// build of a fixture guest there finds it fresh.
pub(crate) fn fixture_target_dir() -> PathBuf {
    let dir = repo_root().join("target/fixtures-build/guests");
    assert!(
        dir.is_dir(),
        "the fixture guests were never built at {}: run `cargo xtask fixtures`",
        dir.display()
    );
    dir
}

pub(crate) fn runtime() -> Runtime {
    Runtime::new(RuntimeOptions::default()).unwrap()
}
