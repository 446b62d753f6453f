//! Turning a time limit into an epoch deadline.
//!
//! wasmtime computes `current_epoch + delta` for a deadline, and that sum
//! overflows (a panic in debug builds, an instant timeout in release) for a
//! large enough delta or epoch. Everything here saturates instead.

use std::time::Duration;

/// How often the process ticker advances the epoch of guarded engines.
///
/// Ten milliseconds, as in the original: short enough for timeouts of a few
/// tens of milliseconds to be meaningful, long enough that the ticker costs
/// nothing measurable.
pub const TICK: Duration = Duration::from_millis(10);

/// The epoch delta that interrupts a call no sooner than `limit` after it
/// starts, with `tick` between epoch increments.
///
/// The limit is rounded up to whole ticks, then one more tick is added,
/// because the first tick may be almost over when the call starts. So a
/// 100 ms limit with 10 ms ticks is 11 ticks, and the call is interrupted at
/// the 11th increment. A zero limit still gets one tick.
pub fn ticks_for(limit: Duration, tick: Duration) -> u64 {
    let tick_nanos = tick.as_nanos().max(1);
    let whole = limit.as_nanos().div_ceil(tick_nanos);
    u64::try_from(whole).unwrap_or(u64::MAX).saturating_add(1)
}

/// Clamps `ticks` so that `current_epoch + ticks` cannot overflow inside
/// wasmtime; no limit at all becomes the furthest representable deadline.
pub(crate) fn clamp_delta(current_epoch: u64, ticks: Option<u64>) -> u64 {
    // One below the maximum: wasmtime compares `epoch >= deadline`, and the
    // headroom keeps the sum itself from reaching u64::MAX.
    let room = u64::MAX - 1 - current_epoch.min(u64::MAX - 1);
    ticks.map_or(room, |t| t.min(room))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_never_lets_the_sum_overflow() {
        for current in [
            0,
            1,
            1 << 40,
            u64::MAX / 2,
            u64::MAX - 2,
            u64::MAX - 1,
            u64::MAX,
        ] {
            for ticks in [None, Some(0), Some(11), Some(u64::MAX - 1), Some(u64::MAX)] {
                let delta = clamp_delta(current, ticks);
                assert!(current.checked_add(delta).is_some(), "{current} + {delta}");
                if let Some(t) = ticks {
                    assert!(delta <= t);
                }
            }
        }
        assert_eq!(clamp_delta(5, Some(11)), 11);
        assert_eq!(clamp_delta(u64::MAX - 3, Some(11)), 2);
    }
}
