//! `surli build` on the demo guest, in the target directory `cargo xtask
//! fixtures` built it in (so cargo finds it fresh), and on directories that
//! are not guests.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{read, surli};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `surli build` of the demo guest into `output`.
fn build_demo(output: &Path) -> assert_cmd::assert::Assert {
    let root = repo_root();
    let target_dir = root.join("target/fixtures-build/guests");
    assert!(
        target_dir.is_dir(),
        "{} is missing: run `cargo xtask fixtures`",
        target_dir.display()
    );
    surli()
        .arg("build")
        .arg(root.join("fixtures/guests/demo"))
        .arg("-o")
        .arg(output)
        .arg("--target-dir")
        .arg(&target_dir)
        .args(["--locked", "--no-wasm-opt"])
        // As `cargo xtask fixtures` builds: CI's RUSTFLAGS are for the host
        // and would make cargo rebuild the guest from scratch.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .assert()
}

#[test]
fn build_packs_the_demo_guest_and_info_reads_it() {
    let temp = tempfile::tempdir().unwrap();
    let output = temp.path().join("demo.surli");
    build_demo(&output)
        .success()
        .stdout(contains("packed fixtures/demo 0.1.0 into").and(contains("demo.surli")))
        .stdout(contains("sha256 "))
        .stderr(contains("--target wasm32-wasip2"))
        .stderr(contains("stripped"))
        .stderr(contains("the component exports 6 functions"))
        .stderr(contains("add(a: int, b: int) -> int"));
    assert_eq!(read(&output).config().abi.map(|abi| abi.0), Some(2));

    let json = surli()
        .args(["info", "--json"])
        .arg(&output)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let info: serde_json::Value = serde_json::from_slice(&json).expect("info --json prints JSON");
    let mut names: Vec<String> = info["functions"]
        .as_array()
        .expect("a list of functions")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or("<default>").to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["<default>", "add", "concat", "counter::bump", "fib", "noop"]
    );
    assert_eq!(info["abi"]["declared"], 2);

    surli()
        .arg("call")
        .arg(&output)
        .args(["add", "2", "3"])
        .assert()
        .success()
        .stdout("5\n");
}

#[test]
fn build_without_surrealism_toml_names_the_file() {
    let temp = tempfile::tempdir().unwrap();
    surli()
        .arg("build")
        .arg(temp.path())
        .arg("-o")
        .arg(temp.path().join("never.surli"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("surli: ").and(contains("surrealism.toml")))
        .stderr(contains("beside its Cargo.toml"));
    assert!(!temp.path().join("never.surli").exists());
}

#[test]
fn build_of_a_missing_directory_names_it() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("no-such-guest");
    surli()
        .arg("build")
        .arg(&missing)
        .assert()
        .code(1)
        .stderr(contains("no-such-guest"));
}
