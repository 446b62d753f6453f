//! The runtime-wide budget: instances alive and linear memory held across
//! every module of a runtime, idle instances giving way first.

use std::sync::Arc;
use std::time::Duration;

use surli_host::NullContext;
use surli_pool::{
    BudgetResource, CallError, CallPhase, Module, Runtime, RuntimeBudget, RuntimeOptions,
    TimeoutLimit, WhenFull,
};

use crate::support::{assert_instances_add_up, int, package};

fn runtime_with_budget(budget: RuntimeBudget) -> Runtime {
    Runtime::new(RuntimeOptions::default().with_budget(budget)).unwrap()
}

async fn add(module: &Module) -> Result<surrealdb_types::Value, CallError> {
    module
        .call(Arc::new(NullContext), Some("add"), vec![int(1), int(2)])
        .await
}

async fn alloc(module: &Module, mib: i64) -> Result<surrealdb_types::Value, CallError> {
    module
        .call(Arc::new(NullContext), Some("alloc"), vec![int(mib)])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_instance_budget_a_call_fails_fast_and_idle_instances_give_way() {
    let runtime = runtime_with_budget(
        RuntimeBudget::default()
            .with_max_instances(2)
            .with_when_full(WhenFull::FailFast),
    );
    let demo = runtime.load(package("demo")).await.unwrap();
    let other = runtime.load(package("hostcalls")).await.unwrap();
    // The instances the loads made to describe the modules are gone.
    assert_eq!(runtime.budget_usage().instances, 0);

    let held = demo.lease(Arc::new(NullContext)).await.unwrap();
    let other_lease = other.lease(Arc::new(NullContext)).await.unwrap();
    assert_eq!(runtime.budget_usage().instances, 2);

    let refused = add(&demo).await.unwrap_err();
    match &refused {
        CallError::BudgetExhausted {
            resource: BudgetResource::Instances,
            limit: 2,
            ..
        } => {}
        other => panic!("expected the instance budget to refuse, got {other:?}"),
    }
    assert_eq!(refused.kind(), "budget_exhausted");
    assert!(!refused.is_instance_fatal());

    // The other module's instance goes back to its pool, idle: it is the
    // one to give way when `demo` needs room.
    drop(other_lease);
    assert_eq!(other.idle_instances(), 1);
    assert_eq!(add(&demo).await.unwrap(), int(3));
    assert_eq!(other.idle_instances(), 0);
    assert_eq!(other.stats().instances_reclaimed, 1);
    let usage = runtime.budget_usage();
    assert_eq!(
        (usage.instances, usage.reclaimed, usage.refusals),
        (2, 1, 1)
    );
    // The counters still add up: every instance created is discarded,
    // retired (reclaimed ones among them), idle or leased.
    assert_instances_add_up(&demo, 1);
    assert_instances_add_up(&other, 0);

    // Every instance is accounted for once the modules are gone.
    drop(held);
    drop((demo, other));
    let usage = runtime.budget_usage();
    assert_eq!((usage.instances, usage.memory_bytes), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_instance_budget_a_call_waits_until_an_instance_comes_back() {
    let runtime = runtime_with_budget(RuntimeBudget::default().with_max_instances(1));
    let demo = runtime.load(package("demo")).await.unwrap();
    let other = runtime.load(package("hostcalls")).await.unwrap();
    let held = demo.lease(Arc::new(NullContext)).await.unwrap();

    // A caller with a timeout waits for room, then gives up, saying where.
    let limit = Duration::from_millis(100);
    let timed_out = other
        .call_with_timeout(
            Arc::new(NullContext),
            Some("init_value"),
            vec![],
            Some(limit),
        )
        .await
        .unwrap_err();
    match timed_out {
        CallError::Timeout {
            limit: reported,
            source_limit: TimeoutLimit::Caller,
            phase: CallPhase::Budget,
            ..
        } => assert_eq!(reported, limit),
        other => panic!("expected a timeout waiting for room, got {other:?}"),
    }

    // One without a timeout waits until the lease ends: the instance
    // coming back is dropped to make room rather than pooled.
    let waiting = tokio::spawn({
        let other = other.clone();
        async move {
            other
                .call(Arc::new(NullContext), Some("init_value"), vec![])
                .await
        }
    });
    let started = std::time::Instant::now();
    while runtime.budget_usage().waits < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the call never started waiting"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!waiting.is_finished(), "the call did not wait for room");
    drop(held);
    let answer = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("the waiting call must get the room the lease freed")
        .unwrap()
        .unwrap();
    assert_eq!(answer, int(42));
    assert_eq!(demo.idle_instances(), 0);
    assert_eq!(demo.stats().instances_reclaimed, 1);
    let usage = runtime.budget_usage();
    assert_eq!((usage.instances, usage.reclaimed), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_grow_past_the_runtime_budget_fails_and_the_module_serves_on() {
    let budget = 24u64 << 20;
    let runtime = runtime_with_budget(RuntimeBudget::default().with_max_memory_bytes(budget));
    let hostile = runtime.load(package("hostile")).await.unwrap();
    assert_eq!(alloc(&hostile, 1).await.unwrap(), int(1));
    let after_small = runtime.budget_usage().memory_bytes;
    assert!(
        after_small > 1 << 20 && after_small <= budget,
        "one idle instance holds {after_small} bytes"
    );

    let refused = alloc(&hostile, 32).await.unwrap_err();
    match &refused {
        CallError::BudgetExhausted {
            resource: BudgetResource::Memory,
            limit,
            ..
        } => assert_eq!(*limit, budget),
        other => panic!("expected the memory budget to refuse, got {other:?}"),
    }
    assert!(refused.is_instance_fatal());
    let usage = runtime.budget_usage();
    assert!(usage.memory_bytes <= budget, "{usage:?}");
    assert!(usage.refusals >= 1, "{usage:?}");

    // The module serves on, within the budget.
    assert_eq!(alloc(&hostile, 1).await.unwrap(), int(1));
    drop(hostile);
    assert_eq!(runtime.budget_usage().memory_bytes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_instance_gives_its_memory_to_a_grow_that_needs_it() {
    let runtime = runtime_with_budget(RuntimeBudget::default().with_max_memory_bytes(40 << 20));
    // Two modules (loaded from one package, but each its own pool); the
    // first leaves an idle instance whose memory grew to hold 20 MiB.
    let first = runtime.load(package("hostile")).await.unwrap();
    let second = runtime.load(package("hostile")).await.unwrap();
    assert_eq!(alloc(&first, 20).await.unwrap(), int(20));
    assert_eq!(first.idle_instances(), 1);
    let held_by_first = runtime.budget_usage().memory_bytes;
    assert!(held_by_first > 20 << 20, "{held_by_first}");

    // The second needs as much again: only the first's idle memory makes
    // room for it.
    assert_eq!(alloc(&second, 20).await.unwrap(), int(20));
    assert_eq!(first.idle_instances(), 0);
    assert_eq!(first.stats().instances_reclaimed, 1);
    assert!(runtime.budget_usage().memory_bytes <= 40 << 20);
}
