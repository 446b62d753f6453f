//! The logo and the attached directory, checked before anything compiles.

use std::fs;
use std::path::Path;

use surli_build::{BuildError, BuildOptions, MAX_LOGO_BYTES, attach_dir, build, read_logo};
use surli_config::{ModuleConfig, ParseOptions};
use surli_package::PNG_SIGNATURE;

use crate::support::runtime;

fn config(attach: Option<&str>) -> ModuleConfig {
    let mut text =
        String::from("[package]\norganisation = \"acme\"\nname = \"guest\"\nversion = \"1.0.0\"\n");
    if let Some(dir) = attach {
        text.push_str(&format!("[attach]\nfs = {dir:?}\n"));
    }
    ModuleConfig::parse(&text, ParseOptions::strict())
        .unwrap()
        .config
}

fn png(len: usize) -> Vec<u8> {
    let mut bytes = PNG_SIGNATURE.to_vec();
    bytes.resize(len, 0);
    bytes
}

#[test]
fn no_logo_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_logo(dir.path()).unwrap(), None);
}

#[test]
fn a_png_logo_up_to_the_limit_is_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("logo.png"), png(MAX_LOGO_BYTES)).unwrap();
    assert_eq!(
        read_logo(dir.path()).unwrap().unwrap().len(),
        MAX_LOGO_BYTES
    );
}

#[test]
fn a_logo_over_the_limit_is_refused_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("logo.png"), png(MAX_LOGO_BYTES + 1)).unwrap();
    let error = read_logo(dir.path()).unwrap_err();
    assert!(matches!(error, BuildError::Logo { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("logo.png"), "{message}");
    assert!(
        message.contains(&format!("{} bytes", MAX_LOGO_BYTES + 1)),
        "{message}"
    );
    assert!(message.contains("256 KiB"), "{message}");
}

#[test]
fn a_logo_that_is_not_a_png_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for bytes in [&b"GIF89a........"[..], b"", &PNG_SIGNATURE[..7]] {
        fs::write(dir.path().join("logo.png"), bytes).unwrap();
        let message = read_logo(dir.path()).unwrap_err().to_string();
        assert!(message.contains("logo.png"), "{message}");
        assert!(message.contains("not a PNG"), "{message}");
    }
}

#[test]
fn a_logo_that_is_a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("logo.png")).unwrap();
    let message = read_logo(dir.path()).unwrap_err().to_string();
    assert!(message.contains("cannot be read"), "{message}");
}

#[test]
fn the_attach_dir_is_relative_to_the_project() {
    let project = tempfile::tempdir().unwrap();
    fs::create_dir(project.path().join("assets")).unwrap();
    assert_eq!(
        attach_dir(&config(Some("assets")), project.path()).unwrap(),
        Some(project.path().join("assets"))
    );
    assert_eq!(attach_dir(&config(None), project.path()).unwrap(), None);
    assert_eq!(attach_dir(&config(Some("")), project.path()).unwrap(), None);
}

#[test]
fn an_absolute_attach_dir_is_taken_as_it_is() {
    let project = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let absolute = elsewhere.path().to_str().unwrap();
    assert_eq!(
        attach_dir(&config(Some(absolute)), project.path()).unwrap(),
        Some(elsewhere.path().to_path_buf())
    );
}

#[test]
fn a_missing_attach_dir_is_refused_naming_it() {
    let project = tempfile::tempdir().unwrap();
    let error = attach_dir(&config(Some("assets")), project.path()).unwrap_err();
    assert!(matches!(error, BuildError::AttachDir { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("fs = \"assets\""), "{message}");
    assert!(
        message.contains(&project.path().join("assets").display().to_string()),
        "{message}"
    );
    assert!(message.contains("does not exist"), "{message}");
}

#[test]
fn an_attach_path_that_is_a_file_is_refused() {
    let project = tempfile::tempdir().unwrap();
    fs::write(project.path().join("assets"), "a file").unwrap();
    let message = attach_dir(&config(Some("assets")), project.path())
        .unwrap_err()
        .to_string();
    assert!(message.contains("not a directory"), "{message}");
}

/// A project with a `surrealism.toml` (and `extra` appended to it) and a
/// Cargo.toml that depends on nothing.
fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("surrealism.toml"),
        format!(
            "[package]\norganisation = \"acme\"\nname = \"guest\"\nversion = \"1.0.0\"\n{extra}"
        ),
    )
    .unwrap();
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"guest\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[workspace]\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("src")).unwrap();
    fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    dir
}

async fn build_in(dir: &Path) -> Result<surli_build::BuildOutput, BuildError> {
    let mut options = BuildOptions::new(dir);
    options.output = Some(dir.join("out.surli"));
    build(&options, &runtime(), |_| {}).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_logo_fails_the_build_before_cargo_runs() {
    // The Cargo.toml is broken: reaching cargo would be a different error.
    let dir = project("");
    fs::write(dir.path().join("Cargo.toml"), "not toml [").unwrap();
    fs::write(dir.path().join("logo.png"), b"GIF89a").unwrap();
    let error = build_in(dir.path()).await.unwrap_err();
    assert!(matches!(error, BuildError::Logo { .. }), "{error}");
    assert!(!dir.path().join("out.surli").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_attach_dir_fails_the_build_before_cargo_runs() {
    let dir = project("[attach]\nfs = \"assets\"\n");
    fs::write(dir.path().join("Cargo.toml"), "not toml [").unwrap();
    let error = build_in(dir.path()).await.unwrap_err();
    assert!(matches!(error, BuildError::AttachDir { .. }), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_without_surrealism_toml_is_refused_naming_the_file() {
    let dir = project("");
    fs::remove_file(dir.path().join("surrealism.toml")).unwrap();
    let error = build_in(dir.path()).await.unwrap_err();
    assert!(matches!(error, BuildError::Config { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("surrealism.toml"), "{message}");
    assert!(message.contains("beside its Cargo.toml"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_surrealism_toml_is_refused_with_its_line() {
    let dir = project("[capabilities]\nmax_pool_size = \"many\"\n");
    let message = build_in(dir.path()).await.unwrap_err().to_string();
    assert!(message.contains("surrealism.toml"), "{message}");
    assert!(message.contains("max_pool_size"), "{message}");
    assert!(message.contains("line 6"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crate_without_the_sdk_is_refused_before_compiling() {
    let dir = project("");
    let mut events = Vec::new();
    let (sender, receiver) = std::sync::mpsc::channel();
    let mut options = BuildOptions::new(dir.path());
    options.output = Some(dir.path().join("out.surli"));
    let error = build(&options, &runtime(), move |event| {
        let _ = sender.send(event);
    })
    .await
    .unwrap_err();
    events.extend(receiver.try_iter());
    assert!(
        matches!(error, BuildError::Sdk { found: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("`guest`"), "{error}");
    assert!(events.is_empty(), "cargo build never started: {events:?}");
    assert!(!dir.path().join("out.surli").exists());
}
