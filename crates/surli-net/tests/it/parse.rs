//! Each accepted form of entry reads to the right `NetEntry`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use surli_net::{NetEntry, NetError, parse_entries};

use crate::entry;

const LOOPBACK_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn host(name: &str, port: Option<u16>) -> NetEntry {
    NetEntry::Host {
        name: name.to_owned(),
        port,
    }
}

#[test]
fn ipv4_cidr_is_a_network() {
    assert_eq!(
        entry("10.0.0.0/8"),
        NetEntry::Network("10.0.0.0/8".parse().unwrap())
    );
}

#[test]
fn ipv6_cidr_is_a_network() {
    assert_eq!(
        entry("fd00::/8"),
        NetEntry::Network("fd00::/8".parse().unwrap())
    );
}

#[test]
fn cidr_with_host_bits_set_is_kept_as_written() {
    // ipnet accepts it and so did the original; matching masks the host bits.
    assert_eq!(
        entry("10.1.2.3/8"),
        NetEntry::Network("10.1.2.3/8".parse().unwrap())
    );
}

#[test]
fn bare_ipv4_is_an_address() {
    assert_eq!(entry("10.0.0.1"), NetEntry::Address(ip("10.0.0.1")));
}

#[test]
fn bare_ipv6_is_an_address() {
    assert_eq!(entry("::1"), NetEntry::Address(LOOPBACK_V6));
    assert_eq!(entry("fd12:3456::7"), NetEntry::Address(ip("fd12:3456::7")));
}

#[test]
fn ipv6_with_a_port_shaped_tail_is_still_an_address_as_in_the_original() {
    assert_eq!(entry("::1:8080"), NetEntry::Address(ip("::1:8080")));
}

#[test]
fn ipv4_mapped_ipv6_is_an_ipv6_address() {
    assert_eq!(
        entry("::ffff:10.0.0.1"),
        NetEntry::Address(ip("::ffff:10.0.0.1"))
    );
}

#[test]
fn ipv4_with_port_is_an_address_and_port() {
    assert_eq!(
        entry("10.0.0.1:5432"),
        NetEntry::AddressPort(ip("10.0.0.1"), 5432)
    );
}

#[test]
fn bracketed_ipv6_is_an_address() {
    assert_eq!(entry("[::1]"), NetEntry::Address(LOOPBACK_V6));
}

#[test]
fn bracketed_ipv6_with_port_is_an_address_and_port() {
    assert_eq!(
        entry("[::1]:8080"),
        NetEntry::AddressPort(LOOPBACK_V6, 8080)
    );
}

#[test]
fn empty_port_means_any_port_as_in_the_original() {
    assert_eq!(
        entry("10.0.0.1:"),
        NetEntry::Address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert_eq!(entry("[::1]:"), NetEntry::Address(LOOPBACK_V6));
    assert_eq!(entry("db.internal:"), host("db.internal", None));
}

#[test]
fn ports_zero_and_65535_and_leading_zeros_are_accepted() {
    assert_eq!(
        entry("10.0.0.1:0"),
        NetEntry::AddressPort(ip("10.0.0.1"), 0)
    );
    assert_eq!(
        entry("10.0.0.1:65535"),
        NetEntry::AddressPort(ip("10.0.0.1"), 65535)
    );
    assert_eq!(entry("db:0080"), host("db", Some(80)));
}

#[test]
fn host_name_without_port_is_a_host_with_any_port() {
    assert_eq!(entry("db.internal"), host("db.internal", None));
    assert_eq!(entry("localhost"), host("localhost", None));
}

#[test]
fn host_name_with_port_is_a_host_with_that_port() {
    assert_eq!(entry("db.internal:5432"), host("db.internal", Some(5432)));
}

#[test]
fn host_names_are_lower_cased() {
    assert_eq!(entry("DB.Internal:80"), host("db.internal", Some(80)));
}

#[test]
fn host_names_may_hold_digits_hyphens_underscores_and_a_final_dot() {
    assert_eq!(
        entry("_srv.my-db1.example.com."),
        host("_srv.my-db1.example.com.", None)
    );
    assert_eq!(
        entry("xn--bcher-kva.example"),
        host("xn--bcher-kva.example", None)
    );
    // Only the last label decides whether a host looks like IPv4.
    assert_eq!(entry("1.2.3.example"), host("1.2.3.example", None));
    assert_eq!(entry("0xdb.example"), host("0xdb.example", None));
}

#[test]
fn host_names_at_the_dns_length_limits_are_accepted() {
    let label = "a".repeat(63);
    assert_eq!(entry(&label), host(&label, None));

    // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253.
    let longest = format!("{label}.{label}.{label}.{}", "b".repeat(61));
    assert_eq!(longest.len(), 253);
    assert_eq!(entry(&longest), host(&longest, None));
    let with_final_dot = format!("{longest}.");
    assert_eq!(entry(&with_final_dot), host(&with_final_dot, None));
}

#[test]
fn display_writes_an_entry_that_reads_back_the_same() {
    for text in [
        "10.0.0.0/8",
        "fd00::/8",
        "10.0.0.1",
        "::1",
        "10.0.0.1:5432",
        "[::1]:8080",
        "[::1]",
        "[::1]:",
        "db.internal",
        "DB.internal:5432",
        "db.internal:",
    ] {
        let parsed = entry(text);
        let shown = parsed.to_string();
        assert_eq!(entry(&shown), parsed, "`{text}` shown as `{shown}`");
    }
    assert_eq!(entry("[::1]:8080").to_string(), "[::1]:8080");
    assert_eq!(entry("[::1]").to_string(), "::1");
    assert_eq!(entry("DB.internal:").to_string(), "db.internal");
}

#[test]
fn from_str_is_parse_entry() {
    let parsed: NetEntry = "db.internal:5432".parse().unwrap();
    assert_eq!(parsed, host("db.internal", Some(5432)));
    assert!(matches!(
        "http://x".parse::<NetEntry>(),
        Err(NetError::Scheme { .. })
    ));
}

#[test]
fn parse_entries_keeps_order() {
    let texts = ["db:1", "10.0.0.0/8", "::1"].map(str::to_owned);
    assert_eq!(
        parse_entries(&texts).unwrap(),
        [
            host("db", Some(1)),
            NetEntry::Network("10.0.0.0/8".parse().unwrap()),
            NetEntry::Address(LOOPBACK_V6),
        ]
    );
}

#[test]
fn parse_entries_of_an_empty_list_is_empty() {
    assert_eq!(parse_entries(&[]).unwrap(), []);
}

#[test]
fn parse_entries_error_names_the_entry_and_its_index() {
    let texts = ["10.0.0.0/8", "db", "http://example.com", "also bad"].map(str::to_owned);
    let error = parse_entries(&texts).unwrap_err();

    assert_eq!(error.index(), Some(2));
    assert_eq!(error.entry(), "http://example.com");
    assert!(matches!(error.without_index(), NetError::Scheme { .. }));
    assert_eq!(
        error.to_string(),
        "capabilities.allow_net[2]: allow_net entry `http://example.com` has a scheme; \
         write the host alone, as `example.com` or `example.com:80`"
    );
}
