//! Relay URLs: parsed once, normalised, and checked against the plain-websocket rule.
//!
//! `ws://` (no TLS) is allowed only to loopback addresses and `.onion` hosts
//! (Tor already encrypts and authenticates those), unless the user allows
//! plain websockets explicitly: anything else would show the user's
//! subscriptions to every network hop.

use std::fmt;
use std::net::IpAddr;

/// A relay address that passed parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayUrl {
    secure: bool,
    host: String,
    port: u16,
    path: String,
}

/// Why a relay URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `ws://` or `wss://`.
    #[error("relay URL {0:?} must start with wss:// (or ws:// for loopback and .onion)")]
    Scheme(String),
    /// No host, or a host with characters no DNS name or address has.
    #[error("relay URL {0:?} has no valid host")]
    Host(String),
    /// A port that is not a number from 1 to 65535.
    #[error("relay URL {0:?} has an invalid port")]
    Port(String),
    /// `ws://` to a host that is neither loopback nor `.onion`.
    #[error(
        "relay URL {0:?} is plain ws:// to a public host; use wss:// or allow plain websockets"
    )]
    PlainNotAllowed(String),
}

impl RelayUrl {
    /// Parses and normalises (lower-case scheme and host, no default port,
    /// no trailing slash, no fragment or credentials allowed).
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let trimmed = input.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (secure, rest) = if lower.starts_with("wss://") {
            (true, &trimmed[6..])
        } else if lower.starts_with("ws://") {
            (false, &trimmed[5..])
        } else {
            return Err(UrlError::Scheme(input.into()));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') || path.contains('#') {
            return Err(UrlError::Host(input.into()));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| UrlError::Host(input.into()))?;
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| UrlError::Port(input.into()))?,
            None => {
                if secure {
                    443
                } else {
                    80
                }
            }
        };
        let host = host.to_ascii_lowercase();
        let valid_host = !host.is_empty()
            && (host.parse::<IpAddr>().is_ok()
                || host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_'));
        if !valid_host {
            return Err(UrlError::Host(input.into()));
        }
        let path = path.trim_end_matches('/').to_string();
        Ok(Self {
            secure,
            host,
            port,
            path,
        })
    }

    /// Parses and applies the plain-websocket rule.
    pub fn parse_checked(input: &str, allow_plain: bool) -> Result<Self, UrlError> {
        let url = Self::parse(input)?;
        if !url.secure && !allow_plain && !url.is_loopback() && !url.is_onion() {
            return Err(UrlError::PlainNotAllowed(input.into()));
        }
        Ok(url)
    }

    /// True for `wss://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host name or address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (443 / 80 when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True for `localhost`, 127.0.0.0/8 and `::1`.
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host.ends_with(".localhost")
            || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// True for Tor onion services.
    pub fn is_onion(&self) -> bool {
        self.host.ends_with(".onion")
    }

    /// `host:port` as the HTTP `Host` header wants it.
    pub fn authority(&self) -> String {
        let default = if self.secure { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The path and query to request (at least `/`).
    pub fn request_path(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }
}

impl fmt::Display for RelayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}", self.authority(), self.path)
    }
}

fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((host, port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Some((h, Some(p))),
        Some(_) => None,
        None => Some((authority, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let u = RelayUrl::parse("WSS://Relay.Example.COM:443/").unwrap();
        assert_eq!(u.to_string(), "wss://relay.example.com");
        let u = RelayUrl::parse("ws://127.0.0.1:7777/path/").unwrap();
        assert_eq!(u.to_string(), "ws://127.0.0.1:7777/path");
        assert_eq!(u.request_path(), "/path");
        let u = RelayUrl::parse("ws://[::1]:8080").unwrap();
        assert_eq!((u.host(), u.port()), ("::1", 8080));
        assert!(u.is_loopback());
    }

    #[test]
    fn plain_websockets_only_for_loopback_and_onion() {
        assert!(RelayUrl::parse_checked("ws://127.0.0.1:1", false).is_ok());
        assert!(RelayUrl::parse_checked("ws://localhost:1", false).is_ok());
        assert!(RelayUrl::parse_checked("ws://abcdef.onion", false).is_ok());
        assert_eq!(
            RelayUrl::parse_checked("ws://relay.example.com", false),
            Err(UrlError::PlainNotAllowed("ws://relay.example.com".into()))
        );
        assert!(RelayUrl::parse_checked("ws://relay.example.com", true).is_ok());
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "https://x",
            "wss://",
            "wss://a b",
            "wss://x:0",
            "wss://x:99999",
            "wss://u@x",
            "x",
            "wss://x/#f",
        ] {
            assert!(RelayUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
