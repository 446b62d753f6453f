//! Which socket addresses a list lets the guest connect to.

use std::net::SocketAddr;

use surli_net::{NetAllowList, NetRule};

use crate::list;

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn cidr_allows_every_address_in_it_on_any_port() {
    let allowed = list(&["10.0.0.0/8"]);
    assert!(allowed.allows(&addr("10.0.0.0:1")));
    assert!(allowed.allows(&addr("10.255.255.255:65535")));
    assert!(allowed.allows(&addr("10.1.2.3:5432")));
    assert!(!allowed.allows(&addr("11.0.0.1:80")));
    assert!(!allowed.allows(&addr("9.255.255.255:80")));
}

#[test]
fn cidr_with_host_bits_set_matches_its_whole_network() {
    let allowed = list(&["10.1.2.3/8"]);
    assert!(allowed.allows(&addr("10.200.0.1:80")));
    assert!(!allowed.allows(&addr("11.1.2.3:80")));
}

#[test]
fn ipv6_cidr_allows_every_address_in_it_on_any_port() {
    let allowed = list(&["fd00::/8"]);
    assert!(allowed.allows(&addr("[fd12:3456::1]:443")));
    assert!(allowed.allows(&addr("[fdff::]:1")));
    assert!(!allowed.allows(&addr("[fe00::1]:443")));
}

#[test]
fn bare_ip_allows_only_that_address_on_any_port() {
    let allowed = list(&["10.0.0.1"]);
    assert!(allowed.allows(&addr("10.0.0.1:1")));
    assert!(allowed.allows(&addr("10.0.0.1:65535")));
    assert!(!allowed.allows(&addr("10.0.0.2:80")));
    assert!(!allowed.allows(&addr("10.0.0.0:80")));
}

#[test]
fn bare_ipv6_and_bracketed_ipv6_allow_only_that_address_on_any_port() {
    for text in ["::1", "[::1]", "[::1]:"] {
        let allowed = list(&[text]);
        assert!(allowed.allows(&addr("[::1]:22")), "{text}");
        assert!(allowed.allows(&addr("[::1]:8080")), "{text}");
        assert!(!allowed.allows(&addr("[::2]:22")), "{text}");
        assert!(!allowed.allows(&addr("127.0.0.1:22")), "{text}");
    }
}

#[test]
fn ip_and_port_allow_exactly_that_pair() {
    let allowed = list(&["10.0.0.1:5432"]);
    assert!(allowed.allows(&addr("10.0.0.1:5432")));
    assert!(!allowed.allows(&addr("10.0.0.1:5433")));
    assert!(!allowed.allows(&addr("10.0.0.2:5432")));
}

#[test]
fn bracketed_ipv6_and_port_allow_exactly_that_pair() {
    let allowed = list(&["[fd00::1]:8080"]);
    assert!(allowed.allows(&addr("[fd00::1]:8080")));
    assert!(!allowed.allows(&addr("[fd00::1]:8081")));
    assert!(!allowed.allows(&addr("[fd00::2]:8080")));
}

#[test]
fn ipv4_rules_do_not_match_ipv4_mapped_ipv6_addresses_as_in_the_original() {
    let allowed = list(&["10.0.0.0/8", "10.0.0.1", "10.0.0.1:80"]);
    assert!(!allowed.allows(&addr("[::ffff:10.0.0.1]:80")));
    assert!(!allowed.allows(&addr("[::ffff:10.0.0.2]:80")));
}

#[test]
fn ipv4_mapped_rules_match_only_ipv4_mapped_addresses() {
    let allowed = list(&["::ffff:10.0.0.0/104"]);
    assert!(allowed.allows(&addr("[::ffff:10.0.0.1]:80")));
    assert!(!allowed.allows(&addr("10.0.0.1:80")));
}

#[test]
fn a_list_allows_what_any_of_its_rules_allows() {
    let allowed = list(&["10.0.0.1:5432", "192.168.0.0/16", "[::1]:8080"]);
    assert!(allowed.allows(&addr("10.0.0.1:5432")));
    assert!(allowed.allows(&addr("192.168.7.7:22")));
    assert!(allowed.allows(&addr("[::1]:8080")));
    assert!(!allowed.allows(&addr("10.0.0.1:22")));
    assert!(!allowed.allows(&addr("[::1]:22")));
    assert!(!allowed.allows(&addr("8.8.8.8:53")));
}

#[test]
fn bare_addresses_become_single_address_networks_in_entry_order() {
    let allowed = list(&["10.0.0.1", "[::1]:8080", "fd00::/8"]);
    assert_eq!(
        allowed.rules(),
        [
            NetRule::Network("10.0.0.1/32".parse().unwrap()),
            NetRule::AddressPort("::1".parse().unwrap(), 8080),
            NetRule::Network("fd00::/8".parse().unwrap()),
        ]
    );
}

#[test]
fn repeated_entries_give_one_rule() {
    // `::1:80` is the IPv6 address ::1:80, so it is a third rule.
    let allowed = list(&["10.0.0.1", "10.0.0.1:", "[::1]:80", "::1:80", "[::1]:80"]);
    assert_eq!(allowed.rules().len(), 3, "{:?}", allowed.rules());
}

#[test]
fn empty_list_denies_everything() {
    let allowed = list(&[]);
    assert!(allowed.is_empty());
    assert!(allowed.rules().is_empty());
    for text in ["127.0.0.1:80", "[::1]:80", "0.0.0.0:0", "10.0.0.1:5432"] {
        assert!(!allowed.allows(&addr(text)), "{text}");
    }
}

#[test]
fn deny_all_and_default_are_the_empty_list() {
    assert_eq!(NetAllowList::deny_all(), NetAllowList::default());
    assert_eq!(NetAllowList::deny_all(), list(&[]));
    assert!(!NetAllowList::default().allows(&addr("127.0.0.1:80")));
}

#[test]
fn from_rules_builds_a_list_without_parsing() {
    let allowed = NetAllowList::from_rules([
        NetRule::AddressPort("10.0.0.1".parse().unwrap(), 80),
        NetRule::Network("fd00::/8".parse().unwrap()),
        NetRule::AddressPort("10.0.0.1".parse().unwrap(), 80),
    ]);
    assert_eq!(allowed.rules().len(), 2);
    assert!(allowed.allows(&addr("10.0.0.1:80")));
    assert!(allowed.allows(&addr("[fd00::9]:1")));

    let collected: NetAllowList = allowed.rules().iter().copied().collect();
    assert_eq!(collected, allowed);
}

#[test]
fn rule_display_shows_the_network_or_socket_address() {
    assert_eq!(
        NetRule::Network("10.0.0.0/8".parse().unwrap()).to_string(),
        "10.0.0.0/8"
    );
    assert_eq!(
        NetRule::AddressPort("::1".parse().unwrap(), 8080).to_string(),
        "[::1]:8080"
    );
}
