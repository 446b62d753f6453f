use thiserror::Error;

/// Why a database could not be opened or prepared.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SurrealError {
    /// The address could not be opened: an unknown scheme, an engine this
    /// build does not include, or storage that cannot be opened.
    #[error(
        "cannot open the database at `{address}`: {message} (this build embeds `mem://` and \
         `surrealkv://PATH`)"
    )]
    Connect {
        /// The address as given.
        address: String,
        /// What the client said.
        message: String,
    },
    /// The namespace or database could not be selected or created.
    #[error("cannot use namespace `{namespace}` and database `{database}`: {message}")]
    Select {
        /// The namespace asked for.
        namespace: String,
        /// The database asked for.
        database: String,
        /// What the database said.
        message: String,
    },
}
