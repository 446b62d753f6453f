//! Loading what is not a proper module, `init`, and guests stuck outside
//! their own code.

use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_host::{CallInfo, ContextError, InvocationContext, NullContext};
use surli_package::{PackageError, ReadOptions};
use surli_pool::{CallError, CallPhase, LoadError, TimeoutLimit, TimeoutWatch};
use surrealdb_types::{Object, Value};

use crate::support::{fixture_path, int, load, package, runtime, runtime_with, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_without_invoke_is_refused_at_load() {
    match runtime().load(package("no-invoke")).await {
        Err(LoadError::Host { module, error }) => {
            assert_eq!(module, "fixtures/no-invoke@0.1.0");
            assert!(error.to_string().contains("invoke"), "{error}");
        }
        other => panic!("expected a missing-export error, got {other:?}"),
    }
}

#[test]
fn a_core_module_is_refused_before_the_engine_sees_it() {
    let read =
        surli_package::Package::read_file(fixture_path("core-module"), &ReadOptions::default());
    assert!(
        matches!(read, Err(PackageError::NotAComponent { .. })),
        "{read:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_results_are_a_codec_error_and_the_instance_stays() {
    let module = load("malformed").await;
    let ctx = Arc::new(NullContext);
    let mut codec_errors = 0;
    for function in module.functions().iter().map(|f| f.name.clone()) {
        match module.call(ctx.clone(), function.as_deref(), vec![]).await {
            Err(error @ CallError::Codec(_)) => {
                assert!(!error.is_instance_fatal());
                codec_errors += 1;
            }
            Err(CallError::Guest { .. }) | Ok(_) => {}
            Err(other) => panic!("{function:?}: unexpected {other:?}"),
        }
    }
    assert!(codec_errors > 0, "no malformed answer was seen");
    assert_eq!(module.stats().codec_errors, codec_errors);
    assert_eq!(module.stats().instances_discarded, 1, "only the load probe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_runs_once_per_instance_before_any_call() {
    let module = load("hostcalls").await;
    let ctx = Arc::new(NullContext);
    for _ in 0..3 {
        assert_eq!(
            module
                .call(ctx.clone(), Some("init_value"), vec![])
                .await
                .unwrap(),
            int(42)
        );
    }
    assert_eq!(module.stats().instances_created, 2, "probe + one instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_init_is_typed_counted_and_backs_off() {
    let module = load("badinit").await;
    let ctx = Arc::new(NullContext);
    match module.call(ctx.clone(), Some("ping"), vec![]).await {
        Err(CallError::InitFailed {
            module,
            message,
            remembered,
        }) => {
            assert_eq!(module, "fixtures/badinit@0.1.0");
            assert!(message.contains("refusing to start"), "{message}");
            assert!(!remembered);
        }
        other => panic!("expected an init failure, got {other:?}"),
    }
    // Right after, the failure is remembered instead of instantiating again.
    let created = module.stats().instances_created;
    match module.call(ctx, Some("ping"), vec![]).await {
        Err(CallError::InitFailed { remembered, .. }) => assert!(remembered),
        other => panic!("expected a remembered init failure, got {other:?}"),
    }
    let stats = module.stats();
    assert_eq!(stats.instances_created, created);
    assert_eq!(stats.init_failures, 1);
    assert_eq!(stats.other_errors, 2);
    assert_eq!(module.idle_instances(), 0);
}

/// A context whose `sql` never answers in time: the guest is blocked in a
/// host call, where no epoch check can run.
struct Stuck;

#[async_trait::async_trait]
impl InvocationContext for Stuck {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(Value::None)
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Err("not used".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wall_clock_stops_a_guest_blocked_in_a_host_call() {
    let module = runtime_with(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(100))),
    )
    .load(package("hostcalls"))
    .await
    .unwrap();
    match module
        .call(Arc::new(Stuck), Some("sql"), vec![text("SELECT 1")])
        .await
    {
        Err(CallError::Timeout {
            watch: TimeoutWatch::WallClock,
            source_limit: TimeoutLimit::Server,
            limit,
            phase: CallPhase::Call,
        }) => assert_eq!(limit, Duration::from_millis(100)),
        other => panic!("expected a wall-clock timeout, got {other:?}"),
    }
    assert_eq!(module.idle_instances(), 0, "a stopped instance was pooled");
    assert_eq!(module.stats().checked_out, 0);
}
