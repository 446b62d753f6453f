//! `surli build`: a guest crate into a `.surli` package, as `surreal module
//! build` does, without a database (the steps are `surli-build`'s).
//!
//! On a terminal, cargo's progress is a bar; cargo's warnings and errors
//! are printed above it as cargo renders them. Without a terminal the bar
//! hides itself and cargo's own status lines are printed instead, so a log
//! reads like a cargo build. Every step line goes to stderr; the one-line
//! summary of the package goes to stdout.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use surli::{Runtime, RuntimeOptions};
use surli_build::{BuildEvent, BuildOptions, Profile, WasmOpt};

use crate::{block_on, flat};

#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// The guest crate's directory, with its Cargo.toml and surrealism.toml
    #[arg(default_value = ".")]
    path: PathBuf,

    /// The package to write [default: ./{organisation}-{name}-{version}.surli]
    #[arg(short, long, value_name = "OUT.surli")]
    output: Option<PathBuf>,

    /// Build with cargo's dev profile and keep the component as built (no
    /// stripping, no wasm-opt)
    #[arg(long)]
    debug: bool,

    /// Do not run wasm-opt, even when it is on PATH
    #[arg(long)]
    no_wasm_opt: bool,

    /// Pass --locked to cargo: fail rather than update Cargo.lock
    #[arg(long)]
    locked: bool,

    /// Cargo's target directory [default: cargo's own choice]
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
}

pub(crate) fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let mut options = BuildOptions::new(&args.path);
    options.output = args.output.clone();
    options.profile = if args.debug {
        Profile::Debug
    } else {
        Profile::Release
    };
    options.wasm_opt = if args.no_wasm_opt {
        WasmOpt::Off
    } else {
        WasmOpt::Auto
    };
    options.locked = args.locked;
    options.target_dir = args.target_dir.clone();
    options.color = std::io::stderr().is_terminal();

    let runtime = Runtime::new(RuntimeOptions::default()).map_err(flat)?;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let progress = Progress { bar: bar.clone() };
    let built = block_on(surli_build::build(&options, &runtime, move |event| {
        progress.show(event);
    }));
    bar.finish_and_clear();
    let built = built?.map_err(flat)?;

    for function in &built.functions {
        eprintln!("  {}", function.to_export().signature());
    }
    let meta = &built.config.meta;
    println!(
        "packed {}/{} {} into {} ({} bytes, sha256 {})",
        meta.organisation,
        meta.name,
        meta.version,
        built.package_path.display(),
        built.package_bytes,
        built.package_sha256
    );
    Ok(())
}

/// Turns build events into the bar and the lines above it.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Prints a line above the bar (or just prints it, when there is none).
    fn line(&self, text: &str) {
        self.bar.suspend(|| eprintln!("{text}"));
    }

    fn step(&self, text: &str) {
        self.line(&format!("surli: {text}"));
    }

    fn show(&self, event: BuildEvent) {
        match event {
            BuildEvent::Warning(text) => self.step(&format!("warning: {text}")),
            BuildEvent::CargoStarted {
                command,
                units_estimate,
            } => {
                self.step(&format!("running `{command}`"));
                let template = if units_estimate.is_some() {
                    "{spinner:.green} {prefix:.cyan.bold} [{bar:30}] {pos}/{len} {wide_msg}"
                } else {
                    "{spinner:.green} {prefix:.cyan.bold} {pos} {wide_msg}"
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    self.bar.set_style(style.progress_chars("=> "));
                }
                self.bar.set_prefix("Compiling");
                if let Some(units) = units_estimate {
                    self.bar.set_length(units as u64);
                }
                self.bar.enable_steady_tick(Duration::from_millis(120));
            }
            BuildEvent::CargoStatus { verb, message } => {
                if verb == "Compiling"
                    && let Some(name) = message.split_whitespace().next()
                {
                    self.bar.set_message(name.to_owned());
                }
                // The bar shows what compiles; without one (no terminal),
                // cargo's lines say it instead.
                if self.bar.is_hidden() || !matches!(verb.as_str(), "Compiling" | "Fresh") {
                    self.line(&format!("{verb:>12} {message}"));
                }
            }
            BuildEvent::Compiled {
                crate_name, done, ..
            } => {
                let done = done as u64;
                if self.bar.length().is_some_and(|len| done > len) {
                    self.bar.set_length(done);
                }
                self.bar.set_position(done);
                self.bar.set_message(crate_name);
            }
            BuildEvent::CargoMessage(line) => self.line(&line),
            BuildEvent::CargoFinished { artifact, bytes } => {
                self.bar.finish_and_clear();
                self.step(&format!(
                    "built {} ({} bytes)",
                    artifact.display(),
                    HumanCount(bytes as u64)
                ));
            }
            BuildEvent::Stripped { before, after } => self.step(&format!(
                "stripped debug info, names and producers: {} -> {} bytes",
                HumanCount(before as u64),
                HumanCount(after as u64)
            )),
            BuildEvent::WasmOpt {
                before,
                after,
                modules,
            } => self.step(&format!(
                "wasm-opt -Oz on {modules} core module{}: {} -> {} bytes",
                if modules == 1 { "" } else { "s" },
                HumanCount(before as u64),
                HumanCount(after as u64)
            )),
            BuildEvent::WasmOptMissing => self.step(
                "wasm-opt not found on PATH; install binaryen (e.g. `apt install binaryen`) for \
                 smaller modules",
            ),
            BuildEvent::Introspected { functions } => self.step(&format!(
                "the component exports {functions} function{}:",
                if functions == 1 { "" } else { "s" }
            )),
            // The summary line says where the package went.
            BuildEvent::Packing | BuildEvent::Packed { .. } => {}
            other => self.step(&format!("{other:?}")),
        }
    }
}
