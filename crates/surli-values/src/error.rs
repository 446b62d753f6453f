//! The two errors of this crate. Each carries its cause as text in its
//! message; none is chained through `source()`.

use std::fmt;

/// A value that does not fit the kind declared for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// The value given is not a value of the expected kind.
    ///
    /// Prints as `expected datetime, got "yesterday" (not an RFC 3339 …)`,
    /// prefixed by `at [2].name: ` when the failure is inside the value.
    #[error("{}expected {expected}, got {given}{}", At(.path), Why(.reason))]
    Mismatch {
        /// Where in the value the failure is, such as `[2]` or `[0].name`;
        /// empty when it is the value itself.
        path: String,
        /// The kind expected there, in SurrealQL form (`datetime`,
        /// `option<int>`, `record<person>`).
        expected: String,
        /// What was given there, shortened to about 60 characters: JSON text,
        /// or a bare command-line word in backticks.
        given: String,
        /// Why it does not fit, when the two above do not say it all.
        reason: Option<String>,
    },
    /// The kind has no form that can be given from outside: `range`,
    /// `function` and `file`.
    #[error("{}values of kind {kind} cannot be given as arguments here", At(.path))]
    Unsupported {
        /// Where in the value the kind was met; empty at the top.
        path: String,
        /// The kind, in SurrealQL form.
        kind: String,
    },
}

/// An argument list that does not fit the parameters of a function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// Too many arguments, or fewer than the parameters that cannot be left
    /// out.
    ///
    /// Prints as `too many arguments: expected at most 2 (a: int, b: string), got 3`
    /// or `missing arguments: expected at least 1 (a: int, b: option<int>), got 0`.
    #[error("{}", ArityText(*.expected, *.given, .params))]
    Arity {
        /// The bound that was not met: the number of parameters when too many
        /// arguments were given, the number that cannot be left out when too
        /// few were.
        expected: usize,
        /// The number of arguments given.
        given: usize,
        /// The parameters, as `a: int, b: string`.
        params: String,
    },
    /// One argument does not fit its parameter.
    ///
    /// Prints as ``argument 2 `b`: expected int, got "x" (a string)``.
    #[error("argument {position} `{name}`: {error}")]
    Argument {
        /// The position of the argument, counted from 1.
        position: usize,
        /// The name of the parameter.
        name: String,
        /// What is wrong with it (boxed: it is the larger part of the error).
        error: Box<ValueError>,
    },
}

/// The `at …: ` prefix of a message, or nothing at the top of a value.
struct At<'a>(&'a str);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "at {}: ", self.0)
        }
    }
}

/// The ` (reason)` suffix of a message, or nothing.
struct Why<'a>(&'a Option<String>);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(reason) => write!(f, " ({reason})"),
            None => Ok(()),
        }
    }
}

/// The message of [`ArgsError::Arity`].
/// Holds the expected count, the given count and the parameter list.
struct ArityText<'a>(usize, usize, &'a str);

impl fmt::Display for ArityText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ArityText(expected, given, params) = *self;
        let (what, bound) = if given > expected {
            ("too many arguments", "at most")
        } else {
            ("missing arguments", "at least")
        };
        let params = if params.is_empty() {
            "no parameters"
        } else {
            params
        };
        write!(
            f,
            "{what}: expected {bound} {expected} ({params}), got {given}"
        )
    }
}
