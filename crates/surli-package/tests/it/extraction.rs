//! The attached directory: extracted only where it belongs, gone when the
//! package is, and never left behind by a failed read.

use std::path::Path;

use surli_package::{Package, PackageError, PackageWarning, ReadOptions};

use crate::support::{RawTar, is_empty, link_header, options, read, tree};

fn nested() -> RawTar {
    RawTar::valid()
        .dir("surrealism/fs")
        .dir("surrealism/fs/data")
        .file("surrealism/fs/data/a.txt", b"alpha")
        .file("surrealism/fs/data/deep/er/b.bin", &[1, 2, 3])
        .file("surrealism/fs/top.txt", b"top")
        .file("surrealism/fs/empty", b"")
}

#[test]
fn extracted_files_stay_inside_the_extraction_dir() {
    let base = tempfile::tempdir().unwrap();
    let package = read(&nested().package(), &base).unwrap();
    let root = package.fs_path().unwrap().to_path_buf();
    assert!(root.starts_with(base.path()));
    assert!(root.ends_with(Path::new("surrealism").join("fs")));
    let dir_name = root
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        dir_name.starts_with(ReadOptions::DEFAULT_TEMP_PREFIX),
        "{dir_name}"
    );

    for path in tree(base.path()) {
        if path.is_file() {
            assert!(
                path.starts_with(&root),
                "{} is outside {}",
                path.display(),
                root.display()
            );
        }
    }
    assert_eq!(std::fs::read(root.join("data/a.txt")).unwrap(), b"alpha");
    assert_eq!(
        std::fs::read(root.join("data/deep/er/b.bin")).unwrap(),
        [1, 2, 3]
    );
    assert_eq!(std::fs::read(root.join("top.txt")).unwrap(), b"top");
    assert_eq!(std::fs::read(root.join("empty")).unwrap(), b"");
    let files = tree(&root).into_iter().filter(|p| p.is_file()).count();
    assert_eq!(files, 4);

    drop(package);
    assert!(!root.exists());
    assert!(
        is_empty(base.path()),
        "the extraction directory is removed on drop"
    );
}

#[test]
fn failed_read_leaves_no_temp_dir_behind() {
    let base = tempfile::tempdir().unwrap();
    let bytes = nested()
        .raw(
            &link_header(b'2', b"surrealism/fs/late-link", b"/etc/passwd"),
            &[],
        )
        .package();
    let error = read(&bytes, &base).unwrap_err();
    assert!(matches!(error, PackageError::LinkEntry { .. }), "{error:?}");
    assert!(is_empty(base.path()));

    // A failure found only after the archive ends: no exports.toml.
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &crate::support::component())
        .file(
            "surrealism/surrealism.toml",
            crate::support::CONFIG.as_bytes(),
        )
        .file("surrealism/fs/a.txt", b"a")
        .package();
    let error = read(&bytes, &base).unwrap_err();
    assert!(matches!(error, PackageError::Missing { .. }), "{error:?}");
    assert!(is_empty(base.path()));
}

#[test]
fn file_under_an_existing_file_is_refused_without_following_anything() {
    let base = tempfile::tempdir().unwrap();
    let bytes = RawTar::valid()
        .file("surrealism/fs/a", b"file")
        .file("surrealism/fs/a/b", b"under a file")
        .package();
    let error = read(&bytes, &base).unwrap_err();
    assert!(matches!(error, PackageError::Io { .. }), "{error:?}");
    assert!(is_empty(base.path()));
}

#[test]
fn fs_with_only_directories_still_attaches() {
    let base = tempfile::tempdir().unwrap();
    let bytes = RawTar::valid()
        .dir("surrealism/fs/")
        .dir("surrealism/fs/empty/")
        .package();
    let package = read(&bytes, &base).unwrap();
    let root = package.fs_path().unwrap();
    assert!(root.join("empty").is_dir());
}

#[test]
fn package_without_fs_touches_no_disk() {
    let base = tempfile::tempdir().unwrap();
    let package = read(&RawTar::valid().package(), &base).unwrap();
    assert!(package.fs().is_none());
    assert!(is_empty(base.path()));
}

#[test]
fn long_fs_paths_work_with_gnu_and_pax_headers() {
    let long = format!("surrealism/fs/{}/file.txt", "d".repeat(120));
    assert!(long.len() > 100);

    // GNU long name, as tar::Builder writes it for a GNU header.
    let mut gnu = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("surrealism/mod.wasm", crate::support::component()),
        (
            "surrealism/surrealism.toml",
            crate::support::CONFIG.as_bytes().to_vec(),
        ),
        (
            "surrealism/exports.toml",
            crate::support::EXPORTS.as_bytes().to_vec(),
        ),
        (long.as_str(), b"gnu".to_vec()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        gnu.append_data(&mut header, path, &data[..]).unwrap();
    }
    let gnu = zstd::encode_all(&gnu.into_inner().unwrap()[..], 0).unwrap();

    // PAX `path` record before a ustar header with a truncated name.
    let mut pax = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("surrealism/mod.wasm", crate::support::component()),
        (
            "surrealism/surrealism.toml",
            crate::support::CONFIG.as_bytes().to_vec(),
        ),
        (
            "surrealism/exports.toml",
            crate::support::EXPORTS.as_bytes().to_vec(),
        ),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_path(path).unwrap();
        header.set_cksum();
        pax.append(&header, &data[..]).unwrap();
    }
    pax.append_pax_extensions([("path", long.as_bytes())])
        .unwrap();
    let mut header = tar::Header::new_ustar();
    header.set_size(3);
    header.set_mode(0o644);
    header.set_path("surrealism/fs/truncated").unwrap();
    header.set_cksum();
    pax.append(&header, &b"pax"[..]).unwrap();
    let pax = zstd::encode_all(&pax.into_inner().unwrap()[..], 0).unwrap();

    for (bytes, content) in [(gnu, b"gnu"), (pax, b"pax")] {
        let base = tempfile::tempdir().unwrap();
        let package = read(&bytes, &base).unwrap();
        let relative = long.strip_prefix("surrealism/fs/").unwrap();
        let file = package.fs_path().unwrap().join(relative);
        assert_eq!(std::fs::read(file).unwrap(), content);
        assert!(package.warnings().is_empty());
        assert!(!package.fs_path().unwrap().join("truncated").exists());
    }
}

#[cfg(unix)]
#[test]
fn archive_modes_are_not_applied() {
    use std::os::unix::fs::PermissionsExt;

    let base = tempfile::tempdir().unwrap();
    let mut setuid = crate::support::header(b'0', b"surrealism/fs/run", 2);
    setuid.set_mode(0o4777);
    setuid.set_cksum();
    let bytes = RawTar::valid().raw(&setuid, b"#!").package();
    let package = read(&bytes, &base).unwrap();
    let mode = std::fs::metadata(package.fs_path().unwrap().join("run"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7111, 0, "mode {mode:o} came from the archive");
}

#[test]
fn unusable_temp_base_falls_back_with_a_warning() {
    let holder = tempfile::tempdir().unwrap();
    let not_a_dir = holder.path().join("file");
    std::fs::write(&not_a_dir, b"").unwrap();
    let options = ReadOptions::default()
        .with_temp_base(not_a_dir.clone())
        .with_temp_prefix("surli-package-test-".to_owned());
    let package = Package::from_bytes(&nested().package(), &options).unwrap();
    assert!(matches!(
        package.warnings(),
        [PackageWarning::TempBaseUnusable { path, .. }] if *path == not_a_dir
    ));
    let root = package.fs_path().unwrap().to_path_buf();
    assert!(root.join("top.txt").is_file());
    drop(package);
    assert!(!root.exists());
}

#[test]
fn temp_prefix_names_the_extraction_dir() {
    let base = tempfile::tempdir().unwrap();
    let options = options(&base).with_temp_prefix("mine_".to_owned());
    let package = Package::from_bytes(&nested().package(), &options).unwrap();
    let top = std::fs::read_dir(base.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert!(top.file_name().to_str().unwrap().starts_with("mine_"));
    drop(package);
}
