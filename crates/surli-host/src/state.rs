//! The data of one instance's store.

use std::fmt;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::call::{ActiveCall, CallOutput, CallSlot};
use crate::http::HttpHooks;
use crate::stdio::{GuestOutput, StdioChannel};
use crate::wasi::build_wasi;
use crate::{CallInfo, HostError, InvocationContext, MemoryLimiter, ModuleEnv};

/// The data of one instance's [`wasmtime::Store`]: its WASI state, its
/// module's [`ModuleEnv`], the call in progress and its memory limiter.
///
/// The host functions are implemented on it (see
/// [`bindings`](crate::bindings)), so they reach the module's capabilities,
/// key-value store and current context through it and nothing else.
///
/// # The call slot
///
/// Between calls the slot holds [`NullContext`](crate::NullContext).
/// [`set_call`](Self::set_call) puts the embedder's context in for one call
/// and [`clear_call`](Self::clear_call) takes it out again, delivering any
/// unfinished output line to the context that wrote it first. The pool
/// clears after every call, however it ended, so no context outlives its
/// call on a pooled instance.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    env: Arc<ModuleEnv>,
    call: Arc<ActiveCall>,
    /// What the slot holds between calls, made once: ending a call costs
    /// no allocation.
    idle: Arc<ActiveCall>,
    slot: CallSlot,
    stdout: GuestOutput,
    stderr: GuestOutput,
    limiter: MemoryLimiter,
    http: HttpHooks,
    http_ctx: WasiHttpCtx,
}

impl HostState {
    /// The state of a new instance of `env`'s module, limited by `memory`.
    ///
    /// # Errors
    ///
    /// [`HostError::Wasi`] when the attached directory cannot be opened.
    pub fn new(env: Arc<ModuleEnv>, memory: MemoryLimiter) -> Result<Self, HostError> {
        let idle = ActiveCall::idle(CallInfo::idle(Arc::clone(env.module())), env.stdio_limits());
        let call = Arc::clone(&idle);
        let slot = CallSlot::new(Arc::clone(&call));
        let cap = env.stdio_limits().line_cap();
        let stdout = GuestOutput::new(StdioChannel::Stdout, slot.clone(), cap);
        let stderr = GuestOutput::new(StdioChannel::Stderr, slot.clone(), cap);
        let wasi = build_wasi(&env, stdout.clone(), stderr.clone())?;
        let http = HttpHooks::new(Arc::clone(&env));
        Ok(Self {
            wasi,
            http,
            http_ctx: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            env,
            call,
            idle,
            slot,
            stdout,
            stderr,
            limiter: memory,
        })
    }

    /// The module's environment.
    pub fn env(&self) -> &Arc<ModuleEnv> {
        &self.env
    }

    /// Makes `ctx` the context of the call described by `info`, until
    /// [`clear_call`](Self::clear_call) or the next `set_call`.
    ///
    /// Output still pending from before goes to the previous context first.
    pub fn set_call(&mut self, ctx: Arc<dyn InvocationContext>, info: CallInfo) {
        let limits = self.env.stdio_limits();
        self.install(ActiveCall::new(ctx, info, limits));
    }

    /// Ends the current call: delivers its unfinished output line to its
    /// context, then puts [`NullContext`](crate::NullContext) back. Returns
    /// what was dropped of the call's output over the
    /// [`StdioLimits`](crate::StdioLimits).
    pub fn clear_call(&mut self) -> CallOutput {
        self.install(Arc::clone(&self.idle))
    }

    fn install(&mut self, next: Arc<ActiveCall>) -> CallOutput {
        self.stdout.flush_to(&self.call);
        self.stderr.flush_to(&self.call);
        let ended = self.call.output.report();
        self.slot.replace(Arc::clone(&next));
        // Requests the ending call left open fail from now on; the next
        // call's requests end at its deadline.
        self.http.begin_call(next.info.deadline());
        self.call = next;
        ended
    }

    /// The call in progress; of kind [`CallKind::Idle`](crate::CallKind::Idle)
    /// between calls.
    pub fn call_info(&self) -> &CallInfo {
        &self.call.info
    }

    /// The context of the call in progress ([`NullContext`](crate::NullContext)
    /// between calls).
    pub fn context(&self) -> &Arc<dyn InvocationContext> {
        &self.call.ctx
    }

    /// The context and the call it serves, for the host functions: cloned
    /// out so that `&mut self` stays free while the context runs.
    pub(crate) fn active_call(&self) -> Arc<ActiveCall> {
        Arc::clone(&self.call)
    }

    /// The limiter, for `store.limiter(|state| state.limiter_mut())`.
    pub fn limiter_mut(&mut self) -> &mut MemoryLimiter {
        &mut self.limiter
    }

    /// The limiter, to ask whether a grow was refused.
    pub fn memory_limiter(&self) -> &MemoryLimiter {
        &self.limiter
    }

    /// The guest's standard output stream, as the guest writes to it.
    pub fn stdout(&self) -> &GuestOutput {
        &self.stdout
    }

    /// The guest's standard error stream, as the guest writes to it.
    pub fn stderr(&self) -> &GuestOutput {
        &self.stderr
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.http,
            table: &mut self.table,
            ctx: &mut self.http_ctx,
        }
    }
}

impl fmt::Debug for HostState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostState")
            .field("module", self.env.module())
            .field("call", &self.call.info)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}
