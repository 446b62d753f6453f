//! Values written with `to_json` read back with `value_from_json` against
//! their kind, and from the JSON text with `value_from_arg`.

use std::str::FromStr;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value as Json;
use surli_values::{to_json, to_surrealql, value_from_arg, value_from_json};
use surrealdb_types::{
    Bytes, Datetime, Decimal, Duration, Kind, Number, Object, RecordId, RecordIdKey, Set, Uuid,
    Value,
};

/// The sorts of plain values the round trips cover.
#[derive(Debug, Clone, Copy)]
enum Sort {
    Bool,
    Int,
    Float,
    Decimal,
    String,
    Datetime,
    Duration,
    Uuid,
    Record,
    Bytes,
}

const SORTS: [Sort; 10] = [
    Sort::Bool,
    Sort::Int,
    Sort::Float,
    Sort::Decimal,
    Sort::String,
    Sort::Datetime,
    Sort::Duration,
    Sort::Uuid,
    Sort::Record,
    Sort::Bytes,
];

fn kind_of(sort: Sort) -> Kind {
    match sort {
        Sort::Bool => Kind::Bool,
        Sort::Int => Kind::Int,
        Sort::Float => Kind::Float,
        Sort::Decimal => Kind::Decimal,
        Sort::String => Kind::String,
        Sort::Datetime => Kind::Datetime,
        Sort::Duration => Kind::Duration,
        Sort::Uuid => Kind::Uuid,
        Sort::Record => Kind::Record(vec![]),
        Sort::Bytes => Kind::Bytes,
    }
}

fn finite_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i32..1000).prop_map(f64::from),
        Just(-0.0),
    ]
}

fn uuid() -> impl Strategy<Value = Uuid> {
    any::<u128>().prop_map(|n| Uuid::from_str(&format!("{n:032x}")).unwrap())
}

/// Table names and keys: plain identifiers and anything at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z_][a-z0-9_]{0,8}", ".{1,10}"]
}

fn record_key() -> impl Strategy<Value = RecordIdKey> {
    prop_oneof![
        name().prop_map(RecordIdKey::String),
        "[0-9]{1,4}".prop_map(RecordIdKey::String),
        Just(RecordIdKey::String(String::new())),
        any::<i64>().prop_map(RecordIdKey::Number),
        uuid().prop_map(RecordIdKey::Uuid),
    ]
}

fn plain(sort: Sort) -> BoxedStrategy<Value> {
    match sort {
        Sort::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Sort::Int => any::<i64>()
            .prop_map(|i| Value::Number(Number::Int(i)))
            .boxed(),
        Sort::Float => finite_float()
            .prop_map(|f| Value::Number(Number::Float(f)))
            .boxed(),
        Sort::Decimal => (any::<i64>(), 0u32..=28)
            .prop_map(|(mantissa, scale)| {
                Value::Number(Number::Decimal(Decimal::new(mantissa, scale)))
            })
            .boxed(),
        Sort::String => ".*".prop_map(Value::String).boxed(),
        // Years 1 to 9999, to the nanosecond.
        Sort::Datetime => (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
            .prop_map(|(secs, nanos)| {
                Value::Datetime(Datetime::from_timestamp(secs, nanos).unwrap())
            })
            .boxed(),
        Sort::Duration => (any::<u64>(), 0u32..1_000_000_000)
            .prop_map(|(secs, nanos)| Value::Duration(Duration::new(secs, nanos)))
            .boxed(),
        Sort::Uuid => uuid().prop_map(Value::Uuid).boxed(),
        Sort::Record => (name(), record_key())
            .prop_map(|(table, key)| Value::RecordId(RecordId::new(table, key)))
            .boxed(),
        Sort::Bytes => vec(any::<u8>(), 0..24)
            .prop_map(|b| Value::Bytes(Bytes::from(b)))
            .boxed(),
    }
}

/// A plain value with its kind.
fn plain_with_kind() -> impl Strategy<Value = (Value, Kind)> {
    proptest::sample::select(SORTS.to_vec())
        .prop_flat_map(|sort| (plain(sort), Just(kind_of(sort))))
}

/// Values that `any` reads back as they were: JSON's own sorts.
fn json_native() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Number(Number::Int(i))),
        finite_float().prop_map(|f| Value::Number(Number::Float(f))),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|items| Value::Array(items.into())),
            btree_map(".{0,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect::<Object>())),
        ]
    })
}

/// Any value this crate reads back, with its kind.
fn value_with_kind() -> impl Strategy<Value = (Value, Kind)> {
    let collections = proptest::sample::select(SORTS.to_vec()).prop_flat_map(|sort| {
        let kind = kind_of(sort);
        prop_oneof![
            vec(plain(sort), 0..5).prop_map({
                let kind = kind.clone();
                move |items| {
                    (
                        Value::Array(items.into()),
                        Kind::Array(Box::new(kind.clone()), None),
                    )
                }
            }),
            vec(plain(sort), 0..5).prop_map({
                let kind = kind.clone();
                move |items| {
                    (
                        Value::Set(Set::from(items)),
                        Kind::Set(Box::new(kind.clone()), None),
                    )
                }
            }),
            proptest::option::of(plain(sort)).prop_map({
                let kind = kind.clone();
                move |item| (item.unwrap_or(Value::None), Kind::option(kind.clone()))
            }),
            vec(vec(plain(sort), 0..3), 0..3).prop_map(move |rows| {
                let rows: Vec<Value> = rows
                    .into_iter()
                    .map(|row| Value::Array(row.into()))
                    .collect();
                (
                    Value::Array(rows.into()),
                    Kind::Array(Box::new(Kind::Array(Box::new(kind.clone()), None)), None),
                )
            }),
        ]
    });
    prop_oneof![
        plain_with_kind(),
        collections,
        json_native().prop_map(|value| (value, Kind::Any)),
        btree_map(".{0,6}", json_native(), 0..4).prop_map(|map| (
            Value::Object(map.into_iter().collect::<Object>()),
            Kind::Object
        )),
    ]
}

/// Equal as values and in SurrealQL, which tells 1, 1f and 1dec apart.
fn same(got: &Value, want: &Value) -> bool {
    got == want && to_surrealql(got) == to_surrealql(want)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_reads_back((value, kind) in value_with_kind()) {
        let json = to_json(value.clone());
        let back = value_from_json(&json, &kind);
        prop_assert!(back.is_ok(), "{json} as {kind:?}: {back:?}");
        let back = back.unwrap();
        prop_assert!(same(&back, &value), "{value:?} → {json} → {back:?}");
    }

    #[test]
    fn json_text_reads_back_as_an_argument((value, kind) in plain_with_kind()) {
        // A top-level number is read from its exact text, so floats come back too.
        let text = to_json(value.clone()).to_string();
        let back = value_from_arg(&text, &kind);
        prop_assert!(back.is_ok(), "{text} as {kind:?}: {back:?}");
        let back = back.unwrap();
        prop_assert!(same(&back, &value), "{value:?} → {text} → {back:?}");
    }

    #[test]
    fn text_values_read_back_as_bare_words(value in prop_oneof![
        plain(Sort::Datetime), plain(Sort::Duration), plain(Sort::Uuid), plain(Sort::Bytes),
    ]) {
        // What a user would type: the JSON string without its quotes (bytes as hex).
        let (word, kind) = match &value {
            Value::Datetime(_) => (string_of(to_json(value.clone())), Kind::Datetime),
            Value::Duration(_) => (string_of(to_json(value.clone())), Kind::Duration),
            Value::Uuid(_) => (string_of(to_json(value.clone())), Kind::Uuid),
            Value::Bytes(bytes) => (hex_of(bytes), Kind::Bytes),
            _ => unreachable!(),
        };
        let back = value_from_arg(&word, &kind);
        prop_assert!(back.is_ok(), "{word} as {kind:?}: {back:?}");
        prop_assert!(same(&back.unwrap(), &value));
    }
}

fn string_of(json: Json) -> String {
    match json {
        Json::String(s) => s,
        other => panic!("not a string: {other}"),
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
