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
