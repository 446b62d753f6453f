//! `allow_net` entries into `surli_net::parse_entry` and `parse_entries`.
//!
//! Contract: no input panics; an entry that parses is written back by
//! `Display` in a form that parses to the same entry (as `NetEntry`
//! documents); the whole input, one entry per line, reads as a list that
//! fails exactly when one of its entries does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use surli_net::{NetEntry, parse_entries, parse_entry};

fn check_entry(text: &str) -> bool {
    match parse_entry(text) {
        Ok(entry) => {
            let shown = entry.to_string();
            match shown.parse::<NetEntry>() {
                Ok(again) => assert_eq!(
                    again, entry,
                    "`{text}` shows as `{shown}`, which reads differently"
                ),
                Err(error) => panic!("`{text}` shows as `{shown}`, which is refused: {error}"),
            }
            true
        }
        Err(error) => {
            let _ = error.to_string();
            let _ = error.entry();
            false
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_entry(text);
    let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let all_valid = lines
        .iter()
        .fold(true, |valid, line| check_entry(line) && valid);
    match parse_entries(&lines) {
        Ok(entries) => {
            assert!(all_valid, "the list reads although an entry is refused");
            assert_eq!(entries.len(), lines.len());
        }
        Err(error) => {
            assert!(
                !all_valid,
                "the list is refused although every entry reads: {error}"
            );
            assert!(
                error.index().is_some(),
                "a list error without its index: {error}"
            );
        }
    }
});
