//! Destinations named by host and port, as an HTTP client on the host
//! checks them for a guest.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use surli_net::{NetAllowList, Refusal, Resolver, async_trait, parse_entries};

/// Answers from a table that the test may change between look-ups, and
/// records what it was asked.
#[derive(Default)]
struct Dns {
    hosts: Mutex<HashMap<String, Vec<IpAddr>>>,
    asked: Mutex<Vec<String>>,
}

impl Dns {
    fn set(&self, host: &str, ips: &[&str]) {
        let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
        self.hosts.lock().unwrap().insert(host.to_owned(), ips);
    }
}

#[async_trait]
impl Resolver for Dns {
    async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.asked.lock().unwrap().push(host.to_owned());
        match self.hosts.lock().unwrap().get(host) {
            Some(ips) => Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect()),
            None => Err(io::Error::new(io::ErrorKind::NotFound, "unknown host")),
        }
    }
}

async fn list(dns: &Dns, texts: &[&str]) -> NetAllowList {
    let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    NetAllowList::resolve(&parse_entries(&texts).unwrap(), dns)
        .await
        .unwrap()
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[tokio::test]
async fn addresses_are_checked_against_the_rules_without_a_lookup() {
    let dns = Dns::default();
    let allowed = list(&dns, &["127.0.0.1", "10.0.0.1:8080", "::1"]).await;

    assert_eq!(
        allowed.destinations("127.0.0.1", 9, &dns).await.unwrap(),
        vec![addr("127.0.0.1:9")]
    );
    assert_eq!(
        allowed.destinations("[::1]", 443, &dns).await.unwrap(),
        vec![addr("[::1]:443")]
    );
    assert!(allowed.destinations("10.0.0.1", 8080, &dns).await.is_ok());
    let refused = allowed
        .destinations("10.0.0.1", 80, &dns)
        .await
        .unwrap_err();
    assert!(matches!(refused, Refusal::AddressNotAllowed { addr: a } if a == addr("10.0.0.1:80")));
    assert_eq!(refused.to_string(), "`10.0.0.1:80` is not in allow_net");
    assert!(dns.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_name_must_be_listed_as_written_even_when_its_address_is_allowed() {
    let dns = Dns::default();
    dns.set("api.test", &["10.0.0.7"]);
    dns.set("other.test", &["10.0.0.7"]);
    let allowed = list(&dns, &["10.0.0.0/8", "api.test:443"]).await;
    dns.asked.lock().unwrap().clear();

    // Served from the same address, but not named.
    let refused = allowed
        .destinations("other.test", 443, &dns)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Refusal::NameNotListed { .. }),
        "{refused}"
    );
    // Named, but not with this port.
    let refused = allowed
        .destinations("api.test", 80, &dns)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, Refusal::NameNotListed { port: 80, .. }),
        "{refused}"
    );
    // Refused names are never looked up.
    assert!(dns.asked.lock().unwrap().is_empty());

    assert_eq!(
        allowed.destinations("API.test.", 443, &dns).await.unwrap(),
        vec![addr("10.0.0.7:443")]
    );
}

#[tokio::test]
async fn a_name_that_resolves_elsewhere_since_the_load_reaches_nothing_new() {
    let dns = Dns::default();
    dns.set("api.test", &["127.0.0.1"]);
    let allowed = list(&dns, &["api.test"]).await;
    assert!(allowed.allows_name("api.test", 8080));

    // The record now points at the cloud metadata address as well.
    dns.set("api.test", &["169.254.169.254", "127.0.0.1"]);
    assert_eq!(
        allowed.destinations("api.test", 8080, &dns).await.unwrap(),
        vec![addr("127.0.0.1:8080")],
        "only the allowed address is returned"
    );

    dns.set("api.test", &["169.254.169.254"]);
    let refused = allowed
        .destinations("api.test", 8080, &dns)
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "`api.test` resolves to 169.254.169.254, which allow_net does not allow on port 8080"
    );

    dns.hosts.lock().unwrap().clear();
    let refused = allowed
        .destinations("api.test", 8080, &dns)
        .await
        .unwrap_err();
    assert!(matches!(refused, Refusal::Resolve { .. }), "{refused}");
}

#[tokio::test]
async fn names_can_be_added_by_hand_and_match_any_port_without_one() {
    let dns = Dns::default();
    dns.set("db.test", &["10.1.1.1"]);
    let allowed =
        NetAllowList::from_rules([surli_net::NetRule::Network("10.0.0.0/8".parse().unwrap())])
            .with_name("DB.test", None);
    assert_eq!(allowed.names()[0].name(), "db.test");
    assert_eq!(allowed.names()[0].port(), None);
    assert_eq!(
        allowed.destinations("db.test", 5432, &dns).await.unwrap(),
        vec![addr("10.1.1.1:5432")]
    );
}

#[tokio::test]
async fn an_ipv4_mapped_address_is_checked_as_the_ipv4_host_it_reaches() {
    let dns = Dns::default();
    let allowed = list(&dns, &["::/0", "10.0.0.1"]).await;
    let refused = allowed
        .destinations("[::ffff:169.254.169.254]", 80, &dns)
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "`169.254.169.254:80` is not in allow_net"
    );
    assert_eq!(
        allowed
            .destinations("[::ffff:10.0.0.1]", 80, &dns)
            .await
            .unwrap(),
        vec![addr("10.0.0.1:80")]
    );
    assert!(allowed.destinations("[fd00::1]", 80, &dns).await.is_ok());
}
