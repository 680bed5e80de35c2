//! Test harness: our relay started in-process on 127.0.0.1 over a real
//! SQLite file, and a raw NIP-01 client over real websockets.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use samizdat_relay::{PgStore, RelayConfig, RelayHandle, RelayStorage};
use samizdat_store::Store;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct TestRelay {
    pub handle: RelayHandle,
    pub store: Arc<dyn RelayStorage>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema, when this run is on PostgreSQL.
    pub schema: Option<String>,
}

/// The PostgreSQL server for this run, when the test binary is one of the
/// `pg_*` suites (the same tests, on PostgreSQL). `.ci/run` starts a server
/// with `bench/postgres.sh` and sets `SAMIZDAT_TEST_POSTGRES`; without it a
/// `pg_*` suite runs on SQLite again (and says so), except under CI where
/// that is an error.
pub fn postgres_url() -> Option<String> {
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_string_lossy().into_owned();
    if !name.starts_with("pg_") {
        return None;
    }
    match std::env::var("SAMIZDAT_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("SAMIZDAT_TEST_POSTGRES is not set: start bench/postgres.sh")
        }
        _ => {
            eprintln!("SAMIZDAT_TEST_POSTGRES is not set: this PostgreSQL suite runs on SQLite");
            None
        }
    }
}

/// Opens the backend this test binary runs on: a fresh SQLite file in
/// `dir`, or a fresh schema (or `schema` again) on PostgreSQL.
pub fn open_storage(
    dir: &std::path::Path,
    schema: Option<&str>,
) -> (Arc<dyn RelayStorage>, Option<String>) {
    match postgres_url() {
        Some(url) => {
            let schema = schema.map(str::to_owned).unwrap_or_else(|| {
                let tag: u64 = rand::random();
                format!("t_{tag:016x}")
            });
            // Four connections a store: the suites run many at once.
            let store = PgStore::connect_with(&url, Some(&schema), 4).unwrap();
            (Arc::new(store), Some(schema))
        }
        None => (
            Arc::new(Store::open(dir.join("relay.sqlite")).unwrap()),
            None,
        ),
    }
}

pub async fn start_relay(config: RelayConfig) -> TestRelay {
    start_in(config, tempfile::tempdir().unwrap(), None).await
}

/// Starts a relay on the backend of this run, in `dir` (SQLite) or on
/// `schema` (PostgreSQL; a fresh one when `None`).
async fn start_in(
    config: RelayConfig,
    dir: tempfile::TempDir,
    schema: Option<String>,
) -> TestRelay {
    let (store, schema) = open_storage(dir.path(), schema.as_deref());
    let handle = samizdat_relay::start(config, store.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    TestRelay {
        handle,
        store,
        dir,
        schema,
    }
}

impl TestRelay {
    /// Stops the relay and starts it again on the same database.
    pub async fn restart(self, config: RelayConfig) -> TestRelay {
        let TestRelay {
            handle,
            store,
            dir,
            schema,
        } = self;
        handle.shutdown().await;
        drop(store);
        start_in(config, dir, schema).await
    }
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub challenge: String,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .unwrap();
        let mut c = Client {
            ws,
            challenge: String::new(),
        };
        let first = c.recv().await;
        assert_eq!(
            first[0], "AUTH",
            "relay sends a challenge on connect: {first}"
        );
        c.challenge = first[1].as_str().unwrap().to_owned();
        c
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn send(&mut self, v: Value) {
        self.send_raw(&v.to_string()).await;
    }

    /// Next text message as JSON; panics after 5 s.
    pub async fn recv(&mut self) -> Value {
        self.try_recv(Duration::from_secs(5))
            .await
            .expect("a message within 5 s")
    }

    /// Next text message within `wait`, or None.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match msg {
                Message::Text(t) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Publishes and returns the OK message.
    pub async fn publish(&mut self, event: &Event) -> Value {
        self.send(json!(["EVENT", event])).await;
        loop {
            let m = self.recv().await;
            if m[0] == "OK" && m[1] == event.id.to_hex() {
                return m;
            }
        }
    }

    /// Sends a REQ and collects events until EOSE (or CLOSED, returned as Err).
    pub async fn req(&mut self, sub: &str, filters: Vec<Value>) -> Result<Vec<Event>, String> {
        let mut msg = vec![json!("REQ"), json!(sub)];
        msg.extend(filters);
        self.send(Value::Array(msg)).await;
        let mut events = Vec::new();
        loop {
            let m = self.recv().await;
            match m[0].as_str() {
                Some("EVENT") if m[1] == sub => {
                    events.push(serde_json::from_value(m[2].clone()).unwrap())
                }
                Some("EOSE") if m[1] == sub => return Ok(events),
                Some("CLOSED") if m[1] == sub => return Err(m[2].as_str().unwrap().to_owned()),
                _ => {}
            }
        }
    }

    /// Authenticates with NIP-42 as `keys`; returns the OK message.
    pub async fn auth(&mut self, keys: &Keys, relay_url: &str) -> Value {
        let event = EventBuilder::new(Kind::Authentication, "")
            .tags([
                Tag::parse(["relay", relay_url]).unwrap(),
                Tag::parse(["challenge", &self.challenge]).unwrap(),
            ])
            .finalize(keys)
            .unwrap();
        self.send(json!(["AUTH", event])).await;
        loop {
            let m = self.recv().await;
            if m[0] == "OK" && m[1] == event.id.to_hex() {
                return m;
            }
        }
    }

    /// Sends a NIP-45 COUNT; the count, or the CLOSED reason as Err.
    pub async fn count(&mut self, sub: &str, filters: Vec<Value>) -> Result<u64, String> {
        let mut msg = vec![json!("COUNT"), json!(sub)];
        msg.extend(filters);
        self.send(Value::Array(msg)).await;
        loop {
            let m = self.recv().await;
            match m[0].as_str() {
                Some("COUNT") if m[1] == sub => return Ok(m[2]["count"].as_u64().unwrap()),
                Some("CLOSED") if m[1] == sub => return Err(m[2].as_str().unwrap().to_owned()),
                _ => {}
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

pub fn keys(n: u8) -> Keys {
    let mut b = [0u8; 32];
    b[0] = 7;
    b[31] = n;
    Keys::new(SecretKey::from_slice(&b).unwrap())
}

pub fn signed(keys: &Keys, kind: u16, content: &str, tags: &[&[&str]], created_at: u64) -> Event {
    EventBuilder::new(Kind::from_u16(kind), content)
        .tags(tags.iter().map(|t| Tag::parse(t.iter().copied()).unwrap()))
        .custom_created_at(Timestamp::from_secs(created_at))
        .finalize(keys)
        .unwrap()
}

pub fn now() -> u64 {
    Timestamp::now().as_secs()
}

pub fn ids(events: &[Event]) -> Vec<EventId> {
    events.iter().map(|e| e.id).collect()
}

/// One HTTP/1.1 request over a fresh TCP connection; (status, headers, body).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// The websocket handshake's HTTP status (101 when upgraded), without
/// keeping the connection.
pub async fn upgrade_status(addr: std::net::SocketAddr) -> u16 {
    let headers = [
        ("Upgrade", "websocket".to_string()),
        ("Connection", "Upgrade".to_string()),
        ("Sec-WebSocket-Version", "13".to_string()),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==".to_string()),
    ];
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The relay's NIP-11 document, as a client fetches it.
pub async fn nip11(addr: std::net::SocketAddr) -> Value {
    let accept = [("Accept", "application/nostr+json".to_string())];
    let (_, _, body) = http(addr, "GET", "/", &accept, b"").await;
    serde_json::from_str(&body).unwrap()
}

/// A NIP-98 `Authorization` header value for `method` (as written, any
/// case) of `body` to `url`, dated `created_at`.
pub fn nip98_header(keys: &Keys, url: &str, method: &str, body: &[u8], created_at: u64) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let payload = faster_hex::hex_string(&Sha256::digest(body));
    let event = EventBuilder::new(Kind::HttpAuth, "")
        .tags([
            Tag::parse(["u", url]).unwrap(),
            Tag::parse(["method", method]).unwrap(),
            Tag::parse(["payload", &payload]).unwrap(),
        ])
        .custom_created_at(Timestamp::from_secs(created_at))
        .finalize(keys)
        .unwrap();
    format!(
        "Nostr {}",
        base64::engine::general_purpose::STANDARD.encode(event.as_json())
    )
}
