//! The runtime checks capabilities before the embedder is reached.

use std::net::TcpListener;

use surli_config::FunctionTargets;
use surli_pool::CallError;
use surrealdb_types::{SurrealValue, Value};

use crate::support::{Recorder, int, load, package_with, runtime, text};

fn guest_error(outcome: Result<Value, CallError>) -> String {
    match outcome {
        Err(CallError::Guest { message }) => message,
        other => panic!("expected a guest error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_without_the_capability_never_reaches_the_embedder() {
    let package = package_with("hostcalls", |config| {
        config.capabilities.allow_arbitrary_queries = false;
    });
    let module = runtime().load(package).await.unwrap();
    let ctx = Recorder::new(int(1));
    let message = guest_error(
        module
            .call(ctx.clone(), Some("sql"), vec![text("SELECT 1")])
            .await,
    );
    assert!(message.contains("allow_arbitrary_queries"), "{message}");
    assert!(ctx.seen().sql.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_with_the_capability_reaches_the_embedder_with_its_vars() {
    let module = load("hostcalls").await;
    let ctx = Recorder::new(text("answer"));
    let mut vars = surrealdb_types::Object::new();
    vars.insert("id".to_owned(), int(3));
    let answer = module
        .call(
            ctx.clone(),
            Some("sql_with_vars"),
            vec![text("SELECT * FROM $id"), Value::Object(vars.clone())],
        )
        .await
        .unwrap();
    assert_eq!(answer, text("answer"));
    let seen = ctx.seen();
    assert_eq!(seen.sql.len(), 1);
    assert_eq!(seen.sql[0].0, "SELECT * FROM $id");
    assert_eq!(seen.sql[0].1, vars);
    assert_eq!(seen.sql[0].2.as_deref(), Some("sql_with_vars"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_is_checked_against_allow_functions() {
    let module = load("hostcalls").await;
    let ctx = Recorder::new(int(5));
    let call = |function: &str| {
        vec![
            text(function),
            Value::None,
            Value::Array(vec![text("abc")].into()),
        ]
    };
    assert_eq!(
        module
            .call(ctx.clone(), Some("run"), call("string::len"))
            .await
            .unwrap(),
        int(5)
    );
    assert_eq!(
        module
            .call(ctx.clone(), Some("run"), call("fn::allowed"))
            .await
            .unwrap(),
        int(5)
    );
    let message = guest_error(
        module
            .call(ctx.clone(), Some("run"), call("math::abs"))
            .await,
    );
    assert!(
        message.contains("math::abs") && message.contains("allow_functions"),
        "{message}"
    );
    let message = guest_error(
        module
            .call(ctx.clone(), Some("run"), call("fn::other"))
            .await,
    );
    assert!(message.contains("fn::other"), "{message}");
    let seen = ctx.seen();
    let reached: Vec<_> = seen.run.iter().map(|(f, _, _)| f.as_str()).collect();
    assert_eq!(reached, ["string::len", "fn::allowed"]);
    assert_eq!(seen.run[0].2, vec![text("abc")]);

    let none = package_with("hostcalls", |config| {
        config.capabilities.allow_functions = FunctionTargets::None;
    });
    let module = runtime().load(none).await.unwrap();
    guest_error(
        module
            .call(ctx.clone(), Some("run"), call("string::len"))
            .await,
    );
    assert_eq!(ctx.seen().run.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_fs_is_readable_and_never_writable() {
    let module = load("hostcalls").await;
    let ctx = Recorder::new(Value::None);
    assert_eq!(
        module
            .call(ctx.clone(), Some("read_file"), vec![text("/hello.txt")])
            .await
            .unwrap(),
        text("hello from fs\n")
    );
    let message = guest_error(
        module
            .call(
                ctx.clone(),
                Some("write_file"),
                vec![text("/hello.txt"), text("x")],
            )
            .await,
    );
    assert!(!message.is_empty());
    let message = guest_error(
        module
            .call(
                ctx.clone(),
                Some("write_file"),
                vec![text("/new.txt"), text("x")],
            )
            .await,
    );
    assert!(!message.is_empty());
    // Nothing changed on the host side.
    let root = module.package().fs_path().unwrap();
    assert_eq!(
        std::fs::read_to_string(root.join("hello.txt")).unwrap(),
        "hello from fs\n"
    );
    assert!(!root.join("new.txt").exists());
    // Nor can the guest climb out of its root, to a file that is there.
    let outside = root.parent().unwrap().join("outside.txt");
    std::fs::write(&outside, "not for the guest").unwrap();
    for path in [
        "/../outside.txt",
        "../outside.txt",
        "/../../surrealism/outside.txt",
    ] {
        let escaped = module
            .call(ctx.clone(), Some("read_file"), vec![text(path)])
            .await;
        assert!(
            matches!(&escaped, Err(CallError::Guest { message }) if !message.contains("not for")),
            "{path}: {escaped:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_reach_only_allowed_addresses() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Linux routes all of 127/8 to the loopback device, so these bind; each
    // listens, so a refusal can only be the filter's.
    let denied = TcpListener::bind("127.0.0.2:0").unwrap();
    let wrong_port = TcpListener::bind("127.0.0.3:0").unwrap();
    let module = load("hostcalls").await;
    let ctx = Recorder::new(Value::None);
    let connect = |addr: String| {
        let module = module.clone();
        let ctx = ctx.clone();
        async move {
            module
                .call(ctx, Some("connect"), vec![addr.into_value()])
                .await
                .unwrap()
        }
    };
    assert_eq!(
        connect(format!("127.0.0.1:{port}")).await,
        text("connected")
    );
    // 127.0.0.3 is allowed on port 9 only; 127.0.0.2 not at all.
    for listener in [&wrong_port, &denied] {
        let addr = listener.local_addr().unwrap();
        let answer = connect(addr.to_string()).await;
        assert_ne!(answer, text("connected"), "{addr}");
        listener.set_nonblocking(true).unwrap();
        assert_eq!(
            listener.accept().map(drop).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "the guest's connection to {addr} reached the listener"
        );
    }

    let closed = package_with("hostcalls", |config| config.capabilities.allow_net.clear());
    let module = runtime().load(closed).await.unwrap();
    let answer = module
        .call(
            ctx,
            Some("connect"),
            vec![format!("127.0.0.1:{port}").into_value()],
        )
        .await
        .unwrap();
    assert_ne!(answer, text("connected"));
}
