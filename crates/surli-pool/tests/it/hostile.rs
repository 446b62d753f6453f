//! Hostile guests, one way each. Every case ends in a typed error (or a
//! clean answer), and the same module serves a good call afterwards. The
//! cases already proved elsewhere are listed in docs/RELIABILITY.md.

use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use surli_config::{FunctionTargets, ServerLimits};
use surli_host::{CallInfo, ContextError, InvocationContext, NullContext, StdioLimits};
use surli_kv::KeyRange;
use surli_pool::{CallError, Module, Runtime, RuntimeOptions, TimeoutLimit, TimeoutWatch};
use surrealdb_types::{Object, Value};

use crate::support::{Recorder, int, package, package_with, runtime, runtime_with, text};

fn null() -> Arc<NullContext> {
    Arc::new(NullContext)
}

/// A runtime with `server` limits and these options changed.
fn runtime_opts(server: ServerLimits, edit: impl FnOnce(&mut RuntimeOptions)) -> Runtime {
    let mut options = RuntimeOptions::default().with_server(server);
    edit(&mut options);
    Runtime::new(options).unwrap()
}

/// The hostile module's own good call: `alloc(1)` answers 1.
async fn serves_alloc(module: &Module) {
    assert_eq!(
        module
            .call(null(), Some("alloc"), vec![int(1)])
            .await
            .unwrap(),
        int(1),
        "the module did not serve a good call afterwards"
    );
}

/// Nothing is checked out and no permit is missing.
fn settled(module: &Module) {
    assert_eq!(module.stats().checked_out, 0);
    assert_eq!(
        module.available_permits(),
        module.limits().pool_size.value.get()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_the_cap_is_refused_and_its_instance_discarded() {
    let module = runtime_opts(ServerLimits::default(), |o| o.max_result_bytes = 2 << 20)
        .load(package("hostile"))
        .await
        .unwrap();
    // Under the cap, a big string comes back whole.
    match module.call(null(), Some("big_result"), vec![int(1)]).await {
        Ok(Value::String(s)) => {
            assert_eq!(s.len(), 1 << 20);
            assert!(s.bytes().all(|b| b == b'x'));
        }
        other => panic!("expected a 1 MiB string, got {other:?}"),
    }
    let before = module.stats();
    match module.call(null(), Some("big_result"), vec![int(8)]).await {
        Err(error @ CallError::ResultTooLarge { size, limit }) => {
            assert!(size > 8 << 20, "{size}");
            assert_eq!(limit, 2 << 20);
            assert!(error.is_instance_fatal());
            assert_eq!(error.kind(), "result_too_large");
            assert!(error.to_string().contains("max_result_bytes"), "{error}");
        }
        other => panic!("expected a refused result, got {other:?}"),
    }
    let after = module.stats();
    assert_eq!(after.other_errors, before.other_errors + 1);
    assert_eq!(after.instances_discarded, before.instances_discarded + 1);
    assert_eq!(module.idle_instances(), 0, "the grown instance was pooled");
    serves_alloc(&module).await;
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_text_over_the_cap_is_refused_too() {
    let module = runtime_opts(ServerLimits::default(), |o| o.max_result_bytes = 2 << 20)
        .load(package("hostile"))
        .await
        .unwrap();
    match module.call(null(), Some("big_error"), vec![int(1)]).await {
        Err(CallError::Guest { message }) => {
            assert_eq!(message.len(), 1 << 20);
            assert!(message.bytes().all(|b| b == b'e'));
        }
        other => panic!("expected a 1 MiB guest error, got {other:?}"),
    }
    match module.call(null(), Some("big_error"), vec![int(4)]).await {
        Err(CallError::ResultTooLarge { size, limit }) => {
            assert!(size >= 4 << 20, "{size}");
            assert_eq!(limit, 2 << 20);
        }
        other => panic!("expected a refused error text, got {other:?}"),
    }
    serves_alloc(&module).await;
    settled(&module);
}

/// What the cap costs: the guest really builds 1 GiB (about 1 GiB of RAM
/// committed for its memory, for a second or so), and the host refuses it
/// under the default cap without copying any of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_result_is_refused_under_the_default_cap() {
    let module = runtime_with(ServerLimits::default().with_max_memory_bytes(Some(1280 << 20)))
        .load(package("malformed"))
        .await
        .unwrap();
    match module
        .call(null(), Some("oversized"), vec![int(1024)])
        .await
    {
        Err(CallError::ResultTooLarge { size, limit }) => {
            assert_eq!(size, 1 << 30);
            assert_eq!(limit, RuntimeOptions::default().max_result_bytes);
        }
        other => panic!("expected a refused result, got {other:?}"),
    }
    assert_eq!(module.idle_instances(), 0);
    // The same module answers again, on a fresh instance of normal size.
    assert_eq!(
        module
            .call(null(), Some("host_garbage"), vec![])
            .await
            .unwrap(),
        text("refused 18 of 18")
    );
    settled(&module);
}

/// The cap is wasmtime's hostcall fuel, so it also bounds what one host
/// call takes from the guest; over it, wasmtime traps the call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_call_handed_more_than_the_cap_traps() {
    let module = runtime_opts(ServerLimits::default(), |o| o.max_result_bytes = 1 << 20)
        .load(package("hostcalls"))
        .await
        .unwrap();
    let big = "v".repeat(2 << 20);
    match module
        .call(null(), Some("kv::set"), vec![text("k"), text(&big)])
        .await
    {
        Err(CallError::Trap { message }) => {
            assert!(
                message.contains("fuel allocated for hostcalls"),
                "{message}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 0);
    module
        .call(null(), Some("kv::set"), vec![text("k"), int(1)])
        .await
        .unwrap();
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printing_forever_without_a_newline_is_cut_into_bounded_pieces() {
    let module = runtime_opts(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(200))),
        |o| {
            o.stdio = StdioLimits::default()
                .with_max_line_bytes(1000)
                .with_max_call_bytes(50_000)
        },
    )
    .load(package("hostile"))
    .await
    .unwrap();
    let ctx = Recorder::new(Value::None);
    match module
        .call(ctx.clone(), Some("print_forever"), vec![])
        .await
    {
        Err(CallError::Timeout { limit, .. }) => assert_eq!(limit, Duration::from_millis(200)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let seen = ctx.seen();
    assert!(!seen.stdout.is_empty(), "no output was delivered");
    for piece in &seen.stdout {
        assert!(!piece.is_empty() && piece.len() <= 1000, "{}", piece.len());
        assert!(piece.bytes().all(|b| b == b'x'));
    }
    // The call printed for 200 ms; what reached the context stopped at
    // the call's 50,000 bytes, followed by one notice, and the rest was
    // counted as dropped.
    let delivered: usize = seen.stdout.iter().map(String::len).sum();
    assert_eq!(delivered, 50_000);
    assert_eq!(seen.stderr.len(), 1, "{:?}", seen.stderr);
    assert!(seen.stderr[0].contains("dropped"), "{:?}", seen.stderr);
    let stats = module.stats();
    assert_eq!(stats.output_truncated_calls, 1);
    assert!(stats.output_dropped_bytes > 0);
    serves_alloc(&module).await;
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_host_calls_completes_or_is_stopped_by_the_timeout() {
    let module = runtime_with(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(300))),
    )
    .load(package("hostile"))
    .await
    .unwrap();
    assert_eq!(
        module
            .call(null(), Some("host_call_flood"), vec![int(10_000)])
            .await
            .unwrap(),
        int(10_000)
    );
    // Endless: only the limit ends it, between two host calls.
    match module
        .call(null(), Some("host_call_flood"), vec![int(i64::MAX)])
        .await
    {
        Err(CallError::Timeout {
            source_limit: TimeoutLimit::Server,
            ..
        }) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 0);
    serves_alloc(&module).await;
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kv_flood_stops_at_the_entry_limit() {
    let module = runtime_with(ServerLimits::default().with_max_kv_entries(Some(100)))
        .load(package("hostile"))
        .await
        .unwrap();
    // The guest tries 1,000 keys one by one and carries on past refusals.
    assert_eq!(
        module
            .call(null(), Some("kv_flood"), vec![int(1000)])
            .await
            .unwrap(),
        int(100)
    );
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 100);
    // Again: the 100 keys it holds may be overwritten, no new one is added.
    assert_eq!(
        module
            .call(null(), Some("kv_flood"), vec![int(1000)])
            .await
            .unwrap(),
        int(100)
    );
    serves_alloc(&module).await;
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 100);
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_values_and_keys_over_their_limits_are_guest_errors() {
    let module = runtime_with(
        ServerLimits::default()
            .with_max_kv_entries(Some(3))
            .with_max_kv_value_bytes(Some(1024)),
    )
    .load(package("hostcalls"))
    .await
    .unwrap();
    let set = |key: String, value: Value| {
        let module = module.clone();
        async move {
            module
                .call(null(), Some("kv::set"), vec![Value::String(key), value])
                .await
        }
    };
    let refused = |outcome: Result<Value, CallError>| match outcome {
        Err(CallError::Guest { message }) => message,
        other => panic!("expected a guest error, got {other:?}"),
    };
    let message = refused(set("big".to_owned(), text(&"v".repeat(2048))).await);
    assert!(message.contains("1024"), "{message}");
    let message = refused(set("k".repeat(1025), int(1)).await);
    assert!(message.contains("kv key is 1025 bytes"), "{message}");
    // A batch over the entry limit stores nothing.
    let pairs: Vec<Value> = (0..10)
        .map(|i| Value::Array(vec![text(&format!("b{i}")), int(i)].into()))
        .collect();
    refused(
        module
            .call(
                null(),
                Some("kv::set_batch"),
                vec![Value::Array(pairs.into())],
            )
            .await,
    );
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 0);
    // Within the limits the same module stores and reads back.
    set("k".repeat(1024), int(7)).await.unwrap();
    assert_eq!(
        module
            .call(null(), Some("kv::get"), vec![text(&"k".repeat(1024))])
            .await
            .unwrap(),
        int(7)
    );
    settled(&module);
}

/// The arguments of the hostcalls range functions: `(start, start_included,
/// end, end_included)`, NONE for an unbounded end.
fn range_args(start: Bound<&str>, end: Bound<&str>) -> Vec<Value> {
    let mut args = Vec::new();
    for bound in [start, end] {
        let (key, included) = match bound {
            Bound::Included(key) => (text(key), true),
            Bound::Excluded(key) => (text(key), false),
            Bound::Unbounded => (Value::None, false),
        };
        args.push(key);
        args.push(Value::Bool(included));
    }
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inverted_and_empty_kv_ranges_from_a_guest_are_empty() {
    let module = crate::support::load("hostcalls").await;
    for key in ["a", "b", "c"] {
        module
            .call(null(), Some("kv::set"), vec![text(key), int(1)])
            .await
            .unwrap();
    }
    let empty = Value::Array(Vec::<Value>::new().into());
    for (start, end) in [
        (Bound::Included("c"), Bound::Included("a")),
        (Bound::Excluded("c"), Bound::Excluded("a")),
        (Bound::Excluded("b"), Bound::Excluded("b")),
        (Bound::Included("b"), Bound::Excluded("b")),
        (Bound::Excluded("b"), Bound::Included("b")),
    ] {
        let args = range_args(start, end);
        for function in ["kv::keys", "kv::values", "kv::entries"] {
            assert_eq!(
                module
                    .call(null(), Some(function), args.clone())
                    .await
                    .unwrap(),
                empty,
                "{function} {start:?}..{end:?}"
            );
        }
        assert_eq!(
            module
                .call(null(), Some("kv::count"), args.clone())
                .await
                .unwrap(),
            int(0),
            "{start:?}..{end:?}"
        );
        module
            .call(null(), Some("kv::del_rng"), args)
            .await
            .unwrap();
    }
    // Nothing was deleted, and a proper range still works.
    assert_eq!(
        module
            .call(
                null(),
                Some("kv::count"),
                range_args(Bound::Included("a"), Bound::Included("c"))
            )
            .await
            .unwrap(),
        int(3)
    );
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_flatbuffers_passed_to_host_functions_are_refused() {
    // Every capability granted, so each host function gets as far as
    // decoding what it was given.
    let open = package_with("malformed", |config| {
        config.capabilities.allow_arbitrary_queries = true;
        config.capabilities.allow_functions = FunctionTargets::All;
    });
    let module = crate::support::runtime().load(open).await.unwrap();
    let ctx = Recorder::new(int(1));
    for _ in 0..2 {
        assert_eq!(
            module
                .call(ctx.clone(), Some("host_garbage"), vec![])
                .await
                .unwrap(),
            text("refused 18 of 18")
        );
    }
    let seen = ctx.seen();
    assert!(seen.sql.is_empty() && seen.run.is_empty(), "{seen:?}");
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 0);
    assert_eq!(
        module.stats().instances_created,
        2,
        "probe + one instance, kept"
    );
    settled(&module);
}

/// A context whose `sql` never answers at all.
struct Pending;

#[async_trait::async_trait]
impl InvocationContext for Pending {
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
async fn a_host_call_that_never_returns_is_stopped_and_the_module_serves_on() {
    let module = runtime_with(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(100))),
    )
    .load(package("hostcalls"))
    .await
    .unwrap();
    match module
        .call(Arc::new(Pending), Some("sql"), vec![text("SELECT 1")])
        .await
    {
        Err(CallError::Timeout {
            watch: TimeoutWatch::WallClock,
            ..
        }) => {}
        other => panic!("expected a wall-clock timeout, got {other:?}"),
    }
    assert_eq!(module.idle_instances(), 0);
    let ctx = Recorder::new(int(5));
    assert_eq!(
        module
            .call(ctx.clone(), Some("sql"), vec![text("SELECT 5")])
            .await
            .unwrap(),
        int(5)
    );
    assert_eq!(ctx.seen().sql.len(), 1);
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_that_never_returns_fails_typed_and_backs_off() {
    let module = runtime_with(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(100))),
    )
    .load(package("initloop"))
    .await
    .unwrap();
    let outcome = module.call(null(), Some("ping"), vec![]).await;
    assert!(outcome.as_ref().is_err_and(CallError::is_instance_fatal));
    match outcome {
        Err(CallError::InitFailed {
            module: name,
            message,
            remembered,
        }) => {
            assert_eq!(name, "fixtures/initloop@0.1.0");
            assert!(message.contains("timed out"), "{message}");
            assert!(!remembered);
        }
        other => panic!("expected a failed init, got {other:?}"),
    }
    let created = module.stats().instances_created;
    match module.call(null(), Some("ping"), vec![]).await {
        Err(CallError::InitFailed { remembered, .. }) => assert!(remembered),
        other => panic!("expected a remembered init failure, got {other:?}"),
    }
    let stats = module.stats();
    assert_eq!(stats.instances_created, created, "init ran again at once");
    assert_eq!(stats.init_failures, 1);
    assert_eq!(stats.other_errors, 2);
    assert_eq!(module.idle_instances(), 0);
    settled(&module);
}

/// A component, in WebAssembly text, whose `invoke` grows a function table
/// by the number of elements its name gives (`grow-150000`), trapping as a
/// Rust guest aborts when the grow is refused, and otherwise answers with
/// `answer` (an encoded value). It lists no functions, so the pool passes
/// any name through. No SDK or wit-bindgen guest can emit `table.grow` on
/// stable Rust, so this one is written by hand.
fn table_grower(answer: &[u8]) -> String {
    let literal: String = answer.iter().map(|byte| format!("\\{byte:02x}")).collect();
    TABLE_GROWER
        .replace("ANSWER_BYTES", &literal)
        .replace("ANSWER_LEN", &answer.len().to_string())
}

const TABLE_GROWER: &str = r#"(component
    (core module $m
        (memory (export "memory") 1)
        (table $t 1 funcref)
        (global $heap (mut i32) (i32.const 4096))
        (data (i32.const 1024) "ANSWER_BYTES")
        (func (export "realloc") (param i32 i32 i32 i32) (result i32)
            (local $ptr i32)
            (local.set $ptr
                (i32.and
                    (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                    (i32.sub (i32.const 0) (local.get 2))))
            (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
            (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
                (then unreachable))
            (local.get $ptr))
        ;; "grow-N": N in decimal after the dash.
        (func $count (param $at i32) (param $end i32) (result i32)
            (local $n i32)
            (block $done
                (loop $digit
                    (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
                    (local.set $n
                        (i32.add (i32.mul (local.get $n) (i32.const 10))
                            (i32.sub (i32.load8_u (local.get $at)) (i32.const 48))))
                    (local.set $at (i32.add (local.get $at) (i32.const 1)))
                    (br $digit)))
            (local.get $n))
        (func (export "invoke") (param $has_name i32) (param $name i32) (param $name_len i32)
                (param $args i32) (param $args_len i32) (result i32)
            (if (i32.and (local.get $has_name) (i32.gt_u (local.get $name_len) (i32.const 5)))
                (then
                    (if (i32.eq
                            (table.grow $t (ref.null func)
                                (call $count
                                    (i32.add (local.get $name) (i32.const 5))
                                    (i32.add (local.get $name) (local.get $name_len))))
                            (i32.const -1))
                        (then unreachable))))
            (i32.store8 (i32.const 16) (i32.const 0))
            (i32.store (i32.const 20) (i32.const 1024))
            (i32.store (i32.const 24) (i32.const ANSWER_LEN))
            (i32.const 16))
        ;; An empty list: the module declares no functions.
        (func (export "list-functions") (result i32)
            (i32.store (i32.const 16) (i32.const 0))
            (i32.store (i32.const 20) (i32.const 0))
            (i32.const 16))
    )
    (core instance $i (instantiate $m))
    (alias core export $i "memory" (core memory $mem))
    (alias core export $i "realloc" (core func $realloc))
    (func (export "invoke")
        (param "name" (option string)) (param "args" (list u8))
        (result (result (list u8) (error string)))
        (canon lift (core func $i "invoke") (memory $mem) (realloc $realloc)))
    (func (export "list-functions") (result (list (option string)))
        (canon lift (core func $i "list-functions") (memory $mem) (realloc $realloc)))
)"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_grown_past_its_limit_is_out_of_memory_and_the_module_serves_on() {
    let grown = text("grown");
    let answer = surli_host::codec::encode_value(&grown).unwrap();
    let wasm = wat::parse_str(table_grower(&answer)).unwrap();
    let hostile = package("hostile");
    let exports = surli_package::ExportsManifest::default();
    let bytes = surli_package::PackageWriter::new(hostile.config(), &wasm, &exports)
        .to_bytes()
        .unwrap();
    let grower =
        surli_package::Package::from_bytes(&bytes, &surli_package::ReadOptions::default()).unwrap();
    let module = runtime_with(ServerLimits::default())
        .load(grower)
        .await
        .unwrap();
    let echo = |name: &'static str| {
        let module = module.clone();
        async move { module.call(null(), Some(name), vec![]).await }
    };

    // 150,000 elements is past the limiter's 100,000: the grow returns -1,
    // the guest traps, and the limiter's record makes it out of memory.
    match echo("grow-150000").await {
        Err(CallError::OutOfMemory { detail }) => {
            assert!(detail.contains("table"), "{detail}");
            assert!(detail.contains("150001"), "{detail}");
        }
        other => panic!("expected OutOfMemory, got {other:?}"),
    }
    assert_eq!(module.stats().out_of_memory, 1);
    assert_eq!(
        module.stats().instances_discarded,
        2,
        "the load's probe and the grower"
    );

    // Under the limit, even past wasmtime's own default pool table size
    // (20,000), a grow succeeds: the pool's tables are as large as the
    // limiter allows, so the limiter alone decides.
    assert_eq!(echo("grow-60000").await.unwrap(), grown);
    // And the same instance grows again, to 90,001 elements in all.
    assert_eq!(echo("grow-30000").await.unwrap(), grown);
    assert_eq!(module.stats().instances_discarded, 2);
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_of_sql_or_run_over_the_limit_never_reaches_the_guest() {
    let module = runtime_opts(ServerLimits::default(), |o| o.max_result_bytes = 64 * 1024)
        .load(package("hostcalls"))
        .await
        .unwrap();
    let calls: [(&str, Vec<Value>); 2] = [
        ("sql", vec![text("RETURN 1")]),
        (
            "run",
            vec![
                text("string::len"),
                Value::None,
                Value::Array(vec![text("x")].into()),
            ],
        ),
    ];
    for (function, args) in calls {
        // Just under the limit it arrives whole (the encoding adds a few
        // bytes of framing to the string).
        let fits = text(&"x".repeat(60 * 1024));
        let ctx = Recorder::new(fits.clone());
        assert_eq!(
            module
                .call(ctx, Some(function), args.clone())
                .await
                .unwrap(),
            fits
        );
        let ctx = Recorder::new(text(&"x".repeat(100_000)));
        match module.call(ctx, Some(function), args).await {
            Err(CallError::Guest { message }) => {
                assert!(
                    message.contains(&format!("the answer of `{function}`"))
                        && message.contains("max_result_bytes")
                        && message.contains("65536"),
                    "{message}"
                );
            }
            other => panic!("{function}: expected the guest's error, got {other:?}"),
        }
    }
    settled(&module);
}

/// A module KV store that never answers, as a durable store whose database
/// has gone away might.
#[derive(Debug)]
struct NeverStore;

#[async_trait::async_trait]
impl surli_kv::KvStore for NeverStore {
    async fn get(&self, _: &str) -> Result<Option<surli_kv::KvValue>, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn set(&self, _: String, _: surli_kv::KvValue) -> Result<(), surli_kv::KvError> {
        std::future::pending().await
    }
    async fn del(&self, _: &str) -> Result<(), surli_kv::KvError> {
        std::future::pending().await
    }
    async fn exists(&self, _: &str) -> Result<bool, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn del_range(&self, _: KeyRange) -> Result<u64, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn get_batch(
        &self,
        _: &[String],
    ) -> Result<Vec<Option<surli_kv::KvValue>>, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn set_batch(
        &self,
        _: Vec<(String, surli_kv::KvValue)>,
    ) -> Result<(), surli_kv::KvError> {
        std::future::pending().await
    }
    async fn del_batch(&self, _: &[String]) -> Result<(), surli_kv::KvError> {
        std::future::pending().await
    }
    async fn keys(&self, _: KeyRange) -> Result<Vec<String>, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn values(&self, _: KeyRange) -> Result<Vec<surli_kv::KvValue>, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn entries(
        &self,
        _: KeyRange,
    ) -> Result<Vec<(String, surli_kv::KvValue)>, surli_kv::KvError> {
        std::future::pending().await
    }
    async fn count(&self, _: KeyRange) -> Result<u64, surli_kv::KvError> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_or_a_kv_call_that_never_returns_is_stopped_by_the_deadline() {
    let runtime = runtime_with(
        ServerLimits::default().with_max_execution_time(Some(Duration::from_millis(100))),
    );
    let options = surli_pool::ModuleOptions::default().with_kv(Arc::new(NeverStore));
    let module = runtime
        .load_with(package("hostcalls"), options)
        .await
        .unwrap();
    let run_args = vec![
        text("string::len"),
        Value::None,
        Value::Array(vec![text("x")].into()),
    ];
    let calls: [(Arc<dyn InvocationContext>, &str, Vec<Value>); 3] = [
        (Arc::new(Pending), "run", run_args),
        (null(), "kv::get", vec![text("k")]),
        (null(), "kv::set", vec![text("k"), int(1)]),
    ];
    for (ctx, function, args) in calls {
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            module.call(ctx, Some(function), args),
        )
        .await
        .unwrap_or_else(|_| panic!("`{function}` outlived its deadline by far"));
        match outcome {
            Err(CallError::Timeout {
                watch: TimeoutWatch::WallClock,
                source_limit: TimeoutLimit::Server,
                limit,
                ..
            }) => assert_eq!(limit, Duration::from_millis(100), "{function}"),
            other => panic!("`{function}`: expected a wall-clock timeout, got {other:?}"),
        }
    }
    assert_eq!(module.stats().timeouts, 3);
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_filling_its_store_is_stopped_at_max_kv_bytes() {
    let module = runtime_with(ServerLimits::default().with_max_kv_bytes(Some(4 << 20)))
        .load(package("hostile"))
        .await
        .unwrap();
    // Values of 100 KiB, each well under max_kv_value_bytes: an entry is
    // its key, the string and a few bytes of encoding, so 40 fit in 4 MiB
    // and the 41st is refused.
    let stored = module
        .call(null(), Some("kv_fill"), vec![int(1000), int(100)])
        .await
        .unwrap();
    assert_eq!(stored, int(40));
    assert_eq!(module.kv().count(KeyRange::all()).await.unwrap(), 40);
    // Full, the store still takes a smaller value for a key it holds, and
    // the module serves on.
    assert_eq!(
        module
            .call(null(), Some("kv_fill"), vec![int(1), int(1)])
            .await
            .unwrap(),
        int(1)
    );
    serves_alloc(&module).await;
    settled(&module);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_whose_describing_call_waits_forever_ends_at_the_modules_limit() {
    // The module's `list-functions` reads its KV store before answering;
    // this store never answers. Without the guard the load waits forever.
    let runtime = runtime();
    let package = package_with("describe-blocks", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_millis(100));
    });
    let options = surli_pool::ModuleOptions::default().with_kv(Arc::new(NeverStore));
    let loaded = tokio::time::timeout(Duration::from_secs(30), runtime.load_with(package, options))
        .await
        .expect("a load must end when the module's describing call hangs");
    let error = loaded.expect_err("a module that cannot describe itself in time is refused");
    let message = error.to_string();
    assert!(
        message.contains("describing the module's functions at load")
            && message.contains("max_execution_time"),
        "{message}"
    );
    // Nothing of the failed load is left alive.
    assert_eq!(runtime.budget_usage().instances, 0);
}

#[test]
fn a_blocking_load_whose_describing_call_waits_forever_ends_too() {
    // The same on a plain thread, with no tokio runtime and so no timer.
    let runtime = runtime();
    let package = package_with("describe-blocks", |config| {
        config.capabilities.max_execution_time = Some(Duration::from_millis(100));
    });
    let options = surli_pool::ModuleOptions::default().with_kv(Arc::new(NeverStore));
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(runtime.load_blocking(package, options).map(|_| ()));
    });
    let loaded = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("a blocking load must end when the module's describing call hangs");
    let message = loaded.expect_err("refused").to_string();
    assert!(
        message.contains("describing the module's functions at load"),
        "{message}"
    );
}
