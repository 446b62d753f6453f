//! surli's project automation, run as `cargo xtask <command>` (the alias
//! lives in `.cargo/config.toml`). Everything longer than one line that a
//! developer or CI runs lives here, in Rust, instead of in shell scripts.
//!
//! - `cargo xtask test`: the fixtures, format check, clippy with warnings
//!   denied, then every test of the workspace, then the same three for the
//!   `compat/` workspace (SurrealDB on surli). `.ci/run` calls exactly this.
//! - `cargo xtask demo`: builds the demo guest with the official SDK, packs
//!   it, and runs its functions through surli, with timings.
//! - `cargo xtask fixtures`: builds every fixture guest into
//!   `target/fixtures/*.surli`.
//! - `cargo xtask fixtures`: builds the guests under `fixtures/` and packs
//!   them as `target/fixtures/*.surli` for the tests (`test` does it first).
//! - `cargo xtask fuzz --seconds N`: every cargo-fuzz target under `fuzz/`
//!   for N seconds, on a nightly toolchain, from seeds made of the fixtures.
//! - `cargo xtask soak --minutes N`: a storm of calls for N minutes that
//!   fails if the process's memory keeps growing after the first minute.
//! - `cargo xtask compat`: the fixture packages through surli and through
//!   the original runtimes of `benches/peer/`, whose answers must agree.
//! - `cargo xtask surrealdb [--no-original]`: SurrealDB 3.3.5 built against
//!   the compatibility crate (`compat/`): its tests, then every case through
//!   it and through the stock SurrealDB with the original 0.6.5, compared.
//! - `cargo xtask bench [--quick]`: surli, the original runtimes and the
//!   wasmtime floor measured side by side; one table, a JSON report and
//!   (full runs) docs/PERFORMANCE.md with its chart.
//! - `cargo xtask bench-alternate [--rounds N]`: surli and 0.6.5 in turn
//!   under 1, 2 and 8 callers, judged by medians against measured noise.

// xtask is a program that talks to a developer: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod alternate;
mod bench;
mod compat;
mod demo;
mod fixtures;
mod fuzz;
mod history;
mod soak;
mod surrealdb;
mod toolchain;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "surli's project automation")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the fixtures, check formatting, run clippy with warnings denied,
    /// then run every test.
    Test,
    /// Build the demo guest with the official SDK, pack it, and run its functions through surli.
    Demo,
    /// Build the fixture guests and pack them as target/fixtures/*.surli.
    Fixtures,
    /// Run every cargo-fuzz target under fuzz/ for N seconds each (needs a
    /// nightly toolchain; installs cargo-fuzz when missing).
    Fuzz {
        /// How long each target runs.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Call the demo and hostile fixtures without pause for N minutes, printing
    /// the RSS every 10 s; fail if it grows more than 10% after the first minute.
    Soak {
        /// How long the storm lasts (at least 2).
        #[arg(long, default_value_t = 2)]
        minutes: u64,
    },
    /// Build the original runtimes under benches/peer/ (release) and check
    /// that they and surli give the same answers on the fixture packages.
    Compat,
    /// Build SurrealDB 3.3.5 against the compatibility crate (compat/), run
    /// its tests, then run every case through it and through the stock
    /// SurrealDB on the original 0.6.5 and compare the answers.
    Surrealdb {
        /// Skip the stock build (a cold build of its own).
        #[arg(long)]
        no_original: bool,
    },
    /// Measure surli, the original runtimes and the wasmtime floor on the
    /// demo package, print one table, write target/bench/report.json and
    /// (not with --quick) refresh docs/PERFORMANCE.md and its chart.
    Bench {
        /// Short windows and fewer modules: a quick look, not a record.
        #[arg(long)]
        quick: bool,
        /// Append this run to benches/history.jsonl and redraw the trend
        /// chart (docs/performance-history.svg).
        #[arg(long)]
        record: bool,
        /// Print every figure beside the last recorded run of REV (a commit,
        /// branch or tag), marking changes beyond the noise band.
        #[arg(long, value_name = "REV")]
        compare: Option<String>,
    },
    /// Measure surli and the original 0.6.5 in turn on `add` with 1, 2 and
    /// 8 callers for several rounds, and judge the medians against the
    /// spread of each one's own runs (target/bench/alternate.json).
    BenchAlternate {
        /// Runs of each runtime at each concurrency (at least 3).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The measured window of each run, in seconds.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = workspace_root()?;
    match cli.command {
        Task::Test => test(&root),
        Task::Demo => demo::run(&root),
        Task::Fixtures => fixtures::run(&root),
        Task::Fuzz { seconds } => fuzz::run(&root, seconds),
        Task::Soak { minutes } => soak::run(&root, minutes),
        Task::Compat => compat::run(&root),
        Task::Surrealdb { no_original } => surrealdb::run(&root, !no_original),
        Task::Bench {
            quick,
            record,
            compare,
        } => bench::run(&root, quick, record, compare.as_deref()),
        Task::BenchAlternate { rounds, seconds } => alternate::run(&root, rounds, seconds),
    }
}

fn test(root: &Path) -> Result<()> {
    let started = Instant::now();
    // The tests load these packages, and a broken guest is clearer here
    // than as a failing test.
    fixtures::run(root)?;
    step(root, "format check", &["fmt", "--all", "--check"])?;
    step(root, "clippy", CLIPPY)?;
    step(root, "tests", &["test", "--workspace", "--locked"])?;
    // Other projects reuse the library crates one by one: each must package
    // (metadata, README, license, versioned dependencies). Not verified by
    // building the packages again here: that is a second cold build of
    // wasmtime and SurrealDB; `cargo package -p CRATE` verifies one.
    step(root, "package", PACKAGE)?;
    // SurrealDB 3.3.5 on surli through the compatibility crate: a
    // workspace of its own (see compat/Cargo.toml for why).
    surrealdb::test(root)?;
    println!("xtask: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Packages every library crate of the workspace (all but the CLI, xtask
/// and the benches), without building the packages again.
const PACKAGE: &[&str] = &[
    "package",
    "--workspace",
    "--exclude",
    "surli-cli",
    "--exclude",
    "xtask",
    "--exclude",
    "surli-benches",
    "--no-verify",
    "--allow-dirty",
];

/// Clippy over a whole workspace, every target, warnings denied.
const CLIPPY: &[&str] = &[
    "clippy",
    "--workspace",
    "--all-targets",
    "--locked",
    "--",
    "-D",
    "warnings",
];

/// Runs one cargo command in the workspace root, showing what runs and how
/// long it took, and fails with the step's name when it fails.
fn step(root: &Path, name: &str, args: &[&str]) -> Result<()> {
    step_in(root, name, args)
}

/// [`step`] in the workspace at `dir`.
fn step_in(dir: &Path, name: &str, args: &[&str]) -> Result<()> {
    println!("xtask: {name}: cargo {}", args.join(" "));
    let started = Instant::now();
    let status = Command::new(cargo())
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("cannot start cargo for the {name} step"))?;
    if !status.success() {
        bail!("{name} failed ({status}); the output above says why");
    }
    println!("xtask: {name}: ok in {:.1?}", started.elapsed());
    Ok(())
}

/// The cargo that started us, so every step uses the pinned toolchain.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .context("xtask must live one directory below the workspace root")
}
