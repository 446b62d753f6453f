//! Loads go through the compiled-artifact cache: a component compiles once
//! per runtime, and once per machine with a cache directory.

use std::sync::Arc;

use surli_host::NullContext;
use surli_pool::{ArtifactSource, Runtime, RuntimeOptions};

use crate::support::{int, package};

fn runtime_caching_in(dir: &std::path::Path) -> Runtime {
    Runtime::new(RuntimeOptions::default().with_cache_dir(dir.to_path_buf())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_component_compiles_once_per_runtime() {
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let first = runtime.load(package("demo")).await.unwrap();
    let second = runtime.load(package("demo")).await.unwrap();
    assert_eq!(first.stats().artifact_source, ArtifactSource::Compiled);
    assert_eq!(second.stats().artifact_source, ArtifactSource::Memory);
    let stats = runtime.cache_stats();
    assert_eq!(
        (stats.misses, stats.memory_hits, stats.disk_hits),
        (1, 1, 0)
    );
    // Both modules run, each with its own pool and KV store.
    for module in [&first, &second] {
        let sum = module
            .call(Arc::new(NullContext), Some("add"), vec![int(40), int(2)])
            .await
            .unwrap();
        assert_eq!(sum, int(42));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_loads_compile_once() {
    let runtime = Runtime::new(RuntimeOptions::default()).unwrap();
    let loads = (0..4).map(|_| {
        let runtime = runtime.clone();
        tokio::spawn(async move { runtime.load(package("demo")).await.unwrap() })
    });
    for load in loads {
        load.await.unwrap();
    }
    let stats = runtime.cache_stats();
    assert_eq!((stats.misses, stats.memory_hits), (1, 3), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_runtime_loads_from_the_cache_directory_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let compiled = runtime_caching_in(dir.path())
        .load(package("demo"))
        .await
        .unwrap();
    let written = compiled.stats();
    assert_eq!(written.artifact_source, ArtifactSource::Compiled);
    assert!(written.artifact_bytes > 0);

    // A new runtime has new engines: as far as the cache is concerned, a
    // new process.
    let runtime = runtime_caching_in(dir.path());
    let module = runtime.load(package("demo")).await.unwrap();
    let read = module.stats();
    assert_eq!(read.artifact_source, ArtifactSource::Disk);
    assert_eq!(read.artifact_bytes, written.artifact_bytes);
    assert_eq!(runtime.cache_stats().bytes_read, written.artifact_bytes);
    let fib = module
        .call(Arc::new(NullContext), Some("fib"), vec![int(90)])
        .await
        .unwrap();
    assert_eq!(fib, int(2_880_067_194_370_816_120));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_cache_file_is_replaced_and_the_module_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    runtime_caching_in(dir.path())
        .load(package("demo"))
        .await
        .unwrap();
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&file, bytes).unwrap();

    let runtime = runtime_caching_in(dir.path());
    let module = runtime.load(package("demo")).await.unwrap();
    assert_eq!(module.stats().artifact_source, ArtifactSource::Compiled);
    assert_eq!(runtime.cache_stats().rejected_files, 1);
    let sum = module
        .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
        .await
        .unwrap();
    assert_eq!(sum, int(3));
}
