//! The `surli` command line: build, inspect, check, pack, unpack, call,
//! run and benchmark `.surli` packages of Surrealism plugins.
//!
//! Every real operation (reading and writing packages with their guards,
//! merging limits, loading a module and comparing `exports.toml` with it)
//! belongs to the `surli` library; this binary parses arguments, calls it,
//! and turns the outcome into text, JSON and an exit code.
//!
//! Exit codes: 0 on success, 1 when the input is at fault (a bad or corrupt
//! package, a missing file, a failed check), 2 for a usage error (clap's
//! own). Errors go to stderr as `surli: …`, naming the file and the problem.

// A command line's job is to print: results to stdout, errors to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod build;
mod call;
mod check;
mod dev;
mod info;
mod limits_args;
mod pack;
mod run;
mod session;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use surli::{Package, PackageError, ReadOptions};

/// Build, inspect, check, pack, call, run and benchmark Surrealism plugins.
#[derive(Debug, Parser)]
#[command(name = "surli", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Show the library's log on stderr: -v for info (and warnings), -vv
    /// for debug (every refused HTTP request, every cache decision), -vvv
    /// for trace. Without -v or -q, RUST_LOG decides when it is set
    /// (e.g. `RUST_LOG=surli_host=debug`), and only errors are shown when
    /// it is not: warnings that matter are already in each command's
    /// own output.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Show no log at all (a failure is still reported as `surli: ...`)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a guest crate into a package, as `surreal module build` does.
    Build(build::BuildArgs),
    /// Show what a package holds and the limits it would run under.
    Info(info::InfoArgs),
    /// Validate a package completely, loading its module once.
    Check(check::CheckArgs),
    /// Pack a directory (mod.wasm, surrealism.toml, ...) into a package.
    Pack(pack::PackArgs),
    /// Unpack a package into a directory that `surli pack` reads back.
    Unpack(pack::UnpackArgs),
    /// Call one function and print its result.
    Call(call::CallArgs),
    /// Keep a module loaded and call it line by line (a prompt on a
    /// terminal, or JSON lines with --jsonl).
    Run(run::RunArgs),
    /// Measure calls per second and latency percentiles of one function.
    Bench(bench::BenchArgs),
    /// Build a guest, run calls on it, and rebuild and rerun them whenever
    /// its sources change.
    Dev(dev::DevArgs),
}

fn main() -> ExitCode {
    // `parse` exits by itself: 2 on a usage error, 0 for --help/--version.
    let cli = Cli::parse();
    install_log(cli.verbose, cli.quiet);
    let outcome = match &cli.command {
        Command::Build(args) => build::run(args),
        Command::Info(args) => info::run(args),
        Command::Check(args) => check::run(args),
        Command::Pack(args) => pack::pack(args),
        Command::Unpack(args) => pack::unpack(args),
        Command::Call(args) => call::run(args),
        Command::Run(args) => run::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Dev(args) => dev::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("surli: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sends the libraries' `tracing` events to stderr, filtered by `-v`/`-q`,
/// else by `RUST_LOG`, else errors only.
fn install_log(verbose: u8, quiet: bool) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;

    let level = match (quiet, verbose) {
        (true, _) => Some("off"),
        (false, 0) => None,
        (false, 1) => Some("info"),
        (false, 2) => Some("debug"),
        (false, _) => Some("trace"),
    };
    let filter = match level {
        Some(level) => EnvFilter::new(level),
        // A RUST_LOG that does not parse is reported and ignored, never a
        // reason to fail the command.
        None => EnvFilter::try_from_default_env().unwrap_or_else(|error| {
            if std::env::var_os(EnvFilter::DEFAULT_ENV).is_some() {
                eprintln!("surli: RUST_LOG is ignored: {error}");
            }
            EnvFilter::new("error")
        }),
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if let Err(error) = installed {
        eprintln!("surli: cannot show the log: {error}");
    }
}

/// Reads a package completely, with the library's default guards, so that
/// every error names the file.
fn read_package(path: &Path) -> anyhow::Result<Package> {
    Package::read_file(path, &ReadOptions::default()).map_err(|error| package_error(path, error))
}

/// Reads a package for loading into `runtime`, through its records: a
/// package this machine read before (the records live beside the compiled
/// artifacts) is not decompressed again.
fn read_package_for(runtime: &surli::Runtime, path: &Path) -> anyhow::Result<Package> {
    runtime
        .read_package_file(path, &ReadOptions::default())
        .map_err(|error| package_error(path, error))
}

fn package_error(path: &Path, error: PackageError) -> anyhow::Error {
    match error {
        // These already name the file; saying it twice reads badly.
        PackageError::Io { path: Some(_), .. } | PackageError::NotSurli { .. } => flat(error),
        other => flat(other).context(shown(path)),
    }
}

/// The library's error messages are complete on their own (causes are
/// written into them, never chained through `source()`), so the message
/// alone is the whole story, whatever error type it came from.
fn flat(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// Runs a future on a runtime built for this one command: loading a module
/// compiles on a blocking thread, which needs a multi-threaded runtime.
fn block_on<F: Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(future))
}

/// A path as users wrote it, for messages.
fn shown(path: &Path) -> String {
    format!("`{}`", path.display())
}
