use surrealdb::Surreal;
use surrealdb::engine::any::{self, Any};

use crate::SurrealError;

/// Opens the database at `address` and selects `namespace` and `database`
/// (the embedded engines create both on the first write).
///
/// `address` is any address the client's `any` engine takes that this
/// build includes: `mem://` (in memory, gone when the last handle is
/// dropped) or `surrealkv://PATH` (a directory of files, durable). The
/// handle is signed in as nothing more than the embedded engine's default,
/// which may do anything: sign a clone in as your caller before you hand it
/// to a [`SurrealContext`](crate::SurrealContext).
///
/// # Errors
///
/// [`SurrealError::Connect`] when the address cannot be opened (a file
/// engine whose directory is locked by another process, for one), and
/// [`SurrealError::Select`] when the namespace or database cannot be used.
pub async fn connect(
    address: &str,
    namespace: &str,
    database: &str,
) -> Result<Surreal<Any>, SurrealError> {
    let db = any::connect(address)
        .await
        .map_err(|error| SurrealError::Connect {
            address: address.to_owned(),
            message: error.to_string(),
        })?;
    db.use_ns(namespace)
        .use_db(database)
        .await
        .map_err(|error| SurrealError::Select {
            namespace: namespace.to_owned(),
            database: database.to_owned(),
            message: error.to_string(),
        })?;
    Ok(db)
}
