//! `--db` and `--kv`: a real SurrealDB behind `sql`, `run` and the KV
//! store, from the command line.

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{fixture, surli};

fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output).unwrap()
}

#[test]
fn the_library_returns_the_rows_it_created_in_an_in_memory_database() {
    let output = surli()
        .arg("call")
        .arg(fixture("library"))
        .args([
            "shelve",
            r#"["Dune", "Emma", "Dracula"]"#,
            "--db",
            "mem://",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        json(&output),
        serde_json::json!([
            {"shelf": "D", "title": "Dracula"},
            {"shelf": "D", "title": "Dune"},
            {"shelf": "E", "title": "Emma"},
        ])
    );
    // A builtin through `run`.
    surli()
        .arg("call")
        .arg(fixture("library"))
        .args(["shout", "emma", "--db", "mem://"])
        .assert()
        .success()
        .stdout("'EMMA'\n");
}

#[test]
fn a_file_database_keeps_records_and_kv_between_commands() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("surrealkv://{}", dir.path().join("db").display());
    let library = |words: &[&str]| {
        let mut command = surli();
        command
            .arg("call")
            .arg(fixture("library"))
            .args(words)
            .args([
                "--db",
                &url,
                "--kv",
                &url,
                "--ns",
                "books",
                "--db-name",
                "shelf",
            ]);
        command
    };
    library(&["shelve", r#"["Dune"]"#]).assert().success();
    library(&["shelve", r#"["Emma"]"#]).assert().success();
    library(&["shelf", "D"])
        .assert()
        .success()
        .stdout(contains("Dune").and(contains("Emma").not()));
    // `count` is not among the functions the module was granted: refused,
    // in SurrealDB's words, as SurrealDB's own host refuses it.
    library(&["count"])
        .assert()
        .code(1)
        .stderr(contains("Function 'count' is not allowed to be executed"));
    // Another namespace is another database, where the library has shelved
    // nothing yet; the database's own error reaches the user.
    surli()
        .arg("call")
        .arg(fixture("library"))
        .args(["shelf", "D", "--db", &url, "--ns", "other"])
        .assert()
        .code(1)
        .stderr(contains("host sql").and(contains("'book' does not exist")));
}

#[test]
fn the_module_kv_survives_between_processes_with_surrealkv() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("surrealkv://{}", dir.path().join("kv").display());
    for (by, total) in [("2", "2\n"), ("3", "5\n"), ("-1", "4\n")] {
        surli()
            .arg("call")
            .arg(fixture("demo"))
            .args(["counter::bump", by, "--kv", &url])
            .assert()
            .success()
            .stdout(total);
    }
}

#[test]
fn an_address_this_build_cannot_open_is_a_clear_error() {
    surli()
        .arg("call")
        .arg(fixture("library"))
        .args(["count", "--db", "ws://127.0.0.1:9"])
        .assert()
        .code(1)
        .stderr(
            contains("cannot attach --db")
                .and(contains("ws://127.0.0.1:9"))
                .and(contains("mem://")),
        );
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .args(["add", "1", "2", "--kv", "bogus://x"])
        .assert()
        .code(1)
        .stderr(contains("cannot open --kv"));
}

#[test]
fn kv_in_a_database_and_in_a_file_cannot_be_combined() {
    surli()
        .arg("call")
        .arg(fixture("demo"))
        .args(["add", "1", "2", "--kv", "mem://", "--kv-file", "kv.json"])
        .assert()
        .code(2)
        .stderr(contains("cannot be used with"));
}
