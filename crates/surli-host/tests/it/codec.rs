//! The codec round-trips what guests send and receive.

use std::ops::Bound;

use surli_host::{HostError, codec};
use surrealdb_types::{Kind, Number, Value};

#[test]
fn args_round_trip() {
    let args = vec![
        Value::Number(Number::Int(1)),
        Value::String("two".to_owned()),
        Value::Bool(true),
        Value::None,
    ];
    let bytes = codec::encode_args(&args).unwrap();
    assert_eq!(codec::decode_args(&bytes).unwrap(), args);
}

#[test]
fn a_value_round_trips() {
    let value = Value::String("hello".to_owned());
    assert_eq!(
        codec::decode_value(&codec::encode_value(&value).unwrap()).unwrap(),
        value
    );
}

#[test]
fn kinds_and_arguments_decode() {
    let kind = surrealdb_types::encode_kind(&Kind::Int).unwrap();
    assert_eq!(codec::decode_kind(&kind).unwrap(), Kind::Int);
    let arguments =
        surrealdb_types::encode_argument_list(&[("a", Kind::String), ("b", Kind::Bool)]).unwrap();
    assert_eq!(
        codec::decode_arguments(&arguments).unwrap(),
        [("a".to_owned(), Kind::String), ("b".to_owned(), Kind::Bool)]
    );
}

#[test]
fn ranges_round_trip() {
    let start = Bound::Included("a".to_owned());
    let end = Bound::Excluded("m".to_owned());
    let range = codec::decode_range(&codec::encode_range(&start, &end).unwrap()).unwrap();
    assert_eq!((range.start, range.end), (start, end));
}

#[test]
fn malformed_bytes_are_decode_errors_naming_what() {
    for (error, what) in [
        (codec::decode_value(b"junk").unwrap_err(), "value"),
        (codec::decode_args(b"junk").unwrap_err(), "arguments"),
        (
            codec::decode_arguments(b"junk").unwrap_err(),
            "function parameters",
        ),
        (codec::decode_kind(b"junk").unwrap_err(), "kind"),
        (codec::decode_entries(b"junk").unwrap_err(), "entries"),
        (codec::decode_range(b"junk").unwrap_err(), "key range"),
    ] {
        let HostError::Decode { what: seen, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*seen, what);
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot decode {what}: "))
        );
    }
}

#[test]
fn an_empty_buffer_is_not_a_value() {
    assert!(codec::decode_value(&[]).is_err());
}
