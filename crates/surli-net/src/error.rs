//! Why an `allow_net` list was refused.

use std::io;

/// Why an `allow_net` entry, or a whole list, was refused.
///
/// Every message names the entry as the user wrote it and says how to fix it.
/// [`parse_entries`](crate::parse_entries) and
/// [`NetAllowList::resolve`](crate::NetAllowList::resolve) wrap the error of a
/// single entry in [`NetError::InList`], which adds the entry's position.
///
/// Messages carry their cause inline (the I/O error of a failed look-up, the
/// inner error of [`NetError::InList`]) rather than through
/// [`std::error::Error::source`], so printing the error alone says
/// everything; the cause is still reachable through the variant's fields.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The entry is the empty string.
    #[error(
        "allow_net entry is empty; write an IP address, a network or a host name, or remove the entry"
    )]
    Empty,

    /// The entry holds whitespace or a control character.
    #[error("allow_net entry `{entry}` contains whitespace or a control character; remove it")]
    Whitespace {
        /// The entry as written.
        entry: String,
    },

    /// The entry starts with a URL scheme such as `http://`.
    #[error("allow_net entry `{entry}` has a scheme; write the host alone, as {suggestion}")]
    Scheme {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The entry has user information, as in `user@host`.
    #[error(
        "allow_net entry `{entry}` has user information before `@`; write the host alone, as {suggestion}"
    )]
    UserInfo {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The entry has a path, as in `example.com/api`.
    #[error("allow_net entry `{entry}` has a path; write the host alone, as {suggestion}")]
    Path {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The entry has a query, as in `example.com?x=1`.
    #[error(
        "allow_net entry `{entry}` has a query after `?`; write the host alone, as {suggestion}"
    )]
    Query {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The entry has a fragment, as in `example.com#top`.
    #[error(
        "allow_net entry `{entry}` has a fragment after `#`; write the host alone, as {suggestion}"
    )]
    Fragment {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The entry is an IP address followed by `/` and something that is not
    /// a valid prefix length.
    #[error(
        "allow_net entry `{entry}` is not a valid network; write an address without brackets, a `/` \
         and a prefix length of at most 32 for IPv4 or 128 for IPv6, as `10.0.0.0/8` or `fd00::/8` \
         (a network allows every port)"
    )]
    InvalidNetwork {
        /// The entry as written.
        entry: String,
    },

    /// The text after the last `:` is not a port number.
    #[error("port `{port}` in allow_net entry `{entry}` is not a number from 0 to 65535")]
    InvalidPort {
        /// The entry as written.
        entry: String,
        /// The text that stood where the port goes.
        port: String,
    },

    /// The entry has a `:` with nothing before it.
    #[error(
        "allow_net entry `{entry}` has no host before its port; write one, as `example.com:80` or `10.0.0.1:80`"
    )]
    MissingHost {
        /// The entry as written.
        entry: String,
    },

    /// The entry starts with `[` but is not a bracketed IPv6 address with an
    /// optional port.
    #[error(
        "allow_net entry `{entry}` does not hold an IPv6 address in brackets with an optional port; \
         write it as `[::1]` or `[::1]:8080`"
    )]
    InvalidBracketedIpv6 {
        /// The entry as written.
        entry: String,
    },

    /// The entry has more than one `:` yet is not an IPv6 address: most
    /// likely an IPv6 address with a port, which needs brackets.
    #[error(
        "allow_net entry `{entry}` is not an IP address, and an IPv6 address with a port goes in brackets; \
         write it as {suggestion}"
    )]
    UnbracketedIpv6 {
        /// The entry as written.
        entry: String,
        /// What to write instead, already quoted for the message.
        suggestion: String,
    },

    /// The host ends in a number, so URL parsers read it as an IPv4 address
    /// (`127.1`, `0x7f000001`, `010.0.0.1`), but it is not the plain
    /// dotted-decimal form.
    #[error(
        "`{host}` in allow_net entry `{entry}` looks like an IPv4 address but is not one; \
         write four decimal numbers from 0 to 255 without leading zeros, as `10.0.0.1`"
    )]
    InvalidIpv4 {
        /// The entry as written.
        entry: String,
        /// The host part of the entry.
        host: String,
    },

    /// The host name has characters outside ASCII.
    #[error(
        "host name `{host}` in allow_net entry `{entry}` is not ASCII; write its punycode form, \
         which starts with `xn--` (`bücher.example` is `xn--bcher-kva.example`)"
    )]
    NonAscii {
        /// The entry as written.
        entry: String,
        /// The host part of the entry.
        host: String,
    },

    /// The host name has a character a host name cannot hold.
    #[error(
        "host name in allow_net entry `{entry}` has the character `{ch}`; \
         a host name holds only ASCII letters, digits, `-`, `_` and `.`"
    )]
    HostNameChar {
        /// The entry as written.
        entry: String,
        /// The first offending character.
        ch: char,
    },

    /// The host name has an empty label: it starts with `.`, holds `..`, or
    /// is only `.`.
    #[error("host name in allow_net entry `{entry}` has an empty label; remove the extra `.`")]
    EmptyLabel {
        /// The entry as written.
        entry: String,
    },

    /// A label of the host name is longer than DNS allows.
    #[error(
        "label `{label}` in allow_net entry `{entry}` is longer than the 63 characters DNS allows; check the host name"
    )]
    LabelTooLong {
        /// The entry as written.
        entry: String,
        /// The offending label.
        label: String,
    },

    /// The host name is longer than DNS allows.
    #[error(
        "host name in allow_net entry `{entry}` is {len} characters long, more than the 253 DNS allows; check the host name"
    )]
    HostNameTooLong {
        /// The entry as written.
        entry: String,
        /// The length of the name, without a final `.`.
        len: usize,
    },

    /// Looking up a host name failed.
    #[error("cannot resolve allow_net host `{host}`: {error}")]
    Resolve {
        /// The entry, as [`NetEntry`](crate::NetEntry) displays it.
        entry: String,
        /// The host name that was looked up.
        host: String,
        /// What the resolver reported.
        error: io::Error,
    },

    /// Looking up a host name succeeded but gave no address.
    #[error(
        "allow_net host `{host}` resolved to no addresses; check its DNS records or write an IP address instead"
    )]
    NoAddresses {
        /// The entry, as [`NetEntry`](crate::NetEntry) displays it.
        entry: String,
        /// The host name that was looked up.
        host: String,
    },

    /// An entry of a list failed; the message shows where, as
    /// `capabilities.allow_net[2]` for the third entry.
    #[error("capabilities.allow_net[{index}]: {error}")]
    InList {
        /// The position of the entry in the list, from 0.
        index: usize,
        /// Why that entry failed.
        error: Box<NetError>,
    },
}

impl NetError {
    /// The entry that failed, as written (for parse errors) or as
    /// [`NetEntry`](crate::NetEntry) displays it (for look-up errors), looking
    /// through [`NetError::InList`].
    #[must_use]
    pub fn entry(&self) -> &str {
        match self {
            Self::Empty => "",
            Self::Whitespace { entry }
            | Self::Scheme { entry, .. }
            | Self::UserInfo { entry, .. }
            | Self::Path { entry, .. }
            | Self::Query { entry, .. }
            | Self::Fragment { entry, .. }
            | Self::InvalidNetwork { entry }
            | Self::InvalidPort { entry, .. }
            | Self::MissingHost { entry }
            | Self::InvalidBracketedIpv6 { entry }
            | Self::UnbracketedIpv6 { entry, .. }
            | Self::InvalidIpv4 { entry, .. }
            | Self::NonAscii { entry, .. }
            | Self::HostNameChar { entry, .. }
            | Self::EmptyLabel { entry }
            | Self::LabelTooLong { entry, .. }
            | Self::HostNameTooLong { entry, .. }
            | Self::Resolve { entry, .. }
            | Self::NoAddresses { entry, .. } => entry,
            Self::InList { error, .. } => error.entry(),
        }
    }

    /// The position of the failed entry in its list, when the error came from
    /// a whole list.
    #[must_use]
    pub fn index(&self) -> Option<usize> {
        match self {
            Self::InList { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The error of the entry itself, without the position [`NetError::InList`]
    /// adds.
    #[must_use]
    pub fn without_index(&self) -> &NetError {
        match self {
            Self::InList { error, .. } => error.without_index(),
            other => other,
        }
    }

    pub(crate) fn in_list(self, index: usize) -> Self {
        Self::InList {
            index,
            error: Box::new(self),
        }
    }
}
