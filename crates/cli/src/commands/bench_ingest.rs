//! `samizdat bench ingest`: how close ingestion from a relay comes to the
//! machine's raw signature-verification rate.
//!
//! One run measures both: `verify_eps`, the id+signature checks per second on
//! all cores over the same events, and `ingest_eps`, events per second from a
//! loopback relay (ours, started in-process) over a real websocket into the
//! client's store, through the whole validation pipeline. The relay shares the
//! machine's cores with the client, as it would on a desktop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nostr::prelude::*;
use samizdat_net::{verify_batch, NetConfig, PolicyBook, Pool, PoolEvent};
use samizdat_relay::RelayConfig;
use samizdat_store::{Store, StoreConfig};
use serde_json::json;

/// Runs the benchmark and prints its figures.
pub async fn run(events: usize, as_json: bool) -> anyhow::Result<()> {
    if events == 0 {
        bail!("--events must be at least 1");
    }
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let signed =
        tokio::task::spawn_blocking(move || samizdat_demo::load::signed_notes(events)).await?;

    // Raw verification on all cores, the ceiling for ingestion.
    let to_verify = signed.clone();
    let verify_secs = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let verdicts = verify_batch(&to_verify);
        let secs = start.elapsed().as_secs_f64();
        (secs, verdicts.iter().all(Option::is_none))
    })
    .await?;
    if !verify_secs.1 {
        bail!("generated events failed verification");
    }
    let verify_eps = events as f64 / verify_secs.0;

    // A loopback relay holding the events.
    let relay_store = Arc::new(Store::open_with(
        dir.path().join("relay.sqlite"),
        StoreConfig::relay(),
    )?);
    for chunk in signed.chunks(10_000) {
        relay_store.insert_batch(chunk)?;
    }
    let mut config = RelayConfig::default();
    config.limits.max_limit = events;
    config.limits.max_outgoing_bytes = usize::MAX / 2;
    let relay = samizdat_relay::start(config, relay_store, "127.0.0.1:0".parse()?).await?;

    // The client: a pool over a fresh store.
    let client_store = Arc::new(Store::open(dir.path().join("client.sqlite"))?);
    let net = NetConfig {
        eose_timeout: Duration::from_secs(600),
        ..NetConfig::default()
    };
    let (pool, mut rx) = Pool::new(net, Arc::clone(&client_store), PolicyBook::new(), None);
    let url = pool.relay_url(&relay.url())?;
    let start = Instant::now();
    pool.subscribe(
        &url,
        "bench",
        vec![Filter::new().kind(Kind::TextNote).limit(events)],
    )?;
    let mut received = 0usize;
    loop {
        match tokio::time::timeout(Duration::from_secs(600), rx.recv()).await {
            Ok(Some(PoolEvent::Events { events, .. })) => received += events.len(),
            Ok(Some(PoolEvent::Eose { timed_out, .. })) => {
                if timed_out {
                    bail!("the relay did not finish in time");
                }
                break;
            }
            Ok(Some(PoolEvent::Disconnected { error, .. })) => {
                bail!("relay connection failed: {error}")
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => bail!("no EOSE from the loopback relay"),
        }
    }
    let ingest_secs = start.elapsed().as_secs_f64();
    pool.shutdown().await;
    relay.shutdown().await;
    let stored = client_store
        .existing_ids(&signed.iter().map(|e| e.id).collect::<Vec<_>>())?
        .len();
    if stored != events || received != events {
        bail!("only {stored} of {events} events reached the store ({received} reported)");
    }
    let ingest_eps = events as f64 / ingest_secs;
    let out = json!({
        "events": events,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "verify_eps": verify_eps,
        "ingest_eps": ingest_eps,
        "ingest_share_of_verify": ingest_eps / verify_eps,
    });
    if as_json {
        println!("{out}");
    } else {
        println!(
            "verify: {verify_eps:.0} events/s (all cores); ingest: {ingest_eps:.0} events/s ({:.0}% of verify) over {events} events",
            100.0 * ingest_eps / verify_eps
        );
    }
    Ok(())
}
