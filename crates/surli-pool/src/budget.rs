//! The runtime-wide budget: how many instances all modules may keep alive
//! together, and how much linear memory they may hold together.
//!
//! Each module bounds itself (`max_pool_size`, `max_memory_bytes`), but a
//! runtime serving a thousand modules could still add those up to more
//! than the machine has. The budget is the embedder's ceiling over all of
//! them. Idle pooled instances are the first to give way: when a new
//! instance or a memory grow does not fit, idle instances are dropped
//! (module after module, the longest idle of each first) until it fits.
//! Only then does a new instance wait or fail, as
//! [`RuntimeBudget::when_full`] says; a memory grow that does not fit
//! always fails (a guest cannot wait inside `memory.grow`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use surli_host::MemoryBudget;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::caller::{CallerDeadline, within};
use crate::error::{BudgetResource, CallError, CallPhase};
use crate::module::ModuleInner;

/// The embedder's ceilings over every module of a runtime together.
///
/// ```
/// use surli_pool::{RuntimeBudget, RuntimeOptions, WhenFull};
///
/// let options = RuntimeOptions::default().with_budget(
///     RuntimeBudget::default()
///         .with_max_instances(64)
///         .with_max_memory_bytes(4 << 30)
///         .with_when_full(WhenFull::FailFast),
/// );
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RuntimeBudget {
    /// The most instances alive at once across all modules: pooled idle,
    /// leased, being made or initialised, and the one a load makes to ask
    /// a module what it exports. `None` (the default): no ceiling besides
    /// each module's `max_pool_size`.
    pub max_instances: Option<u32>,
    /// The most linear memory, in bytes, that all instances may hold
    /// together (each memory's current size, counted from its initial
    /// size on). `None` (the default): no ceiling besides each module's
    /// `max_memory_bytes`.
    pub max_memory_bytes: Option<u64>,
    /// What a call does when a new instance finds no room under
    /// `max_instances` and no idle instance is left to drop.
    pub when_full: WhenFull,
}

impl RuntimeBudget {
    /// This budget with at most `max` instances alive at once.
    pub fn with_max_instances(mut self, max: u32) -> Self {
        self.max_instances = Some(max);
        self
    }

    /// This budget with at most `max` bytes of linear memory held at once.
    pub fn with_max_memory_bytes(mut self, max: u64) -> Self {
        self.max_memory_bytes = Some(max);
        self
    }

    /// This budget with `when_full` as its policy.
    pub fn with_when_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
        self
    }
}

/// What a call does when the runtime's instance budget is used up by
/// instances that are all busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WhenFull {
    /// Wait for an instance to be dropped anywhere in the runtime (a busy
    /// instance that finishes while calls wait is dropped rather than
    /// pooled, to make room), up to the caller's timeout
    /// ([`CallError::Timeout`] in [`CallPhase::Budget`]). The default.
    #[default]
    Wait,
    /// Fail at once with [`CallError::BudgetExhausted`].
    FailFast,
}

/// How much of the runtime's budget is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BudgetUsage {
    /// Instances alive now, across all modules (counted whether or not
    /// [`RuntimeBudget::max_instances`] is set).
    pub instances: u64,
    /// Bytes of linear memory all instances hold now (counted whether or
    /// not [`RuntimeBudget::max_memory_bytes`] is set).
    pub memory_bytes: u64,
    /// Idle instances dropped so far to make room under the budget.
    pub reclaimed: u64,
    /// Calls that waited for room under `max_instances`.
    pub waits: u64,
    /// Calls (and grows) refused because the budget was used up.
    pub refusals: u64,
}

/// The budget as a runtime keeps it.
pub(crate) struct Budget {
    /// One permit per instance alive; `Semaphore::MAX_PERMITS` when there
    /// is no ceiling, so instances are counted all the same.
    slots: Arc<Semaphore>,
    capacity: usize,
    limited: bool,
    when_full: WhenFull,
    /// Calls waiting for a slot: while any does, an instance coming back
    /// from a call is dropped instead of pooled.
    waiting: AtomicUsize,
    memory: Arc<MemoryBudget>,
    modules: Arc<Modules>,
    waits: AtomicUsize,
    refusals: AtomicUsize,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("capacity", &self.capacity)
            .field("limited", &self.limited)
            .field("memory", &self.memory)
            .finish_non_exhaustive()
    }
}

impl Budget {
    pub(crate) fn new(options: RuntimeBudget) -> Self {
        let modules = Arc::new(Modules::default());
        let reclaimer = Arc::clone(&modules);
        let memory = MemoryBudget::new(options.max_memory_bytes.unwrap_or(u64::MAX))
            .with_reclaimer(move || reclaimer.reclaim_one());
        let capacity = options
            .max_instances
            .map_or(Semaphore::MAX_PERMITS, |max| {
                usize::try_from(max).unwrap_or(Semaphore::MAX_PERMITS)
            })
            .min(Semaphore::MAX_PERMITS);
        Self {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
            limited: options.max_instances.is_some(),
            when_full: options.when_full,
            waiting: AtomicUsize::new(0),
            memory: Arc::new(memory),
            modules,
            waits: AtomicUsize::new(0),
            refusals: AtomicUsize::new(0),
        }
    }

    /// The memory budget every instance's limiter charges.
    pub(crate) fn memory(&self) -> &Arc<MemoryBudget> {
        &self.memory
    }

    /// Lets the budget drop `module`'s idle instances to make room.
    pub(crate) fn register(&self, module: &Arc<ModuleInner>) {
        let mut list = self.modules.list.lock();
        list.retain(|weak| weak.strong_count() > 0);
        list.push(Arc::downgrade(module));
    }

    /// Every module of the runtime still alive.
    pub(crate) fn modules(&self) -> Vec<Arc<ModuleInner>> {
        self.modules
            .list
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Whether calls wait for room, so an instance coming back from a call
    /// should make room rather than be pooled.
    pub(crate) fn has_waiters(&self) -> bool {
        self.limited && self.waiting.load(Ordering::SeqCst) > 0
    }

    /// A slot for one more instance of `module`: at once, by dropping an
    /// idle instance somewhere, or (under [`WhenFull::Wait`]) once one is
    /// freed, until the caller's `deadline`.
    pub(crate) async fn slot(
        &self,
        module: &str,
        deadline: Option<CallerDeadline>,
    ) -> Result<OwnedSemaphorePermit, CallError> {
        if let Some(permit) = self.room_now() {
            return Ok(permit);
        }
        let refused = || CallError::BudgetExhausted {
            module: module.to_owned(),
            resource: BudgetResource::Instances,
            limit: u64::try_from(self.capacity).unwrap_or(u64::MAX),
        };
        // Every instance alive is held by a call of this task's own chain:
        // none can come back before this call ends, so waiting never would.
        if self.when_full == WhenFull::FailFast || crate::chain::depth() >= self.capacity {
            self.refusals.fetch_add(1, Ordering::Relaxed);
            return Err(refused());
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting::new(&self.waiting);
        // Counted as waiting first, then one more look: an instance that
        // went back to its pool before the count was seen is found idle
        // now (pools check the count under their idle lock), and one that
        // comes back later is dropped for this call.
        if let Some(permit) = self.room_now() {
            return Ok(permit);
        }
        let acquire = async {
            Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .map_err(|_| refused())
        };
        within(deadline, CallPhase::Budget, acquire).await
    }

    /// A slot at once, dropping idle instances to make one if need be.
    fn room_now(&self) -> Option<OwnedSemaphorePermit> {
        loop {
            if let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() {
                return Some(permit);
            }
            if !self.modules.reclaim_one() {
                return None;
            }
        }
    }

    /// Counts an instance dropped on its way back to its pool, to make
    /// room for a call waiting under the budget.
    pub(crate) fn note_reclaimed(&self) {
        self.modules.reclaimed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a memory grow the budget refused.
    pub(crate) fn refused(&self) {
        self.refusals.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn memory_limit(&self) -> u64 {
        self.memory.limit()
    }

    pub(crate) fn usage(&self) -> BudgetUsage {
        let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        BudgetUsage {
            instances: wide(self.capacity - self.slots.available_permits()),
            memory_bytes: self.memory.held(),
            reclaimed: wide(self.modules.reclaimed.load(Ordering::Relaxed)),
            waits: wide(self.waits.load(Ordering::Relaxed)),
            refusals: wide(self.refusals.load(Ordering::Relaxed)),
        }
    }
}

/// Counts a waiting call for as long as it waits (dropped or not).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The modules whose idle instances may be dropped to make room.
#[derive(Default)]
struct Modules {
    list: Mutex<Vec<Weak<ModuleInner>>>,
    /// Where the next search for an idle instance starts, so no module is
    /// always the first to give way.
    cursor: AtomicUsize,
    reclaimed: AtomicUsize,
}

impl Modules {
    /// Drops one idle instance of some module; whether there was one.
    /// Runs outside every lock but one module's idle-list lock at a time,
    /// and drops the instance after releasing that too.
    fn reclaim_one(&self) -> bool {
        let modules: Vec<Arc<ModuleInner>> =
            self.list.lock().iter().filter_map(Weak::upgrade).collect();
        if modules.is_empty() {
            return false;
        }
        let start = self.cursor.fetch_add(1, Ordering::Relaxed) % modules.len();
        for module in modules.iter().cycle().skip(start).take(modules.len()) {
            if let Some(instance) = module.take_oldest_idle() {
                drop(instance);
                module.counters.instance_reclaimed();
                self.reclaimed.fetch_add(1, Ordering::Relaxed);
                return true;
            }
        }
        false
    }
}
