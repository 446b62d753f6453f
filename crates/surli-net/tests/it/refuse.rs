//! Entries the original mis-read or silently mangled are refused, each with
//! its own error that quotes the entry and says what to write.

use surli_net::NetError;

use crate::refused;

#[test]
fn empty_entry_is_refused() {
    let error = refused("");
    assert!(matches!(error, NetError::Empty), "{error:?}");
    assert!(error.to_string().contains("remove the entry"));
}

#[test]
fn whitespace_is_refused_not_stripped() {
    for text in [
        " example.com",
        "example.com ",
        "exa mple.com",
        "\texample.com",
        "10.0.0.1 ",
    ] {
        let error = refused(text);
        assert!(
            matches!(&error, NetError::Whitespace { entry } if entry == text),
            "{text:?}: {error:?}"
        );
    }
}

#[test]
fn control_characters_are_refused() {
    let error = refused("example.com\u{0}");
    assert!(matches!(error, NetError::Whitespace { .. }), "{error:?}");
}

#[test]
fn scheme_is_refused_with_the_host_and_the_scheme_port_suggested() {
    let error = refused("http://example.com");
    assert!(matches!(error, NetError::Scheme { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "allow_net entry `http://example.com` has a scheme; \
         write the host alone, as `example.com` or `example.com:80`"
    );

    let error = refused("HTTPS://example.com/api?x=1");
    assert!(matches!(error, NetError::Scheme { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .ends_with("as `example.com` or `example.com:443`"),
        "{error}"
    );
}

#[test]
fn scheme_with_a_port_suggests_the_authority_alone() {
    let error = refused("postgres://user:pw@db.internal:5432/app");
    assert!(
        matches!(&error, NetError::Scheme { suggestion, .. } if suggestion == "`db.internal:5432`"),
        "{error:?}"
    );
}

#[test]
fn unknown_scheme_suggests_the_host_alone() {
    let error = refused("redis://cache.internal");
    assert!(
        matches!(&error, NetError::Scheme { suggestion, .. } if suggestion == "`cache.internal`"),
        "{error:?}"
    );
}

#[test]
fn path_is_refused_not_dropped() {
    let error = refused("example.com/x");
    assert!(
        matches!(&error, NetError::Path { suggestion, .. } if suggestion == "`example.com`"),
        "{error:?}"
    );
    assert!(error.to_string().contains("has a path"));

    let error = refused("example.com:8080/");
    assert!(
        matches!(&error, NetError::Path { suggestion, .. } if suggestion == "`example.com:8080`"),
        "{error:?}"
    );
}

#[test]
fn query_is_refused() {
    let error = refused("example.com?x=1");
    assert!(
        matches!(&error, NetError::Query { suggestion, .. } if suggestion == "`example.com`"),
        "{error:?}"
    );
}

#[test]
fn fragment_is_refused() {
    let error = refused("example.com#top");
    assert!(
        matches!(&error, NetError::Fragment { suggestion, .. } if suggestion == "`example.com`"),
        "{error:?}"
    );
}

#[test]
fn userinfo_is_refused() {
    let error = refused("user:secret@example.com:443");
    assert!(
        matches!(&error, NetError::UserInfo { suggestion, .. } if suggestion == "`example.com:443`"),
        "{error:?}"
    );
    assert!(error.to_string().contains("user information"));
}

#[test]
fn at_sign_after_a_path_is_a_path_error() {
    let error = refused("example.com/~me@home");
    assert!(matches!(error, NetError::Path { .. }), "{error:?}");
}

#[test]
fn network_with_a_bad_prefix_is_refused_as_a_network() {
    for text in [
        "10.0.0.0/33",
        "fd00::/129",
        "10.0.0.0/",
        "[fd00::]/8",
        "10.0.0.0/8:80",
    ] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::InvalidNetwork { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn port_out_of_range_is_refused() {
    let error = refused("h:99999");
    assert!(
        matches!(&error, NetError::InvalidPort { port, .. } if port == "99999"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "port `99999` in allow_net entry `h:99999` is not a number from 0 to 65535"
    );
}

#[test]
fn port_that_is_not_a_decimal_number_is_refused() {
    for text in ["h:http", "10.0.0.1:+80", "[::1]:-1", "h:8o", "h:0x50"] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::InvalidPort { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn colon_without_a_host_is_refused() {
    for text in [":80", ":"] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::MissingHost { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn brackets_must_hold_an_ipv6_address() {
    for text in [
        "[10.0.0.1]",
        "[example.com]:80",
        "[]",
        "[::1",
        "[::1]80",
        "[fe80::1%eth0]",
        "[::g]",
    ] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::InvalidBracketedIpv6 { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn unbracketed_ipv6_with_a_port_is_refused_with_brackets_suggested() {
    let error = refused("1:2:3:4:5:6:7:8:80");
    assert!(
        matches!(&error, NetError::UnbracketedIpv6 { suggestion, .. } if suggestion == "`[1:2:3:4:5:6:7:8]:80`"),
        "{error:?}"
    );
}

#[test]
fn unbracketed_ipv6_junk_is_refused() {
    for text in ["fe80::1:99999", "fe80::1%eth0", ":::"] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::UnbracketedIpv6 { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn host_ending_in_a_number_is_refused_rather_than_read_as_ipv4_shorthand() {
    for text in [
        "127.1",
        "127.1:80",
        "010.0.0.1",
        "0x7f000001",
        "0x7f.0.0.1",
        "256.0.0.1",
        "1.2.3.4.",
        "2130706433",
        "example.0x",
        "example.123",
    ] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::InvalidIpv4 { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn non_ascii_host_name_is_refused_with_punycode_advice() {
    let error = refused("bücher.example:80");
    assert!(
        matches!(&error, NetError::NonAscii { host, .. } if host == "bücher.example"),
        "{error:?}"
    );
    assert!(error.to_string().contains("xn--"), "{error}");
}

#[test]
fn characters_a_host_name_cannot_hold_are_refused() {
    for (text, bad) in [
        ("exa!mple.com", '!'),
        ("ex%61mple.com", '%'),
        ("example.com\\x", '\\'),
        ("a*.example", '*'),
        ("example.com:80:90", ':'),
        ("example]", ']'),
        // Not IPv6 material, so bracket advice would mislead.
        ("::g:80", ':'),
    ] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::HostNameChar { ch, .. } if ch == bad),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn empty_labels_are_refused() {
    for text in [".", "..", ".example.com", "example..com", "example.com.."] {
        let error = refused(text);
        assert!(
            matches!(error, NetError::EmptyLabel { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn label_longer_than_63_is_refused() {
    let label = "a".repeat(64);
    let error = refused(&format!("{label}.example"));
    assert!(
        matches!(&error, NetError::LabelTooLong { label: bad, .. } if *bad == label),
        "{error:?}"
    );
}

#[test]
fn host_name_longer_than_253_is_refused() {
    let label = "a".repeat(63);
    let name = format!("{label}.{label}.{label}.{}", "b".repeat(62));
    assert_eq!(name.len(), 254);
    let error = refused(&name);
    assert!(
        matches!(error, NetError::HostNameTooLong { len: 254, .. }),
        "{error:?}"
    );
}

#[test]
fn every_message_is_lower_case_without_a_final_period() {
    for text in [
        "",
        " x",
        "http://x",
        "u@x",
        "x/p",
        "x?q",
        "x#f",
        "10.0.0.0/33",
        "x:99999",
        ":80",
        "[x]",
        "1:2:3:4:5:6:7:8:80",
        "127.1",
        "ü",
        "x!",
        "x..y",
    ] {
        let message = refused(text).to_string();
        assert!(
            message.starts_with(|ch: char| !ch.is_uppercase()),
            "{message}"
        );
        assert!(!message.ends_with('.'), "{message}");
    }
}
