//! SurrealDB's own view of the Surrealism runtime it embeds.
//!
//! SurrealDB 3.3.5 runs Surrealism modules (`DEFINE MODULE`, `mod::NAME::f(...)`)
//! through `surrealism-runtime` 0.6.5. surli offers a drop-in replacement
//! crate of the same name and version, so that SurrealDB can be
//! `[patch.crates-io]`-ed onto surli. The cases here prove that swap from
//! the outside: each opens an embedded in-memory SurrealDB through its
//! public API, stores fixture packages in a memory bucket, defines modules
//! over them, runs SurrealQL and answers with a deterministic rendering of
//! what came back. The same source builds twice:
//!
//! - `compat/original`: stock SurrealDB with the original 0.6.5, to record
//!   what it answers (including where it hangs or panics);
//! - `compat/` (this crate as a workspace member): the same SurrealDB with
//!   `surrealism-runtime` patched onto surli.
//!
//! An answer is a [`harness::Answer`]: `Ok` with the result rendered as
//! SurrealQL text (several steps: one `LABEL: VALUE` line each, a failed step
//! as `LABEL: error: MESSAGE`), or `Err` with the query's error message on
//! one line. [`run_case`] runs a case in its own task under a timeout, so a
//! runtime that hangs or panics is reported as such ([`Outcome::Timeout`],
//! [`Outcome::Panic`]) instead of taking the harness down.
//!
//! Fixtures come from `$SURLI_FIXTURES`, or surli's `target/fixtures` (built
//! by `cargo xtask fixtures`). Nothing here sets process-wide environment
//! variables: cases run concurrently in tests.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub mod harness;

mod cases;

pub use harness::Answer;

/// How long a case may take before it counts as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(20);

/// What a case's body returns.
pub type CaseFuture = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// A named case.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case's name, as `surrealdb-cases` takes it on its command line.
    pub name: &'static str,
    /// What the case covers, in a line.
    pub about: &'static str,
    /// The case's body.
    pub run: fn() -> CaseFuture,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("about", &self.about)
            .finish_non_exhaustive()
    }
}

/// Every case, in the order `surrealdb-cases` runs them.
pub const CASES: &[Case] = &[
    Case {
        name: "kinds_scalars",
        about: "scalar value kinds round-trip through the kinds identity functions",
        run: || Box::pin(cases::kinds_scalars()),
    },
    Case {
        name: "kinds_compound",
        about: "compound value kinds (arrays, objects, records, options, ...) round-trip",
        run: || Box::pin(cases::kinds_compound()),
    },
    Case {
        name: "kinds_signatures",
        about: "no parameters, ten parameters, a renamed parameter, a nested name",
        run: || Box::pin(cases::kinds_signatures()),
    },
    Case {
        name: "default_export",
        about: "mod::demo(...) calls the default export",
        run: || Box::pin(cases::default_export()),
    },
    Case {
        name: "demo_calls",
        about: "plain calls of the demo module",
        run: || Box::pin(cases::demo_add()),
    },
    Case {
        name: "sdk065",
        about: "a guest built with SDK 0.6.5",
        run: || Box::pin(cases::sdk065()),
    },
    Case {
        name: "guest_error",
        about: "a guest's Err fails the query with its message; the module serves on",
        run: || Box::pin(cases::guest_error()),
    },
    Case {
        name: "wrong_arg_kind",
        about: "an argument of the wrong kind fails the call",
        run: || Box::pin(cases::wrong_arg_kind()),
    },
    Case {
        name: "wrong_arg_count",
        about: "too few or too many arguments fail the call",
        run: || Box::pin(cases::wrong_arg_count()),
    },
    Case {
        name: "unknown_export",
        about: "a function the module does not export",
        run: || Box::pin(cases::unknown_export()),
    },
    Case {
        name: "trap_then_call",
        about: "a guest panic is a query error and the module serves afterwards",
        run: || Box::pin(cases::trap_then_call()),
    },
    Case {
        name: "stack_overflow",
        about: "a stack overflow is a query error and the module serves afterwards",
        run: || Box::pin(cases::stack_overflow()),
    },
    Case {
        name: "time_limit",
        about: "an endless loop stops at max_execution_time; the module serves afterwards",
        run: || Box::pin(cases::time_limit()),
    },
    Case {
        name: "memory_limit",
        about: "an allocation past max_memory_bytes fails; the module serves afterwards",
        run: || Box::pin(cases::memory_limit()),
    },
    Case {
        name: "kv_counter",
        about: "the module KV keeps state between calls (counter::bump twice)",
        run: || Box::pin(cases::kv_counter()),
    },
    Case {
        name: "kv_host_functions",
        about: "every KV host function through hostcalls",
        run: || Box::pin(cases::kv_host_functions()),
    },
    Case {
        name: "attached_fs",
        about: "the attached fs/ directory is readable at / and read-only",
        run: || Box::pin(cases::attached_fs()),
    },
    Case {
        name: "init_and_stdio",
        about: "init has run before a call; stdout and stderr leave the answer alone",
        run: || Box::pin(cases::init_and_stdio()),
    },
    Case {
        name: "bad_init",
        about: "a module whose init fails cannot serve a call",
        run: || Box::pin(cases::bad_init()),
    },
    Case {
        name: "sql_cancelled",
        about: "a guest's sql inside a cancelled transaction leaves nothing",
        run: || Box::pin(cases::sql_cancelled()),
    },
    Case {
        name: "sql_committed",
        about: "a guest's sql sees the caller's transaction and commits with it",
        run: || Box::pin(cases::sql_committed()),
    },
    Case {
        name: "sql_with_vars",
        about: "sql with variables, and errors inside sql",
        run: || Box::pin(cases::sql_with_vars()),
    },
    Case {
        name: "run_functions",
        about: "run of allowed builtins and database functions, and of a denied one",
        run: || Box::pin(cases::run_functions()),
    },
    Case {
        name: "library",
        about: "a module that creates and queries records of the caller's database",
        run: || Box::pin(cases::library()),
    },
    Case {
        name: "per_row",
        about: "one call per row of a SELECT, a map and an UPDATE",
        run: || Box::pin(cases::per_row()),
    },
    Case {
        name: "concurrent",
        about: "32 tasks calling add at once on one database",
        run: || Box::pin(cases::concurrent()),
    },
    Case {
        name: "info_for_db",
        about: "INFO FOR DB lists the module and its exports",
        run: || Box::pin(cases::info_for_db()),
    },
    Case {
        name: "overwrite_module",
        about: "DEFINE MODULE OVERWRITE onto another package: calls reach the new code",
        run: || Box::pin(cases::overwrite_module()),
    },
    Case {
        name: "overwrite_same_file",
        about: "new bytes under the same file, module redefined: calls reach the new code",
        run: || Box::pin(cases::overwrite_same_file()),
    },
    Case {
        name: "remove_module",
        about: "REMOVE MODULE, then a call fails",
        run: || Box::pin(cases::remove_module()),
    },
    Case {
        name: "reentry_pool_1",
        about: "a module's run calls the module itself with a pool of one instance",
        run: || Box::pin(cases::reentry_pool_1()),
    },
    Case {
        name: "reentry_default_pool",
        about: "a module's run calls the module itself with the default pool",
        run: || Box::pin(cases::reentry_default_pool()),
    },
    Case {
        name: "kv_inverted_keys",
        about: "kv::keys over a range whose start is after its end",
        run: || Box::pin(cases::kv_inverted_keys()),
    },
    Case {
        name: "kv_inverted_values",
        about: "kv::values over a range whose start is after its end",
        run: || Box::pin(cases::kv_inverted_values()),
    },
    Case {
        name: "kv_inverted_entries",
        about: "kv::entries over a range whose start is after its end",
        run: || Box::pin(cases::kv_inverted_entries()),
    },
    Case {
        name: "kv_inverted_count",
        about: "kv::count over a range whose start is after its end",
        run: || Box::pin(cases::kv_inverted_count()),
    },
    Case {
        name: "kv_inverted_del_rng",
        about: "kv::del_rng over a range whose start is after its end",
        run: || Box::pin(cases::kv_inverted_del_rng()),
    },
    Case {
        name: "kv_empty_excluded_range",
        about: "kv::keys and kv::count over ('b', 'b') with both ends excluded",
        run: || Box::pin(cases::kv_empty_excluded_range()),
    },
];

/// The case named `name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|case| case.name == name)
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The case ran and answered; the rendered answer.
    Ok(String),
    /// The case ran and its query failed (or it could not be set up); the
    /// message.
    Error(String),
    /// The case did not finish within its time.
    Timeout(Duration),
    /// The case panicked; the panic's message.
    Panic(String),
}

impl Outcome {
    /// `ok`, `error`, `timeout` or `panic`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Ok(_) => "ok",
            Outcome::Error(_) => "error",
            Outcome::Timeout(_) => "timeout",
            Outcome::Panic(_) => "panic",
        }
    }

    /// The answer, the error's message, the time waited or the panic's
    /// message.
    pub fn answer(&self) -> String {
        match self {
            Outcome::Ok(answer) | Outcome::Error(answer) | Outcome::Panic(answer) => answer.clone(),
            Outcome::Timeout(waited) => format!("no answer within {} s", waited.as_secs()),
        }
    }

    /// The answer as a case's [`Answer`], if the case finished.
    pub fn into_answer(self) -> Option<Answer> {
        match self {
            Outcome::Ok(answer) => Some(Ok(answer)),
            Outcome::Error(error) => Some(Err(error)),
            Outcome::Timeout(_) | Outcome::Panic(_) => None,
        }
    }
}

/// Runs the case named `name` under [`CASE_TIMEOUT`]. An unknown name is an
/// [`Outcome::Error`] saying so.
pub async fn run_case(name: &str) -> Outcome {
    run_case_within(name, CASE_TIMEOUT).await
}

/// Runs the case named `name` in a task of its own, so a panic is caught,
/// and gives up on it (aborting the task) after `limit`.
pub async fn run_case_within(name: &str, limit: Duration) -> Outcome {
    let Some(case) = case(name) else {
        return Outcome::Error(format!("no case is named {name}"));
    };
    let mut task = tokio::spawn((case.run)());
    match tokio::time::timeout(limit, &mut task).await {
        Ok(Ok(Ok(answer))) => Outcome::Ok(answer),
        Ok(Ok(Err(error))) => Outcome::Error(error),
        Ok(Err(failure)) if failure.is_panic() => {
            Outcome::Panic(panic_message(failure.into_panic()))
        }
        Ok(Err(failure)) => Outcome::Error(format!("the case's task failed: {failure}")),
        Err(_) => {
            task.abort();
            Outcome::Timeout(limit)
        }
    }
}

/// The message a panic was raised with, on one line.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    };
    harness::one_line(&text)
}
