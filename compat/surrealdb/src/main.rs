//! `surrealdb-cases`: runs the SurrealDB cases of `surli_compat_surrealdb`
//! (all of them, or those named on the command line) one after another and
//! prints one JSON line per case:
//!
//! ```text
//! {"case":"demo_calls","outcome":"ok","answer":"add: 3\n...","ms":412}
//! ```
//!
//! `outcome` is `ok`, `error`, `timeout` or `panic`. `--list` prints the
//! cases' names and what each covers. The exit status is 0 whatever the
//! outcomes (this reports; the tests assert), 2 for an unknown case name.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use surli_compat_surrealdb::{CASES, case, run_case};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = std::io::stdout().lock();

    if args.iter().any(|arg| arg == "--list") {
        for case in CASES {
            if writeln!(out, "{:<24} {}", case.name, case.about).is_err() {
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }

    let unknown: Vec<&String> = args.iter().filter(|name| case(name).is_none()).collect();
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.iter().map(|name| name.as_str()).collect();
        let _ = writeln!(
            std::io::stderr(),
            "surrealdb-cases: no such case: {} (--list shows them)",
            names.join(", ")
        );
        return ExitCode::from(2);
    }

    let names: Vec<&str> = if args.is_empty() {
        CASES.iter().map(|case| case.name).collect()
    } else {
        args.iter().map(String::as_str).collect()
    };

    for name in names {
        let started = Instant::now();
        let outcome = run_case(name).await;
        let line = serde_json::json!({
            "case": name,
            "outcome": outcome.label(),
            "answer": outcome.answer(),
            "ms": started.elapsed().as_millis(),
        });
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
