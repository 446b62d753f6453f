//! What `to_json` and `to_surrealql` write: the table in the crate docs.

use std::ops::Bound;
use std::str::FromStr;

use serde_json::json;
use surli_values::{to_json, to_surrealql, to_surrealql_pretty};
use surrealdb_types::{
    Bytes, Datetime, Decimal, Duration, File, Kind, Number, Object, Range, RecordId, Regex, Set,
    Table, Uuid, Value,
};

use crate::{accepted, float, int, string};

#[test]
fn json_of_each_value() {
    assert_eq!(to_json(Value::None), json!(null));
    assert_eq!(to_json(Value::Null), json!(null));
    assert_eq!(to_json(Value::Bool(true)), json!(true));
    assert_eq!(to_json(int(42)), json!(42));
    assert_eq!(to_json(float(1.5)), json!(1.5));
    assert_eq!(to_json(float(1.0)).to_string(), "1.0");
    assert_eq!(to_json(float(f64::NAN)), json!(null));
    assert_eq!(to_json(float(f64::INFINITY)), json!(null));
    assert_eq!(to_json(float(f64::NEG_INFINITY)), json!(null));
    let decimal = Value::Number(Number::Decimal(Decimal::from_str("12.50").unwrap()));
    assert_eq!(to_json(decimal), json!("12.50"));
    assert_eq!(to_json(string("x")), json!("x"));

    let duration = |text: &str| Value::Duration(Duration::from_str(text).unwrap());
    assert_eq!(to_json(duration("90m")), json!("1h30m"));
    assert_eq!(to_json(duration("382d")), json!("1y2w3d"));
    assert_eq!(to_json(duration("1500ms")), json!("1s500ms"));
    assert_eq!(to_json(duration("3us")), json!("3µs"));
    assert_eq!(to_json(duration("0s")), json!("0ns"));

    let datetime = |text: &str| Value::Datetime(Datetime::from_str(text).unwrap());
    assert_eq!(
        to_json(datetime("2024-01-01T02:00:00+02:00")),
        json!("2024-01-01T00:00:00Z")
    );
    assert_eq!(
        to_json(datetime("2024-01-01T00:00:00.5Z")),
        json!("2024-01-01T00:00:00.500Z")
    );
    assert_eq!(
        to_json(datetime("2024-01-01T00:00:00.1234Z")),
        json!("2024-01-01T00:00:00.123400Z")
    );

    let uuid = Uuid::from_str("67E55044-10B1-426F-9247-BB680E5FE0C8").unwrap();
    assert_eq!(
        to_json(Value::Uuid(uuid)),
        json!("67e55044-10b1-426f-9247-bb680e5fe0c8")
    );
    assert_eq!(
        to_json(Value::Bytes(Bytes::from(vec![202, 254]))),
        json!([202, 254])
    );
    assert_eq!(
        to_json(Value::Array(vec![int(1), string("a")].into())),
        json!([1, "a"])
    );
    assert_eq!(
        to_json(Value::Set(Set::from(vec![int(2), int(1), int(2)]))),
        json!([1, 2])
    );
    let mut object = Object::new();
    object.insert("a", int(1));
    assert_eq!(to_json(Value::Object(object)), json!({"a": 1}));

    let point = accepted(
        r#"{"type": "Point", "coordinates": [1, 2]}"#,
        &Kind::Geometry(vec![]),
    );
    assert_eq!(
        to_json(point).to_string(),
        r#"{"coordinates":[1.0,2.0],"type":"Point"}"#
    );
    let collection = accepted(
        r#"{"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]}"#,
        &Kind::Geometry(vec![]),
    );
    assert_eq!(
        to_json(collection),
        json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1.0, 2.0]}]})
    );

    assert_eq!(to_json(Value::Table(Table::new("person"))), json!("person"));
    assert_eq!(
        to_json(Value::Table(Table::new("my table"))),
        json!("my table")
    );
    let record = |table: &str, key: surrealdb_types::RecordIdKey| {
        to_json(Value::RecordId(RecordId::new(table, key)))
    };
    assert_eq!(record("person", "tobie".into()), json!("person:tobie"));
    assert_eq!(record("person", 1i64.into()), json!("person:1"));
    assert_eq!(record("person", "1".into()), json!("person:`1`"));
    assert_eq!(record("my table", "a b".into()), json!("`my table`:`a b`"));
    assert_eq!(
        record("person", uuid.into()),
        json!("person:u'67e55044-10b1-426f-9247-bb680e5fe0c8'")
    );
    let array_key = surrealdb_types::Array::from(vec![int(1), int(2)]);
    assert_eq!(record("person", array_key.into()), json!("person:[1, 2]"));
    assert_eq!(
        to_json(Value::Regex(Regex::from_str("a.c").unwrap())),
        json!("/a.c/")
    );
    assert_eq!(
        to_json(Value::File(File::new("bucket", "a.txt"))),
        json!("f\"bucket:/a.txt\"")
    );
    let range = Range::new(Bound::Included(int(1)), Bound::Excluded(int(5)));
    assert_eq!(to_json(Value::Range(Box::new(range))), json!("1..5"));
    let range = Range::new(Bound::Included(int(1)), Bound::Included(int(5)));
    assert_eq!(to_json(Value::Range(Box::new(range))), json!("1..=5"));
}

#[test]
fn surrealql_single_line_and_pretty() {
    let value = accepted(r#"{"a": [1, 2], "b": {"c": "x"}}"#, &Kind::Object);
    assert_eq!(to_surrealql(&value), "{ a: [1, 2], b: { c: 'x' } }");
    let pretty = to_surrealql_pretty(&value);
    assert!(pretty.contains('\n'), "{pretty}");
    assert_eq!(to_surrealql(&Value::None), "NONE");
    assert_eq!(to_surrealql(&float(1.0)), "1f");
    assert_eq!(
        to_surrealql(&Value::Datetime(Datetime::from_str("2024-01-01").unwrap())),
        "d'2024-01-01T00:00:00Z'"
    );
}
