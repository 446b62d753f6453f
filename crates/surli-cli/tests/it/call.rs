//! `surli call`: arguments read against declared kinds, results in
//! SurrealQL or JSON, and every way a call can fail, with its exit code.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli};

#[test]
fn a_call_prints_its_result_in_surrealql() {
    surli()
        .args(["call"])
        .arg(fixture("demo"))
        .args(["add", "40", "2"])
        .assert()
        .success()
        .stdout("42\n");
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .args(["concat", "bare", r#""json""#])
        .assert()
        .success()
        .stdout("'barejson'\n");
}

#[test]
fn the_default_export_is_called_with_a_dash_or_default() {
    for words in [vec!["-", "Ada"], vec!["--default", "Ada"]] {
        surli()
            .arg("call")
            .arg(fixture("demo"))
            .args(&words)
            .assert()
            .success()
            .stdout("'Hello, Ada!'\n");
    }
}

#[test]
fn json_output_uses_the_json_form_of_each_value() {
    let output = surli()
        .arg("call")
        .arg(fixture("kinds"))
        .args(["--json", "ten", "1", "two", "true", "4.5", "null", "[6,7]"])
        .args([r#"{"h":8}"#, "2024-01-01T00:00:00Z"])
        .arg("0191e1b6-9b5e-7a41-8c5e-1d2a3b4c5d6e")
        .arg(r#"{"any":[1,"x"]}"#)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            1,
            "two",
            true,
            4.5,
            null,
            [6, 7],
            {"h": 8},
            "2024-01-01T00:00:00Z",
            "0191e1b6-9b5e-7a41-8c5e-1d2a3b4c5d6e",
            {"any": [1, "x"]}
        ])
    );
}

#[test]
fn bare_words_become_the_declared_kind() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "datetime",
            "2024-01-01T00:00:00Z",
            "d'2024-01-01T00:00:00Z'\n",
        ),
        ("duration", "1h30m", "1h30m\n"),
        ("record", "person:tobie", "person:tobie\n"),
        (
            "uuid",
            "0191e1b6-9b5e-7a41-8c5e-1d2a3b4c5d6e",
            "u'0191e1b6-9b5e-7a41-8c5e-1d2a3b4c5d6e'\n",
        ),
        ("string", "hello", "'hello'\n"),
        ("option_int", "null", "NONE\n"),
        ("option_int", "7", "7\n"),
    ];
    for (function, arg, expected) in cases {
        surli()
            .arg("call")
            .arg(fixture("kinds"))
            .args([function, arg])
            .assert()
            .success()
            .stdout(*expected);
    }
}

#[test]
fn a_wrong_argument_names_it_and_its_kind() {
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .args(["add", "1", "x"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            contains("argument 2 `b`")
                .and(contains("int"))
                .and(contains("x")),
        );
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .args(["add", "1"])
        .assert()
        .code(1)
        .stderr(contains("a: int, b: int"));
}

#[test]
fn an_unknown_function_lists_the_real_ones() {
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .arg("nope")
        .assert()
        .code(1)
        .stderr(
            contains("has no function `nope`")
                .and(contains("add, concat, counter::bump, fib, noop"))
                .and(contains("default export")),
        );
}

#[test]
fn a_guest_error_exits_1_with_the_guests_text() {
    surli()
        .arg("call")
        .arg(fixture("kinds"))
        .arg("fail")
        .assert()
        .code(1)
        .stderr(contains("`fail` failed: kinds: failed on purpose"));
}

#[test]
fn a_timeout_and_an_oom_are_errors_that_name_the_limit() {
    surli()
        .arg("call")
        .arg(fixture("hostile"))
        .args(["--timeout", "200ms", "spin"])
        .assert()
        .code(1)
        .stderr(contains("`spin` failed: call timed out after 200ms").and(contains("server")));
    surli()
        .arg("call")
        .arg(fixture("hostile"))
        .args(["--max-memory", "16MiB", "alloc", "64"])
        .assert()
        .code(1)
        .stderr(contains("`alloc` failed: out of memory"));
}

#[test]
fn sql_and_run_say_no_database_is_attached() {
    for words in [
        vec!["sql", "SELECT 1"],
        vec!["run", "string::len", "null", "[]"],
    ] {
        surli()
            .arg("call")
            .arg(fixture("hostcalls"))
            .args(&words)
            .assert()
            .code(1)
            .stderr(contains("no database attached").and(contains("--db mem://")));
    }
}

#[test]
fn guest_output_goes_to_stderr_and_the_result_to_stdout() {
    surli()
        .arg("call")
        .arg(fixture("hostcalls"))
        .args(["print_lines", "2"])
        .assert()
        .success()
        .stdout("2\n")
        .stderr(contains("[hostcalls::print_lines stdout] line 2"));
}

#[test]
fn the_kv_file_keeps_state_between_calls() {
    let temp = tempfile::tempdir().unwrap();
    let kv = temp.path().join("kv.json");
    for expected in ["5\n", "12\n"] {
        let by = if expected == "5\n" { "5" } else { "7" };
        surli()
            .arg("call")
            .arg(fixture("demo"))
            .arg("--kv-file")
            .arg(&kv)
            .args(["counter::bump", by])
            .assert()
            .success()
            .stdout(expected);
    }
    let text = std::fs::read_to_string(&kv).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["entries"][0]["key"], "counter");
    assert_eq!(json["entries"][0]["note"], "12");

    std::fs::write(&kv, "{ broken").unwrap();
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .arg("--kv-file")
        .arg(&kv)
        .args(["counter::bump", "1"])
        .assert()
        .code(1)
        .stderr(contains("cannot read the KV file").and(contains("kv.json")));
}

#[test]
fn a_missing_function_name_is_explained() {
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .assert()
        .code(1)
        .stderr(contains("name the function to call"));
}

#[test]
fn a_module_that_fetches_over_http_prints_the_answer() {
    use std::io::{BufRead, BufReader, Write};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        // The head, then (wstd sends a GET's empty body chunked) the last
        // chunk: closing with unread bytes would reset the connection.
        let mut chunked = false;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
            chunked |= line
                .to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked");
            line.clear();
        }
        if chunked {
            while reader.read_line(&mut line).unwrap() > 0 && line != "0\r\n" {
                line.clear();
            }
            reader.read_line(&mut line).unwrap();
        }
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\nconnection: close\r\n\r\nhello from far",
            )
            .unwrap();
    });
    surli()
        .arg("call")
        .arg(fixture("http"))
        .args(["get", &format!("'http://{addr}/greeting'")])
        .assert()
        .success()
        .stdout("'hello from far'\n");
    server.join().unwrap();
}

#[test]
fn the_log_shows_refused_http_requests_only_when_asked() {
    let refused = "'http://127.0.0.2:9/x'";
    let call = || {
        let mut command = surli();
        command.env_remove("RUST_LOG");
        command
    };
    let logged = "guest HTTP request refused";

    // By default only the failure itself is shown.
    call()
        .arg("call")
        .arg(fixture("http"))
        .args(["get", refused])
        .assert()
        .code(1)
        .stderr(contains("DestinationIpProhibited").and(contains(logged).not()));
    // -vv shows the library's debug log, whatever the subcommand.
    call()
        .arg("-vv")
        .arg("call")
        .arg(fixture("http"))
        .args(["get", refused])
        .assert()
        .code(1)
        .stderr(contains(logged).and(contains("127.0.0.2:9")));
    // RUST_LOG chooses when no -v or -q is given...
    call()
        .env("RUST_LOG", "surli_host=debug")
        .arg("call")
        .arg(fixture("http"))
        .args(["get", refused])
        .assert()
        .code(1)
        .stderr(contains(logged));
    // ...and -q silences the log even then, but never the failure.
    call()
        .env("RUST_LOG", "debug")
        .args(["call", "-q"])
        .arg(fixture("http"))
        .args(["get", refused])
        .assert()
        .code(1)
        .stderr(
            contains(logged)
                .not()
                .and(contains("DestinationIpProhibited")),
        );
    // A RUST_LOG that does not parse is named and ignored.
    call()
        .env("RUST_LOG", "surli_host=loud")
        .arg("call")
        .arg(fixture("demo"))
        .args(["add", "1", "2"])
        .assert()
        .success()
        .stdout("3\n")
        .stderr(contains("RUST_LOG is ignored"));
}

#[test]
fn snapshot_init_starts_instances_as_init_left_them_or_says_why_not() {
    surli()
        .arg("call")
        .arg(fixture("hostcalls"))
        .args(["--snapshot-init", "init_value"])
        .assert()
        .success()
        .stdout("42\n");
    surli()
        .arg("call")
        .arg(fixture("initkv"))
        .args(["--snapshot-init", "initialised"])
        .assert()
        .failure()
        .stderr(contains(
            "`init` uses the KV store (it called `surrealism:plugin/host",
        ))
        .stderr(contains("load it without one"));
}
