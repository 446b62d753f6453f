//! `exports.toml` text into `ExportsManifest::parse`.
//!
//! Contract: no input panics; a manifest that parses and is written back
//! with `to_toml` parses again and is then written the same way (the
//! documented round trip that keeps unknown keys). The text is compared
//! rather than the models, so a `nan` among the unknown keys, which never
//! equals itself, is no false alarm.
#![no_main]

use libfuzzer_sys::fuzz_target;
use surli_package::ExportsManifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = ExportsManifest::parse(text) else {
        return;
    };
    // What `surli info` and the load-time cross-check read.
    for function in &manifest.functions {
        let _ = function.signature();
        let _ = function.args_display();
        let _ = function.returns_display();
        let _ = manifest.get(function.name.as_deref());
    }
    let _ = manifest.get(None);

    let Ok(written) = manifest.to_toml() else {
        return;
    };
    let again = match ExportsManifest::parse(&written) {
        Ok(again) => again,
        Err(error) => panic!("to_toml writes what the parser refuses: {error}\n{written}"),
    };
    assert_eq!(again.functions.len(), manifest.functions.len());
    match again.to_toml() {
        Ok(rewritten) => assert_eq!(rewritten, written, "the round trip is not stable"),
        Err(error) => panic!("a manifest read back from to_toml cannot be written: {error}"),
    }
});
