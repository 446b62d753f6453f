//! Whole argument lists: counting, optional trailing parameters, naming.

use serde_json::json;
use surli_values::{ArgsError, ValueError, args_from_json, args_from_text};
use surrealdb_types::{Kind, Value};

use crate::{assert_same, int, string};

fn params(list: &[(&str, Kind)]) -> Vec<(String, Kind)> {
    list.iter()
        .map(|(name, kind)| ((*name).to_owned(), kind.clone()))
        .collect()
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn arguments_are_read_in_order() {
    let p = params(&[("a", Kind::Int), ("b", Kind::String)]);
    let values = args_from_text(&words(&["1", "x"]), &p).unwrap();
    assert_eq!(values.len(), 2);
    assert_same(&values[0], &int(1));
    assert_same(&values[1], &string("x"));
    let values = args_from_json(&[json!(1), json!("x")], &p).unwrap();
    assert_same(&values[1], &string("x"));
    assert!(args_from_text(&[], &[]).unwrap().is_empty());
}

#[test]
fn counts_are_checked() {
    let p = params(&[("a", Kind::Int), ("b", Kind::String)]);
    let error = args_from_text(&words(&["1"]), &p).unwrap_err();
    assert_eq!(
        error,
        ArgsError::Arity {
            expected: 2,
            given: 1,
            params: "a: int, b: string".to_owned(),
        }
    );
    assert_eq!(
        error.to_string(),
        "missing arguments: expected at least 2 (a: int, b: string), got 1"
    );
    let error = args_from_text(&words(&["1", "x", "y"]), &p).unwrap_err();
    assert_eq!(
        error.to_string(),
        "too many arguments: expected at most 2 (a: int, b: string), got 3"
    );
    let error = args_from_json(&[json!(1)], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "too many arguments: expected at most 0 (no parameters), got 1"
    );
}

#[test]
fn trailing_parameters_that_admit_none_may_be_left_out() {
    let p = params(&[
        ("a", Kind::Int),
        ("b", Kind::option(Kind::Int)),
        ("c", Kind::Any),
    ]);
    let values = args_from_text(&words(&["1"]), &p).unwrap();
    assert_eq!(values.len(), 3);
    assert_same(&values[0], &int(1));
    assert_same(&values[1], &Value::None);
    assert_same(&values[2], &Value::None);
    let values = args_from_json(&[json!(1), json!(2)], &p).unwrap();
    assert_same(&values[1], &int(2));
    assert_same(&values[2], &Value::None);
    let error = args_from_text(&[], &p).unwrap_err();
    assert_eq!(
        error.to_string(),
        "missing arguments: expected at least 1 (a: int, b: option<int>, c: any), got 0"
    );
}

#[test]
fn an_optional_parameter_before_a_required_one_must_be_given() {
    let p = params(&[("a", Kind::option(Kind::Int)), ("b", Kind::Int)]);
    let error = args_from_text(&words(&["5"]), &p).unwrap_err();
    assert!(matches!(
        error,
        ArgsError::Arity {
            expected: 2,
            given: 1,
            ..
        }
    ));
    let values = args_from_text(&words(&["null", "5"]), &p).unwrap();
    assert_same(&values[0], &Value::None);
}

#[test]
fn errors_name_the_argument() {
    let p = params(&[("a", Kind::Int), ("b", Kind::Int)]);
    let error = args_from_json(&[json!(1), json!("x")], &p).unwrap_err();
    assert_eq!(
        error.to_string(),
        "argument 2 `b`: expected int, got \"x\" (a string)"
    );
    match error {
        ArgsError::Argument {
            position,
            name,
            error,
        } => {
            assert_eq!(position, 2);
            assert_eq!(name, "b");
            assert!(
                matches!(*error, ValueError::Mismatch { ref expected, .. } if expected == "int")
            );
        }
        other => panic!("not an argument error: {other:?}"),
    }
    let error = args_from_text(&words(&["x", "1"]), &p).unwrap_err();
    assert_eq!(
        error.to_string(),
        "argument 1 `a`: expected int, got `x` (not JSON; quote text as \"…\")"
    );
    let nested = params(&[("list", crate::array_of(Kind::Datetime, None))]);
    let error = args_from_json(&[json!(["2024-01-01", "soon"])], &nested).unwrap_err();
    assert_eq!(
        error.to_string(),
        "argument 1 `list`: at [1]: expected datetime, got \"soon\" \
         (not an RFC 3339 datetime such as 2024-01-01T00:00:00Z)"
    );
}
