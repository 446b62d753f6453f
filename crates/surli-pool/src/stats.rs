//! Per-module counters: cheap atomics bumped on the call path, read as a
//! consistent-enough snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use surli_engine::ArtifactSource;

use crate::error::CallError;

#[derive(Debug, Default)]
pub(crate) struct Counters {
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
    instances_overflowed: AtomicU64,
    pool_hits: AtomicU64,
    init_failures: AtomicU64,
    checked_out: AtomicU64,
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
    /// happen.
    pub instances_retired: u64,
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
}

/// How a module's compiled component was obtained, fixed at load.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ArtifactStats {
    pub(crate) source: ArtifactSource,
    pub(crate) bytes: u64,
    pub(crate) time: Duration,
}

impl Counters {
    pub(crate) fn snapshot(&self, artifact: ArtifactStats) -> ModuleStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ModuleStats {
            calls: get(&self.calls),
            ok: get(&self.ok),
            guest_errors: get(&self.guest_errors),
            timeouts: get(&self.timeouts),
            out_of_memory: get(&self.out_of_memory),
            traps: get(&self.traps),
            codec_errors: get(&self.codec_errors),
            other_errors: get(&self.other_errors),
            cancelled: get(&self.cancelled),
            instances_created: get(&self.instances_created),
            instances_discarded: get(&self.instances_discarded),
            instances_retired: get(&self.instances_retired),
            instances_overflowed: get(&self.instances_overflowed),
            pool_hits: get(&self.pool_hits),
            init_failures: get(&self.init_failures),
            checked_out: get(&self.checked_out),
            artifact_source: artifact.source,
            artifact_bytes: artifact.bytes,
            artifact_time: artifact.time,
        }
    }

    pub(crate) fn call_started(&self) {
        bump(&self.calls);
    }

    pub(crate) fn call_finished<T>(&self, outcome: &Result<T, CallError>) {
        let counter = match outcome {
            Ok(_) => &self.ok,
            Err(CallError::Guest { .. }) => &self.guest_errors,
            Err(CallError::Timeout { .. }) => &self.timeouts,
            Err(CallError::OutOfMemory { .. }) => &self.out_of_memory,
            Err(CallError::Trap { .. }) => &self.traps,
            Err(CallError::Codec(_)) => &self.codec_errors,
            // Instantiation, init, a missing export, an answer over the
            // result-size cap: every other kind is counted here, so the
            // outcomes always add up to the calls.
            Err(_) => &self.other_errors,
        };
        bump(counter);
    }

    pub(crate) fn call_cancelled(&self) {
        bump(&self.cancelled);
    }

    pub(crate) fn instance_created(&self) {
        bump(&self.instances_created);
    }

    pub(crate) fn instance_discarded(&self) {
        bump(&self.instances_discarded);
    }

    pub(crate) fn instance_retired(&self) {
        bump(&self.instances_retired);
    }

    pub(crate) fn instance_overflowed(&self) {
        bump(&self.instances_overflowed);
    }

    pub(crate) fn pool_hit(&self) {
        bump(&self.pool_hits);
    }

    pub(crate) fn init_failed(&self) {
        bump(&self.init_failures);
    }

    pub(crate) fn checked_out(&self) {
        bump(&self.checked_out);
    }

    pub(crate) fn checked_in(&self) {
        self.checked_out.fetch_sub(1, Ordering::Relaxed);
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
