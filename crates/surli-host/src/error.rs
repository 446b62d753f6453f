use thiserror::Error;

/// What went wrong on the host side of the plugin boundary.
///
/// Host functions never return this to the guest as such: they turn every
/// failure into the message of their WIT `result` error. `HostError` is for
/// the embedder and the pool: building the linker and the WASI context,
/// resolving and binding a component's exports, and the [`codec`](crate::codec)
/// helpers.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HostError {
    /// Bytes did not decode as the FlatBuffers message expected.
    #[error("cannot decode {what}: {message}")]
    Decode {
        /// What was being decoded, such as `value` or `function arguments`.
        what: &'static str,
        /// Why it failed, from `surrealdb-types`.
        message: String,
    },

    /// A value could not be encoded.
    #[error("cannot encode {what}: {message}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why it failed, from `surrealdb-types`.
        message: String,
    },

    /// The component lacks an export the host requires (only `invoke` is
    /// required).
    #[error(
        "the component does not export `{name}`, so it was not built with the surrealism SDK; \
         build the module with `surreal module build` or `surli build`"
    )]
    MissingExport {
        /// The WIT name of the missing export.
        name: &'static str,
    },

    /// An export has the right name but the wrong kind or signature.
    #[error(
        "the component's `{name}` export does not match the surrealism:plugin world: {message}; \
         rebuild the module with a surrealism SDK of ABI 2 (0.3.x to 0.6.x)"
    )]
    ExportType {
        /// The WIT name of the export.
        name: &'static str,
        /// What did not match.
        message: String,
    },

    /// The WASI context could not be built, for example because the
    /// attached directory could not be opened.
    #[error("cannot set up WASI for the module: {message}")]
    Wasi {
        /// What failed.
        message: String,
    },

    /// The answer of a `sql` or `run` host call encodes to more bytes than
    /// [`ModuleEnv::max_answer_bytes`](crate::ModuleEnv::max_answer_bytes)
    /// allows; the guest receives this as the host call's error.
    #[error(
        "the answer of `{function}` is {size} bytes encoded, over the host's limit of {limit} \
         bytes for one answer (max_result_bytes); ask for less at once (LIMIT and START, fewer \
         fields) and page through the rest"
    )]
    AnswerTooLarge {
        /// `sql` or `run`.
        function: &'static str,
        /// The size of the encoded answer.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },

    /// The linker could not be built.
    #[error("cannot build the linker for surrealism:plugin: {message}")]
    Linker {
        /// What failed.
        message: String,
    },
}

impl From<surli_codec::CodecError> for HostError {
    fn from(error: surli_codec::CodecError) -> Self {
        match error {
            surli_codec::CodecError::Decode { what, message } => Self::Decode { what, message },
            surli_codec::CodecError::Encode { what, message } => Self::Encode { what, message },
        }
    }
}
