//! The socket filter, use by use and address by address.

use std::net::SocketAddr;

use surli_host::socket_allowed;
use surli_net::{NetAllowList, NetRule};
use wasmtime_wasi::sockets::SocketAddrUse;

const ALL_USES: [SocketAddrUse; 7] = [
    SocketAddrUse::TcpBind,
    SocketAddrUse::TcpListen,
    SocketAddrUse::TcpAccept,
    SocketAddrUse::TcpConnect,
    SocketAddrUse::UdpBind,
    SocketAddrUse::UdpSend,
    SocketAddrUse::UdpReceive,
];

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// `10.0.0.0/8` any port, and `192.168.1.1:5432` only.
fn allow_list() -> NetAllowList {
    NetAllowList::from_rules([
        NetRule::Network("10.0.0.0/8".parse().unwrap()),
        NetRule::AddressPort("192.168.1.1".parse().unwrap(), 5432),
    ])
}

fn is_peer_use(usage: SocketAddrUse) -> bool {
    matches!(
        usage,
        SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive
    )
}

fn is_bind(usage: SocketAddrUse) -> bool {
    matches!(usage, SocketAddrUse::TcpBind | SocketAddrUse::UdpBind)
}

#[test]
fn the_truth_table() {
    let list = allow_list();
    let addresses = [
        // (address, allowed as a peer, is the implicit bind address)
        ("10.1.2.3:80", true, false),
        ("10.255.255.255:1", true, false),
        ("11.0.0.1:80", false, false),
        ("192.168.1.1:5432", true, false),
        ("192.168.1.1:5433", false, false),
        ("[::ffff:10.0.0.1]:80", false, false),
        ("0.0.0.0:0", false, true),
        ("[::]:0", false, true),
        ("0.0.0.0:8080", false, false),
        ("[::]:8080", false, false),
        ("127.0.0.1:0", false, false),
        ("10.0.0.1:0", true, false),
    ];
    for usage in ALL_USES {
        for (text, peer, implicit_bind) in addresses {
            let expected = if is_peer_use(usage) {
                peer
            } else if is_bind(usage) {
                implicit_bind
            } else {
                false
            };
            assert_eq!(
                socket_allowed(usage, &addr(text), &list),
                expected,
                "{usage:?} {text}"
            );
        }
    }
}

#[test]
fn listen_and_accept_are_never_allowed() {
    let list = allow_list();
    for text in ["0.0.0.0:0", "[::]:0", "10.0.0.1:80", "192.168.1.1:5432"] {
        assert!(!socket_allowed(
            SocketAddrUse::TcpListen,
            &addr(text),
            &list
        ));
        assert!(!socket_allowed(
            SocketAddrUse::TcpAccept,
            &addr(text),
            &list
        ));
    }
}

#[test]
fn an_empty_list_allows_nothing_not_even_the_implicit_bind() {
    let empty = NetAllowList::deny_all();
    for usage in ALL_USES {
        for text in ["0.0.0.0:0", "[::]:0", "10.0.0.1:80", "127.0.0.1:80"] {
            assert!(
                !socket_allowed(usage, &addr(text), &empty),
                "{usage:?} {text}"
            );
        }
    }
}

#[test]
fn a_concrete_bind_is_refused_even_to_an_allowed_address() {
    let list = allow_list();
    for usage in [SocketAddrUse::TcpBind, SocketAddrUse::UdpBind] {
        assert!(!socket_allowed(usage, &addr("10.0.0.1:4000"), &list));
        assert!(!socket_allowed(usage, &addr("192.168.1.1:5432"), &list));
    }
}
