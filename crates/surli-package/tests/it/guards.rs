//! Every guard the original runtime lacks, each against an archive built
//! here to break it.

use surli_package::{
    LinkKind, Package, PackageError, PackageLimits, PackageWarning, ReadOptions, read_exports_only,
};
use tempfile::TempDir;

use crate::support::{
    BASELINE, CONFIG, EXPORTS, RawTar, component, header, is_empty, link_header, options, read,
    tree,
};

fn base() -> TempDir {
    tempfile::tempdir().unwrap()
}

fn limited(base: &TempDir, limits: PackageLimits) -> ReadOptions {
    options(base).with_limits(limits)
}

/// Reads `bytes` both ways and returns the full read's error; the exports-only
/// read must refuse too.
fn refused(bytes: &[u8], options: &ReadOptions) -> PackageError {
    let full = Package::from_bytes(bytes, options).unwrap_err();
    let cheap = read_exports_only(bytes, options).unwrap_err();
    assert_eq!(
        std::mem::discriminant(&full),
        std::mem::discriminant(&cheap),
        "{full:?} vs {cheap:?}"
    );
    full
}

#[test]
fn dotdot_path_is_refused_and_nothing_escapes() {
    let outer = base();
    let temp_base = outer.path().join("base");
    std::fs::create_dir(&temp_base).unwrap();
    let options = ReadOptions::default().with_temp_base(temp_base.clone());
    for evil in [
        "surrealism/fs/../../escape.txt",
        "surrealism/fs/../../../escape.txt",
        "surrealism/fs/a/../../../../escape.txt",
        "../escape.txt",
    ] {
        let bytes = RawTar::valid()
            .file("surrealism/fs/ok.txt", b"ok")
            .entry(b'0', evil.as_bytes(), b"evil")
            .package();
        let error = refused(&bytes, &options);
        assert!(
            matches!(&error, PackageError::UnsafePath { path, .. } if path == evil),
            "{evil}: {error:?}"
        );
        assert!(error.to_string().contains("`..`"), "{error}");
    }
    assert!(
        tree(outer.path())
            .iter()
            .all(|p| p.file_name().unwrap() != "escape.txt")
    );
    assert!(is_empty(&temp_base));
}

#[test]
fn absolute_path_is_refused() {
    let base = base();
    for evil in [
        "/etc/evil",
        "/surrealism/fs/x",
        "surrealism/fs//x",
        "C:/evil",
    ] {
        let bytes = RawTar::valid().entry(b'0', evil.as_bytes(), b"x").package();
        let error = refused(&bytes, &options(&base));
        assert!(
            matches!(&error, PackageError::UnsafePath { path, .. } if path == evil),
            "{evil}: {error:?}"
        );
    }
}

#[test]
fn backslash_and_non_utf8_paths_are_refused() {
    let base = base();
    for evil in [
        &b"surrealism/fs/..\\..\\evil"[..],
        &b"surrealism/fs/\xff\xfe"[..],
        &b"surrealism/fs/./x"[..],
    ] {
        let bytes = RawTar::valid().entry(b'0', evil, b"x").package();
        let error = refused(&bytes, &options(&base));
        assert!(
            matches!(error, PackageError::UnsafePath { .. }),
            "{error:?}"
        );
    }
}

#[test]
fn symlink_entry_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .raw(
            &link_header(b'2', b"surrealism/fs/passwd", b"/etc/passwd"),
            &[],
        )
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(
            &error,
            PackageError::LinkEntry { path, kind: LinkKind::Symbolic, target: Some(target) }
                if path == "surrealism/fs/passwd" && target == "/etc/passwd"
        ),
        "{error:?}"
    );
    assert!(is_empty(base.path()));
}

#[test]
fn symlink_entry_is_refused_anywhere() {
    let base = base();
    let bytes = RawTar::valid()
        .raw(&link_header(b'2', b"elsewhere", b"/"), &[])
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(matches!(error, PackageError::LinkEntry { .. }), "{error:?}");
}

#[test]
fn hard_link_entry_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .raw(
            &link_header(b'1', b"surrealism/fs/copy", b"surrealism/mod.wasm"),
            &[],
        )
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(
            &error,
            PackageError::LinkEntry { path, kind: LinkKind::Hard, target: Some(target) }
                if path == "surrealism/fs/copy" && target == "surrealism/mod.wasm"
        ),
        "{error:?}"
    );
}

#[test]
fn device_fifo_and_other_special_entries_are_refused() {
    let base = base();
    for (flag, word) in [
        (b'3', "character device"),
        (b'4', "block device"),
        (b'6', "fifo"),
        (b'7', "contiguous file"),
        (b'S', "sparse file"),
        (b'V', "unknown type `V`"),
    ] {
        let bytes = RawTar::valid()
            .entry(flag, b"surrealism/fs/dev", &[])
            .package();
        let error = refused(&bytes, &options(&base));
        assert!(
            matches!(&error, PackageError::SpecialEntry { path, kind }
                if path == "surrealism/fs/dev" && kind.contains(word)),
            "{}: {error:?}",
            flag as char
        );
    }
}

#[test]
fn duplicate_mod_wasm_is_refused() {
    let base = base();
    let mut core = component();
    core[4] = 1;
    let bytes = RawTar::valid().file("surrealism/mod.wasm", &core).package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(&error, PackageError::DuplicateEntry { path } if path == "surrealism/mod.wasm"),
        "{error:?}"
    );
}

#[test]
fn duplicate_fs_file_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .file("surrealism/fs/a.txt", b"first")
        .file("surrealism/fs/a.txt", b"second")
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(&error, PackageError::DuplicateEntry { path } if path == "surrealism/fs/a.txt"),
        "{error:?}"
    );
    assert!(is_empty(base.path()));
}

#[test]
fn entries_outside_surrealism_are_skipped_with_a_warning() {
    let base = base();
    let bytes = RawTar::valid()
        .file("junk/readme.txt", b"x")
        .file("surrealism/notes.txt", b"y")
        .dir("surrealism/")
        .package();
    let package = read(&bytes, &base).unwrap();
    let skipped: Vec<_> = package
        .warnings()
        .iter()
        .map(|w| match w {
            PackageWarning::SkippedEntry { path, .. } => path.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(skipped, ["junk/readme.txt", "surrealism/notes.txt"]);
    assert!(package.fs().is_none());
}

#[test]
fn skipped_entries_count_against_the_entry_cap() {
    let base = base();
    let bytes = RawTar::valid()
        .file("junk/1", b"")
        .file("junk/2", b"")
        .file("junk/3", b"")
        .package();
    let limits = |max_entries| PackageLimits::default().with_max_entries(max_entries);
    assert!(Package::from_bytes(&bytes, &limited(&base, limits(6))).is_ok());
    let error = refused(&bytes, &limited(&base, limits(5)));
    assert!(
        matches!(error, PackageError::TooManyEntries { limit: 5 }),
        "{error:?}"
    );
}

#[test]
fn skipped_entries_count_against_the_total_cap() {
    let base = base();
    let bytes = RawTar::valid()
        .file("junk/big", &vec![0; 600 * 1024])
        .package();
    assert!(read(&bytes, &base).is_ok());
    let options = limited(
        &base,
        PackageLimits::default().with_max_total_bytes(512 * 1024),
    );
    let error = refused(&bytes, &options);
    assert!(
        matches!(error, PackageError::TooMuchData { read, limit: 524_288 } if read == 524_289),
        "{error:?}"
    );
}

#[test]
fn too_many_entries_is_refused() {
    let base = base();
    let mut tar = RawTar::valid();
    for i in 0..20 {
        tar = tar.file(&format!("surrealism/fs/{i}.txt"), b"x");
    }
    let bytes = tar.package();
    let options = limited(&base, PackageLimits::default().with_max_entries(10));
    let error = refused(&bytes, &options);
    assert!(
        matches!(error, PackageError::TooManyEntries { limit: 10 }),
        "{error:?}"
    );
    assert!(is_empty(base.path()));
}

#[test]
fn core_module_is_refused() {
    let base = base();
    let core = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01];
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &core)
        .file("surrealism/surrealism.toml", CONFIG.as_bytes())
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(
            error,
            PackageError::NotAComponent {
                found: "a core WebAssembly module"
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("--target wasm32-wasip2"), "{message}");
    assert!(message.contains("WASI preview 1"), "{message}");
}

#[test]
fn missing_required_files_are_refused() {
    let base = base();
    let wasm = component();
    let all: [(&str, &[u8]); 3] = [
        ("surrealism/mod.wasm", &wasm),
        ("surrealism/surrealism.toml", CONFIG.as_bytes()),
        ("surrealism/exports.toml", EXPORTS.as_bytes()),
    ];
    for (missing, _) in all {
        let mut tar = RawTar::new();
        for (path, data) in all.iter().filter(|(path, _)| *path != missing) {
            tar = tar.file(path, data);
        }
        let error = refused(&tar.package(), &options(&base));
        assert!(
            matches!(error, PackageError::Missing { path } if path == missing),
            "{missing}: {error:?}"
        );
    }
}

#[test]
fn truncated_package_is_refused() {
    let base = base();
    let baseline = std::fs::read(BASELINE).unwrap();
    let small = RawTar::valid()
        .file("surrealism/fs/data", &[7; 4096])
        .package();
    for whole in [baseline, small] {
        let half = &whole[..whole.len() / 2];
        let error = refused(half, &options(&base));
        assert!(matches!(error, PackageError::Corrupt { .. }), "{error:?}");
    }
    assert!(is_empty(base.path()));
}

#[test]
fn entry_cut_short_behind_a_complete_frame_is_refused() {
    let base = base();
    // A complete zstd frame whose tar ends inside mod.wasm's data.
    let mut tar = RawTar::new()
        .file("surrealism/surrealism.toml", CONFIG.as_bytes())
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .tar();
    tar.truncate(tar.len() - 1024);
    tar.extend_from_slice(header(b'0', b"surrealism/mod.wasm", 4096).as_bytes());
    tar.extend_from_slice(&component());
    let bytes = zstd::encode_all(&tar[..], 0).unwrap();
    let error = Package::from_bytes(&bytes, &options(&base)).unwrap_err();
    assert!(
        matches!(&error, PackageError::Corrupt { message } if message.contains("cut short")),
        "{error:?}"
    );
}

#[test]
fn garbage_is_refused() {
    let base = base();
    let not_zstd = b"this is not a package at all".repeat(40);
    let zstd_of_garbage = zstd::encode_all(&not_zstd[..], 0).unwrap();
    let mut trailing = RawTar::valid().package();
    trailing.extend_from_slice(b"trailing garbage");
    for bytes in [&not_zstd[..], &zstd_of_garbage[..], &trailing[..], &[][..]] {
        let error = refused(bytes, &options(&base));
        assert!(matches!(error, PackageError::Corrupt { .. }), "{error:?}");
    }
}

#[test]
fn mod_wasm_over_its_cap_is_refused_from_the_header() {
    let base = base();
    let bytes = RawTar::valid().package();
    let options = limited(&base, PackageLimits::default().with_max_wasm_bytes(8));
    let error = refused(&bytes, &options);
    assert!(
        matches!(&error, PackageError::EntryTooLarge { path, size: 12, limit: 8, cap: "max_wasm_bytes" }
            if path == "surrealism/mod.wasm"),
        "{error:?}"
    );
}

#[test]
fn fs_file_over_its_cap_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .file("surrealism/fs/small", &[1; 10])
        .file("surrealism/fs/big", &[1; 2048])
        .package();
    let options = limited(
        &base,
        PackageLimits::default().with_max_fs_entry_bytes(1024),
    );
    let error = refused(&bytes, &options);
    assert!(
        matches!(&error, PackageError::EntryTooLarge { path, size: 2048, cap: "max_fs_entry_bytes", .. }
            if path == "surrealism/fs/big"),
        "{error:?}"
    );
    assert!(is_empty(base.path()));
}

#[test]
fn pax_size_that_disagrees_with_the_header_is_refused() {
    let base = base();
    // The tar crate would believe the pax size and read ~10 MB as mod.wasm
    // while other readers believe the header's 12 bytes.
    let record = "16 size=9999999\n";
    assert_eq!(record.len(), 16);
    let bytes = RawTar::new()
        .file("surrealism/surrealism.toml", CONFIG.as_bytes())
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .entry(b'x', b"PaxHeaders/mod.wasm", record.as_bytes())
        .file("surrealism/mod.wasm", &component())
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(&error, PackageError::Corrupt { message } if message.contains("pax")),
        "{error:?}"
    );
}

#[test]
fn oversized_long_name_header_is_refused() {
    let base = base();
    let name = format!("surrealism/fs/{}\0", "a/".repeat(600));
    let bytes = RawTar::valid()
        .entry(b'L', b"././@LongLink", name.as_bytes())
        .file("surrealism/fs/short", b"x")
        .package();
    let options = limited(
        &base,
        PackageLimits::default().with_max_extension_bytes(1024),
    );
    let error = refused(&bytes, &options);
    assert!(
        matches!(
            &error,
            PackageError::EntryTooLarge {
                cap: "max_extension_bytes",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn fs_total_over_its_cap_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .file("surrealism/fs/a", &[1; 400])
        .file("surrealism/fs/b", &[1; 400])
        .file("surrealism/fs/c", &[1; 400])
        .package();
    let options = limited(&base, PackageLimits::default().with_max_fs_bytes(1000));
    let error = refused(&bytes, &options);
    assert!(
        matches!(&error, PackageError::FsTooLarge { path, total: 1200, limit: 1000 }
            if path == "surrealism/fs/c"),
        "{error:?}"
    );
    assert!(is_empty(base.path()));
}

#[test]
fn logo_too_big_is_refused() {
    let base = base();
    let mut logo = surli_package::PNG_SIGNATURE.to_vec();
    logo.resize(256 * 1024 + 1, 0);
    let bytes = RawTar::valid().file("surrealism/logo.png", &logo).package();
    let error = refused(&bytes, &options(&base));
    assert!(
        matches!(
            &error,
            PackageError::EntryTooLarge {
                cap: "max_logo_bytes",
                size: 262_145,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn logo_that_is_not_png_is_refused() {
    let base = base();
    let bytes = RawTar::valid()
        .file("surrealism/logo.png", b"GIF89a not a png")
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(matches!(error, PackageError::BadLogo { .. }), "{error:?}");
}

#[test]
fn file_name_must_end_in_surli() {
    let base = base();
    let path = base.path().join("demo.tar.zst");
    std::fs::write(&path, RawTar::valid().package()).unwrap();
    let error = Package::read_file(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(error, PackageError::NotSurli { .. }), "{error:?}");
    let renamed = base.path().join("demo.surli");
    std::fs::rename(&path, &renamed).unwrap();
    assert!(Package::read_file(&renamed, &ReadOptions::default()).is_ok());
}

#[test]
fn package_over_its_cap_is_refused() {
    let base = base();
    let bytes = RawTar::valid().package();
    let path = base.path().join("demo.surli");
    std::fs::write(&path, &bytes).unwrap();
    let size = bytes.len() as u64;
    let options = |max_package_bytes| {
        ReadOptions::default()
            .with_limits(PackageLimits::default().with_max_package_bytes(max_package_bytes))
    };
    assert!(Package::read_file(&path, &options(size)).is_ok());
    assert!(read_exports_only(&bytes[..], &options(size)).is_ok());

    let small = options(size - 1);
    let errors = [
        Package::read_file(&path, &small).unwrap_err(),
        Package::from_reader(&bytes[..], &small).unwrap_err(),
        Package::from_bytes(&bytes, &small).unwrap_err(),
        read_exports_only(&bytes[..], &small).unwrap_err(),
    ];
    for error in errors {
        assert!(
            matches!(error, PackageError::PackageTooLarge { limit, .. } if limit == size - 1),
            "{error:?}"
        );
    }
}

#[test]
fn bad_config_is_refused_naming_the_entry() {
    let base = base();
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &component())
        .file(
            "surrealism/surrealism.toml",
            b"abi = 2\n[package]\nname = 3\n",
        )
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(matches!(error, PackageError::Config(_)), "{error:?}");
    assert!(
        error.to_string().contains("surrealism/surrealism.toml"),
        "{error}"
    );

    let not_utf8 = RawTar::new()
        .file("surrealism/mod.wasm", &component())
        .file("surrealism/surrealism.toml", b"\xff\xfe")
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .package();
    let error = refused(&not_utf8, &options(&base));
    assert!(matches!(error, PackageError::NotUtf8 { .. }), "{error:?}");
}

#[test]
fn unknown_config_keys_warn_unless_strict() {
    let base = base();
    let config = format!("{CONFIG}\n[capabilities]\nallow_netz = [\"x\"]\n");
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &component())
        .file("surrealism/surrealism.toml", config.as_bytes())
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .package();
    let package = read(&bytes, &base).unwrap();
    assert_eq!(package.config_warnings().len(), 1);
    let strict = options(&base).with_strict_config(true);
    let error = refused(&bytes, &strict);
    assert!(matches!(error, PackageError::Config(_)), "{error:?}");
}

#[test]
fn bad_exports_are_refused() {
    let base = base();
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &component())
        .file("surrealism/surrealism.toml", CONFIG.as_bytes())
        .file(
            "surrealism/exports.toml",
            b"[[functions]]\nname = \"f\"\nargs = \"zz\"\nreturns = \"\"\n",
        )
        .package();
    let error = refused(&bytes, &options(&base));
    assert!(matches!(error, PackageError::Exports { .. }), "{error:?}");
}

#[test]
fn a_different_abi_still_loads() {
    let base = base();
    let config = CONFIG.replace("abi = 2", "abi = 1");
    let bytes = RawTar::new()
        .file("surrealism/mod.wasm", &component())
        .file("surrealism/surrealism.toml", config.as_bytes())
        .file("surrealism/exports.toml", EXPORTS.as_bytes())
        .package();
    let package = read(&bytes, &base).unwrap();
    assert!(package.config().check_abi().is_err());
}
