//! Fixtures and helpers shared by the tests.

use std::path::{Path, PathBuf};

use surli::{Package, ReadOptions};

/// A package built by `cargo xtask fixtures`. A missing one fails the test
/// rather than skipping it, so a green run always means the tests ran.
pub(crate) fn fixture(name: &str) -> PathBuf {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/fixtures/"
    ))
    .join(format!("{name}.surli"));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask fixtures`",
        path.display()
    );
    path
}

/// The package written by the original runtime.
pub(crate) fn baseline() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/original-0.3.1-baseline.surli"
    ))
    .to_path_buf()
}

/// The `surli` binary, with its compiled-module cache in the build's own
/// temporary directory: tests never write to the user's cache.
pub(crate) fn surli() -> assert_cmd::Command {
    let mut command = assert_cmd::cargo::cargo_bin_cmd!("surli");
    command.env("SURLI_CACHE_DIR", cache_dir());
    command
}

/// Where the tests' compiled modules are kept.
pub(crate) fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("surli-cache")
}

pub(crate) fn read(path: &Path) -> Package {
    Package::read_file(path, &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{} should read back: {e}", path.display()))
}

/// Unpacks `package` into a fresh `unpacked` directory under `temp`.
pub(crate) fn unpack(package: &Path, temp: &Path) -> PathBuf {
    let dir = temp.join("unpacked");
    surli()
        .arg("unpack")
        .arg(package)
        .arg(&dir)
        .assert()
        .success();
    dir
}
