//! One checked-out instance: 0.6.5's `Controller`, a surli [`Lease`]
//! underneath.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use surli::{FunctionSignature, Lease, Module};
use surrealism_types::args::Args;
use surrealism_types::err::{SurrealismError, SurrealismResult};

use crate::bridge::Bridge;
use crate::errors::{from_call, other};
use crate::host::InvocationContext;

/// An instance checked out of a [`Runtime`](crate::runtime::Runtime)'s
/// pool, with a context installed. Not shared between tasks: one call at a
/// time. Dropped, it goes back to the pool if healthy; an instance that
/// trapped, ran out of memory or time, or whose call was abandoned midway,
/// is discarded by surli and the controller's next call gets a fresh one.
pub struct Controller {
    lease: Lease,
    bridge: Arc<Bridge>,
    module: Module,
    module_execution_time: Duration,
}

impl fmt::Debug for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("module", &self.module.id())
            .finish_non_exhaustive()
    }
}

impl Controller {
    pub(crate) fn new(
        lease: Lease,
        bridge: Arc<Bridge>,
        module: Module,
        module_execution_time: Duration,
    ) -> Self {
        Self {
            lease,
            bridge,
            module,
            module_execution_time,
        }
    }

    /// Installs `context` for the calls that follow, with its output
    /// callbacks.
    pub fn set_context(&mut self, context: Box<dyn InvocationContext>) {
        self.bridge.set(context);
    }

    /// Installs a context that refuses `sql`, `run` and the KV store, so
    /// nothing of the last request stays reachable.
    pub fn clear_context(&mut self) {
        self.bridge.clear();
    }

    /// Kept for 0.6.5's API; does nothing. surli arms each call's deadline
    /// when the call starts, so nothing carries over between calls.
    pub fn reset_epoch_deadline(&mut self) {}

    /// Runs the module's `init` in this controller's instance, under its
    /// context, unless it ran there already (controllers from
    /// `acquire_controller` are initialised; those from `new_controller` are
    /// not).
    pub async fn init(&mut self) -> SurrealismResult<()> {
        self.lease
            .init()
            .await
            .map_err(|e| from_call(e, None, Some(self.module_execution_time)))
    }

    /// Calls `name` (`None`: the default export) with `args`, under the
    /// module's time limit.
    pub async fn invoke<A: Args>(
        &mut self,
        name: Option<String>,
        args: A,
    ) -> SurrealismResult<surrealdb_types::Value> {
        self.invoke_with_timeout(name, args, None).await
    }

    /// [`invoke`](Self::invoke) under the caller's timeout too: the call
    /// ends at the tighter of it and the module's limit.
    pub async fn invoke_with_timeout<A: Args>(
        &mut self,
        name: Option<String>,
        args: A,
        context_timeout: Option<Duration>,
    ) -> SurrealismResult<surrealdb_types::Value> {
        self.lease
            .call_with_timeout(name.as_deref(), args.to_values(), context_timeout)
            .await
            .map_err(|e| from_call(e, context_timeout, Some(self.module_execution_time)))
    }

    /// The module's description of `name`, asked of the module when it was
    /// loaded (in an instance without `init`, as the build tool asks).
    fn signature(&self, name: Option<&str>, export: &str) -> SurrealismResult<&FunctionSignature> {
        if !self.module.is_described() {
            return Err(other(format!("{export} export not available")));
        }
        self.module
            .functions()
            .iter()
            .find(|f| f.name.as_deref() == name)
            .ok_or_else(|| {
                SurrealismError::FunctionCallError(format!(
                    "function '{}' is not exported by module {}",
                    name.unwrap_or("<default>"),
                    self.module.id()
                ))
            })
    }

    /// The named arguments of `name` and their kinds.
    pub async fn args(
        &mut self,
        name: Option<String>,
    ) -> SurrealismResult<Vec<(String, surrealdb_types::Kind)>> {
        Ok(self
            .signature(name.as_deref(), "function-args")?
            .args
            .clone())
    }

    /// The return kind of `name`.
    pub async fn returns(
        &mut self,
        name: Option<String>,
    ) -> SurrealismResult<surrealdb_types::Kind> {
        Ok(self
            .signature(name.as_deref(), "function-returns")?
            .returns
            .clone())
    }

    /// Whether `name` may write.
    pub async fn writeable(&mut self, name: Option<String>) -> SurrealismResult<bool> {
        Ok(self
            .signature(name.as_deref(), "function-writeable")?
            .writeable)
    }

    /// The author's comment on `name`.
    pub async fn comment(&mut self, name: Option<String>) -> SurrealismResult<Option<String>> {
        Ok(self
            .signature(name.as_deref(), "function-comment")?
            .comment
            .clone())
    }

    /// Every exported function's name (`None`: the default export).
    pub async fn list(&mut self) -> SurrealismResult<Vec<Option<String>>> {
        if !self.module.is_described() {
            return Err(other("list-functions export not available"));
        }
        Ok(self
            .module
            .functions()
            .iter()
            .map(|f| f.name.clone())
            .collect())
    }
}
