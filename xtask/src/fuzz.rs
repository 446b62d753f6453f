//! `cargo xtask fuzz --seconds N`: every cargo-fuzz target under `fuzz/`
//! for N seconds each, from seed corpora written from the fixtures.
//!
//! cargo-fuzz needs a nightly toolchain (`-Zsanitizer=address`, sancov),
//! while the repository pins a stable one in `rust-toolchain.toml`. So this
//! picks a nightly from `rustup toolchain list` and runs that toolchain's
//! own cargo, with its `bin` directory first on `PATH` and
//! `RUSTUP_TOOLCHAIN` naming it: cargo-fuzz starts a plain `cargo`, which
//! must be the nightly one too. cargo-fuzz itself is installed with
//! `cargo install` when missing. Everything builds into `target/fuzz/`, so
//! the sanitizer flags never invalidate the main build.
//!
//! Each target runs alone, with its log in `target/fuzz/logs/`. A crash
//! (or a timeout or out-of-memory unit) fails the task, naming the input
//! libFuzzer saved under `fuzz/artifacts/`; turn that input into a
//! regression test in the crate it hit, then fix the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use surli::package::{COMPONENT_PREAMBLE, PNG_SIGNATURE, Package, PackageWriter, ReadOptions};
use surli::types::{self, Datetime, Decimal, Kind, Number, RecordId, SurrealValue, Value};

/// The targets, in the order they run; each is a `[[bin]]` of
/// `fuzz/Cargo.toml`.
const TARGETS: &[&str] = &[
    "package_reader",
    "surrealism_toml",
    "exports_toml",
    "allow_net",
    "host_decoders",
];

/// A unit that runs longer than this is reported as a hang (a crash).
const UNIT_TIMEOUT_SECS: u64 = 20;

/// What one target did.
struct Outcome {
    target: &'static str,
    executions: Option<u64>,
    corpus: Option<u64>,
    /// The inputs libFuzzer saved for a crash, hang or out-of-memory.
    artifacts: Vec<String>,
    failed: bool,
    log: PathBuf,
}

pub(crate) fn run(root: &Path, seconds: u64) -> Result<()> {
    if seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    let started = Instant::now();
    let nightly = Nightly::find(root)?;
    nightly.ensure_cargo_fuzz(root)?;

    let fuzz_dir = root.join("fuzz");
    let corpus_dir = fuzz_dir.join("corpus");
    let seeds = write_seeds(root, &corpus_dir)?;
    for (target, count) in &seeds {
        println!("xtask: fuzz: {count:>3} seeds for {target}");
    }

    let target_dir = root.join("target").join("fuzz");
    println!(
        "xtask: fuzz: building {} targets with {} ({})",
        TARGETS.len(),
        nightly.name,
        nightly.rustc_version()?
    );
    let build_started = Instant::now();
    let status = nightly
        .cargo_fuzz(&fuzz_dir, &target_dir, "build")
        .status()
        .context("cannot start cargo fuzz build")?;
    if !status.success() {
        bail!("cargo fuzz build failed ({status}); its output above says why");
    }
    let build_time = build_started.elapsed();
    println!("xtask: fuzz: built in {build_time:.1?}");

    let logs = target_dir.join("logs");
    fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut outcomes = Vec::new();
    for target in TARGETS {
        outcomes.push(run_target(
            &nightly,
            &fuzz_dir,
            &target_dir,
            &corpus_dir,
            &logs,
            target,
            seconds,
        )?);
    }

    println!();
    println!(
        "{:<18} {:>14} {:>9} {:>8}",
        "target", "executions", "corpus", "crashes"
    );
    for outcome in &outcomes {
        println!(
            "{:<18} {:>14} {:>9} {:>8}",
            outcome.target,
            outcome
                .executions
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            outcome
                .corpus
                .map_or_else(|| "?".to_owned(), |n| n.to_string()),
            if outcome.failed {
                outcome.artifacts.len().max(1)
            } else {
                0
            }
        );
    }
    println!(
        "xtask: fuzz: {} s per target; build {build_time:.1?}; total {:.1?}",
        seconds,
        started.elapsed()
    );

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.failed).collect();
    if failed.is_empty() {
        return Ok(());
    }
    for outcome in &failed {
        if outcome.artifacts.is_empty() {
            println!(
                "xtask: fuzz: {} failed without saving an input; see {}",
                outcome.target,
                outcome.log.display()
            );
        }
        for artifact in &outcome.artifacts {
            println!(
                "xtask: fuzz: {} crashed on {artifact}; reproduce with `cargo +{} fuzz run \
                 --target-dir ../target/fuzz {} {artifact}` in fuzz/ (log: {})",
                outcome.target,
                nightly.name,
                outcome.target,
                outcome.log.display()
            );
        }
    }
    bail!(
        "{} of {} fuzz targets crashed ({}); turn each input into a regression test in the crate \
         it hit and fix the crate",
        failed.len(),
        outcomes.len(),
        failed
            .iter()
            .map(|o| o.target)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Runs one target for `seconds`, its output into a log; returns what the
/// log says.
fn run_target(
    nightly: &Nightly,
    fuzz_dir: &Path,
    target_dir: &Path,
    corpus_dir: &Path,
    logs: &Path,
    target: &'static str,
    seconds: u64,
) -> Result<Outcome> {
    let log_path = logs.join(format!("{target}.log"));
    println!(
        "xtask: fuzz: {target}: running for {seconds} s (log: {})",
        log_path.display()
    );
    let corpus = corpus_dir.join(target);
    let mut cargo = nightly.cargo_fuzz(fuzz_dir, target_dir, "run");
    cargo
        .arg(target)
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={UNIT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cargo
        .spawn()
        .with_context(|| format!("cannot start cargo fuzz run {target}"))?;

    // libFuzzer writes to stderr, cargo to both; keep every line for the
    // log and pick out the figures and the artifact names.
    let stdout = child.stdout.take();
    let echo = std::thread::spawn(move || -> Vec<String> {
        stdout.map_or_else(Vec::new, |out| {
            BufReader::new(out).lines().map_while(Result::ok).collect()
        })
    });
    let mut lines = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        let mut last_report = Instant::now();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // A pulse every 15 s, so a long run shows it is alive.
            if line.starts_with('#') && last_report.elapsed() >= Duration::from_secs(15) {
                println!("xtask: fuzz: {target}: {}", line.trim());
                last_report = Instant::now();
            }
            lines.push(line);
        }
    }
    let status = child
        .wait()
        .with_context(|| format!("cannot wait for cargo fuzz run {target}"))?;
    lines.extend(echo.join().unwrap_or_default());
    fs::write(&log_path, lines.join("\n") + "\n")
        .with_context(|| format!("cannot write {}", log_path.display()))?;

    let outcome = Outcome {
        target,
        executions: stat(&lines, "stat::number_of_executed_units:").or_else(|| done_runs(&lines)),
        corpus: corpus_size(&lines),
        artifacts: artifacts(&lines),
        failed: !status.success(),
        log: log_path,
    };
    println!(
        "xtask: fuzz: {target}: {} in {:.1?}: {} executions",
        if outcome.failed { "FAILED" } else { "ok" },
        started.elapsed(),
        outcome
            .executions
            .map_or_else(|| "?".to_owned(), |n| n.to_string())
    );
    if outcome.failed {
        // The panic or sanitizer report, not cargo-fuzz's own epilogue.
        let mut shown = 0;
        for (index, line) in lines.iter().enumerate() {
            let report = line.contains("panicked at")
                || line.contains("ERROR: ")
                || line.starts_with("SUMMARY: ");
            if report && shown < 12 {
                println!("    {line}");
                if line.contains("panicked at")
                    && let Some(message) = lines.get(index + 1)
                {
                    println!("    {message}");
                }
                shown += 1;
            }
        }
    }
    Ok(outcome)
}

/// `stat::number_of_executed_units: 123` (from `-print_final_stats=1`).
fn stat(lines: &[String], key: &str) -> Option<u64> {
    lines
        .iter()
        .rev()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.trim().parse().ok())
}

/// `Done 123 runs in 60 second(s)`, libFuzzer's last line.
fn done_runs(lines: &[String]) -> Option<u64> {
    lines.iter().rev().find_map(|line| {
        let rest = line.strip_prefix("Done ")?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The `corp: N/...` of libFuzzer's last status line.
fn corpus_size(lines: &[String]) -> Option<u64> {
    lines.iter().rev().find_map(|line| {
        if !line.starts_with('#') {
            return None;
        }
        let rest = line.split("corp: ").nth(1)?;
        rest.split('/').next()?.trim().parse().ok()
    })
}

/// The paths of `Test unit written to PATH` lines.
fn artifacts(lines: &[String]) -> Vec<String> {
    let found: BTreeSet<String> = lines
        .iter()
        .filter_map(|line| line.split("Test unit written to ").nth(1))
        .map(|path| path.trim().to_owned())
        .collect();
    found.into_iter().collect()
}

/// The nightly toolchain cargo-fuzz runs on.
struct Nightly {
    /// Its rustup name, such as `nightly-x86_64-unknown-linux-gnu`.
    name: String,
    /// Its `bin` directory, which holds its `cargo` and `rustc`.
    bin: PathBuf,
}

impl Nightly {
    /// The nightly `rustup toolchain list` shows: the undated one if there
    /// is one, else the newest dated one.
    fn find(root: &Path) -> Result<Self> {
        let listed = Command::new("rustup")
            .args(["toolchain", "list"])
            .current_dir(root)
            .output()
            .context(
                "cannot run `rustup`: cargo xtask fuzz needs rustup and a nightly toolchain; \
                 install rustup from https://rustup.rs, then run `rustup toolchain install nightly`",
            )?;
        if !listed.status.success() {
            bail!(
                "`rustup toolchain list` failed: {}",
                String::from_utf8_lossy(&listed.stderr).trim()
            );
        }
        let mut nightlies: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| name.starts_with("nightly"))
            .map(str::to_owned)
            .collect();
        nightlies.sort();
        let undated = nightlies
            .iter()
            .find(|name| {
                // `nightly` or `nightly-<host>`, not `nightly-2025-01-01...`.
                let rest = name.trim_start_matches("nightly").trim_start_matches('-');
                !rest.starts_with(|c: char| c.is_ascii_digit())
            })
            .cloned();
        let Some(name) = undated.or_else(|| nightlies.pop()) else {
            bail!(
                "cargo xtask fuzz needs a nightly toolchain: run `rustup toolchain install nightly`"
            );
        };

        let which = Command::new("rustup")
            .args(["which", "--toolchain", &name, "cargo"])
            .current_dir(root)
            .output()
            .context("cannot run `rustup which`")?;
        if !which.status.success() {
            bail!(
                "the toolchain {name} has no cargo ({}); run `rustup toolchain install nightly`",
                String::from_utf8_lossy(&which.stderr).trim()
            );
        }
        let cargo = PathBuf::from(String::from_utf8_lossy(&which.stdout).trim());
        let bin = cargo
            .parent()
            .with_context(|| format!("`rustup which` answered {}", cargo.display()))?
            .to_path_buf();
        Ok(Self { name, bin })
    }

    /// A command running this toolchain's `cargo`, set up so that whatever
    /// it starts (cargo-fuzz starts a plain `cargo`) is this toolchain too,
    /// whatever `rust-toolchain.toml` pins and whatever the cargo that
    /// runs xtask put in the environment.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        let mut path = OsString::from(self.bin.as_os_str());
        if let Some(old) = std::env::var_os("PATH") {
            path.push(":");
            path.push(old);
        }
        command
            .env("PATH", path)
            .env("RUSTUP_TOOLCHAIN", &self.name)
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTDOC")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR");
        command
    }

    fn rustc_version(&self) -> Result<String> {
        let output = self
            .command("rustc")
            .arg("--version")
            .output()
            .context("cannot run the nightly rustc")?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// `cargo fuzz SUBCOMMAND` in `fuzz/`, building into `target_dir`.
    fn cargo_fuzz(&self, fuzz_dir: &Path, target_dir: &Path, subcommand: &str) -> Command {
        let mut command = self.command("cargo");
        command
            .args(["fuzz", subcommand, "--target-dir"])
            .arg(target_dir)
            .current_dir(fuzz_dir);
        command
    }

    /// Installs cargo-fuzz with `cargo install` if `cargo fuzz` is missing.
    fn ensure_cargo_fuzz(&self, root: &Path) -> Result<()> {
        let probe = self
            .command("cargo")
            .args(["fuzz", "--version"])
            .current_dir(root)
            .output()
            .context("cannot run the nightly cargo")?;
        if probe.status.success() {
            return Ok(());
        }
        println!(
            "xtask: fuzz: cargo-fuzz is missing; running `cargo install cargo-fuzz --locked` \
             (a few minutes, once)"
        );
        let started = Instant::now();
        let status = Command::new(crate::cargo())
            .args(["install", "cargo-fuzz", "--locked"])
            .current_dir(root)
            .status()
            .context("cannot start cargo install")?;
        if !status.success() {
            bail!(
                "`cargo install cargo-fuzz --locked` failed ({status}); run it yourself and try again"
            );
        }
        println!(
            "xtask: fuzz: cargo-fuzz installed in {:.1?}",
            started.elapsed()
        );
        Ok(())
    }
}

/// Writes `seed-*` files into `corpus/<target>/` from the fixture packages
/// (and a few hand-written inputs), replacing those of an earlier run and
/// leaving what libFuzzer added; returns how many each target got.
fn write_seeds(root: &Path, corpus_dir: &Path) -> Result<Vec<(&'static str, usize)>> {
    let fixtures_dir = root.join("target").join("fixtures");
    let mut packages = Vec::new();
    if let Ok(entries) = fs::read_dir(&fixtures_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "surli") {
                packages.push(path);
            }
        }
    }
    packages.sort();
    if packages.is_empty() {
        bail!(
            "no fixture packages in {}: run `cargo xtask fixtures` first (the fuzz seeds are made \
             from them)",
            fixtures_dir.display()
        );
    }

    let mut seeds = Seeds::default();
    let stub_wasm = COMPONENT_PREAMBLE.to_vec();
    let mut logo = PNG_SIGNATURE.to_vec();
    logo.extend_from_slice(b"not really a png");
    for path in &packages {
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        // Whole packages only when small: libFuzzer's input size follows
        // its largest seed, and a fixture's component is ~400 KB.
        if bytes.len() <= 64 * 1024 {
            seeds.add("package_reader", &format!("{stem}.surli"), bytes);
        }
        let Ok(package) = Package::read_file(path, &ReadOptions::default()) else {
            continue;
        };
        // The same package with an 8-byte component: every part and guard
        // of the layout, at a size the mutator can work with.
        let config = package.config();
        let mut writer = PackageWriter::new(config, &stub_wasm, package.exports());
        if let Some(fs_dir) = package.fs_path() {
            writer = writer.fs_dir(fs_dir);
        }
        let small = writer
            .to_bytes()
            .with_context(|| format!("cannot repack {}", path.display()))?;
        seeds.add("package_reader", &format!("{stem}-small.surli"), small);
        if stem == "demo" {
            let with_logo = PackageWriter::new(config, &stub_wasm, package.exports())
                .logo(&logo)
                .to_bytes()
                .context("cannot repack demo with a logo")?;
            seeds.add("package_reader", "demo-logo.surli", with_logo);
        }

        let config_text = config
            .to_toml()
            .with_context(|| format!("cannot write the config of {}", path.display()))?;
        seeds.add(
            "surrealism_toml",
            &format!("{stem}.toml"),
            config_text.into_bytes(),
        );
        let exports_text = package
            .exports()
            .to_toml()
            .with_context(|| format!("cannot write the exports of {}", path.display()))?;
        seeds.add(
            "exports_toml",
            &format!("{stem}.toml"),
            exports_text.into_bytes(),
        );

        let allow_net = &config.capabilities.allow_net;
        for (index, entry) in allow_net.iter().enumerate() {
            seeds.add(
                "allow_net",
                &format!("{stem}-{index}"),
                entry.clone().into_bytes(),
            );
        }
        if !allow_net.is_empty() {
            seeds.add(
                "allow_net",
                &format!("{stem}-all"),
                allow_net.join("\n").into_bytes(),
            );
        }

        for (index, function) in package.exports().functions.iter().enumerate() {
            seeds.add(
                "host_decoders",
                &format!("{stem}-{index}-args"),
                function.args.clone(),
            );
            seeds.add(
                "host_decoders",
                &format!("{stem}-{index}-returns"),
                function.returns.clone(),
            );
        }
    }

    // The sources, comments and all.
    for path in config_sources(&root.join("fixtures"))? {
        let text = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path
            .parent()
            .and_then(Path::file_name)
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        seeds.add("surrealism_toml", &format!("source-{name}.toml"), text);
    }
    seeds.add(
        "surrealism_toml",
        "every-key.toml",
        EVERY_KEY.as_bytes().to_vec(),
    );
    for (index, entry) in NET_GRAMMAR.iter().enumerate() {
        seeds.add(
            "allow_net",
            &format!("grammar-{index}"),
            entry.as_bytes().to_vec(),
        );
    }
    seeds.add(
        "allow_net",
        "grammar-all",
        NET_GRAMMAR.join("\n").into_bytes(),
    );
    value_seeds(&mut seeds)?;

    for (target, files) in &seeds.files {
        let dir = corpus_dir.join(target);
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, bytes) in files {
            let path = dir.join(format!("seed-{name}"));
            fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(TARGETS
        .iter()
        .map(|target| (*target, seeds.files.get(target).map_or(0, Vec::len)))
        .collect())
}

/// A seed's file name (without the `seed-` prefix) and its bytes.
type Seed = (String, Vec<u8>);

#[derive(Default)]
struct Seeds {
    files: BTreeMap<&'static str, Vec<Seed>>,
}

impl Seeds {
    fn add(&mut self, target: &'static str, name: &str, bytes: Vec<u8>) {
        self.files
            .entry(target)
            .or_default()
            .push((name.to_owned(), bytes));
    }
}

/// Every `surrealism.toml` under `fixtures/`, outside build directories.
fn config_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "target" && name != "fs" {
                pending.push(path);
            } else if name == "surrealism.toml" {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A `surrealism.toml` with every key the format has.
const EVERY_KEY: &str = r#"target = "rust"
abi = 2

[package]
organisation = "fuzz"
name = "every-key"
version = "1.2.3-beta.1+build.5"

[capabilities]
allow_scripting = true
allow_arbitrary_queries = true
allow_functions = ["string::*", "fn::allowed", "math::max"]
allow_net = ["10.0.0.0/8", "[::1]:8080", "db.internal:5432"]
max_memory_bytes = 67108864
max_execution_time = 1500
max_pool_size = 4
max_kv_entries = 1000
max_kv_value_bytes = 65536
strict_timeout = false

[attach]
fs = "assets"
"#;

/// One entry of each row of surli-net's grammar table, and of each refusal.
const NET_GRAMMAR: &[&str] = &[
    "10.0.0.0/8",
    "fd00::/8",
    "10.0.0.1",
    "::1",
    "10.0.0.1:5432",
    "[::1]",
    "[::1]:8080",
    "db.internal",
    "db.internal:5432",
    "10.0.0.1:",
    "[::1]:",
    "db:",
    "::1:8080",
    "example.com.",
    "xn--bcher-kva.example",
    "https://example.com",
    "user@example.com",
    "example.com/api",
    "10.0.0.0/33",
    "[fd00::]/8",
    "example.com:99999",
    ":80",
    "[10.0.0.1]",
    "[fe80::1%eth0]",
    "1:2:3:4:5:6:7:8:80",
    "127.1",
    "0x7f000001",
    "010.0.0.1",
];

/// Encoded values, lists, entries, ranges and kinds, as guests send them.
fn value_seeds(seeds: &mut Seeds) -> Result<()> {
    let datetime: Datetime = "2024-01-01T00:00:00Z"
        .parse()
        .context("cannot read the seed datetime")?;
    let duration: types::Duration = "1h30m".parse().context("cannot read the seed duration")?;
    let uuid: types::Uuid = "0190d5b2-8f3c-7000-8000-000000000001"
        .parse()
        .context("cannot read the seed uuid")?;
    let mut object = std::collections::BTreeMap::new();
    object.insert("name".to_owned(), "surli".into_value());
    object.insert("n".to_owned(), 42i64.into_value());
    let values: Vec<Value> = vec![
        Value::None,
        Value::Null,
        Value::Bool(true),
        Value::Number(Number::Int(-7)),
        Value::Number(Number::Float(1.5)),
        Value::Number(Number::Float(f64::NAN)),
        Value::Number(Number::Decimal(Decimal::new(12345, 2))),
        "hello".into_value(),
        Value::Bytes(vec![0, 1, 2, 255].into()),
        Value::Duration(duration),
        Value::Datetime(datetime),
        Value::Uuid(uuid),
        Value::RecordId(RecordId::new("person", 1i64)),
        Value::RecordId(RecordId::new("person", "tobie")),
        vec![1i64.into_value(), "two".into_value(), Value::None].into_value(),
        object.into_value(),
    ];
    for (index, value) in values.iter().enumerate() {
        let bytes = types::encode(value).with_context(|| format!("cannot encode {value:?}"))?;
        seeds.add("host_decoders", &format!("value-{index}"), bytes);
    }
    let mut nested = 0i64.into_value();
    for _ in 0..40 {
        nested = vec![nested].into_value();
    }
    seeds.add(
        "host_decoders",
        "value-nested",
        types::encode(&nested).context("cannot encode a nested array")?,
    );
    seeds.add(
        "host_decoders",
        "list",
        types::encode_value_list(&values).context("cannot encode a value list")?,
    );
    seeds.add(
        "host_decoders",
        "list-empty",
        types::encode_value_list(&[]).context("cannot encode an empty value list")?,
    );
    let entries: Vec<(String, Value)> = values
        .iter()
        .enumerate()
        .map(|(index, value)| (format!("k{index}"), value.clone()))
        .collect();
    seeds.add(
        "host_decoders",
        "entries",
        types::encode_string_key_values(&entries).context("cannot encode entries")?,
    );
    let bounds = [
        Bound::Unbounded,
        Bound::Included("a".to_owned()),
        Bound::Excluded("m".to_owned()),
    ];
    for (i, start) in bounds.iter().enumerate() {
        for (j, end) in bounds.iter().enumerate() {
            seeds.add(
                "host_decoders",
                &format!("range-{i}{j}"),
                types::encode_string_range(start, end).context("cannot encode a key range")?,
            );
        }
    }
    let kinds = [
        Kind::Any,
        Kind::Int,
        Kind::String,
        Kind::Either(vec![Kind::None, Kind::Datetime]),
        Kind::Array(Box::new(Kind::Number), Some(3)),
        Kind::Either(vec![Kind::Bool, Kind::Bytes]),
    ];
    for (index, kind) in kinds.iter().enumerate() {
        seeds.add(
            "host_decoders",
            &format!("kind-{index}"),
            types::encode_kind(kind).with_context(|| format!("cannot encode {kind:?}"))?,
        );
    }
    let arguments = [
        ("a", Kind::Int),
        ("b", Kind::Either(vec![Kind::None, Kind::String])),
    ];
    seeds.add(
        "host_decoders",
        "arguments",
        types::encode_argument_list(&arguments).context("cannot encode an argument list")?,
    );
    Ok(())
}
