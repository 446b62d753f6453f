//! `surrealism.toml` text into `ModuleConfig::parse`, and what a load does
//! with the result.
//!
//! Contract: no input panics; strict mode accepts a subset of what lenient
//! mode accepts, with the same model; a parsed config that `to_toml` writes
//! reads back strictly to the same model (that is how `surli pack` and the
//! package writer store it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use surli_config::{EffectiveLimits, ModuleConfig, ParseOptions, ServerLimits};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lenient = ModuleConfig::parse(text, ParseOptions::default());
    let strict = ModuleConfig::parse(text, ParseOptions::strict());
    if let Ok(strict) = &strict {
        match &lenient {
            Ok(lenient) => assert_eq!(strict.config, lenient.config, "strict and lenient differ"),
            Err(error) => panic!("strict mode accepts what lenient mode refuses: {error}"),
        }
    }
    let Ok(parsed) = lenient else {
        return;
    };
    let config = parsed.config;
    for warning in &parsed.warnings {
        let _ = warning.to_string();
    }

    // What `Runtime::load` does with a config before any WebAssembly.
    let _ = config.check_abi();
    let _ = config.file_name();
    let _ = config.attach.fs_dir();
    let _ = config.capabilities.allow_functions.never_matching();
    let _ = config.capabilities.allow_functions.allows("fn::x");
    let _ = surli_net::parse_entries(&config.capabilities.allow_net);
    for server in [ServerLimits::default(), ServerLimits::unlimited()] {
        let merged = EffectiveLimits::merge(&server, &config.capabilities);
        if let (Some(limit), Some(ceiling)) =
            (merged.limits.max_memory_bytes, server.max_memory_bytes)
        {
            assert!(
                limit.value <= ceiling,
                "a merged limit is above the server's ceiling"
            );
        }
        if let (Some(limit), Some(ceiling)) =
            (merged.limits.max_execution_time, server.max_execution_time)
        {
            assert!(
                limit.value <= ceiling,
                "a merged limit is above the server's ceiling"
            );
        }
        assert!(merged.limits.pool_size.value <= server.max_pool_size);
    }

    if let Ok(written) = config.to_toml() {
        match ModuleConfig::parse(&written, ParseOptions::strict()) {
            Ok(again) => assert_eq!(again.config, config, "to_toml does not read back the same"),
            Err(error) => panic!("to_toml writes what the parser refuses: {error}\n{written}"),
        }
    }
});
