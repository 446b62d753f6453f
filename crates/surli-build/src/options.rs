//! What to build and how.

use std::path::PathBuf;

/// The cargo profile to build with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// `--release`, then the custom sections are stripped and `wasm-opt`
    /// runs: what a package is shipped as.
    #[default]
    Release,
    /// cargo's `dev` profile, kept as built: no stripping, no `wasm-opt`.
    /// As `surreal module build --debug` does.
    Debug,
}

/// Whether to shrink the component's core modules with Binaryen's
/// `wasm-opt` (release builds only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WasmOpt {
    /// Run `wasm-opt` from `PATH` when there is one; without it the build
    /// goes on and reports [`BuildEvent::WasmOptMissing`](crate::BuildEvent::WasmOptMissing).
    #[default]
    Auto,
    /// Never run it.
    Off,
    /// Run this program; a build fails when it is missing. A bare name is
    /// looked up on `PATH`.
    Program(PathBuf),
}

/// What `build` builds and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The guest crate's directory: its `Cargo.toml`, `surrealism.toml` and
    /// optional `logo.png` are there. Relative paths are relative to the
    /// current directory.
    pub project_dir: PathBuf,
    /// The package to write; relative to the current directory. `None`
    /// writes `{organisation}-{name}-{version}.surli` in the current
    /// directory.
    pub output: Option<PathBuf>,
    /// Release (the default) or debug.
    pub profile: Profile,
    /// Whether to run `wasm-opt`.
    pub wasm_opt: WasmOpt,
    /// The cargo to run: `$CARGO` when set (as it is under `cargo run` and
    /// for cargo subcommands), else `cargo` from `PATH`.
    pub cargo: PathBuf,
    /// Pass `--locked` to cargo: fail rather than change `Cargo.lock`.
    pub locked: bool,
    /// Pass `--target-dir` to cargo; `None` leaves it to cargo
    /// (`CARGO_TARGET_DIR`, `build.target-dir`, or the workspace's
    /// `target/`).
    pub target_dir: Option<PathBuf>,
    /// Ask cargo for coloured diagnostics (`--color always`), for a UI that
    /// shows them on a terminal; otherwise `--color never`.
    pub color: bool,
    /// Remove `RUSTFLAGS` and `CARGO_ENCODED_RUSTFLAGS` from cargo's
    /// environment.
    ///
    /// Cargo lets either variable replace every `rustflags` of the
    /// project's `.cargo/config.toml`, and guests of SDK 0.6 need theirs
    /// (`--cfg tokio_unstable`). Off by default, because `cargo build`
    /// honours the variables and a user who set them means them; a build
    /// with either set reports a [`BuildEvent::Warning`](crate::BuildEvent::Warning)
    /// saying so. Tools that build with a known configuration (tests, CI
    /// scripts whose `RUSTFLAGS` are meant for the host) turn this on.
    pub clear_rustflags: bool,
}

impl BuildOptions {
    /// The defaults for the guest crate in `project_dir`.
    pub fn new(project_dir: impl Into<PathBuf>) -> Self {
        Self {
            project_dir: project_dir.into(),
            output: None,
            profile: Profile::default(),
            wasm_opt: WasmOpt::default(),
            cargo: std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from),
            locked: false,
            target_dir: None,
            color: false,
            clear_rustflags: false,
        }
    }
}

impl Default for BuildOptions {
    /// The defaults for the current directory.
    fn default() -> Self {
        Self::new(".")
    }
}
