//! Host names resolved through a `Resolver`, once, into rules.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use surli_net::{
    NetAllowList, NetEntry, NetError, NetRule, Resolver, SystemResolver, async_trait, parse_entries,
};

/// For lists that must need no look-up.
pub(crate) struct NoDns;

#[async_trait]
impl Resolver for NoDns {
    async fn resolve(&self, host: &str, _port: u16) -> io::Result<Vec<SocketAddr>> {
        panic!("looked up `{host}` although the list has no host name")
    }
}

/// Answers from a table and records what it was asked.
#[derive(Default)]
struct FakeDns {
    hosts: HashMap<String, Vec<IpAddr>>,
    asked: Mutex<Vec<(String, u16)>>,
}

impl FakeDns {
    fn with(mut self, host: &str, ips: &[&str]) -> Self {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.hosts.insert(host.to_owned(), ips);
        self
    }

    fn asked(&self) -> Vec<(String, u16)> {
        self.asked.lock().unwrap().clone()
    }
}

#[async_trait]
impl Resolver for FakeDns {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.asked.lock().unwrap().push((host.to_owned(), port));
        match self.hosts.get(host) {
            Some(ips) => Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect()),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no such host in the fake table",
            )),
        }
    }
}

fn entries(texts: &[&str]) -> Vec<NetEntry> {
    let texts: Vec<String> = texts.iter().map(|text| (*text).to_owned()).collect();
    parse_entries(&texts).unwrap()
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn db_dns() -> FakeDns {
    FakeDns::default().with("db.internal", &["10.1.0.1", "fd00::db"])
}

#[tokio::test]
async fn host_without_port_allows_each_resolved_address_on_any_port() {
    let dns = db_dns();
    let allowed = NetAllowList::resolve(&entries(&["db.internal"]), &dns)
        .await
        .unwrap();

    assert_eq!(
        allowed.rules(),
        [
            NetRule::Network("10.1.0.1/32".parse().unwrap()),
            NetRule::Network("fd00::db/128".parse().unwrap()),
        ]
    );
    assert!(allowed.allows(&addr("10.1.0.1:5432")));
    assert!(allowed.allows(&addr("[fd00::db]:22")));
    assert!(!allowed.allows(&addr("10.1.0.2:5432")));
}

#[tokio::test]
async fn host_without_port_is_looked_up_with_port_80() {
    let dns = db_dns();
    NetAllowList::resolve(&entries(&["db.internal", "db.internal:"]), &dns)
        .await
        .unwrap();
    assert_eq!(
        dns.asked(),
        [
            ("db.internal".to_owned(), 80),
            ("db.internal".to_owned(), 80)
        ]
    );
}

#[tokio::test]
async fn host_with_port_allows_only_that_port_of_each_resolved_address() {
    let dns = db_dns();
    let allowed = NetAllowList::resolve(&entries(&["db.internal:5432"]), &dns)
        .await
        .unwrap();

    assert_eq!(dns.asked(), [("db.internal".to_owned(), 5432)]);
    assert_eq!(
        allowed.rules(),
        [
            NetRule::AddressPort("10.1.0.1".parse().unwrap(), 5432),
            NetRule::AddressPort("fd00::db".parse().unwrap(), 5432),
        ]
    );
    assert!(allowed.allows(&addr("10.1.0.1:5432")));
    assert!(allowed.allows(&addr("[fd00::db]:5432")));
    assert!(!allowed.allows(&addr("10.1.0.1:5433")));
}

#[tokio::test]
async fn host_is_looked_up_in_lower_case() {
    let dns = db_dns();
    let allowed = NetAllowList::resolve(&entries(&["DB.Internal:1"]), &dns)
        .await
        .unwrap();
    assert_eq!(dns.asked(), [("db.internal".to_owned(), 1)]);
    assert!(allowed.allows(&addr("10.1.0.1:1")));
}

#[tokio::test]
async fn mixed_list_keeps_entry_order_and_looks_up_only_host_names() {
    let dns = db_dns().with("cache.internal", &["10.2.0.1"]);
    let allowed = NetAllowList::resolve(
        &entries(&[
            "192.168.0.0/16",
            "cache.internal:6379",
            "::1",
            "db.internal",
        ]),
        &dns,
    )
    .await
    .unwrap();

    assert_eq!(
        dns.asked(),
        [
            ("cache.internal".to_owned(), 6379),
            ("db.internal".to_owned(), 80)
        ]
    );
    assert_eq!(
        allowed.rules(),
        [
            NetRule::Network("192.168.0.0/16".parse().unwrap()),
            NetRule::AddressPort("10.2.0.1".parse().unwrap(), 6379),
            NetRule::Network("::1/128".parse().unwrap()),
            NetRule::Network("10.1.0.1/32".parse().unwrap()),
            NetRule::Network("fd00::db/128".parse().unwrap()),
        ]
    );
}

#[tokio::test]
async fn list_without_host_names_never_calls_the_resolver() {
    let dns = FakeDns::default();
    let allowed = NetAllowList::resolve(&entries(&["10.0.0.0/8", "[::1]:80"]), &dns)
        .await
        .unwrap();
    assert!(dns.asked().is_empty());
    assert_eq!(allowed.rules().len(), 2);
}

#[tokio::test]
async fn a_host_that_fails_to_resolve_fails_the_whole_list_and_is_named() {
    let dns = db_dns();
    let error = NetAllowList::resolve(
        &entries(&[
            "db.internal",
            "10.0.0.1",
            "nope.invalid:443",
            "later.invalid",
        ]),
        &dns,
    )
    .await
    .unwrap_err();

    assert_eq!(error.index(), Some(2));
    assert_eq!(error.entry(), "nope.invalid:443");
    assert!(
        matches!(
            error.without_index(),
            NetError::Resolve { host, error, .. }
                if host == "nope.invalid" && error.kind() == io::ErrorKind::NotFound
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "capabilities.allow_net[2]: cannot resolve allow_net host `nope.invalid`: \
         no such host in the fake table"
    );
    // The first failure ends the load; later names are not looked up.
    assert_eq!(dns.asked().len(), 2);
}

#[tokio::test]
async fn a_host_that_resolves_to_nothing_fails_the_list() {
    let dns = FakeDns::default().with("empty.internal", &[]);
    let error = NetAllowList::resolve(&entries(&["empty.internal"]), &dns)
        .await
        .unwrap_err();

    assert_eq!(error.index(), Some(0));
    assert!(
        matches!(error.without_index(), NetError::NoAddresses { host, .. } if host == "empty.internal"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`empty.internal`"), "{error}");
}

#[tokio::test]
async fn empty_entry_list_resolves_to_deny_all() {
    let allowed = NetAllowList::resolve(&[], &NoDns).await.unwrap();
    assert_eq!(allowed, NetAllowList::deny_all());
    assert!(!allowed.allows(&addr("127.0.0.1:80")));
}

#[test]
fn resolving_is_send_so_a_load_can_run_on_any_worker() {
    fn assert_send<T: Send>(_: &T) {}
    let dns = db_dns();
    let entries = entries(&["db.internal"]);
    let future = NetAllowList::resolve(&entries, &dns);
    assert_send(&future);
}

fn assert_all_loopback(addrs: &[SocketAddr]) {
    assert!(!addrs.is_empty(), "localhost resolved to nothing");
    for addr in addrs {
        assert!(addr.ip().is_loopback(), "{addr} is not a loopback address");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_resolver_resolves_localhost_to_loopback() {
    let addrs = SystemResolver.resolve("localhost", 8080).await.unwrap();
    assert_all_loopback(&addrs);
    assert!(addrs.iter().all(|addr| addr.port() == 8080), "{addrs:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn system_resolver_works_on_a_single_threaded_runtime() {
    let addrs = SystemResolver.resolve("localhost", 80).await.unwrap();
    assert_all_loopback(&addrs);
}

#[tokio::test]
async fn system_resolver_builds_a_list_that_allows_localhost() {
    let allowed = NetAllowList::resolve(&entries(&["localhost:8080"]), &SystemResolver)
        .await
        .unwrap();
    assert!(!allowed.is_empty());
    for rule in allowed.rules() {
        assert!(
            matches!(rule, NetRule::AddressPort(ip, 8080) if ip.is_loopback()),
            "{rule}"
        );
    }
}

#[test]
fn system_resolver_outside_a_tokio_runtime_looks_up_on_the_calling_thread() {
    // No runtime, so no async worker to protect: the first poll does the
    // look-up itself and is ready with the answer.
    let mut future = std::pin::pin!(SystemResolver.resolve("localhost", 80));
    let mut context = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(Ok(addrs)) => assert_all_loopback(&addrs),
        other => panic!("expected the addresses at once, got {other:?}"),
    }
}
