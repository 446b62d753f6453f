//! `surli pack` and `surli unpack`: between a `.surli` package and a
//! directory holding its parts under their package names (`mod.wasm`,
//! `surrealism.toml`, `exports.toml`, `logo.png`, `fs/`).
//!
//! The package guards (sizes, paths, links, special files) are the
//! library's, applied by `PackageWriter` and `Package::read_file`.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use surli::config::ParseOptions;
use surli::package::{ExportsManifest, PackageWriter};
use surli::{ModuleConfig, Runtime, RuntimeOptions};

use crate::{flat, shown};

const WASM: &str = "mod.wasm";
const CONFIG: &str = "surrealism.toml";
const EXPORTS: &str = "exports.toml";
const LOGO: &str = "logo.png";
const FS: &str = "fs";

#[derive(Debug, clap::Args)]
pub(crate) struct PackArgs {
    /// The directory: mod.wasm and surrealism.toml, optionally exports.toml
    /// (asked of the module when missing), logo.png and fs/
    dir: PathBuf,

    /// The package to write [default: {organisation}-{name}-{version}.surli]
    #[arg(short, long, value_name = "OUT.surli")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct UnpackArgs {
    /// The package to unpack
    file: PathBuf,

    /// The directory to write into; created if missing
    dir: PathBuf,

    /// Write into a directory that is not empty, replacing the package's
    /// files there (and removing a stale logo.png and fs/)
    #[arg(long)]
    force: bool,
}

pub(crate) fn pack(args: &PackArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let wasm_path = dir.join(WASM);
    let wasm =
        fs::read(&wasm_path).with_context(|| format!("cannot read {}", shown(&wasm_path)))?;
    let config_path = dir.join(CONFIG);
    let text = fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", shown(&config_path)))?;
    let parsed = ModuleConfig::parse(&text, ParseOptions::default())
        .map_err(|e| flat(e).context(shown(&config_path)))?;
    for warning in &parsed.warnings {
        eprintln!("surli: warning: {}: {warning}", shown(&config_path));
    }
    let config = parsed.config;

    let exports_path = dir.join(EXPORTS);
    let exports = match optional_file(&exports_path)? {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{} is not valid UTF-8", shown(&exports_path)))?;
            ExportsManifest::parse(&text).map_err(|e| flat(e).context(shown(&exports_path)))?
        }
        None => {
            // What `surreal module build` does: the module is the authority
            // on what it exports.
            eprintln!(
                "surli: {} is missing; asking the module what it exports",
                shown(&exports_path)
            );
            describe(&config, &wasm).with_context(|| shown(&wasm_path))?
        }
    };
    let logo = optional_file(&dir.join(LOGO))?;

    let mut writer = PackageWriter::new(&config, &wasm, &exports);
    if let Some(logo) = &logo {
        writer = writer.logo(logo);
    }
    let fs_dir = dir.join(FS);
    // `symlink_metadata`, so that a link named `fs` reaches the writer,
    // which refuses it, rather than being skipped as "not there".
    if fs::symlink_metadata(&fs_dir).is_ok() {
        writer = writer.fs_dir(fs_dir);
    }
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(config.file_name()));
    writer
        .write_file(&out)
        .map_err(|e| flat(e).context(format!("cannot write {}", shown(&out))))?;
    println!(
        "packed {}/{} {} into {}",
        config.meta.organisation,
        config.meta.name,
        config.meta.version,
        out.display()
    );
    Ok(())
}

fn describe(config: &ModuleConfig, wasm: &[u8]) -> anyhow::Result<ExportsManifest> {
    let functions = crate::block_on(async {
        let runtime = Runtime::new(RuntimeOptions::default())?;
        runtime.describe_component(config, wasm).await
    })?
    .map_err(flat)?;
    Ok(surli::exports_manifest(&functions))
}

/// The file's bytes, or `None` when there is no such file.
fn optional_file(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", shown(path))),
    }
}

pub(crate) fn unpack(args: &UnpackArgs) -> anyhow::Result<()> {
    let package = crate::read_package(&args.file)?;
    let dir = &args.dir;
    prepare_dir(dir, args.force)?;

    let config = package.config();
    let config_text = config
        .to_toml()
        .map_err(|e| flat(e).context(format!("cannot write {}", shown(&dir.join(CONFIG)))))?;
    let exports_text = package
        .exports()
        .to_toml()
        .map_err(|e| flat(e).context(format!("cannot write {}", shown(&dir.join(EXPORTS)))))?;
    for warning in package.config_warnings() {
        // Unknown keys are not part of the model, so `to_toml` drops them.
        eprintln!(
            "surli: warning: {}: surrealism.toml: {warning}",
            shown(&args.file)
        );
    }
    for warning in package.warnings() {
        eprintln!("surli: warning: {}: {warning}", shown(&args.file));
    }

    write_new(&dir.join(WASM), package.wasm(), args.force)?;
    write_new(&dir.join(CONFIG), config_text.as_bytes(), args.force)?;
    write_new(&dir.join(EXPORTS), exports_text.as_bytes(), args.force)?;
    let logo_path = dir.join(LOGO);
    match package.logo() {
        Some(logo) => write_new(&logo_path, logo, args.force)?,
        // A logo left from an earlier unpack would be packed back in.
        None if args.force => remove(&logo_path)?,
        None => {}
    }
    let fs_path = dir.join(FS);
    if args.force {
        remove(&fs_path)?;
    }
    if let Some(source) = package.fs_path() {
        copy_tree(source, &fs_path)?;
    }
    println!(
        "unpacked {}/{} {} into {}",
        config.meta.organisation,
        config.meta.name,
        config.meta.version,
        dir.display()
    );
    Ok(())
}

/// Creates `dir`, or checks that the existing one may be written into.
fn prepare_dir(dir: &Path, force: bool) -> anyhow::Result<()> {
    match fs::read_dir(dir) {
        Ok(mut entries) => {
            if !force && entries.next().is_some() {
                bail!(
                    "{} is not empty; unpack into a new directory, or pass --force to replace \
                     the package's files there",
                    shown(dir)
                );
            }
            Ok(())
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", shown(dir)))
        }
        Err(error) => Err(error).with_context(|| format!("cannot open {}", shown(dir))),
    }
}

/// Writes a new file. With `replace`, whatever is at `path` is removed
/// first, so a link there is replaced rather than written through.
fn write_new(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    if replace {
        remove(path)?;
    }
    let context = || format!("cannot write {}", shown(path));
    let mut file = File::create_new(path).with_context(context)?;
    io::Write::write_all(&mut file, bytes).with_context(context)
}

/// Removes a file, link or directory tree at `path`, if there is one;
/// links are removed, never followed.
fn remove(path: &Path) -> anyhow::Result<()> {
    let removed = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    };
    removed.with_context(|| format!("cannot remove {}", shown(path)))
}

/// Copies the extracted attached directory. The library extracted only
/// directories and regular files; anything else is refused rather than
/// followed.
fn copy_tree(source: &Path, target: &Path) -> anyhow::Result<()> {
    fs::create_dir(target).with_context(|| format!("cannot create {}", shown(target)))?;
    let entries = fs::read_dir(source)
        .and_then(|entries| entries.collect::<io::Result<Vec<_>>>())
        .with_context(|| format!("cannot list {}", shown(source)))?;
    for entry in entries {
        let from = entry.path();
        let to = target.join(entry.file_name());
        let kind = entry
            .file_type()
            .with_context(|| format!("cannot inspect {}", shown(&from)))?;
        if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else if kind.is_file() {
            let mut input =
                File::open(&from).with_context(|| format!("cannot read {}", shown(&from)))?;
            let mut output =
                File::create_new(&to).with_context(|| format!("cannot write {}", shown(&to)))?;
            io::copy(&mut input, &mut output)
                .with_context(|| format!("cannot copy {} to {}", shown(&from), shown(&to)))?;
        } else {
            bail!("{} is neither a file nor a directory", shown(&from));
        }
    }
    Ok(())
}
