//! `cargo xtask demo`: what surli does today, on real packages.
//!
//! For each package under `testdata/` it reads the package through every
//! guard, shows its identity, digests, capabilities and functions, works out
//! the limits it would run under with the default server limits, and writes
//! it back out with surli's reproducible writer to show the copy reads back
//! the same. Running functions joins the demo when the runtime lands.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use surli::config::{EffectiveLimits, ServerLimits};
use surli::package::{Package, PackageWriter, ReadOptions};

pub(crate) fn run(root: &Path) -> Result<()> {
    let testdata = root.join("testdata");
    let mut packages: Vec<_> = std::fs::read_dir(&testdata)
        .with_context(|| format!("cannot list {}", testdata.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "surli"))
        .collect();
    packages.sort();
    if packages.is_empty() {
        bail!("no .surli packages under {}", testdata.display());
    }
    for path in &packages {
        show(path)?;
    }
    println!("\nThe runtime (calling these functions) arrives with the next issue.");
    Ok(())
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
