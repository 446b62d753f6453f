#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests for surli-codec, in one binary so they link once.
//! (surli-host's tests prove the same functions through its re-export,
//! including a verified FlatBuffers message that panics `surrealdb-types`.)

use std::ops::Bound;

use surli_codec::CodecError;
use surrealdb_types::{Kind, Number, Value};

#[test]
fn every_payload_round_trips() {
    let args = vec![
        Value::Number(Number::Int(1)),
        Value::String("two".to_owned()),
        Value::None,
    ];
    let bytes = surli_codec::encode_args(&args).unwrap();
    assert_eq!(surli_codec::decode_args(&bytes).unwrap(), args);
    assert_eq!(
        surli_codec::decode_args(&surli_codec::encode_values(&args).unwrap()).unwrap(),
        args
    );

    let value = Value::Bool(true);
    let bytes = surli_codec::encode_value(&value).unwrap();
    assert_eq!(surli_codec::decode_value(&bytes).unwrap(), value);

    let entries = vec![("x".to_owned(), Value::Number(Number::Int(10)))];
    let bytes = surli_codec::encode_entries(&entries).unwrap();
    assert_eq!(surli_codec::decode_entries(&bytes).unwrap(), entries);

    let (start, end) = (Bound::Included("a".to_owned()), Bound::Unbounded);
    let bytes = surli_codec::encode_range(&start, &end).unwrap();
    assert_eq!(surli_codec::decode_range(&bytes).unwrap(), (start, end));

    let kind = surrealdb_types::encode_kind(&Kind::Int).unwrap();
    assert_eq!(surli_codec::decode_kind(&kind).unwrap(), Kind::Int);
    let arguments = surrealdb_types::encode_argument_list(&[("a", Kind::String)]).unwrap();
    assert_eq!(
        surli_codec::decode_arguments(&arguments).unwrap(),
        [("a".to_owned(), Kind::String)]
    );
}

#[test]
fn junk_is_a_decode_error_naming_what() {
    for (outcome, what) in [
        (surli_codec::decode_value(b"junk").map(drop), "value"),
        (surli_codec::decode_args(b"junk").map(drop), "arguments"),
        (
            surli_codec::decode_arguments(b"junk").map(drop),
            "function parameters",
        ),
        (surli_codec::decode_kind(b"junk").map(drop), "kind"),
        (surli_codec::decode_entries(b"junk").map(drop), "entries"),
        (surli_codec::decode_range(b"junk").map(drop), "key range"),
    ] {
        let error = outcome.unwrap_err();
        let CodecError::Decode { what: seen, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(*seen, what);
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot decode {what}: ")),
            "{error}"
        );
    }
}

#[test]
fn short_inputs_are_errors_not_panics() {
    for len in 0..16 {
        let bytes = vec![0xff; len];
        assert!(surli_codec::decode_value(&bytes).is_err());
        assert!(surli_codec::decode_args(&bytes).is_err());
        assert!(surli_codec::decode_arguments(&bytes).is_err());
        assert!(surli_codec::decode_kind(&bytes).is_err());
        assert!(surli_codec::decode_entries(&bytes).is_err());
        assert!(surli_codec::decode_range(&bytes).is_err());
    }
}

/// Arguments of every shape the encoder meets: nothing, scalars, nested
/// containers, and one large enough that the per-thread builder is let go
/// after it.
fn argument_lists() -> Vec<Vec<Value>> {
    use surrealdb_types::{Array, Object};
    let mut object = Object::new();
    object.insert("name".to_owned(), Value::String("Ada".to_owned()));
    object.insert(
        "tags".to_owned(),
        Value::Array(Array::from(vec![Value::Null, Value::Bool(false)])),
    );
    vec![
        vec![],
        vec![
            Value::Number(Number::Int(40)),
            Value::Number(Number::Int(2)),
        ],
        vec![Value::String("héllo".to_owned()), Value::None, Value::Null],
        vec![Value::Object(object), Value::Number(Number::Float(-0.5))],
        vec![Value::String("x".repeat(200_000))],
        vec![Value::Number(Number::Int(7))],
    ]
}

#[test]
fn arguments_are_the_bytes_surrealdb_types_writes_however_often_a_thread_encodes() {
    // Twice over, on one thread: the kept builder must leave nothing of one
    // encoding in the next, before and after the large one.
    for _ in 0..2 {
        for args in argument_lists() {
            let ours = surli_codec::encode_args(&args).unwrap();
            let theirs = surrealdb_types::encode_value_list(&args).unwrap();
            assert_eq!(ours, theirs, "{args:?}");
            assert_eq!(surli_codec::decode_args(&ours).unwrap(), args);
        }
    }
    // And on threads of their own, at once.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for args in argument_lists() {
                    let ours = surli_codec::encode_args(&args).unwrap();
                    assert_eq!(ours, surrealdb_types::encode_value_list(&args).unwrap());
                }
            });
        }
    });
}
