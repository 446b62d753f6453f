//! Small components written in WebAssembly text, standing in for guests.

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

pub(crate) fn engine() -> Engine {
    Engine::new(&Config::new()).unwrap()
}

pub(crate) fn component(engine: &Engine, wat: &str) -> Component {
    let bytes = wat::parse_str(wat).unwrap();
    Component::new(engine, bytes).unwrap()
}

/// `list<u8>` as WIT writes the host functions' buffers.
const BYTES: &str = "(list u8)";

/// A component that imports every host function (and the type-only
/// `types` interface, and WASI at three 0.2 versions) and does nothing.
/// Instantiating it proves the linker defines all of them with the right
/// types.
pub(crate) fn importer() -> String {
    let result = |ok: &str| format!("(result (result {ok} (error string)))");
    let unit = "(result (result (error string)))";
    let host_functions = [
        format!(
            r#"(export "sql" (func (param "query" string) (param "vars" {BYTES}) {}))"#,
            result(BYTES)
        ),
        format!(
            r#"(export "run" (func (param "fnc" string) (param "version" (option string)) (param "args" {BYTES}) {}))"#,
            result(BYTES)
        ),
        format!(
            r#"(export "kv-get" (func (param "key" string) {}))"#,
            result(&format!("(option {BYTES})"))
        ),
        format!(r#"(export "kv-set" (func (param "key" string) (param "value" {BYTES}) {unit}))"#),
        format!(r#"(export "kv-del" (func (param "key" string) {unit}))"#),
        format!(
            r#"(export "kv-exists" (func (param "key" string) {}))"#,
            result("bool")
        ),
        format!(r#"(export "kv-del-rng" (func (param "range" {BYTES}) {unit}))"#),
        format!(
            r#"(export "kv-get-batch" (func (param "keys" (list string)) {}))"#,
            result(BYTES)
        ),
        format!(r#"(export "kv-set-batch" (func (param "entries" {BYTES}) {unit}))"#),
        format!(r#"(export "kv-del-batch" (func (param "keys" (list string)) {unit}))"#),
        format!(
            r#"(export "kv-keys" (func (param "range" {BYTES}) {}))"#,
            result("(list string)")
        ),
        format!(
            r#"(export "kv-values" (func (param "range" {BYTES}) {}))"#,
            result(BYTES)
        ),
        format!(
            r#"(export "kv-entries" (func (param "range" {BYTES}) {}))"#,
            result(BYTES)
        ),
        format!(
            r#"(export "kv-count" (func (param "range" {BYTES}) {}))"#,
            result("u64")
        ),
    ];
    assert_eq!(host_functions.len(), 14);
    format!(
        r#"(component
            (import "surrealism:plugin/types" (instance
                (type {BYTES})
                (export "serialized-value" (type (eq 0)))
                (export "serialized-vars" (type (eq 0)))
                (export "serialized-args" (type (eq 0)))
                (export "serialized-kind" (type (eq 0)))
                (export "serialized-arguments" (type (eq 0)))
            ))
            (import "surrealism:plugin/host" (instance {}))
            (import "wasi:clocks/monotonic-clock@0.2.0" (instance
                (export "now" (func (result u64)))
            ))
            (import "wasi:random/random@0.2.12" (instance
                (export "get-random-u64" (func (result u64)))
            ))
            (import "wasi:cli/environment@0.2.99" (instance
                (export "get-arguments" (func (result (list string))))
            ))
        )"#,
        host_functions.join("\n")
    )
}

/// A component importing one host function with a signature the host does
/// not have.
pub(crate) fn wrong_import() -> String {
    r#"(component
        (import "surrealism:plugin/host" (instance
            (export "kv-count" (func (param "range" string) (result u32)))
        ))
    )"#
    .to_owned()
}

/// Payloads the full guest answers with.
pub(crate) struct Answers {
    pub(crate) arguments: Vec<u8>,
    pub(crate) kind: Vec<u8>,
}

/// `bytes` as a WebAssembly text string literal.
fn literal(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("\\{byte:02x}")).collect()
}

/// The core module behind the test guests.
///
/// Memory: 0..16 unused, 16..32 the return area, 64.. fixed strings, 1024..
/// a bump heap for `realloc`. `invoke` looks at the first byte of the
/// name: `t` traps, `f` fails with "boom", `g` grows memory by 100 pages
/// (and traps, like a Rust guest aborting, if that is refused); anything
/// else, and no name, echoes the arguments.
fn core_module(answers: &Answers) -> String {
    let arguments = literal(&answers.arguments);
    let kind = literal(&answers.kind);
    let arguments_len = answers.arguments.len();
    let kind_len = answers.kind.len();
    format!(
        r#"(core module $m
            (memory (export "memory") 1)
            (global $heap (mut i32) (i32.const 4096))
            (data (i32.const 64) "boom")
            (data (i32.const 128) "echo")
            (data (i32.const 160) "no default function")
            (data (i32.const 192) "echoes its arguments")
            (data (i32.const 1024) "{arguments}")
            (data (i32.const 2048) "{kind}")

            (func (export "realloc") (param i32 i32 i32 i32) (result i32)
                (local $ptr i32)
                (local.set $ptr
                    (i32.and
                        (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                        (i32.sub (i32.const 0) (local.get 2))))
                (global.set $heap (i32.add (local.get $ptr) (local.get 3)))
                (block $fits
                    (br_if $fits
                        (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
                    (br_if $fits
                        (i32.ne
                            (memory.grow
                                (i32.add
                                    (i32.div_u
                                        (i32.sub (global.get $heap)
                                            (i32.mul (memory.size) (i32.const 65536)))
                                        (i32.const 65536))
                                    (i32.const 1)))
                            (i32.const -1)))
                    unreachable)
                (local.get $ptr))

            ;; result<list<u8>, string> and friends: tag at 16, payload at 20.
            (func $ok_bytes (param i32 i32) (result i32)
                (i32.store8 (i32.const 16) (i32.const 0))
                (i32.store (i32.const 20) (local.get 0))
                (i32.store (i32.const 24) (local.get 1))
                (i32.const 16))
            (func $err (param i32 i32) (result i32)
                (i32.store8 (i32.const 16) (i32.const 1))
                (i32.store (i32.const 20) (local.get 0))
                (i32.store (i32.const 24) (local.get 1))
                (i32.const 16))
            (func $no_default (result i32)
                (call $err (i32.const 160) (i32.const 19)))

            (func (export "invoke") (param $has_name i32) (param $name i32) (param $name_len i32)
                    (param $args i32) (param $args_len i32) (result i32)
                (local $first i32)
                (if (i32.and (local.get $has_name) (i32.ne (local.get $name_len) (i32.const 0)))
                    (then
                        (local.set $first (i32.load8_u (local.get $name)))
                        (if (i32.eq (local.get $first) (i32.const 116)) (then unreachable))
                        (if (i32.eq (local.get $first) (i32.const 102))
                            (then (return (call $err (i32.const 64) (i32.const 4)))))
                        (if (i32.eq (local.get $first) (i32.const 103))
                            (then
                                (if (i32.eq (memory.grow (i32.const 100)) (i32.const -1))
                                    (then unreachable))))))
                (call $ok_bytes (local.get $args) (local.get $args_len)))

            (func (export "list-functions") (result i32)
                ;; [none, some("echo")]: 12-byte option<string> elements at 256.
                (i32.store8 (i32.const 256) (i32.const 0))
                (i32.store8 (i32.const 268) (i32.const 1))
                (i32.store (i32.const 272) (i32.const 128))
                (i32.store (i32.const 276) (i32.const 4))
                (i32.store (i32.const 16) (i32.const 256))
                (i32.store (i32.const 20) (i32.const 2))
                (i32.const 16))

            (func (export "function-args") (param i32 i32 i32) (result i32)
                (if (result i32) (local.get 0)
                    (then (call $ok_bytes (i32.const 1024) (i32.const {arguments_len})))
                    (else (call $no_default))))

            (func (export "function-returns") (param i32 i32 i32) (result i32)
                (if (result i32) (local.get 0)
                    (then (call $ok_bytes (i32.const 2048) (i32.const {kind_len})))
                    (else (call $no_default))))

            (func (export "function-writeable") (param i32 i32 i32) (result i32)
                (if (result i32) (local.get 0)
                    (then
                        (i32.store8 (i32.const 16) (i32.const 0))
                        (i32.store8 (i32.const 20) (i32.const 1))
                        (i32.const 16))
                    (else (call $no_default))))

            (func (export "function-comment") (param i32 i32 i32) (result i32)
                (if (result i32) (local.get 0)
                    (then
                        (i32.store8 (i32.const 16) (i32.const 0))
                        (i32.store8 (i32.const 20) (i32.const 1))
                        (i32.store (i32.const 24) (i32.const 192))
                        (i32.store (i32.const 28) (i32.const 20))
                        (i32.const 16))
                    (else (call $no_default))))

            (func (export "init") (result i32)
                (i32.store8 (i32.const 16) (i32.const 0))
                (i32.const 16))
        )
        (core instance $i (instantiate $m))
        (alias core export $i "memory" (core memory $mem))
        (alias core export $i "realloc" (core func $realloc))"#
    )
}

const INVOKE: &str = r#"(func (export "invoke")
    (param "name" (option string)) (param "args" (list u8))
    (result (result (list u8) (error string)))
    (canon lift (core func $i "invoke") (memory $mem) (realloc $realloc)))"#;

/// A guest with all seven exports.
pub(crate) fn full_guest(answers: &Answers) -> String {
    format!(
        r#"(component
            {}
            {INVOKE}
            (func (export "list-functions") (result (list (option string)))
                (canon lift (core func $i "list-functions") (memory $mem) (realloc $realloc)))
            (func (export "function-args") (param "name" (option string))
                (result (result (list u8) (error string)))
                (canon lift (core func $i "function-args") (memory $mem) (realloc $realloc)))
            (func (export "function-returns") (param "name" (option string))
                (result (result (list u8) (error string)))
                (canon lift (core func $i "function-returns") (memory $mem) (realloc $realloc)))
            (func (export "function-writeable") (param "name" (option string))
                (result (result bool (error string)))
                (canon lift (core func $i "function-writeable") (memory $mem) (realloc $realloc)))
            (func (export "function-comment") (param "name" (option string))
                (result (result (option string) (error string)))
                (canon lift (core func $i "function-comment") (memory $mem) (realloc $realloc)))
            (func (export "init") (result (result (error string)))
                (canon lift (core func $i "init") (memory $mem) (realloc $realloc)))
        )"#,
        core_module(answers)
    )
}

/// A guest that exports `invoke` and nothing else.
pub(crate) fn invoke_only_guest() -> String {
    let answers = Answers {
        arguments: Vec::new(),
        kind: Vec::new(),
    };
    format!("(component {} {INVOKE})", core_module(&answers))
}

/// A guest without `invoke`.
pub(crate) fn no_invoke_guest() -> String {
    let answers = Answers {
        arguments: Vec::new(),
        kind: Vec::new(),
    };
    format!(
        r#"(component {}
            (func (export "init") (result (result (error string)))
                (canon lift (core func $i "init") (memory $mem) (realloc $realloc))))"#,
        core_module(&answers)
    )
}

/// A guest whose `invoke` takes and returns the wrong types.
pub(crate) fn mistyped_invoke_guest() -> String {
    r#"(component
        (core module $m (func (export "f") (param i32) (result i32) (local.get 0)))
        (core instance $i (instantiate $m))
        (func (export "invoke") (param "x" u32) (result u32)
            (canon lift (core func $i "f")))
    )"#
    .to_owned()
}

/// A guest whose `invoke` is a core module, not a function.
pub(crate) fn invoke_not_a_function() -> String {
    r#"(component
        (core module $m)
        (export "invoke" (core module $m))
    )"#
    .to_owned()
}
