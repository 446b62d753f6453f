//! Turning host names into addresses, once, when a module loads.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use async_trait::async_trait;
use ipnet::IpNet;

use crate::entry::NetEntry;
use crate::error::NetError;
use crate::rule::{NetAllowList, NetRule};

/// The port looked up for a host name written without one. The rule then
/// allows any port, so the number only has to be one a resolver accepts; it
/// is the one the original used.
const PORT_FOR_PORTLESS_LOOKUP: u16 = 80;

/// Looks host names up.
///
/// [`SystemResolver`] asks the operating system; tests and embedders can
/// supply their own.
#[async_trait]
pub trait Resolver: Send + Sync {
    /// The addresses of `host`. `port` is the port written in the entry, or
    /// 80 when none was; the ports of the returned addresses are ignored.
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;

    /// The same look-up on the calling thread, for a caller that blocks
    /// anyway (a synchronous load): `None` when this resolver cannot, and
    /// the caller awaits [`resolve`](Self::resolve) instead.
    fn resolve_blocking(&self, host: &str, port: u16) -> Option<io::Result<Vec<SocketAddr>>> {
        let _ = (host, port);
        None
    }
}

/// The operating system's resolver (`/etc/hosts`, then DNS, as configured),
/// through [`std::net::ToSocketAddrs`].
///
/// That look-up blocks. Inside a tokio runtime it runs on the blocking
/// pool, so a tokio worker thread never waits on DNS. Outside one, and
/// through [`Resolver::resolve_blocking`] (for a caller that blocks anyway,
/// such as `Runtime::load_blocking`), it runs on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

fn lookup_blocking(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    (host, port).to_socket_addrs().map(Iterator::collect)
}

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return lookup_blocking(host, port);
        };
        let host = host.to_owned();
        runtime
            .spawn_blocking(move || lookup_blocking(&host, port))
            .await
            .map_err(io::Error::other)?
    }

    fn resolve_blocking(&self, host: &str, port: u16) -> Option<io::Result<Vec<SocketAddr>>> {
        Some(lookup_blocking(host, port))
    }
}

impl NetAllowList {
    /// Resolves parsed entries into rules, looking each host name up once.
    ///
    /// Entries without a host name need no look-up; a list of only those
    /// never calls `resolver`. Host names are looked up one after another, in
    /// list order. A host name with a port allows that port on each of its
    /// addresses; without a port, any port.
    ///
    /// # Errors
    ///
    /// The first host name that fails to resolve, or resolves to no address,
    /// fails the whole list: [`NetError::Resolve`] or
    /// [`NetError::NoAddresses`], wrapped in [`NetError::InList`] with the
    /// entry's position.
    pub async fn resolve(entries: &[NetEntry], resolver: &dyn Resolver) -> Result<Self, NetError> {
        let mut list = Self::default();
        for (index, entry) in entries.iter().enumerate() {
            let NetEntry::Host { name, port } = entry else {
                list.extend(entry.to_rule());
                continue;
            };
            let ips = lookup(resolver, entry, name, *port)
                .await
                .map_err(|error| error.in_list(index))?;
            list.add_name(name.clone(), *port);
            list.extend(ips.into_iter().map(|ip| match port {
                Some(port) => NetRule::AddressPort(ip, *port),
                None => NetRule::Network(IpNet::from(ip)),
            }));
        }
        Ok(list)
    }
}

async fn lookup(
    resolver: &dyn Resolver,
    entry: &NetEntry,
    name: &str,
    port: Option<u16>,
) -> Result<Vec<IpAddr>, NetError> {
    let addrs = resolver
        .resolve(name, port.unwrap_or(PORT_FOR_PORTLESS_LOOKUP))
        .await
        .map_err(|error| NetError::Resolve {
            entry: entry.to_string(),
            host: name.to_owned(),
            error,
        })?;
    if addrs.is_empty() {
        return Err(NetError::NoAddresses {
            entry: entry.to_string(),
            host: name.to_owned(),
        });
    }
    Ok(addrs.iter().map(SocketAddr::ip).collect())
}
