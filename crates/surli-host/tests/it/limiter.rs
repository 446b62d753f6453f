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
