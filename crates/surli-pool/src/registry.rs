//! Modules under an embedder's keys: loaded once however many callers ask
//! at once, bounded in count and in bytes, replaced and removed while calls
//! run, trimmed when idle.
//!
//! # The bound
//!
//! Eviction is [`quick_cache`]'s (the cache SurrealDB keeps its own modules
//! in): one shard, so the bound is exact rather than split between shards,
//! and a CLOCK over the held modules, so one not asked for since the last
//! sweep goes before one in use. The module being admitted is pinned while
//! it goes in, so a full registry makes room for it rather than turning it
//! away.
//!
//! Each module weighs the bytes it holds ([`Module::memory`]): its compiled
//! code, its idle instances' linear memory and its KV store's data when
//! that lives in memory. Code shared by modules of the same component is
//! weighed once, on one of them. Both bounds are kept by one weight: every
//! module weighs at least `max_bytes / max_modules` (rounded down, and the
//! capacity is that times `max_modules`, so it never passes `max_bytes`),
//! so the weights fit only while there are at most `max_modules` of them.
//! (The price: many small modules beside a few big ones are evicted
//! somewhat before either bound alone would evict them.)
//!
//! Weights change as modules run (pools grow, KV stores fill). A module is
//! weighed when it enters the registry and again at every
//! [`Registry::maintain`]; the byte bound holds as of the last weighing.
//! Run maintenance on a schedule ([`Registry::spawn_maintenance`]).
//!
//! # Leaving the registry
//!
//! A module leaves when it is evicted, replaced or removed. It is then
//! drained: callers that already hold it (a call in flight, a lease) keep
//! using it to the end, but its idle instances are dropped at once and
//! every instance coming back from a call is dropped too. The registry
//! never holds an embedder's call back. When no module left in the
//! registry uses a compiled component, the runtime's memory cache forgets
//! it ([`Runtime::forget_compiled`]); its code is freed with the last
//! module that holds it.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, OptionsBuilder, Weighter};
use surli_package::Package;

use crate::error::LoadError;
use crate::module::{Module, ModuleInner, ModuleOptions};
use crate::runtime::Runtime;
use crate::stats::ModuleStats;

/// How many modules, and how many bytes of them, a [`Registry`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryOptions {
    /// The most modules kept (at least 1). Default 1,024.
    pub max_modules: usize,
    /// The most bytes the kept modules may weigh (see the module docs);
    /// `None`: bounded by count only. Default 4 GiB.
    pub max_bytes: Option<u64>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            max_modules: 1024,
            max_bytes: Some(4 << 30),
        }
    }
}

impl RegistryOptions {
    /// These options keeping at most `max` modules.
    #[must_use]
    pub fn with_max_modules(mut self, max: usize) -> Self {
        self.max_modules = max;
        self
    }

    /// These options keeping modules weighing at most `max` bytes in all
    /// (`None`: no byte bound).
    #[must_use]
    pub fn with_max_bytes(mut self, max: Option<u64>) -> Self {
        self.max_bytes = max;
        self
    }
}

/// What a [`Registry`] has done so far, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Modules held now.
    pub modules: usize,
    /// Their weight, as last weighed.
    pub weight: u64,
    /// The weight the registry may hold: `max_bytes`, or `max_modules`
    /// when there is no byte bound (every module then weighs 1).
    pub capacity: u64,
    /// Modules loaded through [`Registry::get_or_load`] and
    /// [`Registry::replace`].
    pub loads: u64,
    /// Requests answered by a module already held.
    pub hits: u64,
    /// Modules evicted to keep the bound.
    pub evictions: u64,
    /// Modules replaced by [`Registry::replace`].
    pub replaced: u64,
    /// Modules removed by [`Registry::remove`].
    pub removed: u64,
    /// Modules served but not kept because each alone weighed more than the
    /// registry may hold.
    pub too_heavy: u64,
    /// Idle instances dropped by maintenance.
    pub trimmed: u64,
}

/// The counters of one module a key has held, from
/// [`Registry::versions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionStats {
    /// The module's `organisation/name@version`.
    pub id: String,
    /// Whether it is the module the registry holds under the key now.
    pub current: bool,
    /// Whether anything still holds it (the registry, or a call or lease
    /// that started before it was replaced); its counters may still move.
    pub alive: bool,
    /// Its counters: now if it is alive, else as they were when it went.
    pub stats: ModuleStats,
}

/// How many modules a key's history keeps; older ones are forgotten.
const MAX_VERSIONS: usize = 16;

/// Modules under an embedder's keys; see the [module docs](self). Cheap to
/// clone: clones share the modules.
pub struct Registry<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for Registry<K> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K: Eq + Hash> std::fmt::Debug for Registry<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("options", &self.inner.options)
            .field("modules", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

/// A held module and its weight when last weighed.
#[derive(Clone)]
struct Entry {
    module: Module,
    weight: u64,
    /// Set while the entry is being admitted, so the eviction that makes
    /// room for it cannot pick it.
    pinned: Arc<AtomicBool>,
}

#[derive(Clone)]
struct ByWeight;

impl<K> Weighter<K, Entry> for ByWeight {
    fn weight(&self, _key: &K, entry: &Entry) -> u64 {
        entry.weight
    }
}

/// Collects what the cache evicts in a request, to be drained once its
/// lock is let go: by the caller for the requests surli makes with
/// `*_with_lifecycle`, through a shared list for the cache's own.
struct Evicted<K>(Arc<Mutex<Vec<(K, Entry)>>>);

impl<K> Clone for Evicted<K> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<K> Lifecycle<K, Entry> for Evicted<K> {
    type RequestState = Vec<(K, Entry)>;

    fn is_pinned(&self, _key: &K, entry: &Entry) -> bool {
        entry.pinned.load(Ordering::Relaxed)
    }

    fn begin_request(&self) -> Self::RequestState {
        Vec::new()
    }

    fn on_evict(&self, state: &mut Self::RequestState, key: K, entry: Entry) {
        state.push((key, entry));
    }

    fn end_request(&self, state: Self::RequestState) {
        if !state.is_empty() {
            self.0.lock().extend(state);
        }
    }
}

/// One module a key held, for its counters.
struct Version {
    id: String,
    module: Weak<ModuleInner>,
    last: Arc<Mutex<Option<ModuleStats>>>,
}

#[derive(Default)]
struct Counters {
    loads: AtomicU64,
    hits: AtomicU64,
    evictions: AtomicU64,
    replaced: AtomicU64,
    removed: AtomicU64,
    too_heavy: AtomicU64,
    trimmed: AtomicU64,
}

struct Inner<K> {
    runtime: Runtime,
    options: RegistryOptions,
    capacity: u64,
    /// The least a module weighs (1 when bounded by count only).
    floor: u64,
    cache: Cache<K, Entry, ByWeight, DefaultHashBuilder, Evicted<K>>,
    evicted: Arc<Mutex<Vec<(K, Entry)>>>,
    /// How many held modules use each compiled component.
    components: Mutex<HashMap<[u8; 32], usize>>,
    versions: Mutex<HashMap<K, Vec<Version>>>,
    counters: Counters,
}

/// Why a module left the registry (or never got in).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaving {
    Evicted,
    Replaced,
    Removed,
    /// Served to its caller but never held: too heavy, or its key was
    /// replaced or removed while it loaded. Not drained: its caller is
    /// using it.
    NotKept,
}

impl<K> Registry<K>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
{
    /// An empty registry loading modules on `runtime`.
    pub fn new(runtime: Runtime, options: RegistryOptions) -> Self {
        let max_modules = options.max_modules.max(1);
        let count = u64::try_from(max_modules).unwrap_or(u64::MAX);
        let (capacity, floor) = match options.max_bytes {
            Some(bytes) => {
                let floor = (bytes / count).max(1);
                (floor.saturating_mul(count), floor)
            }
            None => (count, 1),
        };
        let evicted = Arc::new(Mutex::new(Vec::new()));
        let cache_options = OptionsBuilder::new()
            .shards(1)
            .estimated_items_capacity(max_modules)
            .weight_capacity(capacity)
            // Everything may be hot: the cache then refuses only a module
            // heavier than the whole capacity, and evicts by CLOCK.
            .hot_allocation(1.0)
            .build();
        let cache_options = match cache_options {
            Ok(options) => options,
            // Every field the builder checks is set above.
            Err(error) => unreachable!("registry cache options: {error}"),
        };
        let cache = Cache::with_options(
            cache_options,
            ByWeight,
            DefaultHashBuilder::default(),
            Evicted(Arc::clone(&evicted)),
        );
        Self {
            inner: Arc::new(Inner {
                runtime,
                options: RegistryOptions {
                    max_modules,
                    ..options
                },
                capacity,
                floor,
                cache,
                evicted,
                components: Mutex::new(HashMap::new()),
                versions: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// The runtime modules are loaded on.
    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// The module held under `key`, if any.
    pub fn get(&self, key: &K) -> Option<Module> {
        let module = self.inner.cache.get(key).map(|entry| entry.module);
        if module.is_some() {
            self.inner.counters.hits.fetch_add(1, Ordering::Relaxed);
        }
        module
    }

    /// The module held under `key`, or the one `source` gives, loaded and
    /// kept. However many callers ask for a missing key at once, one of
    /// them runs `source` and loads; the others wait and get its module.
    /// If that load fails, or its caller's future is dropped, the next
    /// waiter tries in turn.
    ///
    /// A module heavier than the registry may hold is returned but not
    /// kept (counted in [`RegistryStats::too_heavy`]).
    ///
    /// # Errors
    ///
    /// `source`'s own error, or the [`LoadError`] of loading its package.
    pub async fn get_or_load<F, Fut, E>(&self, key: &K, source: F) -> Result<Module, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Package, ModuleOptions), E>>,
        E: From<LoadError>,
    {
        let inner = &self.inner;
        let guard = match inner.cache.get_value_or_guard_async(key).await {
            Ok(entry) => {
                inner.counters.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(entry.module);
            }
            Err(guard) => guard,
        };
        let (package, options) = source().await?;
        let module = inner.runtime.load_with(package, options).await?;
        inner.counters.loads.fetch_add(1, Ordering::Relaxed);
        let entry = inner.admit(key, &module);
        let pinned = Arc::clone(&entry.pinned);
        let inserted = guard.insert_with_lifecycle(entry);
        pinned.store(false, Ordering::Relaxed);
        match inserted {
            Ok(evicted) => {
                inner.settle(evicted, Some(&module), None);
                Ok(module)
            }
            Err(entry) => {
                // A replace or remove of the key took the placeholder away
                // while this load ran: what they left wins.
                inner.leave(key, &entry, Leaving::NotKept);
                Ok(inner.cache.get(key).map_or(module, |held| held.module))
            }
        }
    }

    /// Loads `package` and puts it under `key` in place of the module held
    /// there, which is returned, drained: calls and leases that already
    /// hold it finish on it, new requests get the new module.
    ///
    /// The KV store: unless `options` gives one, a module with the same
    /// `organisation/name@version` as the one it replaces keeps that
    /// module's store; a module of another identity or version gets a new
    /// in-memory store. A durable store is per version: pass the new
    /// version's in `options`.
    ///
    /// # Errors
    ///
    /// The [`LoadError`] of loading `package`; the held module is then left
    /// as it was.
    pub async fn replace(
        &self,
        key: K,
        package: Package,
        mut options: ModuleOptions,
    ) -> Result<Option<Module>, LoadError> {
        let inner = &self.inner;
        if options.kv.is_none()
            && let Some(held) = inner.cache.peek(&key)
            && held.module.id() == crate::module::module_id(package.config())
        {
            options.kv = Some(Arc::clone(held.module.kv()));
        }
        let module = inner.runtime.load_with(package, options).await?;
        inner.counters.loads.fetch_add(1, Ordering::Relaxed);
        let entry = inner.admit(&key, &module);
        let pinned = Arc::clone(&entry.pinned);
        // The module it replaces comes back as evicted, in this request's
        // own list, so no other request can count it.
        let evicted = inner.cache.insert_with_lifecycle(key.clone(), entry);
        pinned.store(false, Ordering::Relaxed);
        Ok(inner.settle(evicted, Some(&module), Some(&key)))
    }

    /// Takes the module under `key` out of the registry and returns it,
    /// drained: calls and leases that already hold it finish on it.
    pub fn remove(&self, key: &K) -> Option<Module> {
        let inner = &self.inner;
        let (key, entry) = inner.cache.remove(key)?;
        inner.counters.removed.fetch_add(1, Ordering::Relaxed);
        inner.leave(&key, &entry, Leaving::Removed);
        Some(entry.module)
    }

    /// The keys held now, in no particular order.
    pub fn keys(&self) -> Vec<K> {
        self.inner.cache.iter().map(|(key, _)| key).collect()
    }

    /// The counters of the modules `key` has held, oldest first (at most
    /// the last 16): the current one and those it replaced. Empty once the
    /// key is removed or evicted.
    pub fn versions(&self, key: &K) -> Vec<VersionStats> {
        let current = self.inner.cache.peek(key).map(|entry| entry.module);
        let versions = self.inner.versions.lock();
        let Some(versions) = versions.get(key) else {
            return Vec::new();
        };
        versions
            .iter()
            .filter_map(|version| {
                let alive = version.module.upgrade().map(|inner| Module { inner });
                let stats = match &alive {
                    Some(module) => module.stats(),
                    None => (*version.last.lock())?,
                };
                Some(VersionStats {
                    id: version.id.clone(),
                    current: alive
                        .as_ref()
                        .zip(current.as_ref())
                        .is_some_and(|(a, b)| a.is_same(b)),
                    alive: alive.is_some(),
                    stats,
                })
            })
            .collect()
    }

    /// What the registry holds and has done.
    pub fn stats(&self) -> RegistryStats {
        let inner = &self.inner;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let c = &inner.counters;
        RegistryStats {
            modules: inner.cache.len(),
            weight: inner.cache.weight(),
            capacity: inner.capacity,
            loads: get(&c.loads),
            hits: get(&c.hits),
            evictions: get(&c.evictions),
            replaced: get(&c.replaced),
            removed: get(&c.removed),
            too_heavy: get(&c.too_heavy),
            trimmed: get(&c.trimmed),
        }
    }

    /// One round of upkeep: drops idle instances that sat unused since the
    /// previous round ([`Module::trim_idle`]), weighs every module again
    /// and evicts until the byte bound holds. Returns how many idle
    /// instances it dropped.
    pub fn maintain(&self) -> usize {
        let inner = &self.inner;
        let held: Vec<(K, Entry)> = inner.cache.iter().collect();
        let trimmed: usize = held.iter().map(|(_, entry)| entry.module.trim_idle()).sum();
        inner.counters.trimmed.fetch_add(
            u64::try_from(trimmed).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if inner.options.max_bytes.is_some() {
            let mut weighed = HashSet::new();
            for (key, entry) in &held {
                let with_code = weighed.insert(entry.module.inner.code_key);
                let weight = inner.weigh(&entry.module, with_code);
                if weight == entry.weight {
                    continue;
                }
                // A soft replace: the new weight, without counting as a use.
                // It evicts others, never this entry (pinned meanwhile),
                // until the weights fit again.
                let reweighed = Entry {
                    weight,
                    ..entry.clone()
                };
                // Pinned only if it fits at all: one that alone outgrew
                // the registry is refused, and so leaves.
                entry
                    .pinned
                    .store(weight <= inner.capacity, Ordering::Relaxed);
                let replaced = inner
                    .cache
                    .replace_with_lifecycle(key.clone(), reweighed, true);
                entry.pinned.store(false, Ordering::Relaxed);
                if let Ok(mut evicted) = replaced {
                    // The entry's own old value comes back as replaced.
                    evicted.retain(|(_, gone)| !gone.module.is_same(&entry.module));
                    inner.settle(evicted, None, None);
                    let kept = inner
                        .cache
                        .peek(key)
                        .is_some_and(|held| held.module.is_same(&entry.module));
                    if !kept {
                        inner.counters.evictions.fetch_add(1, Ordering::Relaxed);
                        inner.leave(key, entry, Leaving::Evicted);
                    }
                }
            }
        }
        inner.settle(Vec::new(), None, None);
        trimmed
    }

    /// Runs [`Registry::maintain`] every `every` (at least a millisecond)
    /// on `handle`'s runtime, until the registry is dropped.
    pub fn spawn_maintenance(
        &self,
        handle: &tokio::runtime::Handle,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let registry = Arc::downgrade(&self.inner);
        let every = every.max(Duration::from_millis(1));
        handle.spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // The first tick is immediate; a round then has nothing to do.
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(inner) = registry.upgrade() else {
                    return;
                };
                Registry { inner }.maintain();
            }
        })
    }
}

impl<K> Inner<K>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
{
    /// What `module` weighs, with its compiled code or without it.
    fn weigh(&self, module: &Module, with_code: bool) -> u64 {
        if self.options.max_bytes.is_none() {
            return 1;
        }
        let memory = module.memory();
        let code = if with_code { memory.code_bytes } else { 0 };
        code.saturating_add(memory.idle_instance_bytes)
            .saturating_add(memory.kv_bytes.unwrap_or(0))
            .max(self.floor)
    }

    /// Counts `module` in before it enters under `key`: its component's
    /// users, its weight, its place in the key's history.
    fn admit(&self, key: &K, module: &Module) -> Entry {
        let first_user = {
            let mut components = self.components.lock();
            let users = components.entry(module.inner.code_key).or_insert(0);
            *users += 1;
            *users == 1
        };
        let last = Arc::new(Mutex::new(None));
        let report = Arc::clone(&last);
        module
            .inner
            .on_drop(Box::new(move |stats| *report.lock() = Some(stats)));
        let mut versions = self.versions.lock();
        let history = versions.entry(key.clone()).or_default();
        if history.len() >= MAX_VERSIONS {
            history.remove(0);
        }
        history.push(Version {
            id: module.id().to_owned(),
            module: Arc::downgrade(&module.inner),
            last,
        });
        drop(versions);
        let weight = self.weigh(module, first_user);
        Entry {
            module: module.clone(),
            weight,
            // A module that cannot fit at all is not pinned, so the cache
            // refuses it instead of holding it over the bound.
            pinned: Arc::new(AtomicBool::new(weight <= self.capacity)),
        }
    }

    /// Counts a module out of the registry and, unless it was never kept
    /// (its caller is using it), drains it.
    fn leave(&self, key: &K, entry: &Entry, why: Leaving) {
        let module = &entry.module;
        let sha = module.inner.code_key;
        let unused = {
            let mut components = self.components.lock();
            match components.get_mut(&sha) {
                Some(users) if *users > 1 => {
                    *users -= 1;
                    false
                }
                Some(_) => {
                    components.remove(&sha);
                    true
                }
                None => false,
            }
        };
        if unused {
            self.runtime.forget_code(&sha);
        }
        if why != Leaving::Replaced && !self.cache.contains_key(key) {
            let mut versions = self.versions.lock();
            // Only if no newer module of the key was admitted meanwhile.
            let last_is_this = versions
                .get(key)
                .and_then(|history| history.last())
                .is_some_and(|version| {
                    std::ptr::eq(version.module.as_ptr(), Arc::as_ptr(&module.inner))
                });
            if last_is_this {
                versions.remove(key);
            }
        }
        if why == Leaving::NotKept {
            return;
        }
        module.inner.drain();
    }

    /// Counts out what a request (and any of the cache's own requests)
    /// evicted: the module being admitted, refused for its weight; the
    /// module `replacing`'s key held before; and evictions. Returns the
    /// replaced module.
    fn settle(
        &self,
        mut evicted: Vec<(K, Entry)>,
        admitting: Option<&Module>,
        replacing: Option<&K>,
    ) -> Option<Module> {
        evicted.extend(std::mem::take(&mut *self.evicted.lock()));
        let mut replaced = None;
        for (key, entry) in evicted {
            if admitting.is_some_and(|module| module.is_same(&entry.module)) {
                self.counters.too_heavy.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    module = %entry.module.id(),
                    weight = entry.weight,
                    capacity = self.capacity,
                    "the module alone weighs more than the registry may hold: served, not kept"
                );
                self.leave(&key, &entry, Leaving::NotKept);
            } else if replaced.is_none() && replacing == Some(&key) {
                self.counters.replaced.fetch_add(1, Ordering::Relaxed);
                self.leave(&key, &entry, Leaving::Replaced);
                replaced = Some(entry.module);
            } else {
                self.counters.evictions.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(module = %entry.module.id(), "evicted from the registry");
                self.leave(&key, &entry, Leaving::Evicted);
            }
        }
        replaced
    }
}
