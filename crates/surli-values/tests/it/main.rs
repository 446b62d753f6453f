#![allow(clippy::unwrap_used, clippy::expect_used)]

mod args;
mod kinds;
mod output;
mod robust;
mod roundtrip;
mod words;

use serde_json::Value as Json;
use surli_values::{to_surrealql, value_from_arg, value_from_json};
use surrealdb_types::{Kind, KindLiteral, Number, Table, Value};

/// JSON from its text.
fn json(text: &str) -> Json {
    serde_json::from_str(text).expect("test JSON")
}

/// Reads JSON text against a kind, which must accept it.
fn accepted(text: &str, kind: &Kind) -> Value {
    match value_from_json(&json(text), kind) {
        Ok(value) => value,
        Err(error) => panic!("{kind:?} refused {text}: {error}"),
    }
}

/// Reads JSON text against a kind, which must refuse it; the message.
fn refused(text: &str, kind: &Kind) -> String {
    match value_from_json(&json(text), kind) {
        Ok(value) => panic!("{kind:?} accepted {text} as {value:?}"),
        Err(error) => error.to_string(),
    }
}

/// Reads a command-line word against a kind, which must accept it.
fn word(text: &str, kind: &Kind) -> Value {
    match value_from_arg(text, kind) {
        Ok(value) => value,
        Err(error) => panic!("{kind:?} refused the word {text}: {error}"),
    }
}

/// Reads a command-line word against a kind, which must refuse it; the message.
fn word_refused(text: &str, kind: &Kind) -> String {
    match value_from_arg(text, kind) {
        Ok(value) => panic!("{kind:?} accepted the word {text} as {value:?}"),
        Err(error) => error.to_string(),
    }
}

/// Equal as values and in SurrealQL too, so `1` and `1f` and `1dec`
/// (which `Value`'s `==` treats as equal) are told apart.
#[track_caller]
fn assert_same(got: &Value, want: &Value) {
    assert_eq!(got, want);
    assert_eq!(to_surrealql(got), to_surrealql(want));
}

fn int(i: i64) -> Value {
    Value::Number(Number::Int(i))
}

fn float(f: f64) -> Value {
    Value::Number(Number::Float(f))
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn tables(names: &[&str]) -> Vec<Table> {
    names.iter().map(|name| Table::new(*name)).collect()
}

fn array_of(kind: Kind, max: Option<u64>) -> Kind {
    Kind::Array(Box::new(kind), max)
}

fn set_of(kind: Kind, max: Option<u64>) -> Kind {
    Kind::Set(Box::new(kind), max)
}

fn literal_string(s: &str) -> Kind {
    Kind::Literal(KindLiteral::String(s.to_owned()))
}
