//! `samizdat bench replicate`: what a replication check costs, NIP-77
//! negentropy against the id fallback, in one run. Two of our relays on
//! loopback hold the same N events of one key less 1% (every 100th); one
//! speaks NIP-77, the other has it switched off. A session holding all N
//! checks both and re-sends what is missing; then checks again with nothing
//! missing. Rate limits are off on both relays (the re-sends would otherwise
//! be spread out by the default per-IP limits).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use nostr::prelude::*;
use samizdat_client::replicate::RelayReplication;
use samizdat_client::{LocalSigner, RelayRoles, Session, SessionConfig, Settings};
use samizdat_relay::RelayConfig;
use samizdat_store::{Store, StoreConfig};
use serde_json::json;

/// Runs the benchmark and prints its figures.
pub async fn run(events: usize, as_json: bool) -> anyhow::Result<()> {
    anyhow::ensure!(events >= 100, "--events must be at least 100");
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let me = Keys::generate();
    let author = me.clone();
    let all = tokio::task::spawn_blocking(move || samizdat_demo::load::own_notes(&author, events))
        .await?;
    let on_relays: Vec<Event> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 100 != 0)
        .map(|(_, e)| e.clone())
        .collect();
    let mut relays = Vec::new();
    for (name, negentropy) in [("negentropy", true), ("ids", false)] {
        let store = Arc::new(Store::open_with(
            dir.path().join(format!("{name}.sqlite")),
            StoreConfig::relay(),
        )?);
        for chunk in on_relays.chunks(5_000) {
            store.insert_batch(chunk)?;
        }
        let mut config = RelayConfig {
            negentropy,
            ..RelayConfig::default()
        };
        config.rate.events_per_second_per_ip = 0;
        config.rate.events_per_second_per_author = 0;
        config.rate.reqs_per_second_per_ip = 0;
        config.limits.max_outgoing_bytes = usize::MAX / 2;
        let handle = samizdat_relay::start(config, store, "127.0.0.1:0".parse()?).await?;
        relays.push((name, handle));
    }
    let profile = dir.path().join("profile");
    std::fs::create_dir_all(&profile)?;
    let client = Arc::new(Store::open(profile.join("events.sqlite"))?);
    for chunk in all.chunks(5_000) {
        client.insert_batch(chunk)?;
    }
    let mut settings = Settings::default();
    for (_, h) in &relays {
        let url = samizdat_net::RelayUrl::parse(&h.url())?.to_string();
        settings.relays.insert(
            url,
            RelayRoles {
                read: false,
                write: true,
            },
        );
    }
    settings.save(&profile.join("settings.json"))?;
    let mut config = SessionConfig::default();
    config.engine.stagger_ms = None;
    let session = Session::with_store(
        client,
        profile.join("settings.json"),
        Arc::new(LocalSigner::new(me)),
        config,
    )?;
    let started = Instant::now();
    let first = session.replicate(|_| {}).await?;
    let first_secs = started.elapsed().as_secs_f64();
    let second = session.replicate(|_| {}).await?;
    session.shutdown().await;
    let row = |report: &samizdat_client::replicate::ReplicationReport, url: &str| {
        report.relays.iter().find(|r| r.relay == url).cloned()
    };
    let mut out = Vec::new();
    for (name, h) in &relays {
        let url = samizdat_net::RelayUrl::parse(&h.url())?.to_string();
        let (Some(a), Some(b)) = (row(&first, &url), row(&second, &url)) else {
            anyhow::bail!("no report for {url}");
        };
        out.push((*name, a, b));
    }
    if as_json {
        let rows: Vec<serde_json::Value> = out
            .iter()
            .map(|(name, a, b)| json!({"method": name, "first": a, "again": b}))
            .collect();
        println!(
            "{}",
            json!({"events": events, "missing": events.div_ceil(100), "first_run_secs": first_secs, "relays": rows})
        );
        return Ok(());
    }
    println!(
        "replication check: {events} events, {} missing on each relay (1%), rate limits off",
        events.div_ceil(100)
    );
    let line = |label: &str, r: &RelayReplication| {
        println!(
            "  {label:<22} {:>9} bytes  {:>6} ms  missing {:>4}  re-sent {:>4} (accepted {})",
            r.bytes, r.millis, r.missing, r.requeued, r.delivered
        );
    };
    for (name, a, b) in &out {
        line(&format!("{name}, first check"), a);
        line(&format!("{name}, again"), b);
    }
    if let [(_, neg, _), (_, ids, _)] = &out[..] {
        println!(
            "  negentropy exchanged {:.1}x fewer bytes than the id fallback",
            ids.bytes as f64 / neg.bytes.max(1) as f64
        );
    }
    Ok(())
}
