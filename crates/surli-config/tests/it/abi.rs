use surli_config::{AbiVersion, ConfigError, ModuleConfig, ParseOptions};

fn with_abi(abi_line: &str) -> String {
    format!("{abi_line}\n[package]\norganisation = \"t\"\nname = \"t\"\nversion = \"0.1.0\"\n")
}

fn abi_of(abi_line: &str) -> Result<Option<AbiVersion>, ConfigError> {
    ModuleConfig::parse(&with_abi(abi_line), ParseOptions::default()).map(|p| p.config.abi)
}

#[test]
fn integer_and_legacy_string_abis_read_as_the_original() {
    assert_eq!(abi_of("abi = 2").unwrap(), Some(AbiVersion(2)));
    assert_eq!(abi_of("abi = 1").unwrap(), Some(AbiVersion(1)));
    assert_eq!(abi_of("abi = \"p2\"").unwrap(), Some(AbiVersion(2)));
    assert_eq!(abi_of("abi = \"2\"").unwrap(), Some(AbiVersion(2)));
    assert_eq!(abi_of("abi = \"p1\"").unwrap(), Some(AbiVersion(1)));
    assert_eq!(abi_of("abi = \"1\"").unwrap(), Some(AbiVersion(1)));
    assert_eq!(abi_of("").unwrap(), None);
}

#[test]
fn impossible_abis_are_refused_at_parse_with_the_key_named() {
    for line in ["abi = \"p3\"", "abi = -1", "abi = 4294967296", "abi = true"] {
        match abi_of(line) {
            Err(ConfigError::InvalidValue { key, line: 1, .. }) => assert_eq!(key, "abi"),
            other => panic!("{line}: expected InvalidValue at line 1, got {other:?}"),
        }
    }
}

#[test]
fn only_abi_2_passes_the_check() {
    let check = |line: &str| {
        ModuleConfig::parse(&with_abi(line), ParseOptions::default())
            .unwrap()
            .config
            .check_abi()
    };
    check("abi = 2").unwrap();
    check("abi = \"p2\"").unwrap();

    match check("abi = 1") {
        Err(ConfigError::UnsupportedAbi {
            expected: 2,
            found: Some(1),
        }) => {}
        other => panic!("expected UnsupportedAbi, got {other:?}"),
    }
    let message = check("abi = \"p1\"").unwrap_err().to_string();
    assert!(
        message.contains("abi = 1") && message.contains("ABI 2"),
        "{message}"
    );
    assert!(
        message.contains("surli build"),
        "says how to fix: {message}"
    );

    let missing = check("").unwrap_err();
    assert!(matches!(
        missing,
        ConfigError::UnsupportedAbi {
            expected: 2,
            found: None
        }
    ));
    let message = missing.to_string();
    assert!(message.contains("no `abi` key"), "{message}");
    assert!(message.contains("abi = 2"), "says how to fix: {message}");
}
