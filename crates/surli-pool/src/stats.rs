//! Per-module counters: cheap atomics bumped on the call path, read as a
//! consistent-enough snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use surli_engine::ArtifactSource;

use crate::error::CallError;

/// The counters of one module, in shards: each thread bumps the shard it
/// was given, so two workers calling the same module do not pass the same
/// cache lines back and forth on every call (at 300k calls a second per
/// core, that traffic cost more than the counting). A snapshot adds the
/// shards up.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    shards: [Shard; SHARDS],
}

/// Enough that the threads of a typical runtime rarely share a shard.
const SHARDS: usize = 8;

/// One shard, alone on its cache lines (128 bytes: the pair of lines the
/// adjacent-line prefetcher fetches together on x86).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    calls: AtomicU64,
    ok: AtomicU64,
    guest_errors: AtomicU64,
    timeouts: AtomicU64,
    out_of_memory: AtomicU64,
    traps: AtomicU64,
    codec_errors: AtomicU64,
    other_errors: AtomicU64,
    cancelled: AtomicU64,
    instances_created: AtomicU64,
    instances_discarded: AtomicU64,
    instances_retired: AtomicU64,
    instances_reclaimed: AtomicU64,
    instances_overflowed: AtomicU64,
    pool_hits: AtomicU64,
    init_failures: AtomicU64,
    checked_out: AtomicU64,
    output_truncated_calls: AtomicU64,
    output_dropped_bytes: AtomicU64,
}

/// The shard of the current thread, handed out round-robin on first use.
fn shard_index() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|index| *index)
}

/// A snapshot of a module's counters.
///
/// Every call ends in exactly one outcome, so once no call is in flight
/// `calls == ok + guest_errors + timeouts + out_of_memory + traps +
/// codec_errors + other_errors + cancelled`, and every instance ever
/// created is discarded, retired, idle in the pool or held by a lease:
/// `instances_created == instances_discarded + instances_retired + idle +
/// leased` (the pool drops nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ModuleStats {
    /// Calls started.
    pub calls: u64,
    /// Calls that returned a value.
    pub ok: u64,
    /// Calls that ended in the guest's own error.
    pub guest_errors: u64,
    /// Calls stopped by a time limit.
    pub timeouts: u64,
    /// Calls that ran out of memory.
    pub out_of_memory: u64,
    /// Calls that trapped.
    pub traps: u64,
    /// Calls whose arguments or result could not be encoded or decoded.
    pub codec_errors: u64,
    /// Calls that failed another way (instantiation, init, missing export,
    /// an answer over the result-size cap).
    pub other_errors: u64,
    /// Calls whose future was dropped before they finished.
    pub cancelled: u64,
    /// Instances created.
    pub instances_created: u64,
    /// Instances thrown away after a trap, timeout, out-of-memory or cancel
    /// (and the one instance a load creates to ask the module what it
    /// exports).
    pub instances_discarded: u64,
    /// Healthy instances dropped by the module's
    /// [`Isolation`](crate::Isolation): after each call under
    /// `FreshPerCall`, after `max_uses` calls or `max_idle` in the pool
    /// under `Recycle`. Under `Reuse` only an instance coming back to a
    /// full pool is retired, which the pool's own bookkeeping never lets
    /// happen. Also counts the instances in `instances_reclaimed`.
    pub instances_retired: u64,
    /// Idle instances (among `instances_retired`) dropped to make room for
    /// another instance, or another instance's memory, under the runtime's
    /// [`RuntimeBudget`](crate::RuntimeBudget). An instance returning from
    /// a call while calls wait for room under the budget is dropped too,
    /// and counted here.
    pub instances_reclaimed: u64,
    /// Instances (among `instances_created`) allocated on demand, on the
    /// engine's overflow twin, because the engine's pool had no free slot.
    pub instances_overflowed: u64,
    /// Leases served by an idle pooled instance.
    pub pool_hits: u64,
    /// `init` runs that failed.
    pub init_failures: u64,
    /// Leases out right now.
    pub checked_out: u64,
    /// Where the module's compiled component came from at load: the
    /// runtime's memory, the disk cache, or a compile.
    pub artifact_source: ArtifactSource,
    /// The size of the compiled artifact read or written, or 0 when none
    /// was (a memory hit, or a compile without a cache directory).
    pub artifact_bytes: u64,
    /// How long getting the compiled component took at load.
    pub artifact_time: Duration,
    /// Calls (and `init` runs) whose output passed the runtime's
    /// [`StdioLimits`](surli_host::StdioLimits) per call and was cut short.
    pub output_truncated_calls: u64,
    /// Bytes of guest output dropped past those limits.
    pub output_dropped_bytes: u64,
    /// Outbound HTTP (`wasi:http`): requests, refusals and body bytes.
    pub http: surli_host::HttpCounts,
}

/// The memory a module holds, as [`Module::memory`](crate::Module::memory)
/// reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ModuleMemory {
    /// The machine code of its compiled component. Modules loaded from the
    /// same component share it: it is in memory once.
    pub code_bytes: u64,
    /// Instances idle in its pool.
    pub idle_instances: usize,
    /// The linear memory those idle instances hold.
    pub idle_instance_bytes: u64,
    /// The data of its KV store, when the store keeps it in this process's
    /// memory ([`KvStore::resident_bytes`](surli_kv::KvStore::resident_bytes)).
    pub kv_bytes: Option<u64>,
}

/// How a module's compiled component was obtained, fixed at load.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ArtifactStats {
    pub(crate) source: ArtifactSource,
    pub(crate) bytes: u64,
    pub(crate) time: Duration,
}

impl Counters {
    pub(crate) fn snapshot(
        &self,
        artifact: ArtifactStats,
        http: surli_host::HttpCounts,
    ) -> ModuleStats {
        // A decrement may land in another shard than its increment (a
        // lease returned on another thread), so shards add up wrapping.
        let sum = |field: fn(&Shard) -> &AtomicU64| {
            self.shards.iter().fold(0u64, |total, shard| {
                total.wrapping_add(field(shard).load(Ordering::Relaxed))
            })
        };
        ModuleStats {
            calls: sum(|s| &s.calls),
            ok: sum(|s| &s.ok),
            guest_errors: sum(|s| &s.guest_errors),
            timeouts: sum(|s| &s.timeouts),
            out_of_memory: sum(|s| &s.out_of_memory),
            traps: sum(|s| &s.traps),
            codec_errors: sum(|s| &s.codec_errors),
            other_errors: sum(|s| &s.other_errors),
            cancelled: sum(|s| &s.cancelled),
            instances_created: sum(|s| &s.instances_created),
            instances_discarded: sum(|s| &s.instances_discarded),
            instances_retired: sum(|s| &s.instances_retired),
            instances_reclaimed: sum(|s| &s.instances_reclaimed),
            instances_overflowed: sum(|s| &s.instances_overflowed),
            pool_hits: sum(|s| &s.pool_hits),
            init_failures: sum(|s| &s.init_failures),
            // Read shard by shard while leases move, the sum can be caught
            // between a return counted and its checkout not yet seen.
            checked_out: u64::try_from(sum(|s| &s.checked_out).cast_signed()).unwrap_or(0),
            artifact_source: artifact.source,
            artifact_bytes: artifact.bytes,
            artifact_time: artifact.time,
            output_truncated_calls: sum(|s| &s.output_truncated_calls),
            output_dropped_bytes: sum(|s| &s.output_dropped_bytes),
            http,
        }
    }

    fn mine(&self) -> &Shard {
        &self.shards[shard_index()]
    }

    pub(crate) fn call_started(&self) {
        bump(&self.mine().calls);
    }

    pub(crate) fn call_finished<T>(&self, outcome: &Result<T, CallError>) {
        let shard = self.mine();
        let counter = match outcome {
            Ok(_) => &shard.ok,
            Err(CallError::Guest { .. }) => &shard.guest_errors,
            Err(CallError::Timeout { .. }) => &shard.timeouts,
            Err(CallError::OutOfMemory { .. }) => &shard.out_of_memory,
            Err(CallError::Trap { .. }) => &shard.traps,
            Err(CallError::Codec(_)) => &shard.codec_errors,
            // Instantiation, init, a missing export, an answer over the
            // result-size cap: every other kind is counted here, so the
            // outcomes always add up to the calls.
            Err(_) => &shard.other_errors,
        };
        bump(counter);
    }

    pub(crate) fn call_cancelled(&self) {
        bump(&self.mine().cancelled);
    }

    pub(crate) fn instance_created(&self) {
        bump(&self.mine().instances_created);
    }

    pub(crate) fn instance_discarded(&self) {
        bump(&self.mine().instances_discarded);
    }

    pub(crate) fn instance_retired(&self) {
        bump(&self.mine().instances_retired);
    }

    /// An idle instance dropped to make room under the runtime's budget;
    /// it is retired as well.
    pub(crate) fn instance_reclaimed(&self) {
        let shard = self.mine();
        bump(&shard.instances_retired);
        bump(&shard.instances_reclaimed);
    }

    pub(crate) fn instance_overflowed(&self) {
        bump(&self.mine().instances_overflowed);
    }

    pub(crate) fn pool_hit(&self) {
        bump(&self.mine().pool_hits);
    }

    pub(crate) fn init_failed(&self) {
        bump(&self.mine().init_failures);
    }

    pub(crate) fn output_truncated(&self, dropped_bytes: u64) {
        let shard = self.mine();
        bump(&shard.output_truncated_calls);
        shard
            .output_dropped_bytes
            .fetch_add(dropped_bytes, Ordering::Relaxed);
    }

    pub(crate) fn checked_out(&self) {
        bump(&self.mine().checked_out);
    }

    /// Calls started and not yet ended (in any way, cancelled included).
    pub(crate) fn calls_in_flight(&self) -> u64 {
        let s = self.snapshot(ArtifactStats::default(), surli_host::HttpCounts::default());
        s.calls.saturating_sub(
            s.ok + s.guest_errors
                + s.timeouts
                + s.out_of_memory
                + s.traps
                + s.codec_errors
                + s.other_errors
                + s.cancelled,
        )
    }

    /// Leases out now, summed over the shards.
    pub(crate) fn leases_out(&self) -> u64 {
        let sum = self.shards.iter().fold(0u64, |total, shard| {
            total.wrapping_add(shard.checked_out.load(Ordering::Relaxed))
        });
        u64::try_from(sum.cast_signed()).unwrap_or(0)
    }

    pub(crate) fn checked_in(&self) {
        self.mine().checked_out.fetch_sub(1, Ordering::Relaxed);
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_add_up_across_threads() {
        let counters = Counters::default();
        std::thread::scope(|scope| {
            for _ in 0..(SHARDS * 2) {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        counters.call_started();
                        counters.call_finished::<()>(&Ok(()));
                        counters.checked_out();
                    }
                });
            }
        });
        // Every checkout returned on another thread than it was taken on.
        std::thread::scope(|scope| {
            for _ in 0..(SHARDS * 2) {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        counters.checked_in();
                    }
                });
            }
        });
        let stats = counters.snapshot(ArtifactStats::default(), surli_host::HttpCounts::default());
        let expected = (SHARDS * 2 * 1000) as u64;
        assert_eq!((stats.calls, stats.ok), (expected, expected));
        assert_eq!(stats.checked_out, 0);
    }

    #[test]
    fn a_return_seen_before_its_checkout_reads_as_none_out() {
        let counters = Counters::default();
        // As a snapshot taken mid-move could see it: one more return than
        // checkouts in the shards it read.
        counters.checked_in();
        let stats = counters.snapshot(ArtifactStats::default(), surli_host::HttpCounts::default());
        assert_eq!(stats.checked_out, 0);
    }
}
