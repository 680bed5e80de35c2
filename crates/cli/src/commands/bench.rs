//! `samizdat bench …`: benchmarks that print figures (never pass/fail).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// The benchmarks.
#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Load a relay over websockets: publish throughput (OK-acknowledged
    /// events/s) and REQ throughput and latency, with many concurrent clients.
    /// Events are signed before the clock starts, so the generator is not the bound.
    Relay(RelayBenchArgs),
    /// A relay cluster (nodes on one PostgreSQL): live fan-out latency from
    /// an event published on the first node to a subscriber on the last,
    /// p50 / p99 / max, at a steady rate.
    Cluster(super::bench_cluster::ClusterBenchArgs),
    /// Ingest from a loopback relay: `verify_eps` (raw id+signature checks per
    /// second on all cores) and `ingest_eps` (events per second from the
    /// relay's websocket into the client store, verified and stored), measured
    /// in the same run.
    Ingest(IngestBenchArgs),
    /// Time to feed: a fresh session on the demo network with injected
    /// latency and dead and hanging relays, following 500 people: first page
    /// in ms, share of the last 7 days' notes in hand at 1, 3 and 10 s, ours
    /// against a greedy (Gossip-like) plan in the same run.
    Feed(super::bench_feed::FeedBenchArgs),
    /// The web of trust's cost: build time, one changed list, lookups and
    /// memory on a generated graph (2,000 follows × 500 each), in memory and
    /// read from a real store as a session refreshes it.
    Trust(super::bench_trust::TrustBenchArgs),
    /// Media: decode time and memory for a 12-megapixel JPEG (and the caps
    /// refusing a bomb), stripping metadata, and the picture cache after
    /// 1,000 pictures loaded through a real Blossom server.
    Media(super::bench_media::MediaBenchArgs),
    /// What a coalition of relays learns: a scripted week (follows, syncs,
    /// threads with strangers' hints, DMs through a shared DM relay, posts)
    /// on a network of logging relays, under the old defaults and today's
    /// (with Tor, and direct); figures (a)–(f) from the logs alone.
    Privacy(super::bench_privacy::PrivacyBenchArgs),
    /// Replication check: bytes and time to find 1% missing of N own events
    /// on a relay by NIP-77 negentropy and, in the same run, by the id
    /// fallback (a relay with NIP-77 off); then again with nothing missing.
    Replicate {
        /// Events of the user's.
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Soak: the relay under a mixed, bounded load for a fixed time (publish,
    /// REQ, live and slow readers, reconnect storms, bad frames); its RSS and
    /// open files sampled every second, p99 REQ latency per minute, every
    /// acknowledged event looked up in its database at the end.
    Soak(super::bench_soak::SoakArgs),
    /// Why REQ latency grows with the database: SQLite's plan and the time
    /// of each soak filter at four store sizes (up to 120,000 events).
    Plans(super::bench_plans::PlansBenchArgs),
    /// Proof of work: our miner's hashes per second on all cores and, in the
    /// same run, plain SHA-256 of the same message size on one core.
    Pow {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3.0)]
        secs: f64,
        /// Note length in bytes.
        #[arg(long, default_value_t = 140)]
        content: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `samizdat bench ingest`.
#[derive(clap::Args, Clone)]
pub struct IngestBenchArgs {
    /// Events the relay serves.
    #[arg(long, default_value_t = 50_000)]
    events: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Arguments of `samizdat bench relay`.
#[derive(clap::Args, Clone)]
pub struct RelayBenchArgs {
    /// The relay to load (`ws://127.0.0.1:PORT`; loopback only in tests).
    #[arg(long)]
    url: String,
    /// Concurrent websocket clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Events to publish in total.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// REQs to run in total (tag queries, `limit` 20).
    #[arg(long, default_value_t = 5_000)]
    reqs: usize,
    /// A label for the output (e.g. the relay's name).
    #[arg(long, default_value = "relay")]
    label: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs a benchmark.
pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Relay(args) => relay(args).await,
        BenchCommand::Cluster(args) => super::bench_cluster::run(args).await,
        BenchCommand::Ingest(args) => super::bench_ingest::run(args.events, args.json).await,
        BenchCommand::Feed(args) => super::bench_feed::run(args).await,
        BenchCommand::Trust(args) => super::bench_trust::run(args).await,
        BenchCommand::Media(args) => super::bench_media::run(args).await,
        BenchCommand::Privacy(args) => super::bench_privacy::run(args).await,
        BenchCommand::Soak(args) => super::bench_soak::run(args).await,
        BenchCommand::Plans(args) => super::bench_plans::run(args).await,
        BenchCommand::Replicate { events, json } => super::bench_replicate::run(events, json).await,
        BenchCommand::Pow {
            secs,
            content,
            json,
        } => {
            let b = tokio::task::spawn_blocking(move || samizdat_client::pow::bench(secs, content))
                .await?;
            if json {
                println!("{}", serde_json::to_string(&b)?);
            } else {
                println!(
                    "miner: {:.0} hashes/s on {} cores; raw SHA-256 of {} bytes: {:.0}/s on one core; ratio {:.2} (goal >= 0.80)",
                    b.hashes_per_s, b.cores, b.message_bytes, b.raw_sha256_per_s_one_core, b.ratio
                );
            }
            Ok(())
        }
    }
}

use samizdat_demo::load::TAGS;

async fn relay(args: RelayBenchArgs) -> anyhow::Result<()> {
    if args.clients == 0 {
        bail!("--clients must be at least 1");
    }
    let events = tokio::task::spawn_blocking({
        let n = args.events;
        move || samizdat_demo::load::signed_notes(n)
    })
    .await?;

    // Publish phase: every client publishes its share, waiting for each OK.
    let mut shares: Vec<Vec<Event>> = vec![Vec::new(); args.clients];
    for (i, e) in events.into_iter().enumerate() {
        shares[i % args.clients].push(e);
    }
    let mut conns = Vec::new();
    for _ in 0..args.clients {
        conns.push(connect(&args.url).await?);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (mut ws, share) in conns.into_iter().zip(shares) {
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            let mut rejected = 0usize;
            for e in share {
                let id = e.id.to_hex();
                ws.send(Message::text(json!(["EVENT", e]).to_string()))
                    .await?;
                loop {
                    let m = next_json(&mut ws).await?;
                    if m[0] == "OK" && (m[1] == id || m[1] == "") {
                        if m[2] == true {
                            accepted += 1;
                        } else {
                            rejected += 1;
                        }
                        break;
                    }
                }
            }
            anyhow::Ok((ws, accepted, rejected))
        }));
    }
    let mut accepted = 0;
    let mut rejected = 0;
    let mut conns = Vec::new();
    for t in tasks {
        let (ws, a, r) = t.await??;
        accepted += a;
        rejected += r;
        conns.push(ws);
    }
    let publish_secs = start.elapsed().as_secs_f64();

    // Query phase: tag REQs with limit 20, each waits for EOSE, then CLOSE.
    let per_client = args.reqs.div_ceil(args.clients);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, mut ws) in conns.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            let mut events = 0usize;
            for i in 0..per_client {
                let sub = format!("q{c}-{i}");
                let tag = format!("t{}", (c * 31 + i) % TAGS);
                let t0 = Instant::now();
                ws.send(Message::text(
                    json!(["REQ", sub, {"#t": [tag], "limit": 20}]).to_string(),
                ))
                .await?;
                loop {
                    let m = next_json(&mut ws).await?;
                    if m[1] != sub.as_str() {
                        continue;
                    }
                    match m[0].as_str() {
                        Some("EVENT") => events += 1,
                        Some("EOSE") | Some("CLOSED") => break,
                        _ => {}
                    }
                }
                latencies.push(t0.elapsed());
                ws.send(Message::text(json!(["CLOSE", sub]).to_string()))
                    .await?;
            }
            let _ = ws.close(None).await;
            anyhow::Ok((latencies, events))
        }));
    }
    let mut latencies = Vec::new();
    let mut returned = 0;
    for t in tasks {
        let (l, n) = t.await??;
        latencies.extend(l);
        returned += n;
    }
    let req_secs = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: usize| {
        latencies.get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
    };
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1e3);

    let out = json!({
        "label": args.label,
        "url": args.url,
        "clients": args.clients,
        "published": accepted + rejected,
        "accepted": accepted,
        "rejected": rejected,
        "publish_eps": accepted as f64 / publish_secs,
        "reqs": latencies.len(),
        "req_per_s": latencies.len() as f64 / req_secs,
        "req_events_returned": returned,
        "req_p50_ms": ms(pct(50)),
        "req_p99_ms": ms(pct(99)),
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{}: publish {:.0} events/s ({} accepted, {} rejected); REQ {:.0}/s, p50 {:.2} ms, p99 {:.2} ms ({} clients)",
            args.label,
            out["publish_eps"].as_f64().unwrap_or(0.0),
            accepted,
            rejected,
            out["req_per_s"].as_f64().unwrap_or(0.0),
            out["req_p50_ms"].as_f64().unwrap_or(0.0),
            out["req_p99_ms"].as_f64().unwrap_or(0.0),
            args.clients
        );
    }
    Ok(())
}

/// A websocket to a relay.
pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a websocket to `url`.
pub(super) async fn connect(url: &str) -> anyhow::Result<Ws> {
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(ws)
}

/// The next text message as JSON (30 s at most).
pub(super) async fn next_json(ws: &mut Ws) -> anyhow::Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no answer from the relay in 30 s")?
            .context("the relay closed the connection")??;
        if let Message::Text(t) = msg {
            return Ok(serde_json::from_str(t.as_str())?);
        }
    }
}

/// A `/proc/self/status` field (`VmRSS`, `VmHWM`, …) in MiB; 0 where there
/// is no such file.
pub(crate) fn proc_status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
