//! `cargo xtask fixtures`: builds the guest plugins surli's tests run and
//! packs each one as `target/fixtures/NAME.surli`.
//!
//! The guests live under `fixtures/` (its README says what each is for),
//! in cargo workspaces of their own: they build only for `wasm32-wasip2` and
//! their dependencies must stay out of surli's lock file. Each workspace
//! builds in one cargo run, with its own target directory under
//! `target/fixtures-build/`, so it never waits for the lock on surli's
//! target directory while other builds run, and cargo's own incremental
//! builds make a rerun take seconds. Packing takes milliseconds, so every
//! run repacks every package rather than tracking what changed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use surli::config::{ModuleConfig, ParseOptions};
use surli::package::{
    COMPONENT_PREAMBLE, CONFIG_ENTRY, EXPORTS_ENTRY, ExportsManifest, Package, PackageError,
    PackageWriter, ReadOptions, WASM_ENTRY,
};

use crate::toolchain;

const TARGET: &str = "wasm32-wasip2";

/// A cargo workspace of guests under `fixtures/`.
struct Workspace {
    /// Its directory under `fixtures/`; also the name of its target
    /// directory under `target/fixtures-build/`.
    dir: &'static str,
    guests: &'static [Guest],
}

/// A guest crate, and the fixture package made of it.
struct Guest {
    /// The package is `target/fixtures/{name}.surli`. It is also the crate's
    /// name and the `name` its `surrealism.toml` must give.
    name: &'static str,
    /// The crate's directory under `fixtures/`, which holds its
    /// `surrealism.toml` and any directory that file attaches.
    dir: &'static str,
    exports: Exports,
}

/// Where a package's `exports.toml` comes from.
#[derive(Clone, Copy)]
enum Exports {
    /// From the component itself, as `surreal module build` does it.
    Introspect,
    /// Empty: the component has no `invoke`, so the build tool could not
    /// instantiate it to ask.
    Empty,
}

const fn guest(name: &'static str, dir: &'static str) -> Guest {
    Guest {
        name,
        dir,
        exports: Exports::Introspect,
    }
}

const WORKSPACES: &[Workspace] = &[
    Workspace {
        dir: "guests",
        guests: &[
            guest("demo", "guests/demo"),
            guest("kinds", "guests/kinds"),
            guest("hostcalls", "guests/hostcalls"),
            guest("hostile", "guests/hostile"),
            guest("sdk065", "guests/sdk065"),
            guest("badinit", "guests/badinit"),
            guest("initloop", "guests/initloop"),
            guest("initsql", "guests/initsql"),
            guest("initkv", "guests/initkv"),
            guest("initclock", "guests/initclock"),
            guest("library", "guests/library"),
            guest("http", "guests/http"),
            Guest {
                name: "no-invoke",
                dir: "raw/no-invoke",
                exports: Exports::Empty,
            },
            guest("malformed", "raw/malformed"),
            Guest {
                name: "invoke-only",
                dir: "raw/invoke-only",
                exports: Exports::Empty,
            },
            // Its describing export waits on the host, so it cannot be
            // asked for its signatures here either.
            Guest {
                name: "describe-blocks",
                dir: "raw/describe-blocks",
                exports: Exports::Empty,
            },
        ],
    },
    Workspace {
        dir: "guests-pinned",
        guests: &[guest("kinds-pinned", "guests-pinned/kinds-pinned")],
    },
];

/// The fixture whose `mod.wasm` is a core module, not a component.
const CORE_MODULE: &str = "core-module";
const CORE_MODULE_DIR: &str = "raw/core-module";
/// The `\0asm` magic and version 1 with no sections: the smallest valid core
/// module, which is all a host needs to see to refuse it.
const CORE_MODULE_WASM: &[u8] = b"\0asm\x01\0\0\0";

/// Builds every guest and writes every package; see the module docs.
pub(crate) fn run(root: &Path) -> Result<()> {
    let started = Instant::now();
    toolchain::ensure_wasm_target(root)?;
    let fixtures = root.join("fixtures");
    let out_dir = root.join("target").join("fixtures");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;

    for workspace in WORKSPACES {
        build(root, &fixtures, workspace, None)?;
    }

    let mut packed = Vec::new();
    for workspace in WORKSPACES {
        let artifacts = target_dir(root, workspace).join(TARGET).join("release");
        for guest in workspace.guests {
            let wasm_path = artifacts.join(format!("{}.wasm", guest.name.replace('-', "_")));
            packed.push(pack(
                &fixtures.join(guest.dir),
                guest,
                &wasm_path,
                &out_dir,
            )?);
        }
    }
    packed.push(pack_core_module(&fixtures.join(CORE_MODULE_DIR), &out_dir)?);

    for line in &packed {
        println!("xtask: fixtures:   {line}");
    }
    println!(
        "xtask: fixtures: {} packages in {} ready in {:.1?}",
        packed.len(),
        out_dir.display(),
        started.elapsed()
    );
    Ok(())
}

/// Where a guest workspace builds: its own directory, so its cargo never
/// waits for the lock of surli's target directory.
fn target_dir(root: &Path, workspace: &Workspace) -> PathBuf {
    root.join("target")
        .join("fixtures-build")
        .join(workspace.dir)
}

/// Builds and packs one guest of the main fixture workspace (the demo, the
/// library) for `cargo xtask demo`; returns the package's path.
pub(crate) fn build_one(root: &Path, name: &str) -> Result<PathBuf> {
    toolchain::ensure_wasm_target(root)?;
    let fixtures = root.join("fixtures");
    let out_dir = root.join("target").join("fixtures");
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let workspace = &WORKSPACES[0];
    let guest = workspace
        .guests
        .iter()
        .find(|g| g.name == name)
        .with_context(|| format!("the guest `{name}` is missing from the fixture list"))?;
    build(root, &fixtures, workspace, Some(guest))?;
    let wasm = target_dir(root, workspace)
        .join(TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    pack(&fixtures.join(guest.dir), guest, &wasm, &out_dir)?;
    Ok(out_dir.join(format!("{name}.surli")))
}

/// Builds one guest workspace (or one guest of it) in release, passing
/// cargo's output through.
fn build(root: &Path, fixtures: &Path, workspace: &Workspace, only: Option<&Guest>) -> Result<()> {
    let names: Vec<&str> = match only {
        Some(guest) => vec![guest.name],
        None => workspace.guests.iter().map(|g| g.name).collect(),
    };
    println!(
        "xtask: fixtures: building {} ({}) for {TARGET}",
        workspace.dir,
        names.join(", ")
    );
    let dir = fixtures.join(workspace.dir);
    let started = Instant::now();
    let mut cargo = Command::new(crate::cargo());
    cargo.args(["build", "--release", "--locked", "--target", TARGET]);
    match only {
        Some(guest) => cargo.args(["--package", guest.name]),
        None => cargo.arg("--workspace"),
    };
    let status = cargo
        .arg("--target-dir")
        .arg(target_dir(root, workspace))
        .current_dir(&dir)
        // Either variable replaces the rustflags of the workspace's
        // .cargo/config.toml, which SDK 0.6 guests need to compile at all.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .with_context(|| format!("cannot start cargo to build {}", dir.display()))?;
    if !status.success() {
        bail!(
            "building the guest workspace fixtures/{} failed ({status}); cargo's output above says why",
            workspace.dir
        );
    }
    println!(
        "xtask: fixtures: built {} in {:.1?}",
        workspace.dir,
        started.elapsed()
    );
    Ok(())
}

/// Packs one guest as `{name}.surli` and reads it back; returns a line for
/// the summary.
fn pack(guest_dir: &Path, guest: &Guest, wasm_path: &Path, out_dir: &Path) -> Result<String> {
    let wasm = std::fs::read(wasm_path)
        .with_context(|| format!("cannot read the built guest {}", wasm_path.display()))?;
    if !wasm.starts_with(&COMPONENT_PREAMBLE) {
        bail!(
            "{} is not a WebAssembly component; is the crate a cdylib built for {TARGET}?",
            wasm_path.display()
        );
    }
    let config = read_config(guest_dir, guest.name)?;
    let exports = match guest.exports {
        Exports::Introspect => introspect(&config, &wasm)
            .with_context(|| format!("cannot list the functions of {}", guest.name))?,
        Exports::Empty => ExportsManifest::default(),
    };

    let out = out_dir.join(format!("{}.surli", guest.name));
    let mut writer = PackageWriter::new(&config, &wasm, &exports);
    if let Some(fs) = config.attach.fs_dir() {
        writer = writer.fs_dir(guest_dir.join(fs));
    }
    writer
        .write_file(&out)
        .with_context(|| format!("cannot write {}", out.display()))?;
    // What the tests will do first, done here so a bad fixture fails its
    // build rather than some test far away.
    Package::read_file(&out, &ReadOptions::default())
        .with_context(|| format!("surli cannot read back {}", out.display()))?;
    summary(&out, wasm.len())
}

/// Writes `core-module.wasm` and `core-module.surli`: a package laid out
/// like any other but holding a core module. surli's writer refuses to make
/// such a package, so this one is written entry by entry.
fn pack_core_module(guest_dir: &Path, out_dir: &Path) -> Result<String> {
    let wasm_out = out_dir.join(format!("{CORE_MODULE}.wasm"));
    std::fs::write(&wasm_out, CORE_MODULE_WASM)
        .with_context(|| format!("cannot write {}", wasm_out.display()))?;

    let config = read_config(guest_dir, CORE_MODULE)?
        .to_toml()
        .context("cannot write the core module's surrealism.toml")?;
    let exports = ExportsManifest::default()
        .to_toml()
        .context("cannot write an empty exports.toml")?;
    let out = out_dir.join(format!("{CORE_MODULE}.surli"));
    let write = || -> std::io::Result<()> {
        let file = BufWriter::new(File::create(&out)?);
        let mut tar = tar::Builder::new(zstd::stream::write::Encoder::new(file, 0)?);
        for (path, data) in [
            (WASM_ENTRY, CORE_MODULE_WASM),
            (CONFIG_ENTRY, config.as_bytes()),
            (EXPORTS_ENTRY, exports.as_bytes()),
        ] {
            // The metadata surli's own writer uses, so only mod.wasm differs.
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            tar.append_data(&mut header, path, data)?;
        }
        tar.into_inner()?.finish()?.flush()
    };
    write().with_context(|| format!("cannot write {}", out.display()))?;

    match Package::read_file(&out, &ReadOptions::default()) {
        Err(PackageError::NotAComponent { .. }) => summary(&out, CORE_MODULE_WASM.len()),
        Err(e) => bail!(
            "surli should refuse {} as a core module, but says: {e}",
            out.display()
        ),
        Ok(_) => bail!(
            "surli reads {} although it holds a core module",
            out.display()
        ),
    }
}

/// The guest's `surrealism.toml`, strictly: a typo in a fixture is a bug.
fn read_config(guest_dir: &Path, name: &str) -> Result<ModuleConfig> {
    let path = guest_dir.join("surrealism.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let config = ModuleConfig::parse(&text, ParseOptions::strict())
        .with_context(|| format!("{} is not a valid surrealism.toml", path.display()))?
        .config;
    if config.meta.name != name {
        bail!(
            "{} names the module `{}`, but the fixture is `{name}`",
            path.display(),
            config.meta.name
        );
    }
    Ok(config)
}

/// The `exports.toml` of a component, asked of the component itself through
/// surli's runtime (instantiated once, without `init`), as `surreal module
/// build` does: the module's own FlatBuffers bytes plus their text forms.
fn introspect(config: &ModuleConfig, wasm: &[u8]) -> Result<ExportsManifest> {
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start an async runtime")?;
    let runtime = surli::Runtime::new(surli::RuntimeOptions::default())?;
    let functions = executor.block_on(runtime.describe_component(config, wasm))?;
    Ok(surli::exports_manifest(&functions))
}

fn summary(package: &Path, wasm_bytes: usize) -> Result<String> {
    let bytes = std::fs::metadata(package)
        .with_context(|| format!("cannot stat {}", package.display()))?
        .len();
    let name = package
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(format!(
        "{name:<20} {bytes:>9} bytes (mod.wasm {wasm_bytes} bytes)"
    ))
}
