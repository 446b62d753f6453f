//! Arguments written as SurrealQL values reach the guest unchanged.

use proptest::prelude::*;
use surli::Value;
use surli::types::{
    Array, Bytes, Datetime, Duration, Number, Object, RecordId, RecordIdKey, ToSql,
};

use crate::support::{fixture, surli};

/// What the kinds fixture's `any` answers when given `word`, as printed.
fn echo(word: &str) -> String {
    let output = surli()
        .arg("call")
        .arg(fixture("kinds"))
        .arg("any")
        .arg("--")
        .arg(word)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{word}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_owned()
}

#[test]
fn surrealql_words_reach_an_any_parameter_as_what_they_say() {
    for (word, printed) in [
        ("NONE", "NONE"),
        ("NULL", "NULL"),
        ("d'2024-01-01T00:00:00Z'", "d'2024-01-01T00:00:00Z'"),
        ("person:42", "person:42"),
        ("1.5dec", "1.5dec"),
        ("b\"00ff\"", "b\"00FF\""),
        ("1h30m", "1h30m"),
        // JSON stays JSON, a bare name stays text, and so does a value
        // followed by more text.
        ("\"person:42\"", "'person:42'"),
        ("hello", "'hello'"),
        ("true story", "'true story'"),
        ("NONE of it", "'NONE of it'"),
        ("2024-01-01", "'2024-01-01'"),
    ] {
        assert_eq!(echo(word), printed, "{word}");
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(Number::Int(n))),
        (-1e12f64..1e12).prop_map(|f| Value::Number(Number::Float(f))),
        "[a-z0-9 ']{0,12}".prop_map(Value::String),
        (0i64..4_000_000_000, 0u32..1_000_000_000).prop_map(|(secs, nanos)| {
            Value::Datetime(Datetime::from_timestamp(secs, nanos).unwrap())
        }),
        (0u64..10_000_000, 0u32..1_000_000_000)
            .prop_map(|(secs, nanos)| Value::Duration(Duration::new(secs, nanos))),
        proptest::collection::vec(any::<u8>(), 0..8)
            .prop_map(|bytes| Value::Bytes(Bytes::from(bytes))),
        ("[a-z][a-z_]{0,6}", any::<i64>())
            .prop_map(|(table, id)| Value::RecordId(RecordId::new(table, RecordIdKey::Number(id)))),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| Value::Array(Array::from(items))),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4).prop_map(|fields| {
                let mut object = Object::new();
                for (key, value) in fields {
                    object.insert(key, value);
                }
                Value::Object(object)
            }),
        ]
    })
}

proptest! {
    // Each case runs the CLI once.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A value written as SurrealQL goes through `surli call` into a guest
    /// whose `any` returns it, and comes back printed as it went in.
    #[test]
    fn every_kind_of_value_round_trips_through_the_cli(value in value()) {
        prop_assert_eq!(echo(&value.to_sql()), value.to_sql_pretty());
    }
}

#[test]
fn a_value_followed_by_more_text_is_not_that_value() {
    surli()
        .arg("call")
        .arg(fixture("kinds"))
        .args(["int", "10 apples"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("argument 1"));
}
