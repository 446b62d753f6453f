//! The socket filter: which WASI socket operations a guest may perform.

use std::net::SocketAddr;

use surli_net::NetAllowList;
use wasmtime_wasi::sockets::SocketAddrUse;

/// Whether a guest may use `addr` for `usage`, given its module's
/// `allow_net` list.
///
/// The guest may talk only to addresses the list allows, and bind nothing
/// but the ephemeral local port a client socket needs:
///
/// | `usage` | allowed when |
/// |---|---|
/// | `TcpConnect` | `allowed` allows `addr` |
/// | `UdpSend` (a datagram, or a UDP `connect`) | `allowed` allows `addr` |
/// | `UdpReceive` (a datagram arrives, or a UDP `connect`) | `allowed` allows `addr`; other datagrams are dropped unseen |
/// | `TcpBind`, `UdpBind` | `addr` is `0.0.0.0:0` or `[::]:0`: the bind a connect or first send performs, or the explicit one WASI UDP needs |
/// | `TcpListen`, `TcpAccept` | never: a module serves nothing |
///
/// An empty list allows nothing at all (TCP and UDP are also switched off
/// in that case).
///
/// The original runtime allowed `TcpConnect` only, and refused every bind,
/// which left WASI UDP unusable (a UDP socket must be bound before use).
/// `UdpReceive` is allowed because WASI checks it for a UDP `connect` as
/// well as for each datagram, and replies from an allowed peer are the
/// point of sending to it.
pub fn socket_allowed(usage: SocketAddrUse, addr: &SocketAddr, allowed: &NetAllowList) -> bool {
    if allowed.is_empty() {
        return false;
    }
    match usage {
        SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
            allowed.allows(addr)
        }
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
            addr.ip().is_unspecified() && addr.port() == 0
        }
        SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
    }
}
