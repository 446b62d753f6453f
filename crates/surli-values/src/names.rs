//! How kinds and given values are named in messages.

use std::io;

use serde_json::Value as Json;
use surrealdb_types::{Kind, ToSql};

/// How many characters of a given value a message shows.
const SHOWN_CHARS: usize = 60;

/// Names a kind the way SurrealQL declares it: `int`, `array<string, 3>`,
/// `record<person | user>`, and `option<int>` for a kind that admits NONE.
///
/// This is the SurrealQL form of the kind (`surrealdb_types::ToSql`) except
/// for one thing: `surrealdb-types` keeps `option<T>` as the either-kind
/// `none | T` and prints it so; here it is printed `option<T>` again, at any
/// depth (`array<option<int>>`).
pub fn kind_name(kind: &Kind) -> String {
    let mut out = String::new();
    write_kind(&mut out, kind);
    out
}

fn write_kind(out: &mut String, kind: &Kind) {
    match kind {
        Kind::Either(kinds) => {
            let rest: Vec<&Kind> = kinds.iter().filter(|k| **k != Kind::None).collect();
            if !rest.is_empty() && rest.len() < kinds.len() {
                out.push_str("option<");
                write_alternatives(out, rest);
                out.push('>');
            } else {
                write_alternatives(out, kinds.iter().collect());
            }
        }
        Kind::Array(inner, max) => write_collection(out, "array", inner, *max),
        Kind::Set(inner, max) => write_collection(out, "set", inner, *max),
        other => out.push_str(&other.to_sql()),
    }
}

fn write_alternatives(out: &mut String, kinds: Vec<&Kind>) {
    for (i, kind) in kinds.into_iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        write_kind(out, kind);
    }
}

fn write_collection(out: &mut String, name: &str, inner: &Kind, max: Option<u64>) {
    out.push_str(name);
    out.push('<');
    write_kind(out, inner);
    if let Some(max) = max {
        out.push_str(", ");
        out.push_str(&max.to_string());
    }
    out.push('>');
}

/// A parameter list as `a: int, b: option<string>`.
pub(crate) fn param_list(params: &[(String, Kind)]) -> String {
    params
        .iter()
        .map(|(name, kind)| format!("{name}: {}", kind_name(kind)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A given JSON value as compact JSON text, shortened for a message.
///
/// Only the start of a large value is written out: the writing stops once
/// there is more than a message shows.
pub(crate) fn show_json(json: &Json) -> String {
    let mut start = Start(Vec::new());
    // The writer refuses more than it keeps, which ends the writing early
    // with an error; what was kept is all that is wanted.
    let _ = serde_json::to_writer(&mut start, json);
    shorten(&String::from_utf8_lossy(&start.0))
}

/// A writer that keeps the first bytes written and then refuses more.
struct Start(Vec<u8>);

impl Start {
    /// Enough bytes for [`SHOWN_CHARS`] characters of up to four bytes each,
    /// and one more character to tell that there was more.
    const LIMIT: usize = (SHOWN_CHARS + 1) * 4;
}

impl io::Write for Start {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = Start::LIMIT.saturating_sub(self.0.len());
        if room == 0 {
            return Err(io::Error::other("enough"));
        }
        let taken = buf.len().min(room);
        self.0.extend_from_slice(&buf[..taken]);
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A bare command-line word, in backticks and shortened for a message.
pub(crate) fn show_word(word: &str) -> String {
    format!("`{}`", shorten(word))
}

/// Keeps the first [`SHOWN_CHARS`] characters of `text`, marking a cut with `…`.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// What sort of JSON value was given, for a message about a wrong type.
pub(crate) fn json_sort(json: &Json) -> Option<&'static str> {
    match json {
        Json::Null => None,
        Json::Bool(_) => Some("a boolean"),
        Json::Number(_) => Some("a number"),
        Json::String(_) => Some("a string"),
        Json::Array(_) => Some("an array"),
        Json::Object(_) => Some("an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_are_cut_short() {
        let large = Json::Array((0..100_000).map(Json::from).collect());
        let shown = show_json(&large);
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
        assert!(shown.starts_with("[0,1,2,3,"));
        assert!(shown.ends_with('…'));
        let wide = Json::String("é".repeat(500));
        assert_eq!(
            show_json(&wide),
            format!("\"{}…", "é".repeat(SHOWN_CHARS - 1))
        );
        assert_eq!(show_json(&Json::from(12)), "12");
    }
}
