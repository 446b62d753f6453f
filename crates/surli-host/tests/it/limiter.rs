//! The memory limiter: what it allows, what it refuses, what it remembers.

use surli_host::{Exhaustion, MemoryLimiter, MemoryLimits, Resource};
use wasmtime::ResourceLimiter;

const PAGE: usize = 64 * 1024;

fn limiter(max_memory: usize) -> MemoryLimiter {
    MemoryLimiter::new(MemoryLimits::with_max_memory(Some(max_memory)))
}

#[test]
fn grows_up_to_the_limit_are_allowed_and_leave_no_record() {
    let mut limiter = limiter(4 * PAGE);
    assert!(limiter.memory_growing(0, PAGE, None).unwrap());
    assert!(limiter.memory_growing(PAGE, 4 * PAGE, None).unwrap());
    assert_eq!(limiter.exhausted(), None);
}

#[test]
fn a_grow_over_the_limit_is_refused_and_recorded() {
    let mut limiter = limiter(4 * PAGE);
    assert!(!limiter.memory_growing(PAGE, 5 * PAGE, None).unwrap());
    assert_eq!(
        limiter.exhausted(),
        Some(Exhaustion {
            what: Resource::Memory,
            requested: 5 * PAGE,
            limit: 4 * PAGE,
        })
    );
    assert_eq!(
        limiter.exhausted().unwrap().to_string(),
        "memory grow to 327680 bytes refused, over the limit of 262144 bytes"
    );
    limiter.reset();
    assert_eq!(limiter.exhausted(), None);
}

#[test]
fn a_grow_over_the_memory_s_own_maximum_is_recorded() {
    let mut limiter = MemoryLimiter::default();
    assert!(
        !limiter
            .memory_growing(PAGE, 3 * PAGE, Some(2 * PAGE))
            .unwrap()
    );
    assert_eq!(
        limiter.exhausted(),
        Some(Exhaustion {
            what: Resource::Memory,
            requested: 3 * PAGE,
            limit: 2 * PAGE,
        })
    );
}

#[test]
fn a_failure_after_an_allowed_grow_is_recorded() {
    let mut limiter = limiter(100 * PAGE);
    assert!(limiter.memory_growing(PAGE, 8 * PAGE, None).unwrap());
    assert_eq!(limiter.exhausted(), None);
    limiter
        .memory_grow_failed(wasmtime::format_err!("mmap failed"))
        .unwrap();
    assert_eq!(
        limiter.exhausted(),
        Some(Exhaustion {
            what: Resource::Memory,
            requested: 8 * PAGE,
            limit: 100 * PAGE,
        })
    );
}

#[test]
fn tables_are_capped_by_element_count() {
    let mut limiter = MemoryLimiter::default();
    let cap = MemoryLimits::DEFAULT_MAX_TABLE_ELEMENTS;
    assert_eq!(cap, 100_000);
    assert!(limiter.table_growing(0, cap, None).unwrap());
    assert_eq!(limiter.exhausted(), None);
    assert!(!limiter.table_growing(cap, cap + 1, None).unwrap());
    assert_eq!(
        limiter.exhausted(),
        Some(Exhaustion {
            what: Resource::Table,
            requested: cap + 1,
            limit: cap,
        })
    );
}

#[test]
fn counts_come_from_the_limits() {
    let limits = MemoryLimits {
        max_instances: 3,
        max_tables: 4,
        max_memories: 5,
        ..MemoryLimits::default()
    };
    let limiter = MemoryLimiter::new(limits);
    assert_eq!(
        (limiter.instances(), limiter.tables(), limiter.memories()),
        (3, 4, 5)
    );
    assert_eq!(limiter.limits(), &limits);
}

#[test]
fn without_a_memory_cap_memory_grows_freely() {
    let mut limiter = MemoryLimiter::default();
    assert!(limiter.memory_growing(0, 1 << 32, None).unwrap());
    assert_eq!(limiter.exhausted(), None);
}

#[test]
fn a_shared_budget_is_charged_by_every_limiter_and_given_back_on_drop() {
    let budget = std::sync::Arc::new(surli_host::MemoryBudget::new(10 * PAGE as u64));
    let sharing = || limiter(100 * PAGE).sharing(std::sync::Arc::clone(&budget));
    let mut one = sharing();
    let mut two = sharing();
    assert!(one.memory_growing(0, 4 * PAGE, None).unwrap());
    assert!(two.memory_growing(0, 4 * PAGE, None).unwrap());
    assert_eq!(budget.held(), 8 * PAGE as u64);
    // Within its own limit, but not within what the two may hold together.
    assert!(!two.memory_growing(4 * PAGE, 7 * PAGE, None).unwrap());
    assert_eq!(
        two.exhausted(),
        Some(Exhaustion {
            what: Resource::SharedMemory,
            requested: 11 * PAGE,
            limit: 10 * PAGE,
        })
    );
    assert_eq!(budget.held(), 8 * PAGE as u64);
    // A grow that wasmtime then fails is not left charged.
    assert!(one.memory_growing(4 * PAGE, 6 * PAGE, None).unwrap());
    one.memory_grow_failed(wasmtime::format_err!("mmap failed"))
        .unwrap();
    assert_eq!(
        (one.charged(), budget.held()),
        (4 * PAGE as u64, 8 * PAGE as u64)
    );
    drop(one);
    assert_eq!(budget.held(), 4 * PAGE as u64);
    assert!(two.memory_growing(4 * PAGE, 7 * PAGE, None).unwrap());
    drop(two);
    assert_eq!(budget.held(), 0);
}

#[test]
fn a_shared_budget_asks_its_reclaimer_before_it_refuses() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // The "idle instance" the reclaimer drops is a limiter holding 6 pages.
    let asked = Arc::new(AtomicUsize::new(0));
    let idle = Arc::new(parking_lot::Mutex::new(None::<MemoryLimiter>));
    let budget = {
        let (asked, idle) = (Arc::clone(&asked), Arc::clone(&idle));
        Arc::new(
            surli_host::MemoryBudget::new(8 * PAGE as u64).with_reclaimer(move || {
                asked.fetch_add(1, Ordering::SeqCst);
                idle.lock().take().is_some()
            }),
        )
    };
    let mut parked = limiter(100 * PAGE).sharing(Arc::clone(&budget));
    assert!(parked.memory_growing(0, 6 * PAGE, None).unwrap());
    *idle.lock() = Some(parked);
    let mut busy = limiter(100 * PAGE).sharing(Arc::clone(&budget));
    assert!(busy.memory_growing(0, 4 * PAGE, None).unwrap());
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(budget.held(), 4 * PAGE as u64);
    // A grow that could not fit even were this instance alone is refused
    // without asking: emptying every pool for it would be for nothing.
    assert!(!busy.memory_growing(4 * PAGE, 9 * PAGE, None).unwrap());
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    // One that would fit alone, but not beside another busy instance, asks;
    // nothing is left to reclaim, so it is refused.
    let mut other = limiter(100 * PAGE).sharing(Arc::clone(&budget));
    assert!(other.memory_growing(0, 2 * PAGE, None).unwrap());
    assert!(!busy.memory_growing(4 * PAGE, 7 * PAGE, None).unwrap());
    assert_eq!(asked.load(Ordering::SeqCst), 2);
}
