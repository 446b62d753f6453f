//! Resolved rules, and the question the socket filter asks of them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// One resolved `allow_net` rule.
///
/// A bare address becomes a network of one address (`/32` or `/128`), so
/// there are only two shapes to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NetRule {
    /// Every address in the network, any port.
    Network(IpNet),
    /// That address and that port only.
    AddressPort(IpAddr, u16),
}

impl NetRule {
    /// Whether this rule lets the guest connect to `addr`.
    ///
    /// Addresses compare as they are: an IPv4 rule never matches an IPv6
    /// address, not even the IPv4-mapped `::ffff:10.0.0.1`, and an IPv6 rule
    /// never matches an IPv4 address. That is what the original did.
    #[must_use]
    pub fn allows(&self, addr: &SocketAddr) -> bool {
        match self {
            Self::Network(net) => net.contains(&addr.ip()),
            Self::AddressPort(ip, port) => addr.ip() == *ip && addr.port() == *port,
        }
    }
}

impl fmt::Display for NetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(net) => net.fmt(f),
            Self::AddressPort(ip, port) => SocketAddr::new(*ip, *port).fmt(f),
        }
    }
}

/// The outbound addresses a module may connect to.
///
/// An address is allowed when any rule allows it; an empty list, which is
/// also the [`Default`], allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetAllowList {
    rules: Vec<NetRule>,
    pub(crate) names: Vec<crate::destination::NamedHost>,
}

impl NetAllowList {
    /// A list that allows no address.
    #[must_use]
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// A list of rules built by hand, for callers that need no parsing or
    /// DNS. Repeated rules are kept once, in the order first seen.
    #[must_use]
    pub fn from_rules(rules: impl IntoIterator<Item = NetRule>) -> Self {
        let mut list = Self::default();
        list.extend(rules);
        list
    }

    /// The rules, in the order of the entries they came from.
    #[must_use]
    pub fn rules(&self) -> &[NetRule] {
        &self.rules
    }

    /// Whether the list allows nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether the guest may connect to `addr`.
    #[must_use]
    pub fn allows(&self, addr: &SocketAddr) -> bool {
        self.rules.iter().any(|rule| rule.allows(addr))
    }

    /// Adds rules not already there; a host name resolving to the same
    /// address twice, or listed twice, should not lengthen every check.
    pub(crate) fn extend(&mut self, rules: impl IntoIterator<Item = NetRule>) {
        for rule in rules {
            if !self.rules.contains(&rule) {
                self.rules.push(rule);
            }
        }
    }
}

impl FromIterator<NetRule> for NetAllowList {
    fn from_iter<I: IntoIterator<Item = NetRule>>(rules: I) -> Self {
        Self::from_rules(rules)
    }
}
