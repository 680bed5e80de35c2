//! Network conditions for demos and benchmarks, on loopback only: a TCP
//! forwarder that adds a fixed one-way delay in each direction (a relay far
//! away), and a listener that accepts connections and never answers (a
//! relay that hangs). Both stop when their handle is dropped.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A running forwarder or hanging listener; dropping it stops accepting.
pub struct Listener {
    /// Where clients connect.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Listener {
    /// A listener at `addr` served by `task` (aborted when dropped).
    pub(crate) fn new(addr: SocketAddr, task: JoinHandle<()>) -> Self {
        Self { addr, task }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards every connection on a new loopback port to `upstream`, each
/// chunk `delay` later in each direction (so a round trip costs 2 × delay).
pub async fn delayed(upstream: SocketAddr, delay: Duration) -> std::io::Result<Listener> {
    delayed_on(std::net::TcpListener::bind("127.0.0.1:0")?, upstream, delay)
}

/// Like [`delayed`], on a listener the caller bound.
pub fn delayed_on(
    listener: std::net::TcpListener,
    upstream: SocketAddr,
    delay: Duration,
) -> std::io::Result<Listener> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pipe(cr, sw, delay), pipe(sr, cw, delay));
            });
        }
    });
    Ok(Listener { addr, task })
}

/// Copies `from` to `to`, each chunk released `delay` after it was read.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let due = tokio::time::Instant::now() + delay;
                    if tx.send((due, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

/// Accepts connections on a new loopback port and never sends a byte
/// (the websocket handshake never completes).
pub async fn hanging() -> std::io::Result<Listener> {
    hanging_on(std::net::TcpListener::bind("127.0.0.1:0")?)
}

/// Like [`hanging`], on a listener the caller bound.
pub fn hanging_on(listener: std::net::TcpListener) -> std::io::Result<Listener> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            // Bounded: a hanging relay in a test holds at most 1,000 sockets.
            if held.len() < 1_000 {
                held.push(conn);
            }
        }
    });
    Ok(Listener { addr, task })
}

/// `n` loopback listeners whose addresses sort (as URL text) in the order
/// returned. The demo gives its relays these, in relay order, so every run
/// lists them in the same order and a planner breaking ties by URL makes the
/// same choices whatever ports the system hands out.
pub fn ordered_listeners(n: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let mut listeners = (0..n)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            let key = format!("ws://{}", l.local_addr()?);
            Ok((key, l))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(listeners.into_iter().map(|(_, l)| l).collect())
}

/// A loopback address where nothing listens (connecting is refused).
pub fn dead_address() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_forwarder_delays_and_delivers_everything_in_order() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let proxy = delayed(echo_addr, Duration::from_millis(50)).await.unwrap();
        let mut c = TcpStream::connect(proxy.addr).await.unwrap();
        let started = std::time::Instant::now();
        c.write_all(b"hello").await.unwrap();
        let mut got = [0u8; 5];
        c.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
        // Two one-way delays, at least.
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_hanging_listener_accepts_and_stays_silent() {
        let h = hanging().await.unwrap();
        let mut c = TcpStream::connect(h.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(200), c.read(&mut buf)).await;
        assert!(read.is_err(), "no answer ever");
    }
}
