//! Memory and table limits of one instance, and the record of a denial.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::ResourceLimiter;

/// The sizes and counts an instance's store may reach.
///
/// A refused grow is not a trap: the guest's `memory.grow` returns -1 (or
/// `table.grow` fails), as in the original runtime. A Rust guest then
/// aborts, which traps; [`MemoryLimiter::exhausted`] lets the caller tell
/// that trap apart as running out of memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// The largest size, in bytes, of any one linear memory. `None` leaves
    /// only the engine's own limits.
    ///
    /// Default: `None` (the pool sets the module's effective
    /// `max_memory_bytes`).
    pub max_memory_bytes: Option<usize>,
    /// The most elements any one table may hold.
    ///
    /// Default: [`MemoryLimits::DEFAULT_MAX_TABLE_ELEMENTS`] (100,000).
    pub max_table_elements: usize,
    /// The most core instances a store may create.
    ///
    /// Default: [`MemoryLimits::DEFAULT_MAX_INSTANCES`].
    pub max_instances: usize,
    /// The most tables a store may create.
    ///
    /// Default: [`MemoryLimits::DEFAULT_MAX_TABLES`].
    pub max_tables: usize,
    /// The most linear memories a store may create.
    ///
    /// Default: [`MemoryLimits::DEFAULT_MAX_MEMORIES`].
    pub max_memories: usize,
}

impl MemoryLimits {
    /// Default [`max_table_elements`](Self::max_table_elements): 100,000.
    /// A Rust guest's function table holds one element per function whose
    /// address is taken, a few thousand at most.
    pub const DEFAULT_MAX_TABLE_ELEMENTS: usize = 100_000;
    /// Default [`max_instances`](Self::max_instances): 32. A component
    /// built by the SDK 0.3 creates 3 core instances (measured); wasmtime's
    /// own default is 10,000.
    pub const DEFAULT_MAX_INSTANCES: usize = 32;
    /// Default [`max_tables`](Self::max_tables): 32. SDK guests create 2.
    pub const DEFAULT_MAX_TABLES: usize = 32;
    /// Default [`max_memories`](Self::max_memories): 8. SDK guests create 1.
    pub const DEFAULT_MAX_MEMORIES: usize = 8;

    /// The defaults with `max_memory_bytes` as the memory cap.
    pub fn with_max_memory(max_memory_bytes: Option<usize>) -> Self {
        Self {
            max_memory_bytes,
            ..Self::default()
        }
    }
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            max_memory_bytes: None,
            max_table_elements: Self::DEFAULT_MAX_TABLE_ELEMENTS,
            max_instances: Self::DEFAULT_MAX_INSTANCES,
            max_tables: Self::DEFAULT_MAX_TABLES,
            max_memories: Self::DEFAULT_MAX_MEMORIES,
        }
    }
}

/// What ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// A linear memory; sizes are in bytes.
    Memory,
    /// A table; sizes are in elements.
    Table,
    /// The linear memory every instance sharing a [`MemoryBudget`] may
    /// hold together; sizes are in bytes, of all those instances at once.
    SharedMemory,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Table => "table",
            Self::SharedMemory => "shared memory",
        })
    }
}

/// A grow that did not happen: what, how big it was asked to become, and
/// the limit in the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhaustion {
    /// The memory or table that could not grow.
    pub what: Resource,
    /// The size asked for (bytes for memory, elements for a table).
    pub requested: usize,
    /// The limit that refused it: ours, or the memory's or table's own
    /// maximum (including the pooling allocator's slot size).
    pub limit: usize,
}

impl fmt::Display for Exhaustion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.what {
            Resource::Memory | Resource::SharedMemory => "bytes",
            Resource::Table => "elements",
        };
        write!(
            f,
            "{} grow to {} {unit} refused, over the limit of {} {unit}",
            self.what, self.requested, self.limit
        )
    }
}

/// The [`ResourceLimiter`] of one instance's store: enforces
/// [`MemoryLimits`] and remembers the last grow it could not grant.
///
/// Install it with `store.limiter(|state| state.limiter_mut())`. After a
/// trap, [`exhausted`](Self::exhausted) says whether a memory or table grow
/// had been refused since the last [`reset`](Self::reset), which is how a
/// trap becomes an out-of-memory error.
///
/// With a [`MemoryBudget`] ([`MemoryLimiter::sharing`]) every memory grow
/// is also charged to the budget, and the instance's whole charge is given
/// back when the limiter (its store) is dropped.
#[derive(Debug)]
pub struct MemoryLimiter {
    limits: MemoryLimits,
    exhausted: Option<Exhaustion>,
    /// The grow last allowed, so that a failure wasmtime reports after it
    /// (the allocation itself failed) can be recorded with its size.
    pending: Option<Exhaustion>,
    shared: Option<Charge>,
}

impl MemoryLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: MemoryLimits) -> Self {
        Self {
            limits,
            exhausted: None,
            pending: None,
            shared: None,
        }
    }

    /// This limiter, also charging every memory grow to `budget`.
    pub fn sharing(mut self, budget: Arc<MemoryBudget>) -> Self {
        self.shared = Some(Charge {
            budget,
            held: 0,
            pending: 0,
        });
        self
    }

    /// The bytes of linear memory this limiter has charged to its
    /// [`MemoryBudget`] (zero without one).
    pub fn charged(&self) -> u64 {
        self.shared.as_ref().map_or(0, |charge| charge.held)
    }

    /// The limits enforced.
    pub fn limits(&self) -> &MemoryLimits {
        &self.limits
    }

    /// The last grow refused since the last [`reset`](Self::reset), if any.
    pub fn exhausted(&self) -> Option<Exhaustion> {
        self.exhausted
    }

    /// Forgets refused grows, for example before each call.
    pub fn reset(&mut self) {
        self.exhausted = None;
        self.pending = None;
    }

    fn growing(
        &mut self,
        what: Resource,
        desired: usize,
        maximum: Option<usize>,
        ours: Option<usize>,
    ) -> bool {
        // The memory's or table's own maximum (or the pooling allocator's
        // slot) refuses the grow after us anyway; refusing it here records
        // it with its size, which the later failure report lacks.
        let limit = match (maximum, ours) {
            (Some(max), Some(ours)) => Some(max.min(ours)),
            (max, ours) => max.or(ours),
        };
        if let Some(limit) = limit.filter(|limit| desired > *limit) {
            self.exhausted = Some(Exhaustion {
                what,
                requested: desired,
                limit,
            });
            self.pending = None;
            return false;
        }
        self.pending = Some(Exhaustion {
            what,
            requested: desired,
            limit: limit.unwrap_or(usize::MAX),
        });
        true
    }

    /// Charges the growth of one memory from `current` to `desired` bytes
    /// to the shared budget, if any; refuses (and records) a grow the
    /// budget cannot hold.
    fn charge(&mut self, current: usize, desired: usize) -> bool {
        let Some(charge) = self.shared.as_mut() else {
            return true;
        };
        let grow = u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX);
        match charge.budget.take(grow, charge.held) {
            Ok(()) => {
                charge.held = charge.held.saturating_add(grow);
                charge.pending = grow;
                true
            }
            Err(would_be) => {
                self.exhausted = Some(Exhaustion {
                    what: Resource::SharedMemory,
                    requested: usize::try_from(would_be).unwrap_or(usize::MAX),
                    limit: usize::try_from(charge.budget.limit()).unwrap_or(usize::MAX),
                });
                self.pending = None;
                false
            }
        }
    }

    fn grow_failed(&mut self, what: Resource) {
        if what == Resource::Memory
            && let Some(charge) = self.shared.as_mut()
        {
            // The grow charged in `memory_growing` did not happen.
            let grow = std::mem::take(&mut charge.pending);
            charge.held = charge.held.saturating_sub(grow);
            charge.budget.give_back(grow);
        }
        match self.pending.take() {
            Some(pending) if pending.what == what => self.exhausted = Some(pending),
            _ => {
                self.exhausted = Some(Exhaustion {
                    what,
                    requested: usize::MAX,
                    limit: usize::MAX,
                })
            }
        }
    }
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new(MemoryLimits::default())
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.growing(
            Resource::Memory,
            desired,
            maximum,
            self.limits.max_memory_bytes,
        ) && self.charge(current, desired))
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        tracing::debug!(%error, "guest memory grow failed");
        self.grow_failed(Resource::Memory);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.growing(
            Resource::Table,
            desired,
            maximum,
            Some(self.limits.max_table_elements),
        ))
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        tracing::debug!(%error, "guest table grow failed");
        self.grow_failed(Resource::Table);
        Ok(())
    }

    fn instances(&self) -> usize {
        self.limits.max_instances
    }

    fn tables(&self) -> usize {
        self.limits.max_tables
    }

    fn memories(&self) -> usize {
        self.limits.max_memories
    }
}

/// Linear memory that the instances of many modules may hold together: a
/// runtime-wide ceiling, so that many modules, each within its own
/// `max_memory_bytes`, cannot add up to more than the machine has.
///
/// Each instance's [`MemoryLimiter`] charges its memories' grows here
/// ([`MemoryLimiter::sharing`]), including the initial size at
/// instantiation, and gives its whole charge back when its store is
/// dropped. A grow the budget cannot hold first asks the budget's
/// reclaimer (see [`MemoryBudget::with_reclaimer`]) to free memory held by
/// idle instances, then is refused like any other: `memory.grow` returns
/// -1 to the guest and [`MemoryLimiter::exhausted`] records a
/// [`Resource::SharedMemory`] exhaustion.
pub struct MemoryBudget {
    limit: u64,
    held: AtomicU64,
    reclaimer: Option<Box<dyn Fn() -> bool + Send + Sync>>,
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit)
            .field("held", &self.held())
            .field("reclaimer", &self.reclaimer.is_some())
            .finish()
    }
}

impl MemoryBudget {
    /// A budget of `limit` bytes (`u64::MAX`: counted, never refused).
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            held: AtomicU64::new(0),
            reclaimer: None,
        }
    }

    /// This budget, calling `reclaim` when a grow does not fit: it should
    /// drop one idle instance somewhere (whose store gives its memory back)
    /// and say whether it did. It runs on the growing guest's thread,
    /// inside the grow, so it must not wait on anything a guest holds.
    pub fn with_reclaimer(mut self, reclaim: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        self.reclaimer = Some(Box::new(reclaim));
        self
    }

    /// The ceiling, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The bytes charged now, by every instance sharing the budget.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Acquire)
    }

    /// Takes `bytes` for an instance that holds `own` already, reclaiming
    /// idle memory while it does not fit. A grow that would not fit even
    /// were the instance alone is refused at once: dropping every idle
    /// instance in the runtime for it would be for nothing. Fails with what
    /// the total would have been.
    fn take(&self, bytes: u64, own: u64) -> Result<(), u64> {
        if own.saturating_add(bytes) > self.limit {
            return self.try_take(bytes);
        }
        loop {
            match self.try_take(bytes) {
                Ok(()) => return Ok(()),
                Err(would_be) => {
                    let freed = self.reclaimer.as_ref().is_some_and(|reclaim| reclaim());
                    if !freed {
                        return Err(would_be);
                    }
                }
            }
        }
    }

    fn try_take(&self, bytes: u64) -> Result<(), u64> {
        let mut held = self.held.load(Ordering::Acquire);
        loop {
            let would_be = held.saturating_add(bytes);
            if would_be > self.limit {
                return Err(would_be);
            }
            match self.held.compare_exchange_weak(
                held,
                would_be,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => held = now,
            }
        }
    }

    fn give_back(&self, bytes: u64) {
        // Never below zero, even if a caller gave back more than it took.
        let _ = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                Some(held.saturating_sub(bytes))
            });
    }
}

/// What one limiter holds of a [`MemoryBudget`]; given back on drop.
#[derive(Debug)]
struct Charge {
    budget: Arc<MemoryBudget>,
    held: u64,
    /// The last grow charged, undone if wasmtime reports it failed.
    pending: u64,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}
