//! Package records: the same bytes are not decompressed again, the module
//! is not asked again what it exports, and nothing damaged is believed.

use std::path::Path;
use std::sync::Arc;

use surli_engine::ArtifactCache;
use surli_host::NullContext;
use surli_package::{PackageBytes, ReadOptions};
use surli_pool::{ArtifactSource, Module, ReadStats, Runtime, RuntimeOptions};
use surrealdb_types::{SurrealValue, Value};

use crate::support::fixture_path;

fn demo_bytes() -> Arc<[u8]> {
    std::fs::read(fixture_path("demo")).unwrap().into()
}

fn caching(dir: &Path) -> Runtime {
    Runtime::new(RuntimeOptions::default().with_cache_dir(dir.to_path_buf())).unwrap()
}

async fn add(module: &Module) -> Value {
    module
        .call(
            Arc::new(NullContext),
            Some("add"),
            vec![40i64.into_value(), 2i64.into_value()],
        )
        .await
        .unwrap()
}

fn reads(stats: ReadStats) -> (u64, u64, u64, u64, u64) {
    (
        stats.full_reads,
        stats.memory_hits,
        stats.disk_hits,
        stats.refused,
        stats.descriptions_reused,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_read_again_is_neither_decompressed_nor_probed_again() {
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let options = ReadOptions::default();
    let first = runtime.read_package(demo_bytes(), &options).unwrap();
    assert!(
        first.component_bytes().is_ready(),
        "a first read is a full read"
    );
    let first = runtime.load(first).await.unwrap();
    // The first load asked a probe instance what the module exports.
    assert_eq!(first.stats().instances_created, 1);
    // Once compiled, the module keeps the compressed package only.
    assert!(!first.package().component_bytes().is_ready());

    let again = runtime.read_package(demo_bytes(), &options).unwrap();
    assert!(!again.component_bytes().is_ready());
    let again = runtime.load(again).await.unwrap();
    assert_eq!(reads(runtime.read_stats()), (1, 1, 0, 0, 1));
    // No probe, and the component was never decompressed: the compiled
    // code came from the memory cache.
    assert_eq!(again.stats().instances_created, 0);
    assert_eq!(again.stats().artifact_source, ArtifactSource::Memory);
    assert!(!again.package().component_bytes().is_ready());
    assert!(again.is_described());
    assert_eq!(again.functions(), first.functions());
    assert_eq!(add(&again).await, 42i64.into_value());
    // The bytes were the one thing that could not be skipped.
    assert_eq!(
        again.package().package_sha256(),
        first.package().package_sha256()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_runtime_finds_records_and_descriptions_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReadOptions::default();
    let before = caching(dir.path());
    let loaded = before
        .load(before.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    let functions = loaded.functions().to_vec();
    drop((loaded, before));

    let after = caching(dir.path());
    let package = after.read_package(demo_bytes(), &options).unwrap();
    let module = after.load(package).await.unwrap();
    assert_eq!(reads(after.read_stats()), (0, 0, 1, 0, 1));
    assert_eq!(module.stats().artifact_source, ArtifactSource::Disk);
    assert_eq!(module.stats().instances_created, 0);
    assert!(!module.package().component_bytes().is_ready());
    assert_eq!(module.functions(), functions);
    assert_eq!(add(&module).await, 42i64.into_value());
    let notes = after.cache_stats().notes_read;
    assert_eq!(notes, 2, "the package record and the module's description");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_package_still_compiles_when_its_artifact_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReadOptions::default();
    let before = caching(dir.path());
    before
        .load(before.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    let mut removed = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "cwasm") {
            std::fs::remove_file(path).unwrap();
            removed += 1;
        }
    }
    assert_eq!(removed, 1);

    let after = caching(dir.path());
    let package = after.read_package(demo_bytes(), &options).unwrap();
    assert!(!package.component_bytes().is_ready());
    let module = after.load(package).await.unwrap();
    // Compiling needed the component: decompressed then, checked against
    // the SHA-256 the record holds, and let go of again once compiled.
    assert_eq!(module.stats().artifact_source, ArtifactSource::Compiled);
    assert!(!module.package().component_bytes().is_ready());
    assert_eq!(add(&module).await, 42i64.into_value());
    assert_eq!(
        module.package().try_wasm().unwrap(),
        crate::support::package("demo").wasm()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_notes_are_refused_and_the_package_read_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReadOptions::default();
    let key = PackageBytes::new(demo_bytes(), &options).unwrap().key_hex();
    let first = caching(dir.path());
    let expected = first
        .load(first.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap()
        .functions()
        .to_vec();
    // Whole files (their trailers check out) whose contents are not what
    // surli wrote there.
    let notes = ArtifactCache::with_dir(dir.path());
    assert!(notes.write_note(&format!("package-{key}"), b"not a record"));
    let mut descriptions = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name
            .strip_suffix(".note")
            .filter(|n| n.starts_with("described-"))
        {
            assert!(notes.write_note(stem, b"SURLI-DS\x01\0\0\0\x01[garbage"));
            descriptions += 1;
        }
    }
    assert_eq!(descriptions, 1);

    let runtime = caching(dir.path());
    let package = runtime.read_package(demo_bytes(), &options).unwrap();
    assert!(package.component_bytes().is_ready(), "read in full");
    let module = runtime.load(package).await.unwrap();
    assert_eq!(reads(runtime.read_stats()), (1, 0, 0, 2, 0));
    // The module was asked again, and answered as before.
    assert_eq!(module.stats().instances_created, 1);
    assert_eq!(module.functions(), expected);
    assert_eq!(add(&module).await, 42i64.into_value());

    // The full read wrote good notes over the damaged ones.
    let healed = caching(dir.path());
    let module = healed
        .load(healed.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    assert_eq!(reads(healed.read_stats()), (0, 0, 1, 0, 1));
    assert_eq!(module.functions(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_read_options_are_another_record() {
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    runtime
        .read_package(demo_bytes(), &ReadOptions::default())
        .unwrap();
    let strict = ReadOptions::default().with_strict_config(true);
    let package = runtime.read_package(demo_bytes(), &strict).unwrap();
    assert!(package.component_bytes().is_ready());
    assert_eq!(reads(runtime.read_stats()), (2, 0, 0, 0, 0));
}

/// A limit that leaves the engine's allocation as it is, so only the
/// merged limits tell the conditions apart.
fn tighter_limits() -> surli_config::ServerLimits {
    surli_config::ServerLimits::default()
        .with_max_execution_time(Some(std::time::Duration::from_millis(500)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_is_reused_only_under_the_same_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReadOptions::default();
    let first = caching(dir.path());
    first
        .load(first.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    // Another process sharing the cache directory, with a shorter time
    // limit: whether the module instantiates there (and within that
    // limit) was never asked, so it is asked.
    let tighter = Runtime::new(
        RuntimeOptions::default()
            .with_cache_dir(dir.path().to_path_buf())
            .with_server(tighter_limits()),
    )
    .unwrap();
    let module = tighter
        .load(tighter.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    assert_eq!(reads(tighter.read_stats()), (0, 0, 1, 0, 0));
    assert_eq!(module.stats().instances_created, 1);
    // The same conditions again: the answer is reused.
    let again = Runtime::new(
        RuntimeOptions::default()
            .with_cache_dir(dir.path().to_path_buf())
            .with_server(tighter_limits()),
    )
    .unwrap();
    let module = again
        .load(again.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    assert_eq!(reads(again.read_stats()), (0, 0, 1, 0, 1));
    assert_eq!(module.stats().instances_created, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_naming_another_component_fails_its_load_and_is_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let options = ReadOptions::default();
    let first = caching(dir.path());
    first
        .load(first.read_package(demo_bytes(), &options).unwrap())
        .await
        .unwrap();
    // A whole note whose record names another component (its SHA-256 is
    // the 32 bytes after the magic, the version and the key), and no
    // artifact, so the load must read the component.
    let name = format!(
        "package-{}",
        PackageBytes::new(demo_bytes(), &options).unwrap().key_hex()
    );
    let notes = ArtifactCache::with_dir(dir.path());
    let mut record = notes.read_note(&name).unwrap();
    record[8 + 4 + 32] ^= 1;
    assert!(notes.write_note(&name, &record));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "cwasm") {
            std::fs::remove_file(path).unwrap();
        }
    }

    let runtime = caching(dir.path());
    let package = runtime.read_package(demo_bytes(), &options).unwrap();
    let error = runtime.load(package).await.unwrap_err();
    assert!(
        matches!(
            &error,
            surli_pool::LoadError::Package(surli_package::PackageError::StaleRecord { .. })
        ),
        "{error:?}"
    );
    // Forgotten in memory and on disk: the next read is a full one, and
    // the load works.
    assert!(notes.read_note(&name).is_none_or(|note| note != record));
    let package = runtime.read_package(demo_bytes(), &options).unwrap();
    assert!(package.component_bytes().is_ready());
    let module = runtime.load(package).await.unwrap();
    assert_eq!(add(&module).await, 42i64.into_value());
    let stats = runtime.read_stats();
    assert_eq!(
        (stats.disk_hits, stats.full_reads, stats.refused),
        (1, 1, 1)
    );
}
