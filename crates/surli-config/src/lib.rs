//! The `surrealism.toml` model of a Surrealism plugin, its capability
//! patterns, and the merge of a module's limits with the server's.
//!
//! A plugin package carries a `surrealism.toml` that names the module
//! (`[package]`), the ABI it was built for, the capabilities it asks for
//! (`[capabilities]`) and an optional directory to attach read-only
//! (`[attach]`). This crate reads that file exactly as the original
//! `surrealism-runtime` does — same keys, types, defaults and legacy `abi`
//! strings — with three differences an operator will thank us for:
//!
//! - a key of the wrong type is an error that names the key and its line;
//! - an unknown key (say a typo'd `allow_netz`, which the original silently
//!   ignores, denying the capability) comes back as a [`ConfigWarning`] with
//!   its line, and [`ParseOptions::strict`] turns those into an error;
//! - an `allow_functions` pattern that can never match (`fn::a::*`) is
//!   reported instead of silently granting nothing.
//!
//! Limits are one struct on each side: the server's [`ServerLimits`] and the
//! module's [`Capabilities`]; [`EffectiveLimits::merge`] takes the smaller
//! of each pair, so a module can narrow what the server allows but never
//! widen it.
//!
//! ```
//! use surli_config::{ModuleConfig, ParseOptions, ServerLimits, EffectiveLimits};
//!
//! let text = r#"
//! abi = 2
//! [package]
//! organisation = "acme"
//! name = "greeter"
//! version = "1.0.0"
//! [capabilities]
//! allow_functions = ["string::*"]
//! max_execution_time = 500
//! "#;
//! let parsed = ModuleConfig::parse(text, ParseOptions::default()).unwrap();
//! parsed.config.check_abi().unwrap();
//! assert!(parsed.config.capabilities.allow_functions.allows("string::len"));
//!
//! let merged = EffectiveLimits::merge(&ServerLimits::default(), &parsed.config.capabilities);
//! assert_eq!(merged.limits.max_execution_time.unwrap().value.as_millis(), 500);
//! ```
#![deny(missing_docs)]

mod error;
mod functions;
mod limits;
mod model;
mod parse;

pub use error::{ConfigError, ConfigWarning, UnknownKey};
pub use functions::{FunctionTargets, pattern_matches};
pub use limits::{EffectiveLimits, Limit, LimitSource, MergedLimits, ServerLimits};
pub use model::{AbiVersion, Attach, Capabilities, ModuleConfig, PackageMeta, Target, millis};
pub use parse::{ParseOptions, ParsedConfig};
