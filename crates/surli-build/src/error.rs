//! Why a build failed.
//!
//! Every message is complete on its own: the cause is written into the text
//! (never only chained through `source()`), it names the file or crate at
//! fault, and where there is an obvious fix it says what to do.

use std::path::PathBuf;

use crate::project::{SDK_ACCEPTED, SDK_SUGGESTED};

/// Why `build` (or a step of it) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `surrealism.toml` is missing, unreadable or invalid.
    #[error("`{}`: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        message: String,
    },

    /// A program (cargo, wasm-opt) could not be started at all.
    #[error("cannot run `{program}`: {message}")]
    Spawn {
        /// The program as it was named.
        program: String,
        /// What the operating system said, and what to do.
        message: String,
    },

    /// `cargo metadata` failed or said something this crate cannot read.
    #[error("`cargo metadata` in `{}` failed: {message}", dir.display())]
    Metadata {
        /// The project directory it ran in.
        dir: PathBuf,
        /// Cargo's own words, or what could not be read.
        message: String,
    },

    /// The project directory holds no package of its own (a virtual
    /// workspace manifest, say).
    #[error(
        "`{}` is not the manifest of a package in this cargo workspace; point the build at the \
         directory of the guest crate itself (the one with `surrealism.toml` and \
         `[lib] crate-type = [\"cdylib\"]`)",
        manifest.display()
    )]
    NotAPackage {
        /// The manifest that was looked for.
        manifest: PathBuf,
    },

    /// The guest does not depend on an ABI-2 `surrealism` SDK.
    #[error("{}", sdk_message(package, found.as_ref()))]
    Sdk {
        /// The guest crate.
        package: String,
        /// The `surrealism` version it resolves to; `None` when it does not
        /// depend on `surrealism` at all.
        found: Option<semver::Version>,
    },

    /// The guest crate does not build a `cdylib`, so there is no component.
    #[error(
        "the crate `{package}` ({}) builds no cdylib (its library crate types: {}); a guest \
         must be one: add `[lib]` with `crate-type = [\"cdylib\"]` to its Cargo.toml",
        manifest.display(),
        if crate_types.is_empty() { "none, it has no library".to_owned() } else { crate_types.join(", ") }
    )]
    NotCdylib {
        /// The guest crate.
        package: String,
        /// Its manifest.
        manifest: PathBuf,
        /// The crate types of its library, empty without one.
        crate_types: Vec<String>,
    },

    /// The `wasm32-wasip2` target is not installed for the toolchain.
    #[error(
        "cargo could not build for wasm32-wasip2 because the toolchain has no standard library \
         for it (cargo's messages above say `can't find crate for core`): run `rustup target \
         add wasm32-wasip2` and build again"
    )]
    TargetMissing,

    /// `cargo build` failed.
    #[error("`cargo build` of `{package}` failed ({status}); cargo's messages above say why")]
    CargoFailed {
        /// The guest crate.
        package: String,
        /// How cargo exited.
        status: String,
    },

    /// Cargo finished without reporting the guest's `.wasm`.
    #[error(
        "`cargo build` of `{package}` succeeded but reported no .wasm file for its cdylib; is \
         the crate's library a cdylib built for wasm32-wasip2?"
    )]
    NoArtifact {
        /// The guest crate.
        package: String,
    },

    /// The built `.wasm` is not a WebAssembly component.
    #[error(
        "`{}` is {found}, not a WebAssembly component: Surrealism guests are components built \
         for wasm32-wasip2 (core modules and WASI preview 1 are unsupported)",
        path.display()
    )]
    NotAComponent {
        /// The file cargo built.
        path: PathBuf,
        /// What it is instead.
        found: &'static str,
    },

    /// The component could not be read or rewritten.
    #[error("{message}")]
    Wasm {
        /// What wasmparser found, and where.
        message: String,
    },

    /// `wasm-opt` was asked for by path and is not there.
    #[error(
        "wasm-opt was not found at `{}`: install binaryen (e.g. `apt install binaryen`) or \
         build without wasm-opt",
        program.display()
    )]
    WasmOptNotFound {
        /// The program that was asked for.
        program: PathBuf,
    },

    /// `wasm-opt` failed on one of the component's core modules.
    #[error("`{}` failed on core module {module} of the component ({status}): {stderr}", program.display())]
    WasmOpt {
        /// The program that ran.
        program: PathBuf,
        /// Which core module (0-based, in the order they appear).
        module: usize,
        /// How it exited.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },

    /// `logo.png` is not a usable logo.
    #[error("`{}` cannot be the package's logo: {problem}", path.display())]
    Logo {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        problem: String,
    },

    /// The directory `[attach] fs` names is not a usable directory.
    #[error(
        "`[attach] fs = \"{written}\"` in surrealism.toml names `{}`, {problem}",
        path.display()
    )]
    AttachDir {
        /// The value as written in `surrealism.toml`.
        written: String,
        /// Where it resolves to.
        path: PathBuf,
        /// What is wrong with it and what to do.
        problem: String,
    },

    /// The component could not be loaded to ask it what it exports.
    #[error(
        "cannot list the functions the component exports (it is instantiated once, without \
         `init`, to ask): {message}"
    )]
    Introspect {
        /// What the runtime said.
        message: String,
    },

    /// The package could not be written, or read back.
    #[error("cannot write the package `{}`: {message}", path.display())]
    Package {
        /// The package file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// Reading or writing a file failed.
    #[error("`{}`: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        message: String,
    },

    /// A step running on a blocking thread panicked or was cancelled.
    #[error("the build stopped unexpectedly: {message}")]
    Interrupted {
        /// What the task runtime said.
        message: String,
    },
}

impl BuildError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            message: error.to_string(),
        }
    }

    pub(crate) fn wasm(context: &str, error: &wasmparser::BinaryReaderError) -> Self {
        Self::Wasm {
            message: format!("{context}: {error}"),
        }
    }
}

fn sdk_message(package: &str, found: Option<&semver::Version>) -> String {
    match found {
        None => format!(
            "the crate `{package}` does not depend on the `surrealism` guest SDK, so it cannot \
             be a Surrealism plugin; add `surrealism = \"{SDK_SUGGESTED}\"` under \
             `[dependencies]` in its Cargo.toml (surli builds guests of the SDKs \
             {SDK_ACCEPTED}, which speak ABI 2)"
        ),
        Some(version) => format!(
            "the crate `{package}` uses surrealism {version}, but surli builds only guests of \
             the SDKs that speak ABI 2, surrealism {SDK_ACCEPTED}; depend on \
             `surrealism = \"{SDK_SUGGESTED}\"` (or a 0.4 to 0.6 release) in its Cargo.toml and \
             run `cargo update -p surrealism`"
        ),
    }
}
