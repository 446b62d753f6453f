//! The outbound network allow list of a Surrealism module.
//!
//! A module's `surrealism.toml` lists, under `capabilities.allow_net`, the
//! addresses its WASI sockets may connect to. This crate reads those entries
//! ([`parse_entries`]), resolves the host names among them once, when the
//! module loads ([`NetAllowList::resolve`]), and then answers the one
//! question the socket filter asks on every connect: may the guest reach this
//! [`SocketAddr`](std::net::SocketAddr)? ([`NetAllowList::allows`]).
//!
//! There are no wildcards and no deny rules: an address is allowed when some
//! entry allows it, and an empty list allows nothing.
//!
//! # Entries
//!
//! Each entry is tried as a network, then as a bare address, then as
//! `host[:port]`:
//!
//! | Entry                   | Example                        | Read as                       | Allows                                            |
//! |-------------------------|--------------------------------|-------------------------------|---------------------------------------------------|
//! | CIDR network            | `10.0.0.0/8`, `fd00::/8`       | [`NetEntry::Network`]         | every address in the network, any port            |
//! | IP address              | `10.0.0.1`, `::1`              | [`NetEntry::Address`]         | that address, any port                            |
//! | IPv4 address and port   | `10.0.0.1:5432`                | [`NetEntry::AddressPort`]     | that address and port only                        |
//! | IPv6 address, bracketed | `[::1]`                        | [`NetEntry::Address`]         | that address, any port                            |
//! | IPv6 address and port   | `[::1]:8080`                   | [`NetEntry::AddressPort`]     | that address and port only                        |
//! | host name               | `db.internal`                  | [`NetEntry::Host`]            | every address it resolves to at load, any port    |
//! | host name and port      | `db.internal:5432`             | [`NetEntry::Host`]            | every address it resolves to at load, that port   |
//! | empty port              | `10.0.0.1:`, `[::1]:`, `db:`   | as if the `:` were not there  | as without the `:`                                |
//!
//! A port is a decimal number from 0 to 65535. A host name is made of labels
//! of 1 to 63 ASCII letters, digits, `-` and `_`, joined by `.`, at most 253
//! characters, optionally ending in `.`; it is read without regard to case
//! and kept in lower case. An IPv6 address with a port needs brackets, and
//! `::1:8080` is the IPv6 address `::1:8080`, not `::1` port 8080.
//!
//! Refused, each with an error that names the entry and says what to write
//! instead ([`NetError`]): an empty entry; whitespace or control characters;
//! a scheme (`https://example.com`); user information (`user@example.com`);
//! a path, query or fragment (`example.com/api`, `?`, `#`); a network with a
//! bad prefix (`10.0.0.0/33`, `[fd00::]/8`); a bad port (`example.com:99999`,
//! `example.com:http`); a colon with no host before it (`:80`); a bracket
//! that does not hold an IPv6 address (`[10.0.0.1]`, `[fe80::1%eth0]`); an
//! unbracketed IPv6 address with a port (`1:2:3:4:5:6:7:8:80`); a host that
//! ends in a number but is not dotted-decimal IPv4 (`127.1`, `0x7f000001`,
//! `010.0.0.1`); a non-ASCII host name (write its punycode `xn--` form); and
//! any other character a host name cannot hold.
//!
//! # Matching
//!
//! Addresses compare exactly, with [`ipnet::IpNet::contains`] for networks
//! and equality otherwise, as the original did. IPv4 and IPv6 are separate:
//! the IPv4-mapped `::ffff:10.0.0.1` is an IPv6 address, so `10.0.0.0/8`
//! does not allow it and `::ffff:10.0.0.0/104` does. (WASI sockets refuse to
//! connect an IPv6 socket to an IPv4-mapped address anyway, so a guest reaches
//! IPv4 hosts through IPv4 sockets.)
//!
//! # Quirks of the original, kept and fixed
//!
//! This crate replaces the `allow_net` handling of surrealism-runtime 0.3.1,
//! which read each entry that was neither a network nor an address as the
//! authority of the URL `http://{entry}`.
//!
//! Kept, because module lists rely on them:
//!
//! - A host name written without a port allows **any port** of every address
//!   it resolves to (it is looked up with port 80, which does not matter).
//! - Host names are resolved **once, at load**. A later DNS change does not
//!   reach a loaded module, and a name that does not resolve fails the load.
//! - An **empty port** (`host:`, `10.0.0.1:`, `[::1]:`) means any port.
//! - Networks and bare addresses are tried before `host[:port]`, so
//!   `::1:8080` keeps meaning the IPv6 address it is.
//!
//! Fixed:
//!
//! - A **scheme** (`http://example.com`) is refused with an error saying to
//!   write `example.com` or `example.com:80`; the original took `http` as the
//!   host name and failed with a baffling DNS error.
//! - A **path, query, fragment or user information** (`example.com/api`) is
//!   refused; the original silently dropped it. So is whitespace, which it
//!   silently stripped.
//! - A host that **ends in a number** (`127.1`, `010.0.0.1`) is refused; the
//!   original's URL parser silently read it as IPv4 shorthand (`010` as
//!   octal 8).
//! - **DNS never blocks a tokio worker**: [`SystemResolver`] looks names up
//!   on tokio's blocking pool, where the original blocked whichever thread
//!   loaded the module. Outside a tokio runtime, or for a caller that blocks
//!   anyway ([`Resolver::resolve_blocking`]), it looks up on the calling
//!   thread.
//! - **Errors name the entry** and its position in the list, and say how to
//!   fix it.
//!
//! # Example
//!
//! ```
//! use surli_net::{NetEntry, parse_entries};
//!
//! let entries = parse_entries(&["10.0.0.0/8".to_owned(), "db.internal:5432".to_owned()])?;
//! assert_eq!(entries[0], NetEntry::Network("10.0.0.0/8".parse()?));
//! assert_eq!(
//!     entries[1],
//!     NetEntry::Host { name: "db.internal".to_owned(), port: Some(5432) },
//! );
//!
//! let error = parse_entries(&["https://example.com".to_owned()]).unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "capabilities.allow_net[0]: allow_net entry `https://example.com` has a scheme; \
//!      write the host alone, as `example.com` or `example.com:443`",
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Resolving, here with a [`Resolver`] that knows one name:
//!
//! ```
//! use std::io;
//! use std::net::SocketAddr;
//!
//! use surli_net::{NetAllowList, Resolver, async_trait, parse_entries};
//!
//! struct OneHost;
//!
//! #[async_trait]
//! impl Resolver for OneHost {
//!     async fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
//!         match host {
//!             "db.internal" => Ok(vec![SocketAddr::from(([10, 1, 2, 3], port))]),
//!             _ => Err(io::Error::new(io::ErrorKind::NotFound, "unknown host")),
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let entries = parse_entries(&["db.internal:5432".to_owned(), "::1".to_owned()])?;
//! let allowed = NetAllowList::resolve(&entries, &OneHost).await?;
//!
//! assert!(allowed.allows(&"10.1.2.3:5432".parse()?));
//! assert!(!allowed.allows(&"10.1.2.3:22".parse()?));
//! assert!(allowed.allows(&"[::1]:22".parse()?));
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod destination;
mod entry;
mod error;
mod resolve;
mod rule;

pub use destination::{NamedHost, Refusal, host_ip};
pub use entry::{NetEntry, parse_entries, parse_entry};
pub use error::NetError;
pub use resolve::{Resolver, SystemResolver};
pub use rule::{NetAllowList, NetRule};

/// The attribute [`Resolver`] implementations need, re-exported so that they
/// use the same version as the trait.
pub use async_trait::async_trait;
