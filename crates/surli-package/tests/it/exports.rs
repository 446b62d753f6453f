//! `exports.toml`: what the original writes and reads, plus whatever a newer
//! tool adds.

use proptest::prelude::*;
use surli_package::{ExportsManifest, FunctionExport, PackageError};

const WITH_UNKNOWN_KEYS: &str = r#"
schema = 3
generator = "surli 9.9"

[[functions]]
name = "add"
args = "0A0b"
returns = "ff"
args_text = ["a: int", "b: int"]
returns_text = "int"
writeable = true
comment = "adds"
since = "1.2"
[functions.hints]
pure = true

[[functions]]
args = ""
returns = "00"

[tooling]
built_by = "ci"
"#;

#[test]
fn unknown_keys_survive_a_round_trip() {
    let manifest = ExportsManifest::parse(WITH_UNKNOWN_KEYS).unwrap();
    assert_eq!(manifest.extra["schema"].as_integer(), Some(3));
    assert_eq!(manifest.extra["tooling"]["built_by"].as_str(), Some("ci"));
    let add = manifest.get(Some("add")).unwrap();
    assert_eq!(add.args, [0x0a, 0x0b]);
    assert_eq!(add.extra["since"].as_str(), Some("1.2"));
    assert_eq!(add.extra["hints"]["pure"].as_bool(), Some(true));
    assert!(add.writeable);
    let default = manifest.get(None).unwrap();
    assert!(default.args.is_empty());
    assert!(!default.writeable);

    let written = manifest.to_toml().unwrap();
    assert!(
        written.contains("args = \"0a0b\""),
        "hex is written lowercase:\n{written}"
    );
    assert_eq!(ExportsManifest::parse(&written).unwrap(), manifest);
}

#[test]
fn bad_hex_is_an_error_naming_the_function_and_key() {
    let text = "[[functions]]\nname = \"fib\"\nargs = \"0g\"\nreturns = \"00\"\n";
    let error = ExportsManifest::parse(text).unwrap_err();
    assert!(
        matches!(&error, PackageError::Exports { function: Some(f), .. } if f.contains("fib")),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("`fib`") && message.contains("`args`"),
        "{message}"
    );

    let odd = "[[functions]]\nargs = \"00\"\nreturns = \"abc\"\n";
    let message = ExportsManifest::parse(odd).unwrap_err().to_string();
    assert!(
        message.contains("default export") && message.contains("`returns`"),
        "{message}"
    );
}

#[test]
fn empty_functions_round_trip() {
    let manifest = ExportsManifest::parse("functions = []\n").unwrap();
    assert!(manifest.functions.is_empty());
    let written = manifest.to_toml().unwrap();
    assert!(written.contains("functions = []"), "{written}");
    assert_eq!(ExportsManifest::default().to_toml().unwrap(), written);
}

#[test]
fn missing_functions_key_is_refused() {
    let error = ExportsManifest::parse("other = 1\n").unwrap_err();
    assert!(error.to_string().contains("`functions`"), "{error}");
}

#[test]
fn wrong_types_are_refused_with_the_key() {
    for (text, key) in [
        ("functions = 3", "`functions`"),
        (
            "[[functions]]\nname = 1\nargs = \"\"\nreturns = \"\"",
            "`name`",
        ),
        ("[[functions]]\nname = \"f\"\nreturns = \"\"", "`args`"),
        (
            "[[functions]]\nname = \"f\"\nargs = \"\"\nreturns = \"\"\nwriteable = \"yes\"",
            "`writeable`",
        ),
        (
            "[[functions]]\nname = \"f\"\nargs = \"\"\nreturns = \"\"\nargs_text = [1]",
            "`args_text`",
        ),
        ("functions = [", "line 1"),
    ] {
        let message = ExportsManifest::parse(text).unwrap_err().to_string();
        assert!(message.contains(key), "{text:?}: {message}");
    }
}

#[test]
fn display_falls_back_to_the_signature_size() {
    let function = FunctionExport {
        name: None,
        args: vec![1, 2, 3],
        returns: vec![4],
        ..FunctionExport::default()
    };
    assert_eq!(
        function.signature(),
        "<default>(<3 bytes of signature>) -> <1 bytes of signature>"
    );
}

fn function() -> impl Strategy<Value = FunctionExport> {
    (
        proptest::option::of("[a-z_][a-z0-9_]{0,12}"),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::collection::vec(any::<u8>(), 0..40),
        proptest::option::of(proptest::collection::vec("[a-z]{1,5}: [a-z<>]{1,8}", 0..4)),
        proptest::option::of("[a-z<>| ]{0,12}"),
        any::<bool>(),
        proptest::option::of("\\PC{0,30}"),
    )
        .prop_map(
            |(name, args, returns, args_text, returns_text, writeable, comment)| FunctionExport {
                name,
                args,
                returns,
                args_text,
                returns_text,
                writeable,
                comment,
                extra: toml::Table::new(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_manifest_round_trips(functions in proptest::collection::vec(function(), 0..5)) {
        let manifest = ExportsManifest { functions, extra: toml::Table::new() };
        let written = manifest.to_toml().unwrap();
        prop_assert_eq!(ExportsManifest::parse(&written).unwrap(), manifest);
    }
}
