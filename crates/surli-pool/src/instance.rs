//! One instance of a module: its store, its bound exports, and whether a
//! call is under way in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use surli_engine::SurliEngine;
use surli_engine::wasmtime::{Store, Trap, UpdateDeadline};
use surli_host::{CallInfo, CallKind, GuestExports, HostState, InvocationContext, InvokeAnswer};

use crate::caller::CallerDeadline;
use crate::error::{CallError, CallPhase, TimeoutLimit, TimeoutWatch};
use crate::module::ModuleInner;

pub(crate) struct Instance {
    store: Store<HostState>,
    exports: GuestExports,
    /// Set while a call runs and cleared only when it returns: an instance
    /// whose call future was dropped midway still has it set, and is thrown
    /// away rather than pooled (its guest state is unknown).
    in_call: bool,
    deadline: Deadline,
    /// Calls run in this instance (`init` not included).
    uses: u32,
    /// Whether `init` ran and succeeded in this instance.
    initialised: bool,
    /// When the instance last went back to the pool.
    idle_since: Instant,
    /// The module's trim sweep that was current when the instance last went
    /// back to the pool (see `ModuleInner::trim_idle`).
    pub(crate) returned_in: u64,
    /// The name of the function called last, shared with that call's
    /// `CallInfo`: a caller that calls one function again and again pays
    /// for copying its name once.
    last_function: Option<Arc<str>>,
    /// The instance's room under the runtime's budget, freed when it is
    /// dropped (after its store, which gives back its memory).
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// The epoch at which the running call is interrupted.
///
/// On a guarded engine the store does not trap at its epoch deadline
/// directly: it calls back on every tick, yields to the async executor, and
/// traps only once the call's own deadline has passed. Yielding is what lets
/// a caller's dropped future, or the wall-clock guard, stop a guest that
/// never returns on its own: a future that never yields can only be dropped
/// after it finishes, and it holds a worker thread all the while.
pub(crate) struct Deadline(Arc<AtomicU64>);

impl Deadline {
    /// Installs the tick callback on a new store (before instantiation, so
    /// a guest's start-up is bounded too).
    pub(crate) fn install(store: &mut Store<HostState>, engine: &SurliEngine) -> Self {
        let at = Arc::new(AtomicU64::new(u64::MAX));
        if engine.interrupts() {
            let engine = engine.clone();
            let at = Arc::clone(&at);
            store.epoch_deadline_callback(move |_| {
                Ok(if engine.current_epoch() >= at.load(Ordering::Acquire) {
                    UpdateDeadline::Interrupt
                } else {
                    UpdateDeadline::Yield(1)
                })
            });
        }
        Self(at)
    }

    /// Arms the deadline of what runs next: `limit` from now (`None`: no
    /// limit), rounded up to whole ticks plus the one under way.
    pub(crate) fn arm(
        &self,
        store: &mut Store<HostState>,
        engine: &SurliEngine,
        limit: Option<Duration>,
    ) {
        if !engine.interrupts() {
            return;
        }
        let at = engine
            .current_epoch()
            .saturating_add(engine.deadline_ticks(limit));
        self.0.store(at, Ordering::Release);
        // Check back at the next tick; the callback decides from there.
        store.set_epoch_deadline(1);
    }
}

/// The limit a call runs under and whose it is.
#[derive(Clone, Copy)]
pub(crate) struct CallLimit {
    /// How long the guest may run from now.
    limit: Duration,
    source: TimeoutLimit,
    /// The limit its timeout error names: the caller's whole timeout, of
    /// which `limit` may be only what was left when the guest started.
    reported: Duration,
    /// What the guest is running.
    phase: CallPhase,
}

impl CallLimit {
    fn timeout(self, watch: TimeoutWatch) -> CallError {
        CallError::Timeout {
            limit: self.reported,
            source_limit: self.source,
            watch,
            phase: self.phase,
        }
    }
}

impl Instance {
    pub(crate) fn new(
        store: Store<HostState>,
        exports: GuestExports,
        deadline: Deadline,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> Self {
        Self {
            _slot: slot,
            store,
            exports,
            in_call: false,
            deadline,
            uses: 0,
            initialised: false,
            idle_since: Instant::now(),
            returned_in: 0,
            last_function: None,
        }
    }

    /// `function`'s name as a shared string, reusing the last one when it
    /// is the same.
    fn function_name(&mut self, function: Option<&str>) -> Option<Arc<str>> {
        let function = function?;
        match &self.last_function {
            Some(last) if **last == *function => Some(Arc::clone(last)),
            _ => {
                let name: Arc<str> = Arc::from(function);
                self.last_function = Some(Arc::clone(&name));
                Some(name)
            }
        }
    }

    /// Calls run in this instance so far.
    pub(crate) fn uses(&self) -> u32 {
        self.uses
    }

    /// Notes that the instance goes back to the pool now.
    pub(crate) fn mark_idle(&mut self) {
        self.idle_since = Instant::now();
    }

    /// How long the instance has sat in the pool, as of `now`.
    pub(crate) fn idle_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.idle_since)
    }

    /// The linear memory the instance holds, as the runtime's memory
    /// budget counts it.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.store.data().memory_limiter().charged()
    }

    pub(crate) fn in_call(&self) -> bool {
        self.in_call
    }

    /// Whether `init` ran and succeeded in this instance.
    pub(crate) fn is_initialised(&self) -> bool {
        self.initialised
    }

    /// Notes that the instance starts initialised (from a snapshot taken
    /// after `init`).
    pub(crate) fn mark_initialised(&mut self) {
        self.initialised = true;
    }

    /// Both halves at once, for calls that need the exports and the store.
    pub(crate) fn parts(&mut self) -> (&GuestExports, &mut Store<HostState>) {
        (&self.exports, &mut self.store)
    }

    /// Runs the guest's `invoke` under the tighter of the caller's timeout
    /// and the module's limit, with `ctx` as the context for its host calls.
    pub(crate) async fn invoke(
        &mut self,
        module: &ModuleInner,
        ctx: Arc<dyn InvocationContext>,
        function: Option<&str>,
        args: &[u8],
        caller: Option<CallerDeadline>,
    ) -> Result<Vec<u8>, CallError> {
        let limit = call_limit(module, caller);
        let name = self.function_name(function);
        let info = CallInfo::shared(Arc::clone(module.env.module()), CallKind::Invoke, name);
        self.prepare(module, ctx, info, limit);
        self.in_call = true;
        self.uses = self.uses.saturating_add(1);
        let max_result = module.runtime.options.max_result_bytes;
        let call = self
            .exports
            .invoke_bounded(&mut self.store, function, args, max_result);
        let outcome = crate::chain::within(module.chain_id(), guard(module, limit, call)).await;
        // When the guard fired the guest was stopped midway: `in_call`
        // stays set so the instance can never be pooled again.
        self.in_call = outcome.is_err();
        self.end_call(module);
        match outcome {
            Err(stopped) => Err(stopped),
            Ok(Ok(InvokeAnswer::Value(bytes))) => Ok(bytes),
            Ok(Ok(InvokeAnswer::Error(message))) => Err(CallError::Guest { message }),
            Ok(Ok(InvokeAnswer::TooLarge { size, .. })) => Err(CallError::ResultTooLarge {
                size,
                limit: max_result,
            }),
            Ok(Err(error)) => Err(self.classify(module, error, limit)),
        }
    }

    /// Runs the guest's `init`, if it has one. The error is the text a
    /// `CallError::InitFailed` carries.
    pub(crate) async fn run_init(
        &mut self,
        module: &ModuleInner,
        ctx: Arc<dyn InvocationContext>,
        info: CallInfo,
    ) -> Result<(), String> {
        let limit = own_limit(module, CallPhase::Init);
        self.prepare(module, ctx, info, limit);
        self.in_call = true;
        let call = self.exports.init(&mut self.store);
        let outcome = crate::chain::within(module.chain_id(), guard(module, limit, call)).await;
        self.in_call = outcome.is_err();
        self.end_call(module);
        match outcome {
            Err(stopped) => Err(stopped.to_string()),
            Ok(Ok(Ok(()))) => {
                self.initialised = true;
                Ok(())
            }
            Ok(Ok(Err(message))) => Err(message),
            Ok(Err(error)) => Err(self.classify(module, error, limit).to_string()),
        }
    }

    /// Takes the call's context out of the instance, and counts output the
    /// host dropped over its limits.
    fn end_call(&mut self, module: &ModuleInner) {
        let output = self.store.data_mut().clear_call();
        if output.truncated() {
            module.counters.output_truncated(output.dropped_bytes);
        }
    }

    fn prepare(
        &mut self,
        module: &ModuleInner,
        ctx: Arc<dyn InvocationContext>,
        info: CallInfo,
        limit: Option<CallLimit>,
    ) {
        // Host work for the guest (an outbound HTTP request) ends with the
        // call's own time; a limit too far off to be an instant is none.
        let info = match limit.and_then(|l| Instant::now().checked_add(l.limit)) {
            Some(deadline) => info.with_deadline(deadline),
            None => info,
        };
        let state = self.store.data_mut();
        state.set_call(ctx, info);
        state.limiter_mut().reset();
        self.deadline
            .arm(&mut self.store, &module.engine, limit.map(|l| l.limit));
    }

    fn classify(
        &self,
        module: &ModuleInner,
        error: surli_engine::wasmtime::Error,
        limit: Option<CallLimit>,
    ) -> CallError {
        if let (Some(Trap::Interrupt), Some(limit)) = (error.downcast_ref::<Trap>(), limit) {
            return limit.timeout(TimeoutWatch::Epoch);
        }
        if let Some(exhausted) = self.store.data().memory_limiter().exhausted() {
            return memory_error(module, exhausted);
        }
        CallError::Trap {
            message: format!("{error:#}"),
        }
    }
}

/// The error of a guest that could not grow its memory: its own limit, or
/// the runtime's shared budget (counted as a refusal there).
pub(crate) fn memory_error(module: &ModuleInner, exhausted: surli_host::Exhaustion) -> CallError {
    if exhausted.what == surli_host::Resource::SharedMemory {
        module.runtime.budget.refused();
        return CallError::BudgetExhausted {
            module: module.id.clone(),
            resource: crate::BudgetResource::Memory,
            limit: module.runtime.budget.memory_limit(),
        };
    }
    CallError::OutOfMemory {
        detail: exhausted.to_string(),
    }
}

/// The limit for a call: what is left of the caller's deadline if that is
/// tighter than the module's effective limit. Modules on the fast engine
/// (no timeouts, by the server's consent) have none at all: their code has
/// no epoch checks, so nothing could stop it anyway, and a caller's
/// deadline is refused before the call starts
/// ([`CallError::TimeoutNotEnforceable`]).
fn call_limit(module: &ModuleInner, caller: Option<CallerDeadline>) -> Option<CallLimit> {
    if !module.limits.strict_timeout {
        return None;
    }
    let own = own_limit(module, CallPhase::Call);
    match (caller.map(|c| (c, c.remaining())), own) {
        (Some((_, left)), Some(own)) if left >= own.limit => Some(own),
        (Some((caller, left)), _) => Some(CallLimit {
            limit: left,
            source: TimeoutLimit::Caller,
            reported: caller.timeout(),
            phase: CallPhase::Call,
        }),
        (None, own) => own,
    }
}

/// The module's own limit for `phase`, for the guest's run and for work
/// no caller's deadline covers (`init`, instantiation, the probe at load).
pub(crate) fn own_limit(module: &ModuleInner, phase: CallPhase) -> Option<CallLimit> {
    if !module.limits.strict_timeout {
        return None;
    }
    module.limits.max_execution_time.map(|l| CallLimit {
        limit: l.value,
        source: l.set_by.into(),
        reported: l.value,
        phase,
    })
}

/// Awaits `call`, abandoning it when the wall clock passes the limit plus
/// the grace period: the epoch cannot interrupt a guest blocked in a host
/// call, but dropping the future can. When the guard fires the error names
/// the limit, so no caller has to rebuild it.
pub(crate) async fn guard<F: Future>(
    module: &ModuleInner,
    limit: Option<CallLimit>,
    call: F,
) -> Result<F::Output, CallError> {
    let gate = &module.runtime.gate;
    let Some(limit) = limit else {
        return gate
            .unless_stopped(call)
            .await
            .ok_or_else(|| module.shutting_down());
    };
    let wall = limit
        .limit
        .saturating_add(module.runtime.options.wall_clock_grace);
    // Most calls finish in their first poll, and need no timer at all (a
    // timer costs a clock read and the runtime's timer handle on every
    // call). A call that pauses gets its wall clock from that first pause:
    // on a guarded store the guest yields at the first epoch tick, so the
    // clock starts at most one tick after the call did.
    let mut call = std::pin::pin!(call);
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    if let Poll::Ready(output) = first {
        return Ok(output);
    }
    if tokio::runtime::Handle::try_current().is_err() {
        // A blocking load drives the probe on a plain thread, where tokio
        // has no timer: a thread of its own wakes the call once its time is
        // up (rare: only a probe that pauses, on a blocking load), and the
        // wall clock is read each time the call wakes.
        let since = Instant::now();
        let mut alarm = None;
        return std::future::poll_fn(|cx| {
            if since.elapsed() >= wall {
                return Poll::Ready(Err(limit.timeout(TimeoutWatch::WallClock)));
            }
            if alarm.is_none() {
                let waker = cx.waker().clone();
                alarm = Some(std::thread::spawn(move || {
                    std::thread::sleep(wall);
                    waker.wake();
                }));
            }
            call.as_mut().poll(cx).map(Ok)
        })
        .await;
    }
    // Boxed: only a call that paused pays for it, and the future of every
    // call (most finish in their first poll) stays as small as it was.
    Box::pin(gate.unless_stopped(tokio::time::timeout(wall, call)))
        .await
        .ok_or_else(|| module.shutting_down())?
        .map_err(|_| limit.timeout(TimeoutWatch::WallClock))
}
