//! Serving many modules for a long time: a registry that loads each module
//! once and swaps in new code while calls run, metrics scraped as
//! Prometheus text, and a graceful shutdown.
//!
//! `cargo xtask fixtures && cargo run -p surli --example serve -- target/fixtures`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use surli::{
    LoadError, ModuleOptions, NullContext, Package, ReadOptions, Registry, RegistryOptions,
    Runtime, RuntimeOptions, SurrealValue,
};

/// Where the registry gets a module it does not hold: here a file, in a
/// database its `DEFINE MODULE` record. Read through the runtime, a
/// package it has seen before (in this process, or in an earlier one with
/// the same cache directory) is not decompressed again.
async fn source(
    runtime: Runtime,
    dir: String,
    name: &str,
) -> Result<(Package, ModuleOptions), LoadError> {
    let path = format!("{dir}/{name}.surli");
    let package = runtime.read_package_file(path, &ReadOptions::default())?;
    Ok((package, ModuleOptions::default()))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::args().nth(1);
    let dir = dir.unwrap_or_else(|| "target/fixtures".to_owned());

    // 1. Metrics: any `metrics` recorder works; Prometheus's renders the
    //    text a scraper reads. Calls are counted once the runtime is told to.
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let runtime = Runtime::new(RuntimeOptions::default().with_metrics(true))?;

    // 2. The registry: at most 100 modules or 1 GiB of them; maintenance
    //    drops instances idle for a minute or two and re-weighs the modules.
    let registry = Registry::new(
        runtime.clone(),
        RegistryOptions::default()
            .with_max_modules(100)
            .with_max_bytes(Some(1 << 30)),
    );
    let maintenance =
        registry.spawn_maintenance(&tokio::runtime::Handle::current(), Duration::from_secs(60));

    // 3. Requests: each asks the registry for its module; eight at once
    //    still load it once.
    let key = "shop::pricing".to_owned();
    let requests: Vec<_> = (0..8i64)
        .map(|n| {
            let (registry, key, dir) = (registry.clone(), key.clone(), dir.clone());
            let runtime = runtime.clone();
            tokio::spawn(async move {
                let module = registry
                    .get_or_load(&key, || source(runtime, dir, "demo"))
                    .await?;
                let args = vec![n.into_value(), 100i64.into_value()];
                let sum = module
                    .call(Arc::new(NullContext), Some("add"), args)
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(sum)
            })
        })
        .collect();
    for request in requests {
        println!("add = {:?}", request.await??);
    }

    // 4. New code while serving: calls already running finish on the old
    //    module, new ones get the new one.
    let (package, options) = source(runtime.clone(), dir.clone(), "sdk065").await?;
    registry.replace(key.clone(), package, options).await?;
    if let Some(module) = registry.get(&key) {
        let args = vec!["surli".to_owned().into_value()];
        let hello = module
            .call(Arc::new(NullContext), Some("hello"), args)
            .await?;
        println!("hello = {hello:?}");
    }
    for version in registry.versions(&key) {
        println!(
            "{}: {} calls, current: {}",
            version.id, version.stats.calls, version.current
        );
    }

    // 5. A scrape: what is counted as it happens, plus what is read now.
    runtime.publish_metrics();
    for line in prometheus.render().lines() {
        if line.starts_with("surli_calls_total") || line.starts_with("surli_instances_idle") {
            println!("{line}");
        }
    }

    // 6. Shut down: no new work, calls get five seconds, then the guests
    //    still running are stopped.
    maintenance.abort();
    let report = runtime.shutdown(Duration::from_secs(5)).await;
    println!("shutdown: {report:?}");
    Ok(())
}
