//! `surli-probe`: surli's side of `cargo xtask bench`, measured the way
//! `benches/peer`'s `peer-bench` measures the original runtimes (same
//! loops, same clocks, same JSON), so the two can stand in one table.
//!
//! ```text
//! surli-probe measure --package FILE [--function NAME] [--args JSON]
//!                     [--seconds S] [--warmup S] [--concurrency N]
//!                     [--mode values|encoded|fresh]
//! surli-probe floor   --package FILE [--function NAME] [--args JSON]
//!                     [--seconds S] [--warmup S] [--mode values|encoded]
//! surli-probe loads   --package FILE [--repeat N]
//! surli-probe rss     --package FILE --modules N
//! ```
//!
//! Each prints one JSON document on stdout. Arguments are JSON, read
//! against the kinds the function declares.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../../common/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value as Json, json};
use surli::{
    InvocationContext, Module, NullContext, Package, ReadOptions, Runtime, RuntimeOptions,
};
use surli::{Isolation, ModuleOptions};
use surli_benches::{Floor, FreshFloor, FreshSteps};

use crate::measure::{callers, nanos, quantiles, rss_bytes};

#[derive(Parser)]
#[command(about = "surli's side of cargo xtask bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pooled calls from N concurrent callers: latency quantiles, calls/s,
    /// the cold load and the first call.
    Measure {
        #[command(flatten)]
        call: CallArgs,
        /// Concurrent callers.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// What a call is.
        #[arg(long, value_enum, default_value_t = Mode::Values)]
        mode: Mode,
    },
    /// The floor: a raw typed `invoke` on one instance made beforehand.
    Floor {
        #[command(flatten)]
        call: CallArgs,
        /// `values` encodes the arguments and decodes the answer on every
        /// call, as `measure --mode values` does; `encoded` does neither.
        #[arg(long, value_enum, default_value_t = Mode::Values)]
        mode: Mode,
    },
    /// Load times: compiled, from the disk cache in a new runtime, from
    /// the memory cache of a warm runtime (medians of `repeat`).
    Loads {
        /// The package.
        #[arg(long)]
        package: PathBuf,
        /// Loads per kind (the compiled one runs at most 3 times).
        #[arg(long, default_value_t = 20)]
        repeat: usize,
    },
    /// The resident memory of one process with N modules loaded (each
    /// under its own name, sharing one compiled component) and one idle
    /// instance each.
    Rss {
        /// The package.
        #[arg(long)]
        package: PathBuf,
        /// How many modules to load.
        #[arg(long, default_value_t = 1)]
        modules: usize,
        /// Load through a compiled-artifact cache in DIR. Run twice: the
        /// first run fills it, the second never runs the compiler, as every
        /// load after the first on a machine.
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct CallArgs {
    /// The package.
    #[arg(long)]
    package: PathBuf,
    /// The function; `-` or none for the default export.
    #[arg(long)]
    function: Option<String>,
    /// The arguments, a JSON array.
    #[arg(long, default_value = "[]")]
    args: String,
    /// The measured window.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Calls before the window, not counted.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// `Module::call` with `Value` arguments: lease, encode, invoke,
    /// decode, return.
    Values,
    /// `Module::call_encoded`: arguments encoded once, the answer left
    /// encoded.
    Encoded,
    /// `Module::call` on a module whose isolation is `FreshPerCall`: a new
    /// instance, `init` included, for every call.
    Fresh,
    /// As `fresh`, with the module loaded with `snapshot_init`: every new
    /// instance starts from the snapshot taken after `init` (the load
    /// includes making the snapshot). The floor has no such mode.
    FreshSnapshot,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Values => "values",
            Self::Encoded => "encoded",
            Self::Fresh => "fresh",
            Self::FreshSnapshot => "fresh-snapshot",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let executor = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(executor) => executor,
        Err(error) => {
            eprintln!("surli-probe: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = executor.block_on(async {
        match cli.command {
            Command::Measure {
                call,
                concurrency,
                mode,
            } => measure(&call, concurrency, mode).await,
            Command::Floor { call, mode } => floor(&call, mode).await,
            Command::Loads { package, repeat } => loads(&package, repeat).await,
            Command::Rss {
                package,
                modules,
                cache_dir,
            } => rss(&package, modules, cache_dir).await,
        }
    });
    match report {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("surli-probe: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<Package> {
    Package::read_file(path, &ReadOptions::default())
        .with_context(|| format!("cannot read {}", path.display()))
}

/// A runtime with surli's defaults and no disk cache: every figure named
/// "load" is a compile, as it is in the originals.
fn runtime() -> Result<Runtime> {
    Ok(Runtime::new(RuntimeOptions::default())?)
}

fn function_of(call: &CallArgs) -> Option<String> {
    call.function.clone().filter(|name| name != "-")
}

/// The JSON arguments read against the kinds `function` declares.
fn arguments(module: &Module, function: Option<&str>, args: &str) -> Result<Vec<surli::Value>> {
    let json: Json = serde_json::from_str(args).with_context(|| format!("--args: {args}"))?;
    let Json::Array(items) = json else {
        bail!("--args must be a JSON array, got {args}");
    };
    let signature = module
        .functions()
        .iter()
        .find(|signature| signature.name.as_deref() == function)
        .with_context(|| format!("the module has no function {function:?}"))?;
    Ok(surli_values::args_from_json(&items, &signature.args)?)
}

async fn measure(call: &CallArgs, concurrency: usize, mode: Mode) -> Result<Json> {
    if concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let package = read(&call.package)?;
    let runtime = runtime()?;
    let isolation = if matches!(mode, Mode::Fresh | Mode::FreshSnapshot) {
        Isolation::FreshPerCall
    } else {
        Isolation::Reuse
    };
    let options = ModuleOptions::default()
        .with_isolation(isolation)
        .with_snapshot_init(mode == Mode::FreshSnapshot);
    let started = Instant::now();
    let module = runtime.load_with(package, options).await?;
    let load = started.elapsed();
    let rss_after_load = rss_bytes();
    let function = function_of(call);
    let args = arguments(&module, function.as_deref(), &call.args)?;
    let encoded: Arc<[u8]> = surli::codec::encode_args(&args)?.into();
    let caller = Caller {
        module: module.clone(),
        ctx: Arc::new(NullContext),
        function: function.clone(),
        args: Arc::new(args),
        encoded,
        mode,
    };

    let started = Instant::now();
    caller.call().await.context("the first call failed")?;
    let first_call = started.elapsed();

    caller.run(concurrency, call.warmup).await?;
    let started = Instant::now();
    let (latencies, errors) = caller.run(concurrency, call.seconds).await?;
    let elapsed = started.elapsed();
    let stats = module.stats();
    Ok(json!({
        "runtime": format!("surli {}", env!("CARGO_PKG_VERSION")),
        "package": call.package.display().to_string(),
        "function": function,
        "mode": mode.name(),
        "concurrency": concurrency,
        "pool_size": module.limits().pool_size.value.get(),
        "allocation": format!("{:?}", runtime.allocation()).split('(').next().unwrap_or(""),
        "load_ms": load.as_secs_f64() * 1000.0,
        "first_call_us": first_call.as_secs_f64() * 1e6,
        "call_us": quantiles(latencies.clone())?,
        "calls_per_second": latencies.len() as f64 / elapsed.as_secs_f64(),
        "calls": latencies.len(),
        "errors": errors,
        "seconds": elapsed.as_secs_f64(),
        "instances_created": stats.instances_created,
        "rss_bytes_after_load": rss_after_load,
        "rss_bytes_after_calls": rss_bytes(),
    }))
}

/// One caller's way of calling; each measuring task has its own.
struct Caller {
    module: Module,
    ctx: Arc<dyn InvocationContext>,
    function: Option<String>,
    args: Arc<Vec<surli::Value>>,
    encoded: Arc<[u8]>,
    mode: Mode,
}

impl Caller {
    async fn call(&self) -> Result<()> {
        let function = self.function.as_deref();
        match self.mode {
            Mode::Values | Mode::Fresh | Mode::FreshSnapshot => {
                self.module
                    .call(Arc::clone(&self.ctx), function, self.args.to_vec())
                    .await?;
            }
            Mode::Encoded => {
                self.module
                    .call_encoded(Arc::clone(&self.ctx), function, &self.encoded, None)
                    .await?;
            }
        }
        Ok(())
    }

    /// `concurrency` tasks calling in a loop for `seconds`, each with a
    /// caller of its own (see `callers`).
    async fn run(&self, concurrency: usize, seconds: f64) -> Result<(Vec<u64>, u64)> {
        callers(
            concurrency,
            seconds,
            self.clone(),
            |caller: Arc<Caller>| async move { caller.call().await.is_ok() },
        )
        .await
    }
}

/// A copy for another task: its own context, since a call consumes one
/// (`Arc::clone`) and a context shared by every task would have its count
/// bumped by every worker on every call.
impl Clone for Caller {
    fn clone(&self) -> Self {
        Self {
            module: self.module.clone(),
            ctx: Arc::new(NullContext),
            function: self.function.clone(),
            args: Arc::clone(&self.args),
            encoded: Arc::clone(&self.encoded),
            mode: self.mode,
        }
    }
}

async fn floor(call: &CallArgs, mode: Mode) -> Result<Json> {
    match mode {
        Mode::Fresh => return fresh_floor(call).await,
        Mode::FreshSnapshot => bail!("the floor has no snapshot mode; measure `fresh`"),
        Mode::Values | Mode::Encoded => {}
    }
    // The kinds come from the module itself, as surli reads them.
    let module = runtime()?.load(read(&call.package)?).await?;
    let package = read(&call.package)?;
    let function = function_of(call);
    let args = arguments(&module, function.as_deref(), &call.args)?;
    drop(module);
    let encoded = surli::codec::encode_args(&args)?;
    let mut floor = Floor::new(&package).await?;
    let name = function.as_deref();

    let once = async |floor: &mut Floor| -> Result<()> {
        match mode {
            Mode::Encoded => {
                floor.call(name, &encoded).await?;
            }
            _ => {
                let bytes = surli::codec::encode_args(&args)?;
                let answer = floor.call(name, &bytes).await?;
                surli::codec::decode_value(&answer)?;
            }
        }
        Ok(())
    };
    let window = async |floor: &mut Floor, seconds: f64| -> Result<Vec<u64>> {
        let mut latencies = Vec::with_capacity(1 << 20);
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        while Instant::now() < deadline {
            let started = Instant::now();
            once(floor).await?;
            latencies.push(nanos(started.elapsed()));
        }
        Ok(latencies)
    };
    window(&mut floor, call.warmup).await?;
    let started = Instant::now();
    let latencies = window(&mut floor, call.seconds).await?;
    let elapsed = started.elapsed();
    Ok(json!({
        "runtime": "wasmtime (floor)",
        "package": call.package.display().to_string(),
        "function": function,
        "mode": mode.name(),
        "concurrency": 1,
        "call_us": quantiles(latencies.clone())?,
        "calls_per_second": latencies.len() as f64 / elapsed.as_secs_f64(),
        "calls": latencies.len(),
        "seconds": elapsed.as_secs_f64(),
    }))
}

/// The floor of a fresh instance per call ([`FreshFloor`]): raw wasmtime
/// on the allocation surli's default runtime uses, every step timed.
async fn fresh_floor(call: &CallArgs) -> Result<Json> {
    let runtime = runtime()?;
    let module = runtime.load(read(&call.package)?).await?;
    let function = function_of(call);
    let args = arguments(&module, function.as_deref(), &call.args)?;
    drop(module);
    // The floor resets slots as wasmtime does by default (every page
    // unmapped); resetting them in place is surli's own choice
    // (`PoolingLimits::keep_resident`), so it counts for surli.
    let allocation = match runtime.allocation() {
        surli::Allocation::Pooling(limits) => {
            surli::Allocation::Pooling(limits.with_keep_resident(0))
        }
        other => other,
    };
    let floor = FreshFloor::new(&read(&call.package)?, allocation)?;
    drop(runtime);
    let name = function.as_deref();
    let window = async |seconds: f64| -> Result<Vec<(u64, FreshSteps)>> {
        let mut samples = Vec::with_capacity(1 << 16);
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        while Instant::now() < deadline {
            let started = Instant::now();
            let steps = floor.call(name, &args).await?;
            samples.push((nanos(started.elapsed()), steps));
        }
        Ok(samples)
    };
    window(call.warmup).await?;
    let started = Instant::now();
    let samples = window(call.seconds).await?;
    let elapsed = started.elapsed();
    let step = |pick: fn(&FreshSteps) -> Duration| {
        let mut values: Vec<u64> = samples.iter().map(|(_, s)| nanos(pick(s))).collect();
        values.sort_unstable();
        values[values.len() / 2] as f64 / 1000.0
    };
    Ok(json!({
        "runtime": "wasmtime (floor)",
        "package": call.package.display().to_string(),
        "function": function,
        "mode": Mode::Fresh.name(),
        "concurrency": 1,
        "call_us": quantiles(samples.iter().map(|(total, _)| *total).collect())?,
        "steps_p50_us": {
            "instantiate": step(|s| s.instantiate),
            "init": step(|s| s.init),
            "call": step(|s| s.call),
            "drop": step(|s| s.drop),
        },
        "calls_per_second": samples.len() as f64 / elapsed.as_secs_f64(),
        "calls": samples.len(),
        "seconds": elapsed.as_secs_f64(),
    }))
}

async fn loads(path: &Path, repeat: usize) -> Result<Json> {
    let repeat = repeat.max(1);
    let bytes: Arc<[u8]> = std::fs::read(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .into();
    let options = ReadOptions::default();
    // Each load reads the package's bytes as a server would: through the
    // runtime, which rebuilds a package it has a record of (in memory, or
    // beside the artifacts on disk) without decompressing it.
    let mut compiled = Vec::new();
    for _ in 0..repeat.min(3) {
        let runtime = runtime()?;
        let started = Instant::now();
        runtime
            .load(runtime.read_package(Arc::clone(&bytes), &options)?)
            .await?;
        compiled.push(nanos(started.elapsed()));
    }
    let cache = tempfile::tempdir()?;
    let caching =
        || Runtime::new(RuntimeOptions::default().with_cache_dir(cache.path().to_path_buf()));
    let first = caching()?;
    first
        .load(first.read_package(Arc::clone(&bytes), &options)?)
        .await?;
    let mut disk = Vec::new();
    let mut first_call = Vec::new();
    for _ in 0..repeat {
        let runtime = caching()?;
        let started = Instant::now();
        let module = runtime
            .load(runtime.read_package(Arc::clone(&bytes), &options)?)
            .await?;
        disk.push(nanos(started.elapsed()));
        // The first call after such a load makes the module's first
        // instance (a load that skipped its probe leaves that to it).
        let started = Instant::now();
        module
            .call(Arc::new(NullContext), Some("noop"), Vec::new())
            .await?;
        first_call.push(nanos(started.elapsed()));
    }
    let warm = runtime()?;
    warm.load(warm.read_package(Arc::clone(&bytes), &options)?)
        .await?;
    let mut memory = Vec::new();
    for _ in 0..repeat {
        let started = Instant::now();
        warm.load(warm.read_package(Arc::clone(&bytes), &options)?)
            .await?;
        memory.push(nanos(started.elapsed()));
    }
    let ms = |mut samples: Vec<u64>| {
        samples.sort_unstable();
        samples[samples.len() / 2] as f64 / 1e6
    };
    Ok(json!({
        "runtime": format!("surli {}", env!("CARGO_PKG_VERSION")),
        "package": path.display().to_string(),
        "compiled_ms": ms(compiled),
        "disk_cache_ms": ms(disk),
        "memory_cache_ms": ms(memory),
        "first_call_after_disk_cache_us": ms(first_call) * 1000.0,
        "repeat": repeat,
    }))
}

async fn rss(path: &Path, modules: usize, cache_dir: Option<PathBuf>) -> Result<Json> {
    let modules = modules.max(1);
    // Several modules are made from this one under distinct names; one
    // module is read straight from the file, as a server reads it.
    let package = (modules > 1).then(|| read(path)).transpose()?;
    let mut options = RuntimeOptions::default();
    options.cache_dir = cache_dir;
    let before = rss_bytes();
    let runtime = Runtime::new(options)?;
    // Only reading and loading is timed, not the packing of each copy.
    let mut load_time = Duration::ZERO;
    let mut loaded = Vec::with_capacity(modules);
    if package.is_none() {
        let started = Instant::now();
        loaded.push(
            runtime
                .load(runtime.read_package_file(path, &ReadOptions::default())?)
                .await?,
        );
        load_time += started.elapsed();
    }
    for (i, package) in package
        .iter()
        .flat_map(|p| (0..modules).map(move |i| (i, p)))
    {
        // Each module under its own name, as distinct plugins are; the
        // compiled code is shared because the component is the same.
        let mut config = package.config().clone();
        config.meta.name = format!("{}-{i}", config.meta.name);
        let bytes = surli::package::PackageWriter::new(&config, package.wasm(), package.exports())
            .to_bytes()?;
        let started = Instant::now();
        loaded.push(
            runtime
                .load(runtime.read_package(bytes, &ReadOptions::default())?)
                .await?,
        );
        load_time += started.elapsed();
    }
    let after_load = rss_bytes();
    for module in &loaded {
        // A lease without a call: a new instance and its `init`, then idle.
        drop(module.lease(Arc::new(NullContext)).await?);
    }
    let after_instances = rss_bytes();
    let count = modules as f64;
    Ok(json!({
        "runtime": format!("surli {}", env!("CARGO_PKG_VERSION")),
        "package": path.display().to_string(),
        "copies": modules,
        "load_ms_total": load_time.as_secs_f64() * 1000.0,
        "rss_bytes_before": before,
        "rss_bytes_after_load": after_load,
        "rss_bytes_after_one_instance_each": after_instances,
        "bytes_per_loaded_copy": after_load.saturating_sub(before) as f64 / count,
        "bytes_per_instance": after_instances.saturating_sub(after_load) as f64 / count,
    }))
}
