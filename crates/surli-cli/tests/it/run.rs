//! `surli run`: one module kept alive across many calls, driven by lines.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli};

#[test]
fn jsonl_answers_every_line_in_order_and_keeps_state() {
    let input = [
        r#"{"fn": "counter::bump", "args": [2]}"#,
        r#"{"fn": "counter::bump", "args": [3]}"#,
        r#"{"fn": null, "args": ["Ada"]}"#,
        r#"{"fn": "add", "args": [1, "x"]}"#,
        r#"{"fn": "nope"}"#,
        "not json",
        r#"{"fn": "fib", "args": [10]}"#,
    ]
    .join("\n");
    let output = surli()
        .args(["run", "--jsonl"])
        .arg(fixture("demo"))
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "{lines:?}");
    assert_eq!(lines[0], serde_json::json!({"ok": 2}));
    assert_eq!(
        lines[1],
        serde_json::json!({"ok": 5}),
        "the KV store lived on"
    );
    assert_eq!(lines[2], serde_json::json!({"ok": "Hello, Ada!"}));
    assert_eq!(lines[3]["kind"], "args");
    assert!(lines[3]["err"].as_str().unwrap().contains("argument 2 `b`"));
    assert_eq!(lines[4]["kind"], "unknown_function");
    assert_eq!(lines[5]["kind"], "input");
    assert_eq!(lines[6], serde_json::json!({"ok": 55}));
}

#[test]
fn jsonl_reports_traps_and_timeouts_and_goes_on() {
    let input = [
        r#"{"fn": "spin"}"#,
        r#"{"fn": "panic_now"}"#,
        r#"{"fn": "alloc", "args": [1]}"#,
    ]
    .join("\n");
    let output = surli()
        .args(["run", "--jsonl", "--timeout", "100ms"])
        .arg(fixture("hostile"))
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines[0]["kind"], "timeout");
    assert_eq!(lines[1]["kind"], "trap");
    assert_eq!(lines[2], serde_json::json!({"ok": 1}));
}

#[test]
fn plain_lines_from_a_pipe_print_one_result_each() {
    surli()
        .arg("run")
        .arg(fixture("demo"))
        .write_stdin(
            "add 1 2\n# a comment\n- 'Ada Lovelace'\ncounter::bump 4\ncounter::bump 4\n.kv\n",
        )
        .assert()
        .success()
        .stdout("3\n'Hello, Ada Lovelace!'\n4\n8\ncounter = 8\n");
}

#[test]
fn a_failed_line_is_reported_and_the_session_exits_1() {
    surli()
        .arg("run")
        .arg(fixture("demo"))
        .write_stdin("add 1 x\nadd 2 2\n")
        .assert()
        .code(1)
        .stdout("4\n")
        .stderr(contains("error: cannot call `add`").and(contains("1 of 2 lines failed")));
}

#[test]
fn jsonl_takes_arguments_written_as_surrealql_words() {
    let input = [
        r#"{"fn": "any", "surql": ["person:42"]}"#,
        r#"{"fn": "any", "surql": ["[NONE, d'2024-01-01T00:00:00Z', person:42]"]}"#,
        r#"{"fn": "option_int", "surql": ["NONE"]}"#,
        r#"{"fn": "any", "args": [1], "surql": ["2"]}"#,
    ]
    .join("\n");
    let output = surli()
        .args(["run", "--jsonl"])
        .arg(fixture("kinds"))
        .write_stdin(input)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // Answers come back as JSON, where a record id is its text; the array
    // shows the word was read as SurrealQL (as text it would be one string),
    // and NONE for an option<int> is no word a bare-text reading accepts.
    assert_eq!(lines[0], serde_json::json!({ "ok": "person:42" }));
    assert_eq!(
        lines[1],
        serde_json::json!({ "ok": [null, "2024-01-01T00:00:00Z", "person:42"] })
    );
    assert_eq!(lines[2], serde_json::json!({ "ok": null }));
    assert_eq!(lines[3]["kind"], "input", "{lines:?}");
}

#[test]
fn the_metrics_command_shows_the_calls_so_far() {
    surli()
        .arg("run")
        .arg(fixture("demo"))
        .arg("--metrics")
        .write_stdin("add 1 2\nadd 2 2\n.metrics\n")
        .assert()
        .success()
        .stdout(contains(
            r#"surli_calls_total{module="fixtures/demo@0.1.0",outcome="ok"} 2"#,
        ));
}

#[test]
fn the_metrics_command_says_how_to_turn_them_on() {
    surli()
        .arg("run")
        .arg(fixture("demo"))
        .write_stdin(".metrics\n")
        .assert()
        .success()
        .stdout(contains("start `surli run` with --metrics"));
}
