//! What an embedder implements: the database side of `sql` and `run`, the
//! KV store of a call, and where guest output goes; 0.6.5's trait, method
//! for method.
//!
//! surli reaches this trait through a bridge (see the crate's `bridge`
//! module): surli checks the module's capabilities first (`sql` needs
//! `allow_arbitrary_queries`, `run` a matching `allow_functions` pattern),
//! then calls these methods with the module's configuration, as 0.6.5 does.

use std::sync::Arc;

use anyhow::{Result, bail};
use async_trait::async_trait;

use crate::config::SurrealismConfig;
use crate::kv::KVStore;

/// The context of one invocation: what `sql`, `run` and the `kv-*` host
/// functions reach, and where the guest's output goes.
#[async_trait]
pub trait InvocationContext: Send + Sync {
    /// Runs a SurrealQL query for the guest, with its variables.
    async fn sql(
        &mut self,
        config: &SurrealismConfig,
        query: String,
        vars: surrealdb_types::Object,
    ) -> Result<surrealdb_types::Value>;

    /// Calls the function `fnc` (at `version`, as the guest wrote it) with
    /// `args`.
    async fn run(
        &mut self,
        config: &SurrealismConfig,
        fnc: String,
        version: Option<String>,
        args: Vec<surrealdb_types::Value>,
    ) -> Result<surrealdb_types::Value>;

    /// The KV store the guest's `kv-*` calls use during this invocation.
    fn kv(&mut self) -> Result<&dyn KVStore>;

    /// A piece of the guest's standard output. Not called by this runtime
    /// (guest output arrives through [`stdout_callback`](Self::stdout_callback)),
    /// as in 0.6.5; the default logs it through `tracing`.
    fn stdout(&mut self, output: &str) -> Result<()> {
        tracing::info!(target: "surrealism::module", "{output}");
        Ok(())
    }

    /// A piece of the guest's standard error; see [`stdout`](Self::stdout).
    fn stderr(&mut self, output: &str) -> Result<()> {
        tracing::warn!(target: "surrealism::module", "{output}");
        Ok(())
    }

    /// Where the guest's standard output goes while this context is
    /// installed: each line the guest writes, with its newline. The default
    /// logs through `tracing` at `INFO` (0.6.5 printed to the process's
    /// stdout; a library of surli never prints).
    fn stdout_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|output| tracing::info!(target: "surrealism::module", "{output}"))
    }

    /// Where the guest's standard error goes; the default logs at `WARN`.
    fn stderr_callback(&self) -> Arc<dyn Fn(&str) + Send + Sync> {
        Arc::new(|output| tracing::warn!(target: "surrealism::module", "{output}"))
    }
}

/// The context of a controller between invocations: refuses everything.
pub(crate) struct NullContext;

const NO_CONTEXT: &str = "no active invocation context";

#[async_trait]
impl InvocationContext for NullContext {
    async fn sql(
        &mut self,
        _config: &SurrealismConfig,
        _query: String,
        _vars: surrealdb_types::Object,
    ) -> Result<surrealdb_types::Value> {
        bail!(NO_CONTEXT)
    }

    async fn run(
        &mut self,
        _config: &SurrealismConfig,
        _fnc: String,
        _version: Option<String>,
        _args: Vec<surrealdb_types::Value>,
    ) -> Result<surrealdb_types::Value> {
        bail!(NO_CONTEXT)
    }

    fn kv(&mut self) -> Result<&dyn KVStore> {
        bail!(NO_CONTEXT)
    }
}
