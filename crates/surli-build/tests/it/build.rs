//! Whole builds of the demo guest, in the target directory `cargo xtask
//! fixtures` built it in, so cargo finds it fresh.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use surli_build::{BuildError, BuildEvent, BuildOptions, BuildOutput, WasmOpt, build};
use surli_package::{Package, ReadOptions};

use crate::support::{fixture, fixture_target_dir, repo_root, runtime};

fn demo_options(output: &Path) -> BuildOptions {
    guest_options("demo", output)
}

fn guest_options(guest: &str, output: &Path) -> BuildOptions {
    let mut options = BuildOptions::new(repo_root().join("fixtures/guests").join(guest));
    options.output = Some(output.to_path_buf());
    options.target_dir = Some(fixture_target_dir());
    options.locked = true;
    // As `cargo xtask fixtures` builds: CI's RUSTFLAGS are for the host and
    // would make cargo rebuild the guest from scratch.
    options.clear_rustflags = true;
    options.wasm_opt = WasmOpt::Off;
    options
}

async fn build_with_events(
    options: &BuildOptions,
) -> (Result<BuildOutput, BuildError>, Vec<BuildEvent>) {
    let (sender, receiver) = mpsc::channel();
    let result = build(options, &runtime(), move |event| {
        let _ = sender.send(event);
    })
    .await;
    (result, receiver.try_iter().collect())
}

/// The package's exports, sorted by name: their order is the order the
/// guest's registrations were linked in, which can differ between builds
/// of the same crate with other features unified in its workspace.
fn sorted_exports(package: &Package) -> Vec<surli_package::FunctionExport> {
    let mut functions = package.exports().functions.clone();
    functions.sort_by(|a, b| a.name.cmp(&b.name));
    functions
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_guest_builds_into_a_package_reproducibly() {
    let temp = tempfile::tempdir().unwrap();
    let first_path = temp.path().join("first/demo.surli");
    let (first, events) = build_with_events(&demo_options(&first_path)).await;
    let first = first.unwrap_or_else(|e| panic!("the demo guest should build: {e}"));

    assert_eq!(first.package_path, first_path);
    let package = Package::read_file(&first_path, &ReadOptions::default()).unwrap();
    assert_eq!(package.config().abi.map(|abi| abi.0), Some(2));
    assert_eq!(package.config().meta.name, "demo");
    assert_eq!(package.package_sha256_hex(), first.package_sha256);
    assert_eq!(
        first.package_bytes,
        std::fs::metadata(&first_path).unwrap().len()
    );
    assert_eq!(first.sdk_version.major, 0);
    assert_eq!(first.sdk_version.minor, 3);

    // The same functions as the fixture, which xtask packed from the same
    // crate (unstripped, built with the whole guest workspace) and
    // introspected the same way.
    let fixture = fixture("demo");
    assert_eq!(sorted_exports(&package), sorted_exports(&fixture));
    assert_eq!(first.functions.len(), fixture.exports().functions.len());
    assert!(
        package.wasm().len() < fixture.wasm().len(),
        "stripping shrinks the component"
    );

    // The steps, in order.
    let position = |wanted: fn(&BuildEvent) -> bool| {
        events
            .iter()
            .position(wanted)
            .unwrap_or_else(|| panic!("missing event in {events:#?}"))
    };
    let started = position(|e| matches!(e, BuildEvent::CargoStarted { .. }));
    let compiled =
        position(|e| matches!(e, BuildEvent::Compiled { crate_name, .. } if crate_name == "demo"));
    let finished = position(|e| matches!(e, BuildEvent::CargoFinished { .. }));
    let stripped = position(|e| matches!(e, BuildEvent::Stripped { .. }));
    let introspected = position(|e| matches!(e, BuildEvent::Introspected { .. }));
    let packing = position(|e| matches!(e, BuildEvent::Packing));
    let packed = position(|e| matches!(e, BuildEvent::Packed { .. }));
    assert!(started < compiled && compiled < finished && finished < stripped);
    assert!(stripped < introspected && introspected < packing && packing < packed);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, BuildEvent::WasmOptMissing | BuildEvent::WasmOpt { .. })),
        "wasm-opt is off"
    );
    let Some(BuildEvent::CargoStarted {
        command,
        units_estimate,
    }) = events.get(started)
    else {
        unreachable!()
    };
    assert!(command.contains("--target wasm32-wasip2"), "{command}");
    assert!(command.contains("--release"), "{command}");
    assert!(units_estimate.is_some_and(|n| n > 10), "{units_estimate:?}");

    // Again, into another file: the same bytes.
    let second_path = temp.path().join("second.surli");
    let second = build(&demo_options(&second_path), &runtime(), |_| {})
        .await
        .unwrap();
    assert_eq!(second.package_sha256, first.package_sha256);
    assert_eq!(
        std::fs::read(&first_path).unwrap(),
        std::fs::read(&second_path).unwrap()
    );
}

/// A stand-in for wasm-opt: copies its input to its output (or fails when
/// `fail` is set), so splicing the "optimised" modules back must give the
/// component unchanged.
#[cfg(unix)]
fn fake_wasm_opt(dir: &Path, fail: bool) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;

    let script = if fail {
        "#!/bin/sh\necho 'fake-wasm-opt: [parse exception: this module is not good]' >&2\nexit 3\n"
            .to_owned()
    } else {
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n    -o) shift; out=\"$1\" ;;\n    \
         -*) ;;\n    *) in=\"$1\" ;;\n  esac\n  shift\ndone\nexec cp \"$in\" \"$out\"\n"
            .to_owned()
    };
    let path = dir.join(if fail {
        "failing-wasm-opt"
    } else {
        "copying-wasm-opt"
    });
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn wasm_opt_runs_on_every_core_module_and_its_output_is_spliced_back() {
    let temp = tempfile::tempdir().unwrap();
    let plain = temp.path().join("plain.surli");
    let plain_build = build(&demo_options(&plain), &runtime(), |_| {})
        .await
        .unwrap();

    let mut options = demo_options(&temp.path().join("optimised.surli"));
    options.wasm_opt = WasmOpt::Program(fake_wasm_opt(temp.path(), false));
    let (optimised, events) = build_with_events(&options).await;
    let optimised = optimised.unwrap();
    let modules = events.iter().find_map(|e| match e {
        BuildEvent::WasmOpt {
            modules,
            before,
            after,
        } => {
            assert_eq!(before, after, "the fake changes nothing");
            Some(*modules)
        }
        _ => None,
    });
    // The demo component embeds its own code and two small wit-component
    // shims.
    assert_eq!(modules, Some(3), "{events:#?}");
    assert_eq!(optimised.package_sha256, plain_build.package_sha256);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_failing_wasm_opt_fails_the_build_with_its_stderr() {
    let temp = tempfile::tempdir().unwrap();
    let output = temp.path().join("never.surli");
    let mut options = demo_options(&output);
    options.wasm_opt = WasmOpt::Program(fake_wasm_opt(temp.path(), true));
    let error = build(&options, &runtime(), |_| {}).await.unwrap_err();
    assert!(matches!(error, BuildError::WasmOpt { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("this module is not good"), "{message}");
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(!output.exists(), "no package is left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_wasm_opt_asked_for_by_path_is_an_error() {
    let temp = tempfile::tempdir().unwrap();
    let mut options = demo_options(&temp.path().join("never.surli"));
    let missing = temp.path().join("no-such-wasm-opt");
    options.wasm_opt = WasmOpt::Program(missing.clone());
    let message = build(&options, &runtime(), |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(message.contains("apt install binaryen"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_output_without_the_surli_extension_is_refused_and_nothing_is_written() {
    let temp = tempfile::tempdir().unwrap();
    let output = temp.path().join("demo.tar");
    let message = build(&demo_options(&output), &runtime(), |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("demo.tar"), "{message}");
    assert!(message.contains(".surli"), "{message}");
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_importing_wasi_http_builds_with_a_portability_warning() {
    let temp = tempfile::tempdir().unwrap();
    let output = temp.path().join("http.surli");
    let (built, events) = build_with_events(&guest_options("http", &output)).await;
    let built = built.unwrap_or_else(|e| panic!("the http guest should build: {e}"));
    let warned: Vec<&String> = built
        .warnings
        .iter()
        .filter(|w| w.contains("will not load there"))
        .collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("`wasi:http/outgoing-handler@")),
        "{:?}",
        built.warnings
    );
    assert!(
        warned.iter().all(|w| w.contains("`wasi:http/")),
        "{warned:?}"
    );
    // Also reported as events, as they happen.
    assert!(events.iter().any(
        |e| matches!(e, BuildEvent::Warning(text) if text.contains("`wasi:http/outgoing-handler@"))
    ));
    // The demo, which imports no extension, gets no such warning.
    let demo = temp.path().join("demo.surli");
    let (built, _) = build_with_events(&demo_options(&demo)).await;
    assert!(
        !built
            .unwrap()
            .warnings
            .iter()
            .any(|w| w.contains("will not load there")),
        "the demo imports nothing only surli provides"
    );
}
