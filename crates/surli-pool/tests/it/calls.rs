//! Calls through the pool, on the demo guest and on the package the
//! original runtime wrote.

use std::sync::Arc;

use surli_host::NullContext;
use surli_pool::{CallError, Runtime, RuntimeOptions};
use surrealdb_types::Value;

use crate::support::{baseline, int, load, package, runtime, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_functions_answer() {
    let module = load("demo").await;
    let ctx = Arc::new(NullContext);
    let call = |f: &'static str, args: Vec<Value>| {
        let module = module.clone();
        let ctx = ctx.clone();
        async move { module.call(ctx, Some(f), args).await.unwrap() }
    };
    assert_eq!(call("add", vec![int(2), int(3)]).await, int(5));
    assert_eq!(
        call("add", vec![int(i64::MAX), int(1)]).await,
        int(i64::MIN)
    );
    assert_eq!(
        call("concat", vec![text("sur"), text("li")]).await,
        text("surli")
    );
    assert_eq!(
        call("fib", vec![int(90)]).await,
        int(2_880_067_194_370_816_120)
    );
    assert_eq!(call("noop", vec![]).await, Value::None);
    let greeting = module
        .call(ctx.clone(), None, vec![text("Ada")])
        .await
        .unwrap();
    assert_eq!(greeting, text("Hello, Ada!"));
    assert_eq!(call("counter::bump", vec![int(2)]).await, int(2));
    assert_eq!(call("counter::bump", vec![int(3)]).await, int(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_written_by_the_original_runs() {
    let module = runtime().load(baseline()).await.unwrap();
    let ctx = Arc::new(NullContext);
    assert!(module.warnings().is_empty(), "{:?}", module.warnings());
    let names: Vec<_> = module.functions().iter().map(|f| f.name.clone()).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(
        module
            .call(ctx.clone(), Some("fib"), vec![int(90)])
            .await
            .unwrap(),
        int(2_880_067_194_370_816_120)
    );
    assert_eq!(
        module
            .call(ctx.clone(), Some("kv_roundtrip"), vec![text("k"), int(41)])
            .await
            .unwrap(),
        int(41)
    );
    assert_eq!(
        module
            .call(ctx, Some("concat"), vec![text("a"), text("b")])
            .await
            .unwrap(),
        text("ab")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_error_texts_reach_the_caller_unchanged() {
    let module = load("demo").await;
    let ctx = Arc::new(NullContext);
    match module.call(ctx.clone(), Some("nope"), vec![]).await {
        Err(CallError::Guest { message }) => assert_eq!(message, "unknown function: nope"),
        other => panic!("expected a guest error, got {other:?}"),
    }
    match module.call(ctx.clone(), Some("add"), vec![int(1)]).await {
        Err(CallError::Guest { message }) => {
            assert!(message.contains("found 1 arguments"), "{message}");
        }
        other => panic!("expected a guest error, got {other:?}"),
    }
    match module
        .call(ctx.clone(), Some("add"), vec![text("x"), int(1)])
        .await
    {
        Err(error @ CallError::Guest { .. }) => assert!(!error.is_instance_fatal()),
        other => panic!("expected a guest error, got {other:?}"),
    }
    // A guest error leaves the instance healthy: it went back to the pool.
    let stats = module.stats();
    assert_eq!(stats.guest_errors, 3);
    assert_eq!(
        stats.instances_discarded, 1,
        "only the load probe: {stats:?}"
    );
    assert_eq!(module.idle_instances(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_reads_the_live_module() {
    let module = load("demo").await;
    let bump = module
        .functions()
        .iter()
        .find(|f| f.name.as_deref() == Some("counter::bump"))
        .unwrap();
    assert!(bump.writeable);
    assert_eq!(bump.args.len(), 1);
    assert_eq!(bump.args[0].0, "by");
    assert_eq!(bump.returns.to_string(), "int");
    assert!(bump.comment.as_deref().unwrap_or("").contains("counter"));
    let default = module
        .functions()
        .iter()
        .find(|f| f.name.is_none())
        .unwrap();
    assert_eq!(default.returns.to_string(), "string");
    // The fixture's exports.toml was written from the same introspection.
    assert!(module.warnings().is_empty(), "{:?}", module.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_built_with_sdk_0_6_runs() {
    let module = load("sdk065").await;
    assert!(!module.functions().is_empty());
    let result = module
        .call(Arc::new(NullContext), Some("add"), vec![int(40), int(2)])
        .await
        .unwrap();
    assert_eq!(result, int(42));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_toml_disagreeing_with_the_module_warns_or_refuses_when_strict() {
    // The demo guest's package with one function missing from
    // exports.toml (surli-cli's check tests an empty one).
    let original = package("demo");
    let mut partial = original.exports().clone();
    partial.functions.remove(0);
    let bytes = surli_package::PackageWriter::new(original.config(), original.wasm(), &partial)
        .to_bytes()
        .unwrap();
    let read = || {
        surli_package::Package::from_bytes(&bytes, &surli_package::ReadOptions::default()).unwrap()
    };
    let module = runtime().load(read()).await.unwrap();
    assert!(
        module.warnings().iter().any(|w| w.contains("not listed")),
        "{:?}",
        module.warnings()
    );
    let strict = Runtime::new(RuntimeOptions::default().with_strict_exports(true)).unwrap();
    assert!(matches!(
        strict.load(read()).await,
        Err(surli_pool::LoadError::ExportsMismatch { .. })
    ));
}
