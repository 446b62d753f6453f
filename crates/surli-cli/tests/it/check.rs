use std::fs;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli, unpack};

#[test]
fn check_passes_a_good_package() {
    surli()
        .arg("check")
        .arg(fixture("demo"))
        .assert()
        .success()
        .stdout(contains("demo.surli: ok"))
        .stdout(contains("warning").not());
}

#[test]
fn an_exports_toml_that_lists_nothing_warns_and_fails_under_strict() {
    let temp = tempfile::tempdir().unwrap();
    let dir = unpack(&fixture("demo"), temp.path());
    fs::write(dir.join("exports.toml"), "functions = []\n").unwrap();
    let package = temp.path().join("empty-exports.surli");
    surli()
        .arg("pack")
        .arg(&dir)
        .arg("-o")
        .arg(&package)
        .assert()
        .success();

    surli()
        .arg("check")
        .arg(&package)
        .assert()
        .success()
        .stdout(contains("warning: exports.toml does not match the module"))
        .stdout(contains(
            "`counter::bump` is exported by the module but not listed",
        ))
        .stdout(contains("ok, 6 warnings"));

    surli()
        .args(["check", "--strict"])
        .arg(&package)
        .assert()
        .code(1)
        .stdout(contains("error: exports.toml does not match the module"))
        .stdout(contains(
            "`counter::bump` is exported by the module but not listed",
        ))
        .stderr(contains("empty-exports.surli").and(contains("check failed with 6 errors")));
}

#[test]
fn a_module_without_invoke_fails_the_check() {
    surli()
        .arg("check")
        .arg(fixture("no-invoke"))
        .assert()
        .code(1)
        .stdout(contains("error:").and(contains("`invoke`")))
        .stderr(contains("no-invoke.surli").and(contains("check failed with 1 error")));
}

#[test]
fn a_module_importing_wasi_http_passes_with_a_portability_warning() {
    surli()
        .arg("check")
        .arg(fixture("http"))
        .assert()
        .success()
        .stdout(contains("http.surli: ok"))
        .stdout(contains(
            "warning: the module imports `wasi:http/outgoing-handler@",
        ))
        .stdout(contains("stock SurrealDB do not: it will not load there"));
}
