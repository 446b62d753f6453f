use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{baseline, fixture, surli};

#[test]
fn info_lists_the_functions_from_exports_toml() {
    surli()
        .arg("info")
        .arg(fixture("demo"))
        .assert()
        .success()
        .stdout(contains("fixtures/demo 0.1.0"))
        .stdout(contains("2 (supported)"))
        .stdout(contains("add(a: int, b: int) -> int"))
        .stdout(contains("<default>(name: string) -> string"))
        .stdout(predicate::str::is_match(r"counter::bump\(by: int\) -> int\s+writeable").unwrap());
}

#[test]
fn info_shows_effective_limits_under_the_given_server_limits() {
    surli()
        .args([
            "info",
            "--timeout",
            "2s",
            "--max-memory",
            "64MiB",
            "--pool",
            "3",
        ])
        .arg(fixture("demo"))
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"memory per instance\s+64 MiB \(set by the server\)")
                .unwrap(),
        )
        .stdout(predicate::str::is_match(r"execution time\s+2s \(set by the server\)").unwrap())
        .stdout(predicate::str::is_match(r"pool size\s+3 \(set by the server\)").unwrap());
}

#[test]
fn info_json_is_one_object_with_the_documented_fields() {
    let output = surli()
        .args([
            "info",
            "--json",
            "--max-memory",
            "64MiB",
            "--timeout",
            "none",
        ])
        .arg(fixture("demo"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let info: serde_json::Value = serde_json::from_slice(&output).expect("info --json prints JSON");

    assert_eq!(info["package"]["organisation"], "fixtures");
    assert_eq!(info["package"]["name"], "demo");
    assert_eq!(info["package"]["version"], "0.1.0");
    assert_eq!(info["abi"]["declared"], 2);
    assert_eq!(info["abi"]["runs_here"], true);
    assert_eq!(info["wasm"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(info["package_sha256"].as_str().map(str::len), Some(64));
    assert!(info["wasm"]["bytes"].as_u64().is_some_and(|n| n > 0));
    assert_eq!(info["capabilities"]["strict_timeout"], true);
    assert_eq!(
        info["effective_limits"]["max_memory_bytes"],
        serde_json::json!({"value": 64 * 1024 * 1024, "set_by": "server"})
    );
    assert!(info["effective_limits"]["max_execution_time_ms"].is_null());
    assert_eq!(info["effective_limits"]["pool_size"]["value"], 8);

    let functions = info["functions"].as_array().expect("functions is an array");
    assert_eq!(functions.len(), 6);
    let bump = functions
        .iter()
        .find(|f| f["name"] == "counter::bump")
        .expect("counter::bump is listed");
    assert_eq!(bump["writeable"], true);
    assert_eq!(bump["signature"], "counter::bump(by: int) -> int");
    assert_eq!(bump["args"], serde_json::json!(["by: int"]));
    let default = functions
        .iter()
        .find(|f| f["name"].is_null())
        .expect("the default export is listed with a null name");
    assert_eq!(default["writeable"], false);
}

#[test]
fn info_reads_a_package_written_by_the_original_runtime() {
    surli()
        .arg("info")
        .arg(baseline())
        .assert()
        .success()
        .stdout(contains("fib(n: int) -> int"));
}
