//! Records: the same bytes read again without decompressing them, and
//! never a record applied where it does not belong.

use surli_package::{
    Package, PackageBytes, PackageError, PackageLimits, PackageRecord, ReadOptions,
};

use crate::support::{BASELINE, RawTar};

fn baseline() -> PackageBytes {
    let bytes = std::fs::read(BASELINE).unwrap();
    PackageBytes::new(bytes, &ReadOptions::default()).unwrap()
}

fn stale(error: PackageError) -> String {
    match error {
        PackageError::StaleRecord { reason } => reason,
        other => panic!("expected StaleRecord, got {other:?}"),
    }
}

#[test]
fn a_recorded_read_is_the_full_read_without_the_decompression() {
    let bytes = baseline();
    let full = bytes.read().unwrap();
    let record = full
        .record()
        .expect("a package read through PackageBytes has a record");
    assert_eq!(record.key(), bytes.key());
    // The record survives being written out.
    let record = PackageRecord::from_bytes(&record.to_bytes()).unwrap();

    let again = bytes.read_recorded(&record).unwrap();
    assert_eq!(again.config(), full.config());
    assert_eq!(again.config_warnings(), full.config_warnings());
    assert_eq!(again.exports(), full.exports());
    assert_eq!(again.logo(), full.logo());
    assert_eq!(again.wasm_sha256(), full.wasm_sha256());
    assert_eq!(again.package_sha256(), full.package_sha256());
    assert!(again.warnings().is_empty());
    assert!(again.fs().is_none());

    // The component waits until something asks for it, and is then the
    // same bytes.
    let component = again.component_bytes();
    assert!(!component.is_ready());
    assert_eq!(component.len(), full.wasm().len() as u64);
    assert_eq!(again.try_wasm().unwrap(), full.wasm());
    assert!(component.is_ready(), "clones share the decompressed bytes");
    // A rebuilt package gives a record of its own, equal to the first.
    assert_eq!(again.record().unwrap(), record);
}

#[test]
fn a_record_of_other_bytes_or_other_options_is_refused() {
    let bytes = baseline();
    let record = bytes.read().unwrap().record().unwrap();

    let other = PackageBytes::new(RawTar::valid().package(), &ReadOptions::default()).unwrap();
    let reason = stale(other.read_recorded(&record).unwrap_err());
    assert!(reason.contains("other bytes"), "{reason}");

    // The same bytes under other caps, or strict about the configuration,
    // are another key: what a read accepts depends on them.
    let capped = ReadOptions::default().with_limits(PackageLimits::default().with_max_entries(64));
    let strict = ReadOptions::default().with_strict_config(true);
    for options in [capped, strict] {
        let same = PackageBytes::new(bytes.bytes().to_vec(), &options).unwrap();
        assert_ne!(same.key(), bytes.key());
        stale(same.read_recorded(&record).unwrap_err());
    }
}

#[test]
fn a_forged_record_fails_when_the_component_is_read() {
    let bytes = baseline();
    let record = bytes.read().unwrap().record().unwrap().to_bytes();
    // The component's SHA-256 follows the magic, the version and the key.
    let at = 8 + 4 + 32;
    let mut forged = record.clone();
    forged[at] ^= 1;
    let forged = PackageRecord::from_bytes(&forged).unwrap();

    let package = bytes.read_recorded(&forged).unwrap();
    let reason = stale(package.try_wasm().unwrap_err());
    assert!(reason.contains("SHA-256"), "{reason}");
    // The infallible accessor gives nothing rather than wrong bytes.
    assert!(package.wasm().is_empty());
    stale(package.into_parts().unwrap_err());

    // A record claiming another length is caught the same way.
    let mut longer = record;
    let len_at = at + 32;
    longer[len_at] ^= 1;
    let longer = PackageRecord::from_bytes(&longer).unwrap();
    let reason = stale(
        bytes
            .read_recorded(&longer)
            .unwrap()
            .try_wasm()
            .unwrap_err(),
    );
    assert!(reason.contains("the record says"), "{reason}");
}

#[test]
fn damaged_record_bytes_are_refused() {
    let record = baseline().read().unwrap().record().unwrap().to_bytes();
    for cut in [0, 7, 12, 60, record.len() - 1] {
        let reason = stale(PackageRecord::from_bytes(&record[..cut]).unwrap_err());
        assert!(
            reason.contains("cut short") || reason.contains("magic"),
            "{cut}: {reason}"
        );
    }
    let mut longer = record.clone();
    longer.push(0);
    assert!(stale(PackageRecord::from_bytes(&longer).unwrap_err()).contains("follow"));
    let mut version = record.clone();
    version[8] = 9;
    assert!(stale(PackageRecord::from_bytes(&version).unwrap_err()).contains("version 9"));
    let mut magic = record;
    magic[0] = b'X';
    assert!(stale(PackageRecord::from_bytes(&magic).unwrap_err()).contains("magic"));
}

#[test]
fn packages_that_must_be_read_in_full_have_no_record() {
    let base = tempfile::tempdir().unwrap();
    let options = ReadOptions::default().with_temp_base(base.path());
    // An attached directory is extracted by every read.
    let with_fs = RawTar::valid().file("surrealism/fs/a.txt", b"a").package();
    let mut package = PackageBytes::new(with_fs, &options)
        .unwrap()
        .read()
        .unwrap();
    assert!(package.fs().is_some());
    assert!(package.record().is_none());
    // Nor does it keep its compressed bytes to let go of its component.
    assert!(!package.shed_component());
    // Warnings belong to the read that finds them.
    let skipped = RawTar::valid().file("junk.txt", b"x").package();
    let package = PackageBytes::new(skipped, &options)
        .unwrap()
        .read()
        .unwrap();
    assert!(!package.warnings().is_empty());
    assert!(package.record().is_none());
    // Without PackageBytes there is no key to record under.
    let plain = Package::from_bytes(&RawTar::valid().package(), &options).unwrap();
    assert!(plain.record().is_none());
    let keyed = PackageBytes::new(RawTar::valid().package(), &options).unwrap();
    assert!(keyed.read().unwrap().record().is_some());
}

#[test]
fn a_package_read_through_its_bytes_can_let_go_of_its_component() {
    let bytes = baseline();
    let mut package = bytes.read().unwrap();
    let component = package.wasm().to_vec();
    assert!(package.shed_component());
    assert!(!package.component_bytes().is_ready());
    // Nothing to let go of while it stays compressed; once read again, it
    // can be let go of again.
    assert!(!package.shed_component());
    assert_eq!(package.try_wasm().unwrap(), &component[..]);
    assert!(package.component_bytes().is_ready());
    assert!(package.shed_component());
    assert!(!package.component_bytes().is_ready());
    assert_eq!(package.try_wasm().unwrap(), &component[..]);
    // Without the compressed bytes there is nothing to read it again from.
    let mut plain = Package::from_bytes(bytes.bytes(), &ReadOptions::default()).unwrap();
    assert!(!plain.shed_component());
    assert!(plain.component_bytes().is_ready());
}

#[test]
fn the_size_cap_holds_before_any_digest() {
    let options =
        ReadOptions::default().with_limits(PackageLimits::default().with_max_package_bytes(100));
    let error = PackageBytes::new(vec![0u8; 101], &options).unwrap_err();
    assert!(
        matches!(
            error,
            PackageError::PackageTooLarge {
                size: 101,
                limit: 100
            }
        ),
        "{error:?}"
    );
}
