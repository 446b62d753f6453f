//! Errors of the engine layer.

/// Why an engine could not be built or a component compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// wasmtime refused the engine configuration.
    #[error("cannot configure the wasmtime engine: {message}")]
    Config {
        /// wasmtime's explanation.
        message: String,
    },
    /// The bytes are not a component wasmtime can compile.
    #[error("cannot compile the module's component: {message}")]
    Compile {
        /// wasmtime's explanation, with its causes.
        message: String,
    },
}
