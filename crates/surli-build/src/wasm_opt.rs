//! Shrinking a component's core modules with Binaryen's `wasm-opt`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::BuildError;
use crate::options::WasmOpt;
use crate::strip;

/// The arguments `wasm-opt` gets besides its input and output: optimise
/// aggressively for size, and accept the features `surreal module build`
/// enables (bulk memory, SIMD, atomics, mutable globals, saturating
/// float-to-int, sign extension) plus reference types and multi-value,
/// which rustc turns on for every wasm target since 1.82. Debug info is
/// neither read nor written (no `-g`).
pub const WASM_OPT_ARGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-simd",
    "--enable-threads",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The program to run, if any: `Ok(None)` when `Auto` finds none on `PATH`.
pub(crate) fn program(choice: &WasmOpt) -> Result<Option<PathBuf>, BuildError> {
    match choice {
        WasmOpt::Off => Ok(None),
        WasmOpt::Auto => Ok(find_on_path(Path::new("wasm-opt"))),
        WasmOpt::Program(program) => match find_on_path(program) {
            Some(found) => Ok(Some(found)),
            None => Err(BuildError::WasmOptNotFound {
                program: program.clone(),
            }),
        },
    }
}

/// Runs `program` on every core module of `component` and puts the results
/// back in place; returns the new component and how many modules ran.
pub(crate) fn optimise(component: &[u8], program: &Path) -> Result<(Vec<u8>, usize), BuildError> {
    let dir = tempfile::Builder::new()
        .prefix("surli-wasm-opt-")
        .tempdir()
        .map_err(|e| BuildError::io(std::env::temp_dir(), &e))?;
    let mut index = 0;
    let optimised = strip::replace_modules(component, &mut |module| {
        let result = run(program, dir.path(), index, module)?;
        index += 1;
        // wasm-opt may write sections of its own (target features, say).
        strip::core_module(&result)
    })?;
    Ok((optimised, index))
}

fn run(program: &Path, dir: &Path, index: usize, module: &[u8]) -> Result<Vec<u8>, BuildError> {
    let input = dir.join(format!("module-{index}.wasm"));
    let output = dir.join(format!("module-{index}.opt.wasm"));
    std::fs::write(&input, module).map_err(|e| BuildError::io(&input, &e))?;
    let ran = Command::new(program)
        .args(WASM_OPT_ARGS)
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .map_err(|e| BuildError::Spawn {
            program: program.display().to_string(),
            message: e.to_string(),
        })?;
    if !ran.status.success() {
        let stderr = String::from_utf8_lossy(&ran.stderr).trim().to_owned();
        return Err(BuildError::WasmOpt {
            program: program.to_path_buf(),
            module: index,
            status: ran.status.to_string(),
            stderr: if stderr.is_empty() {
                "it printed nothing".to_owned()
            } else {
                stderr
            },
        });
    }
    std::fs::read(&output).map_err(|e| BuildError::io(&output, &e))
}

/// `program` itself when it names a path, else the first executable file
/// of that name on `PATH`.
fn find_on_path(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 || program.is_absolute() {
        return is_executable(program).then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            let plain = dir.join(program);
            // Windows programs carry an extension that their name leaves out.
            let exe = cfg!(windows).then(|| plain.with_extension("exe"));
            std::iter::once(plain).chain(exe)
        })
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}
