//! The bodies of the cases listed in [`crate::CASES`]. Each opens its own
//! database, installs the fixtures it needs and answers with a rendering
//! that holds no timings, random ids or addresses.

use surrealdb::Surreal;
use surrealdb::engine::local::Db;
use surrealdb_types::Value;
use surrealism_runtime::capabilities::FunctionTargets;

use crate::harness::{self, Answer, Steps, install, one, open, setup};

/// A fresh database with fixture `fixture` installed as module `name`.
async fn with_module(name: &str, fixture: &str) -> Result<Surreal<Db>, String> {
    let db = open().await?;
    install(&db, name, fixture).await?;
    Ok(db)
}

/// Scalar kinds sent to the `kinds` identity functions and back.
pub(crate) async fn kinds_scalars() -> Answer {
    let db = with_module("kinds", "kinds").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("none", "mod::kinds::none(NONE)"),
                ("null", "mod::kinds::null(NULL)"),
                ("bool", "mod::kinds::bool(true)"),
                ("int", "mod::kinds::int(9223372036854775807)"),
                ("int_negative", "mod::kinds::int(-42)"),
                ("float", "mod::kinds::float(1.5f)"),
                ("number_int", "mod::kinds::number(7)"),
                ("number_decimal", "mod::kinds::number(7.25dec)"),
                ("decimal", "mod::kinds::decimal(1.25dec)"),
                ("string", "mod::kinds::string('héllo ✓')"),
                ("bytes", "mod::kinds::bytes(<bytes>'surli')"),
                (
                    "datetime",
                    "mod::kinds::datetime(d'2024-02-29T12:34:56.789Z')",
                ),
                ("duration", "mod::kinds::duration(1h30m15s)"),
                (
                    "uuid",
                    "mod::kinds::uuid(u'0191c8a0-3f2e-7abc-8def-0123456789ab')",
                ),
            ],
        )
        .await;
    steps.answer()
}

/// Compound kinds (arrays, objects, record ids, options, ...) and back.
pub(crate) async fn kinds_compound() -> Answer {
    let db = with_module("kinds", "kinds").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("array_int", "mod::kinds::array_int([1, 2, 3])"),
                ("array_any", "mod::kinds::array_any([1, 'two', true, NULL])"),
                ("array", "mod::kinds::array([[1], { a: 2 }])"),
                ("set", "mod::kinds::set(<set>[3, 1, 2])"),
                (
                    "object",
                    "mod::kinds::object({ a: 1, b: 'x', c: [true, NULL] })",
                ),
                ("record", "mod::kinds::record(person:tobie)"),
                ("record_array_key", "mod::kinds::record(person:['a', 1])"),
                ("table", "mod::kinds::table(type::table('person'))"),
                ("table_from_string", "mod::kinds::table('person')"),
                ("file", "mod::kinds::file(f'mods:/some/file.txt')"),
                ("range", "mod::kinds::range(1..5)"),
                ("geometry", "mod::kinds::geometry((1.5, 2.5))"),
                ("option_int_none", "mod::kinds::option_int(NONE)"),
                ("option_int_some", "mod::kinds::option_int(5)"),
                ("option_string", "mod::kinds::option_string('s')"),
                (
                    "person",
                    "mod::kinds::person({ name: 'Ann', age: 30, tags: ['a', 'b'] })",
                ),
                (
                    "any",
                    "mod::kinds::any({ deep: [1, { x: 2.5f }], n: NULL })",
                ),
            ],
        )
        .await;
    steps.answer()
}

/// The edges of a signature: no parameters, ten, a renamed parameter and a
/// nested name.
pub(crate) async fn kinds_signatures() -> Answer {
    let db = with_module("kinds", "kinds").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("unit", "mod::kinds::unit()"),
                ("renamed", "mod::kinds::renamed(5)"),
                ("nested", "mod::kinds::nested::deeper::echo('deep')"),
                (
                    "ten",
                    "mod::kinds::ten(1, 'b', true, 4.5f, NONE, [6], { g: 7 }, \
                     d'2020-01-01T00:00:00Z', u'0191c8a0-3f2e-7abc-8def-0123456789ab', 'j')",
                ),
            ],
        )
        .await;
    steps.answer()
}

/// The default export, called as `mod::NAME(...)`.
pub(crate) async fn default_export() -> Answer {
    let db = with_module("demo", "demo").await?;
    one(&db, "mod::demo('surli')").await
}

/// A plain call: `add(1, 2)`.
pub(crate) async fn demo_add() -> Answer {
    let db = with_module("demo", "demo").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("add", "mod::demo::add(1, 2)"),
                ("add_wraps", "mod::demo::add(9223372036854775807, 1)"),
                ("concat", "mod::demo::concat('sur', 'li')"),
                ("fib", "mod::demo::fib(90)"),
                ("noop", "mod::demo::noop()"),
            ],
        )
        .await;
    steps.answer()
}

/// A guest built with SDK 0.6.5.
pub(crate) async fn sdk065() -> Answer {
    let db = with_module("sdk065", "sdk065").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("add", "mod::sdk065::add(40, 2)"),
                ("hello", "mod::sdk065::hello('surli')"),
            ],
        )
        .await;
    steps.answer()
}

/// A function that returns `Err` fails the query with the guest's message;
/// the module serves afterwards.
pub(crate) async fn guest_error() -> Answer {
    let db = with_module("kinds", "kinds").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("fail", "mod::kinds::fail()"),
                ("divide_by_zero", "mod::kinds::divide(1, 0)"),
                ("divide", "mod::kinds::divide(7, 2)"),
            ],
        )
        .await;
    steps.answer()
}

/// An argument of the wrong kind: refused against the signature, or by the
/// guest's own decoding.
pub(crate) async fn wrong_arg_kind() -> Answer {
    let db = open().await?;
    install(&db, "demo", "demo").await?;
    install(&db, "kinds", "kinds").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("add_string", "mod::demo::add('x', 1)"),
                ("int_string", "mod::kinds::int('x')"),
                ("add", "mod::demo::add(1, 2)"),
            ],
        )
        .await;
    steps.answer()
}

/// Too few and too many arguments.
pub(crate) async fn wrong_arg_count() -> Answer {
    let db = with_module("demo", "demo").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("too_few", "mod::demo::add(1)"),
                ("too_many", "mod::demo::add(1, 2, 3)"),
            ],
        )
        .await;
    steps.answer()
}

/// A function the module does not export.
pub(crate) async fn unknown_export() -> Answer {
    let db = with_module("demo", "demo").await?;
    one(&db, "mod::demo::nosuch()").await
}

/// A trap (the guest panics), then a call that works on the same module.
pub(crate) async fn trap_then_call() -> Answer {
    let db = with_module("hostile", "hostile").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("panic_now", "mod::hostile::panic_now()"),
                ("recurse", "mod::hostile::recurse(10)"),
                ("panic_again", "mod::hostile::panic_now()"),
                ("recurse_again", "mod::hostile::recurse(100)"),
            ],
        )
        .await;
    steps.answer()
}

/// A stack overflow (a memory-fault trap), then a call that works.
pub(crate) async fn stack_overflow() -> Answer {
    let db = with_module("hostile", "hostile").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("overflow", "mod::hostile::recurse(1000000)"),
                ("recurse", "mod::hostile::recurse(10)"),
            ],
        )
        .await;
    steps.answer()
}

/// `spin` runs into the module's 1000 ms `max_execution_time`; the module
/// serves afterwards.
pub(crate) async fn time_limit() -> Answer {
    let db = with_module("hostile", "hostile").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("spin", "mod::hostile::spin()"),
                ("recurse", "mod::hostile::recurse(10)"),
            ],
        )
        .await;
    steps.answer()
}

/// `alloc` past the module's 64 MiB `max_memory_bytes` fails; an allocation
/// within it works, before and after.
pub(crate) async fn memory_limit() -> Answer {
    let db = with_module("hostile", "hostile").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("alloc_8", "mod::hostile::alloc(8)"),
                ("alloc_128", "mod::hostile::alloc(128)"),
                ("alloc_8_after", "mod::hostile::alloc(8)"),
            ],
        )
        .await;
    steps.answer()
}

/// The module's KV store keeps state between calls: `counter::bump` twice.
pub(crate) async fn kv_counter() -> Answer {
    let db = with_module("demo", "demo").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("bump_2", "mod::demo::counter::bump(2)"),
                ("bump_3", "mod::demo::counter::bump(3)"),
            ],
        )
        .await;
    steps.answer()
}

/// The KV host functions through `hostcalls`.
pub(crate) async fn kv_host_functions() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("get_missing", "mod::hostcalls::kv::get('a')"),
                ("set", "mod::hostcalls::kv::set('a', { x: 1, y: [true] })"),
                ("get", "mod::hostcalls::kv::get('a')"),
                ("exists", "mod::hostcalls::kv::exists('a')"),
                (
                    "set_batch",
                    "mod::hostcalls::kv::set_batch([['b', 2], ['c', 3], ['b', 4]])",
                ),
                (
                    "get_batch",
                    "mod::hostcalls::kv::get_batch(['a', 'b', 'z'])",
                ),
                ("keys", "mod::hostcalls::kv::keys(NONE, true, NONE, true)"),
                (
                    "values_b_c",
                    "mod::hostcalls::kv::values('b', true, 'c', true)",
                ),
                (
                    "entries_from_b",
                    "mod::hostcalls::kv::entries('b', false, NONE, true)",
                ),
                ("count", "mod::hostcalls::kv::count(NONE, true, NONE, true)"),
                ("del", "mod::hostcalls::kv::del('a')"),
                ("exists_after_del", "mod::hostcalls::kv::exists('a')"),
                (
                    "del_rng",
                    "mod::hostcalls::kv::del_rng('b', true, 'c', false)",
                ),
                (
                    "keys_after_del_rng",
                    "mod::hostcalls::kv::keys(NONE, true, NONE, true)",
                ),
                ("del_batch", "mod::hostcalls::kv::del_batch(['c'])"),
                (
                    "count_after",
                    "mod::hostcalls::kv::count(NONE, true, NONE, true)",
                ),
            ],
        )
        .await;
    steps.answer()
}

/// The attached `fs/` directory, read-only at `/`.
pub(crate) async fn attached_fs() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("hello", "mod::hostcalls::read_file('/hello.txt')"),
                (
                    "leaf",
                    "mod::hostcalls::read_file('/nested/deeper/leaf.txt')",
                ),
                ("list_root", "mod::hostcalls::list_dir('/')"),
                ("list_nested", "mod::hostcalls::list_dir('/nested')"),
                ("missing", "mod::hostcalls::read_file('/missing.txt')"),
                ("write", "mod::hostcalls::write_file('/new.txt', 'x')"),
            ],
        )
        .await;
    steps.answer()
}

/// `init` has run in the instance a call meets; stdout and stderr do not
/// disturb the answer.
pub(crate) async fn init_and_stdio() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("init_value", "mod::hostcalls::init_value()"),
                ("print_lines", "mod::hostcalls::print_lines(3)"),
                ("eprint_lines", "mod::hostcalls::eprint_lines(3)"),
            ],
        )
        .await;
    steps.answer()
}

/// A module whose `init` fails cannot serve a call.
pub(crate) async fn bad_init() -> Answer {
    let db = with_module("badinit", "badinit").await?;
    one(&db, "mod::badinit::ping()").await
}

/// A guest's `sql` inside a transaction the caller cancels leaves nothing.
pub(crate) async fn sql_cancelled() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    setup(&db, "DEFINE TABLE t SCHEMALESS").await?;
    let mut steps = Steps::new();
    let answers = harness::all(
        &db,
        "BEGIN; RETURN mod::hostcalls::sql('CREATE t:1 SET a = 1 RETURN NONE'); CANCEL;",
    )
    .await?;
    for (i, answer) in answers.into_iter().enumerate() {
        steps.record(&format!("statement_{i}"), answer);
    }
    steps.run(&db, "select_after", "SELECT * FROM t").await;
    steps.answer()
}

/// A guest's `sql` inside a committed transaction is visible afterwards,
/// and sees what the caller wrote earlier in the same transaction.
pub(crate) async fn sql_committed() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    setup(&db, "DEFINE TABLE t SCHEMALESS").await?;
    let mut steps = Steps::new();
    let answers = harness::all(
        &db,
        "BEGIN; \
         CREATE t:1 SET a = 1 RETURN NONE; \
         RETURN mod::hostcalls::sql('SELECT VALUE a FROM t:1'); \
         RETURN mod::hostcalls::sql('CREATE t:2 SET a = 2 RETURN NONE'); \
         COMMIT;",
    )
    .await?;
    for (i, answer) in answers.into_iter().enumerate() {
        steps.record(&format!("statement_{i}"), answer);
    }
    steps
        .run(&db, "select_after", "SELECT * FROM t ORDER BY id")
        .await;
    steps.answer()
}

/// `sql` with variables, and a query error inside `sql`.
pub(crate) async fn sql_with_vars() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                (
                    "vars",
                    "mod::hostcalls::sql_with_vars('RETURN $a + $b', { a: 1, b: 2 })",
                ),
                ("plain", "mod::hostcalls::sql('RETURN 1 + 1')"),
                (
                    "function_not_allowed",
                    "mod::hostcalls::sql('RETURN [1, 2, 3].len()')",
                ),
                (
                    "string_function",
                    "mod::hostcalls::sql('RETURN string::len(\"four\")')",
                ),
                ("bad_query", "mod::hostcalls::sql('RETURN ((')"),
                ("thrown", "mod::hostcalls::sql('THROW \"from the guest\"')"),
            ],
        )
        .await;
    steps.answer()
}

/// `run` of an allowed builtin, a database function the module may call, and
/// a builtin outside its `allow_functions`.
pub(crate) async fn run_functions() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    setup(
        &db,
        "DEFINE FUNCTION fn::allowed($x: int) { RETURN $x * 2; }",
    )
    .await?;
    setup(&db, "DEFINE FUNCTION fn::other() { RETURN 1; }").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                (
                    "uppercase",
                    "mod::hostcalls::run('string::uppercase', NONE, ['surli'])",
                ),
                (
                    "fn_allowed",
                    "mod::hostcalls::run('fn::allowed', NONE, [21])",
                ),
                ("fn_other", "mod::hostcalls::run('fn::other', NONE, [])"),
                ("math_abs", "mod::hostcalls::run('math::abs', NONE, [-1])"),
            ],
        )
        .await;
    steps.answer()
}

/// A module that needs a real database: creates records, queries them with
/// variables, and calls functions through `run`.
pub(crate) async fn library() -> Answer {
    let db = with_module("library", "library").await?;
    setup(
        &db,
        "DEFINE FUNCTION fn::blurb($title: string) { RETURN 'About ' + $title; }",
    )
    .await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("shelve", "mod::library::shelve(['beta', 'alpha', 'bravo'])"),
                ("shelf_b", "mod::library::shelf('B')"),
                ("count", "mod::library::count()"),
                ("shout", "mod::library::shout('quiet')"),
                ("blurb", "mod::library::blurb('Dune')"),
                ("table", "SELECT title, shelf FROM book ORDER BY title"),
            ],
        )
        .await;
    steps.answer()
}

/// One call per row, over a table and over an array.
pub(crate) async fn per_row() -> Answer {
    let db = with_module("demo", "demo").await?;
    setup(
        &db,
        "INSERT INTO n [{ id: n:1, v: 1 }, { id: n:2, v: 2 }, { id: n:3, v: 3 }] RETURN NONE",
    )
    .await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                (
                    "select",
                    "SELECT v, mod::demo::add(v, 10) AS w FROM n ORDER BY v",
                ),
                ("map", "[1, 2, 3].map(|$n| mod::demo::add($n, 1))"),
                (
                    "update",
                    "UPDATE n SET g = mod::demo('n' + <string>v) RETURN VALUE g",
                ),
            ],
        )
        .await;
    steps.answer()
}

/// Many queries at once on one database, each calling `add`.
pub(crate) async fn concurrent() -> Answer {
    const TASKS: i64 = 32;
    const CALLS: i64 = 4;
    let db = with_module("demo", "demo").await?;
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let db = db.clone();
        tasks.spawn(async move {
            let mut wrong = Vec::new();
            for call in 0..CALLS {
                let a = task * 1000 + call;
                let answer = db
                    .query("mod::demo::add($a, $b)")
                    .bind(("a", a))
                    .bind(("b", a))
                    .await
                    .map_err(|e| harness::message(&e))
                    .and_then(|mut r| r.take::<Value>(0).map_err(|e| harness::message(&e)))
                    .map(|v| harness::render(&v));
                let expected = (2 * a).to_string();
                if answer.as_ref() != Ok(&expected) {
                    wrong.push(format!("add({a}, {a}) gave {answer:?}"));
                }
            }
            wrong
        });
    }
    let mut wrong = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(task_wrong) => wrong.extend(task_wrong),
            Err(e) => wrong.push(format!("a task failed: {e}")),
        }
    }
    wrong.sort();
    if wrong.is_empty() {
        Ok(format!(
            "{} calls from {TASKS} tasks, all correct",
            TASKS * CALLS
        ))
    } else {
        Err(wrong.join("; "))
    }
}

/// The `modules` field of what `sql` (an `INFO` statement) answers.
async fn info_modules(db: &Surreal<Db>, sql: &str) -> Answer {
    let mut response = db.query(sql).await.map_err(|e| harness::message(&e))?;
    let info = response
        .take::<Value>(0)
        .map_err(|e| harness::message(&e))?;
    let Value::Object(info) = info else {
        return Err(format!("{sql} answered {}", harness::render(&info)));
    };
    info.get("modules").map(harness::render).ok_or_else(|| {
        format!(
            "{sql} has no modules: {}",
            harness::render(&Value::Object(info.clone()))
        )
    })
}

/// `INFO FOR DB` lists the module; `INFO FOR DB STRUCTURE` adds its exports,
/// read from the package's manifest.
pub(crate) async fn info_for_db() -> Answer {
    let db = with_module("demo", "demo").await?;
    let mut steps = Steps::new();
    steps.record("info", info_modules(&db, "INFO FOR DB").await);
    steps.record(
        "structure",
        info_modules(&db, "INFO FOR DB STRUCTURE").await,
    );
    steps.answer()
}

/// `DEFINE MODULE OVERWRITE` with another package under the same name: calls
/// reach the new code.
pub(crate) async fn overwrite_module() -> Answer {
    let db = with_module("m", "demo").await?;
    let mut steps = Steps::new();
    steps.run(&db, "before", "mod::m('you')").await;
    harness::put(&db, "sdk065", harness::fixture("sdk065")?).await?;
    steps
        .run(
            &db,
            "overwrite",
            "DEFINE MODULE OVERWRITE mod::m FROM f\"mods:/sdk065.surli\" UNSIGNED",
        )
        .await;
    steps
        .run_all(
            &db,
            &[
                ("hello", "mod::m::hello('you')"),
                ("default_gone", "mod::m('you')"),
                ("add", "mod::m::add(2, 3)"),
            ],
        )
        .await;
    steps.answer()
}

/// A package replaced in the bucket under the same file, then the module
/// redefined over it: calls reach the new bytes.
pub(crate) async fn overwrite_same_file() -> Answer {
    let db = with_module("m", "demo").await?;
    let mut steps = Steps::new();
    steps.run(&db, "before", "mod::m('you')").await;
    harness::put(&db, "demo", harness::fixture("sdk065")?).await?;
    steps
        .run(
            &db,
            "overwrite",
            "DEFINE MODULE OVERWRITE mod::m FROM f\"mods:/demo.surli\" UNSIGNED",
        )
        .await;
    steps.run(&db, "hello", "mod::m::hello('you')").await;
    steps.answer()
}

/// `REMOVE MODULE`, then a call fails and the module is gone from `INFO`.
pub(crate) async fn remove_module() -> Answer {
    let db = with_module("demo", "demo").await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("before", "mod::demo::add(1, 2)"),
                ("remove", "REMOVE MODULE mod::demo"),
                ("after", "mod::demo::add(1, 2)"),
                ("remove_again", "REMOVE MODULE mod::demo"),
                ("remove_if_exists", "REMOVE MODULE IF EXISTS mod::demo"),
            ],
        )
        .await;
    steps.answer()
}

/// `hostcalls` repacked so its `run` may call any function, in particular
/// itself, with a pool of at most `pool` instances (`None`: the server's
/// default).
async fn reentrant_hostcalls(pool: Option<usize>) -> Result<Surreal<Db>, String> {
    let package = harness::repacked("hostcalls", move |caps| {
        caps.allow_functions = FunctionTargets::All;
        caps.max_pool_size = pool;
    })
    .await?;
    let db = open().await?;
    harness::install_bytes(&db, "re", "reentrant", package).await?;
    Ok(db)
}

/// Re-entry with the pool at one instance: the module's `run` calls
/// `mod::re::init_value` while its own call holds the only instance. (The
/// original 0.6.5 waits for that instance forever.)
pub(crate) async fn reentry_pool_1() -> Answer {
    let db = reentrant_hostcalls(Some(1)).await?;
    one(&db, "mod::re::run('mod::re::init_value', NONE, [])").await
}

/// Re-entry with the default pool: another instance serves the inner call.
pub(crate) async fn reentry_default_pool() -> Answer {
    let db = reentrant_hostcalls(None).await?;
    one(&db, "mod::re::run('mod::re::init_value', NONE, [])").await
}

/// A KV range whose start is after its end, through range function `function`.
async fn inverted_range(function: &str) -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    setup(
        &db,
        "mod::hostcalls::kv::set_batch([['a', 1], ['b', 2], ['c', 3]])",
    )
    .await?;
    let mut steps = Steps::new();
    steps
        .run(
            &db,
            function,
            &format!("mod::hostcalls::kv::{function}('c', true, 'a', true)"),
        )
        .await;
    steps
        .run(
            &db,
            "count_after",
            "mod::hostcalls::kv::count(NONE, true, NONE, true)",
        )
        .await;
    steps.answer()
}

/// `kv::keys` over an inverted range.
pub(crate) async fn kv_inverted_keys() -> Answer {
    inverted_range("keys").await
}

/// `kv::values` over an inverted range.
pub(crate) async fn kv_inverted_values() -> Answer {
    inverted_range("values").await
}

/// `kv::entries` over an inverted range.
pub(crate) async fn kv_inverted_entries() -> Answer {
    inverted_range("entries").await
}

/// `kv::count` over an inverted range.
pub(crate) async fn kv_inverted_count() -> Answer {
    inverted_range("count").await
}

/// `kv::del_rng` over an inverted range.
pub(crate) async fn kv_inverted_del_rng() -> Answer {
    inverted_range("del_rng").await
}

/// A KV range that is empty by its bounds alone: both ends `'b'` and both
/// excluded.
pub(crate) async fn kv_empty_excluded_range() -> Answer {
    let db = with_module("hostcalls", "hostcalls").await?;
    setup(
        &db,
        "mod::hostcalls::kv::set_batch([['a', 1], ['b', 2], ['c', 3]])",
    )
    .await?;
    let mut steps = Steps::new();
    steps
        .run_all(
            &db,
            &[
                ("keys", "mod::hostcalls::kv::keys('b', false, 'b', false)"),
                ("count", "mod::hostcalls::kv::count('b', false, 'b', false)"),
                ("keys_b_b", "mod::hostcalls::kv::keys('b', true, 'b', true)"),
            ],
        )
        .await;
    steps.answer()
}
