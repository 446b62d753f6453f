//! `sql` and `run` answered by a real database, as the caller.

use std::sync::Arc;

use surli::{InvocationContext, SurrealValue, Value};
use surli_surrealdb::SurrealContext;
use surli_surrealdb::surrealdb::opt::auth::Record;
use surli_surrealdb::surrealdb::types::Object;

use crate::support::{
    DB, NS, call, context, exec, load, memory_db, package, package_with, runtime, s, strings, value,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_creates_records_and_reads_them_back_with_variables() {
    let db = memory_db().await;
    let runtime = runtime();
    let library = load(&runtime, package("library")).await;
    let ctx = context(&db);

    let shelved = call(
        &library,
        &ctx,
        "shelve",
        vec![strings(&["Dune", "Emma", "Dracula"])],
    )
    .await
    .unwrap();
    let expected = |rows: &[(&str, &str)]| {
        rows.iter()
            .map(|(shelf, title)| {
                let mut row = Object::new();
                row.insert("shelf".to_owned(), s(shelf));
                row.insert("title".to_owned(), s(title));
                Value::Object(row)
            })
            .collect::<Vec<_>>()
            .into_value()
    };
    assert_eq!(
        shelved,
        expected(&[("D", "Dracula"), ("D", "Dune"), ("E", "Emma")])
    );

    // The rows are in the database, where anyone can see them.
    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM book)").await,
        3i64.into_value()
    );
    let on_d = call(&library, &ctx, "shelf", vec![s("D")]).await.unwrap();
    assert_eq!(on_d, expected(&[("D", "Dracula"), ("D", "Dune")]));
    // `count` is not among the functions the module was granted
    // (`string::*`, `fn::blurb`): SurrealDB's own host refuses its query,
    // and so does surli, with SurrealDB's words.
    assert_eq!(
        call(&library, &ctx, "count", vec![]).await,
        Err("host sql: Function 'count' is not allowed to be executed".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modules_query_may_call_only_the_functions_it_was_granted() {
    let db = memory_db().await;
    exec(
        &db,
        "CREATE kept:one; DEFINE TABLE made SCHEMALESS; \
         DEFINE FUNCTION fn::allowed($x: int) { RETURN $x * 2 }; \
         DEFINE FUNCTION fn::sneaky($x: string) { RETURN crypto::md5($x) };",
    )
    .await;
    let runtime = runtime();
    // Granted `string::*` and `fn::allowed`.
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let ctx = context(&db);
    let sql = |query: &str| call(&hostcalls, &ctx, "sql", vec![s(query)]);

    assert_eq!(sql("RETURN string::uppercase('a')").await.unwrap(), s("A"));
    assert_eq!(
        sql("RETURN fn::allowed(21)").await.unwrap(),
        42i64.into_value()
    );

    // An ungranted function anywhere in the query refuses all of it: the
    // CREATE before it never runs.
    let refused = sql("CREATE made:one; RETURN crypto::md5('x')").await;
    assert_eq!(
        refused,
        Err("host sql: Function 'crypto::md5' is not allowed to be executed".to_owned())
    );
    // Reaching a network target is a function too (and HTTP functions are
    // compiled out of this SurrealDB besides).
    let refused = sql("CREATE made:two; RETURN http::get('http://127.0.0.1:9/')").await;
    assert_eq!(
        refused,
        Err("host sql: Function 'http::get' is not allowed to be executed".to_owned())
    );
    // A custom function the module was not granted, and one it was granted
    // whose body calls what the module may not.
    let refused = sql("RETURN fn::sneaky('x')").await;
    assert_eq!(
        refused,
        Err("host sql: Function 'fn::sneaky' is not allowed to be executed".to_owned())
    );
    exec(
        &db,
        "DEFINE FUNCTION OVERWRITE fn::allowed($x: int) { RETURN [$x, fn::sneaky('x')] };",
    )
    .await;
    let refused = sql("CREATE made:three; RETURN fn::allowed(1)").await;
    assert_eq!(
        refused,
        Err("host sql: Function 'fn::sneaky' is not allowed to be executed".to_owned())
    );
    // Method syntax runs a function chosen by a type known only at run time.
    let refused = sql("RETURN 'abc'.len()").await.unwrap_err();
    assert!(refused.contains("method syntax (`.len()`)"), "{refused}");
    // `run` reaches a custom function's body just the same.
    let run = call(
        &hostcalls,
        &ctx,
        "run",
        vec![
            s("fn::allowed"),
            Value::None,
            vec![1i64.into_value()].into_value(),
        ],
    )
    .await;
    assert_eq!(
        run,
        Err("host run: Function 'fn::sneaky' is not allowed to be executed".to_owned())
    );

    // Nothing any refused query began was made; what was there still is.
    assert_eq!(
        value(
            &db,
            "RETURN [count(SELECT * FROM made), count(SELECT * FROM kept)]"
        )
        .await,
        vec![0i64.into_value(), 1i64.into_value()].into_value()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_binds_the_guests_variables_and_returns_the_last_statement() {
    let db = memory_db().await;
    let runtime = runtime();
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let ctx = context(&db);

    let mut vars = Object::new();
    vars.insert("a".to_owned(), 40i64.into_value());
    vars.insert("b".to_owned(), 2i64.into_value());
    let sum = call(
        &hostcalls,
        &ctx,
        "sql_with_vars",
        vec![s("RETURN $a + $b"), Value::Object(vars)],
    )
    .await
    .unwrap();
    assert_eq!(sum, 42i64.into_value());

    // A variable's text is data, never query text.
    let mut vars = Object::new();
    vars.insert("name".to_owned(), s("x'; DELETE person; '"));
    call(
        &hostcalls,
        &ctx,
        "sql_with_vars",
        vec![s("CREATE person:one SET name = $name"), Value::Object(vars)],
    )
    .await
    .unwrap();
    assert_eq!(
        value(&db, "RETURN person:one.name").await,
        s("x'; DELETE person; '")
    );

    let last = call(&hostcalls, &ctx, "sql", vec![s("RETURN 1; RETURN 2")])
        .await
        .unwrap();
    assert_eq!(last, 2i64.into_value());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_module_reads_only_what_its_caller_may_read() {
    let db = memory_db().await;
    exec(
        &db,
        "DEFINE ACCESS user ON DATABASE TYPE RECORD \
             SIGNIN (SELECT * FROM user WHERE name = $name) DURATION FOR SESSION 1h; \
         DEFINE TABLE diary SCHEMALESS \
             PERMISSIONS FOR select WHERE owner = $auth.id FOR create, update, delete NONE; \
         DEFINE FUNCTION fn::allowed($x: int) { RETURN $x * 2 } PERMISSIONS NONE; \
         CREATE user:alice SET name = 'alice'; \
         CREATE user:bob SET name = 'bob'; \
         CREATE diary:a SET owner = user:alice, text = 'alice wrote this'; \
         CREATE diary:b SET owner = user:bob, text = 'bob wrote this';",
    )
    .await;
    let alice = db.clone();
    let mut params = Object::new();
    params.insert("name".to_owned(), s("alice"));
    alice
        .signin(Record {
            namespace: NS.to_owned(),
            database: DB.to_owned(),
            access: "user".to_owned(),
            params: Value::Object(params),
        })
        .await
        .unwrap();

    let runtime = runtime();
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let as_alice = context(&alice);
    let as_root = context(&db);
    let read_all = || vec![s("SELECT VALUE text FROM diary ORDER BY text")];

    assert_eq!(
        call(&hostcalls, &as_alice, "sql", read_all())
            .await
            .unwrap(),
        strings(&["alice wrote this"])
    );
    // Bob's record is there, but not for Alice.
    assert_eq!(
        call(
            &hostcalls,
            &as_alice,
            "sql",
            vec![s("SELECT * FROM diary:b")]
        )
        .await
        .unwrap(),
        Vec::<Value>::new().into_value()
    );
    assert_eq!(
        call(&hostcalls, &as_root, "sql", read_all()).await.unwrap(),
        strings(&["alice wrote this", "bob wrote this"])
    );
    // A write the caller may not make creates nothing: SurrealDB 3.3 answers
    // a CREATE the table's permissions refuse with no rows, not an error.
    let refused = call(
        &hostcalls,
        &as_alice,
        "sql",
        vec![s("CREATE diary:c SET owner = user:alice")],
    )
    .await;
    assert_eq!(
        refused,
        Ok(Vec::<Value>::new().into_value()),
        "alice's CREATE was meant to be answered with no rows"
    );
    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM diary)").await,
        2i64.into_value()
    );

    // The same for a function only the owner may call.
    let run_allowed = || {
        vec![
            s("fn::allowed"),
            Value::None,
            vec![21i64.into_value()].into_value(),
        ]
    };
    // Held to its grant, the module cannot call a custom function for a
    // caller who may not read the function's body: what the body calls
    // cannot be checked against the grant.
    let unchecked = call(&hostcalls, &as_alice, "run", run_allowed())
        .await
        .unwrap_err();
    assert!(
        unchecked.contains("definitions of the database's custom functions could not be read"),
        "{unchecked}"
    );
    // Granted every function, it meets the caller's own rights.
    let everything = load(&runtime, granted_everything()).await;
    let denied = call(&everything, &as_alice, "run", run_allowed()).await;
    match &denied {
        Err(message)
            if message.contains("You don't have permission to run the fn::allowed function") => {}
        other => panic!("expected SurrealDB's permission refusal, got {other:?}"),
    }
    assert_eq!(
        call(&hostcalls, &as_root, "run", run_allowed())
            .await
            .unwrap(),
        42i64.into_value()
    );
    // The module's session did not change alice's own.
    assert_eq!(
        value(&alice, "SELECT VALUE text FROM diary").await,
        strings(&["alice wrote this"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_calls_builtins_and_the_databases_own_functions() {
    let db = memory_db().await;
    exec(
        &db,
        "DEFINE FUNCTION fn::allowed($x: int) { RETURN $x * 2 }; \
         DEFINE FUNCTION fn::blurb($title: string) { RETURN 'A book called ' + $title };",
    )
    .await;
    let runtime = runtime();
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let library = load(&runtime, package("library")).await;
    let ctx = context(&db);
    let run = |function: &str, args: Vec<Value>| vec![s(function), Value::None, args.into_value()];

    assert_eq!(
        call(
            &hostcalls,
            &ctx,
            "run",
            run("string::uppercase", vec![s("dune")])
        )
        .await
        .unwrap(),
        s("DUNE")
    );
    assert_eq!(
        call(
            &hostcalls,
            &ctx,
            "run",
            run("fn::allowed", vec![21i64.into_value()])
        )
        .await
        .unwrap(),
        42i64.into_value()
    );
    // A one-element array stays an array (the client's own `run` would
    // unwrap it into its element).
    assert_eq!(
        call(
            &hostcalls,
            &ctx,
            "run",
            run("string::split", vec![s("solo"), s(",")])
        )
        .await
        .unwrap(),
        strings(&["solo"])
    );
    assert_eq!(
        call(&library, &ctx, "shout", vec![s("emma")])
            .await
            .unwrap(),
        s("EMMA")
    );
    assert_eq!(
        call(&library, &ctx, "blurb", vec![s("Emma")])
            .await
            .unwrap(),
        s("A book called Emma")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_capability_never_reaches_the_database() {
    let db = memory_db().await;
    exec(
        &db,
        "DEFINE TABLE tattle SCHEMALESS; \
         DEFINE FUNCTION fn::tattle() { CREATE tattle SET by = 'run'; RETURN true };",
    )
    .await;
    let runtime = runtime();
    let ctx = context(&db);

    // hostcalls may run `string::*` and `fn::allowed`, not `fn::tattle`.
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let refused = call(
        &hostcalls,
        &ctx,
        "run",
        vec![
            s("fn::tattle"),
            Value::None,
            Vec::<Value>::new().into_value(),
        ],
    )
    .await
    .unwrap_err();
    assert!(refused.contains("allow_functions"), "{refused}");

    // Without allow_arbitrary_queries, sql is refused the same way.
    let quiet = package_with("hostcalls", |config| {
        config.capabilities.allow_arbitrary_queries = false;
    });
    let quiet = load(&runtime, quiet).await;
    let refused = call(&quiet, &ctx, "sql", vec![s("CREATE tattle SET by = 'sql'")])
        .await
        .unwrap_err();
    assert!(refused.contains("allow_arbitrary_queries"), "{refused}");

    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM tattle)").await,
        0i64.into_value()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_errors_come_back_as_the_guests_error_and_it_serves_on() {
    let db = memory_db().await;
    exec(&db, "DEFINE TABLE thing SCHEMALESS;").await;
    let runtime = runtime();
    let hostcalls = load(&runtime, package("hostcalls")).await;
    let ctx = context(&db);

    let parse = call(&hostcalls, &ctx, "sql", vec![s("SELEC nonsense")])
        .await
        .unwrap_err();
    assert!(parse.contains("host sql"), "{parse}");
    assert!(parse.to_lowercase().contains("parse"), "{parse}");

    let thrown = call(&hostcalls, &ctx, "sql", vec![s("THROW 'out of biscuits'")])
        .await
        .unwrap_err();
    assert!(thrown.contains("out of biscuits"), "{thrown}");

    // A failure inside a transaction reports the cause, not the statements
    // it skipped.
    let in_txn = call(
        &hostcalls,
        &ctx,
        "sql",
        vec![s(
            "BEGIN; CREATE thing:1; THROW 'half way'; CREATE thing:2; COMMIT;",
        )],
    )
    .await
    .unwrap_err();
    assert!(in_txn.contains("half way"), "{in_txn}");
    assert_eq!(
        value(&db, "RETURN count(SELECT * FROM thing)").await,
        0i64.into_value()
    );

    let bad_name = call(
        &hostcalls,
        &ctx,
        "run",
        vec![
            s("string::len(); DELETE thing"),
            Value::None,
            Vec::<Value>::new().into_value(),
        ],
    )
    .await
    .unwrap_err();
    assert!(bad_name.contains("not a function name"), "{bad_name}");

    assert_eq!(
        call(&hostcalls, &ctx, "sql", vec![s("RETURN 7")])
            .await
            .unwrap(),
        7i64.into_value()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_gets_a_session_of_its_own() {
    let db = memory_db().await;
    let runtime = runtime();
    let hostcalls = load(&runtime, granted_everything()).await;
    let ctx: Arc<dyn InvocationContext> = Arc::new(SurrealContext::new(db.clone()));

    let moved = call(
        &hostcalls,
        &ctx,
        "sql",
        vec![s("USE NS elsewhere DB elsewhere; RETURN session::ns()")],
    )
    .await
    .unwrap();
    assert_eq!(moved, s("elsewhere"));
    // The next query, and the embedder's own handle, are where they were.
    assert_eq!(
        call(&hostcalls, &ctx, "sql", vec![s("RETURN session::ns()")])
            .await
            .unwrap(),
        s(NS)
    );
    assert_eq!(value(&db, "RETURN session::ns()").await, s(NS));
}

/// The hostcalls fixture granted every function (`allow_functions = ["*"]`),
/// for tests about what the database does rather than about the grant.
fn granted_everything() -> surli::Package {
    package_with("hostcalls", |config| {
        config.capabilities.allow_functions = surli::config::FunctionTargets::All;
    })
}
