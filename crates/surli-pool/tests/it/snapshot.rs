//! Instances started from a snapshot taken after `init`
//! (`ModuleOptions::snapshot_init`): they answer as instances that ran
//! `init`, `init` never runs again, and an `init` whose effects a snapshot
//! cannot hold is refused one with the reason.

use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_host::{InitEffect, NullContext, SnapshotError};
use surli_pool::{
    ArtifactSource, Isolation, LoadError, Module, ModuleOptions, Runtime, RuntimeOptions,
};

use crate::support::{int, package, runtime, runtime_with};

async fn load_snapshot(name: &str) -> Result<Module, LoadError> {
    runtime()
        .load_with(
            package(name),
            ModuleOptions::default().with_snapshot_init(true),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_of_kinds_answers_every_round_trip() {
    let module = load_snapshot("kinds").await.unwrap();
    crate::kinds::round_trips(&module).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_starts_where_init_left_off_without_running_it() {
    let module = runtime()
        .load_with(
            package("hostcalls"),
            ModuleOptions::default()
                .with_snapshot_init(true)
                .with_isolation(Isolation::FreshPerCall),
        )
        .await
        .unwrap();
    let ctx = Arc::new(NullContext);
    for _ in 0..3 {
        let value = module
            .call(ctx.clone(), Some("init_value"), vec![])
            .await
            .unwrap();
        // `init` adds 42: 0 is an instance it never reached, 84 one it ran
        // in again.
        assert_eq!(value, int(42), "the instance did not start as init left it");
    }
    let stats = module.stats();
    assert!(stats.instances_created >= 3, "{stats:?}");

    // An instance nobody ran `init` in: from the snapshot it already holds
    // init's state; without one it starts at 0.
    let init_value_uninitialised = async |module: &Module| {
        let mut lease = module
            .lease_uninitialised(Arc::new(NullContext))
            .await
            .unwrap();
        lease.call(Some("init_value"), vec![]).await.unwrap()
    };
    assert_eq!(init_value_uninitialised(&module).await, int(42));
    let plain = runtime().load(package("hostcalls")).await.unwrap();
    assert_eq!(init_value_uninitialised(&plain).await, int(0));
}

#[test]
fn a_blocking_load_makes_a_snapshot_too() {
    let runtime = runtime();
    let module = runtime
        .load_blocking(
            package("hostcalls"),
            ModuleOptions::default().with_snapshot_init(true),
        )
        .unwrap();
    assert_eq!(module.stats().artifact_source, ArtifactSource::Compiled);
    match runtime.load_blocking(
        package("initkv"),
        ModuleOptions::default().with_snapshot_init(true),
    ) {
        Err(LoadError::Snapshot {
            error: SnapshotError::Effect { effect, .. },
            ..
        }) => assert_eq!(effect, InitEffect::Kv),
        other => panic!("expected a refused snapshot, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_fails_is_refused_a_snapshot() {
    match load_snapshot("badinit").await {
        Err(LoadError::Snapshot {
            error: SnapshotError::InitFailed { message },
            ..
        }) => assert!(
            message.contains("refusing to start on purpose"),
            "{message}"
        ),
        other => panic!("expected the init's failure, got {other:?}"),
    }
}

fn refused(outcome: Result<Module, LoadError>) -> (InitEffect, String, String) {
    match outcome {
        Err(error @ LoadError::Snapshot { .. }) => {
            let text = error.to_string();
            let LoadError::Snapshot {
                error: SnapshotError::Effect { effect, import },
                ..
            } = error
            else {
                panic!("expected a refused effect, got {text}");
            };
            (effect, import, text)
        }
        other => panic!("expected a refused snapshot, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_calls_sql_is_refused_a_snapshot() {
    let (effect, import, text) = refused(load_snapshot("initsql").await);
    assert_eq!(effect, InitEffect::HostFunction);
    assert!(import.starts_with("surrealism:plugin/host"), "{import}");
    assert!(import.ends_with("#sql"), "{import}");
    assert!(text.contains("fixtures/initsql@0.1.0"), "{text}");
    assert!(text.contains("calls a host function"), "{text}");
    assert!(text.contains("load it without one"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_writes_kv_is_refused_a_snapshot() {
    let (effect, import, text) = refused(load_snapshot("initkv").await);
    assert_eq!(effect, InitEffect::Kv);
    assert!(import.ends_with("#kv-set"), "{import}");
    assert!(text.contains("uses the KV store"), "{text}");

    // Without a snapshot the same module runs, and `init`'s write lands.
    let module = runtime().load(package("initkv")).await.unwrap();
    let answer = module
        .call(Arc::new(NullContext), Some("initialised"), vec![])
        .await
        .unwrap();
    assert_eq!(answer, surrealdb_types::Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_reads_a_clock_is_refused_a_snapshot() {
    let (effect, import, text) = refused(load_snapshot("initclock").await);
    assert_eq!(effect, InitEffect::Clock);
    assert!(import.starts_with("wasi:clocks/wall-clock"), "{import}");
    assert!(text.contains("reads a clock"), "{text}");
    assert!(text.contains("frozen into every instance"), "{text}");

    let module = runtime().load(package("initclock")).await.unwrap();
    let answer = module
        .call(Arc::new(NullContext), Some("started"), vec![])
        .await
        .unwrap();
    assert_eq!(answer, surrealdb_types::Value::Bool(true));
}

#[test]
fn an_init_that_never_returns_is_stopped_at_the_time_limit() {
    // A runtime of the test's own, let go of in the background at the end:
    // if the limit failed, the snapshot's thread would spin forever, and a
    // `#[tokio::test]` runtime would wait for it instead of failing.
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcome = executor.block_on(async {
        let runtime = runtime_with(
            ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(100))),
        );
        let load = runtime.load_with(
            package("initloop"),
            ModuleOptions::default().with_snapshot_init(true),
        );
        tokio::time::timeout(Duration::from_secs(60), load).await
    });
    executor.shutdown_background();
    match outcome.expect("the snapshot's init was never stopped") {
        Err(LoadError::Snapshot {
            error: SnapshotError::OutOfTime,
            ..
        }) => {}
        other => panic!("expected init to run out of time, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_cached_apart_from_the_plain_component() {
    let dir = tempfile::tempdir().unwrap();
    let caching = || {
        Runtime::new(RuntimeOptions::default().with_cache_dir(dir.path().to_path_buf())).unwrap()
    };
    let snapshot = || ModuleOptions::default().with_snapshot_init(true);
    let first = caching();
    let made = first
        .load_with(package("hostcalls"), snapshot())
        .await
        .unwrap();
    assert_eq!(made.stats().artifact_source, ArtifactSource::Compiled);
    // The plain component is another artifact: never the snapshot's code.
    let plain = first.load(package("hostcalls")).await.unwrap();
    assert_eq!(plain.stats().artifact_source, ArtifactSource::Compiled);
    let again = first
        .load_with(package("hostcalls"), snapshot())
        .await
        .unwrap();
    assert_eq!(again.stats().artifact_source, ArtifactSource::Memory);

    // A restarted process finds the snapshot on disk, and its instances
    // still start as `init` left them.
    let restarted = caching()
        .load_with(
            package("hostcalls"),
            snapshot().with_isolation(Isolation::FreshPerCall),
        )
        .await
        .unwrap();
    assert_eq!(restarted.stats().artifact_source, ArtifactSource::Disk);

    // Under a tighter time limit `init` has not been shown to fit: that
    // process makes its own snapshot rather than trusting this one.
    let tighter = Runtime::new(
        RuntimeOptions::default()
            .with_cache_dir(dir.path().to_path_buf())
            .with_server(
                ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(500))),
            ),
    )
    .unwrap()
    .load_with(package("hostcalls"), snapshot())
    .await
    .unwrap();
    assert_eq!(tighter.stats().artifact_source, ArtifactSource::Compiled);
    let value = restarted
        .call(Arc::new(NullContext), Some("init_value"), vec![])
        .await
        .unwrap();
    assert_eq!(value, int(42));
}
