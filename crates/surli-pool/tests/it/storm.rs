//! The storm: thousands of calls from many tasks on a small pool, mixing
//! good calls with every way a call can fail, some of them dropped midway.
//! Afterwards the pool must be exactly as healthy as before and the counters
//! must agree with what the callers saw. Only counts and states are
//! asserted; the wall time is printed, never checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use surli_config::ServerLimits;
use surli_host::NullContext;
use surli_pool::{CallError, Module, ModuleStats, Runtime, RuntimeOptions};
use surrealdb_types::Value;

use crate::support::{int, package_with, text};

const CALLS: usize = 5_000;
const TASKS: usize = 32;
const POOL: usize = 4;
const SEED: u64 = 0x5eed_0f57_0a11;

/// xorshift64*: small, seeded, and good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        // Never zero, the one state xorshift cannot leave.
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How each call ended, as its caller saw it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Seen {
    calls: u64,
    ok: u64,
    guest_errors: u64,
    timeouts: u64,
    out_of_memory: u64,
    traps: u64,
    too_large: u64,
    cancelled: u64,
    /// Good calls that answered something else: must stay 0.
    wrong: u64,
    /// Calls that ended some other way than their case allows: must stay 0.
    unexpected: u64,
}

impl Seen {
    fn add(&mut self, other: &Seen) {
        self.calls += other.calls;
        self.ok += other.ok;
        self.guest_errors += other.guest_errors;
        self.timeouts += other.timeouts;
        self.out_of_memory += other.out_of_memory;
        self.traps += other.traps;
        self.too_large += other.too_large;
        self.cancelled += other.cancelled;
        self.wrong += other.wrong;
        self.unexpected += other.unexpected;
    }

    /// Counts an outcome. `expected` is the good answer, if the call can
    /// have one; `allowed` says which failures the case can end in.
    fn record(
        &mut self,
        outcome: Result<Value, CallError>,
        expected: Option<&Value>,
        allowed: fn(&CallError) -> bool,
        details: &mut Vec<String>,
    ) {
        match outcome {
            Ok(value) => {
                self.ok += 1;
                if expected != Some(&value) {
                    self.wrong += 1;
                    details.push(format!("expected {expected:?}, got {value:?}"));
                }
            }
            Err(error) => {
                match &error {
                    CallError::Guest { .. } => self.guest_errors += 1,
                    CallError::Timeout { .. } => self.timeouts += 1,
                    CallError::OutOfMemory { .. } => self.out_of_memory += 1,
                    CallError::Trap { .. } => self.traps += 1,
                    CallError::ResultTooLarge { .. } => self.too_large += 1,
                    _ => {}
                }
                if !allowed(&error) {
                    self.unexpected += 1;
                    details.push(format!("unexpected {}: {error}", error.kind()));
                }
            }
        }
    }
}

fn null() -> Arc<NullContext> {
    Arc::new(NullContext)
}

/// One call of a case picked by `rng`, counted in `seen`.
async fn one_call(module: &Module, rng: &mut Rng, seen: &mut Seen, details: &mut Vec<String>) {
    seen.calls += 1;
    let ctx = null();
    match rng.below(100) {
        // Good calls, with answers known in advance.
        0..=44 => {
            let depth = i64::try_from(1 + rng.below(64)).unwrap();
            let outcome = module.call(ctx, Some("recurse"), vec![int(depth)]).await;
            seen.record(outcome, Some(&int(depth)), |_| false, details);
        }
        45..=54 => {
            let mib = i64::try_from(rng.below(3)).unwrap();
            let outcome = module.call(ctx, Some("alloc"), vec![int(mib)]).await;
            seen.record(outcome, Some(&int(mib)), |_| false, details);
        }
        // The guest's own errors: a wrong argument, an unknown function.
        55..=59 => {
            let outcome = module.call(ctx, Some("alloc"), vec![text("x")]).await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::Guest { .. }),
                details,
            );
        }
        60..=62 => {
            let outcome = module.call(ctx, Some("no_such_function"), vec![]).await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::Guest { .. }),
                details,
            );
        }
        // A panic: a trap.
        63..=69 => {
            let outcome = module.call(ctx, Some("panic_now"), vec![]).await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::Trap { .. }),
                details,
            );
        }
        // An endless loop under a short caller timeout.
        70..=72 => {
            let outcome = module
                .call_with_timeout(ctx, Some("spin"), vec![], Some(Duration::from_millis(30)))
                .await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::Timeout { .. }),
                details,
            );
        }
        // More memory than the limit.
        73..=79 => {
            let outcome = module.call(ctx, Some("alloc"), vec![int(64)]).await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::OutOfMemory { .. }),
                details,
            );
        }
        // An answer over the result-size cap.
        80..=82 => {
            let outcome = module.call(ctx, Some("big_result"), vec![int(2)]).await;
            seen.record(
                outcome,
                None,
                |e| matches!(e, CallError::ResultTooLarge { .. }),
                details,
            );
        }
        // Dropped at a random point: waiting for a permit, creating an
        // instance, inside the guest, or not at all if the call is quick.
        case => {
            let (function, args, expected) = if case % 2 == 0 {
                ("spin", vec![], None)
            } else {
                let depth = i64::try_from(1 + rng.below(64)).unwrap();
                ("recurse", vec![int(depth)], Some(int(depth)))
            };
            let wait = Duration::from_micros(rng.below(4_000));
            let call = module.call(ctx, Some(function), args);
            match tokio::time::timeout(wait, call).await {
                Err(_) => seen.cancelled += 1,
                // Finished before the drop: a spin can only have timed out.
                Ok(outcome) => seen.record(
                    outcome,
                    expected.as_ref(),
                    |e| matches!(e, CallError::Timeout { .. }),
                    details,
                ),
            }
        }
    }
}

fn outcomes_sum(stats: &ModuleStats) -> u64 {
    stats.ok
        + stats.guest_errors
        + stats.timeouts
        + stats.out_of_memory
        + stats.traps
        + stats.codec_errors
        + stats.other_errors
        + stats.cancelled
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[allow(clippy::print_stderr)]
async fn a_storm_of_mixed_calls_leaves_the_pool_healthy_and_the_counts_exact() {
    let runtime = Runtime::new(
        RuntimeOptions::default()
            .with_server(
                ServerLimits::default()
                    .with_max_pool_size(std::num::NonZeroUsize::new(POOL).unwrap())
                    .with_max_execution_time(Some(Duration::from_secs(10)))
                    .with_max_memory_bytes(Some(32 << 20)),
            )
            .with_max_result_bytes(1 << 20),
    )
    .unwrap();
    // The fixture's own 1 s limit would be the tighter one.
    let hostile = package_with("hostile", |config| {
        config.capabilities.max_execution_time = None;
    });
    let module = runtime.load(hostile).await.unwrap();
    assert_eq!(module.stats().calls, 0);
    let started = Instant::now();

    // Sampled while the storm runs: the leases out, read from the pool's
    // semaphore (exact at any instant; the sharded counters are exact only
    // at rest, checked below), never pass the pool size, and do reach it.
    let storming = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let module = module.clone();
        let storming = Arc::clone(&storming);
        tokio::spawn(async move {
            let mut peak = 0usize;
            while storming.load(std::sync::atomic::Ordering::Relaxed) {
                let available = module.available_permits();
                assert!(available <= POOL, "{available} permits on a pool of {POOL}");
                peak = peak.max(POOL - available);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            peak
        })
    };

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let module = module.clone();
        let calls = CALLS / TASKS + usize::from(task < CALLS % TASKS);
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(SEED ^ (task as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut seen = Seen::default();
            let mut details = Vec::new();
            for _ in 0..calls {
                one_call(&module, &mut rng, &mut seen, &mut details).await;
            }
            (seen, details)
        }));
    }
    let mut seen = Seen::default();
    let mut details = Vec::new();
    for task in tasks {
        let (task_seen, task_details) = task.await.unwrap();
        seen.add(&task_seen);
        details.extend(task_details);
    }
    let elapsed = started.elapsed();
    storming.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    assert_eq!(
        peak, POOL,
        "the storm never filled the pool, so it proves less than it claims"
    );
    let stats = module.stats();
    eprintln!(
        "storm: {} calls on {TASKS} tasks, pool of {POOL}, seed {SEED:#x}, in {elapsed:.1?}\n\
         storm: seen by the callers: {seen:?}\n\
         storm: module stats: {stats:?}",
        seen.calls
    );

    assert!(
        details.is_empty(),
        "{} bad outcomes: {details:#?}",
        details.len()
    );
    assert_eq!(seen.calls, CALLS as u64);
    // Every case happened, or the storm proves less than it claims.
    for (name, count) in [
        ("ok", seen.ok),
        ("guest errors", seen.guest_errors),
        ("timeouts", seen.timeouts),
        ("out of memory", seen.out_of_memory),
        ("traps", seen.traps),
        ("too large", seen.too_large),
        ("cancelled", seen.cancelled),
    ] {
        assert!(count > 0, "no {name} in the storm");
    }

    // The counters agree with the callers, outcome by outcome.
    assert_eq!(stats.calls, seen.calls);
    assert_eq!(stats.ok, seen.ok);
    assert_eq!(stats.guest_errors, seen.guest_errors);
    assert_eq!(stats.timeouts, seen.timeouts);
    assert_eq!(stats.out_of_memory, seen.out_of_memory);
    assert_eq!(stats.traps, seen.traps);
    assert_eq!(stats.codec_errors, 0);
    assert_eq!(stats.other_errors, seen.too_large);
    assert_eq!(stats.cancelled, seen.cancelled);
    assert_eq!(stats.calls, outcomes_sum(&stats), "{stats:?}");

    // Nothing is out, no permit leaked, and every instance still alive is
    // idle: created minus discarded (the load's probe is both).
    assert_eq!(stats.checked_out, 0);
    assert_eq!(module.available_permits(), POOL);
    let idle = module.idle_instances();
    assert!(idle <= POOL, "{idle} idle instances on a pool of {POOL}");
    assert_eq!(
        stats.instances_created - stats.instances_discarded,
        idle as u64,
        "{stats:?}"
    );
    assert_eq!(stats.init_failures, 0);

    // What is pooled is healthy: four leases at once take every idle
    // instance and create only the missing ones, and each answers.
    let mut leases = Vec::new();
    for _ in 0..POOL {
        leases.push(module.lease(null()).await.unwrap());
    }
    assert_eq!(module.available_permits(), 0);
    let after_leases = module.stats();
    assert_eq!(after_leases.pool_hits - stats.pool_hits, idle as u64);
    assert_eq!(
        after_leases.instances_created - stats.instances_created,
        (POOL - idle) as u64
    );
    let mut answers = Vec::new();
    for (i, mut lease) in leases.into_iter().enumerate() {
        answers.push(tokio::spawn(async move {
            let depth = i64::try_from(i + 1).unwrap();
            (lease.call(Some("recurse"), vec![int(depth)]).await, depth)
        }));
    }
    for answer in answers {
        let (answer, depth) = answer.await.unwrap();
        assert_eq!(answer.unwrap(), int(depth));
    }
    let last = module.stats();
    assert_eq!(last.checked_out, 0);
    assert_eq!(module.available_permits(), POOL);
    assert_eq!(module.idle_instances(), POOL);
    assert_eq!(last.instances_discarded, stats.instances_discarded);
    assert_eq!(last.calls, outcomes_sum(&last));
}
