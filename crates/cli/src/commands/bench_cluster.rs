//! `samizdat bench cluster --nodes A,B,C`: live fan-out latency across the
//! nodes of a relay cluster (several `samizdat relay` processes on one
//! PostgreSQL). A subscriber on the last node, a publisher on the first;
//! each event's latency is from the moment its EVENT is sent to the moment
//! the subscriber receives it (one clock: both ends are in this process).
//! Events are sent at a steady rate, so the figure is the path's latency,
//! not a queue's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::bench::{connect, next_json};

/// `samizdat bench cluster` arguments.
#[derive(clap::Args)]
pub struct ClusterBenchArgs {
    /// The nodes, comma-separated (`ws://127.0.0.1:7941,ws://…`): events are
    /// published on the first, received on the last.
    #[arg(long, value_delimiter = ',')]
    nodes: Vec<String>,
    /// Events to publish.
    #[arg(long, default_value_t = 1_000)]
    events: usize,
    /// Events per second sent.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// A label for the output.
    #[arg(long, default_value = "cluster")]
    label: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the benchmark.
pub async fn run(args: ClusterBenchArgs) -> anyhow::Result<()> {
    let (Some(first), Some(last)) = (args.nodes.first(), args.nodes.last()) else {
        bail!("--nodes needs at least one relay URL");
    };
    if args.rate == 0 {
        bail!("--rate must be at least 1");
    }
    let events = tokio::task::spawn_blocking({
        let n = args.events;
        move || samizdat_demo::load::signed_notes(n)
    })
    .await?;
    let mut subscriber = connect(last).await?;
    let since = events
        .iter()
        .map(|e| e.created_at.as_secs())
        .min()
        .unwrap_or(0);
    subscriber
        .send(Message::text(
            json!(["REQ", "fan", {"kinds": [1], "since": since, "limit": 0}]).to_string(),
        ))
        .await?;
    loop {
        let m = next_json(&mut subscriber).await?;
        if m[0] == "EOSE" {
            break;
        }
    }
    let wanted: std::collections::HashSet<String> = events.iter().map(|e| e.id.to_hex()).collect();
    let expected = wanted.len();
    let receiver = tokio::spawn(async move {
        let mut arrived: HashMap<String, Instant> = HashMap::new();
        let deadline = Duration::from_secs(15);
        while arrived.len() < expected {
            let Ok(Some(Ok(msg))) = tokio::time::timeout(deadline, subscriber.next()).await else {
                break;
            };
            let Message::Text(t) = msg else { continue };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(t.as_str()) else {
                continue;
            };
            if v[0] == "EVENT" {
                if let Some(id) = v[2]["id"].as_str().filter(|id| wanted.contains(*id)) {
                    arrived.entry(id.to_owned()).or_insert_with(Instant::now);
                }
            }
        }
        arrived
    });
    let publisher = connect(first).await?;
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let gap = Duration::from_secs_f64(1.0 / f64::from(args.rate));
    let start = Instant::now();
    let (mut sink, mut stream) = publisher.split();
    let acks = tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::from_secs(15), stream.next()).await
        {
            if t.as_str().starts_with("[\"OK\"") && t.as_str().contains("true") {
                n += 1;
                if n == expected {
                    break;
                }
            }
        }
        n
    });
    for (i, e) in events.iter().enumerate() {
        let due = start + gap * i as u32;
        tokio::time::sleep_until(due.into()).await;
        sent.insert(e.id.to_hex(), Instant::now());
        sink.send(Message::text(json!(["EVENT", e]).to_string()))
            .await
            .context("publishing")?;
    }
    let ok = acks.await?;
    let publish_secs = start.elapsed().as_secs_f64();
    let arrived = receiver.await?;
    drop(sink);
    let mut latencies: Vec<Duration> = arrived
        .iter()
        .filter_map(|(id, at)| sent.get(id).map(|s| at.saturating_duration_since(*s)))
        .collect();
    latencies.sort();
    let pct = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let out = json!({
        "label": args.label,
        "nodes": args.nodes,
        "published": args.events,
        "accepted": ok,
        "received_on_last_node": latencies.len(),
        "rate_per_s": args.rate,
        "publish_secs": publish_secs,
        "fanout_p50_ms": pct(50),
        "fanout_p99_ms": pct(99),
        "fanout_max_ms": pct(100),
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{}: {} of {} events published on {first} reached {last}; fan-out p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} events/s sent)",
            args.label,
            latencies.len(),
            args.events,
            pct(50),
            pct(99),
            pct(100),
            args.rate
        );
    }
    Ok(())
}
