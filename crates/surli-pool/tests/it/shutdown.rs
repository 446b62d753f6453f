//! `Runtime::shutdown`: no new work, calls in flight finish until the
//! deadline, guests still running are stopped after it, and every lease
//! and instance is accounted for.

use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_host::{CallInfo, ContextError, InvocationContext, NullContext};
use surli_pool::{CallError, LoadError, Module, ModuleStats, Runtime};
use surrealdb_types::{Object, Value};
use tokio::sync::Semaphore;

use crate::support::{int, package, package_with, runtime_with, text};

/// A context whose `sql` answers only once the test lets it.
#[derive(Debug)]
struct Gated(Arc<Semaphore>);

#[async_trait::async_trait]
impl InvocationContext for Gated {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        let _permit = self.0.acquire().await;
        Ok(int(7))
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Ok(Value::None)
    }
}

/// A runtime whose limits never stop these guests before a shutdown does.
fn patient_runtime() -> Runtime {
    runtime_with(
        ServerLimits::default()
            .with_max_execution_time(Some(Duration::from_secs(600)))
            .with_allow_relaxed_timeout(true),
    )
}

/// Waits (bounded) until `module` has `n` leases out.
async fn until_out(module: &Module, n: u64) {
    until(module, n, |stats| stats.checked_out).await;
}

/// Waits (bounded) until `module` has started `n` calls.
async fn until_started(module: &Module, n: u64) {
    until(module, n, |stats| stats.calls).await;
}

async fn until(module: &Module, n: u64, count: impl Fn(&ModuleStats) -> u64) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while count(&module.stats()) < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the calls never started");
}

fn shutting_down<T: std::fmt::Debug>(outcome: Result<T, CallError>) {
    match outcome {
        Err(error @ CallError::ShuttingDown { .. }) => {
            assert_eq!(error.kind(), "shutting_down");
            assert!(error.to_string().contains("shutting down"));
        }
        other => panic!("expected ShuttingDown, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_runtime_shuts_down_at_once_and_takes_no_more_work() {
    let runtime = patient_runtime();
    let module = runtime.load(package("demo")).await.unwrap();
    let add = || module.call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)]);
    assert_eq!(add().await.unwrap(), int(3));
    assert!(!runtime.is_shut_down());

    let report = runtime.shutdown(Duration::from_secs(30)).await;
    assert!(report.finished);
    assert_eq!(
        (report.in_flight, report.interrupted, report.still_out),
        (0, 0, 0)
    );
    assert_eq!(report.instances_alive, 0, "the idle instance was dropped");
    assert!(runtime.is_shut_down());

    shutting_down(add().await);
    shutting_down(module.lease(Arc::new(NullContext)).await);
    assert!(matches!(
        runtime.load(package("demo")).await,
        Err(LoadError::ShuttingDown { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_in_flight_finishes_before_the_deadline() {
    let runtime = patient_runtime();
    let module = runtime.load(package("hostcalls")).await.unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let ctx = Arc::new(Gated(Arc::clone(&gate)));
    let call = tokio::spawn({
        let module = module.clone();
        async move { module.call(ctx, Some("sql"), vec![text("RETURN 7")]).await }
    });
    until_out(&module, 1).await;
    let shutdown = tokio::spawn({
        let runtime = runtime.clone();
        async move { runtime.shutdown(Duration::from_secs(600)).await }
    });
    // New calls are refused while the one in flight still waits.
    while !runtime.is_shut_down() {
        tokio::task::yield_now().await;
    }
    shutting_down(
        module
            .call(Arc::new(NullContext), Some("init_value"), vec![])
            .await,
    );
    gate.add_permits(1);
    assert_eq!(call.await.unwrap().unwrap(), int(7));
    let report = shutdown.await.unwrap();
    assert!(report.finished);
    assert_eq!((report.in_flight, report.interrupted), (1, 0));
    assert_eq!((report.still_out, report.instances_alive), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_still_running_at_the_deadline_are_stopped() {
    let runtime = patient_runtime();
    // Pool of one: the blocked call holds it, the second call queues.
    let blocked = runtime
        .load(package_with("hostcalls", |config| {
            config.capabilities.max_pool_size = Some(1);
        }))
        .await
        .unwrap();
    let spinning = runtime.load(package("hostile")).await.unwrap();
    let never = Arc::new(Gated(Arc::new(Semaphore::new(0))));

    let in_host = tokio::spawn({
        let (module, ctx) = (blocked.clone(), Arc::clone(&never));
        async move { module.call(ctx, Some("sql"), vec![text("x")]).await }
    });
    until_out(&blocked, 1).await;
    let queued = tokio::spawn({
        let (module, ctx) = (blocked.clone(), Arc::clone(&never));
        async move { module.call(ctx, Some("sql"), vec![text("y")]).await }
    });
    // Started (so in flight, not refused at the door) before the shutdown.
    until_started(&blocked, 2).await;
    let in_guest = tokio::spawn({
        let module = spinning.clone();
        async move {
            module
                .call(Arc::new(NullContext), Some("spin"), vec![])
                .await
        }
    });
    until_out(&spinning, 1).await;

    let report = runtime.shutdown(Duration::from_millis(50)).await;
    assert!(!report.finished);
    assert_eq!(report.interrupted, 3, "{report:?}");
    assert_eq!((report.still_out, report.instances_alive), (0, 0));
    shutting_down(in_host.await.unwrap());
    shutting_down(queued.await.unwrap());
    shutting_down(in_guest.await.unwrap());
    for module in [&blocked, &spinning] {
        let stats = module.stats();
        assert_eq!(stats.checked_out, 0);
        assert_eq!(
            stats.instances_created,
            stats.instances_discarded + stats.instances_retired,
            "{stats:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_held_past_the_deadline_is_reported_and_refuses_its_next_call() {
    let runtime = patient_runtime();
    // Pool of one: the lease holds it, so a call queues behind it.
    let module = runtime
        .load(package_with("demo", |config| {
            config.capabilities.max_pool_size = Some(1);
        }))
        .await
        .unwrap();
    let mut lease = module.lease(Arc::new(NullContext)).await.unwrap();
    assert_eq!(
        lease.call(Some("add"), vec![int(1), int(2)]).await.unwrap(),
        int(3)
    );
    let queued = tokio::spawn({
        let module = module.clone();
        async move {
            module
                .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
                .await
        }
    });
    // The queued call has started (it counts as a call) before the
    // shutdown, so it is in flight rather than refused at the door.
    until_started(&module, 2).await;
    let report = runtime.shutdown(Duration::from_millis(20)).await;
    assert!(!report.finished);
    assert_eq!((report.interrupted, report.still_out), (1, 1));
    assert_eq!(report.instances_alive, 1, "the lease's instance");
    // Not left waiting for a lease nobody will give back.
    let queued = tokio::time::timeout(Duration::from_secs(30), queued)
        .await
        .expect("the queued call was left waiting");
    shutting_down(queued.unwrap());
    shutting_down(lease.call(Some("add"), vec![int(1), int(2)]).await);
    drop(lease);
    assert_eq!(runtime.budget_usage().instances, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_engine_call_paused_in_a_host_function_is_stopped_too() {
    let runtime = patient_runtime();
    let relaxed = runtime
        .load(package_with("hostcalls", |config| {
            config.capabilities.strict_timeout = false;
        }))
        .await
        .unwrap();
    assert!(!relaxed.limits().strict_timeout);
    let call = tokio::spawn({
        let module = relaxed.clone();
        let ctx = Arc::new(Gated(Arc::new(Semaphore::new(0))));
        async move { module.call(ctx, Some("sql"), vec![text("x")]).await }
    });
    until_out(&relaxed, 1).await;
    let report = runtime.shutdown(Duration::from_millis(20)).await;
    assert_eq!((report.interrupted, report.still_out), (1, 0));
    shutting_down(call.await.unwrap());
}
