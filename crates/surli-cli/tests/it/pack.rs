use std::fs;

use predicates::prelude::*;
use predicates::str::contains;
use surli::package::{PNG_SIGNATURE, PackageWriter};

use crate::support::{fixture, read, surli, unpack};

#[test]
fn unpack_then_pack_round_trips() {
    let temp = tempfile::tempdir().unwrap();
    let original = fixture("demo");
    let dir = unpack(&original, temp.path());
    for name in ["mod.wasm", "surrealism.toml", "exports.toml"] {
        assert!(dir.join(name).is_file(), "unpack writes {name}");
    }
    let repacked = temp.path().join("repacked.surli");
    surli()
        .arg("pack")
        .arg(&dir)
        .arg("-o")
        .arg(&repacked)
        .assert()
        .success()
        .stdout(contains("packed fixtures/demo 0.1.0"));

    let (before, after) = (read(&original), read(&repacked));
    assert_eq!(after.wasm_sha256(), before.wasm_sha256());
    assert_eq!(after.config(), before.config());
    assert_eq!(after.exports(), before.exports());
}

#[test]
fn pack_without_exports_toml_asks_the_module() {
    let temp = tempfile::tempdir().unwrap();
    let original = fixture("demo");
    let dir = unpack(&original, temp.path());
    fs::remove_file(dir.join("exports.toml")).unwrap();
    let repacked = temp.path().join("introspected.surli");
    surli()
        .arg("pack")
        .arg(&dir)
        .arg("-o")
        .arg(&repacked)
        .assert()
        .success()
        .stderr(contains("asking the module"));
    // The fixtures' exports.toml was written the same way.
    assert_eq!(read(&repacked).exports(), read(&original).exports());
}

#[test]
fn the_logo_and_attached_directory_round_trip() {
    let temp = tempfile::tempdir().unwrap();
    let demo = read(&fixture("demo"));
    let assets = temp.path().join("assets");
    fs::create_dir_all(assets.join("nested/deeper")).unwrap();
    fs::write(assets.join("top.txt"), "top").unwrap();
    fs::write(assets.join("nested/deeper/leaf.bin"), [0u8, 1, 2, 255]).unwrap();
    fs::create_dir(assets.join("empty")).unwrap();
    let mut logo = PNG_SIGNATURE.to_vec();
    logo.extend_from_slice(b"not really an image");
    let original = temp.path().join("with-fs.surli");
    PackageWriter::new(demo.config(), demo.wasm(), demo.exports())
        .logo(&logo)
        .fs_dir(&assets)
        .write_file(&original)
        .unwrap();

    let dir = unpack(&original, temp.path());
    assert_eq!(fs::read(dir.join("logo.png")).unwrap(), logo);
    assert_eq!(fs::read_to_string(dir.join("fs/top.txt")).unwrap(), "top");
    assert_eq!(
        fs::read(dir.join("fs/nested/deeper/leaf.bin")).unwrap(),
        [0, 1, 2, 255]
    );
    assert!(dir.join("fs/empty").is_dir());

    let repacked = temp.path().join("repacked.surli");
    surli()
        .arg("pack")
        .arg(&dir)
        .arg("-o")
        .arg(&repacked)
        .assert()
        .success();
    // The writer is reproducible, so the same parts give the same bytes.
    assert_eq!(
        read(&repacked).package_sha256(),
        read(&original).package_sha256()
    );
}

#[test]
fn unpack_refuses_a_non_empty_directory_without_force() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("busy");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();

    surli()
        .arg("unpack")
        .arg(fixture("demo"))
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(
            contains("busy")
                .and(contains("not empty"))
                .and(contains("--force")),
        );
    assert!(
        !dir.join("mod.wasm").exists(),
        "nothing is written after a refusal"
    );

    surli()
        .args(["unpack", "--force"])
        .arg(fixture("demo"))
        .arg(&dir)
        .assert()
        .success();
    assert!(dir.join("mod.wasm").is_file());
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn pack_names_a_missing_part() {
    let temp = tempfile::tempdir().unwrap();
    surli()
        .arg("pack")
        .arg(temp.path())
        .arg("-o")
        .arg(temp.path().join("out.surli"))
        .assert()
        .code(1)
        .stderr(contains("mod.wasm").and(contains("cannot read")));
}
