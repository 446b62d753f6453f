//! The writer: what it writes reads back identically, byte for byte the same
//! every time, in the original's layout; and it refuses to write what the
//! reader would refuse.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use surli_config::{ModuleConfig, ParseOptions};
use surli_package::{
    COMPONENT_PREAMBLE, ExportsManifest, PNG_SIGNATURE, Package, PackageError, PackageLimits,
    PackageWriter, write_package,
};
use tempfile::TempDir;

use crate::support::{component, entries, is_empty, read, tree};

const CONFIG: &str = r#"abi = 2

[package]
organisation = "acme"
name = "full"
version = "2.3.4-rc.1"

[capabilities]
allow_arbitrary_queries = true
allow_functions = ["string::*"]
allow_net = ["10.0.0.0/8:443"]
max_memory_bytes = 1048576

[attach]
fs = "assets"
"#;

const EXPORTS: &str = r#"
schema = 2

[[functions]]
name = "greet"
args = "0c000000"
returns = "08000000"
args_text = ["who: string"]
returns_text = "string"
writeable = false
comment = "says hello"
future_key = { nested = [1, 2] }

[[functions]]
args = ""
returns = "00"
"#;

struct Inputs {
    config: ModuleConfig,
    wasm: Vec<u8>,
    exports: ExportsManifest,
    logo: Vec<u8>,
    assets: TempDir,
}

fn long_name() -> String {
    format!("{}/long.txt", "l".repeat(110))
}

fn inputs() -> Inputs {
    let config = ModuleConfig::parse(CONFIG, ParseOptions::strict())
        .unwrap()
        .config;
    let mut wasm = COMPONENT_PREAMBLE.to_vec();
    wasm.extend((0..5000u32).map(|i| (i % 251) as u8));
    let exports = ExportsManifest::parse(EXPORTS).unwrap();
    let mut logo = PNG_SIGNATURE.to_vec();
    logo.extend_from_slice(b"IHDR and friends");

    let assets = tempfile::tempdir().unwrap();
    let root = assets.path();
    std::fs::create_dir_all(root.join("models/small")).unwrap();
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();
    std::fs::create_dir_all(root.join(long_name()).parent().unwrap()).unwrap();
    std::fs::write(root.join("models/small/weights.bin"), vec![9u8; 3000]).unwrap();
    std::fs::write(root.join("readme.md"), b"# assets").unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    std::fs::write(root.join("empty"), b"").unwrap();
    std::fs::write(root.join(long_name()), b"long").unwrap();
    Inputs {
        config,
        wasm,
        exports,
        logo,
        assets,
    }
}

fn writer(inputs: &Inputs) -> PackageWriter<'_> {
    PackageWriter::new(&inputs.config, &inputs.wasm, &inputs.exports)
        .logo(&inputs.logo)
        .fs_dir(inputs.assets.path())
}

/// Relative path → contents (`None` for a directory) of everything under
/// `root`.
fn contents(root: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    tree(root)
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let data = path.is_file().then(|| std::fs::read(&path).unwrap());
            (relative, data)
        })
        .collect()
}

#[test]
fn write_then_read_is_identical() {
    let inputs = inputs();
    let bytes = writer(&inputs).to_bytes().unwrap();
    let base = tempfile::tempdir().unwrap();
    let package = read(&bytes, &base).unwrap();

    assert_eq!(package.config(), &inputs.config);
    assert!(package.config_warnings().is_empty());
    assert_eq!(package.wasm(), &inputs.wasm[..]);
    assert_eq!(package.exports(), &inputs.exports);
    assert_eq!(package.exports().extra["schema"].as_integer(), Some(2));
    assert!(
        package.exports().functions[0]
            .extra
            .contains_key("future_key")
    );
    assert_eq!(package.logo(), Some(&inputs.logo[..]));
    assert_eq!(
        contents(package.fs_path().unwrap()),
        contents(inputs.assets.path())
    );
    assert!(package.warnings().is_empty(), "{:?}", package.warnings());
}

#[test]
fn writing_twice_gives_identical_bytes() {
    let inputs = inputs();
    let first = writer(&inputs).to_bytes().unwrap();

    // Nothing about the host may leak in: touch every file's mtime.
    for path in tree(inputs.assets.path())
        .into_iter()
        .filter(|p| p.is_file())
    {
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000))
            .unwrap();
    }
    let second = writer(&inputs).to_bytes().unwrap();
    assert_eq!(first, second);

    let mut third = Vec::new();
    write_package(
        &inputs.config,
        &inputs.wasm,
        &inputs.exports,
        Some(&inputs.logo),
        Some(inputs.assets.path()),
        &mut third,
    )
    .unwrap();
    assert_eq!(first, third);
}

#[test]
fn output_follows_the_original_layout() {
    let inputs = inputs();
    let bytes = writer(&inputs).to_bytes().unwrap();

    let frame = zstd::zstd_safe::find_frame_compressed_size(&bytes).unwrap();
    assert_eq!(frame, bytes.len(), "one zstd frame");

    let listed = entries(&bytes);
    let paths: Vec<&str> = listed.iter().map(|(path, _)| path.as_str()).collect();
    let long = format!("surrealism/fs/{}", long_name());
    let long_dir = format!("surrealism/fs/{}", "l".repeat(110));
    let mut fs_paths = vec![
        "surrealism/fs/a.txt",
        "surrealism/fs/empty",
        "surrealism/fs/empty-dir",
        long_dir.as_str(),
        long.as_str(),
        "surrealism/fs/models",
        "surrealism/fs/models/small",
        "surrealism/fs/models/small/weights.bin",
        "surrealism/fs/readme.md",
    ];
    fs_paths.sort_unstable();
    let mut expected = vec![
        "surrealism/mod.wasm",
        "surrealism/surrealism.toml",
        "surrealism/exports.toml",
        "surrealism/logo.png",
        "surrealism/fs",
    ];
    expected.extend(fs_paths);
    assert_eq!(paths, expected);

    for (path, header) in &listed {
        assert!(header.as_gnu().is_some(), "{path}: not a GNU header");
        assert_eq!(header.mtime().unwrap(), 0, "{path}");
        assert_eq!(header.uid().unwrap(), 0, "{path}");
        assert_eq!(header.gid().unwrap(), 0, "{path}");
        assert_eq!(header.username_bytes().unwrap_or_default(), b"", "{path}");
        assert_eq!(header.groupname_bytes().unwrap_or_default(), b"", "{path}");
        let is_dir = header.entry_type().is_dir();
        assert_eq!(
            header.mode().unwrap(),
            if is_dir { 0o755 } else { 0o644 },
            "{path}"
        );
        assert!(is_dir || header.entry_type().is_file(), "{path}");
    }

    // The long-name headers are as fixed as the rest.
    let decoder = zstd::Decoder::new(&bytes[..]).unwrap();
    let mut archive = tar::Archive::new(decoder);
    for entry in archive.entries().unwrap().raw(true) {
        let entry = entry.unwrap();
        assert_eq!(entry.header().mtime().unwrap(), 0);
        assert_eq!(entry.header().uid().unwrap(), 0);
    }
}

#[test]
fn write_file_needs_the_surli_extension_and_leaves_nothing_on_failure() {
    let inputs = inputs();
    let out = tempfile::tempdir().unwrap();

    let error = writer(&inputs)
        .write_file(out.path().join("x.tar"))
        .unwrap_err();
    assert!(matches!(error, PackageError::NotSurli { .. }), "{error:?}");

    let core = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    let error = PackageWriter::new(&inputs.config, &core, &inputs.exports)
        .write_file(out.path().join("bad.surli"))
        .unwrap_err();
    assert!(
        matches!(error, PackageError::NotAComponent { .. }),
        "{error:?}"
    );
    assert!(is_empty(out.path()), "{:?}", tree(out.path()));

    let path = out.path().join(inputs.config.file_name());
    assert_eq!(inputs.config.file_name(), "acme-full-2.3.4-rc.1.surli");
    writer(&inputs).write_file(&path).unwrap();
    assert_eq!(tree(out.path()), std::slice::from_ref(&path));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        writer(&inputs).to_bytes().unwrap()
    );
    let package = Package::read_file(&path, &crate::support::options(&out)).unwrap();
    assert_eq!(package.wasm(), &inputs.wasm[..]);
}

#[cfg(unix)]
#[test]
fn packing_a_symlink_is_refused_with_its_path() {
    let inputs = inputs();
    let link = inputs.assets.path().join("models/passwd");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    let error = writer(&inputs).to_bytes().unwrap_err();
    assert!(
        matches!(&error, PackageError::SourceLink { path } if *path == link),
        "{error:?}"
    );
    assert!(error.to_string().contains(&link.display().to_string()));

    // A link to a directory inside the tree is refused just the same.
    std::fs::remove_file(&link).unwrap();
    let dir_link = inputs.assets.path().join("again");
    std::os::unix::fs::symlink(inputs.assets.path().join("models"), &dir_link).unwrap();
    let error = writer(&inputs).to_bytes().unwrap_err();
    assert!(
        matches!(&error, PackageError::SourceLink { path } if *path == dir_link),
        "{error:?}"
    );
}

#[cfg(unix)]
#[test]
fn packing_a_symlinked_root_is_refused() {
    let inputs = inputs();
    let holder = tempfile::tempdir().unwrap();
    let link = holder.path().join("assets");
    std::os::unix::fs::symlink(inputs.assets.path(), &link).unwrap();
    let error = PackageWriter::new(&inputs.config, &inputs.wasm, &inputs.exports)
        .fs_dir(&link)
        .to_bytes()
        .unwrap_err();
    assert!(
        matches!(error, PackageError::SourceLink { .. }),
        "{error:?}"
    );
}

#[cfg(unix)]
#[test]
fn packing_a_special_file_or_odd_name_is_refused() {
    use std::os::unix::ffi::OsStrExt;

    let inputs = inputs();
    let socket_path = inputs.assets.path().join("sock");
    let _socket = std::os::unix::net::UnixListener::bind(&socket_path).unwrap();
    let error = writer(&inputs).to_bytes().unwrap_err();
    assert!(
        matches!(&error, PackageError::SourceSpecial { path, kind: "socket" } if *path == socket_path),
        "{error:?}"
    );
    drop(_socket);
    std::fs::remove_file(&socket_path).unwrap();

    let odd = inputs
        .assets
        .path()
        .join(std::ffi::OsStr::from_bytes(b"bad\xff"));
    std::fs::write(&odd, b"").unwrap();
    let error = writer(&inputs).to_bytes().unwrap_err();
    assert!(
        matches!(error, PackageError::SourceName { .. }),
        "{error:?}"
    );
    std::fs::remove_file(&odd).unwrap();

    std::fs::write(inputs.assets.path().join("back\\slash"), b"").unwrap();
    let error = writer(&inputs).to_bytes().unwrap_err();
    assert!(
        matches!(error, PackageError::SourceName { .. }),
        "{error:?}"
    );
}

type Expected = fn(&PackageError) -> bool;

#[test]
fn writer_refuses_what_the_reader_would() {
    let inputs = inputs();
    let limits = |f: fn(&mut PackageLimits)| {
        let mut limits = PackageLimits::default();
        f(&mut limits);
        limits
    };
    let cases: [(PackageLimits, Expected); 6] = [
        (limits(|l| l.max_fs_bytes = 3000), |e| {
            matches!(e, PackageError::FsTooLarge { .. })
        }),
        (limits(|l| l.max_fs_entry_bytes = 2999), |e| {
            matches!(
                e,
                PackageError::EntryTooLarge {
                    cap: "max_fs_entry_bytes",
                    ..
                }
            )
        }),
        (limits(|l| l.max_wasm_bytes = 100), |e| {
            matches!(
                e,
                PackageError::EntryTooLarge {
                    cap: "max_wasm_bytes",
                    ..
                }
            )
        }),
        (limits(|l| l.max_entries = 8), |e| {
            matches!(e, PackageError::TooManyEntries { limit: 8 })
        }),
        (limits(|l| l.max_total_bytes = 8 * 1024), |e| {
            matches!(e, PackageError::TooMuchData { .. })
        }),
        (limits(|l| l.max_logo_bytes = 8), |e| {
            matches!(
                e,
                PackageError::EntryTooLarge {
                    cap: "max_logo_bytes",
                    ..
                }
            )
        }),
    ];
    for (limits, expected) in cases {
        let error = writer(&inputs).limits(limits).to_bytes().unwrap_err();
        assert!(expected(&error), "{limits:?}: {error:?}");
    }

    let error = PackageWriter::new(&inputs.config, &inputs.wasm, &inputs.exports)
        .logo(b"GIF89a")
        .to_bytes()
        .unwrap_err();
    assert!(matches!(error, PackageError::BadLogo { .. }), "{error:?}");
}

#[test]
fn every_limit_the_writer_meets_the_reader_accepts() {
    // Shrink each cap to exactly what this package needs: the writer must
    // still write it and the reader still read it.
    let inputs = inputs();
    let bytes = writer(&inputs).to_bytes().unwrap();
    let tar_len = zstd::decode_all(&bytes[..]).unwrap().len() as u64;
    let tight = PackageLimits::default()
        .with_max_package_bytes(bytes.len() as u64)
        .with_max_total_bytes(tar_len)
        .with_max_entries(14)
        .with_max_wasm_bytes(inputs.wasm.len() as u64)
        .with_max_logo_bytes(inputs.logo.len() as u64)
        .with_max_fs_bytes(3000 + 8 + 1 + 4)
        .with_max_fs_entry_bytes(3000);
    let again = writer(&inputs).limits(tight).to_bytes().unwrap();
    assert_eq!(again, bytes);
    let base = tempfile::tempdir().unwrap();
    let options = crate::support::options(&base).with_limits(tight);
    Package::from_bytes(&bytes, &options).unwrap();
}

#[test]
fn minimal_package_round_trips() {
    let config = ModuleConfig::parse(crate::support::CONFIG, ParseOptions::default())
        .unwrap()
        .config;
    let exports = ExportsManifest::default();
    let wasm = component();
    let bytes = PackageWriter::new(&config, &wasm, &exports)
        .to_bytes()
        .unwrap();
    let base = tempfile::tempdir().unwrap();
    let package = read(&bytes, &base).unwrap();
    assert!(package.exports().functions.is_empty());
    assert!(package.fs().is_none() && package.logo().is_none());
    let listed: Vec<String> = entries(&bytes).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        listed,
        [
            "surrealism/mod.wasm",
            "surrealism/surrealism.toml",
            "surrealism/exports.toml"
        ]
    );
}
