//! `http://` and `https://` URLs, parsed just enough to connect.

use crate::HttpError;

/// A parsed `http(s)://host[:port]/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    secure: bool,
    host: String,
    port: u16,
    path_and_query: String,
}

impl HttpUrl {
    /// Parses an absolute http(s) URL; user info and fragments are refused
    /// or dropped, and the host is lower-cased.
    pub fn parse(input: &str) -> Result<Self, HttpError> {
        let bad = || HttpError::BadUrl(input.chars().take(200).collect());
        let input = input.trim();
        let (secure, rest) = if let Some(r) = input.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = input.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.split('#').next().unwrap_or("");
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        if authority.contains('@') || authority.is_empty() {
            return Err(bad());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (authority, if secure { 443 } else { 80 }),
        };
        if host.is_empty()
            || !host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':')
            })
        {
            return Err(bad());
        }
        let path_and_query = match path {
            "" => "/".to_owned(),
            p if p.starts_with('?') => format!("/{p}"),
            p => p.to_owned(),
        };
        if path_and_query
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Self {
            secure,
            host: host.to_ascii_lowercase(),
            port,
            path_and_query,
        })
    }

    /// Whether it is `https://`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host name or address (no brackets removed from IPv6).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 or 443 when not given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The path and query, starting with `/`.
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The scheme, host and port, without a path (`https://host:443`).
    pub fn origin(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}", self.authority())
    }

    /// The same origin with another path.
    pub fn with_path(&self, path: &str) -> Self {
        Self {
            path_and_query: path.to_owned(),
            ..self.clone()
        }
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.secure { "https" } else { "http" };
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            write!(f, "{scheme}://{}{}", self.host, self.path_and_query)
        } else {
            write!(
                f,
                "{scheme}://{}:{}{}",
                self.host, self.port, self.path_and_query
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let u = HttpUrl::parse("https://Blossom.Example/abc.png?x=1#frag").unwrap();
        assert_eq!(
            (u.host(), u.port(), u.path_and_query()),
            ("blossom.example", 443, "/abc.png?x=1")
        );
        assert_eq!(u.to_string(), "https://blossom.example/abc.png?x=1");
        let u = HttpUrl::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            (u.authority(), u.path_and_query()),
            ("127.0.0.1:8080".to_owned(), "/")
        );
        assert_eq!(u.origin(), "http://127.0.0.1:8080");
        for bad in [
            "ftp://x",
            "https://",
            "https://user@host/",
            "http://h:99999/",
            "http://a b/",
            "http://h/a b",
        ] {
            assert!(HttpUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
