//! `surli bench`: the report's shape and its counts (never its timings).

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli};

#[test]
fn bench_reports_calls_and_percentiles_as_json() {
    let output = surli()
        .arg("bench")
        .arg(fixture("demo"))
        .args([
            "add", "1", "2", "--json", "-c", "2", "-d", "200ms", "--warmup", "50ms",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(report["function"], "add");
    assert_eq!(report["concurrency"], 2);
    assert_eq!(report["errors"], 0);
    assert!(report["calls"].as_u64().unwrap() > 0);
    let latency = &report["latency_us"];
    let p = |name: &str| latency[name].as_f64().unwrap();
    assert!(p("min") <= p("p50") && p("p50") <= p("p99") && p("p99") <= p("max"));
    // Not a timing check: a call through wasmtime cannot take under 10 ns,
    // so a smaller figure means the latencies were recorded wrongly (a
    // histogram that clamped every value once did exactly that).
    assert!(p("min") >= 0.01, "{latency}");
    assert!(p("max") > p("min") || report["calls"] == 1, "{latency}");
    // One instance per caller at most, plus the one loading made to ask
    // the module what it exports.
    assert!(report["instances_created"].as_u64().unwrap() <= 3);
}

#[test]
fn bench_prints_a_table_by_default() {
    surli()
        .arg("bench")
        .arg(fixture("demo"))
        .args(["noop", "-d", "100ms", "--warmup", "10ms"])
        .assert()
        .success()
        .stdout(contains("calls/s").and(contains("p99")));
}

#[test]
fn bench_of_a_function_that_always_fails_is_an_error() {
    surli()
        .arg("bench")
        .arg(fixture("kinds"))
        .args(["fail", "-d", "50ms", "--warmup", "10ms"])
        .assert()
        .code(1)
        .stderr(contains("the first call of `fail` failed"));
}

#[test]
fn a_second_load_comes_from_the_cache_unless_told_otherwise() {
    let temp = tempfile::tempdir().unwrap();
    let load_from = |extra: &[&str]| {
        let output = surli()
            .env("SURLI_CACHE_DIR", temp.path())
            .arg("bench")
            .arg(fixture("demo"))
            .args(["noop", "--json", "-d", "10ms", "--warmup", "10ms"])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let report: serde_json::Value = serde_json::from_slice(&output).unwrap();
        report["load_from"].as_str().unwrap().to_owned()
    };
    assert_eq!(load_from(&[]), "compiled");
    assert_eq!(load_from(&[]), "disk");
    assert_eq!(load_from(&["--no-cache"]), "compiled");
    let other = temp.path().join("other");
    assert_eq!(
        load_from(&["--cache-dir", other.to_str().unwrap()]),
        "compiled"
    );
    assert_eq!(load_from(&["--cache-dir", other.to_str().unwrap()]), "disk");
}

#[test]
fn bench_with_metrics_prints_the_modules_metrics_to_stderr() {
    surli()
        .arg("bench")
        .arg(fixture("demo"))
        .args([
            "add",
            "1",
            "2",
            "--json",
            "-d",
            "100ms",
            "--warmup",
            "10ms",
            "--metrics",
        ])
        .assert()
        .success()
        // The report stays alone on stdout.
        .stdout(contains("calls_per_second").and(contains("surli_").not()))
        .stderr(
            contains(r#"surli_calls_total{module="fixtures/demo@0.1.0",outcome="ok"}"#)
                .and(contains("surli_call_duration_seconds"))
                .and(contains(
                    r#"surli_instances_idle{module="fixtures/demo@0.1.0"}"#,
                )),
        );
}
