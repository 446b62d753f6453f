//! The JSON document of a store's contents: what goes in comes back, and a
//! bad document is refused with a reason instead of loading part of it.

use surli_kv::{KvDump, KvDumpError, KvError, KvStore, MemoryKvStore};

use crate::{ready, unlimited, value};

#[test]
fn a_dump_restores_byte_for_byte_into_a_new_store() {
    let store = MemoryKvStore::new(unlimited());
    ready(store.set("b".into(), value(&[0, 1, 2, 255]))).unwrap();
    ready(store.set("a".into(), value(b""))).unwrap();
    ready(store.set("ключ".into(), value(b"\x0c\x05"))).unwrap();

    let text = ready(KvDump::from_store(&store))
        .unwrap()
        .to_json(|bytes| Some(format!("{} bytes", bytes.len())));
    let read = KvDump::from_json(&text).unwrap();
    assert_eq!(read.len(), 3);

    let copy = MemoryKvStore::new(unlimited());
    ready(read.restore_into(&copy)).unwrap();
    for key in ["a", "b", "ключ"] {
        assert_eq!(
            ready(copy.get(key)).unwrap(),
            ready(store.get(key)).unwrap(),
            "{key}"
        );
    }
    assert_eq!(copy.len(), 3);
}

#[test]
fn entries_come_out_in_key_order_and_notes_are_only_notes() {
    let dump = KvDump::new([
        ("z".to_owned(), value(b"1")),
        ("a".to_owned(), value(b"2")),
        ("a".to_owned(), value(b"3")),
    ]);
    let keys: Vec<&str> = dump.entries().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "z"], "sorted, and the later `a` won");
    assert_eq!(&*dump.entries()[0].1, b"3");

    let text = dump.to_json(|_| Some("whatever".to_owned()));
    assert!(text.contains("\"note\": \"whatever\""), "{text}");
    let edited = text.replace("whatever", "something else");
    assert_eq!(KvDump::from_json(&edited).unwrap(), dump);

    let bare = dump.to_json(|_| None);
    assert!(!bare.contains("note"), "{bare}");
    assert_eq!(KvDump::from_json(&bare).unwrap(), dump);
}

#[test]
fn bad_documents_are_refused_with_the_reason() {
    let malformed = KvDump::from_json("{ not json").unwrap_err();
    assert!(
        matches!(malformed, KvDumpError::Malformed { .. }),
        "{malformed}"
    );

    let unknown_field =
        KvDump::from_json(r#"{"format":"surli-kv","version":1,"entries":[],"extra":true}"#)
            .unwrap_err();
    assert!(
        unknown_field.to_string().contains("extra"),
        "{unknown_field}"
    );

    let other = KvDump::from_json(r#"{"format":"redis","version":1,"entries":[]}"#).unwrap_err();
    assert!(other.to_string().contains("`redis` version 1"), "{other}");

    let future =
        KvDump::from_json(r#"{"format":"surli-kv","version":2,"entries":[]}"#).unwrap_err();
    assert!(
        matches!(future, KvDumpError::Unsupported { version: 2, .. }),
        "{future}"
    );

    let not_hex = KvDump::from_json(
        r#"{"format":"surli-kv","version":1,"entries":[{"key":"k","value":"zz"}]}"#,
    )
    .unwrap_err();
    assert!(not_hex.to_string().starts_with("entry `k`"), "{not_hex}");

    let twice = KvDump::from_json(
        r#"{"format":"surli-kv","version":1,"entries":[
            {"key":"k","value":"00"},{"key":"k","value":"01"}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(twice, KvDumpError::DuplicateKey { ref key } if key == "k"),
        "{twice}"
    );
}

#[test]
fn restoring_respects_the_limits_of_the_store_all_or_nothing() {
    let dump = KvDump::new([
        ("a".to_owned(), value(b"1")),
        ("b".to_owned(), value(b"2")),
        ("c".to_owned(), value(b"3")),
    ]);
    let store = MemoryKvStore::new(unlimited().with_max_entries(Some(2)));
    let refused = ready(dump.restore_into(&store)).unwrap_err();
    assert!(
        matches!(refused, KvError::TooManyEntries { .. }),
        "{refused}"
    );
    assert!(store.is_empty(), "nothing of a refused restore is kept");
}
