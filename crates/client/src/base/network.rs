//! The profile's network setting: connect directly, or route every
//! connection (relay websockets, NIP-11, NIP-05 lookups, NIP-46) through a
//! SOCKS5 proxy such as Tor, with per-relay stream isolation. Fail closed:
//! with a proxy set there is no direct path, so a dead proxy means no
//! connection at all, never a silent fallback.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use samizdat_net::{ProxyConfig, TransportConfig};
use serde::{Deserialize, Serialize};

/// Tor's usual local SOCKS port.
pub const TOR: &str = "127.0.0.1:9050";

/// Where Tor listens here: the tor service (9050) and Tor Browser (9150).
pub const TOR_PORTS: [&str; 2] = ["127.0.0.1:9050", "127.0.0.1:9150"];

/// The first of `candidates` where a SOCKS5 server answers a greeting
/// (version 5, "no authentication"), each given half a second. Nothing but
/// the greeting is sent: no relay is named.
pub async fn find_socks(candidates: &[&str]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let wait = Duration::from_millis(500);
    for addr in candidates {
        let answered = tokio::time::timeout(wait, async {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
            tcp.write_all(&[5, 1, 0]).await.ok()?;
            let mut reply = [0u8; 2];
            tcp.read_exact(&mut reply).await.ok()?;
            (reply == [5, 0]).then_some(())
        })
        .await;
        if let Ok(Some(())) = answered {
            return Some((*addr).to_owned());
        }
    }
    None
}

/// Where Tor answers on this machine, if it does (see [`TOR_PORTS`]).
pub async fn find_tor() -> Option<String> {
    find_socks(&TOR_PORTS).await
}

/// How this profile reaches the network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkSetting {
    /// A SOCKS5 proxy (`127.0.0.1:9050`, `socks5h://127.0.0.1:9050`);
    /// `None` for direct connections.
    pub proxy: Option<String>,
    /// Share one circuit between relays (off by default: each relay host
    /// gets its own SOCKS credentials, so Tor gives it its own circuit).
    pub no_isolation: bool,
    /// Send profile and list updates to all relays at once (off by
    /// default: copies go out apart in time, so timing does not link them).
    pub no_stagger: bool,
    /// Relays reached directly even with a proxy set (each one set
    /// explicitly: `samizdat network direct URL`). They see the IP address.
    pub direct: Vec<String>,
}

impl NetworkSetting {
    /// Adds `url` (already normalised) to the relays reached directly, or
    /// removes it; listed once at most.
    pub fn set_direct(&mut self, url: &str, direct: bool) {
        self.direct.retain(|d| d != url);
        if direct {
            self.direct.push(url.to_owned());
        }
    }
}

/// A proxy address that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a SOCKS5 proxy address (host:port, e.g. 127.0.0.1:9050)")]
pub struct BadProxy(pub String);

/// Reads `127.0.0.1:9050`, `localhost:9050` or `socks5h://…` (also
/// `socks5://`; the host name of a relay is always sent to the proxy).
pub fn parse_proxy(input: &str) -> Result<SocketAddr, BadProxy> {
    let bare = input
        .trim()
        .trim_start_matches("socks5h://")
        .trim_start_matches("socks5://")
        .trim_end_matches('/');
    bare.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| BadProxy(input.to_owned()))
}

impl NetworkSetting {
    /// The proxy as the transport uses it.
    pub fn proxy_config(&self) -> Result<Option<ProxyConfig>, BadProxy> {
        self.proxy
            .as_deref()
            .map(|p| {
                parse_proxy(p).map(|addr| ProxyConfig {
                    addr,
                    isolate: !self.no_isolation,
                })
            })
            .transpose()
    }

    /// Routes `transport` as this setting says, unless it already has a
    /// proxy (a `--proxy` for one run wins).
    pub fn apply(&self, transport: &mut TransportConfig) -> Result<(), BadProxy> {
        if transport.proxy.is_none() {
            transport.proxy = self.proxy_config()?;
        }
        for d in &self.direct {
            if let Ok(url) = samizdat_net::RelayUrl::parse(d) {
                if !transport.direct.contains(&url.authority()) {
                    transport.direct.push(url.authority());
                }
            }
        }
        Ok(())
    }

    /// A sentence for `samizdat network show`.
    pub fn describe(&self) -> String {
        match &self.proxy {
            None => "direct connections (relays see your IP address)".to_owned(),
            Some(p) => format!(
                "every connection through the SOCKS5 proxy {p}{}; no direct fallback{}",
                if self.no_isolation {
                    ""
                } else {
                    ", one circuit per relay"
                },
                if self.direct.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; reached directly by your choice (they see your IP): {}",
                        self.direct.join(", ")
                    )
                }
            ),
        }
    }
}

/// Whether the proxy answers a TCP connection (before a command starts,
/// to say why nothing will connect instead of failing relay by relay).
pub async fn proxy_answers(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(3), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socks_server_is_found_and_anything_else_is_not() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socks = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socks_addr = socks.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = socks.accept().await {
                let mut greeting = [0u8; 3];
                if tcp.read_exact(&mut greeting).await.is_ok() && greeting[0] == 5 {
                    let _ = tcp.write_all(&[5, 0]).await;
                }
            }
        });
        let web = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let web_addr = web.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = web.accept().await {
                let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        };
        assert_eq!(
            find_socks(&[&dead, &web_addr, &socks_addr]).await,
            Some(socks_addr.clone())
        );
        assert_eq!(find_socks(&[&dead, &web_addr]).await, None);
    }

    #[test]
    fn proxy_addresses() {
        assert_eq!(
            parse_proxy("socks5h://127.0.0.1:9050").unwrap().port(),
            9050
        );
        assert_eq!(parse_proxy("127.0.0.1:1080").unwrap().port(), 1080);
        assert!(parse_proxy("localhost:9050").unwrap().ip().is_loopback());
        assert!(parse_proxy("not a proxy").is_err());
        assert!(parse_proxy("127.0.0.1").is_err(), "a port is needed");
        let mut t = TransportConfig::default();
        let s = NetworkSetting {
            proxy: Some(TOR.into()),
            ..NetworkSetting::default()
        };
        s.apply(&mut t).unwrap();
        assert!(t.proxy.as_ref().unwrap().isolate);
        assert!(s.describe().contains("no direct fallback"));
    }
}
