//! The package the original runtime wrote loads here unchanged.

use sha2::{Digest, Sha256};
use surli_config::AbiVersion;
use surli_package::{
    COMPONENT_PREAMBLE, ExportsManifest, Package, PackageWriter, ReadOptions, read_exports_only,
};

use crate::support::{BASELINE, entry_data};

#[test]
fn original_baseline_package_loads() {
    let package = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();

    let meta = &package.config().meta;
    assert_eq!(meta.organisation, "peer");
    assert_eq!(meta.name, "baseline");
    assert_eq!(meta.version.to_string(), "0.1.0");
    assert_eq!(package.config().abi, Some(AbiVersion(2)));
    assert!(package.config_warnings().is_empty());

    let names: Vec<_> = package
        .exports()
        .functions
        .iter()
        .map(|f| f.name.as_deref().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "alloc",
            "fib",
            "noop",
            "kv_roundtrip",
            "add",
            "spin",
            "concat"
        ]
    );

    let wasm = package.wasm();
    assert_eq!(wasm.len(), 1_586_331);
    assert!(wasm.starts_with(&COMPONENT_PREAMBLE));

    let original = std::fs::read(BASELINE).unwrap();
    let extracted = entry_data(&original, "surrealism/mod.wasm").unwrap();
    let expected: [u8; 32] = Sha256::digest(&extracted).into();
    assert_eq!(package.wasm_sha256(), &expected);
    assert_eq!(package.wasm_sha256_hex(), hex::encode(expected));
    let whole: [u8; 32] = Sha256::digest(&original).into();
    assert_eq!(package.package_sha256(), &whole);

    assert!(package.fs().is_none());
    assert!(package.logo().is_none());
    assert!(package.warnings().is_empty());
}

#[test]
fn baseline_signatures_read_as_text() {
    let package = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let exports = package.exports();
    assert_eq!(
        exports.get(Some("fib")).unwrap().signature(),
        "fib(n: int) -> int"
    );
    assert_eq!(
        exports.get(Some("concat")).unwrap().signature(),
        "concat(a: string, b: string) -> string"
    );
    assert_eq!(exports.get(Some("noop")).unwrap().args_display(), "");
    assert_eq!(exports.get(Some("noop")).unwrap().returns_display(), "none");
    assert!(exports.get(None).is_none());
    assert!(exports.get(Some("missing")).is_none());
}

#[test]
fn baseline_reads_the_same_from_file_bytes_and_stream() {
    let bytes = std::fs::read(BASELINE).unwrap();
    let options = ReadOptions::default();
    let from_file = Package::read_file(BASELINE, &options).unwrap();
    let from_bytes = Package::from_bytes(&bytes, &options).unwrap();
    let from_reader = Package::from_reader(&bytes[..], &options).unwrap();
    for other in [&from_bytes, &from_reader] {
        assert_eq!(other.config(), from_file.config());
        assert_eq!(other.wasm(), from_file.wasm());
        assert_eq!(other.exports(), from_file.exports());
        assert_eq!(other.package_sha256(), from_file.package_sha256());
    }
    let exports = read_exports_only(&bytes[..], &options).unwrap();
    assert_eq!(&exports, from_file.exports());
}

#[test]
fn our_exports_for_the_baseline_equal_the_original_text() {
    let bytes = std::fs::read(BASELINE).unwrap();
    let original =
        String::from_utf8(entry_data(&bytes, "surrealism/exports.toml").unwrap()).unwrap();
    let ours = ExportsManifest::parse(&original)
        .unwrap()
        .to_toml()
        .unwrap();

    let original_doc: toml::Table = original.parse().unwrap();
    let ours_doc: toml::Table = ours.parse().unwrap();
    assert_eq!(ours_doc, original_doc);
    assert_eq!(
        ExportsManifest::parse(&ours).unwrap(),
        ExportsManifest::parse(&original).unwrap()
    );
}

#[test]
fn repacking_the_baseline_keeps_every_part() {
    let original = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let bytes = PackageWriter::new(original.config(), original.wasm(), original.exports())
        .to_bytes()
        .unwrap();
    let repacked = Package::from_bytes(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(repacked.config(), original.config());
    assert_eq!(repacked.wasm_sha256(), original.wasm_sha256());
    assert_eq!(repacked.exports(), original.exports());
    assert!(repacked.warnings().is_empty());
}

#[test]
fn a_package_can_move_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Package>();
    assert_send_sync::<surli_package::PackageError>();
}

/// A package this size is digested on a second thread while it is read
/// (on a machine with more than one CPU); a small one on the caller's.
/// Both must give the plain SHA-256 of the same bytes.
#[test]
fn digests_are_the_same_on_either_path() {
    let original = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let small_wasm = {
        let mut wasm = COMPONENT_PREAMBLE.to_vec();
        wasm.extend_from_slice(b"a component small enough to digest inline");
        wasm
    };
    let small = PackageWriter::new(original.config(), &small_wasm, original.exports())
        .to_bytes()
        .unwrap();
    assert!(small.len() < 64 * 1024, "{} bytes", small.len());
    let read = Package::from_bytes(&small, &ReadOptions::default()).unwrap();
    let expected: [u8; 32] = Sha256::digest(&small_wasm).into();
    assert_eq!(read.wasm_sha256(), &expected);
    let whole: [u8; 32] = Sha256::digest(&small).into();
    assert_eq!(read.package_sha256(), &whole);

    // The baseline component again, in a package written here.
    let big = PackageWriter::new(original.config(), original.wasm(), original.exports())
        .to_bytes()
        .unwrap();
    assert!(big.len() > 64 * 1024, "{} bytes", big.len());
    let read = Package::from_bytes(&big, &ReadOptions::default()).unwrap();
    assert_eq!(read.wasm_sha256(), original.wasm_sha256());
    let whole: [u8; 32] = Sha256::digest(&big).into();
    assert_eq!(read.package_sha256(), &whole);
}

/// A large package broken halfway through its component fails, and the
/// digest thread does not keep the read waiting.
#[test]
fn a_large_package_broken_midway_fails_cleanly() {
    let bytes = std::fs::read(BASELINE).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    assert!(Package::from_bytes(cut, &ReadOptions::default()).is_err());

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    flipped[middle + 1] ^= 0xaa;
    assert!(Package::from_bytes(&flipped, &ReadOptions::default()).is_err());

    // And the next read is whole again.
    let again = Package::from_bytes(&bytes, &ReadOptions::default()).unwrap();
    assert_eq!(again.wasm().len(), 1_586_331);
}

#[test]
fn a_package_taken_apart_and_put_back_together_is_the_same_package() {
    let package = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let wasm_sha = *package.wasm_sha256();
    let config = package.config().clone();
    let exports = package.exports().clone();

    let rebuilt = Package::from_parts(package.into_parts().unwrap()).unwrap();
    assert_eq!(rebuilt.config(), &config);
    assert_eq!(rebuilt.exports(), &exports);
    assert_eq!(rebuilt.wasm_sha256(), &wasm_sha);
    // No package bytes: the component's digest stands in for them.
    assert_eq!(rebuilt.package_sha256(), &wasm_sha);
    assert_eq!(<[u8; 32]>::from(Sha256::digest(rebuilt.wasm())), wasm_sha);
}

#[test]
fn parts_holding_a_core_module_or_a_bad_logo_are_refused() {
    let package = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let mut parts = package.into_parts().unwrap();
    let component = parts.wasm.clone();
    parts.wasm = b"\0asm\x01\0\0\0".as_slice().into();
    let error = Package::from_parts(parts).unwrap_err();
    assert!(
        matches!(error, surli_package::PackageError::NotAComponent { .. }),
        "{error:?}"
    );

    let package = Package::read_file(BASELINE, &ReadOptions::default()).unwrap();
    let mut parts = package.into_parts().unwrap();
    parts.wasm = component;
    parts.logo = Some(b"GIF89a".to_vec());
    let error = Package::from_parts(parts).unwrap_err();
    assert!(
        matches!(error, surli_package::PackageError::BadLogo { .. }),
        "{error:?}"
    );
}
