//! Bad input exits 1 naming the file; bad usage exits 2.

use std::fs;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli};

#[test]
fn a_core_module_is_refused_by_info_and_check() {
    for command in ["info", "check"] {
        surli()
            .arg(command)
            .arg(fixture("core-module"))
            .assert()
            .code(1)
            .stdout("")
            .stderr(contains("surli: ").and(contains("core-module.surli")))
            .stderr(contains("not a WebAssembly component"));
    }
}

/// Every command that reads a package, with the words it needs after it.
const COMMANDS_ON_A_FILE: &[(&str, &[&str])] = &[
    ("info", &[]),
    ("check", &[]),
    ("call", &["add", "1", "2"]),
    ("run", &["--jsonl"]),
    ("bench", &["add", "1", "2"]),
];

#[test]
fn a_missing_file_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("missing.surli");
    for (command, rest) in COMMANDS_ON_A_FILE {
        surli()
            .arg(command)
            .arg(&missing)
            .args(*rest)
            .assert()
            .code(1)
            .stderr(contains("missing.surli").and(contains("No such file")));
    }
}

#[test]
fn a_garbage_file_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let garbage = temp.path().join("garbage.surli");
    fs::write(&garbage, b"this is not a package").unwrap();
    for (command, rest) in COMMANDS_ON_A_FILE {
        surli()
            .arg(command)
            .arg(&garbage)
            .args(*rest)
            .assert()
            .code(1)
            .stderr(contains("garbage.surli").and(contains("not a valid zstd-compressed tar")))
            .stderr(contains("panicked").not().and(contains("backtrace").not()));
    }
}

#[test]
fn usage_errors_exit_2() {
    surli().assert().code(2);
    surli().arg("frobnicate").assert().code(2);
    surli()
        .arg("info")
        .assert()
        .code(2)
        .stderr(contains("<FILE>"));
    surli()
        .args(["info", "--timeout", "2"])
        .arg(fixture("demo"))
        .assert()
        .code(2)
        .stderr(contains("needs a unit"));
}
