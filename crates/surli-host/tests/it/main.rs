#![allow(clippy::unwrap_used, clippy::expect_used)]

mod codec;
mod components;
mod exports;
mod host_fns;
mod hostile;
mod kv;
mod limiter;
mod linker;
mod net;
mod state;
mod stdio;

use std::sync::Arc;

use parking_lot::Mutex;
use surli_config::{Capabilities, PackageMeta};
use surli_host::{CallInfo, ContextError, HostState, InvocationContext, MemoryLimiter, ModuleEnv};
use surli_kv::{KvLimits, KvStore, MemoryKvStore};
use surrealdb_types::{Object, Value};

/// The identity every test module has.
fn meta() -> PackageMeta {
    PackageMeta {
        organisation: "acme".to_owned(),
        name: "tester".to_owned(),
        version: "1.2.3".parse().unwrap(),
    }
}

fn store() -> Arc<dyn KvStore> {
    Arc::new(MemoryKvStore::new(KvLimits::default()))
}

fn env_with(capabilities: Capabilities) -> Arc<ModuleEnv> {
    Arc::new(ModuleEnv::new(meta(), capabilities, store()))
}

fn state_with(capabilities: Capabilities) -> HostState {
    HostState::new(env_with(capabilities), MemoryLimiter::default()).unwrap()
}

fn state() -> HostState {
    state_with(Capabilities::default())
}

/// Capabilities granting everything `sql` and `run` check.
fn permissive() -> Capabilities {
    Capabilities {
        allow_arbitrary_queries: true,
        allow_functions: surli_config::FunctionTargets::All,
        ..Capabilities::default()
    }
}

/// Everything a context was asked to do.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Sql {
        call: CallInfo,
        query: String,
        vars: Object,
    },
    Run {
        call: CallInfo,
        function: String,
        version: Option<String>,
        args: Vec<Value>,
    },
    Stdout {
        call: CallInfo,
        line: String,
    },
    Stderr {
        call: CallInfo,
        line: String,
    },
}

/// A context that records what reaches it and answers with a fixed value.
#[derive(Default)]
struct Recording {
    seen: Mutex<Vec<Seen>>,
}

impl Recording {
    fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    fn stdout_lines(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter_map(|seen| match seen {
                Seen::Stdout { line, .. } => Some(line),
                _ => None,
            })
            .collect()
    }

    /// The answer to every `sql` and `run`.
    fn answer() -> Value {
        Value::String("answered".to_owned())
    }
}

#[async_trait::async_trait]
impl InvocationContext for Recording {
    async fn sql(&self, call: &CallInfo, query: &str, vars: Object) -> Result<Value, ContextError> {
        self.seen.lock().push(Seen::Sql {
            call: call.clone(),
            query: query.to_owned(),
            vars,
        });
        Ok(Self::answer())
    }

    async fn run(
        &self,
        call: &CallInfo,
        function: &str,
        version: Option<&str>,
        args: Vec<Value>,
    ) -> Result<Value, ContextError> {
        self.seen.lock().push(Seen::Run {
            call: call.clone(),
            function: function.to_owned(),
            version: version.map(str::to_owned),
            args,
        });
        Ok(Self::answer())
    }

    fn stdout(&self, call: &CallInfo, line: &str) {
        self.seen.lock().push(Seen::Stdout {
            call: call.clone(),
            line: line.to_owned(),
        });
    }

    fn stderr(&self, call: &CallInfo, line: &str) {
        self.seen.lock().push(Seen::Stderr {
            call: call.clone(),
            line: line.to_owned(),
        });
    }
}

/// The one thing a context saw.
fn only(seen: Vec<Seen>) -> Seen {
    assert_eq!(seen.len(), 1, "expected exactly one event: {seen:?}");
    seen.into_iter().next().unwrap()
}

/// A state in a call of `function`, with a recording context.
fn in_call(capabilities: Capabilities, function: &str) -> (HostState, Arc<Recording>) {
    let mut state = state_with(capabilities);
    let ctx = Recording::new();
    let info = CallInfo::invoke(Arc::clone(state.env().module()), Some(function));
    state.set_call(ctx.clone(), info);
    (state, ctx)
}
