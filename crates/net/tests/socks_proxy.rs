//! With a SOCKS5 proxy configured, every connection (websocket and NIP-11)
//! goes through it, host names are resolved by the proxy (remote DNS), and
//! each relay gets its own SOCKS credentials (Tor stream isolation). A small
//! SOCKS5 server on loopback, written here, counts what passes through it and
//! is the only place that knows where `*.samizdat-test.invalid` lives: a local
//! DNS lookup or a direct connection could not reach the relay at all.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use nostr::prelude::*;
use samizdat_net::{PolicyBook, ProxyConfig, PublishOutcome};
use samizdat_relay::RelayConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone)]
struct Passage {
    user: Option<String>,
    pass: Option<String>,
    host: String,
    port: u16,
}

/// A minimal SOCKS5 server (RFC 1928 + RFC 1929) that maps every requested
/// domain to `target` and records each request.
async fn socks_server(target: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<Passage>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = Arc::clone(&log2);
            tokio::spawn(async move {
                let _ = serve(client, target, log).await;
            });
        }
    });
    (addr, log)
}

async fn serve(
    mut c: TcpStream,
    target: SocketAddr,
    log: Arc<Mutex<Vec<Passage>>>,
) -> std::io::Result<()> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head).await?;
    let mut methods = vec![0u8; head[1] as usize];
    c.read_exact(&mut methods).await?;
    let (mut user, mut pass) = (None, None);
    if methods.contains(&2) {
        c.write_all(&[5, 2]).await?;
        let mut v = [0u8; 2];
        c.read_exact(&mut v).await?;
        let mut u = vec![0u8; v[1] as usize];
        c.read_exact(&mut u).await?;
        let mut pl = [0u8; 1];
        c.read_exact(&mut pl).await?;
        let mut p = vec![0u8; pl[0] as usize];
        c.read_exact(&mut p).await?;
        user = Some(String::from_utf8_lossy(&u).into_owned());
        pass = Some(String::from_utf8_lossy(&p).into_owned());
        c.write_all(&[1, 0]).await?;
    } else {
        c.write_all(&[5, 0]).await?;
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req).await?;
    let host = match req[3] {
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len).await?;
            let mut name = vec![0u8; len[0] as usize];
            c.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip).await?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port).await?;
    let port = u16::from_be_bytes(port);
    log.lock().unwrap().push(Passage {
        user,
        pass,
        host,
        port,
    });
    let mut upstream = TcpStream::connect(target).await?;
    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
    tokio::io::copy_bidirectional(&mut c, &mut upstream).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_goes_through_the_proxy_with_remote_dns_and_isolation() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let author = keys(7);
    let old = note(&author, "through tor", 10);
    relay_store.insert(&old).unwrap();
    let (proxy, log) = socks_server(relay.local_addr()).await;

    let env = env();
    let mut config = fast_config();
    config.allow_plain_ws = true;
    config.transport.proxy = Some(ProxyConfig {
        addr: proxy,
        isolate: true,
    });
    let (pool, mut rx) = pool(&env, config, PolicyBook::new(), None);
    let a = pool
        .relay_url("ws://alpha.samizdat-test.invalid:7000")
        .unwrap();
    let b = pool
        .relay_url("ws://beta.samizdat-test.invalid:7001")
        .unwrap();
    pool.subscribe(
        &a,
        "s",
        vec![Filter::new().author(author.public_key()).limit(5)],
    )
    .unwrap();
    let events = collect_until(&mut rx, Duration::from_secs(5), |e| eose_for(e, &a, "s")).await;
    assert!(eose_for(&events, &a, "s"), "{events:?}");
    assert_eq!(stored_ids(&env.store), vec![old.id]);
    assert_eq!(
        pool.publish(&b, note(&author, "hello", 1)).await,
        PublishOutcome::Accepted
    );

    let passages = log.lock().unwrap().clone();
    // Websocket plus NIP-11 for each relay; every one by name, none resolved locally.
    assert!(passages.len() >= 2, "{passages:?}");
    for p in &passages {
        assert!(
            p.host.ends_with(".samizdat-test.invalid"),
            "the proxy got the host name: {p:?}"
        );
    }
    let creds_a: Vec<_> = passages
        .iter()
        .filter(|p| p.host.starts_with("alpha"))
        .map(|p| (p.user.clone(), p.pass.clone()))
        .collect();
    let creds_b: Vec<_> = passages
        .iter()
        .filter(|p| p.host.starts_with("beta"))
        .map(|p| (p.user.clone(), p.pass.clone()))
        .collect();
    assert!(!creds_a.is_empty() && !creds_b.is_empty());
    assert!(
        creds_a.iter().all(|c| c == &creds_a[0]),
        "one circuit per relay"
    );
    assert_ne!(
        creds_a[0], creds_b[0],
        "different relays, different SOCKS credentials"
    );
    assert!(
        creds_a[0].0.is_some(),
        "isolation uses username/password auth"
    );
    assert_eq!(
        passages
            .iter()
            .find(|p| p.host.starts_with("alpha"))
            .unwrap()
            .port,
        7000
    );
    pool.shutdown().await;
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_proxy_means_no_connection_at_all() {
    let (relay, relay_store, _d) = our_relay(RelayConfig::default()).await;
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let env = env();
    let mut config = fast_config();
    config.transport.proxy = Some(ProxyConfig {
        addr: dead,
        isolate: true,
    });
    let (pool, _rx) = pool(&env, config, PolicyBook::new(), None);
    // The relay itself is up on loopback, but with a proxy set the pool must not go around it.
    let r = pool.relay_url(&relay.url()).unwrap();
    match pool.publish(&r, note(&keys(8), "x", 1)).await {
        PublishOutcome::Failed(_) | PublishOutcome::Timeout => {}
        other => panic!("expected no delivery without the proxy, got {other:?}"),
    }
    assert!(relay_store
        .query(&[Filter::new().limit(10)])
        .unwrap()
        .is_empty());
    let stats = env.store.relay_stats(&r.to_string()).unwrap().unwrap();
    assert_eq!(stats.successes, 0);
    assert!(stats.failures.iter().sum::<u64>() >= 1);
    pool.shutdown().await;
    relay.shutdown().await;
}
