//! Running cargo: `cargo metadata` to learn about the guest, `cargo build`
//! to compile it, with cargo's output turned into [`BuildEvent`]s.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use serde::Deserialize;

use crate::error::BuildError;
use crate::event::BuildEvent;
use crate::options::{BuildOptions, Profile};
use crate::project::Project;

/// The target every Surrealism guest is built for.
pub const TARGET: &str = "wasm32-wasip2";

/// The variables that replace the rustflags of a `.cargo/config.toml`.
const RUSTFLAGS_VARS: [&str; 2] = ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"];

/// What rustc says when the target's standard library is not installed.
const TARGET_MISSING_HINTS: [&str; 3] = [
    "can't find crate for `core`",
    "can't find crate for `std`",
    "target may not be installed",
];

/// The verbs of cargo's status lines, which it right-aligns in twelve
/// columns (`   Compiling foo v1.0.0`).
const STATUS_VERBS: &[&str] = &[
    "Adding",
    "Blocking",
    "Building",
    "Checking",
    "Compiling",
    "Documenting",
    "Downgrading",
    "Downloaded",
    "Downloading",
    "Dirty",
    "Fetching",
    "Finished",
    "Fresh",
    "Ignored",
    "Installing",
    "Locking",
    "Removed",
    "Removing",
    "Running",
    "Skipping",
    "Unchanged",
    "Unpacking",
    "Updating",
    "Upgrading",
    "Waiting",
];

fn cargo_command(options: &BuildOptions, dir: &Path) -> Command {
    let mut command = Command::new(&options.cargo);
    command.current_dir(dir).stdin(Stdio::null());
    if options.clear_rustflags {
        for var in RUSTFLAGS_VARS {
            command.env_remove(var);
        }
    }
    command
}

fn spawn_error(options: &BuildOptions, error: &std::io::Error) -> BuildError {
    BuildError::Spawn {
        program: options.cargo.display().to_string(),
        message: if error.kind() == std::io::ErrorKind::NotFound {
            format!("{error}; install Rust with rustup (https://rustup.rs) or set $CARGO")
        } else {
            error.to_string()
        },
    }
}

/// Runs `cargo metadata` for the guest whose manifest is `manifest` and
/// reads the package out of it.
pub(crate) fn metadata(
    options: &BuildOptions,
    dir: &Path,
    manifest: &Path,
) -> Result<Project, BuildError> {
    let mut command = cargo_command(options, dir);
    command
        .args([
            "metadata",
            "--format-version",
            "1",
            "--filter-platform",
            TARGET,
        ])
        .arg("--manifest-path")
        .arg(manifest);
    if options.locked {
        command.arg("--locked");
    }
    tracing::debug!(?command, "asking cargo about the guest");
    let output = command.output().map_err(|e| spawn_error(options, &e))?;
    if !output.status.success() {
        return Err(BuildError::Metadata {
            dir: dir.to_path_buf(),
            message: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Project::from_metadata(&output.stdout, manifest)
}

/// Builds the guest and returns the path of its component, reporting
/// cargo's progress and every line it prints.
pub(crate) fn build(
    options: &BuildOptions,
    dir: &Path,
    project: &Project,
    on_event: &mut dyn FnMut(BuildEvent),
) -> Result<PathBuf, BuildError> {
    let mut args: Vec<OsString> = vec![
        "build".into(),
        "--package".into(),
        format!("{}@{}", project.name, project.version).into(),
        "--target".into(),
        TARGET.into(),
    ];
    if options.profile == Profile::Release {
        args.push("--release".into());
    }
    if options.locked {
        args.push("--locked".into());
    }
    if let Some(target_dir) = &options.target_dir {
        args.push("--target-dir".into());
        args.push(target_dir.into());
    }
    args.push("--message-format".into());
    args.push("json-render-diagnostics".into());
    args.push("--color".into());
    args.push(if options.color { "always" } else { "never" }.into());

    if !options.clear_rustflags {
        for var in RUSTFLAGS_VARS {
            if std::env::var_os(var).is_some() {
                on_event(BuildEvent::Warning(format!(
                    "{var} is set, so cargo ignores every `rustflags` of the project's \
                     .cargo/config.toml files (guests of surrealism 0.6 need `--cfg \
                     tokio_unstable` from there); unset it if the build fails"
                )));
            }
        }
    }

    let mut command = cargo_command(options, dir);
    command
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = show_command(&options.cargo, &args);
    tracing::debug!(command = %shown, dir = %dir.display(), "building the guest");
    let mut child = command.spawn().map_err(|e| spawn_error(options, &e))?;
    on_event(BuildEvent::CargoStarted {
        command: shown,
        units_estimate: Some(project.units_estimate),
    });

    let (sender, lines) = mpsc::channel();
    let readers = [
        child
            .stdout
            .take()
            .map(|out| read_lines(out, Stream::Out, sender.clone())),
        child
            .stderr
            .take()
            .map(|err| read_lines(err, Stream::Err, sender.clone())),
    ];
    drop(sender);

    let mut done = 0;
    let mut artifact = None;
    let mut target_missing = false;
    for (stream, line) in lines {
        match stream {
            Stream::Err => {
                target_missing |= TARGET_MISSING_HINTS.iter().any(|hint| line.contains(hint));
                on_event(match status_line(&line) {
                    Some((verb, message)) => BuildEvent::CargoStatus { verb, message },
                    None => BuildEvent::CargoMessage(line),
                });
            }
            Stream::Out => match serde_json::from_str::<Message>(&line) {
                Ok(Message::CompilerArtifact {
                    package_id,
                    target,
                    filenames,
                    fresh,
                }) => {
                    done += 1;
                    if package_id == project.id
                        && target.kind.iter().any(|k| k == "cdylib")
                        && let Some(wasm) = filenames
                            .iter()
                            .find(|f| f.extension() == Some(OsStr::new("wasm")))
                    {
                        artifact = Some(wasm.clone());
                    }
                    on_event(BuildEvent::Compiled {
                        crate_name: project
                            .package_name(&package_id)
                            .map_or(target.name, str::to_owned),
                        done,
                        fresh,
                    });
                }
                Ok(Message::Diagnostic { message }) => {
                    if let Some(rendered) = message.rendered {
                        for line in rendered.lines() {
                            on_event(BuildEvent::CargoMessage(line.to_owned()));
                        }
                    }
                }
                Ok(Message::Other) => {}
                // Not one of cargo's messages: pass it on rather than lose it.
                Err(_) => on_event(BuildEvent::CargoMessage(line)),
            },
        }
    }
    for reader in readers.into_iter().flatten() {
        // A reader only ends at end of stream; it cannot panic.
        let _ = reader.join();
    }
    let status = child.wait().map_err(|e| spawn_error(options, &e))?;
    if !status.success() {
        return Err(if target_missing {
            BuildError::TargetMissing
        } else {
            BuildError::CargoFailed {
                package: project.name.clone(),
                status: status.to_string(),
            }
        });
    }
    artifact.ok_or_else(|| BuildError::NoArtifact {
        package: project.name.clone(),
    })
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Sends every line of `stream` (lossily decoded, without its line end)
/// until it closes.
fn read_lines(
    stream: impl Read + Send + 'static,
    which: Stream,
    sender: mpsc::Sender<(Stream, String)>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.trim_end_matches(['\n', '\r']).to_owned();
                    if sender.send((which, line)).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

/// The verb and the rest of one of cargo's status lines; `None` for any
/// other line. Colour codes are ignored.
pub(crate) fn status_line(line: &str) -> Option<(String, String)> {
    let plain = strip_ansi(line);
    let text = plain.trim_start_matches(' ');
    let indent = plain.len() - text.len();
    let (verb, rest) = text.split_once(' ')?;
    let aligned = indent + verb.len() == 12 || (indent == 0 && verb.len() >= 12);
    (aligned && STATUS_VERBS.contains(&verb)).then(|| (verb.to_owned(), rest.trim().to_owned()))
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

fn show_command(program: &Path, args: &[OsString]) -> String {
    let program = program
        .file_name()
        .map_or_else(|| program.to_string_lossy(), OsStr::to_string_lossy);
    std::iter::once(program.into_owned())
        .chain(args.iter().map(|arg| {
            let arg = arg.to_string_lossy();
            if arg.contains(' ') {
                format!("'{arg}'")
            } else {
                arg.into_owned()
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The part of cargo's JSON messages this crate reads.
#[derive(Debug, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
enum Message {
    CompilerArtifact {
        package_id: String,
        target: ArtifactTarget,
        #[serde(default)]
        filenames: Vec<PathBuf>,
        #[serde(default)]
        fresh: bool,
    },
    #[serde(rename = "compiler-message")]
    Diagnostic { message: DiagnosticBody },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct ArtifactTarget {
    name: String,
    #[serde(default)]
    kind: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DiagnosticBody {
    rendered: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_recognised() {
        assert_eq!(
            status_line("   Compiling demo v0.1.0 (/x/demo)"),
            Some(("Compiling".to_owned(), "demo v0.1.0 (/x/demo)".to_owned()))
        );
        assert_eq!(
            status_line("    Finished `release` profile [optimized] target(s) in 0.10s")
                .map(|(verb, _)| verb),
            Some("Finished".to_owned())
        );
        assert_eq!(
            status_line("\u{1b}[1m\u{1b}[32m    Blocking\u{1b}[0m waiting for file lock")
                .map(|(verb, _)| verb),
            Some("Blocking".to_owned())
        );
    }

    #[test]
    fn diagnostics_are_not_status_lines() {
        for line in [
            "warning: unused variable: `x`",
            "error[E0425]: cannot find value `y` in this scope",
            " --> src/lib.rs:2:9",
            "  |",
            "2 |     let x = 1;",
            "  = note: `#[warn(unused_variables)]` on by default",
            "error: could not compile `demo` (lib) due to 1 previous error",
            "  Compiling misaligned",
            "",
        ] {
            assert_eq!(status_line(line), None, "{line:?}");
        }
    }
}
