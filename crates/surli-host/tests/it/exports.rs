//! Resolving and calling the guest's exports.

use std::sync::Arc;

use surli_config::Capabilities;
use surli_host::{
    GuestExports, HostError, HostState, MemoryLimiter, MemoryLimits, ModuleEnv, PluginExport,
    PluginExports, Resource, build_linker, codec,
};
use surrealdb_types::{Kind, Number, Value};
use wasmtime::Store;
use wasmtime::component::Component;

use crate::components::{
    Answers, component, engine, full_guest, invoke_not_a_function, invoke_only_guest,
    mistyped_invoke_guest, no_invoke_guest,
};
use crate::{meta, store};

fn answers() -> Answers {
    Answers {
        arguments: surrealdb_types::encode_argument_list(&[("n", Kind::Int)]).unwrap(),
        kind: surrealdb_types::encode_kind(&Kind::String).unwrap(),
    }
}

async fn instantiate(
    engine: &wasmtime::Engine,
    component: &Component,
    limits: MemoryLimits,
) -> (Store<HostState>, GuestExports) {
    let linker = build_linker(engine).unwrap();
    let env = Arc::new(ModuleEnv::new(meta(), Capabilities::default(), store()));
    let state = HostState::new(env, MemoryLimiter::new(limits)).unwrap();
    let mut store = Store::new(engine, state);
    store.limiter(|state| state.limiter_mut());
    let instance = linker
        .instantiate_async(&mut store, component)
        .await
        .unwrap();
    let exports = PluginExports::resolve(component).unwrap();
    let bound = exports.bind(&mut store, &instance).unwrap();
    (store, bound)
}

#[tokio::test]
async fn a_full_guest_has_every_export_and_answers_each() {
    let engine = engine();
    let component = component(&engine, &full_guest(&answers()));
    let resolved = PluginExports::resolve(&component).unwrap();
    assert!(PluginExport::ALL.iter().all(|export| resolved.has(*export)));
    let (mut store, guest) = instantiate(&engine, &component, MemoryLimits::default()).await;
    assert!(PluginExport::ALL.iter().all(|export| guest.has(*export)));

    let args = codec::encode_args(&[Value::Number(Number::Int(7))]).unwrap();
    assert_eq!(
        guest.invoke(&mut store, None, &args).await.unwrap(),
        Ok(args.clone())
    );
    assert_eq!(
        guest.invoke(&mut store, Some("echo"), &args).await.unwrap(),
        Ok(args.clone())
    );
    assert_eq!(
        guest.list_functions(&mut store).await.unwrap(),
        Some(vec![None, Some("echo".to_owned())])
    );

    let arguments = guest
        .function_args(&mut store, Some("echo"))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        codec::decode_arguments(&arguments).unwrap(),
        [("n".to_owned(), Kind::Int)]
    );
    assert_eq!(
        guest.function_args(&mut store, None).await.unwrap(),
        Some(Err("no default function".to_owned()))
    );
    let kind = guest
        .function_returns(&mut store, Some("echo"))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(codec::decode_kind(&kind).unwrap(), Kind::String);
    assert_eq!(
        guest
            .function_writeable(&mut store, Some("echo"))
            .await
            .unwrap(),
        Some(Ok(true))
    );
    assert_eq!(
        guest
            .function_comment(&mut store, Some("echo"))
            .await
            .unwrap(),
        Some(Ok(Some("echoes its arguments".to_owned())))
    );
    assert_eq!(guest.init(&mut store).await.unwrap(), Ok(()));
}

#[tokio::test]
async fn a_guest_error_is_the_inner_error_and_the_instance_goes_on() {
    let engine = engine();
    let component = component(&engine, &full_guest(&answers()));
    let (mut store, guest) = instantiate(&engine, &component, MemoryLimits::default()).await;
    let args = codec::encode_args(&[]).unwrap();
    assert_eq!(
        guest.invoke(&mut store, Some("fail"), &args).await.unwrap(),
        Err("boom".to_owned())
    );
    assert_eq!(
        guest.invoke(&mut store, None, &args).await.unwrap(),
        Ok(args.clone())
    );
}

#[tokio::test]
async fn a_trap_is_the_outer_error() {
    let engine = engine();
    let component = component(&engine, &full_guest(&answers()));
    let (mut store, guest) = instantiate(&engine, &component, MemoryLimits::default()).await;
    let args = codec::encode_args(&[]).unwrap();
    let trap = guest
        .invoke(&mut store, Some("trap"), &args)
        .await
        .unwrap_err();
    assert_eq!(
        trap.downcast_ref::<wasmtime::Trap>(),
        Some(&wasmtime::Trap::UnreachableCodeReached)
    );
    assert_eq!(store.data().memory_limiter().exhausted(), None);
}

#[tokio::test]
async fn a_refused_grow_is_recorded_for_the_trap_that_follows() {
    let engine = engine();
    let component = component(&engine, &full_guest(&answers()));
    let limits = MemoryLimits::with_max_memory(Some(2 * 1024 * 1024));
    let (mut store, guest) = instantiate(&engine, &component, limits).await;
    let args = codec::encode_args(&[]).unwrap();
    // 1 page plus 100 is over 2 MiB: the guest's grow fails and it traps.
    assert!(guest.invoke(&mut store, Some("grow"), &args).await.is_err());
    let exhausted = store.data().memory_limiter().exhausted().unwrap();
    assert_eq!(exhausted.what, Resource::Memory);
    assert_eq!(exhausted.limit, 2 * 1024 * 1024);
    assert_eq!(exhausted.requested, 101 * 64 * 1024);
}

#[tokio::test]
async fn a_grow_under_the_limit_succeeds() {
    let engine = engine();
    let component = component(&engine, &full_guest(&answers()));
    let limits = MemoryLimits::with_max_memory(Some(16 * 1024 * 1024));
    let (mut store, guest) = instantiate(&engine, &component, limits).await;
    let args = codec::encode_args(&[]).unwrap();
    assert_eq!(
        guest.invoke(&mut store, Some("grow"), &args).await.unwrap(),
        Ok(args)
    );
    assert_eq!(store.data().memory_limiter().exhausted(), None);
}

#[tokio::test]
async fn missing_optional_exports_are_none_and_a_missing_init_succeeds() {
    let engine = engine();
    let component = component(&engine, &invoke_only_guest());
    let resolved = PluginExports::resolve(&component).unwrap();
    assert!(resolved.has(PluginExport::Invoke));
    assert!(!resolved.has(PluginExport::Init));
    let (mut store, guest) = instantiate(&engine, &component, MemoryLimits::default()).await;
    for export in PluginExport::ALL {
        assert_eq!(
            guest.has(export),
            export == PluginExport::Invoke,
            "{export}"
        );
    }
    assert_eq!(guest.list_functions(&mut store).await.unwrap(), None);
    assert_eq!(guest.function_args(&mut store, None).await.unwrap(), None);
    assert_eq!(
        guest.function_returns(&mut store, None).await.unwrap(),
        None
    );
    assert_eq!(
        guest.function_writeable(&mut store, None).await.unwrap(),
        None
    );
    assert_eq!(
        guest.function_comment(&mut store, None).await.unwrap(),
        None
    );
    assert_eq!(guest.init(&mut store).await.unwrap(), Ok(()));
    let args = codec::encode_args(&[]).unwrap();
    assert_eq!(
        guest.invoke(&mut store, None, &args).await.unwrap(),
        Ok(args)
    );
}

#[test]
fn a_component_without_invoke_is_refused() {
    let engine = engine();
    let component = component(&engine, &no_invoke_guest());
    let error = PluginExports::resolve(&component).unwrap_err();
    assert!(
        matches!(error, HostError::MissingExport { name: "invoke" }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("it was not built with the surrealism SDK"),
        "{error}"
    );
}

#[test]
fn an_invoke_that_is_not_a_function_is_refused() {
    let engine = engine();
    let component = component(&engine, &invoke_not_a_function());
    let error = PluginExports::resolve(&component).unwrap_err();
    assert!(
        matches!(error, HostError::ExportType { name: "invoke", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_mistyped_invoke_is_refused_at_bind() {
    let engine = engine();
    let component = component(&engine, &mistyped_invoke_guest());
    let resolved = PluginExports::resolve(&component).unwrap();
    let linker = build_linker(&engine).unwrap();
    let env = Arc::new(ModuleEnv::new(meta(), Capabilities::default(), store()));
    let mut store = Store::new(
        &engine,
        HostState::new(env, MemoryLimiter::default()).unwrap(),
    );
    let instance = linker
        .instantiate_async(&mut store, &component)
        .await
        .unwrap();
    let error = resolved.bind(&mut store, &instance).unwrap_err();
    assert!(
        matches!(error, HostError::ExportType { name: "invoke", .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("type mismatch"), "{error}");
}

#[test]
fn export_names_are_the_wit_names() {
    let names: Vec<_> = PluginExport::ALL
        .iter()
        .map(|export| export.name())
        .collect();
    assert_eq!(
        names,
        [
            "invoke",
            "list-functions",
            "function-args",
            "function-returns",
            "function-writeable",
            "function-comment",
            "init"
        ]
    );
}
