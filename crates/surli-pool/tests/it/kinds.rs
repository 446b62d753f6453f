//! Every value kind the SDK allows crosses the boundary unchanged, through
//! guests built against surrealdb-types 3.3 and against the original's
//! pinned 3.1.0-beta.2.

use std::str::FromStr;
use std::sync::Arc;

use surli_host::NullContext;
use surli_pool::{CallError, Module};
use surrealdb_types::{
    Array, Bytes, Datetime, Duration, Geometry, Number, Object, RecordId, Set, SurrealValue, Table,
    Uuid, Value,
};

use crate::support::{int, load, text};

fn object(entries: &[(&str, Value)]) -> Value {
    let mut object = Object::new();
    for (k, v) in entries {
        object.insert((*k).to_owned(), v.clone());
    }
    Value::Object(object)
}

fn samples() -> Vec<(&'static str, Value)> {
    let datetime = Datetime::from_str("2024-01-01T12:30:45.123456789Z").unwrap();
    let uuid = Uuid::new_v4();
    vec![
        ("null", Value::Null),
        ("bool", true.into_value()),
        ("int", int(i64::MIN)),
        ("float", 1.5f64.into_value()),
        ("number", Value::Number(Number::Float(-0.25))),
        (
            "decimal",
            Value::Number(Number::Decimal(
                rust_decimal::Decimal::from_str("12345.6789").unwrap(),
            )),
        ),
        ("string", text("héllo, wörld ✓")),
        ("bytes", Value::Bytes(Bytes::from(vec![0u8, 1, 2, 255]))),
        ("datetime", Value::Datetime(datetime)),
        (
            "duration",
            Value::Duration(Duration::from(std::time::Duration::new(5400, 7))),
        ),
        ("uuid", Value::Uuid(uuid)),
        (
            "array_int",
            Value::Array(Array::from(vec![int(1), int(2), int(3)])),
        ),
        (
            "array_any",
            Value::Array(Array::from(vec![
                int(1),
                text("two"),
                Value::Null,
                Value::None,
            ])),
        ),
        ("array", Value::Array(Array::from(vec![true.into_value()]))),
        ("object", object(&[("a", int(1)), ("b", text("x"))])),
        ("record", Value::RecordId(RecordId::new("person", "tobie"))),
        ("table", Value::Table(Table::new("person"))),
        ("set", Value::Set(Set::from(vec![int(1), text("two")]))),
        (
            "geometry",
            Value::Geometry(Geometry::Point(geo_types::Point::new(1.5, -2.25))),
        ),
        ("option_int", int(7)),
        ("option_int", Value::None),
        ("option_string", text("maybe")),
        (
            "person",
            object(&[
                ("name", text("Ada")),
                ("age", int(36)),
                ("tags", Value::Array(Array::from(vec![text("math")]))),
            ]),
        ),
        (
            "any",
            object(&[(
                "nested",
                Value::Array(Array::from(vec![Value::Datetime(datetime)])),
            )]),
        ),
        ("renamed", int(9)),
        ("nested::deeper::echo", text("deep")),
    ]
}

pub(crate) async fn round_trips(module: &Module) {
    let ctx = Arc::new(NullContext);
    for (function, value) in samples() {
        let back = module
            .call(ctx.clone(), Some(function), vec![value.clone()])
            .await
            .unwrap_or_else(|e| panic!("{function}: {e}"));
        assert_eq!(back, value, "{function} changed the value");
    }
    assert_eq!(
        module
            .call(ctx.clone(), Some("unit"), vec![])
            .await
            .unwrap(),
        Value::None
    );
    let ten_args = vec![
        int(1),
        text("b"),
        true.into_value(),
        0.5f64.into_value(),
        Value::None,
        Value::Array(Array::from(vec![int(6)])),
        object(&[("g", int(7))]),
        Value::Datetime(Datetime::from_str("2000-01-01T00:00:00Z").unwrap()),
        Value::Uuid(Uuid::new_v4()),
        text("j"),
    ];
    assert_eq!(
        module
            .call(ctx.clone(), Some("ten"), ten_args.clone())
            .await
            .unwrap(),
        Value::Array(Array::from(ten_args))
    );
    match module.call(ctx.clone(), Some("fail"), vec![]).await {
        Err(CallError::Guest { message }) => assert_eq!(message, "kinds: failed on purpose"),
        other => panic!("expected the guest's error, got {other:?}"),
    }
    match module.call(ctx, Some("divide"), vec![int(1), int(0)]).await {
        Err(CallError::Guest { message }) => assert!(message.contains("division by zero")),
        other => panic!("expected the guest's error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_through_a_3_3_guest() {
    round_trips(&load("kinds").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_through_a_3_1_beta_guest() {
    round_trips(&load("kinds-pinned").await).await;
}
