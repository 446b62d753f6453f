//! The call slot: a context lives exactly as long as its call.

use std::sync::Arc;

use surli_config::Capabilities;
use surli_host::bindings::surrealism::plugin::host::Host;
use surli_host::{CallInfo, CallKind, HostError, HostState, MemoryLimiter, ModuleEnv, NullContext};

use crate::{Recording, env_with, in_call, meta, permissive, store};

#[tokio::test]
async fn after_clear_call_the_old_context_is_never_reached() {
    let (mut state, ctx) = in_call(permissive(), "f");
    state.sql("RETURN 1".to_owned(), Vec::new()).await.unwrap();
    assert_eq!(ctx.seen().len(), 1);

    state.clear_call();
    assert_eq!(state.call_info().kind(), CallKind::Idle);
    assert_eq!(state.call_info().function(), None);
    assert_eq!(
        state.sql("RETURN 1".to_owned(), Vec::new()).await,
        Err(NullContext::MESSAGE.to_owned())
    );
    assert_eq!(ctx.seen().len(), 1, "the cleared context was reached");
    // The state holds no reference to the old context any more.
    assert_eq!(Arc::strong_count(&ctx), 1);
}

#[tokio::test]
async fn set_call_replaces_the_previous_context() {
    let (mut state, first) = in_call(permissive(), "first");
    let second = Recording::new();
    let info = CallInfo::init(Arc::clone(state.env().module()));
    state.set_call(second.clone(), info);
    assert_eq!(state.call_info().kind(), CallKind::Init);
    state.sql("RETURN 1".to_owned(), Vec::new()).await.unwrap();
    assert!(first.seen().is_empty());
    assert_eq!(second.seen().len(), 1);
}

#[test]
fn call_info_constructors_name_the_call() {
    let module = Arc::new(meta());
    let invoke = CallInfo::invoke(Arc::clone(&module), Some("a::b"));
    assert_eq!(
        (invoke.kind(), invoke.function()),
        (CallKind::Invoke, Some("a::b"))
    );
    let default = CallInfo::invoke(Arc::clone(&module), None);
    assert_eq!(default.function(), None);
    let init = CallInfo::init(Arc::clone(&module));
    assert_eq!((init.kind(), init.function()), (CallKind::Init, None));
    let introspect = CallInfo::introspect(Arc::clone(&module), Some("x"));
    assert_eq!(introspect.kind(), CallKind::Introspect);
    assert_eq!(CallInfo::idle(Arc::clone(&module)).kind(), CallKind::Idle);
    assert_eq!(invoke.module(), &*module);
}

#[test]
fn a_missing_fs_root_is_a_wasi_error_naming_the_directory() {
    let env = ModuleEnv::new(meta(), Capabilities::default(), store())
        .with_fs_root("/definitely/not/here/surli");
    let error = HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap_err();
    assert!(matches!(error, HostError::Wasi { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("cannot set up WASI for the module: cannot open the attached directory /definitely/not/here/surli read-only:"),
        "{message}"
    );
}

#[test]
fn an_existing_fs_root_is_accepted() {
    let dir = std::env::temp_dir();
    let env = ModuleEnv::new(meta(), Capabilities::default(), store()).with_fs_root(&dir);
    assert_eq!(env.fs_root(), Some(dir.as_path()));
    HostState::new(Arc::new(env), MemoryLimiter::default()).unwrap();
}

#[test]
fn the_env_is_shared_not_copied() {
    let env = env_with(Capabilities::default());
    let a = HostState::new(Arc::clone(&env), MemoryLimiter::default()).unwrap();
    let b = HostState::new(Arc::clone(&env), MemoryLimiter::default()).unwrap();
    assert!(Arc::ptr_eq(a.env(), b.env()));
    assert!(Arc::ptr_eq(a.env().kv(), b.env().kv()));
}
