//! `surli bench`: how fast one function runs through the pool: load and
//! first-instance times, then calls per second and latency percentiles
//! with N concurrent callers for a fixed time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;
use serde::Serialize;
use surli::{ArtifactSource, Runtime};

use crate::call::split_words;
use crate::limits_args::parse_duration;
use crate::session::{ModuleArgs, Session, function_label};

#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    #[command(flatten)]
    module: ModuleArgs,

    /// The function to call: its name, or `-` for the default export
    function: Option<String>,

    /// The arguments, as for `surli call`
    #[arg(allow_negative_numbers = true)]
    args: Vec<String>,

    /// Call the default export; every word after the package is an argument
    #[arg(long)]
    default: bool,

    /// How many callers call at once
    #[arg(long, short = 'c', value_name = "N", default_value_t = 1)]
    concurrency: usize,

    /// How long to measure, e.g. `3s`
    #[arg(long, short = 'd', value_name = "DURATION", default_value = "3s",
          value_parser = bench_duration)]
    duration: Duration,

    /// How long to call before measuring, so the pool is full and caches
    /// are warm
    #[arg(long, value_name = "DURATION", default_value = "500ms",
          value_parser = bench_duration)]
    warmup: Duration,

    /// Print one JSON object instead of a table
    #[arg(long)]
    json: bool,
}

fn bench_duration(text: &str) -> Result<Duration, String> {
    parse_duration(text)?
        .into_inner()
        .ok_or_else(|| "a benchmark needs a finite duration".to_owned())
}

/// What `bench` reports, in the shape of its JSON output.
#[derive(Debug, Serialize)]
struct Report {
    function: Option<String>,
    concurrency: usize,
    pool_size: usize,
    /// Reading the package and getting its compiled component, in
    /// microseconds.
    load_us: f64,
    /// Where the compiled component came from: `compiled`, `disk`.
    load_from: &'static str,
    /// The first call: a new instance, its `init`, and the call.
    first_call_us: f64,
    warmup_ms: u128,
    duration_ms: u128,
    calls: u64,
    errors: u64,
    calls_per_second: f64,
    latency_us: Latency,
    instances_created: u64,
}

#[derive(Debug, Serialize)]
struct Latency {
    min: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    mean: f64,
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let (function, words) = split_words(args.default, args.function.as_deref(), &args.args)?;
    let report = crate::block_on(bench(args, function, &words))??;
    if args.json {
        let text = serde_json::to_string_pretty(&report).context("cannot write the JSON")?;
        println!("{text}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

async fn bench(
    args: &BenchArgs,
    function: Option<&str>,
    words: &[String],
) -> anyhow::Result<Report> {
    // Load is timed on its own runtime, package reading included, as a
    // server would pay it.
    let started = Instant::now();
    let load_source;
    {
        let runtime = Runtime::new(args.module.cache.runtime_options(&args.module.limits))
            .map_err(crate::flat)?;
        let package = crate::read_package_for(&runtime, &args.module.file)?;
        let module = runtime.load(package).await.map_err(crate::flat)?;
        load_source = module.stats().artifact_source;
    }
    let load = started.elapsed();

    let session = Session::open(&args.module).await?;
    let signature = session.function(function)?;
    let values = surli_values::args_from_words(words, &signature.args, &crate::session::surrealql)
        .map_err(crate::flat)
        .with_context(|| format!("cannot call {}", function_label(function)))?;

    let started = Instant::now();
    session
        .module
        .call(session.context.clone(), function, values.clone())
        .await
        .map_err(crate::flat)
        .with_context(|| format!("the first call of {} failed", function_label(function)))?;
    let first_call = started.elapsed();

    let function = function.map(str::to_owned);
    let values = Arc::new(values);
    let callers = |window: Duration| {
        (0..args.concurrency)
            .map(|_| {
                let module = session.module.clone();
                let context = session.context.clone();
                let function = function.clone();
                let values = values.clone();
                tokio::spawn(async move {
                    let mut histogram = latency_histogram()?;
                    let mut errors = 0u64;
                    let mut first_error = None;
                    let deadline = Instant::now() + window;
                    while Instant::now() < deadline {
                        let started = Instant::now();
                        let outcome = module
                            .call(context.clone(), function.as_deref(), (*values).clone())
                            .await;
                        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                        histogram.saturating_record(nanos.max(1));
                        if let Err(error) = outcome {
                            errors += 1;
                            first_error.get_or_insert_with(|| error.to_string());
                        }
                    }
                    anyhow::Ok((histogram, errors, first_error))
                })
            })
            .collect::<Vec<_>>()
    };

    for task in callers(args.warmup) {
        task.await.context("a warm-up caller stopped")??;
    }
    let started = Instant::now();
    let mut total = latency_histogram()?;
    let mut errors = 0;
    let mut first_error = None;
    for task in callers(args.duration) {
        let (histogram, task_errors, task_error) =
            task.await.context("a benchmark caller stopped")??;
        total.add(histogram)?;
        errors += task_errors;
        first_error = first_error.or(task_error);
    }
    let elapsed = started.elapsed();
    if errors == total.len() {
        bail!(
            "every call of {} failed: {}",
            function_label(function.as_deref()),
            first_error.unwrap_or_default()
        );
    }
    if let Some(error) = &first_error {
        eprintln!("surli: warning: {errors} calls failed; the first said: {error}");
    }

    let us = |nanos: u64| nanos as f64 / 1000.0;
    let report = Report {
        function,
        concurrency: args.concurrency,
        pool_size: session.module.limits().pool_size.value.get(),
        load_us: load.as_secs_f64() * 1e6,
        load_from: match load_source {
            ArtifactSource::Memory => "memory",
            ArtifactSource::Disk => "disk",
            _ => "compiled",
        },
        first_call_us: first_call.as_secs_f64() * 1e6,
        warmup_ms: args.warmup.as_millis(),
        duration_ms: elapsed.as_millis(),
        calls: total.len(),
        errors,
        calls_per_second: total.len() as f64 / elapsed.as_secs_f64(),
        latency_us: Latency {
            min: us(total.min()),
            p50: us(total.value_at_quantile(0.50)),
            p90: us(total.value_at_quantile(0.90)),
            p99: us(total.value_at_quantile(0.99)),
            max: us(total.max()),
            mean: total.mean() / 1000.0,
        },
        instances_created: session.module.stats().instances_created,
    };
    session.close().await?;
    Ok(report)
}

impl Report {
    fn table(&self) -> String {
        let micros = |us: f64| human(Duration::from_secs_f64(us / 1e6));
        let l = &self.latency_us;
        let rows = [
            (
                "function",
                self.function
                    .clone()
                    .unwrap_or_else(|| "(default export)".to_owned()),
            ),
            (
                "callers",
                format!("{} on a pool of {}", self.concurrency, self.pool_size),
            ),
            (
                "load",
                format!(
                    "{} ({})",
                    micros(self.load_us),
                    match self.load_from {
                        "disk" => "from the compiled-module cache",
                        "memory" => "compiled earlier in this process",
                        _ => "compiled",
                    }
                ),
            ),
            ("first call", micros(self.first_call_us)),
            (
                "calls",
                format!(
                    "{} in {} ({} errors)",
                    self.calls,
                    human(Duration::from_millis(
                        u64::try_from(self.duration_ms).unwrap_or(u64::MAX)
                    )),
                    self.errors
                ),
            ),
            ("calls/s", format!("{:.0}", self.calls_per_second)),
            (
                "latency",
                format!(
                    "p50 {}  p90 {}  p99 {}  max {}",
                    micros(l.p50),
                    micros(l.p90),
                    micros(l.p99),
                    micros(l.max)
                ),
            ),
            (
                "instances",
                format!(
                    "{} created (one by the load, to list the exports)",
                    self.instances_created
                ),
            ),
        ];
        rows.iter()
            .map(|(label, value)| format!("{label:<12}{value}\n"))
            .collect()
    }
}

/// Latencies in nanoseconds, from 1 ns to an hour, to three significant
/// digits. The bounds are fixed because `saturating_record` clamps to the
/// current highest trackable value instead of growing the histogram.
fn latency_histogram() -> anyhow::Result<Histogram<u64>> {
    const HOUR_NANOS: u64 = 3_600 * 1_000_000_000;
    Histogram::new_with_bounds(1, HOUR_NANOS, 3).context("cannot make a latency histogram")
}

/// A duration with three significant digits in a fitting unit.
pub(crate) fn human(duration: Duration) -> String {
    let nanos = duration.as_nanos() as f64;
    let (value, unit) = if nanos < 1e3 {
        (nanos, "ns")
    } else if nanos < 1e6 {
        (nanos / 1e3, "µs")
    } else if nanos < 1e9 {
        (nanos / 1e6, "ms")
    } else {
        (nanos / 1e9, "s")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}
