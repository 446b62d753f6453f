//! Reading `surrealism.toml` with positions: wrong types name their key and
//! line, unknown keys become warnings (or errors in strict mode).
//!
//! The text is parsed twice, which costs nothing at these sizes: once into
//! the typed model through `serde_ignored` (which reports every key the model
//! did not consume), and once into toml's spanned document tree, which maps a
//! serde error's byte span or an ignored key's path back to a key and a line.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{ConfigError, ConfigWarning, UnknownKey};
use crate::model::ModuleConfig;

/// How strictly to read a `surrealism.toml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Refuse keys the format does not define instead of warning about them.
    ///
    /// Off by default, because the original runtime ignores unknown keys and
    /// every package it accepts must load here too. Turn it on in CI and in
    /// `surli build`, where a typo is cheap to fix.
    pub strict: bool,
}

impl ParseOptions {
    /// Options that refuse unknown keys.
    pub fn strict() -> Self {
        Self { strict: true }
    }
}

/// A parsed configuration and what looked wrong in it.
#[derive(Debug, Clone)]
pub struct ParsedConfig {
    /// The model.
    pub config: ModuleConfig,
    /// Unknown keys and patterns that can never match, in document order.
    pub warnings: Vec<ConfigWarning>,
}

impl ModuleConfig {
    /// Parses a `surrealism.toml`.
    ///
    /// This does not check the ABI (see [`ModuleConfig::check_abi`]): tools
    /// such as `surli info` want to show a package built for another ABI.
    pub fn parse(text: &str, options: ParseOptions) -> Result<ParsedConfig, ConfigError> {
        let document = DeTable::parse(text).map_err(|e| syntax_error(text, &e))?;
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|e| syntax_error(text, &e))?;

        let mut ignored: Vec<Vec<String>> = Vec::new();
        let config: ModuleConfig = serde_ignored::deserialize(deserializer, |path| {
            ignored.push(path_segments(&path));
        })
        .map_err(|e| value_error(text, document.get_ref(), &e))?;

        let mut unknown: Vec<UnknownKey> = ignored
            .into_iter()
            .map(|segments| UnknownKey {
                line: key_span(document.get_ref(), &segments)
                    .map_or(1, |span| line_of(text, span.start)),
                key: segments.join("."),
            })
            .collect();
        unknown.sort_by_key(|key| key.line);
        if options.strict && !unknown.is_empty() {
            return Err(ConfigError::UnknownKeys { keys: unknown });
        }

        let mut warnings: Vec<ConfigWarning> =
            unknown.into_iter().map(ConfigWarning::UnknownKey).collect();
        warnings.extend(
            config
                .capabilities
                .allow_functions
                .never_matching()
                .into_iter()
                .map(|(pattern, reason)| ConfigWarning::PatternNeverMatches { pattern, reason }),
        );
        Ok(ParsedConfig { config, warnings })
    }
}

fn path_segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    match path {
        serde_ignored::Path::Root => Vec::new(),
        serde_ignored::Path::Seq { parent, index } => {
            let mut segments = path_segments(parent);
            segments.push(index.to_string());
            segments
        }
        serde_ignored::Path::Map { parent, key } => {
            let mut segments = path_segments(parent);
            segments.push(key.clone());
            segments
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => path_segments(parent),
    }
}

/// The span of the key at `segments` (table names and array indices).
fn key_span(table: &DeTable<'_>, segments: &[String]) -> Option<Range<usize>> {
    let (first, rest) = segments.split_first()?;
    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == first)?;
    if rest.is_empty() {
        return Some(key.span());
    }
    value_key_span(value, rest).or(Some(key.span()))
}

fn value_key_span(value: &Spanned<DeValue<'_>>, segments: &[String]) -> Option<Range<usize>> {
    match value.get_ref() {
        DeValue::Table(table) => key_span(table, segments),
        DeValue::Array(items) => {
            let (first, rest) = segments.split_first()?;
            let item = items.get(first.parse::<usize>().ok()?)?;
            if rest.is_empty() {
                Some(item.span())
            } else {
                value_key_span(item, rest)
            }
        }
        _ => None,
    }
}

/// The dotted path and key span of the innermost key whose key or value
/// holds the byte span `at`. Tables are searched whole, because a
/// `[header]` table's own span covers only its header line.
fn key_at(table: &DeTable<'_>, at: &Range<usize>) -> Option<(Vec<String>, Range<usize>)> {
    if at.is_empty() {
        // serde reports errors about the whole document with an empty span.
        return None;
    }
    let holds = |span: Range<usize>| span.start <= at.start && at.end <= span.end;
    for (key, value) in table.iter() {
        if let DeValue::Table(inner) = value.get_ref()
            && let Some((deeper, span)) = key_at(inner, at)
        {
            let mut path = vec![key.get_ref().to_string()];
            path.extend(deeper);
            return Some((path, span));
        }
        if holds(value.span()) || holds(key.span()) {
            return Some((vec![key.get_ref().to_string()], key.span()));
        }
    }
    None
}

fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let start = error.span().map_or(0, |span| span.start);
    ConfigError::Syntax {
        line: line_of(text, start),
        column: column_of(text, start),
        message: error.message().trim().to_owned(),
    }
}

fn value_error(text: &str, document: &DeTable<'_>, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().to_owned();
    let located = error.span().and_then(|span| key_at(document, &span));
    let (mut path, line) = match located {
        Some((path, span)) => (path, line_of(text, span.start)),
        None => (
            Vec::new(),
            error.span().map_or(1, |s| line_of(text, s.start)),
        ),
    };
    // serde reports a missing key against its table; name the key itself.
    if let Some(missing) = missing_field(&message) {
        path.push(missing.to_owned());
    }
    let key = if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.join(".")
    };
    ConfigError::InvalidValue { key, line, message }
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn column_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    let line_start = text.as_bytes()[..end]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    text.get(line_start..end)
        .map_or(1, |s| s.chars().count() + 1)
}
