//! `cargo xtask demo`: surli at work, end to end.
//!
//! Builds the demo guest (`fixtures/guests/demo`) with the official
//! `surrealism` SDK, packs it the way `surreal module build` does, loads it
//! and calls each of its functions through surli, printing results and
//! latencies; then does the same with `testdata/`'s package, written by the
//! original runtime, to show what the original writes runs here unchanged;
//! and last runs the `library` guest against an in-memory SurrealDB, whose
//! `sql` and `run` calls create, query and transform real records.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use surli::config::{EffectiveLimits, ServerLimits};
use surli::package::{Package, PackageWriter, ReadOptions};
use surli::types::ToSql;
use surli::{InvocationContext, Module, NullContext, Runtime, RuntimeOptions, SurrealValue, Value};
use surli_surrealdb::SurrealContext;

pub(crate) fn run(root: &Path) -> Result<()> {
    let demo = crate::fixtures::build_one(root, "demo")?;
    let library = crate::fixtures::build_one(root, "library")?;
    let baseline = root.join("testdata").join("original-0.3.1-baseline.surli");
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start an async runtime")?;
    let runtime = Runtime::new(RuntimeOptions::default())?;

    show(&demo)?;
    executor.block_on(calls(
        &runtime,
        &demo,
        &[
            (None, vec![text("surli")]),
            (Some("add"), vec![int(40), int(2)]),
            (Some("concat"), vec![text("Surreal"), text("ism")]),
            (Some("fib"), vec![int(90)]),
            (Some("noop"), vec![]),
            (Some("counter::bump"), vec![int(5)]),
            (Some("counter::bump"), vec![int(5)]),
            (Some("nope"), vec![]),
        ],
    ))?;

    println!();
    show(&baseline)?;
    executor.block_on(calls(
        &runtime,
        &baseline,
        &[
            (Some("add"), vec![int(2), int(3)]),
            (Some("fib"), vec![int(90)]),
            (Some("kv_roundtrip"), vec![text("answer"), int(42)]),
        ],
    ))?;

    println!();
    show(&library)?;
    executor.block_on(async {
        let started = Instant::now();
        let db = surli_surrealdb::connect("mem://", "demo", "demo").await?;
        db.query(
            "DEFINE FUNCTION fn::blurb($title: string) { \
                 RETURN 'A book called ' + $title + ', on shelf ' + string::slice($title, 0, 1) \
             };",
        )
        .await?
        .check()?;
        println!(
            "database    mem:// opened, fn::blurb defined in {}",
            ms(started.elapsed())
        );
        let ctx: Arc<dyn InvocationContext> = Arc::new(SurrealContext::new(db));
        calls_with(
            &runtime,
            &library,
            ctx,
            &[
                (
                    Some("shelve"),
                    vec![texts(&["Dune", "Emma", "Dracula", "Middlemarch"])],
                ),
                (Some("shelf"), vec![text("D")]),
                (Some("count"), vec![]),
                (Some("shout"), vec![text("whisper")]),
                (Some("blurb"), vec![text("Emma")]),
            ],
        )
        .await
    })?;
    Ok(())
}

fn texts(items: &[&str]) -> Value {
    items
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>()
        .into_value()
}

fn int(n: i64) -> Value {
    n.into_value()
}

fn text(s: &str) -> Value {
    s.to_owned().into_value()
}

/// Loads the package and makes each call, showing the result and how long
/// it took; the first call also pays for creating and initialising the
/// instance, the later ones reuse it from the pool.
async fn calls(runtime: &Runtime, path: &Path, calls: &[(Option<&str>, Vec<Value>)]) -> Result<()> {
    calls_with(runtime, path, Arc::new(NullContext), calls).await
}

/// [`calls`] with `sql` and `run` answered by `ctx`.
async fn calls_with(
    runtime: &Runtime,
    path: &Path,
    ctx: Arc<dyn InvocationContext>,
    calls: &[(Option<&str>, Vec<Value>)],
) -> Result<()> {
    let package = Package::read_file(path, &ReadOptions::default())?;
    let started = Instant::now();
    let module: Module = runtime.load(package).await?;
    println!(
        "loaded      in {} (compiled, probed once)",
        ms(started.elapsed())
    );
    for (function, args) in calls {
        let shown_args: Vec<String> = args.iter().map(ToSql::to_sql).collect();
        let name = function.unwrap_or("<default>");
        let started = Instant::now();
        let outcome = module.call(ctx.clone(), *function, args.clone()).await;
        let took = ms(started.elapsed());
        match outcome {
            Ok(value) => println!(
                "call        {name}({}) = {}  [{took}]",
                shown_args.join(", "),
                value.to_sql()
            ),
            Err(error) => println!(
                "call        {name}({}) failed: {error}  [{took}]",
                shown_args.join(", ")
            ),
        }
    }
    let stats = module.stats();
    println!(
        "stats       {} calls, {} ok, {} guest errors, {} instances created, {} pool hits",
        stats.calls, stats.ok, stats.guest_errors, stats.instances_created, stats.pool_hits
    );
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn show(path: &Path) -> Result<()> {
    let options = ReadOptions::default();
    let started = Instant::now();
    let package = Package::read_file(path, &options)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let read_time = started.elapsed();

    let config = package.config();
    let meta = &config.meta;
    println!("== {}", path.display());
    println!(
        "module      {}/{} {} (abi {})",
        meta.organisation,
        meta.name,
        meta.version,
        config
            .abi
            .map_or_else(|| "missing".to_owned(), |a| a.to_string())
    );
    match config.check_abi() {
        Ok(()) => println!("abi check   ok"),
        Err(e) => println!("abi check   {e}"),
    }
    println!("read in     {read_time:.1?}");
    println!(
        "mod.wasm    {} bytes, sha256 {}",
        package.wasm().len(),
        package.wasm_sha256_hex()
    );
    println!("package     sha256 {}", package.package_sha256_hex());
    for warning in package.config_warnings() {
        println!("warning     {warning}");
    }
    for warning in package.warnings() {
        println!("warning     {warning}");
    }

    let merged = EffectiveLimits::merge(&ServerLimits::default(), &config.capabilities);
    let limits = &merged.limits;
    println!(
        "limits      pool {}, memory {}, time {}, kv entries {}, strict timeout {}",
        limits.pool_size.value,
        limits
            .max_memory_bytes
            .map_or("none".to_owned(), |l| format!("{} MiB", l.value >> 20)),
        limits
            .max_execution_time
            .map_or("none".to_owned(), |l| format!("{:?}", l.value)),
        limits
            .max_kv_entries
            .map_or("none".to_owned(), |l| l.value.to_string()),
        limits.strict_timeout
    );

    println!("functions");
    for function in &package.exports().functions {
        let mode = if function.writeable {
            "writeable"
        } else {
            "read-only"
        };
        println!("  {:<40} {mode}", function.signature());
        if let Some(comment) = &function.comment {
            println!("      {comment}");
        }
    }

    let started = Instant::now();
    let mut writer = PackageWriter::new(config, package.wasm(), package.exports());
    if let Some(logo) = package.logo() {
        writer = writer.logo(logo);
    }
    if let Some(fs) = package.fs_path() {
        writer = writer.fs_dir(fs);
    }
    let first = writer.to_bytes().context("cannot repack")?;
    let second = writer.to_bytes().context("cannot repack")?;
    let copy = Package::from_bytes(&first, &options).context("cannot read the repacked copy")?;
    let same = copy.wasm_sha256() == package.wasm_sha256()
        && copy.config() == package.config()
        && copy.exports() == package.exports();
    println!(
        "repacked    {} bytes in {:.1?}; reads back the same: {}; reproducible: {}",
        first.len(),
        started.elapsed(),
        yes(same),
        yes(first == second)
    );
    if !same || first != second {
        bail!("the repacked copy of {} differs", path.display());
    }
    Ok(())
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}
