//! The module registry: single-flight loads, eviction by count and by
//! bytes, replace and remove while calls run, idle trimming, and the
//! counters kept across versions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use surli_host::NullContext;
use surli_package::Package;
use surli_pool::{
    LoadError, Module, ModuleOptions, Registry, RegistryOptions, Runtime, RuntimeOptions,
};
use surrealdb_types::Value;

use crate::support::{int, package, package_with, runtime, text};

type Source = Result<(Package, ModuleOptions), LoadError>;

fn source(name: &str) -> impl Future<Output = Source> + use<> {
    let package = package(name);
    async move { Ok((package, ModuleOptions::default())) }
}

fn registry(options: RegistryOptions) -> Registry<String> {
    Registry::new(runtime(), options)
}

async fn call(module: &Module, function: &str, args: Vec<Value>) -> Value {
    module
        .call(Arc::new(NullContext), Some(function), args)
        .await
        .unwrap()
}

async fn add(module: &Module) -> Value {
    call(module, "add", vec![int(1), int(2)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_first_requests_load_once() {
    let registry = registry(RegistryOptions::default());
    let sources = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let registry = registry.clone();
            let sources = Arc::clone(&sources);
            tokio::spawn(async move {
                let key = "demo".to_owned();
                registry
                    .get_or_load(&key, || {
                        sources.fetch_add(1, Ordering::SeqCst);
                        source("demo")
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut modules = Vec::new();
    for task in tasks {
        modules.push(task.await.unwrap());
    }
    assert_eq!(sources.load(Ordering::SeqCst), 1);
    assert_eq!(registry.runtime().cache_stats().misses, 1, "one compile");
    assert!(modules.iter().all(|m| m.is_same(&modules[0])));
    let stats = registry.stats();
    assert_eq!((stats.loads, stats.hits, stats.modules), (1, 99, 1));
    assert_eq!(add(&modules[0]).await, int(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_load_leaves_the_key_to_the_next_request() {
    let registry = registry(RegistryOptions::default());
    let key = "demo".to_owned();
    let failed = registry
        .get_or_load(&key, || async {
            Err::<(Package, ModuleOptions), _>(LoadError::Task {
                module: "demo".to_owned(),
                message: "the package store is down".to_owned(),
            })
        })
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("the package store is down"));
    assert_eq!(registry.stats().modules, 0);
    let module = registry.get_or_load(&key, || source("demo")).await.unwrap();
    assert_eq!(add(&module).await, int(3));
    assert!(registry.get(&key).unwrap().is_same(&module));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_count_bound_evicts_and_drains_the_module_that_leaves() {
    let registry = registry(
        RegistryOptions::default()
            .with_max_modules(2)
            .with_max_bytes(None),
    );
    let mut held = Vec::new();
    for key in ["a", "b", "c"] {
        let module = registry
            .get_or_load(&key.to_owned(), || source("demo"))
            .await
            .unwrap();
        assert_eq!(add(&module).await, int(3));
        held.push(module);
    }
    let stats = registry.stats();
    assert_eq!((stats.modules, stats.evictions), (2, 1));
    assert_eq!(registry.keys().len(), 2);
    // The module just loaded is kept: room is made for it.
    assert!(registry.get(&"c".to_owned()).unwrap().is_same(&held[2]));
    let evicted: Vec<&Module> = held
        .iter()
        .filter(|m| {
            !registry
                .keys()
                .iter()
                .any(|k| registry.get(k).unwrap().is_same(m))
        })
        .collect();
    assert_eq!(evicted.len(), 1);
    let evicted = evicted[0];
    // Drained: its idle instance went when it left, and a call through a
    // handle held from before still works but keeps no instance.
    assert_eq!(evicted.idle_instances(), 0);
    assert_eq!(add(evicted).await, int(3));
    assert_eq!(evicted.idle_instances(), 0);
    let stats = evicted.stats();
    assert_eq!(
        stats.instances_created,
        stats.instances_discarded + stats.instances_retired
    );
    // The modules kept still pool their instances.
    for key in registry.keys() {
        assert_eq!(registry.get(&key).unwrap().idle_instances(), 1);
    }
}

/// The code bytes of three distinct components, measured on a runtime of
/// their own.
async fn code_bytes(names: [&str; 3]) -> [u64; 3] {
    let runtime = runtime();
    let mut bytes = [0; 3];
    for (slot, name) in bytes.iter_mut().zip(names) {
        *slot = runtime
            .load(package(name))
            .await
            .unwrap()
            .memory()
            .code_bytes;
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_bound_evicts_when_modules_are_loaded_and_when_they_grow() {
    let names = ["demo", "kinds", "hostcalls"];
    let code = code_bytes(names).await;
    let all: u64 = code.iter().sum();
    // Room for any two, never all three.
    let registry = registry(
        RegistryOptions::default()
            .with_max_modules(100)
            .with_max_bytes(Some(all - 1)),
    );
    for name in names {
        registry
            .get_or_load(&name.to_owned(), || source(name))
            .await
            .unwrap();
        assert!(registry.stats().weight < all);
    }
    let stats = registry.stats();
    assert_eq!((stats.modules, stats.evictions), (2, 1));
    assert!(
        registry.get(&"hostcalls".to_owned()).is_some(),
        "the newest is kept"
    );

    // Exactly room for demo and kinds: once demo keeps an instance (a
    // megabyte of linear memory at least), the next weighing evicts one.
    let registry = registry_fitting(code[0] + code[1]);
    let demo = registry
        .get_or_load(&"demo".to_owned(), || source("demo"))
        .await
        .unwrap();
    registry
        .get_or_load(&"kinds".to_owned(), || source("kinds"))
        .await
        .unwrap();
    assert_eq!(registry.stats().modules, 2);
    assert_eq!(add(&demo).await, int(3));
    assert!(demo.memory().idle_instance_bytes > 0);
    assert_eq!(
        registry.stats().modules,
        2,
        "weights change only when weighed"
    );
    registry.maintain();
    let stats = registry.stats();
    assert_eq!((stats.modules, stats.evictions), (1, 1));
    assert!(stats.weight <= stats.capacity);
}

/// A registry of up to 100 modules holding at least `bytes` (the capacity
/// is a multiple of the module count).
fn registry_fitting(bytes: u64) -> Registry<String> {
    registry(
        RegistryOptions::default()
            .with_max_modules(100)
            .with_max_bytes(Some(bytes.div_ceil(100) * 100)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_heavier_than_the_whole_bound_is_served_but_not_kept() {
    let registry = registry(
        RegistryOptions::default()
            .with_max_modules(1)
            .with_max_bytes(Some(4096)),
    );
    let module = registry
        .get_or_load(&"demo".to_owned(), || source("demo"))
        .await
        .unwrap();
    let stats = registry.stats();
    assert_eq!((stats.modules, stats.too_heavy), (0, 1));
    // Not drained: its caller's calls still pool their instance.
    assert_eq!(add(&module).await, int(3));
    assert_eq!(module.idle_instances(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replace_under_a_storm_of_calls_fails_none_and_drains_the_old_module() {
    const TASKS: usize = 16;
    /// Calls each side of the replace, at least.
    const CALLS: usize = 500;
    let registry = registry(RegistryOptions::default());
    let key = "m".to_owned();
    let old = registry.get_or_load(&key, || source("demo")).await.unwrap();
    let mut lease = old.lease(Arc::new(NullContext)).await.unwrap();

    // Calls answered by the old module and by the new one.
    let on_old = Arc::new(AtomicUsize::new(0));
    let on_new = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let storm: Vec<_> = (0..TASKS)
        .map(|_| {
            let registry = registry.clone();
            let (on_old, on_new) = (Arc::clone(&on_old), Arc::clone(&on_new));
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let key = "m".to_owned();
                while !stop.load(Ordering::SeqCst) {
                    let module = registry
                        .get_or_load(&key, || source("demo"))
                        .await
                        .map_err(|e| e.to_string())?;
                    let sum = module
                        .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
                        .await
                        .map_err(|e| format!("{}: {e}", module.id()))?;
                    assert_eq!(sum, int(3));
                    let side = if module.id().starts_with("fixtures/demo@") {
                        &on_old
                    } else {
                        &on_new
                    };
                    side.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    let wait_for = |counter: Arc<AtomicUsize>| async move {
        while counter.load(Ordering::SeqCst) < CALLS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    wait_for(Arc::clone(&on_old)).await;
    let replaced = registry
        .replace(key.clone(), package("sdk065"), ModuleOptions::default())
        .await
        .unwrap()
        .expect("the key held a module");
    assert!(replaced.is_same(&old));
    let stats = registry.stats();
    assert_eq!((stats.replaced, stats.evictions, stats.modules), (1, 0, 1));
    wait_for(Arc::clone(&on_new)).await;

    // Calls after the replace reach the new code (demo has no `hello`).
    let new = registry.get(&key).unwrap();
    assert_eq!(
        call(&new, "hello", vec![text("you")]).await,
        text("hello you from surrealism 0.6.5")
    );
    // The lease taken before it still answers with the old code.
    assert_eq!(
        lease
            .call(Some("concat"), vec![text("a"), text("b")])
            .await
            .unwrap(),
        text("ab")
    );
    drop(lease);
    stop.store(true, Ordering::SeqCst);
    for task in storm {
        task.await.unwrap().unwrap();
    }

    // Every instance of the old module is gone: none idle, none out.
    let stats = old.stats();
    assert_eq!(old.idle_instances(), 0);
    assert_eq!(stats.checked_out, 0);
    assert_eq!(
        stats.instances_created,
        stats.instances_discarded + stats.instances_retired
    );
    assert!(stats.calls > 0);
    let versions = registry.versions(&key);
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].id, old.id());
    assert!(!versions[0].current && versions[1].current);
    assert_eq!(versions[0].stats.calls, stats.calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_keeps_its_counters_after_its_module_is_gone() {
    let registry = registry(RegistryOptions::default());
    let key = "m".to_owned();
    let old = registry.get_or_load(&key, || source("demo")).await.unwrap();
    for _ in 0..3 {
        add(&old).await;
    }
    drop(old);
    registry
        .replace(key.clone(), package("sdk065"), ModuleOptions::default())
        .await
        .unwrap();
    let versions = registry.versions(&key);
    assert_eq!(versions.len(), 2);
    assert!(!versions[0].alive, "nothing holds the old module any more");
    assert_eq!((versions[0].stats.calls, versions[0].stats.ok), (3, 3));
    assert!(versions[1].alive && versions[1].current);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kv_store_survives_a_replace_by_the_same_version_only() {
    let registry = registry(RegistryOptions::default());
    let key = "demo".to_owned();
    let bump = |module: Module| async move { call(&module, "counter::bump", vec![int(5)]).await };
    let first = registry.get_or_load(&key, || source("demo")).await.unwrap();
    assert_eq!(bump(first).await, int(5));
    registry
        .replace(key.clone(), package("demo"), ModuleOptions::default())
        .await
        .unwrap();
    assert_eq!(bump(registry.get(&key).unwrap()).await, int(10));
    let next = package_with("demo", |config| {
        config.meta.version = "9.9.9".parse().unwrap()
    });
    registry
        .replace(key.clone(), next, ModuleOptions::default())
        .await
        .unwrap();
    assert_eq!(bump(registry.get(&key).unwrap()).await, int(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_module_is_drained_and_its_key_forgotten() {
    let registry = registry(RegistryOptions::default());
    let key = "demo".to_owned();
    let module = registry.get_or_load(&key, || source("demo")).await.unwrap();
    add(&module).await;
    assert_eq!(module.idle_instances(), 1);
    let removed = registry.remove(&key).unwrap();
    assert!(removed.is_same(&module));
    assert_eq!(module.idle_instances(), 0);
    assert!(registry.get(&key).is_none());
    assert!(registry.versions(&key).is_empty());
    assert!(registry.remove(&key).is_none());
    assert_eq!(add(&module).await, int(3), "a held handle still answers");
    assert_eq!(module.idle_instances(), 0);
    assert_eq!(registry.stats().removed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compiled_code_leaves_the_memory_cache_with_its_last_module() {
    let registry = registry(RegistryOptions::default());
    for key in ["a", "b"] {
        registry
            .get_or_load(&key.to_owned(), || source("demo"))
            .await
            .unwrap();
    }
    let compiles = || registry.runtime().cache_stats().misses;
    assert_eq!(compiles(), 1);
    // Replacing a module by the same component keeps its code in memory.
    registry
        .replace("a".to_owned(), package("demo"), ModuleOptions::default())
        .await
        .unwrap();
    assert_eq!(compiles(), 1);
    assert_eq!(registry.stats().evictions, 0);
    registry.remove(&"a".to_owned());
    // "b" still uses the component: the next load finds it in memory.
    registry
        .get_or_load(&"c".to_owned(), || source("demo"))
        .await
        .unwrap();
    assert_eq!(compiles(), 1);
    registry.remove(&"b".to_owned());
    registry.remove(&"c".to_owned());
    registry
        .get_or_load(&"d".to_owned(), || source("demo"))
        .await
        .unwrap();
    assert_eq!(compiles(), 2, "no module used it, so memory forgot it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trimming_drops_instances_idle_since_the_previous_sweep() {
    let module = runtime().load(package("demo")).await.unwrap();
    add(&module).await;
    assert_eq!(module.idle_instances(), 1);
    assert_eq!(module.trim_idle(), 0, "returned since the last sweep");
    add(&module).await;
    assert_eq!(module.trim_idle(), 0, "used again since");
    assert_eq!(module.trim_idle(), 1);
    assert_eq!(module.idle_instances(), 0);
    assert_eq!(module.stats().instances_retired, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_on_a_schedule_trims_idle_instances() {
    let registry = Registry::new(
        Runtime::new(RuntimeOptions::default()).unwrap(),
        RegistryOptions::default(),
    );
    let module = registry
        .get_or_load(&"demo".to_owned(), || source("demo"))
        .await
        .unwrap();
    add(&module).await;
    let task =
        registry.spawn_maintenance(&tokio::runtime::Handle::current(), Duration::from_millis(5));
    // A wait with a generous bound, not a timing: two rounds must pass.
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while registry.stats().trimmed == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "maintenance never trimmed the idle instance"
    );
    assert_eq!(module.idle_instances(), 0);
    // The task ends once the registry is gone.
    drop(module);
    drop(registry);
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the maintenance task outlived its registry")
        .unwrap();
}
