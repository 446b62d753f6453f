//! How much callers share instances (`Isolation`), and how instances are
//! allocated (`Allocation`): the pooling allocator, its exhaustion, and its
//! fallback to on-demand allocation.

use std::sync::Arc;
use std::time::Duration;

use surli_host::NullContext;
use surli_pool::{
    Allocation, CallError, Isolation, Module, ModuleOptions, ModuleStats, PoolingLimits, Runtime,
    RuntimeOptions,
};

use crate::support::{assert_instances_add_up, int, package, runtime, text};

async fn load_with(name: &str, isolation: Isolation) -> Module {
    runtime()
        .load_with(
            package(name),
            ModuleOptions::default().with_isolation(isolation),
        )
        .await
        .unwrap()
}

/// hostcalls' `init_value`: 42 once `init` ran in the instance, 0 before.
async fn init_value(module: &Module) -> surrealdb_types::Value {
    module
        .call(Arc::new(NullContext), Some("init_value"), vec![])
        .await
        .unwrap()
}

/// What changed between two snapshots, for the counters these tests watch.
fn delta(before: ModuleStats, after: ModuleStats) -> (u64, u64, u64, u64) {
    (
        after.instances_created - before.instances_created,
        after.instances_retired - before.instances_retired,
        after.instances_discarded - before.instances_discarded,
        after.pool_hits - before.pool_hits,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_is_the_default_and_keeps_one_instance_for_sequential_calls() {
    assert_eq!(ModuleOptions::default().isolation, Isolation::Reuse);
    let module = load_with("hostcalls", Isolation::default()).await;
    let before = module.stats();
    for _ in 0..4 {
        assert_eq!(init_value(&module).await, int(42));
    }
    // (created, retired, discarded, pool hits)
    assert_eq!(delta(before, module.stats()), (1, 0, 0, 3));
    assert_eq!(module.idle_instances(), 1);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_per_call_runs_every_call_in_a_new_initialised_instance() {
    let module = load_with("hostcalls", Isolation::FreshPerCall).await;
    assert_eq!(module.isolation(), Isolation::FreshPerCall);
    let before = module.stats();
    for call in 1..=4 {
        // `init` ran in the instance this call got (0 otherwise).
        assert_eq!(init_value(&module).await, int(42));
        assert_eq!(module.idle_instances(), 0, "call {call} left an instance");
        assert_eq!(delta(before, module.stats()), (call, call, 0, 0));
    }
    assert_eq!(module.stats().checked_out, 0);
    assert_instances_add_up(&module, 0);
}

/// hostcalls' `swap_static(value)`: what the previous call left in the
/// instance's static state.
async fn swap_static(module: &Module, value: i64) -> surrealdb_types::Value {
    module
        .call(Arc::new(NullContext), Some("swap_static"), vec![int(value)])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_instances_show_a_callers_static_state_to_the_next_and_fresh_ones_never_do() {
    // Under Reuse, what one call leaves in a static is there for the next
    // caller: the original's behaviour, and why FreshPerCall exists.
    let shared = load_with("hostcalls", Isolation::Reuse).await;
    assert_eq!(swap_static(&shared, 7).await, int(0));
    assert_eq!(swap_static(&shared, 8).await, int(7));

    // Under FreshPerCall no call ever sees another's value, sequential or
    // concurrent.
    let fresh = load_with("hostcalls", Isolation::FreshPerCall).await;
    for value in 1..=5 {
        assert_eq!(swap_static(&fresh, value).await, int(0));
    }
    let calls: Vec<_> = (10..18)
        .map(|value| {
            let fresh = fresh.clone();
            tokio::spawn(async move { swap_static(&fresh, value).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), int(0));
    }
    assert_instances_add_up(&fresh, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_per_call_gives_each_call_of_a_lease_its_own_instance() {
    let module = load_with("demo", Isolation::FreshPerCall).await;
    let before = module.stats();
    let mut lease = module.lease(Arc::new(NullContext)).await.unwrap();
    assert_eq!(delta(before, module.stats()), (1, 0, 0, 0));
    for call in 1..=3 {
        let sum = lease.call(Some("add"), vec![int(call), int(1)]).await;
        assert_eq!(sum.unwrap(), int(call + 1));
        let call = u64::try_from(call).unwrap();
        // The instance that ran the call is gone; the next is made on
        // demand by the next call.
        assert_eq!(delta(before, module.stats()), (call, call, 0, 0));
        assert_instances_add_up(&module, 0);
    }
    drop(lease);

    // A lease that made no call still never pools its instance.
    let lease = module.lease(Arc::new(NullContext)).await.unwrap();
    assert_instances_add_up(&module, 1);
    drop(lease);
    assert_eq!(delta(before, module.stats()), (4, 4, 0, 0));
    assert_eq!(module.idle_instances(), 0);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_per_call_still_discards_a_broken_instance_as_broken() {
    let module = load_with("kinds", Isolation::FreshPerCall).await;
    let before = module.stats();
    // A guest error leaves the instance healthy: retired, not discarded.
    let failed = module
        .call(Arc::new(NullContext), Some("fail"), vec![])
        .await;
    assert!(matches!(failed, Err(CallError::Guest { .. })), "{failed:?}");
    let echoed = module
        .call(Arc::new(NullContext), Some("string"), vec![text("x")])
        .await;
    assert_eq!(echoed.unwrap(), text("x"));
    assert_eq!(delta(before, module.stats()), (2, 2, 0, 0));
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_retires_an_instance_after_max_uses_calls() {
    let module = load_with(
        "hostcalls",
        Isolation::Recycle {
            max_uses: Some(2),
            max_idle: None,
        },
    )
    .await;
    let before = module.stats();
    for _ in 0..5 {
        assert_eq!(init_value(&module).await, int(42));
    }
    // Calls 1-2 on the first instance, 3-4 on the second, 5 on a third that
    // stays pooled; calls 2 and 4 found their instance in the pool.
    assert_eq!(delta(before, module.stats()), (3, 2, 0, 2));
    assert_eq!(module.idle_instances(), 1);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_with_max_uses_counts_the_calls_of_a_lease() {
    let module = load_with(
        "demo",
        Isolation::Recycle {
            max_uses: Some(2),
            max_idle: None,
        },
    )
    .await;
    let before = module.stats();
    let mut lease = module.lease(Arc::new(NullContext)).await.unwrap();
    for n in 0..3 {
        assert_eq!(
            lease.call(Some("add"), vec![int(n), int(n)]).await.unwrap(),
            int(2 * n)
        );
    }
    // The first instance ran two calls and was retired inside the lease;
    // the second ran one and goes back to the pool with the lease.
    assert_eq!(delta(before, module.stats()), (2, 1, 0, 0));
    drop(lease);
    assert_eq!(module.idle_instances(), 1);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_retires_an_instance_idle_longer_than_max_idle() {
    let module = load_with(
        "hostcalls",
        Isolation::Recycle {
            max_uses: None,
            max_idle: Some(Duration::from_millis(1)),
        },
    )
    .await;
    let before = module.stats();
    assert_eq!(init_value(&module).await, int(42));
    assert_eq!(module.idle_instances(), 1);
    // Idle time is only looked at when a lease is taken: the instance is
    // still pooled until then, however long it sits.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(module.idle_instances(), 1);
    assert_eq!(init_value(&module).await, int(42));
    // (created, retired, discarded, pool hits): the stale instance was
    // retired and the second call ran in a new one.
    assert_eq!(delta(before, module.stats()), (2, 1, 0, 0));
    assert_eq!(module.idle_instances(), 1);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_reuses_an_instance_within_max_idle() {
    let module = load_with(
        "hostcalls",
        Isolation::Recycle {
            max_uses: None,
            max_idle: Some(Duration::from_secs(3600)),
        },
    )
    .await;
    let before = module.stats();
    for _ in 0..3 {
        assert_eq!(init_value(&module).await, int(42));
    }
    assert_eq!(delta(before, module.stats()), (1, 0, 0, 2));
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_with_max_uses_zero_counts_as_one() {
    let module = load_with(
        "demo",
        Isolation::Recycle {
            max_uses: Some(0),
            max_idle: None,
        },
    )
    .await;
    let before = module.stats();
    for _ in 0..2 {
        let noop = module.call(Arc::new(NullContext), Some("noop"), vec![]);
        noop.await.unwrap();
    }
    assert_eq!(delta(before, module.stats()), (2, 2, 0, 0));
    assert_eq!(module.idle_instances(), 0);
}

fn runtime_allocating(allocation: Allocation) -> Runtime {
    Runtime::new(RuntimeOptions::default().with_allocation(allocation)).unwrap()
}

#[test]
fn the_default_runtime_pools_instances_capped_at_the_servers_memory_limit() {
    let options = RuntimeOptions::default();
    assert_eq!(
        options.allocation,
        Allocation::Pooling(PoolingLimits::for_instances(
            RuntimeOptions::DEFAULT_POOLED_INSTANCES,
            None
        ))
    );
    let max_memory = options.server.max_memory_bytes.unwrap();
    let runtime = Runtime::new(options).unwrap();
    match runtime.allocation() {
        Allocation::Pooling(limits) => {
            assert_eq!(
                limits.max_memory_size,
                Some(usize::try_from(max_memory).unwrap())
            );
            assert_eq!(
                limits.total_component_instances,
                RuntimeOptions::DEFAULT_POOLED_INSTANCES
            );
            // Slots are reset in place where the kernel allows it; the
            // isolation tests above then run on that path.
            assert_eq!(limits.keep_resident, PoolingLimits::DEFAULT_KEEP_RESIDENT);
        }
        // A machine whose address space cannot hold the pool falls back
        // (tested below); that fallback must not pass this test unseen.
        Allocation::OnDemand => panic!(
            "the default runtime fell back to on-demand allocation: this machine's address \
             space could not hold the pool (check `ulimit -v`); the pooled default is untested here"
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_allocates_on_demand_and_the_instances_serve_and_pool() {
    let limits = PoolingLimits::for_instances(2, None);
    let runtime = runtime_allocating(Allocation::Pooling(limits));
    assert!(
        matches!(runtime.allocation(), Allocation::Pooling(l) if l.total_component_instances == 2),
        "{:?}",
        runtime.allocation()
    );
    // Each load's probe instance takes a slot and gives it back.
    let demo = runtime.load(package("demo")).await.unwrap();
    let kinds = runtime.load(package("kinds")).await.unwrap();
    assert_eq!(demo.stats().instances_overflowed, 0);

    let ctx = Arc::new(NullContext);
    // Two leases take the pool's two slots...
    let mut first = demo.lease(ctx.clone()).await.unwrap();
    let mut second = kinds.lease(ctx.clone()).await.unwrap();
    assert_eq!(demo.stats().instances_overflowed, 0);
    assert_eq!(kinds.stats().instances_overflowed, 0);
    // ...and a third instance, which the pool has no slot for, is
    // allocated on demand instead of failing.
    let mut third = demo.lease(ctx.clone()).await.unwrap();
    assert_eq!(demo.stats().instances_overflowed, 1);
    for (lease, a, b) in [(&mut first, 2, 3), (&mut third, 4, 5)] {
        assert_eq!(
            lease.call(Some("add"), vec![int(a), int(b)]).await.unwrap(),
            int(a + b)
        );
    }
    assert_eq!(
        second.call(Some("unit"), vec![]).await.unwrap(),
        surrealdb_types::Value::None
    );
    // An instance allocated on demand is healthy like any other: it goes
    // back to the module's pool and serves the next lease.
    drop((first, second, third));
    assert_eq!(demo.idle_instances(), 2);
    let mut leases = vec![
        demo.lease(ctx.clone()).await.unwrap(),
        demo.lease(ctx.clone()).await.unwrap(),
    ];
    for lease in &mut leases {
        assert_eq!(
            lease.call(Some("noop"), vec![]).await.unwrap(),
            surrealdb_types::Value::None
        );
    }
    drop(leases);
    let stats = demo.stats();
    assert_eq!(stats.pool_hits, 2);
    assert_eq!(stats.instances_overflowed, 1);
    assert_eq!(
        stats.instances_created, 3,
        "the probe and two leases: {stats:?}"
    );
    for module in [&demo, &kinds] {
        assert_instances_add_up(module, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_allocated_on_demand_still_times_out_on_the_epoch() {
    // A manual epoch: only the test's ticks move it, so the epoch (not the
    // wall clock, 10 s away) must be what stops the call, which it can
    // only do if the overflow engine is ticked with the pooled one.
    let runtime = Runtime::new(
        RuntimeOptions::default()
            .with_epoch(surli_engine::EpochSource::Manual)
            .with_allocation(Allocation::Pooling(PoolingLimits::for_instances(1, None)))
            .with_server(
                surli_config::ServerLimits::default()
                    .with_max_execution_time(Some(Duration::from_secs(10))),
            ),
    )
    .unwrap();
    let hostile = crate::support::package_with("hostile", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_secs(10));
    });
    let module = runtime.load(hostile).await.unwrap();
    let ctx = Arc::new(NullContext);
    // The pool's one slot is held; the next lease's instance, `init` run,
    // is allocated on demand.
    let holder = module.lease(ctx.clone()).await.unwrap();
    let mut overflowed = module.lease(ctx.clone()).await.unwrap();
    assert_eq!(module.stats().instances_overflowed, 1);
    let spinning = tokio::spawn(async move { overflowed.call(Some("spin"), vec![]).await });
    let engine = runtime.clone();
    let stopped = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            for _ in 0..100 {
                engine.tick_epoch();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            if spinning.is_finished() {
                break;
            }
        }
    })
    .await;
    if stopped.is_err() {
        // The guest spins without yielding, so nothing can stop it and the
        // test's runtime could never shut down: end the process instead of
        // hanging the test run; the harness cannot report a message past
        // an abort, so it goes to stderr itself.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("ticking the epoch did not stop a call on an overflow instance");
        }
        std::process::abort();
    }
    match spinning.await.unwrap() {
        Err(CallError::Timeout {
            watch: surli_pool::TimeoutWatch::Epoch,
            ..
        }) => {}
        other => panic!("expected an epoch timeout, got {other:?}"),
    }
    drop(holder);
    assert_instances_add_up(&module, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_demand_allocation_has_no_instance_ceiling_of_its_own() {
    let runtime = runtime_allocating(Allocation::OnDemand);
    assert_eq!(runtime.allocation(), Allocation::OnDemand);
    let demo = runtime.load(package("demo")).await.unwrap();
    let ctx = Arc::new(NullContext);
    let mut leases = Vec::new();
    for _ in 0..3 {
        leases.push(demo.lease(ctx.clone()).await.unwrap());
    }
    for lease in &mut leases {
        lease.call(Some("noop"), vec![]).await.unwrap();
    }
    drop(leases);
    assert_eq!(demo.idle_instances(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_too_large_for_the_address_space_falls_back_to_on_demand() {
    // A million memories of 4 GiB each: far more than a 64-bit process can
    // reserve, so building the pooled engine fails and the runtime builds
    // on-demand engines instead.
    let limits = PoolingLimits::for_instances(4, None).with_total_memories(1 << 20);
    let runtime = runtime_allocating(Allocation::Pooling(limits));
    assert_eq!(runtime.allocation(), Allocation::OnDemand);
    let demo = runtime.load(package("demo")).await.unwrap();
    let sum = demo
        .call(Arc::new(NullContext), Some("add"), vec![int(20), int(22)])
        .await;
    assert_eq!(sum.unwrap(), int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modules_of_one_component_share_its_code_on_the_overflow_engine() {
    // A pool of one slot: every further instance is made on demand.
    let runtime = runtime_allocating(Allocation::Pooling(PoolingLimits::for_instances(1, None)));
    let first = runtime.load(package("demo")).await.unwrap();
    let second = runtime
        .load(crate::support::package_with("demo", |config| {
            config.meta.name = "demo-copy".to_owned();
        }))
        .await
        .unwrap();
    let held = runtime.cache_stats().memory_bytes;
    let ctx = Arc::new(NullContext);
    let _slot = first.lease(ctx.clone()).await.unwrap();
    let mut on_demand = Vec::new();
    for module in [&first, &second] {
        let mut lease = module.lease(ctx.clone()).await.unwrap();
        assert_eq!(
            lease.call(Some("add"), vec![int(1), int(2)]).await.unwrap(),
            int(3)
        );
        assert_eq!(module.stats().instances_overflowed, 1);
        on_demand.push(lease);
    }
    // The code moved to the overflow engine once, for both modules: the
    // cache holds it beside the pooled engine's copy, twice the bytes.
    assert_eq!(runtime.cache_stats().memory_bytes, 2 * held);
}
