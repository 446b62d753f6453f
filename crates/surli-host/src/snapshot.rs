//! Snapshots after `init`: a component rewritten so that its instances
//! start in the state the guest's `init` left them in, without running it.
//!
//! [`snapshot_after_init`] instruments the component with
//! `wasmtime-wizer` (which adds exports that read every core instance's
//! memories and globals), instantiates it with every import stubbed, runs
//! `init`, reads the state back and writes it into the component's data
//! segments and global initialisers.
//!
//! A snapshot holds linear memory and globals, nothing else. Whatever
//! `init` does through an import would be lost (a KV write, a WASI
//! resource in the host's tables) or frozen into every instance started
//! from it (a clock reading, random bytes such as Rust's `HashMap` seeds).
//! So every import is a stub that notes its name and traps: an `init` that
//! calls one is refused a snapshot, with [`SnapshotError::Effect`] naming
//! the import and what kind of effect it is. Randomness is refused like
//! the rest rather than frozen: two instances of a snapshot sharing one
//! hash seed is a weakness nobody asked for, and the module still loads
//! without a snapshot.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use thiserror::Error;
use wasmtime::component::{Component, ComponentType, Instance, Lift, Linker, ResourceType};
use wasmtime::component::{WasmList, types::ComponentItem};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use crate::limiter::{MemoryBudget, MemoryLimiter, MemoryLimits};

/// The export a snapshot runs: the `init` of the `surrealism:plugin` world.
const INIT_EXPORT: &str = "init";

/// What an `init` did that a snapshot cannot keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitEffect {
    /// Called `sql` or `run` (or another `surrealism:plugin/host`
    /// function that is not the KV store).
    HostFunction,
    /// Read or wrote the module's KV store.
    Kv,
    /// Read a clock.
    Clock,
    /// Read random bytes.
    Randomness,
    /// Used the attached filesystem.
    Filesystem,
    /// Used the network (sockets or `wasi:http`).
    Network,
    /// Wrote to stdout or stderr, or read stdin or the environment (a
    /// panic's message is written to stderr, so a panicking `init` shows
    /// up here).
    Stdio,
    /// Called an import of another kind.
    Other,
}

impl InitEffect {
    /// The effect a call of the import `function` of `interface` has.
    fn of(interface: &str, function: &str) -> Self {
        let package = interface.split('@').next().unwrap_or(interface);
        if package.starts_with("surrealism:plugin/") {
            if function.starts_with("kv-") {
                Self::Kv
            } else {
                Self::HostFunction
            }
        } else if package.starts_with("wasi:clocks/") {
            Self::Clock
        } else if package.starts_with("wasi:random/") {
            Self::Randomness
        } else if package.starts_with("wasi:filesystem/") {
            Self::Filesystem
        } else if package.starts_with("wasi:sockets/") || package.starts_with("wasi:http/") {
            Self::Network
        } else if package.starts_with("wasi:cli/") || package.starts_with("wasi:io/") {
            Self::Stdio
        } else {
            Self::Other
        }
    }

    /// Why a snapshot cannot hold this effect.
    fn consequence(self) -> &'static str {
        match self {
            Self::HostFunction => "a host call's effects live outside the instance",
            Self::Kv => "the KV store lives outside the instance",
            Self::Clock => "the time read would be frozen into every instance",
            Self::Randomness => {
                "the random bytes (such as a HashMap's seed) would be the same in every instance"
            }
            Self::Filesystem => "open files live in the host, outside the instance",
            Self::Network => "connections live in the host, outside the instance",
            Self::Stdio => {
                "streams live in the host, outside the instance (a panicking `init` writes its \
                 message to stderr, so a panic ends here too)"
            }
            Self::Other => "an import's effects live outside the instance",
        }
    }
}

impl fmt::Display for InitEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HostFunction => "calls a host function",
            Self::Kv => "uses the KV store",
            Self::Clock => "reads a clock",
            Self::Randomness => "reads random bytes",
            Self::Filesystem => "uses the filesystem",
            Self::Network => "uses the network",
            Self::Stdio => "uses stdio or the environment",
            Self::Other => "calls an import",
        })
    }
}

/// Why a component could not be snapshotted after `init`. The module
/// itself may be fine: loaded without a snapshot, it runs `init` in each
/// instance as usual.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// `init` called an import; its effect would be lost or frozen.
    #[error(
        "`init` {effect} (it called `{import}`), and {consequence}: this module cannot start \
         from a snapshot; load it without one",
        consequence = effect.consequence()
    )]
    Effect {
        /// What kind of effect it was.
        effect: InitEffect,
        /// The import, as `interface#function`.
        import: String,
    },
    /// `init` returned an error.
    #[error("`init` failed: {message}")]
    InitFailed {
        /// The guest's error text.
        message: String,
    },
    /// `init` trapped (or ran out of memory).
    #[error("`init` trapped while being snapshotted: {message}")]
    Trap {
        /// The trap, with wasmtime's backtrace.
        message: String,
    },
    /// `init` ran past its time limit.
    #[error("`init` ran past its time limit while being snapshotted")]
    OutOfTime,
    /// The component has a shape the snapshotter does not handle (for
    /// example a core module instantiated twice), or its instrumented or
    /// rewritten form did not compile.
    #[error("the component cannot be snapshotted: {message}")]
    Unsupported {
        /// What wizer or wasmtime said.
        message: String,
    },
}

/// How a snapshot's `init` is bounded.
#[derive(Clone, Default)]
pub struct SnapshotLimits {
    /// The memory and table limits `init` runs under, as in an instance.
    pub memory: MemoryLimits,
    /// The budget `init`'s memory is charged to while it runs, as an
    /// instance's is.
    pub budget: Option<Arc<MemoryBudget>>,
    /// Asked at every epoch tick while `init` runs: `true` stops it with
    /// [`SnapshotError::OutOfTime`]. `None`: no time limit (and none is
    /// possible on an engine built without epoch interruption).
    pub out_of_time: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl fmt::Debug for SnapshotLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotLimits")
            .field("memory", &self.memory)
            .field("budget", &self.budget.is_some())
            .field("out_of_time", &self.out_of_time.is_some())
            .finish()
    }
}

/// The data of the store a snapshot's `init` runs in.
struct SnapshotState {
    limiter: MemoryLimiter,
    /// The first import `init` called.
    called: Option<(InitEffect, String)>,
    /// Whether the epoch callback stopped the guest.
    timed_out: bool,
    /// Set once `init` returned: the state is being read, which is the
    /// host's work, not the guest's, so no time limit applies.
    reading: bool,
}

/// Runs `init` in an instrumented copy of the component `wasm` and returns
/// the component rewritten to start in the state `init` left. A component
/// without `init` is snapshotted as instantiated.
///
/// `engine` must be one the component can be compiled and instantiated
/// on, with async support; the instrumented copy is compiled on it once
/// and dropped. An engine that allocates on demand is best: on a pooling
/// engine the snapshot's store takes one of the pool's slots while it runs.
///
/// Reading the state back grows each memory by one page (wizer's accessor
/// writes its answer there), so once `init` has returned the memory limit
/// is lifted and the time limit no longer applies.
///
/// # Errors
///
/// [`SnapshotError`]: an `init` that called an import, failed, trapped or
/// ran out of time, or a component wizer cannot instrument.
pub async fn snapshot_after_init(
    engine: &Engine,
    wasm: &[u8],
    limits: SnapshotLimits,
) -> Result<Vec<u8>, SnapshotError> {
    let unsupported = |error: wasmtime::Error| SnapshotError::Unsupported {
        message: format!("{error:#}"),
    };
    let wizer = Wizer::new();
    let (context, instrumented) = wizer.instrument_component(wasm).map_err(unsupported)?;
    let component = Component::new(engine, &instrumented).map_err(unsupported)?;
    let linker = stub_linker(engine, &component).map_err(unsupported)?;

    let mut store = Store::new(
        engine,
        SnapshotState {
            limiter: match limits.budget {
                Some(budget) => MemoryLimiter::new(limits.memory).sharing(budget),
                None => MemoryLimiter::new(limits.memory),
            },
            called: None,
            timed_out: false,
            reading: false,
        },
    );
    store.limiter(|state| &mut state.limiter);
    let out_of_time = limits.out_of_time;
    store.epoch_deadline_callback(move |mut store| {
        if !store.data().reading && out_of_time.as_ref().is_some_and(|out| out()) {
            store.data_mut().timed_out = true;
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Continue(1))
        }
    });
    store.set_epoch_deadline(1);

    let instance = linker.instantiate_async(&mut store, &component).await;
    let instance = match instance {
        Ok(instance) => instance,
        Err(error) => {
            return Err(match failure(&store, error) {
                SnapshotError::Trap { message } => SnapshotError::Unsupported {
                    message: format!("its instrumented copy did not instantiate: {message}"),
                },
                other => other,
            });
        }
    };
    if instance
        .get_export_index(&mut store, None, INIT_EXPORT)
        .is_some()
    {
        let init = instance
            .get_typed_func::<(), (Result<(), String>,)>(&mut store, INIT_EXPORT)
            .map_err(unsupported)?;
        match init.call_async(&mut store, ()).await {
            Ok((Ok(()),)) => {}
            Ok((Err(message),)) => return Err(SnapshotError::InitFailed { message }),
            Err(error) => return Err(failure(&store, error)),
        }
    }

    // `init` is done: what follows reads its state, under no limit of the
    // guest's (the old limiter gives its charge back to the budget).
    let data = store.data_mut();
    data.reading = true;
    data.limiter = MemoryLimiter::new(MemoryLimits::default());
    let mut reader = StateReader {
        store: &mut store,
        instance,
        failure: None,
        memories: HashMap::new(),
    };
    let snapshot = wizer
        .snapshot_component(&context, &mut reader)
        .await
        .map_err(unsupported)?;
    if let Some(message) = reader.failure {
        return Err(SnapshotError::Unsupported { message });
    }
    tracing::debug!(
        before = wasm.len(),
        after = snapshot.len(),
        "snapshotted a component after init"
    );
    Ok(snapshot)
}

/// The error a trap during the snapshot's instantiation or `init` becomes:
/// an import the guest called, the time limit, or the trap itself.
fn failure(store: &Store<SnapshotState>, error: wasmtime::Error) -> SnapshotError {
    let state = store.data();
    if let Some((effect, import)) = &state.called {
        return SnapshotError::Effect {
            effect: *effect,
            import: import.clone(),
        };
    }
    if state.timed_out {
        return SnapshotError::OutOfTime;
    }
    let message = match state.limiter.exhausted() {
        Some(exhaustion) => format!("out of memory: {exhaustion}"),
        None => format!("{error:#}"),
    };
    SnapshotError::Trap { message }
}

/// A linker in which every import of `component` notes its name and traps,
/// and every imported resource type is a host type no guest can get a
/// handle of (every function that would hand one out traps).
fn stub_linker(engine: &Engine, component: &Component) -> wasmtime::Result<Linker<SnapshotState>> {
    let mut linker = Linker::<SnapshotState>::new(engine);
    let ty = component.component_type();
    for (name, import) in ty.imports(engine) {
        match import.ty {
            ComponentItem::ComponentInstance(instance) => {
                let mut stubs = linker.instance(name)?;
                for (item, export) in instance.exports(engine) {
                    match export.ty {
                        ComponentItem::ComponentFunc(_) => {
                            let effect = InitEffect::of(name, item);
                            let import = format!("{name}#{item}");
                            stubs.func_new(item, move |mut store, _, _, _| {
                                store.data_mut().called = Some((effect, import.clone()));
                                Err(wasmtime::format_err!(
                                    "`{import}` is not available while snapshotting `init`"
                                ))
                            })?;
                        }
                        ComponentItem::Resource(_) => {
                            stubs.resource(item, ResourceType::host::<()>(), |_, _| Ok(()))?;
                        }
                        _ => {}
                    }
                }
            }
            ComponentItem::ComponentFunc(_) => {
                let effect = InitEffect::of("", name);
                let import = name.to_owned();
                linker.root().func_new(name, move |mut store, _, _, _| {
                    store.data_mut().called = Some((effect, import.clone()));
                    Err(wasmtime::format_err!(
                        "`{import}` is not available while snapshotting `init`"
                    ))
                })?;
            }
            ComponentItem::Resource(_) => {
                linker
                    .root()
                    .resource(name, ResourceType::host::<()>(), |_, _| Ok(()))?;
            }
            _ => {}
        }
    }
    Ok(linker)
}

/// Reads an instrumented instance's state for wizer through the exports
/// it added. The trait's methods cannot fail, so the first failure is
/// kept here and the snapshot refused after.
struct StateReader<'a> {
    store: &'a mut Store<SnapshotState>,
    instance: Instance,
    failure: Option<String>,
    /// Each memory as first read. Wizer reads every memory twice (to find
    /// its non-zero ranges, then to copy them), and each read through the
    /// instrumented accessor grows the memory by a page: answering the
    /// second from here means no second grow can fail, and the ranges the
    /// first found always lie within what the second gives.
    memories: HashMap<(String, String), Vec<u8>>,
}

impl StateReader<'_> {
    async fn call<R>(&mut self, instance: &str, func: &str) -> Option<R>
    where
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        if self.failure.is_some() {
            return None;
        }
        let outcome = async {
            let parent = self
                .instance
                .get_export_index(&mut *self.store, None, instance)
                .ok_or_else(|| format!("the instrumented component lacks `{instance}`"))?;
            let index = self
                .instance
                .get_export_index(&mut *self.store, Some(&parent), func)
                .ok_or_else(|| format!("the instrumented component lacks `{instance}#{func}`"))?;
            let typed = self
                .instance
                .get_typed_func::<(), (R,)>(&mut *self.store, index)
                .map_err(|error| format!("`{instance}#{func}`: {error:#}"))?;
            let (value,) = typed
                .call_async(&mut *self.store, ())
                .await
                .map_err(|error| {
                    format!("cannot read the state `init` left (`{instance}#{func}`): {error:#}")
                })?;
            Ok::<R, String>(value)
        }
        .await;
        match outcome {
            Ok(value) => Some(value),
            Err(message) => {
                self.failure = Some(message);
                None
            }
        }
    }
}

impl ComponentInstanceState for StateReader<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        let key = (instance.to_owned(), func.to_owned());
        if let Some(memory) = self.memories.get(&key) {
            return contents(memory);
        }
        match self.call::<WasmList<u8>>(instance, func).await {
            Some(list) => {
                let memory = list.as_le_slice(&*self.store).to_vec();
                contents(&memory);
                self.memories.insert(key, memory);
            }
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await.unwrap_or(0)
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await.unwrap_or(0)
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func)
            .await
            .map_or(0, f32::to_bits)
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func)
            .await
            .map_or(0, f64::to_bits)
    }
}
