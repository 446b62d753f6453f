//! Turns a guest crate into a `.surli` package without a database: what
//! SurrealDB's `surreal module build` does, as a library.
//!
//! [`build`] takes a Rust crate written with the `surrealism` guest SDK and
//! goes through these steps, reporting each as a [`BuildEvent`]:
//!
//! 1. **Configuration.** Reads `surrealism.toml` from the project directory
//!    (unknown keys are warnings, kept in [`BuildOutput::warnings`]) and
//!    stamps `abi = 2` on it: the package's `surrealism.toml` says ABI 2
//!    whatever the source said, because the ABI follows from the SDK, which
//!    the next step checks. `target` can only be `rust` (the parser refuses
//!    anything else). The optional `logo.png` beside it and the `[attach]
//!    fs` directory are checked here too, before anything is compiled.
//! 2. **Metadata.** `cargo metadata` finds the package whose manifest is
//!    the project's `Cargo.toml`, checks that its library is a `cdylib` and
//!    that it depends on a `surrealism` SDK that speaks ABI 2: 0.3.1 up to,
//!    not including, 0.7.0 ([`check_sdk_version`]).
//! 3. **Compile.** `cargo build -p <crate> --target wasm32-wasip2
//!    [--release]`, reading cargo's JSON messages for progress and for the
//!    path of the component it built, and passing on every line cargo
//!    prints on stderr.
//! 4. **Shrink** (release builds only). Strips the custom sections that
//!    carry debug info, names, source maps, linker metadata, target
//!    features and producers, in the component and every core module and
//!    component nested in it ([`strip_custom_sections`]), then runs
//!    Binaryen's `wasm-opt` on each core module when it is installed
//!    ([`WasmOpt`]), and validates the result.
//! 5. **Introspect.** Instantiates the component once, without `init`, with
//!    [`surli_pool::Runtime::describe_component`], and writes its answers as
//!    `exports.toml`.
//! 6. **Pack.** Writes the package with [`surli_package::PackageWriter`]
//!    (reproducibly: the same inputs give the same bytes) through a
//!    temporary file renamed into place, so a failed build never leaves a
//!    partial package, then reads it back with surli's reader.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use surli_build::{BuildEvent, BuildOptions};
//! use surli_pool::{Runtime, RuntimeOptions};
//!
//! let runtime = Runtime::new(RuntimeOptions::default())?;
//! let options = BuildOptions::new("plugins/greeter");
//! let built = surli_build::build(&options, &runtime, |event| {
//!     if let BuildEvent::CargoMessage(line) = event {
//!         eprintln!("{line}");
//!     }
//! })
//! .await?;
//! println!("{} ({} functions)", built.package_path.display(), built.functions.len());
//! # Ok(()) }
//! ```
//!
//! # Differences from `surreal module build`
//!
//! - No database or server code: the component is introspected by surli's
//!   own runtime, and the package is written by surli's writer (entries in
//!   the original's order, but with fixed tar metadata, so builds are
//!   reproducible, and symbolic links in the attached directory refused
//!   rather than followed out of it).
//! - `wasm-opt` is the program from `PATH` rather than a linked copy of
//!   Binaryen; without it the build goes on unoptimised and says so.
//! - The SDK check accepts every ABI-2 release (0.3.1 to 0.6.x), not only
//!   the one release the tool was built with; the crate must be a `cdylib`.
//! - The logo and attached directory are checked before compiling, not
//!   after, so their mistakes cost no build.
//! - The component is taken from the path cargo reports rather than
//!   guessed from the target directory.
//! - `RUSTFLAGS` is passed on as `cargo build` would; see
//!   [`BuildOptions::clear_rustflags`].
#![deny(missing_docs)]

mod assets;
mod cargo;
mod error;
mod event;
mod options;
mod project;
mod strip;
mod wasm_opt;

use std::path::{Path, PathBuf};

use surli_config::ModuleConfig;
use surli_package::{COMPONENT_PREAMBLE, Package, PackageWriter, ReadOptions};
use surli_pool::{FunctionSignature, Runtime};

pub use assets::{LOGO_FILE, MAX_LOGO_BYTES, attach_dir, read_logo};
pub use cargo::TARGET;
pub use error::BuildError;
pub use event::BuildEvent;
pub use options::{BuildOptions, Profile, WasmOpt};
pub use project::{Project, SDK_END, SDK_MIN, check_sdk_version};
pub use strip::{is_stripped_section, strip_custom_sections};
pub use wasm_opt::WASM_OPT_ARGS;

/// What a successful build made.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    /// The package written.
    pub package_path: PathBuf,
    /// Its size.
    pub package_bytes: u64,
    /// The SHA-256 of the package file, in hex.
    pub package_sha256: String,
    /// The size of the component inside it.
    pub wasm_bytes: usize,
    /// The configuration packed, `abi = 2` stamped.
    pub config: ModuleConfig,
    /// The functions the component exports, as it reported them.
    pub functions: Vec<FunctionSignature>,
    /// The `surrealism` SDK version the guest was built with.
    pub sdk_version: semver::Version,
    /// Warnings along the way (also reported as [`BuildEvent::Warning`]).
    pub warnings: Vec<String>,
}

/// Builds the guest crate `options.project_dir` into a package; see the
/// crate docs for the steps. `on_event` hears about each step as it
/// happens, on whichever thread runs it.
///
/// Compiling and packing run on tokio's blocking threads, and introspection
/// loads the component in `runtime`, so this needs a tokio runtime with
/// blocking threads (any multi-threaded one).
pub async fn build<F>(
    options: &BuildOptions,
    runtime: &Runtime,
    on_event: F,
) -> Result<BuildOutput, BuildError>
where
    F: FnMut(BuildEvent) + Send + 'static,
{
    let owned = options.clone();
    let (prepared, mut on_event) = blocking(move || {
        let mut on_event = on_event;
        let prepared = prepare(&owned, &mut on_event);
        (prepared, on_event)
    })
    .await?;
    let prepared = prepared?;

    let functions = runtime
        .describe_component(&prepared.config, &prepared.wasm)
        .await
        .map_err(|e| BuildError::Introspect {
            message: e.to_string(),
        })?;
    on_event(BuildEvent::Introspected {
        functions: functions.len(),
    });

    on_event(BuildEvent::Packing);
    let output = options
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(prepared.config.file_name()));
    let exports = surli_pool::exports_manifest(&functions);
    let (packed, prepared, mut on_event) = blocking(move || {
        let packed = pack(&prepared, &exports, &output);
        (packed, prepared, on_event)
    })
    .await?;
    let (package_path, package_bytes, package_sha256) = packed?;
    on_event(BuildEvent::Packed {
        path: package_path.clone(),
        bytes: package_bytes,
    });
    Ok(BuildOutput {
        package_path,
        package_bytes,
        package_sha256,
        wasm_bytes: prepared.wasm.len(),
        config: prepared.config,
        functions,
        sdk_version: prepared.sdk_version,
        warnings: prepared.warnings,
    })
}

/// Everything before introspection, ready to pack.
struct Prepared {
    config: ModuleConfig,
    wasm: Vec<u8>,
    logo: Option<Vec<u8>>,
    attach: Option<PathBuf>,
    sdk_version: semver::Version,
    warnings: Vec<String>,
}

fn prepare(
    options: &BuildOptions,
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<Prepared, BuildError> {
    let dir = std::fs::canonicalize(&options.project_dir).map_err(|e| BuildError::Io {
        path: options.project_dir.clone(),
        message: format!("the project directory cannot be opened: {e}"),
    })?;

    let (config, config_warnings, config_path) = project::read_config(&dir)?;
    let mut warnings = Vec::new();
    for warning in config_warnings {
        let text = format!("{}: {warning}", config_path.display());
        on_event(BuildEvent::Warning(text.clone()));
        warnings.push(text);
    }
    let logo = read_logo(&dir)?;
    let attach = attach_dir(&config, &dir)?;
    if let Some(output) = &options.output
        && output.extension() != Some(std::ffi::OsStr::new("surli"))
    {
        return Err(BuildError::Package {
            path: output.clone(),
            message: "a package's file name must end in `.surli`".to_owned(),
        });
    }
    let wasm_opt = match options.profile {
        Profile::Release => wasm_opt::program(&options.wasm_opt)?,
        Profile::Debug => None,
    };

    let project = cargo::metadata(options, &dir, &dir.join("Cargo.toml"))?;
    let mut on_cargo_event = |event: BuildEvent| {
        if let BuildEvent::Warning(text) = &event {
            warnings.push(text.clone());
        }
        on_event(event);
    };
    let artifact = cargo::build(options, &dir, &project, &mut on_cargo_event)?;
    let mut wasm = std::fs::read(&artifact).map_err(|e| BuildError::io(&artifact, &e))?;
    check_component(&wasm, &artifact)?;
    for warning in component_imports(&wasm)
        .iter()
        .filter_map(|import| surli_pool::portability_warning(import))
    {
        on_event(BuildEvent::Warning(warning.clone()));
        warnings.push(warning);
    }
    on_event(BuildEvent::CargoFinished {
        artifact,
        bytes: wasm.len(),
    });

    if options.profile == Profile::Release {
        let before = wasm.len();
        wasm = strip_custom_sections(&wasm)?;
        strip::validate(&wasm)?;
        on_event(BuildEvent::Stripped {
            before,
            after: wasm.len(),
        });
        match wasm_opt {
            Some(program) => {
                let before = wasm.len();
                let (optimised, modules) = wasm_opt::optimise(&wasm, &program)?;
                strip::validate(&optimised)?;
                wasm = optimised;
                on_event(BuildEvent::WasmOpt {
                    before,
                    after: wasm.len(),
                    modules,
                });
            }
            None if options.wasm_opt == WasmOpt::Auto => on_event(BuildEvent::WasmOptMissing),
            None => {}
        }
    }

    Ok(Prepared {
        config,
        wasm,
        logo,
        attach,
        sdk_version: project.sdk_version,
        warnings,
    })
}

fn check_component(wasm: &[u8], path: &Path) -> Result<(), BuildError> {
    if wasm.starts_with(&COMPONENT_PREAMBLE) {
        return Ok(());
    }
    let found = if wasm.starts_with(b"\0asm\x01\0\0\0") {
        "a core WebAssembly module"
    } else if wasm.starts_with(b"\0asm") {
        "a WebAssembly binary of an unknown version"
    } else {
        "not WebAssembly"
    };
    Err(BuildError::NotAComponent {
        path: path.to_path_buf(),
        found,
    })
}

/// The names of a component's own imports (not those of the modules and
/// components nested in it). A component that does not parse has none
/// here; loading it reports why.
fn component_imports(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    // Nested modules and components each end with an `End` of their own.
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(wasmparser::Payload::ComponentImportSection(reader)) if depth == 0 => {
                names.extend(reader.into_iter().flatten().map(|i| i.name.name.to_owned()));
            }
            Ok(
                wasmparser::Payload::ModuleSection { .. }
                | wasmparser::Payload::ComponentSection { .. },
            ) => depth += 1,
            Ok(wasmparser::Payload::End(_)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    names
}

/// Writes the package and reads it back; returns its path, size and hash.
fn pack(
    prepared: &Prepared,
    exports: &surli_package::ExportsManifest,
    output: &Path,
) -> Result<(PathBuf, u64, String), BuildError> {
    let failed = |message: String| BuildError::Package {
        path: output.to_path_buf(),
        message,
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| failed(format!("cannot create `{}`: {e}", parent.display())))?;
    }
    let mut writer = PackageWriter::new(&prepared.config, &prepared.wasm, exports);
    if let Some(logo) = &prepared.logo {
        writer = writer.logo(logo);
    }
    if let Some(dir) = &prepared.attach {
        writer = writer.fs_dir(dir);
    }
    writer
        .write_file(output)
        .map_err(|e| failed(e.to_string()))?;
    let package = Package::read_file(output, &ReadOptions::default())
        .map_err(|e| failed(format!("surli cannot read back what it wrote: {e}")))?;
    let bytes = std::fs::metadata(output)
        .map_err(|e| BuildError::io(output, &e))?
        .len();
    Ok((output.to_path_buf(), bytes, package.package_sha256_hex()))
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, BuildError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BuildError::Interrupted {
            message: e.to_string(),
        })
}
