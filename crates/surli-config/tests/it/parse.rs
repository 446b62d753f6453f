use std::time::Duration;

use surli_config::{
    ConfigError, ConfigWarning, FunctionTargets, ModuleConfig, ParseOptions, Target,
};

const MINIMAL: &str = r#"
[package]
organisation = "acme"
name = "demo"
version = "1.2.3"
"#;

fn parse(text: &str) -> Result<surli_config::ParsedConfig, ConfigError> {
    ModuleConfig::parse(text, ParseOptions::default())
}

#[test]
fn minimal_config_takes_the_original_defaults() {
    let parsed = parse(MINIMAL).unwrap();
    let config = parsed.config;
    assert!(parsed.warnings.is_empty());
    assert_eq!(config.target, Target::Rust);
    assert_eq!(config.abi, None);
    assert_eq!(config.meta.organisation, "acme");
    assert_eq!(config.meta.name, "demo");
    assert_eq!(config.meta.version, semver::Version::new(1, 2, 3));
    let caps = &config.capabilities;
    assert!(!caps.allow_scripting);
    assert!(!caps.allow_arbitrary_queries);
    assert_eq!(caps.allow_functions, FunctionTargets::None);
    assert!(caps.allow_net.is_empty());
    assert_eq!(caps.max_memory_bytes, None);
    assert_eq!(caps.max_execution_time, None);
    assert_eq!(caps.max_pool_size, None);
    assert_eq!(caps.max_kv_entries, None);
    assert_eq!(caps.max_kv_value_bytes, None);
    assert_eq!(caps.max_kv_bytes, None);
    assert!(caps.strict_timeout, "strict_timeout defaults to true");
    assert_eq!(config.attach.fs, None);
    assert_eq!(config.file_name(), "acme-demo-1.2.3.surli");
}

#[test]
fn every_key_is_read_with_its_type_and_unit() {
    let text = r#"
target = "rust"
abi = 2

[package]
organisation = "acme"
name = "widget"
version = "2.3.1-beta.1"

[capabilities]
allow_scripting = true
allow_arbitrary_queries = true
allow_functions = ["http::*", "fn::check"]
allow_net = ["10.0.0.0/8", "example.com:443"]
max_memory_bytes = 1048576
max_execution_time = 1500
max_pool_size = 4
max_kv_entries = 10
max_kv_value_bytes = 2048
max_kv_bytes = 65536
strict_timeout = false

[attach]
fs = "static"
"#;
    let parsed = parse(text).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let config = parsed.config;
    assert_eq!(config.abi.map(|a| a.0), Some(2));
    assert_eq!(config.meta.version.to_string(), "2.3.1-beta.1");
    let caps = &config.capabilities;
    assert!(caps.allow_scripting);
    assert!(caps.allow_arbitrary_queries);
    assert_eq!(
        caps.allow_functions,
        FunctionTargets::Some(vec!["http::*".into(), "fn::check".into()])
    );
    assert_eq!(caps.allow_net, ["10.0.0.0/8", "example.com:443"]);
    assert_eq!(caps.max_memory_bytes, Some(1_048_576));
    assert_eq!(caps.max_execution_time, Some(Duration::from_millis(1500)));
    assert_eq!(caps.max_pool_size, Some(4));
    assert_eq!(caps.max_kv_entries, Some(10));
    assert_eq!(caps.max_kv_value_bytes, Some(2048));
    assert_eq!(caps.max_kv_bytes, Some(65536));
    assert!(!caps.strict_timeout);
    assert_eq!(config.attach.fs_dir(), Some("static"));
}

#[test]
fn config_written_by_the_original_packer_loads_without_warnings() {
    // surrealism.toml as the original runtime re-serialises it into packages
    // (taken from testdata/original-0.3.1-baseline.surli).
    let text = r#"target = "rust"
abi = 2

[package]
organisation = "peer"
name = "baseline"
version = "0.1.0"

[capabilities]
allow_scripting = false
allow_arbitrary_queries = false
allow_functions = []
allow_net = []
strict_timeout = true

[attach]
"#;
    let parsed = parse(text).unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    parsed.config.check_abi().unwrap();
    assert_eq!(parsed.config.file_name(), "peer-baseline-0.1.0.surli");
}

#[test]
fn empty_attach_fs_means_no_attached_directory() {
    let text = format!("{MINIMAL}\n[attach]\nfs = \"\"\n");
    let config = parse(&text).unwrap().config;
    assert_eq!(config.attach.fs.as_deref(), Some(""));
    assert_eq!(config.attach.fs_dir(), None);
}

#[test]
fn written_config_reads_back_identically() {
    let text = r#"
abi = 2
[package]
organisation = "acme"
name = "widget"
version = "0.4.0"
[capabilities]
allow_functions = ["fn::a", "http::*"]
allow_net = ["127.0.0.1"]
max_execution_time = 250
max_memory_bytes = 65536
strict_timeout = false
[attach]
fs = "assets"
"#;
    let first = parse(text).unwrap().config;
    let written = first.to_toml().unwrap();
    let second = ModuleConfig::parse(&written, ParseOptions::strict())
        .unwrap()
        .config;
    assert_eq!(first, second);

    for (targets, expected) in [
        (FunctionTargets::None, "allow_functions = []"),
        (FunctionTargets::All, "allow_functions = [\"*\"]"),
    ] {
        let mut config = first.clone();
        config.capabilities.allow_functions = targets.clone();
        let written = config.to_toml().unwrap();
        assert!(written.contains(expected), "{written}");
        assert_eq!(
            parse(&written).unwrap().config.capabilities.allow_functions,
            targets
        );
    }
}

#[test]
fn wrong_type_names_the_key_and_its_line() {
    let cases = [
        (
            "[capabilities]\nmax_pool_size = \"8\"\n",
            "capabilities.max_pool_size",
        ),
        (
            "[capabilities]\nallow_scripting = 1\n",
            "capabilities.allow_scripting",
        ),
        (
            "[capabilities]\nmax_execution_time = -5\n",
            "capabilities.max_execution_time",
        ),
        (
            "[capabilities]\nallow_functions = \"fn::*\"\n",
            "capabilities.allow_functions",
        ),
        (
            "[capabilities]\nallow_net = [1, 2]\n",
            "capabilities.allow_net",
        ),
        (
            "[capabilities]\nstrict_timeout = \"no\"\n",
            "capabilities.strict_timeout",
        ),
        ("[attach]\nfs = 3\n", "attach.fs"),
    ];
    for (tail, key) in cases {
        // MINIMAL has 5 lines (leading newline included); the bad key is on
        // the second line of the tail.
        let text = format!("{MINIMAL}{tail}");
        let expected_line = MINIMAL.lines().count() + 2;
        match parse(&text) {
            Err(ConfigError::InvalidValue { key: k, line, .. }) => {
                assert_eq!(k, key, "for {tail:?}");
                assert_eq!(line, expected_line, "for {tail:?}");
            }
            other => panic!("{tail:?}: expected InvalidValue, got {other:?}"),
        }
    }
}

#[test]
fn bad_version_and_target_name_their_keys() {
    let text =
        "target = \"go\"\n[package]\norganisation = \"a\"\nname = \"b\"\nversion = \"1.0.0\"\n";
    match parse(text) {
        Err(ConfigError::InvalidValue { key, line, .. }) => {
            assert_eq!((key.as_str(), line), ("target", 1));
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    let text = "[package]\norganisation = \"a\"\nname = \"b\"\nversion = \"one\"\n";
    match parse(text) {
        Err(ConfigError::InvalidValue { key, line, .. }) => {
            assert_eq!((key.as_str(), line), ("package.version", 4));
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

#[test]
fn missing_required_key_is_named() {
    let text = "[package]\norganisation = \"a\"\nversion = \"1.0.0\"\n";
    match parse(text) {
        Err(ConfigError::InvalidValue { key, message, .. }) => {
            assert_eq!(key, "package.name");
            assert!(message.contains("missing field"), "{message}");
        }
        other => panic!("expected InvalidValue, got {other:?}"),
    }
    match parse("abi = 2\n") {
        Err(ConfigError::InvalidValue { key, .. }) => assert_eq!(key, "package"),
        other => panic!("expected InvalidValue, got {other:?}"),
    }
}

#[test]
fn syntax_error_gives_line_and_column() {
    let text = "[package]\norganisation = \"a\"\nname = = \"b\"\n";
    match parse(text) {
        Err(ConfigError::Syntax { line, column, .. }) => {
            assert_eq!(line, 3);
            assert!(column > 1, "column {column}");
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
}

#[test]
fn unknown_keys_are_warnings_with_their_lines() {
    let text = format!(
        "{MINIMAL}extra = 1\n[capabilities]\nallow_netz = [\"10.0.0.1\"]\n[capabilitiez]\nmax = 3\n"
    );
    let parsed = parse(&text).unwrap();
    let base = MINIMAL.lines().count();
    let unknown: Vec<(String, usize)> = parsed
        .warnings
        .iter()
        .filter_map(|w| match w {
            ConfigWarning::UnknownKey(k) => Some((k.key.clone(), k.line)),
            _ => None,
        })
        .collect();
    assert_eq!(
        unknown,
        [
            ("package.extra".to_owned(), base + 1),
            ("capabilities.allow_netz".to_owned(), base + 3),
            ("capabilitiez".to_owned(), base + 4),
        ]
    );
    // The typo'd capability was not granted, exactly as in the original.
    assert!(parsed.config.capabilities.allow_net.is_empty());
    let shown = parsed.warnings[1].to_string();
    assert!(
        shown.contains("capabilities.allow_netz") && shown.contains("line"),
        "{shown}"
    );
}

#[test]
fn strict_mode_refuses_unknown_keys() {
    let text = format!("{MINIMAL}[capabilities]\nallow_netz = []\n");
    match ModuleConfig::parse(&text, ParseOptions::strict()) {
        Err(ConfigError::UnknownKeys { keys }) => {
            assert_eq!(keys.len(), 1);
            assert_eq!(keys[0].key, "capabilities.allow_netz");
            assert_eq!(keys[0].line, MINIMAL.lines().count() + 2);
        }
        other => panic!("expected UnknownKeys, got {other:?}"),
    }
    // Strict mode accepts a config that has only known keys.
    ModuleConfig::parse(MINIMAL, ParseOptions::strict()).unwrap();
}

#[test]
fn never_matching_patterns_are_reported() {
    let text = format!("{MINIMAL}[capabilities]\nallow_functions = [\"fn::a::*\", \"fn::ok\"]\n");
    let parsed = parse(&text).unwrap();
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    match &parsed.warnings[0] {
        ConfigWarning::PatternNeverMatches { pattern, reason } => {
            assert_eq!(pattern, "fn::a::*");
            assert!(reason.contains("fn::*"), "{reason}");
        }
        other => panic!("unexpected warning {other:?}"),
    }
}
