//! The tap in front of a relay: forwards every connection to the relay
//! unchanged and logs what the client sent.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use super::{Log, What};
use crate::proxy::Listener;

/// Fronts the relay at `upstream` with a tap on `listener` (the address
/// clients are given), logging under `relay`.
pub fn tap_on(
    listener: std::net::TcpListener,
    relay: String,
    upstream: SocketAddr,
    log: Arc<Log>,
) -> std::io::Result<Listener> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((client, peer)) = listener.accept().await {
            let (log, relay) = (Arc::clone(&log), relay.clone());
            tokio::spawn(async move {
                let _ = serve(client, peer, upstream, &relay, &log).await;
            });
        }
    });
    Ok(Listener::new(addr, task))
}

/// Whether the request waiting on `client` asks for a websocket (peeked,
/// not consumed; false after a second without a complete header).
async fn wants_websocket(client: &TcpStream) -> bool {
    let mut buf = vec![0u8; 8 * 1024];
    for _ in 0..100 {
        let Ok(n) = client.peek(&mut buf).await else {
            return false;
        };
        let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        if head.contains("\r\n\r\n") || n == buf.len() {
            return head.contains("upgrade: websocket");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

async fn serve(
    mut client: TcpStream,
    peer: SocketAddr,
    upstream: SocketAddr,
    relay: &str,
    log: &Log,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let conn = log.connection();
    let websocket = wants_websocket(&client).await;
    log.record(conn, relay, What::Connected { peer, websocket });
    let mut server = TcpStream::connect(upstream).await?;
    if !websocket {
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    }
    let client = tokio_tungstenite::accept_async(client).await?;
    let (server, _) = tokio_tungstenite::client_async(format!("ws://{upstream}"), server).await?;
    let (mut to_client, mut from_client) = client.split();
    let (mut to_server, mut from_server) = server.split();
    let up = async {
        while let Some(Ok(msg)) = from_client.next().await {
            if let Message::Text(text) = &msg {
                if let Some(what) = parse(text.as_str()) {
                    log.record(conn, relay, what);
                }
            }
            if to_server.send(msg).await.is_err() {
                break;
            }
        }
        let _ = to_server.close().await;
    };
    let down = async {
        while let Some(Ok(msg)) = from_server.next().await {
            if to_client.send(msg).await.is_err() {
                break;
            }
        }
        let _ = to_client.close().await;
    };
    tokio::join!(up, down);
    Ok(())
}

/// What a client's frame tells the relay (REQ, EVENT, AUTH; nothing else
/// is logged).
fn parse(text: &str) -> Option<What> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let items = v.as_array()?;
    match items.first()?.as_str()? {
        "REQ" => Some(What::Req {
            sub: items.get(1)?.as_str()?.to_owned(),
            filters: items.iter().skip(2).cloned().collect(),
        }),
        "EVENT" => {
            let event = Event::from_json(items.get(1)?.to_string()).ok()?;
            Some(What::Event(Box::new(event)))
        }
        "AUTH" => {
            let event = Event::from_json(items.get(1)?.to_string()).ok()?;
            (event.kind == Kind::Authentication && event.verify().is_ok())
                .then_some(What::Auth(event.pubkey))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_as_the_relay_would() {
        let keys = Keys::generate();
        let note = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&keys)
            .unwrap();
        match parse(&format!(r#"["EVENT",{}]"#, note.as_json())) {
            Some(What::Event(e)) => assert_eq!(e.id, note.id),
            other => panic!("{other:?}"),
        }
        match parse(r#"["REQ","x1",{"authors":["ab"]},{"kinds":[1]}]"#) {
            Some(What::Req { sub, filters }) => {
                assert_eq!(sub, "x1");
                assert_eq!(filters.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("not json").is_none());
        assert!(parse(r#"["CLOSE","x1"]"#).is_none());
        // An AUTH that is not a valid kind-22242 event tells nothing.
        assert!(parse(&format!(r#"["AUTH",{}]"#, note.as_json())).is_none());
    }
}
