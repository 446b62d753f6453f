//! Reading a multi-statement response the way a guest expects one answer.

use surrealdb::IndexedResults;
use surrealdb::types::{QueryError, Value};

/// `response` if every statement succeeded, or the error that made it
/// fail.
///
/// When several statements fail, the first real failure wins over the
/// statements that were merely skipped because of it (inside a
/// transaction, every statement after a failure reports "not executed",
/// and the statements before it are cancelled too).
pub(crate) fn succeeded(mut response: IndexedResults) -> Result<IndexedResults, surrealdb::Error> {
    let mut errors: Vec<(usize, surrealdb::Error)> = response.take_errors().into_iter().collect();
    if errors.is_empty() {
        return Ok(response);
    }
    errors.sort_by_key(|(index, _)| *index);
    let skipped =
        |error: &surrealdb::Error| matches!(error.query_details(), Some(QueryError::NotExecuted));
    let cause = errors
        .iter()
        .position(|(_, error)| !skipped(error))
        .unwrap_or(0);
    Err(errors.swap_remove(cause).1)
}

/// The value of the last statement of `response`, or the error that made
/// it fail (see [`succeeded`]).
pub(crate) fn last_value(response: IndexedResults) -> Result<Value, surrealdb::Error> {
    let mut response = succeeded(response)?;
    match response.num_statements().checked_sub(1) {
        Some(last) => response.take::<Value>(last),
        None => Ok(Value::None),
    }
}

/// Whether `error` is a transaction conflict, which the database says is
/// safe to retry.
pub(crate) fn is_conflict(error: &surrealdb::Error) -> bool {
    matches!(error.query_details(), Some(QueryError::TransactionConflict))
        || error.message().contains("can be retried")
}
