//! Integration tests for surli-engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use surli_engine::{
    EngineError, EngineOptions, EpochSource, Flavour, SurliEngine, TICK, ticker_running, ticks_for,
};

fn manual(flavour: Flavour) -> SurliEngine {
    SurliEngine::new(EngineOptions {
        flavour,
        epoch: EpochSource::Manual,
    })
    .unwrap()
}

#[test]
fn limits_round_up_to_whole_ticks_plus_the_tick_under_way() {
    let tick = Duration::from_millis(10);
    assert_eq!(ticks_for(Duration::ZERO, tick), 1);
    assert_eq!(ticks_for(Duration::from_nanos(1), tick), 2);
    assert_eq!(ticks_for(Duration::from_millis(10), tick), 2);
    assert_eq!(ticks_for(Duration::from_millis(15), tick), 3);
    assert_eq!(ticks_for(Duration::from_millis(100), tick), 11);
    assert_eq!(ticks_for(Duration::from_millis(101), tick), 12);
    // Rounding up means the limit always fits inside the ticks before the last.
    for ms in [1u64, 9, 10, 11, 99, 100, 250, 1234] {
        let limit = Duration::from_millis(ms);
        let ticks = ticks_for(limit, tick);
        assert!(tick * u32::try_from(ticks - 1).unwrap() >= limit, "{ms} ms");
        assert!(tick * u32::try_from(ticks - 2).unwrap() < limit, "{ms} ms");
    }
}

#[test]
fn huge_limits_saturate_instead_of_overflowing() {
    assert_eq!(ticks_for(Duration::MAX, Duration::from_nanos(1)), u64::MAX);
    assert_eq!(ticks_for(Duration::MAX, TICK), u64::MAX);
    assert_eq!(
        ticks_for(Duration::from_secs(u64::MAX / 100), TICK),
        u64::MAX / 100 * 100 + 1
    );
    let engine = manual(Flavour::Guarded);
    let delta = engine.deadline_ticks(Some(Duration::MAX));
    assert!(engine.current_epoch().checked_add(delta).is_some());
    let unlimited = engine.deadline_ticks(None);
    assert!(engine.current_epoch().checked_add(unlimited).is_some());
    assert!(unlimited >= delta);
}

#[test]
fn deadlines_are_relative_to_the_current_epoch_and_never_overflow() {
    let engine = manual(Flavour::Guarded);
    assert_eq!(engine.current_epoch(), 0);
    for _ in 0..1000 {
        engine.tick();
    }
    assert_eq!(engine.current_epoch(), 1000);
    assert_eq!(engine.deadline_ticks(Some(Duration::from_millis(100))), 11);
    assert_eq!(engine.deadline_ticks(None), u64::MAX - 1 - 1000);
}

#[test]
fn manual_engines_do_not_tick_on_their_own() {
    let engine = manual(Flavour::Guarded);
    std::thread::sleep(TICK * 5);
    assert_eq!(engine.current_epoch(), 0);
}

#[test]
fn flavours_say_whether_they_interrupt() {
    assert!(manual(Flavour::Guarded).interrupts());
    assert!(!manual(Flavour::Fast).interrupts());
}

#[test]
fn garbage_is_a_compile_error_not_a_panic() {
    let engine = manual(Flavour::Guarded);
    for bytes in [&b""[..], b"not wasm", b"\0asm\x0d\0\x01\0garbage"] {
        match engine.compile(bytes) {
            Err(EngineError::Compile { message }) => assert!(!message.is_empty()),
            other => panic!("expected a compile error, got {other:?}"),
        }
    }
}

/// The only test that uses the process ticker: it would race with any other.
#[test]
fn ticker_runs_while_an_automatic_engine_lives_and_stops_after() {
    let engine = SurliEngine::new(EngineOptions::default()).unwrap();
    assert!(ticker_running());
    let waited = Instant::now();
    while engine.current_epoch() < 3 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the ticker never ticked"
        );
        std::thread::sleep(TICK);
    }
    // Fast engines never join the ticker, so dropping the guarded one is
    // enough to stop it, even while a fast engine lives.
    let fast = SurliEngine::new(EngineOptions {
        flavour: Flavour::Fast,
        epoch: EpochSource::Automatic,
    })
    .unwrap();
    drop(engine);
    let waited = Instant::now();
    while ticker_running() {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the ticker never stopped"
        );
        std::thread::sleep(TICK);
    }
    // And a new guarded engine starts it again.
    let again = SurliEngine::new(EngineOptions::default()).unwrap();
    assert!(ticker_running());
    drop((again, fast));
}

mod cache;

/// GHSA-rc4p-x33f-vpr2: with wasmtime built without `gc`, 48.0.8 accepts a
/// non-final function type, and a `call_indirect` through it aborts the
/// process at run time. Both engines must refuse such a component when it
/// compiles, before any of it can run.
#[test]
fn a_component_using_gc_subtypes_is_refused_at_compile_time() {
    let component = wat::parse_str(
        r#"(component
            (core module $m
                (type $t (sub (func)))
                (table 1 funcref)
                (func (export "f") (call_indirect (type $t) (i32.const 0))))
            (core instance $i (instantiate $m)))"#,
    )
    .unwrap();
    for flavour in [Flavour::Guarded, Flavour::Fast] {
        let engine = manual(flavour);
        let error = engine
            .compile(&component)
            .map(drop)
            .expect_err("a module with GC subtypes compiled");
        let message = format!("{error:#}");
        assert!(
            message.contains("gc") || message.contains("GC"),
            "{message}"
        );
    }
}
