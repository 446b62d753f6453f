//! Where a request by name may go: the check an HTTP client on the host
//! makes for a guest, which names its destination rather than dialing an
//! address.

use std::io;
use std::net::{IpAddr, SocketAddr};

use crate::resolve::Resolver;
use crate::rule::NetAllowList;

/// A host name an `allow_net` entry names, with the port written after it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamedHost {
    name: String,
    port: Option<u16>,
}

impl NamedHost {
    /// The name as the entry wrote it, in lower case.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The port written after the name; `None` allows any port.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    fn names(&self, host: &str, port: u16) -> bool {
        same_name(&self.name, host) && self.port.is_none_or(|p| p == port)
    }
}

/// Host names compare without regard to case or to one final `.`.
fn same_name(listed: &str, asked: &str) -> bool {
    let trim = |name: &str| name.strip_suffix('.').unwrap_or(name).to_owned();
    trim(listed).eq_ignore_ascii_case(&trim(asked))
}

/// The IP address a URL's host is, if it is one rather than a name: an
/// IPv6 address with or without its brackets, or an IPv4 address.
#[must_use]
pub fn host_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Why a destination named by host and port was refused.
///
/// Each message names the destination and the rule that refused it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The host is a name, and no `allow_net` entry names it with this port
    /// (or without one).
    #[error(
        "`{host}:{port}` is not in allow_net: no entry names `{host}` with port {port} or with no port"
    )]
    NameNotListed {
        /// The host as the request wrote it.
        host: String,
        /// The port the request goes to.
        port: u16,
    },
    /// The host is an IP address that no `allow_net` entry allows with this
    /// port.
    #[error("`{addr}` is not in allow_net")]
    AddressNotAllowed {
        /// The address and port.
        addr: SocketAddr,
    },
    /// The name is listed, but none of the addresses it resolves to now is
    /// one `allow_net` allows (it resolved to others when the module
    /// loaded, or a network entry does not cover them).
    #[error("`{host}` resolves to {}, which allow_net does not allow on port {port}", list(.addrs))]
    ResolvedOutside {
        /// The host as the request wrote it.
        host: String,
        /// The port the request goes to.
        port: u16,
        /// What it resolved to.
        addrs: Vec<IpAddr>,
    },
    /// The name did not resolve.
    #[error("cannot resolve `{host}`: {error}")]
    Resolve {
        /// The host as the request wrote it.
        host: String,
        /// The resolver's error.
        error: io::Error,
    },
}

fn list(addrs: &[IpAddr]) -> String {
    if addrs.is_empty() {
        return "no address".to_owned();
    }
    addrs
        .iter()
        .map(IpAddr::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl NetAllowList {
    /// The host names the list's entries name, with their ports.
    #[must_use]
    pub fn names(&self) -> &[NamedHost] {
        &self.names
    }

    /// This list, also naming `name` (with `port`, or any port when `None`)
    /// for [`destinations`](Self::destinations). The addresses the name
    /// stands for still come from the list's rules; this adds none.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>, port: Option<u16>) -> Self {
        self.add_name(name.into().to_ascii_lowercase(), port);
        self
    }

    pub(crate) fn add_name(&mut self, name: String, port: Option<u16>) {
        let named = NamedHost { name, port };
        if !self.names.contains(&named) {
            self.names.push(named);
        }
    }

    /// Whether some entry names `host` with `port`, or with no port.
    #[must_use]
    pub fn allows_name(&self, host: &str, port: u16) -> bool {
        self.names.iter().any(|named| named.names(host, port))
    }

    /// The addresses a client may connect to for `host` and `port`, where
    /// `host` is an IP address or a name, as a URL's authority holds it
    /// (an IPv6 address with or without its brackets).
    ///
    /// - An **address** must be allowed by the list's rules, as a socket
    ///   connect is; an IPv4-mapped IPv6 address is checked (and returned)
    ///   as the IPv4 address it maps.
    /// - A **name** must be named by an entry as written, with this port or
    ///   none ([`allows_name`](Self::allows_name)): a name that merely
    ///   resolves into an allowed network is refused, so that a shared
    ///   address (a CDN, a virtual host) does not open every name served
    ///   there. The name is then resolved through `resolver`, now (as the
    ///   entry writes it, the form looked up at load), and only
    ///   the addresses the rules allow are returned, in the resolver's
    ///   order: a name that has come to resolve elsewhere since the module
    ///   loaded reaches nothing new. Connect to these addresses, not to the
    ///   name, so that a second look-up cannot differ from the one checked.
    ///
    /// # Errors
    ///
    /// A [`Refusal`] saying which rule refused, or that the name did not
    /// resolve.
    pub async fn destinations(
        &self,
        host: &str,
        port: u16,
        resolver: &dyn Resolver,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        if let Some(ip) = host_ip(host) {
            // An IPv4-mapped IPv6 address reaches the IPv4 host: check (and
            // connect to) that, so `::ffff:10.0.0.1` is not a way past the
            // IPv4 rules under a wide IPv6 one.
            let addr = SocketAddr::new(ip.to_canonical(), port);
            return if self.allows(&addr) {
                Ok(vec![addr])
            } else {
                Err(Refusal::AddressNotAllowed { addr })
            };
        }
        let Some(named) = self.names.iter().find(|named| named.names(host, port)) else {
            return Err(Refusal::NameNotListed {
                host: host.to_owned(),
                port,
            });
        };
        // The name as the entry lists it, as it was looked up at load.
        let resolved =
            resolver
                .resolve(&named.name, port)
                .await
                .map_err(|error| Refusal::Resolve {
                    host: host.to_owned(),
                    error,
                })?;
        let allowed: Vec<SocketAddr> = resolved
            .iter()
            .map(|addr| SocketAddr::new(addr.ip().to_canonical(), port))
            .filter(|addr| self.allows(addr))
            .collect();
        if allowed.is_empty() {
            return Err(Refusal::ResolvedOutside {
                host: host.to_owned(),
                port,
                addrs: resolved.iter().map(SocketAddr::ip).collect(),
            });
        }
        Ok(allowed)
    }
}
