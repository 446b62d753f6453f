//! `sql` and `run`: the capability checks come first, then the context.

use std::sync::Arc;

use surli_config::{Capabilities, FunctionTargets};
use surli_host::bindings::surrealism::plugin::host::Host;
use surli_host::{CallInfo, CallKind, NullContext, codec};
use surrealdb_types::{Number, Object, Value};

use crate::{Recording, Seen, in_call, permissive, state_with};

fn vars(pairs: &[(&str, Value)]) -> Vec<u8> {
    let entries: Vec<(String, Value)> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect();
    codec::encode_entries(&entries).unwrap()
}

fn int(value: i64) -> Value {
    Value::Number(Number::Int(value))
}

#[tokio::test]
async fn sql_is_refused_without_allow_arbitrary_queries_and_never_reaches_the_context() {
    let (mut state, ctx) = in_call(Capabilities::default(), "f");
    let error = state
        .sql("SELECT * FROM user".to_owned(), Vec::new())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        "sql is not allowed for module acme/tester: set capabilities.allow_arbitrary_queries = \
         true in surrealism.toml"
    );
    assert!(ctx.seen().is_empty());
}

#[tokio::test]
async fn sql_reaches_the_context_with_decoded_vars_and_call_info() {
    let (mut state, ctx) = in_call(permissive(), "reports::daily");
    let bytes = state
        .sql(
            "SELECT * FROM $table".to_owned(),
            vars(&[("table", Value::String("user".to_owned())), ("n", int(3))]),
        )
        .await
        .unwrap();
    assert_eq!(codec::decode_value(&bytes).unwrap(), Recording::answer());

    let expected_vars: Object = [
        ("table".to_owned(), Value::String("user".to_owned())),
        ("n".to_owned(), int(3)),
    ]
    .into_iter()
    .collect();
    let Seen::Sql { call, query, vars } = crate::only(ctx.seen()) else {
        panic!("expected one sql call, saw {:?}", ctx.seen());
    };
    assert_eq!(query, "SELECT * FROM $table");
    assert_eq!(vars, expected_vars);
    assert_eq!(call.function(), Some("reports::daily"));
    assert_eq!(call.kind(), CallKind::Invoke);
    assert_eq!(call.module().name, "tester");
}

#[tokio::test]
async fn sql_with_an_empty_vars_buffer_has_no_vars() {
    let (mut state, ctx) = in_call(permissive(), "f");
    state.sql("RETURN 1".to_owned(), Vec::new()).await.unwrap();
    let Seen::Sql { vars, .. } = crate::only(ctx.seen()) else {
        panic!("expected one sql call");
    };
    assert_eq!(vars, Object::new());
}

#[tokio::test]
async fn sql_with_malformed_vars_is_an_error_and_never_reaches_the_context() {
    let (mut state, ctx) = in_call(permissive(), "f");
    let error = state
        .sql("RETURN 1".to_owned(), vec![1, 2, 3, 4, 5])
        .await
        .unwrap_err();
    assert!(error.starts_with("cannot decode entries:"), "{error}");
    assert!(ctx.seen().is_empty());
}

#[tokio::test]
async fn a_context_error_is_what_the_guest_sees() {
    struct Refusing;
    #[async_trait::async_trait]
    impl surli_host::InvocationContext for Refusing {
        async fn sql(
            &self,
            _: &CallInfo,
            _: &str,
            _: Object,
        ) -> Result<Value, surli_host::ContextError> {
            Err("table `user` is read-only for this caller".into())
        }
        async fn run(
            &self,
            _: &CallInfo,
            _: &str,
            _: Option<&str>,
            _: Vec<Value>,
        ) -> Result<Value, surli_host::ContextError> {
            Err(surli_host::ContextError::new(std::io::Error::other(
                "database unavailable",
            )))
        }
    }
    let mut state = state_with(permissive());
    let info = CallInfo::invoke(Arc::clone(state.env().module()), None);
    state.set_call(Arc::new(Refusing), info);
    assert_eq!(
        state.sql("DELETE user".to_owned(), Vec::new()).await,
        Err("table `user` is read-only for this caller".to_owned())
    );
    let args = codec::encode_args(&[]).unwrap();
    assert_eq!(
        state.run("fn::x".to_owned(), None, args).await,
        Err("database unavailable".to_owned())
    );
}

#[tokio::test]
async fn run_is_refused_unless_allow_functions_allows_the_function() {
    let capabilities = Capabilities {
        allow_functions: FunctionTargets::Some(vec!["string::*".to_owned(), "fn::a".to_owned()]),
        ..Capabilities::default()
    };
    let args = codec::encode_args(&[int(1)]).unwrap();
    for (function, allowed) in [
        ("string::len", true),
        ("string::lowercase", true),
        ("fn::a", true),
        ("fn::b", false),
        ("fn::a::b", false),
        ("math::max", false),
        ("http::get", false),
    ] {
        let (mut state, ctx) = in_call(capabilities.clone(), "f");
        let result = state.run(function.to_owned(), None, args.clone()).await;
        assert_eq!(result.is_ok(), allowed, "{function}: {result:?}");
        assert_eq!(ctx.seen().len(), usize::from(allowed), "{function}");
        if !allowed {
            let error = result.unwrap_err();
            assert!(
                error.starts_with(&format!(
                    "function `{function}` is not allowed for module acme/tester: add"
                )),
                "{error}"
            );
            assert!(error.contains("capabilities.allow_functions"), "{error}");
        }
    }
}

#[tokio::test]
async fn run_is_refused_for_everything_by_default() {
    let (mut state, ctx) = in_call(Capabilities::default(), "f");
    let args = codec::encode_args(&[]).unwrap();
    assert!(state.run("fn::x".to_owned(), None, args).await.is_err());
    assert!(ctx.seen().is_empty());
}

#[tokio::test]
async fn run_reaches_the_context_with_function_version_and_args() {
    let (mut state, ctx) = in_call(permissive(), "caller");
    let args = vec![int(1), Value::String("two".to_owned()), Value::Null];
    let bytes = state
        .run(
            "other::fn".to_owned(),
            Some("2.0.0".to_owned()),
            codec::encode_args(&args).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(codec::decode_value(&bytes).unwrap(), Recording::answer());
    let Seen::Run {
        call,
        function,
        version,
        args: seen_args,
    } = crate::only(ctx.seen())
    else {
        panic!("expected one run call");
    };
    assert_eq!(function, "other::fn");
    assert_eq!(version.as_deref(), Some("2.0.0"));
    assert_eq!(seen_args, args);
    assert_eq!(call.function(), Some("caller"));
}

#[tokio::test]
async fn run_with_malformed_args_is_an_error_and_never_reaches_the_context() {
    let (mut state, ctx) = in_call(permissive(), "f");
    let error = state
        .run("fn::x".to_owned(), None, b"not flatbuffers".to_vec())
        .await
        .unwrap_err();
    assert!(error.starts_with("cannot decode arguments:"), "{error}");
    assert!(ctx.seen().is_empty());
}

#[tokio::test]
async fn between_calls_sql_and_run_meet_the_null_context() {
    let mut state = state_with(permissive());
    assert_eq!(state.call_info().kind(), CallKind::Idle);
    assert_eq!(
        state.sql("RETURN 1".to_owned(), Vec::new()).await,
        Err(NullContext::MESSAGE.to_owned())
    );
    let args = codec::encode_args(&[]).unwrap();
    assert_eq!(
        state.run("fn::x".to_owned(), None, args).await,
        Err(NullContext::MESSAGE.to_owned())
    );
    assert_eq!(
        NullContext::MESSAGE,
        "no invocation context: sql and run are only available during a call"
    );
}
