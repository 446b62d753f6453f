//! A caller's timeout covers its whole call, and says where it fired.

use std::sync::Arc;
use std::time::Duration;

use surli_config::ServerLimits;
use surli_host::NullContext;
use surli_pool::{CallError, CallPhase, TimeoutLimit, TimeoutWatch};
use surrealdb_types::Value;

use crate::support::{int, package_with, runtime_with};

fn null() -> Arc<NullContext> {
    Arc::new(NullContext)
}

/// Fails the test, rather than hanging it, when a call outlives its
/// caller's timeout by far.
async fn bounded<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .expect("the call outlived its caller's timeout by far")
}

fn assert_caller_timeout(outcome: &Result<Value, CallError>, phase: CallPhase, limit: Duration) {
    match outcome {
        Err(CallError::Timeout {
            source_limit: TimeoutLimit::Caller,
            phase: got,
            limit: got_limit,
            ..
        }) if *got == phase => assert_eq!(*got_limit, limit),
        other => panic!("expected the caller's timeout while {phase}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_timeout_covers_the_wait_for_a_free_instance() {
    let runtime = runtime_with(ServerLimits::default());
    let one = package_with("hostile", |config| {
        config.capabilities.max_pool_size = Some(1)
    });
    let module = runtime.load(one).await.unwrap();
    let held = module.lease(null()).await.unwrap();
    let limit = Duration::from_millis(50);
    let outcome =
        bounded(module.call_with_timeout(null(), Some("alloc"), vec![int(1)], Some(limit))).await;
    assert_caller_timeout(&outcome, CallPhase::Queue, limit);
    let Err(error) = outcome else {
        panic!("checked above")
    };
    assert!(!error.is_instance_fatal(), "no instance took part");
    assert!(
        error.to_string().contains("waiting for a free instance"),
        "{error}"
    );
    drop(held);
    // Nothing leaked: the pool serves, and its only permit is back.
    assert_eq!(
        module
            .call(null(), Some("alloc"), vec![int(1)])
            .await
            .unwrap(),
        int(1)
    );
    assert_eq!(module.available_permits(), 1);
    assert_eq!(module.stats().checked_out, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_timeout_covers_init_in_a_new_instance() {
    let runtime = runtime_with(ServerLimits::default());
    // `init` loops; the module's own backstop of 1 s is raised so that only
    // the caller's 100 ms can stop it.
    let endless = package_with("initloop", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_secs(10))
    });
    let module = runtime.load(endless).await.unwrap();
    let limit = Duration::from_millis(100);
    let outcome =
        bounded(module.call_with_timeout(null(), Some("ping"), vec![], Some(limit))).await;
    assert_caller_timeout(&outcome, CallPhase::Init, limit);
    let stats = module.stats();
    // The caller gave up; `init` did not fail, so nothing is remembered
    // against the module, and the half-made instance was thrown away.
    assert_eq!(stats.init_failures, 0);
    assert_eq!(
        stats.instances_created,
        stats.instances_discarded + stats.instances_retired + module.idle_instances() as u64
    );
    assert_eq!(module.idle_instances(), 0);
    assert_eq!(
        module.available_permits(),
        module.limits().pool_size.value.get()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_left_of_a_callers_timeout_after_waiting_bounds_the_guest() {
    let runtime = runtime_with(ServerLimits::default());
    let one = package_with("hostile", |config| {
        config.capabilities.max_pool_size = Some(1)
    });
    let module = runtime.load(one).await.unwrap();
    let held = module.lease(null()).await.unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(held);
    });
    let limit = Duration::from_millis(300);
    let outcome =
        bounded(module.call_with_timeout(null(), Some("spin"), vec![], Some(limit))).await;
    release.await.unwrap();
    match outcome {
        Err(CallError::Timeout {
            source_limit: TimeoutLimit::Caller,
            phase: CallPhase::Call,
            watch: TimeoutWatch::Epoch,
            limit: reported,
        }) => assert_eq!(
            reported, limit,
            "the error names the caller's whole timeout"
        ),
        other => panic!("expected the caller's timeout in the guest, got {other:?}"),
    }
    assert_eq!(module.stats().timeouts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_for_a_module_that_runs_without_timeouts_is_refused() {
    let runtime = runtime_with(ServerLimits::default().with_allow_relaxed_timeout(true));
    let relaxed = package_with("hostile", |config| {
        config.capabilities.strict_timeout = false
    });
    let module = runtime.load(relaxed).await.unwrap();
    assert!(!module.limits().strict_timeout);
    let refused = |outcome: Result<Value, CallError>| match outcome {
        Err(error @ CallError::TimeoutNotEnforceable { .. }) => {
            assert_eq!(error.kind(), "timeout_not_enforceable");
            assert!(!error.is_instance_fatal());
            assert!(
                error.to_string().contains("strict_timeout = false"),
                "{error}"
            );
        }
        other => panic!("expected the timeout to be refused, got {other:?}"),
    };
    let timeout = Some(Duration::from_secs(1));
    refused(
        module
            .call_with_timeout(null(), Some("alloc"), vec![int(1)], timeout)
            .await,
    );
    let mut lease = module.lease(null()).await.unwrap();
    refused(
        lease
            .call_with_timeout(Some("alloc"), vec![int(1)], timeout)
            .await,
    );
    // Without a timeout the module serves as it always did.
    assert_eq!(
        lease.call(Some("alloc"), vec![int(1)]).await.unwrap(),
        int(1)
    );
    drop(lease);
    assert_eq!(
        module
            .call(null(), Some("alloc"), vec![int(1)])
            .await
            .unwrap(),
        int(1)
    );
    assert!(module.stats().other_errors >= 2);
}
