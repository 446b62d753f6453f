//! Stripping custom sections: exactly the listed ones go, at every depth,
//! and everything else stays byte for byte.

use std::borrow::Cow;

use surli_build::{is_stripped_section, strip_custom_sections};
use wasm_encoder::{
    CodeSection, Component, ComponentExportKind, ComponentExportSection, CustomSection, ExportKind,
    ExportSection, Function, FunctionSection, Module, ModuleSection, NameMap, NameSection,
    NestedComponentSection, ProducersField, ProducersSection, TypeSection,
};
use wasmparser::{Parser, Payload};

use crate::support::{fixture, runtime};

fn custom<'a>(name: &'a str, data: &'a [u8]) -> CustomSection<'a> {
    CustomSection {
        name: Cow::Borrowed(name),
        data: Cow::Borrowed(data),
    }
}

/// A core module with one function, an export, and the custom sections
/// `names` (plus a `name` section and a `producers` section).
fn module(customs: &[&str]) -> Module {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export("run", ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instructions().end();
    code.function(&body);
    module.section(&code);
    for name in customs {
        module.section(&custom(name, b"payload of a custom section"));
    }
    let mut names = NameSection::new();
    names.module("example");
    let mut functions = NameMap::new();
    functions.append(0, "run");
    names.functions(&functions);
    module.section(&names);
    let mut producers = ProducersSection::new();
    let mut language = ProducersField::new();
    language.value("Rust", "");
    producers.field("language", &language);
    module.section(&producers);
    module
}

/// A component holding a core module and a nested component (with a core
/// module of its own), and custom sections at every level.
fn component() -> Vec<u8> {
    let mut inner = Component::new();
    inner.section(&custom("sourceMappingURL", b"inner.map"));
    inner.section(&ModuleSection(&module(&[
        ".debug_line",
        "reloc.CODE",
        "kept-inner",
    ])));
    inner.section(&custom("component-type:inner", b"inner type"));

    let mut outer = Component::new();
    outer.section(&custom("component-type:x", b"wit of the world"));
    outer.section(&ModuleSection(&module(&[
        ".debug_info",
        ".debug_str",
        "linking",
        "target_features",
        "kept-outer",
    ])));
    outer.section(&NestedComponentSection(&inner));
    let mut exports = ComponentExportSection::new();
    exports.export("inner", ComponentExportKind::Component, 0, None);
    outer.section(&exports);
    outer.section(&custom("name", b"not really a name section"));
    outer.section(&custom("producers", b"not really producers"));
    outer.section(&custom("component-name", b"kept"));
    outer.finish()
}

/// Every payload of `wasm` at every depth, one line each: custom sections
/// by name and contents, other sections by id and contents; nested modules
/// and components by their own payloads (their contents change when
/// something inside them is stripped).
fn outline(wasm: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap();
        let line = match &payload {
            Payload::Version { num, .. } => format!("version {num}"),
            Payload::End(_) => "end".to_owned(),
            Payload::ModuleSection { .. } => "module".to_owned(),
            Payload::ComponentSection { .. } => "component".to_owned(),
            Payload::CodeSectionEntry(_) => continue,
            Payload::CustomSection(reader) => {
                format!("custom {} {:?}", reader.name(), reader.data())
            }
            other => {
                let (id, range) = other.as_section().unwrap();
                format!("section {id} {:?}", &wasm[range])
            }
        };
        lines.push(line);
    }
    lines
}

fn is_dropped(line: &str) -> bool {
    line.strip_prefix("custom ")
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(name, _)| is_stripped_section(name))
}

#[test]
fn the_listed_custom_sections_go_and_everything_else_stays() {
    let original = component();
    wasmparser::Validator::new()
        .validate_all(&original)
        .expect("the test component is valid");
    let stripped = strip_custom_sections(&original).unwrap();

    let before = outline(&original);
    let after = outline(&stripped);
    let expected: Vec<String> = before.iter().filter(|l| !is_dropped(l)).cloned().collect();
    assert_eq!(after, expected);
    assert!(stripped.len() < original.len());

    let names: Vec<&str> = after
        .iter()
        .filter_map(|l| l.strip_prefix("custom "))
        .filter_map(|l| l.split_once(' ').map(|(name, _)| name))
        .collect();
    assert_eq!(
        names,
        [
            "component-type:x",
            "kept-outer",
            "kept-inner",
            "component-type:inner",
            "component-name"
        ]
    );
    // Everything dropped was there to drop.
    for dropped in [
        "name",
        "producers",
        ".debug_info",
        ".debug_str",
        ".debug_line",
        "linking",
        "target_features",
        "sourceMappingURL",
        "reloc.CODE",
    ] {
        assert!(
            before
                .iter()
                .any(|l| l.starts_with(&format!("custom {dropped} "))),
            "{dropped} should be in the test component"
        );
    }
    wasmparser::Validator::new()
        .validate_all(&stripped)
        .expect("the stripped component is valid");
}

#[test]
fn stripping_twice_changes_nothing() {
    let once = strip_custom_sections(&component()).unwrap();
    assert_eq!(strip_custom_sections(&once).unwrap(), once);
}

#[test]
fn a_core_module_is_stripped_too() {
    let module = module(&[".debug_info", "kept"]).finish();
    let stripped = strip_custom_sections(&module).unwrap();
    let expected: Vec<String> = outline(&module)
        .into_iter()
        .filter(|l| !is_dropped(l))
        .collect();
    assert_eq!(outline(&stripped), expected);
}

#[test]
fn the_section_list_is_the_official_one() {
    for dropped in [
        ".debug_info",
        ".debug_abbrev",
        "name",
        "sourceMappingURL",
        "reloc.CODE",
        "reloc..debug_info",
        "linking",
        "target_features",
        "producers",
    ] {
        assert!(is_stripped_section(dropped), "{dropped}");
    }
    for kept in [
        "component-type:x",
        "component-type",
        "component-name",
        "names",
        "producers2",
        "debug_info",
        "dylink.0",
    ] {
        assert!(!is_stripped_section(kept), "{kept}");
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        &b""[..],
        b"\0asm",
        b"not wasm at all",
        b"\0asm\x0d\0\x01\0\x01\xff\xff\xff",
    ] {
        let error = strip_custom_sections(bad).unwrap_err();
        assert!(!error.to_string().is_empty());
    }
    // A component cut off in the middle of a section.
    let whole = component();
    let error = strip_custom_sections(&whole[..whole.len() - 3]).unwrap_err();
    assert!(error.to_string().contains("WebAssembly"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stripped_demo_fixture_still_describes_the_same() {
    let package = fixture("demo");
    let stripped = strip_custom_sections(package.wasm()).unwrap();
    assert!(
        outline(&stripped).iter().all(|l| !is_dropped(l)),
        "nothing listed is left"
    );
    assert!(
        outline(package.wasm()).iter().any(|l| is_dropped(l)),
        "the fixture has something to strip (its producers sections)"
    );
    let functions = runtime()
        .describe_component(package.config(), &stripped)
        .await
        .expect("the stripped component loads");
    assert_eq!(
        surli_pool::exports_manifest(&functions),
        *package.exports(),
        "the fixture's exports.toml was introspected the same way"
    );
}
