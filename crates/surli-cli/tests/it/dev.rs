//! `surli dev` on a temporary copy of the demo guest: an edit is rebuilt
//! and its new answer printed beside the old one; a syntax error keeps the
//! last good module serving.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The fixture guests' workspace, whose lock, cargo config and release
/// profile the copy keeps, so cargo finds every dependency already built.
fn guests() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/guests"
    ))
    .to_path_buf()
}

/// A workspace of its own holding a copy of the demo guest.
fn copy_of_demo(into: &Path) -> PathBuf {
    let from = guests();
    let manifest = std::fs::read_to_string(from.join("Cargo.toml")).unwrap();
    let start = manifest.find("members = [").unwrap();
    let end = start + manifest[start..].find(']').unwrap() + 1;
    let manifest = format!(
        "{}members = [\"demo\"]{}",
        &manifest[..start],
        &manifest[end..]
    );
    std::fs::write(into.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(from.join("Cargo.lock"), into.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(into.join(".cargo")).unwrap();
    std::fs::copy(
        from.join(".cargo/config.toml"),
        into.join(".cargo/config.toml"),
    )
    .unwrap();
    let demo = into.join("demo");
    std::fs::create_dir_all(demo.join("src")).unwrap();
    for file in ["Cargo.toml", "surrealism.toml", "src/lib.rs"] {
        std::fs::copy(from.join("demo").join(file), demo.join(file)).unwrap();
    }
    demo
}

/// Waits for a line of stdout containing `text`; the lines seen on the way
/// are in the message when it never comes.
fn expect_line(lines: &mpsc::Receiver<String>, text: &str, seen: &mut Vec<String>) {
    loop {
        match lines.recv_timeout(Duration::from_secs(600)) {
            Ok(line) if line.contains(text) => return,
            Ok(line) => seen.push(line),
            Err(error) => panic!("no line with {text:?} ({error}); stdout so far: {seen:#?}"),
        }
    }
}

#[test]
fn an_edit_is_rebuilt_and_served_and_a_broken_build_keeps_the_last_good_one() {
    let temp = tempfile::tempdir().unwrap();
    let demo = copy_of_demo(temp.path());
    let target_dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/fixtures-build/guests"
    ));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("surli"))
        .arg("dev")
        .arg(&demo)
        .arg("--release")
        .arg("--target-dir")
        .arg(target_dir)
        .args(["--call", "add 1 2", "--call=- Ada", "--rebuilds", "2"])
        .env("CARGO_NET_OFFLINE", "true")
        .env("SURLI_CACHE_DIR", temp.path().join("cache"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (send, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut seen = Vec::new();

    expect_line(&lines, "add 1 2 = 3   (", &mut seen);
    expect_line(&lines, "- Ada = 'Hello, Ada!'", &mut seen);

    let source = demo.join("src/lib.rs");
    let code = std::fs::read_to_string(&source).unwrap();
    let edited = code.replacen(
        "fn add(a: i64, b: i64) -> i64 {\n    a.wrapping_add(b)\n}",
        "fn add(a: i64, b: i64) -> i64 {\n    a.wrapping_add(b).wrapping_add(100)\n}",
        1,
    );
    assert_ne!(
        edited, code,
        "the demo's `add` is not where the test expects it"
    );
    std::fs::write(&source, &edited).unwrap();
    expect_line(&lines, "add 1 2 = 103   (was 3;", &mut seen);
    expect_line(&lines, "- Ada = 'Hello, Ada!'   (unchanged;", &mut seen);

    std::fs::write(&source, format!("{edited}\nfn broken( {{\n")).unwrap();
    // The last good build still answers.
    expect_line(&lines, "add 1 2 = 103   (unchanged;", &mut seen);

    let status = child.wait().unwrap();
    let errors = errors.join().unwrap();
    assert!(status.success(), "surli dev failed: {errors}");
    assert!(errors.contains("unclosed delimiter"), "{errors}");
    assert!(errors.contains("still serving build 1"), "{errors}");
}
