//! A SOCKS5 proxy on loopback standing in for Tor (RFC 1928 with RFC 1929
//! username/password): connects wherever it is asked on 127.0.0.1 and logs
//! each circuit's credentials and its own address on the way out, so the
//! coalition's figures can tell a proxied connection from a direct one and
//! one circuit from another.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Circuit, Log};
use crate::proxy::Listener;

/// Starts the proxy on a new loopback port.
pub async fn socks_proxy(log: Arc<Log>) -> std::io::Result<Listener> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let _ = serve(client, &log).await;
            });
        }
    });
    Ok(Listener::new(addr, task))
}

async fn read_text(c: &mut TcpStream) -> std::io::Result<String> {
    let mut len = [0u8; 1];
    c.read_exact(&mut len).await?;
    let mut text = vec![0u8; usize::from(len[0])];
    c.read_exact(&mut text).await?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

async fn serve(mut c: TcpStream, log: &Log) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    c.read_exact(&mut methods).await?;
    let (mut user, mut pass) = (None, None);
    if methods.contains(&2) {
        c.write_all(&[5, 2]).await?;
        let mut version = [0u8; 1];
        c.read_exact(&mut version).await?;
        user = Some(read_text(&mut c).await?);
        pass = Some(read_text(&mut c).await?);
        c.write_all(&[1, 0]).await?;
    } else {
        c.write_all(&[5, 0]).await?;
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req).await?;
    let host = match req[3] {
        3 => read_text(&mut c).await?,
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip).await?;
            Ipv4Addr::from(ip).to_string()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    // Loopback only: any other name is refused (host unreachable).
    let ip: Ipv4Addr = match host.as_str() {
        "localhost" => Ipv4Addr::LOCALHOST,
        other => other.parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
    };
    if !ip.is_loopback() {
        c.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    }
    let Ok(mut upstream) = TcpStream::connect(SocketAddr::from((ip, port))).await else {
        c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        return Ok(());
    };
    log.circuit(Circuit {
        user,
        pass,
        target: format!("{host}:{port}"),
        outbound: upstream.local_addr()?,
    });
    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut c, &mut upstream).await?;
    Ok(())
}
