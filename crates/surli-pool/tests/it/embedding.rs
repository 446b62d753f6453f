//! What an embedder ported from the original runtime relies on: a context
//! that brings its own KV store, a load that blocks instead of awaiting,
//! instances without `init`, modules that do not describe themselves, and
//! a module called again from inside its own call.

use std::sync::{Arc, OnceLock};

use surli_config::ServerLimits;
use surli_host::{CallInfo, ContextError, InvocationContext, NullContext};
use surli_kv::{KvLimits, KvStore, MemoryKvStore};
use surli_pool::{CallError, Module, ModuleOptions, Runtime, RuntimeBudget, RuntimeOptions};
use surrealdb_types::{Object, Value};

use crate::support::{int, package, package_with, runtime, text};

/// A context whose calls use a KV store of its own.
#[derive(Debug)]
struct OwnStore(Arc<MemoryKvStore>);

#[async_trait::async_trait]
impl InvocationContext for OwnStore {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        Err("no sql here".into())
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        Err("no run here".into())
    }

    fn kv(&self, _call: &CallInfo) -> Option<Arc<dyn KvStore>> {
        Some(Arc::clone(&self.0) as Arc<dyn KvStore>)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_that_brings_a_kv_store_gets_the_guests_kv_calls() {
    let module = runtime().load(package("hostcalls")).await.unwrap();
    let own = Arc::new(MemoryKvStore::new(KvLimits::default()));
    let ctx = Arc::new(OwnStore(Arc::clone(&own)));

    module
        .call(ctx.clone(), Some("kv::set"), vec![text("k"), int(7)])
        .await
        .unwrap();
    assert!(
        own.exists("k").await.unwrap(),
        "the context's store got the write"
    );
    assert!(
        !module.kv().exists("k").await.unwrap(),
        "the module's own store did not"
    );
    let read = module
        .call(ctx, Some("kv::get"), vec![text("k")])
        .await
        .unwrap();
    assert_eq!(read, int(7));

    // A context that brings none reaches the module's store, where the
    // key was never written.
    let read = module
        .call(Arc::new(NullContext), Some("kv::get"), vec![text("k")])
        .await
        .unwrap();
    assert_eq!(read, Value::None);
}

#[test]
fn a_blocking_load_needs_no_async_runtime() {
    let runtime = runtime();
    let module = runtime
        .load_blocking(package("demo"), ModuleOptions::default())
        .unwrap();
    assert!(
        module
            .functions()
            .iter()
            .any(|f| f.name.as_deref() == Some("add"))
    );
    // Calling still needs an executor; the module itself is the same.
    let sum = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(module.call(Arc::new(NullContext), Some("add"), vec![int(2), int(3)]))
        .unwrap();
    assert_eq!(sum, int(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_load_inside_an_async_task_does_not_panic() {
    // As SurrealDB's `surreal module build` does: the synchronous
    // constructor called straight from an async function. It holds the
    // worker while it compiles, and resolves allow_net hosts on tokio's
    // blocking pool.
    let package = package_with("hostcalls", |config| {
        config.capabilities.allow_net = vec!["localhost:8080".to_owned()];
    });
    let module = runtime()
        .load_blocking(package, ModuleOptions::default())
        .unwrap();
    let answer = module
        .call(Arc::new(NullContext), Some("init_value"), vec![])
        .await
        .unwrap();
    assert_eq!(answer, int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uninitialised_lease_runs_init_only_when_asked() {
    let module = runtime().load(package("hostcalls")).await.unwrap();
    let mut lease = module
        .lease_uninitialised(Arc::new(NullContext))
        .await
        .unwrap();
    let before = lease.call(Some("init_value"), vec![]).await.unwrap();
    assert_eq!(before, int(0), "init has not run");
    lease.init().await.unwrap();
    let after = lease.call(Some("init_value"), vec![]).await.unwrap();
    assert_eq!(after, int(42));
    lease.init().await.unwrap();
    drop(lease);
    assert_eq!(
        module.idle_instances(),
        1,
        "an initialised instance is pooled"
    );

    // One that never ran init is not pooled, so no later caller gets an
    // instance whose init never ran.
    let mut lease = module
        .lease_uninitialised(Arc::new(NullContext))
        .await
        .unwrap();
    assert_eq!(
        lease.call(Some("init_value"), vec![]).await.unwrap(),
        int(0)
    );
    drop(lease);
    assert_eq!(module.idle_instances(), 1);
    let stats = module.stats();
    assert_eq!(stats.instances_retired, 1, "{stats:?}");
    let pooled = module
        .call(Arc::new(NullContext), Some("init_value"), vec![])
        .await
        .unwrap();
    assert_eq!(pooled, int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_fails_on_a_lease_is_a_typed_error_and_its_instance_is_discarded() {
    let module = runtime().load(package("badinit")).await.unwrap();
    let discarded_before = module.stats().instances_discarded;
    let mut lease = module
        .lease_uninitialised(Arc::new(NullContext))
        .await
        .unwrap();
    let error = lease.init().await.unwrap_err();
    assert!(
        matches!(
            error,
            CallError::InitFailed {
                remembered: false,
                ..
            }
        ),
        "{error:?}"
    );
    let stats = module.stats();
    assert_eq!(stats.init_failures, 1);
    assert_eq!(stats.instances_discarded, discarded_before + 1);
    drop(lease);
    assert_eq!(module.idle_instances(), 0);
}

/// A context whose `run` never answers.
struct Stall;

#[async_trait::async_trait]
impl InvocationContext for Stall {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        std::future::pending().await
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_whose_call_was_abandoned_calls_again_in_a_new_instance() {
    let module = runtime().load(package("hostcalls")).await.unwrap();
    let mut lease = module.lease(Arc::new(Stall)).await.unwrap();
    // Something left in the instance, then a call abandoned midway: the
    // guest waits in a host call that never answers, and the caller gives
    // up on it, dropping the call's future.
    assert_eq!(
        lease.call(Some("swap_static"), vec![int(7)]).await.unwrap(),
        int(0)
    );
    let args = vec![
        text("string::len"),
        Value::None,
        Value::Array(Vec::<Value>::new().into()),
    ];
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        lease.call(Some("run"), args),
    )
    .await;
    assert!(abandoned.is_err(), "the call was meant to stall");
    let discarded_before = module.stats().instances_discarded;
    // The next call on the lease runs in a new instance, which holds
    // nothing the abandoned one left.
    assert_eq!(
        lease.call(Some("swap_static"), vec![int(9)]).await.unwrap(),
        int(0),
        "the abandoned instance was called again"
    );
    assert_eq!(module.stats().instances_discarded, discarded_before + 1);
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_that_does_not_describe_itself_loads_and_runs() {
    let module = runtime().load(package("invoke-only")).await.unwrap();
    assert!(!module.is_described());
    assert!(module.functions().is_empty());
    assert!(
        module
            .warnings()
            .iter()
            .any(|w| w.contains("does not describe")),
        "{:?}",
        module.warnings()
    );
    let echoed = module
        .call(Arc::new(NullContext), Some("anything"), vec![text("echo")])
        .await
        .unwrap();
    assert_eq!(echoed, text("echo"));

    let described = runtime().load(package("demo")).await.unwrap();
    assert!(described.is_described());
}

/// A context whose `run` calls `module` again, as SurrealDB does when a
/// module's `run` names one of its own functions.
struct CallsBack {
    module: OnceLock<Module>,
}

#[async_trait::async_trait]
impl InvocationContext for CallsBack {
    async fn sql(&self, _: &CallInfo, _: &str, _: Object) -> Result<Value, ContextError> {
        Err("no sql here".into())
    }

    async fn run(
        &self,
        _: &CallInfo,
        _: &str,
        _: Option<&str>,
        _: Vec<Value>,
    ) -> Result<Value, ContextError> {
        let module = self.module.get().ok_or("no module yet")?;
        module
            .call(Arc::new(NullContext), Some("init_value"), vec![])
            .await
            .map_err(ContextError::new)
    }
}

async fn call_itself(pool_size: usize) -> (Module, Result<Value, CallError>) {
    call_itself_under(pool_size, RuntimeBudget::default()).await
}

async fn call_itself_under(
    pool_size: usize,
    budget: RuntimeBudget,
) -> (Module, Result<Value, CallError>) {
    let runtime = Runtime::new(
        RuntimeOptions::default()
            .with_server(
                ServerLimits::default()
                    .with_max_pool_size(std::num::NonZeroUsize::new(pool_size).unwrap()),
            )
            .with_budget(budget),
    )
    .unwrap();
    let module = runtime.load(package("hostcalls")).await.unwrap();
    let ctx = Arc::new(CallsBack {
        module: OnceLock::new(),
    });
    ctx.module.set(module.clone()).unwrap();
    let args = vec![
        text("string::len"),
        Value::None,
        Value::Array(Vec::<Value>::new().into()),
    ];
    // The wall clock bounds the test: without the guard this call waits
    // for its own permit forever.
    let outcome = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        module.call(ctx, Some("run"), args),
    )
    .await
    .expect("a call of a module from inside itself must end");
    (module, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_inside_a_call_that_holds_the_whole_runtime_budget_is_refused() {
    // The module's pool has room for the nested call, the runtime does not,
    // and the only instance alive is the outer call's own: waiting for
    // room would never end.
    let (module, outcome) =
        call_itself_under(2, RuntimeBudget::default().with_max_instances(1)).await;
    refused_then_serves(&module, outcome, "the runtime's budget of 1 instances").await;
}

/// The nested call was refused with `reason`, which the guest passed on,
/// and the module serves the next call.
async fn refused_then_serves(module: &Module, outcome: Result<Value, CallError>, reason: &str) {
    match outcome {
        Err(CallError::Guest { message }) => assert!(message.contains(reason), "{message}"),
        other => panic!("expected the guest to see the refusal, got {other:?}"),
    }
    let answer = module
        .call(Arc::new(NullContext), Some("init_value"), vec![])
        .await
        .unwrap();
    assert_eq!(answer, int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_called_from_inside_itself_with_no_instance_left_is_refused() {
    let (module, outcome) = call_itself(1).await;
    refused_then_serves(&module, outcome, "called from inside its own call").await;
    // Nothing is left checked out.
    assert_eq!(module.available_permits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_called_from_inside_itself_with_an_instance_free_runs_the_call() {
    let (module, outcome) = call_itself(2).await;
    assert_eq!(outcome.unwrap(), int(42));
    assert_eq!(module.available_permits(), 2);
}
