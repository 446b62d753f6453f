//! Decompression bombs: a few dozen kilobytes that claim a gigabyte.
//!
//! zstd frames concatenate, so a bomb is built without compressing a
//! gigabyte: one frame per 512-byte tar header, and one frame of 1 MiB of
//! zeros compressed once and repeated. The tests assert on how many bytes
//! the reader pulled before it stopped, never on time or memory.

use surli_package::{Package, PackageError, PackageLimits, read_exports_only};

use crate::support::{MIB, RawTar, header, is_empty, options};

/// `entries` entries of `entry_mib` MiB of zeros each, named `{prefix}{n}`,
/// after the tar `prelude`.
fn bomb(prelude: Vec<u8>, prefix: &str, entries: usize, entry_mib: usize) -> Vec<u8> {
    let zeros = zstd::encode_all(&vec![0u8; MIB][..], 0).unwrap();
    let mut out = zstd::encode_all(&prelude[..], 0).unwrap();
    for n in 0..entries {
        let name = format!("{prefix}{n}");
        let header = header(b'0', name.as_bytes(), (entry_mib * MIB) as u64);
        out.extend(zstd::encode_all(&header.as_bytes()[..], 0).unwrap());
        for _ in 0..entry_mib {
            out.extend_from_slice(&zeros);
        }
    }
    out.extend(zstd::encode_all(&[0u8; 1024][..], 0).unwrap());
    out
}

/// The three required files as a tar without its end marker.
fn valid_prelude() -> Vec<u8> {
    let mut tar = RawTar::valid().tar();
    tar.truncate(tar.len() - 1024);
    tar
}

fn assert_stopped_at_cap(error: &PackageError, cap: u64) {
    match error {
        PackageError::TooMuchData { read, limit } => {
            assert_eq!(*limit, cap);
            assert!(*read > cap, "stopped before the cap: {read}");
            assert!(
                *read <= cap + MIB as u64,
                "read {read} bytes, far past the cap {cap}"
            );
        }
        other => panic!("expected TooMuchData, got {other:?}"),
    }
}

#[test]
fn zstd_bomb_is_refused_within_cap() {
    // 32 entries of 32 MiB: 1 GiB of zeros, each entry far under any
    // per-entry cap, so only the total cap can stop it.
    let bytes = bomb(valid_prelude(), "junk/", 32, 32);
    assert!(
        (33_000..=66_000).contains(&bytes.len()),
        "the bomb is {} bytes compressed",
        bytes.len()
    );
    let base = tempfile::tempdir().unwrap();
    let options = options(&base);
    assert_eq!(options.limits.max_total_bytes, 512 * MIB as u64);

    let error = Package::from_bytes(&bytes, &options).unwrap_err();
    assert_stopped_at_cap(&error, options.limits.max_total_bytes);
    assert!(error.to_string().contains("decompression bomb"), "{error}");

    let error = read_exports_only(&bytes[..], &options).unwrap_err();
    assert_stopped_at_cap(&error, options.limits.max_total_bytes);
    assert!(is_empty(base.path()));
}

#[test]
fn zstd_bomb_through_fs_is_refused_within_cap() {
    // With the fs caps out of the way only the total cap stands between
    // the bomb and the disk. The total cap is lowered so the test writes
    // at most 48 MiB before it trips.
    let bytes = bomb(valid_prelude(), "surrealism/fs/bomb/", 32, 32);
    let base = tempfile::tempdir().unwrap();
    let cap = 48 * MIB as u64;
    let options = options(&base).with_limits(
        PackageLimits::default()
            .with_max_total_bytes(cap)
            .with_max_fs_bytes(u64::MAX)
            .with_max_fs_entry_bytes(u64::MAX),
    );
    let error = Package::from_bytes(&bytes, &options).unwrap_err();
    assert_stopped_at_cap(&error, cap);
    assert!(is_empty(base.path()), "the extraction directory is removed");
}

#[test]
fn bomb_after_the_end_of_the_tar_is_refused() {
    // A complete, valid package, then a gigabyte of zeros past its end.
    let mut bytes = RawTar::valid().package();
    let zeros = zstd::encode_all(&vec![0u8; MIB][..], 0).unwrap();
    for _ in 0..1024 {
        bytes.extend_from_slice(&zeros);
    }
    let base = tempfile::tempdir().unwrap();
    let options = options(&base);
    let error = Package::from_bytes(&bytes, &options).unwrap_err();
    assert_stopped_at_cap(&error, options.limits.max_total_bytes);
}
