//! Time limits, counted in ticks rather than measured on a clock.

use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_host::{CallInfo, ContextError, InvocationContext, NullContext};
use surli_pool::{CallError, TimeoutLimit, TimeoutWatch};
use surrealdb_types::{Object, Value};

use crate::support::{manual_runtime, package_with};

/// Tells the test when the guest has printed, so it knows the guest is
/// running and its deadline armed.
struct Hello(tokio::sync::Notify);

#[async_trait::async_trait]
impl InvocationContext for Hello {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        Err("no database here".into())
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Err("no database here".into())
    }

    fn stdout(&self, _call: &CallInfo, _line: &str) {
        self.0.notify_one();
    }
}

/// With a 10 s limit and 10 ms ticks the deadline is 1001 ticks away: the
/// guest must survive 1000 ticks and be stopped by the 1001st. The runtime
/// has no ticker of its own; every tick is the test's, counted from the
/// moment the guest says it is running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_never_fires_before_its_limit_and_fires_one_tick_after() {
    let runtime = manual_runtime(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_secs(10))),
    );
    // The fixture sets a 1 s limit of its own; only the server's counts here.
    let hostile = package_with("hostile", |config| {
        config.capabilities.max_execution_time = None
    });
    let module = runtime.load(hostile).await.unwrap();
    let engine = runtime.clone();
    let hello = Arc::new(Hello(tokio::sync::Notify::new()));
    let spinning = {
        let module = module.clone();
        let ctx = Arc::clone(&hello);
        tokio::spawn(async move { module.call(ctx, Some("spin_after_hello"), vec![]).await })
    };
    hello.0.notified().await;
    for _ in 0..1000 {
        engine.tick_epoch();
    }
    // Give the guest every chance to notice a deadline that has passed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let early = spinning.is_finished();
    engine.tick_epoch();
    let outcome = tokio::time::timeout(Duration::from_secs(30), spinning).await;
    if outcome.is_err() {
        // Stop the guest anyway, so that a failure cannot leave it spinning
        // on a worker and hang the test binary.
        for _ in 0..2000 {
            engine.tick_epoch();
        }
    }
    assert!(!early, "the call was stopped before its limit");
    let outcome = outcome
        .expect("the call was not stopped one tick after its limit")
        .unwrap();
    match outcome {
        Err(CallError::Timeout {
            watch: TimeoutWatch::Epoch,
            source_limit: TimeoutLimit::Server,
            limit,
            ..
        }) => assert_eq!(limit, Duration::from_secs(10)),
        other => panic!("expected an epoch timeout, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_cannot_widen_the_servers_limits() {
    let runtime = manual_runtime(
        ServerLimits::default()
            .with_max_execution_time(Some(Duration::from_secs(1)))
            .with_max_memory_bytes(Some(16 << 20)),
    );
    let greedy = package_with("hostile", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_secs(3600));
        config.capabilities.max_memory_bytes = Some(1 << 30);
        config.capabilities.strict_timeout = false;
    });
    let module = runtime.load(greedy).await.unwrap();
    let limits = module.limits();
    assert_eq!(
        limits.max_execution_time.unwrap().value,
        Duration::from_secs(1)
    );
    assert_eq!(limits.max_memory_bytes.unwrap().value, 16 << 20);
    assert!(
        limits.strict_timeout,
        "strict_timeout = false without the server's consent"
    );
    assert!(
        module
            .warnings()
            .iter()
            .any(|w| w.contains("strict_timeout")),
        "{:?}",
        module.warnings()
    );
    assert!(matches!(
        module
            .call(
                Arc::new(NullContext),
                Some("alloc"),
                vec![crate::support::int(32)]
            )
            .await,
        Err(CallError::OutOfMemory { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stricter_module_limit_is_the_one_named() {
    let runtime = crate::support::runtime_with(ServerLimits::default());
    let strict = package_with("hostile", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_millis(30));
    });
    let module = runtime.load(strict).await.unwrap();
    match module
        .call(Arc::new(NullContext), Some("spin"), vec![])
        .await
    {
        Err(CallError::Timeout {
            source_limit: TimeoutLimit::Module,
            limit,
            ..
        }) => assert_eq!(limit, Duration::from_millis(30)),
        other => panic!("expected the module's timeout, got {other:?}"),
    }
}
