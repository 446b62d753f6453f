//! Every kind: the JSON it accepts and a refusal with its message.

use std::collections::BTreeMap;
use std::str::FromStr;

use surli_values::{ValueError, kind_name, value_from_json};
use surrealdb_types::{
    Bytes, Datetime, Decimal, Duration, Geometry, GeometryKind, Kind, KindLiteral, Number,
    RecordId, RecordIdKey, Regex, Set, Uuid, Value,
};

use crate::{
    accepted, array_of, assert_same, float, int, json, literal_string, refused, set_of, string,
    tables,
};

#[test]
fn any_takes_json_as_it_is() {
    assert_same(&accepted("null", &Kind::Any), &Value::Null);
    assert_same(&accepted("true", &Kind::Any), &Value::Bool(true));
    assert_same(&accepted("42", &Kind::Any), &int(42));
    assert_same(&accepted("1.5", &Kind::Any), &float(1.5));
    assert_same(&accepted("2.0", &Kind::Any), &float(2.0));
    assert_same(
        &accepted("18446744073709551615", &Kind::Any),
        &float(18446744073709551615.0),
    );
    assert_same(
        &accepted("\"2024-01-01\"", &Kind::Any),
        &string("2024-01-01"),
    );
    let nested = accepted(r#"{"a": [1, "x", null], "b": {"c": 1.5}}"#, &Kind::Any);
    assert_eq!(
        crate::to_surrealql(&nested),
        "{ a: [1, 'x', NULL], b: { c: 1.5f } }"
    );
}

#[test]
fn none_and_null() {
    assert_same(&accepted("null", &Kind::None), &Value::None);
    assert_same(&accepted("null", &Kind::Null), &Value::Null);
    assert_eq!(refused("1", &Kind::None), "expected none, got 1 (a number)");
    assert_eq!(
        refused("\"x\"", &Kind::Null),
        "expected null, got \"x\" (a string)"
    );
}

#[test]
fn bool_and_string() {
    assert_same(&accepted("false", &Kind::Bool), &Value::Bool(false));
    assert_eq!(
        refused("\"true\"", &Kind::Bool),
        "expected bool, got \"true\" (a string)"
    );
    assert_eq!(refused("null", &Kind::Bool), "expected bool, got null");
    assert_same(&accepted("\"héllo\"", &Kind::String), &string("héllo"));
    assert_eq!(
        refused("123", &Kind::String),
        "expected string, got 123 (a number)"
    );
    assert_eq!(
        refused("[1]", &Kind::String),
        "expected string, got [1] (an array)"
    );
    assert_eq!(
        refused("{}", &Kind::String),
        "expected string, got {} (an object)"
    );
}

#[test]
fn int_takes_integers_only() {
    assert_same(&accepted("42", &Kind::Int), &int(42));
    assert_same(
        &accepted("-9223372036854775808", &Kind::Int),
        &int(i64::MIN),
    );
    assert_eq!(
        refused("1.5", &Kind::Int),
        "expected int, got 1.5 (a number with a fraction)"
    );
    assert_eq!(
        refused("2.0", &Kind::Int),
        "expected int, got 2.0 (written as a float; an int has no `.` or exponent)"
    );
    assert!(refused("1e3", &Kind::Int).contains("written as a float"));
    assert_eq!(
        refused("9223372036854775808", &Kind::Int),
        "expected int, got 9223372036854775808 (out of range for a 64-bit integer)"
    );
    assert!(refused("1e300", &Kind::Int).contains("out of range"));
    assert_eq!(
        refused("\"1\"", &Kind::Int),
        "expected int, got \"1\" (a string)"
    );
}

#[test]
fn float_and_number() {
    assert_same(&accepted("1.5", &Kind::Float), &float(1.5));
    assert_same(&accepted("3", &Kind::Float), &float(3.0));
    assert_eq!(
        refused("\"1.5\"", &Kind::Float),
        "expected float, got \"1.5\" (a string)"
    );
    assert_same(&accepted("3", &Kind::Number), &int(3));
    assert_same(&accepted("3.5", &Kind::Number), &float(3.5));
    assert_same(&accepted("3.0", &Kind::Number), &float(3.0));
    assert_eq!(
        refused("true", &Kind::Number),
        "expected number, got true (a boolean)"
    );
}

fn decimal(text: &str) -> Value {
    Value::Number(Number::Decimal(Decimal::from_str(text).unwrap()))
}

#[test]
fn decimal_from_strings_exactly_and_from_numbers() {
    assert_same(&accepted("\"0.1\"", &Kind::Decimal), &decimal("0.1"));
    assert_same(&accepted("\"12.50\"", &Kind::Decimal), &decimal("12.50"));
    assert_eq!(
        crate::to_surrealql(&accepted("\"12.50\"", &Kind::Decimal)),
        "12.50dec"
    );
    assert_same(
        &accepted("\"3.1415926535897932384626433832\"", &Kind::Decimal),
        &decimal("3.1415926535897932384626433832"),
    );
    assert_same(&accepted("\"1e3\"", &Kind::Decimal), &decimal("1000"));
    // A JSON number is read from the shortest text of its f64: 0.1 stays 0.1.
    assert_same(&accepted("0.1", &Kind::Decimal), &decimal("0.1"));
    assert_same(&accepted("7", &Kind::Decimal), &decimal("7"));
    assert_same(&accepted("1.5e-7", &Kind::Decimal), &decimal("0.00000015"));
    assert_eq!(
        refused("\"abc\"", &Kind::Decimal),
        "expected decimal, got \"abc\" (not a decimal number such as 12.50)"
    );
    assert_eq!(
        refused("1e300", &Kind::Decimal),
        "expected decimal, got 1e+300 (beyond the range or precision of a decimal)"
    );
    assert_eq!(
        refused("true", &Kind::Decimal),
        "expected decimal, got true (a boolean)"
    );
}

#[test]
fn datetime_from_rfc_3339() {
    let want = Value::Datetime(Datetime::from_str("2024-01-01T00:00:00Z").unwrap());
    assert_same(
        &accepted("\"2024-01-01T00:00:00Z\"", &Kind::Datetime),
        &want,
    );
    assert_same(
        &accepted("\"2024-01-01T02:00:00+02:00\"", &Kind::Datetime),
        &want,
    );
    assert_same(&accepted("\"2024-01-01\"", &Kind::Datetime), &want);
    let precise = accepted("\"2024-01-01T00:00:00.123456789Z\"", &Kind::Datetime);
    assert_eq!(
        crate::to_surrealql(&precise),
        "d'2024-01-01T00:00:00.123456789Z'"
    );
    assert_eq!(
        refused("\"yesterday\"", &Kind::Datetime),
        "expected datetime, got \"yesterday\" (not an RFC 3339 datetime such as 2024-01-01T00:00:00Z)"
    );
    assert!(refused("\"2024-01-01T00:00:00\"", &Kind::Datetime).contains("not an RFC 3339"));
    assert_eq!(
        refused("1704067200", &Kind::Datetime),
        "expected datetime, got 1704067200 (a number)"
    );
}

#[test]
fn duration_from_surrealql_text() {
    let hour_and_half = Value::Duration(Duration::from_secs(5400));
    assert_same(&accepted("\"1h30m\"", &Kind::Duration), &hour_and_half);
    assert_same(&accepted("\"90m\"", &Kind::Duration), &hour_and_half);
    assert_same(
        &accepted("\"1µs\"", &Kind::Duration),
        &accepted("\"1us\"", &Kind::Duration),
    );
    assert_eq!(
        refused("\"90\"", &Kind::Duration),
        "expected duration, got \"90\" (not a duration such as 1h30m)"
    );
    assert_eq!(
        refused("90", &Kind::Duration),
        "expected duration, got 90 (a number)"
    );
}

#[test]
fn uuid_from_text() {
    let text = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let want = Value::Uuid(Uuid::from_str(text).unwrap());
    assert_same(&accepted(&format!("\"{text}\""), &Kind::Uuid), &want);
    for other_form in [
        "67E5504410B1426F9247BB680E5FE0C8",
        "{67e55044-10b1-426f-9247-bb680e5fe0c8}",
        "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
    ] {
        assert_same(&accepted(&format!("\"{other_form}\""), &Kind::Uuid), &want);
    }
    assert_eq!(
        refused("\"67e55044\"", &Kind::Uuid),
        "expected uuid, got \"67e55044\" (not a UUID such as 67e55044-10b1-426f-9247-bb680e5fe0c8)"
    );
}

#[test]
fn regex_from_pattern_or_literal() {
    let want = Value::Regex(Regex::from_str("a.c").unwrap());
    assert_same(&accepted("\"a.c\"", &Kind::Regex), &want);
    assert_same(&accepted("\"/a.c/\"", &Kind::Regex), &want);
    assert_eq!(
        refused("\"(\"", &Kind::Regex),
        "expected regex, got \"(\" (not a valid regular expression)"
    );
}

#[test]
fn table_names_and_membership() {
    let any_table = Kind::Table(vec![]);
    assert_same(
        &accepted("\"person\"", &any_table),
        &Value::Table(surrealdb_types::Table::new("person")),
    );
    let some = Kind::Table(tables(&["person", "admin"]));
    assert_same(
        &accepted("\"admin\"", &some),
        &Value::Table(surrealdb_types::Table::new("admin")),
    );
    assert_eq!(
        refused("\"user\"", &some),
        "expected table<person | admin>, got \"user\" (table `user` is not one of: person, admin)"
    );
    assert_eq!(
        refused("\"\"", &any_table),
        "expected table, got \"\" (an empty table name)"
    );
    assert_eq!(refused("1", &any_table), "expected table, got 1 (a number)");
}

fn record(table: &str, key: impl Into<RecordIdKey>) -> Value {
    Value::RecordId(RecordId::new(table, key))
}

#[test]
fn record_ids_from_text() {
    let kind = Kind::Record(vec![]);
    assert_same(
        &accepted("\"person:tobie\"", &kind),
        &record("person", "tobie"),
    );
    assert_same(&accepted("\"person:1\"", &kind), &record("person", 1i64));
    assert_same(&accepted("\"person:-7\"", &kind), &record("person", -7i64));
    assert_same(&accepted("\"person:`1`\"", &kind), &record("person", "1"));
    assert_same(
        &accepted("\"`my table`:`a b`\"", &kind),
        &record("my table", "a b"),
    );
    assert_same(
        &accepted("\"person:99999999999999999999\"", &kind),
        &record("person", "99999999999999999999"),
    );
    let uuid = Uuid::from_str("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
    assert_same(
        &accepted("\"person:u'67e55044-10b1-426f-9247-bb680e5fe0c8'\"", &kind),
        &record("person", uuid),
    );
    assert_same(&accepted("\"person:``\"", &kind), &record("person", ""));
    assert_eq!(
        refused("\"tobie\"", &kind),
        "expected record, got \"tobie\" (not a record id such as person:tobie or {\"tb\": \"person\", \"id\": \"tobie\"})"
    );
    assert_eq!(
        refused("\"person:\"", &kind),
        "expected record, got \"person:\" (the key is empty)"
    );
    assert_eq!(
        refused("\":x\"", &kind),
        "expected record, got \":x\" (the table name is empty)"
    );
    assert_eq!(refused("5", &kind), "expected record, got 5 (a number)");
}

#[test]
fn record_ids_from_objects() {
    let kind = Kind::Record(vec![]);
    assert_same(
        &accepted(r#"{"tb": "person", "id": "tobie"}"#, &kind),
        &record("person", "tobie"),
    );
    assert_same(
        &accepted(r#"{"tb": "person", "id": 1}"#, &kind),
        &record("person", 1i64),
    );
    assert_same(
        &accepted(r#"{"tb": "person", "id": "1"}"#, &kind),
        &record("person", "1"),
    );
    let array_key = accepted(r#"{"tb": "temp", "id": ["london", 3]}"#, &kind);
    assert_eq!(crate::to_surrealql(&array_key), "temp:['london', 3]");
    assert!(refused(r#"{"tb": "person"}"#, &kind).contains("not a record id such as"));
    assert!(refused(r#"{"tb": "person", "id": 1.5}"#, &kind).contains("64-bit integer"));
    assert!(refused(r#"{"tb": "person", "id": true}"#, &kind).contains("the key must be"));
}

#[test]
fn record_tables_are_checked() {
    let kind = Kind::Record(tables(&["person"]));
    assert_same(&accepted("\"person:1\"", &kind), &record("person", 1i64));
    assert_eq!(
        refused("\"user:1\"", &kind),
        "expected record<person>, got \"user:1\" (table `user` is not one of: person)"
    );
    assert!(
        refused(r#"{"tb": "user", "id": 1}"#, &kind).contains("table `user` is not one of: person")
    );
}

#[test]
fn bytes_from_hex_or_numbers() {
    let want = Value::Bytes(Bytes::from(vec![0xca, 0xfe, 0x01]));
    assert_same(&accepted("\"cafe01\"", &Kind::Bytes), &want);
    assert_same(&accepted("\"0xCAFE01\"", &Kind::Bytes), &want);
    assert_same(&accepted("[202, 254, 1]", &Kind::Bytes), &want);
    assert_same(
        &accepted("\"\"", &Kind::Bytes),
        &Value::Bytes(Bytes::from(Vec::new())),
    );
    assert_eq!(
        refused("\"cafe0\"", &Kind::Bytes),
        "expected bytes, got \"cafe0\" (not pairs of hex digits such as cafe01)"
    );
    assert_eq!(
        refused("[1, 256]", &Kind::Bytes),
        "expected bytes, got [1,256] (element [1] is not a byte from 0 to 255)"
    );
    assert!(refused("[-1]", &Kind::Bytes).contains("element [0] is not a byte"));
    assert_eq!(
        refused("1", &Kind::Bytes),
        "expected bytes, got 1 (a number)"
    );
}

#[test]
fn object_values_are_any() {
    let value = accepted(r#"{"when": "2024-01-01", "n": 1}"#, &Kind::Object);
    assert_eq!(crate::to_surrealql(&value), "{ n: 1, when: '2024-01-01' }");
    assert_eq!(
        refused("[1]", &Kind::Object),
        "expected object, got [1] (an array)"
    );
}

#[test]
fn arrays_read_each_element() {
    let ints = array_of(Kind::Int, None);
    assert_same(
        &accepted("[1, 2]", &ints),
        &Value::Array(vec![int(1), int(2)].into()),
    );
    assert_same(
        &accepted("[]", &ints),
        &Value::Array(Vec::<Value>::new().into()),
    );
    assert_eq!(
        refused("[1, \"x\"]", &ints),
        "at [1]: expected int, got \"x\" (a string)"
    );
    let at_most_two = array_of(Kind::Int, Some(2));
    assert_eq!(
        refused("[1, 2, 3]", &at_most_two),
        "expected array<int, 2>, got [1,2,3] (3 elements, at most 2 allowed)"
    );
    let nested = array_of(array_of(Kind::Datetime, None), None);
    assert_eq!(
        refused("[[\"2024-01-01\"], [\"2024-01-02\", \"soon\"]]", &nested),
        "at [1][1]: expected datetime, got \"soon\" (not an RFC 3339 datetime such as 2024-01-01T00:00:00Z)"
    );
    assert_eq!(
        refused("{}", &ints),
        "expected array<int>, got {} (an object)"
    );
}

#[test]
fn sets_drop_duplicates() {
    let kind = set_of(Kind::Int, None);
    let want = Value::Set(Set::from(vec![int(1), int(2)]));
    assert_same(&accepted("[2, 1, 2]", &kind), &want);
    let at_most_one = set_of(Kind::Int, Some(1));
    assert_same(
        &accepted("[5, 5]", &at_most_one),
        &Value::Set(Set::from(vec![int(5)])),
    );
    assert_eq!(
        refused("[1, 2]", &at_most_one),
        "expected set<int, 1>, got [1,2] (2 distinct elements, at most 1 allowed)"
    );
    assert_eq!(
        refused("[true]", &kind),
        "at [0]: expected int, got true (a boolean)"
    );
}

#[test]
fn options_and_eithers() {
    let option = Kind::option(Kind::Int);
    assert_eq!(kind_name(&option), "option<int>");
    assert_same(&accepted("null", &option), &Value::None);
    assert_same(&accepted("5", &option), &int(5));
    assert_eq!(
        refused("\"x\"", &option),
        "expected option<int>, got \"x\" (a string)"
    );
    assert_eq!(
        refused("1.5", &option),
        "expected option<int>, got 1.5 (a number with a fraction)"
    );
    assert_eq!(
        refused("\"yesterday\"", &Kind::option(Kind::Datetime)),
        "expected option<datetime>, got \"yesterday\" (not an RFC 3339 datetime such as 2024-01-01T00:00:00Z)"
    );
    assert_eq!(
        refused("[1, \"x\"]", &Kind::option(array_of(Kind::Int, None))),
        "at [1]: expected int, got \"x\" (a string)"
    );

    let int_or_string = Kind::Either(vec![Kind::Int, Kind::String]);
    assert_same(&accepted("5", &int_or_string), &int(5));
    assert_same(&accepted("\"5\"", &int_or_string), &string("5"));
    assert_eq!(
        refused("true", &int_or_string),
        "expected int | string, got true (a boolean)"
    );
    let null_or_int = Kind::Either(vec![Kind::Null, Kind::Int]);
    assert_same(&accepted("null", &null_or_int), &Value::Null);
    // None first wins over null for JSON null, whatever the order.
    let both = Kind::Either(vec![Kind::Null, Kind::None, Kind::Int]);
    assert_same(&accepted("null", &both), &Value::None);
    assert_eq!(
        refused("\"x\"", &Kind::Either(vec![Kind::Datetime, Kind::Duration])),
        "expected datetime | duration, got \"x\" (datetime: not an RFC 3339 datetime such as \
         2024-01-01T00:00:00Z; duration: not a duration such as 1h30m)"
    );
    // The first alternative that accepts the value wins.
    let first = Kind::Either(vec![Kind::Datetime, Kind::String]);
    assert!(matches!(
        accepted("\"2024-01-01\"", &first),
        Value::Datetime(_)
    ));
    assert_same(&accepted("\"later\"", &first), &string("later"));
}

#[test]
fn literals_must_be_equal() {
    let ab = Kind::Either(vec![literal_string("a"), literal_string("b")]);
    assert_eq!(kind_name(&ab), "'a' | 'b'");
    assert_same(&accepted("\"b\"", &ab), &string("b"));
    assert_eq!(refused("\"c\"", &ab), "expected 'a' | 'b', got \"c\"");
    assert_eq!(refused("1", &ab), "expected 'a' | 'b', got 1 (a number)");

    let one = Kind::Literal(KindLiteral::Integer(1));
    assert_same(&accepted("1", &one), &int(1));
    assert_eq!(refused("2", &one), "expected 1, got 2");
    assert_eq!(refused("1.5", &one), "expected 1, got 1.5");
    let yes = Kind::Literal(KindLiteral::Bool(true));
    assert_same(&accepted("true", &yes), &Value::Bool(true));
    assert_eq!(refused("false", &yes), "expected true, got false");
    let hour = Kind::Literal(KindLiteral::Duration(Duration::from_secs(3600)));
    assert_same(
        &accepted("\"60m\"", &hour),
        &Value::Duration(Duration::from_secs(3600)),
    );

    let pair = Kind::Literal(KindLiteral::Array(vec![Kind::Int, Kind::String]));
    assert_same(
        &accepted("[1, \"a\"]", &pair),
        &Value::Array(vec![int(1), string("a")].into()),
    );
    assert!(refused("[1]", &pair).contains("1 elements, not 2"));
    assert_eq!(
        refused("[1, 2]", &pair),
        "at [1]: expected string, got 2 (a number)"
    );

    let mut fields = BTreeMap::new();
    fields.insert("a".to_owned(), Kind::Int);
    fields.insert("b".to_owned(), Kind::option(Kind::String));
    let shape = Kind::Literal(KindLiteral::Object(fields));
    let value = accepted(r#"{"a": 1, "b": null}"#, &shape);
    assert_eq!(crate::to_surrealql(&value), "{ a: 1, b: NONE }");
    assert_eq!(
        refused(r#"{"a": "x", "b": null}"#, &shape),
        "at .a: expected int, got \"x\" (a string)"
    );
    // A field that admits NONE may be left out, as the official SDK reads
    // it; one that does not may not.
    let value = accepted(r#"{"a": 1}"#, &shape);
    assert_eq!(crate::to_surrealql(&value), "{ a: 1, b: NONE }");
    assert!(refused(r#"{"b": "x"}"#, &shape).contains("the field `a` is missing"));
    let mut fields = BTreeMap::new();
    fields.insert(
        "nick".to_owned(),
        Kind::Either(vec![Kind::None, Kind::String]),
    );
    fields.insert("any".to_owned(), Kind::Any);
    let loose = Kind::Literal(KindLiteral::Object(fields));
    assert_eq!(
        crate::to_surrealql(&accepted("{}", &loose)),
        "{ any: NONE, nick: NONE }"
    );
    assert!(refused(r#"{"a": 1, "b": null, "c": 2}"#, &shape).contains("no field `c`"));
}

#[test]
fn geometry_from_geojson() {
    let any_geometry = Kind::Geometry(vec![]);
    let point = accepted(
        r#"{"type": "Point", "coordinates": [1, 2.5]}"#,
        &any_geometry,
    );
    assert!(matches!(point, Value::Geometry(Geometry::Point(_))));
    assert_eq!(crate::to_surrealql(&point), "(1f, 2.5f)");

    let line = r#"{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}"#;
    assert!(matches!(
        accepted(line, &any_geometry),
        Value::Geometry(Geometry::Line(_))
    ));
    let polygon = r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}"#;
    assert!(matches!(
        accepted(polygon, &any_geometry),
        Value::Geometry(Geometry::Polygon(_))
    ));
    let multi_point = r#"{"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]}"#;
    assert!(matches!(
        accepted(multi_point, &any_geometry),
        Value::Geometry(Geometry::MultiPoint(_))
    ));
    let multi_line = r#"{"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}"#;
    assert!(matches!(
        accepted(multi_line, &any_geometry),
        Value::Geometry(Geometry::MultiLine(_))
    ));
    let multi_polygon =
        r#"{"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}"#;
    assert!(matches!(
        accepted(multi_polygon, &any_geometry),
        Value::Geometry(Geometry::MultiPolygon(_))
    ));
    let collection =
        format!(r#"{{"type": "GeometryCollection", "geometries": [{line}, {polygon}]}}"#);
    match accepted(&collection, &any_geometry) {
        Value::Geometry(Geometry::Collection(members)) => assert_eq!(members.len(), 2),
        other => panic!("not a collection: {other:?}"),
    }
    // Other GeoJSON members are ignored.
    let with_bbox = r#"{"type": "Point", "coordinates": [1, 2], "bbox": [1, 2, 1, 2]}"#;
    assert!(matches!(
        accepted(with_bbox, &any_geometry),
        Value::Geometry(Geometry::Point(_))
    ));

    let points = Kind::Geometry(vec![GeometryKind::Point]);
    assert_eq!(kind_name(&points), "geometry<point>");
    assert_eq!(
        refused(line, &points),
        format!(
            "expected geometry<point>, got {} (a line)",
            crate::json(line)
        )
    );
    assert!(
        refused(
            r#"{"type": "Circle", "coordinates": [0, 0]}"#,
            &any_geometry
        )
        .contains("`Circle` is not a GeoJSON geometry type")
    );
    assert!(
        refused(r#"{"type": "Point", "coordinates": [0]}"#, &any_geometry)
            .contains("not those of a Point")
    );
    assert!(
        refused(
            r#"{"type": "Point", "coordinates": ["a", 0]}"#,
            &any_geometry
        )
        .contains("numbers in arrays")
    );
    assert_eq!(
        refused("[0, 0]", &any_geometry),
        "expected geometry, got [0,0] (an array)"
    );
}

#[test]
fn kinds_that_cannot_be_given() {
    for (kind, name) in [
        (Kind::Range, "range"),
        (Kind::Function(None, None), "function"),
        (Kind::File(vec![]), "file"),
    ] {
        let message = refused("\"x\"", &kind);
        assert_eq!(
            message,
            format!("values of kind {name} cannot be given as arguments here")
        );
    }
    assert_eq!(
        refused("[1]", &array_of(Kind::Range, None)),
        "at [0]: values of kind range cannot be given as arguments here"
    );
    assert_same(&accepted("null", &Kind::option(Kind::Range)), &Value::None);
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = format!("\"{}\"", "x".repeat(200));
    let message = refused(&long, &Kind::Int);
    assert!(
        message.contains(&format!("got \"{}…", "x".repeat(59))),
        "{message}"
    );
    assert!(message.len() < 120, "{message}");
}

#[test]
fn errors_carry_their_parts() {
    let error = value_from_json(&json("[1, \"x\"]"), &array_of(Kind::Int, None)).unwrap_err();
    assert_eq!(
        error,
        ValueError::Mismatch {
            path: "[1]".to_owned(),
            expected: "int".to_owned(),
            given: "\"x\"".to_owned(),
            reason: Some("a string".to_owned()),
        }
    );
    let error = value_from_json(&json("1"), &Kind::Range).unwrap_err();
    assert_eq!(
        error,
        ValueError::Unsupported {
            path: String::new(),
            kind: "range".to_owned(),
        }
    );
}

#[test]
fn kind_names_follow_surrealql() {
    assert_eq!(
        kind_name(&array_of(Kind::option(Kind::Int), Some(3))),
        "array<option<int>, 3>"
    );
    assert_eq!(
        kind_name(&Kind::option(Kind::Either(vec![Kind::Int, Kind::String]))),
        "option<int | string>"
    );
    assert_eq!(
        kind_name(&Kind::Record(tables(&["a", "b"]))),
        "record<a | b>"
    );
    assert_eq!(kind_name(&set_of(Kind::Any, None)), "set<any>");
}
