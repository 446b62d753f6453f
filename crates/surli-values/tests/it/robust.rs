//! Arbitrary input never panics, and what is accepted is of the kind.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Number as JsonNumber, Value as Json};
use surli_values::{args_from_json, args_from_text, value_from_arg, value_from_json};
use surrealdb_types::{Duration, GeometryKind, Kind, KindLiteral, Table};

/// Strings likely to get past the first checks of some kind.
fn telling_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".*",
        proptest::sample::select(vec![
            "person:1",
            "person:`1`",
            "`a`:",
            "`unclosed:x",
            "person:u'00000000-0000-0000-0000-000000000000'",
            "person:u'zz'",
            "2024-01-01",
            "2024-02-30T00:00:00Z",
            "+999999-12-31T23:59:59.999999999Z",
            "-999999-01-01",
            "99999999999999999999y",
            "1h30m",
            "/a(/",
            "/",
            "0x",
            "cafe",
            "1e99999",
            "0.1",
            "Point",
            "GeometryCollection",
            "tb",
            "id",
            "a",
        ])
        .prop_map(str::to_owned),
    ]
}

fn any_json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| JsonNumber::from_f64(f).map_or(Json::Null, Json::Number)),
        telling_string().prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Json::Array),
            btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("coordinates".to_owned()),
                    Just("geometries".to_owned()),
                    Just("tb".to_owned()),
                    Just("id".to_owned()),
                    Just("a".to_owned()),
                    ".{0,4}",
                ],
                inner,
                0..5,
            )
            .prop_map(|map| Json::Object(map.into_iter().collect())),
        ]
    })
}

fn kinds() -> Vec<Kind> {
    let boxed = Box::new;
    let mut fields = BTreeMap::new();
    fields.insert("a".to_owned(), Kind::Int);
    fields.insert("type".to_owned(), Kind::option(Kind::String));
    vec![
        Kind::Any,
        Kind::None,
        Kind::Null,
        Kind::Bool,
        Kind::Bytes,
        Kind::Datetime,
        Kind::Decimal,
        Kind::Duration,
        Kind::Float,
        Kind::Int,
        Kind::Number,
        Kind::Object,
        Kind::String,
        Kind::Uuid,
        Kind::Regex,
        Kind::Table(vec![]),
        Kind::Table(vec![Table::new("person")]),
        Kind::Record(vec![]),
        Kind::Record(vec![Table::new("person"), Table::new("a")]),
        Kind::Geometry(vec![]),
        Kind::Geometry(vec![GeometryKind::Point, GeometryKind::Collection]),
        Kind::option(Kind::Int),
        Kind::Either(vec![Kind::Int, Kind::String, Kind::Datetime]),
        Kind::Either(vec![Kind::Null, Kind::Bytes, Kind::Range]),
        Kind::Set(boxed(Kind::Int), Some(2)),
        Kind::Set(boxed(Kind::Any), None),
        Kind::Array(boxed(Kind::option(Kind::Decimal)), Some(3)),
        Kind::Array(boxed(Kind::Array(boxed(Kind::Record(vec![])), None)), None),
        Kind::Literal(KindLiteral::String("a".to_owned())),
        Kind::Literal(KindLiteral::Integer(1)),
        Kind::Literal(KindLiteral::Float(1.5)),
        Kind::Literal(KindLiteral::Duration(Duration::from_secs(60))),
        Kind::Literal(KindLiteral::Bool(false)),
        Kind::Literal(KindLiteral::Array(vec![Kind::Int, Kind::Any])),
        Kind::Literal(KindLiteral::Object(fields)),
        Kind::Range,
        Kind::Function(None, None),
        Kind::File(vec![]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn arbitrary_json_is_read_or_refused(json in any_json()) {
        let text = json.to_string();
        for kind in kinds() {
            for result in [value_from_json(&json, &kind), value_from_arg(&text, &kind)] {
                match result {
                    Ok(value) => prop_assert!(value.is_kind(&kind), "{value:?} is not {kind:?}"),
                    Err(error) => prop_assert!(!error.to_string().is_empty()),
                }
            }
        }
    }

    #[test]
    fn arbitrary_words_are_read_or_refused(word in telling_string()) {
        for kind in kinds() {
            match value_from_arg(&word, &kind) {
                Ok(value) => prop_assert!(value.is_kind(&kind), "{value:?} is not {kind:?}"),
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn arbitrary_argument_lists_are_read_or_refused(
        values in vec(any_json(), 0..4),
        words in vec(telling_string(), 0..4),
        picks in vec(0usize..64, 0..4),
    ) {
        let all = kinds();
        let params: Vec<(String, Kind)> = picks
            .iter()
            .enumerate()
            .map(|(i, pick)| (format!("p{i}"), all[pick % all.len()].clone()))
            .collect();
        if let Ok(read) = args_from_json(&values, &params) {
            prop_assert_eq!(read.len(), params.len());
        }
        if let Ok(read) = args_from_text(&words, &params) {
            prop_assert_eq!(read.len(), params.len());
        }
    }
}
