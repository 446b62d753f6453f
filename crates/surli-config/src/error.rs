//! Errors and warnings from reading a `surrealism.toml`.

use std::fmt;

/// Why a `surrealism.toml` could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not valid TOML.
    #[error("surrealism.toml line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the TOML parser found.
        message: String,
    },
    /// A key holds a value of the wrong type or out of range, or a required
    /// key is missing.
    #[error("surrealism.toml line {line}: key `{key}`: {message}")]
    InvalidValue {
        /// Dotted path of the key, e.g. `capabilities.max_pool_size`; the
        /// enclosing table for a missing key.
        key: String,
        /// 1-based line where the key (or table) is written.
        line: usize,
        /// What is wrong, in the parser's words.
        message: String,
    },
    /// Strict parsing found keys that the format does not define.
    #[error("{}", unknown_keys_message(keys))]
    UnknownKeys {
        /// Every unknown key, in document order.
        keys: Vec<UnknownKey>,
    },
    /// The module was built for an ABI this runtime does not run.
    #[error("{}", abi_message(*expected, *found))]
    UnsupportedAbi {
        /// The ABI this runtime implements.
        expected: u32,
        /// The ABI in `surrealism.toml`; `None` when the key is missing
        /// (which the original runtime reads as 0).
        found: Option<u32>,
    },
    /// The model could not be written back as TOML.
    #[error("cannot write surrealism.toml: {0}")]
    Serialize(toml::ser::Error),
}

// By hand rather than `#[from]`, which would also make the TOML error this
// error's `source()` and have chain-printing reporters show it twice.
impl From<toml::ser::Error> for ConfigError {
    fn from(error: toml::ser::Error) -> Self {
        Self::Serialize(error)
    }
}

/// A key found in `surrealism.toml` that the format does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// Dotted path of the key, e.g. `capabilities.allow_netz`.
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
}

impl fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown key `{}` at line {}", self.key, self.line)
    }
}

/// Something in a configuration that loads but is probably not what its
/// author meant. The runtime logs these and `surli check` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A key the format does not define; the original runtime ignores it
    /// silently, so a typo'd capability is quietly denied.
    UnknownKey(UnknownKey),
    /// An `allow_functions` pattern that no function name can match.
    PatternNeverMatches {
        /// The pattern as written.
        pattern: String,
        /// Why it cannot match and what to write instead.
        reason: String,
    },
    /// The module asked for `max_pool_size = 0`; it runs with one instance.
    ZeroPoolSize,
    /// The module set `strict_timeout = false` but the server does not allow
    /// modules to opt out of timeouts, so timeouts stay enforced.
    RelaxedTimeoutRefused,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey(key) => write!(f, "{key}; it is ignored (check its spelling)"),
            Self::PatternNeverMatches { pattern, reason } => {
                write!(
                    f,
                    "allow_functions pattern `{pattern}` can never match: {reason}"
                )
            }
            Self::ZeroPoolSize => f.write_str(
                "max_pool_size = 0 is read as 1: the module still needs one instance to run",
            ),
            Self::RelaxedTimeoutRefused => f.write_str(
                "strict_timeout = false is ignored: the server does not let modules turn \
                 timeouts off, so the module runs with timeouts enforced",
            ),
        }
    }
}

fn unknown_keys_message(keys: &[UnknownKey]) -> String {
    let list: Vec<String> = keys.iter().map(ToString::to_string).collect();
    format!(
        "surrealism.toml has keys the format does not define: {} (strict mode refuses them; \
         fix the spelling or remove them)",
        list.join(", ")
    )
}

fn abi_message(expected: u32, found: Option<u32>) -> String {
    match found {
        None => format!(
            "surrealism.toml has no `abi` key, which the original runtime reads as ABI 0, but \
             this runtime runs ABI {expected}; add `abi = {expected}` at the top of \
             surrealism.toml if the module is built with the surrealism SDK 0.3.x to 0.6.x, or \
             rebuild it with `surli build`, which stamps it"
        ),
        Some(found) => format!(
            "surrealism.toml declares abi = {found}, but this runtime runs ABI {expected}; \
             rebuild the module with a surrealism SDK from 0.3.1 to 0.6.x and `surli build`, \
             which stamps abi = {expected}"
        ),
    }
}
