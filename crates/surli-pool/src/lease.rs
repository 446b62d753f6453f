//! Leases: an instance checked out of a module's pool, returned by itself.

use std::sync::Arc;
use std::time::Duration;

use surli_host::{CallInfo, InvocationContext};
use surrealdb_types::Value;
use tokio::sync::OwnedSemaphorePermit;

use crate::caller::CallerDeadline;
use crate::error::CallError;
use crate::instance::Instance;
use crate::module::Module;
use crate::stats::Counters;

/// An instance of a module checked out for one caller.
///
/// Dropping the lease returns a healthy instance to the pool. An instance
/// that trapped, timed out or ran out of memory is discarded at once (the
/// next call on the lease gets a fresh one), and one whose call future was
/// dropped midway is discarded before the lease's next call or when the
/// lease drops: a broken instance is never called again nor pooled. Between calls the instance holds no context.
pub struct Lease {
    module: Module,
    instance: Option<Instance>,
    ctx: Arc<dyn InvocationContext>,
    // Released last, after the instance is back in the pool.
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("module", &self.module.id())
            .field("has_instance", &self.instance.is_some())
            .finish_non_exhaustive()
    }
}

impl Lease {
    pub(crate) fn new(
        module: Module,
        instance: Instance,
        permit: OwnedSemaphorePermit,
        ctx: Arc<dyn InvocationContext>,
    ) -> Self {
        module.inner.counters.checked_out();
        Self {
            module,
            instance: Some(instance),
            ctx,
            _permit: permit,
        }
    }

    /// Calls `function` (`None`: the default export) under the module's
    /// time limit.
    pub async fn call(
        &mut self,
        function: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, CallError> {
        self.call_with_timeout(function, args, None).await
    }

    /// Calls `function` under the caller's timeout, when it is tighter than
    /// the module's limit. The timeout covers the whole call, a new
    /// instance included when the lease's last one broke.
    ///
    /// # Errors
    ///
    /// Those of [`Module::call_with_timeout`].
    pub async fn call_with_timeout(
        &mut self,
        function: Option<&str>,
        args: Vec<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, CallError> {
        let module = self.module.clone();
        let tally = Tally::start(&module.inner.counters);
        let outcome = async {
            let deadline = self.module.inner.caller_deadline(timeout)?;
            let encoded = surli_host::codec::encode_args(&args).map_err(CallError::Codec)?;
            let bytes = self.invoke(function, &encoded, deadline).await?;
            surli_host::codec::decode_value(&bytes).map_err(CallError::Codec)
        }
        .await;
        tally.finish(&outcome);
        outcome
    }

    /// Calls `function` with pre-encoded arguments, returning the encoded
    /// result (see `Module::call_encoded`).
    pub async fn call_encoded(
        &mut self,
        function: Option<&str>,
        args: &[u8],
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, CallError> {
        let module = self.module.clone();
        let tally = Tally::start(&module.inner.counters);
        let outcome = async {
            let deadline = self.module.inner.caller_deadline(timeout)?;
            self.invoke(function, args, deadline).await
        }
        .await;
        tally.finish(&outcome);
        outcome
    }

    /// Runs the module's `init` in the leased instance, under this lease's
    /// context, if it has not run there yet: for a lease taken with
    /// [`Module::lease_uninitialised`]. Leases from [`Module::lease`] hold
    /// initialised instances already, so this does nothing for them.
    ///
    /// # Errors
    ///
    /// [`CallError::InitFailed`] when `init` returns an error, traps or runs
    /// out of time; the instance is discarded, and the next call on the
    /// lease gets a new, initialised one.
    pub async fn init(&mut self) -> Result<(), CallError> {
        self.discard_if_abandoned();
        let inner = &self.module.inner;
        if inner.runtime.gate.is_stopped() {
            return Err(inner.shutting_down());
        }
        let Some(instance) = self.instance.as_mut() else {
            // The last instance broke; the next call makes an initialised one.
            return Ok(());
        };
        if instance.is_initialised() {
            return Ok(());
        }
        let info = CallInfo::init(Arc::clone(inner.env.module()));
        match instance.run_init(inner, Arc::clone(&self.ctx), info).await {
            Ok(()) => Ok(()),
            Err(message) => {
                self.instance = None;
                inner.counters.instance_discarded();
                inner.counters.init_failed();
                Err(CallError::InitFailed {
                    module: inner.id.clone(),
                    message,
                    remembered: false,
                })
            }
        }
    }

    /// Throws away the instance if a call in it was abandoned midway (its
    /// future dropped): its guest state is unknown, so the lease's next
    /// call gets a new instance.
    fn discard_if_abandoned(&mut self) {
        if self.instance.as_ref().is_some_and(Instance::in_call) {
            self.instance = None;
            self.module.inner.counters.instance_discarded();
        }
    }

    pub(crate) async fn invoke(
        &mut self,
        function: Option<&str>,
        args: &[u8],
        deadline: Option<CallerDeadline>,
    ) -> Result<Vec<u8>, CallError> {
        self.discard_if_abandoned();
        let inner = &self.module.inner;
        // A lease that outlived a shutdown's deadline runs no more guest
        // code.
        if inner.runtime.gate.is_stopped() {
            return Err(inner.shutting_down());
        }
        let instance = match self.instance.as_mut() {
            Some(instance) => instance,
            None => self
                .instance
                .insert(inner.new_initialised_instance(deadline).await?),
        };
        let outcome = instance
            .invoke(inner, Arc::clone(&self.ctx), function, args, deadline)
            .await;
        if outcome.as_ref().is_err_and(CallError::is_instance_fatal) {
            self.instance = None;
            inner.counters.instance_discarded();
        } else if self
            .instance
            .as_ref()
            .is_some_and(|instance| inner.is_spent(instance))
        {
            // The module's isolation allows no more calls in it: the next
            // call on this lease gets a new instance.
            self.instance = None;
            inner.counters.instance_retired();
        }
        outcome
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let inner = &self.module.inner;
        if let Some(instance) = self.instance.take() {
            if instance.in_call() {
                inner.counters.instance_discarded();
            } else {
                inner.return_instance(instance);
            }
        }
        // Last: a shutdown that sees no lease out finds its instance gone.
        inner.counters.checked_in();
    }
}

/// Counts one call: started on creation, finished with its outcome, or
/// cancelled if dropped before finishing (its future was dropped).
pub(crate) struct Tally<'a> {
    counters: &'a Counters,
    finished: bool,
}

impl<'a> Tally<'a> {
    pub(crate) fn start(counters: &'a Counters) -> Self {
        counters.call_started();
        Self {
            counters,
            finished: false,
        }
    }

    pub(crate) fn finish<T>(mut self, outcome: &Result<T, CallError>) {
        self.counters.call_finished(outcome);
        self.finished = true;
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.counters.call_cancelled();
        }
    }
}
