//! `surli dev`: build a guest, load it, run the given calls; then watch its
//! sources, rebuild on every change and swap the new module in through a
//! registry, showing each call's answer and time beside the last build's.
//! A build that fails leaves the last good module serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use notify::{EventKind, RecursiveMode, Watcher as _};
use surli::{Module, ModuleOptions, NullContext, Registry, RegistryOptions, Runtime, Value};
use surli_build::{BuildEvent, BuildOptions, Profile, WasmOpt};
use tokio::sync::mpsc;

use crate::session::{function_label, function_name};

#[derive(Debug, clap::Args)]
pub(crate) struct DevArgs {
    /// The guest crate's directory, with its Cargo.toml and surrealism.toml
    #[arg(default_value = ".")]
    path: PathBuf,

    /// A call to run after every build, as a line of `surli run`: `FN ARG...`
    /// (`-` for the default export). Repeat for several
    #[arg(long = "call", value_name = "FN ARGS")]
    calls: Vec<String>,

    /// Build with cargo's release profile (default: the dev profile, which
    /// builds faster)
    #[arg(long)]
    release: bool,

    /// Cargo's target directory [default: cargo's own choice]
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,

    /// Stop after this many rebuilds (default: run until interrupted)
    #[arg(long, value_name = "N")]
    rebuilds: Option<usize>,
}

/// How long to wait for an editor's burst of writes to settle.
const SETTLE: Duration = Duration::from_millis(300);

/// The registry's one key: the guest being developed.
const KEY: &str = "dev";

/// What wakes the loop.
enum Wake {
    /// The sources changed.
    Edit,
    /// Ctrl-C.
    Stop,
}

/// One `--call`, read once.
struct Call {
    line: String,
    function: Option<String>,
    words: Vec<String>,
}

/// What a call gave in the last build: its answer (or error) and its time.
type Answer = (String, Duration);

pub(crate) fn run(args: &DevArgs) -> anyhow::Result<()> {
    let calls = args
        .calls
        .iter()
        .map(|line| {
            let mut words = crate::run::split_line(line)?.into_iter();
            let Some(function) = words.next() else {
                bail!("--call needs a function name (or `-` for the default export)");
            };
            Ok(Call {
                line: line.clone(),
                function: function_name(&function).map(str::to_owned),
                words: words.collect(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::block_on(dev(args, &calls))?
}

async fn dev(args: &DevArgs, calls: &[Call]) -> anyhow::Result<()> {
    let dir = args
        .path
        .canonicalize()
        .with_context(|| format!("cannot open {}", crate::shown(&args.path)))?;
    // Packages go outside the watched directory, so writing one is not a
    // change.
    let out = tempfile::tempdir().context("cannot make a directory for the packages")?;
    let runtime = Runtime::new(surli::RuntimeOptions::default()).map_err(crate::flat)?;
    let registry = Registry::new(runtime.clone(), RegistryOptions::default());
    let key = KEY.to_owned();

    let (wake, mut woken) = mpsc::unbounded_channel();
    // Absolute without resolving links: the directory may not exist yet.
    let target_dir = match &args.target_dir {
        Some(dir) => Some(std::path::absolute(dir).context("cannot resolve --target-dir")?),
        None => None,
    };
    let edits = wake.clone();
    let watched = dir.clone();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && is_edit(&event, &watched, target_dir.as_deref())
        {
            let _ = edits.send(Wake::Edit);
        }
    })
    .context("cannot watch the sources")?;
    // Ctrl-C ends the loop, so the packages' directory is removed and the
    // runtime shut down.
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = wake.send(Wake::Stop);
        }
    });
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", dir.display()))?;

    let (first, mut serving_path) = build(args, &dir, out.path(), &runtime, 0).await?;
    let module = registry
        .get_or_load(&key, || async move {
            Ok::<_, anyhow::Error>((first, ModuleOptions::default()))
        })
        .await?;
    eprintln!(
        "surli dev: serving {}; watching {} (Ctrl-C to stop)",
        module.id(),
        dir.display()
    );
    let mut last = run_calls(&module, calls, None).await;
    let mut serving = 0;

    let mut rebuilds = 0;
    while args.rebuilds.is_none_or(|max| rebuilds < max) {
        match woken.recv().await {
            None | Some(Wake::Stop) => break,
            Some(Wake::Edit) => {}
        }
        // An editor saves in bursts; let them settle, then build once.
        tokio::time::sleep(SETTLE).await;
        let mut stop = false;
        while let Ok(wake) = woken.try_recv() {
            stop |= matches!(wake, Wake::Stop);
        }
        if stop {
            break;
        }
        rebuilds += 1;
        let failure = match build(args, &dir, out.path(), &runtime, rebuilds).await {
            Ok((package, path)) => match registry
                .replace(key.clone(), package, ModuleOptions::default())
                .await
            {
                Ok(_) => {
                    // Only the package being served is kept.
                    let _ = std::fs::remove_file(std::mem::replace(&mut serving_path, path));
                    None
                }
                Err(error) => {
                    let _ = std::fs::remove_file(path);
                    Some(format!("does not load: {}", crate::flat(error)))
                }
            },
            Err(error) => Some(format!("failed: {error:#}")),
        };
        let Some(module) = registry.get(&key) else {
            bail!("the module left the registry");
        };
        match failure {
            None => {
                serving = rebuilds;
                eprintln!("surli dev: build {rebuilds} serving {}", module.id());
            }
            Some(failure) => eprintln!(
                "surli dev: build {rebuilds} {failure}\nsurli dev: still serving build \
                 {serving}"
            ),
        }
        last = run_calls(&module, calls, Some(&last)).await;
    }
    runtime.shutdown(Duration::from_secs(5)).await;
    Ok(())
}

/// Whether a watched event is an edit of the sources under `dir`: not a
/// read, not in a `target` or `.git` directory of the crate (cargo's own
/// output), not in `--target-dir`, not cargo rewriting its lock.
fn is_edit(event: &notify::Event, dir: &Path, target_dir: Option<&Path>) -> bool {
    if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
        return false;
    }
    event.paths.iter().any(|path| {
        if target_dir.is_some_and(|target| path.starts_with(target)) {
            return false;
        }
        // Only the part inside the crate: a crate that itself lives under a
        // directory named `target` is still watched.
        let inside = path.strip_prefix(dir).unwrap_or(path);
        let generated = inside.components().any(|c| {
            let name = c.as_os_str();
            name == "target" || name == ".git"
        });
        !generated && path.file_name().is_none_or(|name| name != "Cargo.lock")
    })
}

/// Builds the guest into a package in `out` and reads it back; cargo's
/// messages (its errors included) go to stderr as cargo prints them.
async fn build(
    args: &DevArgs,
    dir: &Path,
    out: &Path,
    runtime: &Runtime,
    number: usize,
) -> anyhow::Result<(surli::Package, PathBuf)> {
    let mut options = BuildOptions::new(dir);
    options.profile = if args.release {
        Profile::Release
    } else {
        Profile::Debug
    };
    options.wasm_opt = WasmOpt::Off;
    options.target_dir = args.target_dir.clone();
    options.output = Some(out.join(format!("build-{number}.surli")));
    let started = Instant::now();
    let built = surli_build::build(&options, runtime, |event| {
        if let BuildEvent::CargoMessage(line) | BuildEvent::Warning(line) = event {
            eprintln!("{line}");
        }
    })
    .await
    .map_err(crate::flat)?;
    eprintln!(
        "surli dev: built {} in {:.1} s",
        built.package_path.display(),
        started.elapsed().as_secs_f64()
    );
    let package = crate::read_package(&built.package_path)?;
    Ok((package, built.package_path))
}

/// Runs every call on `module`, printing each answer beside the previous
/// build's; returns the answers for the next comparison.
async fn run_calls(module: &Module, calls: &[Call], before: Option<&[Answer]>) -> Vec<Answer> {
    let mut answers = Vec::with_capacity(calls.len());
    for (n, call) in calls.iter().enumerate() {
        let started = Instant::now();
        let answer = match one_call(module, call).await {
            Ok(value) => surli_values::to_surrealql(&value),
            Err(error) => format!("error: {error:#}"),
        };
        let took = started.elapsed();
        let compared = match before.and_then(|b| b.get(n)) {
            None => format!("{took:.0?}"),
            Some((old, old_took)) if *old == answer => {
                format!("unchanged; {took:.0?}, was {old_took:.0?}")
            }
            Some((old, old_took)) => format!("was {old}; {took:.0?}, was {old_took:.0?}"),
        };
        println!("{} = {answer}   ({compared})", call.line);
        answers.push((answer, took));
    }
    answers
}

async fn one_call(module: &Module, call: &Call) -> anyhow::Result<Value> {
    let function = call.function.as_deref();
    let Some(signature) = module
        .functions()
        .iter()
        .find(|f| f.name.as_deref() == function)
    else {
        bail!("the module has no {}", function_label(function));
    };
    let args =
        surli_values::args_from_words(&call.words, &signature.args, &crate::session::surrealql)
            .map_err(crate::flat)?;
    module
        .call(Arc::new(NullContext), function, args)
        .await
        .map_err(crate::flat)
}
