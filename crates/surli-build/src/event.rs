//! Progress of a build, for a UI.

use std::path::PathBuf;

/// Something that happened during a build, in order. Every line cargo
/// prints on stderr arrives as either [`BuildEvent::CargoStatus`] or
/// [`BuildEvent::CargoMessage`], so a UI that shows both loses nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildEvent {
    /// Something the user should know that does not stop the build: an
    /// unknown key in `surrealism.toml`, a `RUSTFLAGS` that overrides the
    /// project's rustflags.
    Warning(String),
    /// `cargo build` started.
    CargoStarted {
        /// The command line, for showing.
        command: String,
        /// About how many [`BuildEvent::Compiled`] events a cold build
        /// gives (fresh units count too); `None` when unknown. An estimate:
        /// `done` may pass it.
        units_estimate: Option<usize>,
    },
    /// One of cargo's status lines (`   Compiling foo v1.0.0`,
    /// `    Blocking waiting for file lock ...`, `    Finished ...`).
    CargoStatus {
        /// The verb: `Compiling`, `Finished`, `Blocking`, `Downloaded`...
        verb: String,
        /// The rest of the line.
        message: String,
    },
    /// Cargo finished a compilation unit (or found it fresh).
    Compiled {
        /// The package it belongs to.
        crate_name: String,
        /// Units finished so far, this one included.
        done: usize,
        /// Whether it was already up to date.
        fresh: bool,
    },
    /// A line cargo printed on stderr that is not a status line: warnings,
    /// errors and their notes, rendered as cargo renders them (coloured when
    /// [`BuildOptions::color`](crate::BuildOptions::color) is on).
    CargoMessage(String),
    /// `cargo build` succeeded.
    CargoFinished {
        /// The component it built.
        artifact: PathBuf,
        /// Its size.
        bytes: usize,
    },
    /// The custom sections were stripped (release builds).
    Stripped {
        /// Size before.
        before: usize,
        /// Size after.
        after: usize,
    },
    /// `wasm-opt` ran on every core module of the component.
    WasmOpt {
        /// Size before.
        before: usize,
        /// Size after.
        after: usize,
        /// How many core modules it optimised.
        modules: usize,
    },
    /// `wasm-opt` is not on `PATH`, so the component was not optimised.
    WasmOptMissing,
    /// The component was asked what it exports.
    Introspected {
        /// How many functions it exports.
        functions: usize,
    },
    /// The package is being written.
    Packing,
    /// The package was written and read back.
    Packed {
        /// Where.
        path: PathBuf,
        /// Its size.
        bytes: u64,
    },
}
