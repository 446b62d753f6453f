//! `allow_net` resolved once, at load, into address rules; 0.6.5's types.
//!
//! Entries are parsed by surli (`surli::net`), which reads what the
//! original reads (CIDR, address, `host[:port]`) and refuses with a clear
//! error what the original misread (a scheme or path, a host ending in a
//! number). Host names are looked up here, on the calling thread, as in
//! 0.6.5; call it where blocking is fine.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use async_trait::async_trait;
use ipnet::IpNet;
use surli::net::{NetAllowList, NetRule, Resolver, parse_entries};

/// One rule an outbound address must match.
#[derive(Debug, Clone)]
pub enum ResolvedNetAllow {
    /// Any port on an address in this network.
    Net(IpNet),
    /// This port on this address.
    IpPort(IpAddr, u16),
}

impl ResolvedNetAllow {
    /// Whether a connection to `addr` is allowed by this rule.
    pub fn matches_socket_addr(&self, addr: &SocketAddr) -> bool {
        match self {
            Self::Net(net) => net.contains(&addr.ip()),
            Self::IpPort(ip, port) => addr.ip() == *ip && addr.port() == *port,
        }
    }
}

/// Looks host names up on the calling thread.
struct OnThisThread;

#[async_trait]
impl Resolver for OnThisThread {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        (host, port).to_socket_addrs().map(Iterator::collect)
    }
}

/// Parses and resolves `allow_net` entries: networks and addresses as
/// written, host names looked up now (with their port, or any port).
///
/// # Errors
///
/// The first entry that does not parse or whose host does not resolve,
/// named with its position.
pub fn resolve_allow_net(entries: &[String]) -> anyhow::Result<Arc<Vec<ResolvedNetAllow>>> {
    let parsed = parse_entries(entries)?;
    // The resolver never waits on anything but the look-up itself, so the
    // future is ready the first time it is polled.
    let list = futures_executor::block_on(NetAllowList::resolve(&parsed, &OnThisThread))?;
    Ok(Arc::new(list.rules().iter().map(from_rule).collect()))
}

fn from_rule(rule: &NetRule) -> ResolvedNetAllow {
    match rule {
        NetRule::Network(net) => ResolvedNetAllow::Net(*net),
        NetRule::AddressPort(ip, port) => ResolvedNetAllow::IpPort(*ip, *port),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn resolve(entries: &[&str]) -> Vec<ResolvedNetAllow> {
        let entries: Vec<String> = entries.iter().map(|e| (*e).to_owned()).collect();
        resolve_allow_net(&entries).unwrap().to_vec()
    }

    #[test]
    fn networks_addresses_and_ports_match_as_in_the_original() {
        let rules = resolve(&["10.0.0.0/8", "192.168.1.5", "127.0.0.1:8080"]);
        let allowed = |addr: &str| {
            let addr: SocketAddr = addr.parse().unwrap();
            rules.iter().any(|r| r.matches_socket_addr(&addr))
        };
        assert!(allowed("10.1.2.3:22"));
        assert!(allowed("192.168.1.5:1"));
        assert!(!allowed("192.168.1.6:1"));
        assert!(allowed("127.0.0.1:8080"));
        assert!(!allowed("127.0.0.1:8081"));
    }

    #[test]
    fn a_host_name_resolves_on_the_calling_thread() {
        let rules = resolve(&["localhost:9000"]);
        assert!(!rules.is_empty());
        assert!(
            rules
                .iter()
                .all(|r| matches!(r, ResolvedNetAllow::IpPort(ip, 9000) if ip.is_loopback()))
        );
    }

    #[test]
    fn a_bad_entry_is_an_error_naming_it() {
        let error = resolve_allow_net(&["http://example.com/path".to_owned()]).unwrap_err();
        assert!(error.to_string().contains("example.com"), "{error}");
    }
}
