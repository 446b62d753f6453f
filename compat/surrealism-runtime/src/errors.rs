//! surli's errors in the original's error type.
//!
//! The one rule that matters to an embedder: [`SurrealismError::is_trap`]
//! is true exactly when surli discarded the instance
//! ([`CallError::is_instance_fatal`]), because SurrealDB hands a controller
//! back to the pool whenever `is_trap` is false. Broken instances are
//! discarded by surli itself either way, so a wrong answer could only cost
//! a spare instance, never reuse a broken one.

use std::time::Duration;

use surli::{CallError, LoadError};
use surli_engine::wasmtime;
use surrealism_types::err::SurrealismError;

/// An error of this crate's own making, with 0.6.5's wording where it has
/// one.
pub(crate) fn other(message: impl std::fmt::Display) -> SurrealismError {
    SurrealismError::Other(anyhow::anyhow!("{message}"))
}

/// A wasmtime-flavoured error carrying surli's message: the variants that
/// make `is_trap` true.
fn trap(message: String) -> wasmtime::Error {
    wasmtime::Error::msg(message)
}

/// Why a module could not be loaded.
pub(crate) fn from_load(error: LoadError) -> SurrealismError {
    let message = error.to_string();
    match error {
        LoadError::Engine { .. } => SurrealismError::Compilation(trap(message)),
        LoadError::Instantiation { .. } => SurrealismError::Instantiation(trap(message)),
        LoadError::Config {
            error: surli::config::ConfigError::UnsupportedAbi { expected, found },
            ..
        } => SurrealismError::UnsupportedAbi {
            expected,
            got: found.unwrap_or(0),
        },
        _ => other(message),
    }
}

/// Why a call failed. `context_timeout` and `module_limit` are what the
/// caller and the module asked for, reported as 0.6.5 reports them.
pub(crate) fn from_call(
    error: CallError,
    context_timeout: Option<Duration>,
    module_limit: Option<Duration>,
) -> SurrealismError {
    let fatal = error.is_instance_fatal();
    match error {
        CallError::Guest { message } => SurrealismError::FunctionCallError(message),
        // 0.6.5's timeout always means a broken instance; one that passed
        // while the call waited for an instance (of the module, or room
        // under the runtime's budget) broke nothing, so it is
        // reported as a plain error (below).
        CallError::Timeout { limit, phase, .. }
            if !matches!(phase, surli::CallPhase::Queue | surli::CallPhase::Budget) =>
        {
            SurrealismError::Timeout {
                effective: Some(limit),
                context_timeout,
                module_limit,
            }
        }
        error @ (CallError::Instantiation { .. } | CallError::InitFailed { .. }) => {
            SurrealismError::Instantiation(trap(error.to_string()))
        }
        error if fatal => SurrealismError::Wasmtime(trap(error.to_string())),
        error => other(error),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn every_call_error() -> Vec<CallError> {
        vec![
            CallError::Guest {
                message: "no".to_owned(),
            },
            CallError::Timeout {
                limit: Duration::from_millis(5),
                source_limit: surli::TimeoutLimit::Module,
                watch: surli::TimeoutWatch::Epoch,
                phase: surli::CallPhase::Call,
            },
            CallError::Timeout {
                limit: Duration::from_millis(5),
                source_limit: surli::TimeoutLimit::Caller,
                watch: surli::TimeoutWatch::WallClock,
                phase: surli::CallPhase::Queue,
            },
            CallError::OutOfMemory {
                detail: "grow".to_owned(),
            },
            CallError::Trap {
                message: "unreachable".to_owned(),
            },
            CallError::Instantiation {
                module: "m".to_owned(),
                message: "no".to_owned(),
            },
            CallError::InitFailed {
                module: "m".to_owned(),
                message: "no".to_owned(),
                remembered: false,
            },
            CallError::ResultTooLarge { size: 2, limit: 1 },
            CallError::Reentrant {
                module: "m".to_owned(),
                pool_size: 1,
            },
            CallError::MissingExport {
                module: "m".to_owned(),
                export: "init",
            },
            CallError::TimeoutNotEnforceable {
                module: "m".to_owned(),
            },
            CallError::Timeout {
                limit: Duration::from_millis(5),
                source_limit: surli::TimeoutLimit::Caller,
                watch: surli::TimeoutWatch::WallClock,
                phase: surli::CallPhase::Budget,
            },
            CallError::BudgetExhausted {
                module: "m".to_owned(),
                resource: surli::BudgetResource::Instances,
                limit: 4,
            },
            CallError::BudgetExhausted {
                module: "m".to_owned(),
                resource: surli::BudgetResource::Memory,
                limit: 4,
            },
        ]
    }

    #[test]
    fn is_trap_is_true_exactly_where_surli_discarded_the_instance() {
        for error in every_call_error() {
            let fatal = error.is_instance_fatal();
            let kind = error.kind();
            let mapped = from_call(error, None, None);
            assert_eq!(mapped.is_trap(), fatal, "{kind}: {mapped}");
        }
    }

    #[test]
    fn a_guest_error_keeps_its_text_and_a_timeout_its_limits() {
        let mapped = from_call(
            CallError::Guest {
                message: "bad input".to_owned(),
            },
            None,
            None,
        );
        assert!(matches!(mapped, SurrealismError::FunctionCallError(ref m) if m == "bad input"));
        let mapped = from_call(
            CallError::Timeout {
                limit: Duration::from_millis(40),
                source_limit: surli::TimeoutLimit::Caller,
                watch: surli::TimeoutWatch::Epoch,
                phase: surli::CallPhase::Call,
            },
            Some(Duration::from_millis(40)),
            Some(Duration::from_secs(1)),
        );
        match mapped {
            SurrealismError::Timeout {
                effective,
                context_timeout,
                module_limit,
            } => {
                assert_eq!(effective, Some(Duration::from_millis(40)));
                assert_eq!(context_timeout, Some(Duration::from_millis(40)));
                assert_eq!(module_limit, Some(Duration::from_secs(1)));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
