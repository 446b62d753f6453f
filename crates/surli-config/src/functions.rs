//! `allow_functions`: which SurrealDB functions a module may call via `run`.
//!
//! The matching rules are the original runtime's, quirks included, because a
//! module must get exactly the rights it had there — no more, no fewer. A
//! function name is read as `family::rest`, split at its first `::`:
//!
//! | pattern | matches |
//! |---|---|
//! | `*` anywhere in the list | every function |
//! | `fam::*` | every function whose family (the part before the first `::`, or the whole name) is `fam` |
//! | `fam` | the same as `fam::*` |
//! | `fam::rest` | exactly the function whose family is `fam` and whose rest is `rest`; `rest` may itself contain `::` (`fn::a::b` matches `fn::a::b`), but `fam::name` never matches the deeper `fam::name::x` |
//!
//! So a wildcard below the family (`fn::a::*`) never matches anything; the
//! original accepts it silently, we report it through
//! [`FunctionTargets::never_matching`].

use serde::{Deserialize, Serialize};

/// The parsed `allow_functions` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FunctionTargets {
    /// An empty list: `run` is refused for every function.
    #[default]
    None,
    /// The list contains `"*"`: every function may be called.
    All,
    /// The listed patterns.
    Some(Vec<String>),
}

impl FunctionTargets {
    /// Whether the module may call `function` through `run`.
    pub fn allows(&self, function: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Some(patterns) => patterns
                .iter()
                .any(|pattern| pattern_matches(pattern, function)),
        }
    }

    /// Patterns that no function name can ever match, each with the reason,
    /// so a module author learns that a grant they wrote grants nothing.
    pub fn never_matching(&self) -> Vec<(String, String)> {
        let Self::Some(patterns) = self else {
            return Vec::new();
        };
        patterns
            .iter()
            .filter_map(|pattern| never_match_reason(pattern).map(|r| (pattern.clone(), r)))
            .collect()
    }
}

/// The family of a function name: everything before the first `::`.
fn family(function: &str) -> &str {
    function
        .split_once("::")
        .map_or(function, |(family, _)| family)
}

/// Whether one `allow_functions` pattern (`family`, `family::*` or
/// `family::name`) allows the fully qualified `function`, by the original's
/// rules: what [`FunctionTargets::allows`] applies to each pattern.
pub fn pattern_matches(pattern: &str, function: &str) -> bool {
    if let Some(wanted) = pattern.strip_suffix("::*") {
        return family(function) == wanted;
    }
    match pattern.split_once("::") {
        Some((wanted_family, wanted_rest)) => function
            .split_once("::")
            .is_some_and(|(fam, rest)| fam == wanted_family && rest == wanted_rest),
        None => family(function) == pattern,
    }
}

fn never_match_reason(pattern: &str) -> Option<String> {
    if pattern.is_empty() {
        return Some("it is empty".to_owned());
    }
    if let Some(wanted) = pattern.strip_suffix("::*") {
        if wanted.contains("::") {
            let top = family(wanted);
            return Some(format!(
                "a wildcard only works on the first segment; write `{top}::*` for the whole \
                 family or list each function in full"
            ));
        }
        if wanted.contains('*') {
            return Some("`*` is only a wildcard as a whole segment after the family".to_owned());
        }
        return None;
    }
    if pattern.contains('*') {
        return Some(
            "`*` is only a wildcard on its own or as a trailing `::*`; here it is matched as a \
             literal character"
                .to_owned(),
        );
    }
    if pattern.starts_with("::") || pattern.ends_with("::") || pattern.contains("::::") {
        return Some("it has an empty segment".to_owned());
    }
    None
}

impl Serialize for FunctionTargets {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::None => Vec::<String>::new().serialize(serializer),
            Self::All => ["*"].serialize(serializer),
            Self::Some(patterns) => patterns.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for FunctionTargets {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let patterns = Vec::<String>::deserialize(deserializer)?;
        Ok(if patterns.is_empty() {
            Self::None
        } else if patterns.iter().any(|p| p == "*") {
            Self::All
        } else {
            Self::Some(patterns)
        })
    }
}
