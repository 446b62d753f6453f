//! Memory and table limits of one instance, and the record of a denial.

use std::fmt;

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
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Table => "table",
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
            Resource::Memory => "bytes",
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
#[derive(Debug, Clone)]
pub struct MemoryLimiter {
    limits: MemoryLimits,
    exhausted: Option<Exhaustion>,
    /// The grow last allowed, so that a failure wasmtime reports after it
    /// (the allocation itself failed) can be recorded with its size.
    pending: Option<Exhaustion>,
}

impl MemoryLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: MemoryLimits) -> Self {
        Self {
            limits,
            exhausted: None,
            pending: None,
        }
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

    fn grow_failed(&mut self, what: Resource) {
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
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(self.growing(
            Resource::Memory,
            desired,
            maximum,
            self.limits.max_memory_bytes,
        ))
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
