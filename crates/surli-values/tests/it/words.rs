//! Command-line words: JSON when they parse as JSON, else bare text.

use std::str::FromStr;

use surrealdb_types::{Bytes, Datetime, Decimal, Duration, Kind, Number, RecordId, Value};

use crate::{array_of, assert_same, float, int, literal_string, string, word, word_refused};

#[test]
fn json_words_are_json() {
    assert_same(&word("1", &Kind::Int), &int(1));
    assert_same(&word(" 1 ", &Kind::Int), &int(1));
    assert_same(&word("\"text\"", &Kind::String), &string("text"));
    assert_same(
        &word("[1,2]", &array_of(Kind::Int, None)),
        &Value::Array(vec![int(1), int(2)].into()),
    );
    assert_same(&word("true", &Kind::Bool), &Value::Bool(true));
    assert_same(&word("null", &Kind::option(Kind::Int)), &Value::None);
    assert_same(
        &word("{\"a\":1}", &Kind::Object),
        &crate::accepted("{\"a\":1}", &Kind::Object),
    );
}

#[test]
fn bare_words_take_the_declared_text_form() {
    let midnight = Value::Datetime(Datetime::from_str("2024-01-01T00:00:00Z").unwrap());
    assert_same(&word("2024-01-01T00:00:00Z", &Kind::Datetime), &midnight);
    assert_same(&word("2024-01-01", &Kind::Datetime), &midnight);
    assert_same(
        &word("1h30m", &Kind::Duration),
        &Value::Duration(Duration::from_secs(5400)),
    );
    assert_same(
        &word("person:tobie", &Kind::Record(vec![])),
        &Value::RecordId(RecordId::new("person", "tobie")),
    );
    assert_same(
        &word("cafe01", &Kind::Bytes),
        &Value::Bytes(Bytes::from(vec![0xca, 0xfe, 0x01])),
    );
    assert!(matches!(
        word("67e55044-10b1-426f-9247-bb680e5fe0c8", &Kind::Uuid),
        Value::Uuid(_)
    ));
    assert_same(&word("hello world", &Kind::String), &string("hello world"));
    assert_same(&word("hello", &Kind::Any), &string("hello"));
    // Under `any` a bare word is a string, never guessed to be more.
    assert_same(&word("1h30m", &Kind::Any), &string("1h30m"));
    let ab = Kind::Either(vec![literal_string("a"), literal_string("b")]);
    assert_same(&word("a", &ab), &string("a"));
    assert_same(
        &word("later", &Kind::option(Kind::String)),
        &string("later"),
    );
}

#[test]
fn json_scalars_become_text_where_the_kind_wants_text() {
    assert_same(&word("123", &Kind::String), &string("123"));
    assert_same(&word("true", &Kind::String), &string("true"));
    assert_same(&word("null", &Kind::String), &string("null"));
    assert_same(&word("1.50", &Kind::String), &string("1.50"));
    assert_same(&word("12", &Kind::option(Kind::String)), &string("12"));
    // But not where the kind accepts the JSON itself.
    assert_same(
        &word("12", &Kind::Either(vec![Kind::Int, Kind::String])),
        &int(12),
    );
    assert_same(&word("null", &Kind::option(Kind::String)), &Value::None);
    // Arrays and objects are never taken as text.
    assert_eq!(
        word_refused("[1]", &Kind::String),
        "expected string, got [1] (an array)"
    );
    // And value_from_json never does it.
    assert_eq!(
        crate::refused("123", &Kind::String),
        "expected string, got 123 (a number)"
    );
}

#[test]
fn refused_words_say_why() {
    assert_eq!(
        word_refused("abc", &Kind::Int),
        "expected int, got `abc` (not JSON; quote text as \"…\")"
    );
    assert_eq!(
        word_refused("yes", &Kind::Bool),
        "expected bool, got `yes` (not JSON; quote text as \"…\")"
    );
    assert_eq!(
        word_refused("yesterday", &Kind::Datetime),
        "expected datetime, got \"yesterday\" (not an RFC 3339 datetime such as 2024-01-01T00:00:00Z)"
    );
    assert_eq!(
        word_refused("10", &Kind::Duration),
        "expected duration, got \"10\" (not a duration such as 1h30m)"
    );
    // A number refused for a reason of its own keeps that reason.
    assert_eq!(
        word_refused("1.5", &Kind::Either(vec![Kind::Int, Kind::Datetime])),
        "expected int | datetime, got 1.5 (a number with a fraction)"
    );
    assert_eq!(
        word_refused("user:1", &Kind::Record(crate::tables(&["person"]))),
        "expected record<person>, got \"user:1\" (table `user` is not one of: person)"
    );
    let long = "y".repeat(100);
    let message = word_refused(&long, &Kind::Int);
    assert!(
        message.contains(&format!("`{}…`", "y".repeat(60))),
        "{message}"
    );
}

#[test]
fn typed_numbers_are_read_from_their_text() {
    let digits = "0.1234567890123456789012345678";
    assert_same(
        &word(digits, &Kind::Decimal),
        &Value::Number(Number::Decimal(Decimal::from_str(digits).unwrap())),
    );
    assert_same(
        &word(digits, &Kind::option(Kind::Decimal)),
        &Value::Number(Number::Decimal(Decimal::from_str(digits).unwrap())),
    );
    assert_same(
        &word("0.30000000000000004", &Kind::Float),
        &float(0.1 + 0.2),
    );
    assert_same(&word("5", &Kind::Float), &float(5.0));
    assert_same(&word("2.5", &Kind::Number), &float(2.5));
}
