//! Whole argument lists against the parameters of a function.

use surrealdb_types::{Kind, Value};

use crate::names::param_list;
use crate::read::admits_none;
use crate::{ArgsError, ValueError};

/// Reads `given` against `params` with `read_one`, checking the count first.
pub(crate) fn read_args<T>(
    given: &[T],
    params: &[(String, Kind)],
    read_one: impl Fn(&T, &Kind) -> Result<Value, ValueError>,
) -> Result<Vec<Value>, ArgsError> {
    let optional = params
        .iter()
        .rev()
        .take_while(|(_, kind)| admits_none(kind))
        .count();
    let required = params.len() - optional;
    let expected = if given.len() > params.len() {
        Some(params.len())
    } else if given.len() < required {
        Some(required)
    } else {
        None
    };
    if let Some(expected) = expected {
        return Err(ArgsError::Arity {
            expected,
            given: given.len(),
            params: param_list(params),
        });
    }
    let mut values = Vec::with_capacity(params.len());
    for (i, (name, kind)) in params.iter().enumerate() {
        let value = match given.get(i) {
            Some(item) => read_one(item, kind).map_err(|error| ArgsError::Argument {
                position: i + 1,
                name: name.clone(),
                error: Box::new(error),
            })?,
            None => Value::None,
        };
        values.push(value);
    }
    Ok(values)
}
