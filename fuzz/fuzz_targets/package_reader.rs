//! `.surli` bytes into both package readers.
//!
//! Contract: no input panics, aborts or runs away (the caps hold); and, as
//! `read_exports_only` documents, every package the full reader accepts is
//! accepted by the streaming one with the same manifest; a package rebuilt
//! from the record of a read is that read again, component included; and
//! the same bytes taken as a record never panic its parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use surli_package::{
    Package, PackageBytes, PackageLimits, PackageRecord, ReadOptions, read_exports_only,
};

const MIB: u64 = 1024 * 1024;

/// The default caps, narrowed so that a decompression bomb the mutator
/// stumbles on costs milliseconds rather than seconds: the guards under test
/// are the same comparisons whatever the numbers.
fn options() -> ReadOptions {
    let limits = PackageLimits::default()
        .with_max_total_bytes(8 * MIB)
        .with_max_entries(512)
        .with_max_wasm_bytes(2 * MIB)
        .with_max_fs_bytes(2 * MIB)
        .with_max_fs_entry_bytes(MIB);
    ReadOptions::default()
        .with_limits(limits)
        .with_temp_prefix("surli_fuzz_".to_owned())
}

fuzz_target!(|data: &[u8]| {
    let options = options();
    let full = Package::from_bytes(data, &options);
    let streamed = read_exports_only(data, &options);
    if let Ok(package) = &full {
        match &streamed {
            Ok(exports) => assert_eq!(
                exports,
                package.exports(),
                "the two readers disagree on exports.toml"
            ),
            Err(error) => {
                panic!("the full reader accepts a package the streaming one refuses: {error}")
            }
        }
        // What `surli info` shows of a package it read.
        let _ = package.config().check_abi();
        let _ = package.wasm_sha256_hex();
        for function in &package.exports().functions {
            let _ = function.signature();
        }
        if let Some(fs) = package.fs_path() {
            assert!(fs.is_dir(), "the attached directory is missing");
        }
    }
    if let Ok(bytes) = PackageBytes::new(data.to_vec(), &options) {
        let read = bytes.read();
        assert_eq!(read.is_ok(), full.is_ok(), "PackageBytes::read is not Package::from_bytes");
        if let Some(record) = read.ok().as_ref().and_then(Package::record) {
            let again = bytes
                .read_recorded(&PackageRecord::from_bytes(&record.to_bytes()).unwrap())
                .expect("a record of these bytes rebuilds them");
            let original = full.as_ref().unwrap();
            assert_eq!(again.config(), original.config());
            assert_eq!(again.exports(), original.exports());
            assert_eq!(again.try_wasm().unwrap(), original.wasm());
        }
    }
    let _ = PackageRecord::from_bytes(data);
});
