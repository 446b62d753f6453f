//! Reading `allow_net` entries, before any DNS.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

use crate::error::NetError;
use crate::rule::NetRule;

/// DNS limits from RFC 1035, counted without a final `.`.
const MAX_HOST_NAME_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;

/// Shown when an entry is too mangled to suggest a fix built from its own
/// text.
const GENERIC_SUGGESTION: &str = "`example.com` or `example.com:80`";

/// One `allow_net` entry, read but not yet resolved.
///
/// [`Display`](fmt::Display) writes the entry back in a form that
/// [`parse_entry`] reads to the same value: IPv6 addresses with a port in
/// brackets, host names in lower case, an empty port left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NetEntry {
    /// A CIDR network such as `10.0.0.0/8` or `fd00::/8`: every address in it,
    /// any port.
    Network(IpNet),
    /// A bare address such as `10.0.0.1`, `::1` or `[::1]`: that address, any
    /// port.
    Address(IpAddr),
    /// An address with a port such as `10.0.0.1:5432` or `[::1]:8080`: that
    /// address and port only.
    AddressPort(IpAddr, u16),
    /// A host name, resolved when the module loads.
    Host {
        /// The name in lower case, as written otherwise (a final `.` kept).
        name: String,
        /// The port written after the name; `None` allows any port of every
        /// address the name resolves to.
        port: Option<u16>,
    },
}

impl NetEntry {
    /// The rule of an entry that needs no DNS; `None` for a host name.
    pub(crate) fn to_rule(&self) -> Option<NetRule> {
        match self {
            Self::Network(net) => Some(NetRule::Network(*net)),
            Self::Address(ip) => Some(NetRule::Network(IpNet::from(*ip))),
            Self::AddressPort(ip, port) => Some(NetRule::AddressPort(*ip, *port)),
            Self::Host { .. } => None,
        }
    }
}

impl fmt::Display for NetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(net) => net.fmt(f),
            Self::Address(ip) => ip.fmt(f),
            Self::AddressPort(ip, port) => SocketAddr::new(*ip, *port).fmt(f),
            Self::Host { name, port: None } => f.write_str(name),
            Self::Host {
                name,
                port: Some(port),
            } => write!(f, "{name}:{port}"),
        }
    }
}

impl FromStr for NetEntry {
    type Err = NetError;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        parse_entry(entry)
    }
}

/// Reads one `allow_net` entry.
///
/// Tries, in this order: a CIDR network, a bare IP address, then
/// `host[:port]` where the host is an IPv4 address, a bracketed IPv6 address
/// or a host name. See the [crate documentation](crate) for the grammar and
/// for what is refused.
///
/// # Errors
///
/// A [`NetError`] naming the entry and saying how to write it instead.
pub fn parse_entry(entry: &str) -> Result<NetEntry, NetError> {
    if entry.is_empty() {
        return Err(NetError::Empty);
    }
    // The original tried these two parsers first, so an entry both can read
    // (`::1:8080` is an IPv6 address, not `::1` port 8080) keeps its meaning.
    if let Ok(net) = entry.parse::<IpNet>() {
        return Ok(NetEntry::Network(net));
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(NetEntry::Address(ip));
    }
    refuse_url_parts(entry)?;
    parse_authority(entry)
}

/// Reads a whole `allow_net` list, in order.
///
/// # Errors
///
/// The first entry that fails, wrapped in [`NetError::InList`] with its
/// position.
pub fn parse_entries(entries: &[String]) -> Result<Vec<NetEntry>, NetError> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(entry).map_err(|error| error.in_list(index)))
        .collect()
}

/// Refuses what the original silently dropped or mangled when it read the
/// entry as the authority of `http://{entry}`: a URL parser strips
/// whitespace, takes `http` of `http://x` as the host, and drops user
/// information, paths, queries and fragments.
fn refuse_url_parts(entry: &str) -> Result<(), NetError> {
    if entry
        .chars()
        .any(|ch| ch.is_whitespace() || ch.is_control())
    {
        return Err(NetError::Whitespace {
            entry: entry.to_owned(),
        });
    }
    if let Some((scheme, rest)) = entry.split_once("://")
        && looks_like_scheme(scheme)
    {
        return Err(NetError::Scheme {
            entry: entry.to_owned(),
            suggestion: suggest_for_scheme(scheme, rest),
        });
    }

    let authority_end = entry.find(['/', '?', '#']).unwrap_or(entry.len());
    let authority = &entry[..authority_end];
    if let Some((_, host)) = authority.rsplit_once('@') {
        return Err(NetError::UserInfo {
            entry: entry.to_owned(),
            suggestion: suggest_authority(host),
        });
    }

    let Some(found) = entry[authority_end..].chars().next() else {
        return Ok(());
    };
    let entry_owned = entry.to_owned();
    let suggestion = suggest_authority(authority);
    Err(match found {
        '/' if is_ip_literal(authority) => NetError::InvalidNetwork { entry: entry_owned },
        '/' => NetError::Path {
            entry: entry_owned,
            suggestion,
        },
        '?' => NetError::Query {
            entry: entry_owned,
            suggestion,
        },
        _ => NetError::Fragment {
            entry: entry_owned,
            suggestion,
        },
    })
}

/// RFC 3986: a letter, then letters, digits, `+`, `-` or `.`.
fn looks_like_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|ch| ch.is_ascii_alphabetic())
        && chars.all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '+' | '-' | '.'))
}

/// An address that, followed by `/`, can only have been meant as a network.
fn is_ip_literal(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok()
        || text
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .is_some_and(|inside| inside.parse::<Ipv6Addr>().is_ok())
}

/// What to write instead of a URL: its authority, with the scheme's usual
/// port offered when none was written, since a bare host allows every port.
fn suggest_for_scheme(scheme: &str, rest: &str) -> String {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() || has_port(host) {
        return suggest_authority(host);
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    };
    match default_port {
        Some(port) => format!("`{host}` or `{host}:{port}`"),
        None => format!("`{host}`"),
    }
}

fn suggest_authority(authority: &str) -> String {
    if authority.is_empty() {
        GENERIC_SUGGESTION.to_owned()
    } else {
        format!("`{authority}`")
    }
}

fn has_port(authority: &str) -> bool {
    let after_host = match authority.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or("", |(_, after)| after),
        None => authority,
    };
    after_host
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty())
}

/// Reads `host[:port]` once nothing URL-like is left in the entry.
fn parse_authority(entry: &str) -> Result<NetEntry, NetError> {
    if let Some(rest) = entry.strip_prefix('[') {
        return parse_bracketed(entry, rest);
    }

    let (host, port_text) = match entry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (entry, None),
    };
    if host.contains(':') {
        // Only text IPv6 could be made of gets the bracket advice; for
        // `example.com:80:90` it would mislead.
        let could_be_ipv6 = host
            .chars()
            .all(|ch| ch.is_ascii_hexdigit() || matches!(ch, ':' | '.'));
        return Err(if could_be_ipv6 {
            NetError::UnbracketedIpv6 {
                entry: entry.to_owned(),
                suggestion: suggest_brackets(host, port_text),
            }
        } else {
            NetError::HostNameChar {
                entry: entry.to_owned(),
                ch: ':',
            }
        });
    }
    if host.is_empty() {
        return Err(NetError::MissingHost {
            entry: entry.to_owned(),
        });
    }
    let port = match port_text {
        Some(text) => parse_port(entry, text)?,
        None => None,
    };

    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(with_port(IpAddr::V4(ip), port));
    }
    let name = parse_host_name(entry, host)?;
    Ok(NetEntry::Host { name, port })
}

/// `[v6]`, `[v6]:` or `[v6]:port`; `rest` follows the `[`.
fn parse_bracketed(entry: &str, rest: &str) -> Result<NetEntry, NetError> {
    let invalid = || NetError::InvalidBracketedIpv6 {
        entry: entry.to_owned(),
    };
    let (inside, after) = rest.split_once(']').ok_or_else(invalid)?;
    let ip = inside.parse::<Ipv6Addr>().map_err(|_| invalid())?;
    let port = if after.is_empty() {
        None
    } else {
        let text = after.strip_prefix(':').ok_or_else(invalid)?;
        parse_port(entry, text)?
    };
    Ok(with_port(IpAddr::V6(ip), port))
}

fn with_port(ip: IpAddr, port: Option<u16>) -> NetEntry {
    match port {
        Some(port) => NetEntry::AddressPort(ip, port),
        None => NetEntry::Address(ip),
    }
}

/// An empty port means any port: the original read `host:` that way, and
/// lists in the wild may rely on it.
fn parse_port(entry: &str, text: &str) -> Result<Option<u16>, NetError> {
    if text.is_empty() {
        return Ok(None);
    }
    // `u16::from_str` alone would also take `+80`.
    if text.bytes().all(|byte| byte.is_ascii_digit())
        && let Ok(port) = text.parse::<u16>()
    {
        return Ok(Some(port));
    }
    Err(NetError::InvalidPort {
        entry: entry.to_owned(),
        port: text.to_owned(),
    })
}

fn suggest_brackets(host: &str, port_text: Option<&str>) -> String {
    let port = port_text.and_then(|text| {
        text.bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| text.parse::<u16>().ok())
            .flatten()
    });
    match (host.parse::<Ipv6Addr>(), port) {
        (Ok(ip), Some(port)) => format!("`{}`", SocketAddr::new(IpAddr::V6(ip), port)),
        _ => "`::1` for the address alone or `[::1]:8080` with a port".to_owned(),
    }
}

/// Checks a host name and returns it in lower case.
fn parse_host_name(entry: &str, host: &str) -> Result<String, NetError> {
    if !host.is_ascii() {
        return Err(NetError::NonAscii {
            entry: entry.to_owned(),
            host: host.to_owned(),
        });
    }
    if let Some(ch) = host
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.')))
    {
        return Err(NetError::HostNameChar {
            entry: entry.to_owned(),
            ch,
        });
    }

    // A final `.` marks a fully qualified name; resolvers accept it and so
    // did the original.
    let body = host.strip_suffix('.').unwrap_or(host);
    if body.len() > MAX_HOST_NAME_LEN {
        return Err(NetError::HostNameTooLong {
            entry: entry.to_owned(),
            len: body.len(),
        });
    }
    for label in body.split('.') {
        if label.is_empty() {
            return Err(NetError::EmptyLabel {
                entry: entry.to_owned(),
            });
        }
        if label.len() > MAX_LABEL_LEN {
            return Err(NetError::LabelTooLong {
                entry: entry.to_owned(),
                label: label.to_owned(),
            });
        }
    }

    // A URL parser reads a host ending in a number as IPv4 shorthand (`127.1`
    // is 127.0.0.1, `010.0.0.1` is 8.0.0.1), which is how the original read
    // it; DNS would read it as a name. Neither reading is safe to guess.
    if body.rsplit('.').next().is_some_and(is_ipv4_number) {
        return Err(NetError::InvalidIpv4 {
            entry: entry.to_owned(),
            host: host.to_owned(),
        });
    }
    Ok(host.to_ascii_lowercase())
}

/// The WHATWG URL standard's "ends in a number" test for one label.
fn is_ipv4_number(label: &str) -> bool {
    if let Some(hex) = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        return hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    }
    !label.is_empty() && label.bytes().all(|byte| byte.is_ascii_digit())
}
