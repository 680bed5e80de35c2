//! `samizdat bench feed`: time to feed. The demo's seeded network, larger
//! (many relays, each behind a loopback forwarder with 50–400 ms one-way
//! latency, some dead, some hanging), a demo user following 500 people, and
//! a fresh client session that syncs from nothing. Prints when the first
//! page of 20 notes was in hand and what share of the followed people's
//! notes of the last 7 days had arrived at 1 s, 3 s and 10 s — for our plan
//! and for greedy set cover (Gossip's way) in the same run.

use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_client::SessionConfig;
use samizdat_demo::{DemoNetwork, DemoOptions};
use samizdat_outbox::Algorithm;
use serde_json::json;

/// Arguments of `samizdat bench feed`.
#[derive(clap::Args, Clone)]
pub struct FeedBenchArgs {
    /// Seed of the generated network.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// People in the network.
    #[arg(long, default_value_t = 2_000)]
    people: usize,
    /// People the user follows.
    #[arg(long, default_value_t = 500)]
    follow: usize,
    /// Relays up (each with injected latency).
    #[arg(long, default_value_t = 24)]
    relays: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

const CHECKPOINTS: [u64; 3] = [1, 3, 10];
const PAGE: usize = 20;

/// Runs the benchmark.
pub async fn run(args: FeedBenchArgs) -> anyhow::Result<()> {
    let options = DemoOptions {
        seed: args.seed,
        people: args.people,
        follow: args.follow,
        up: args.relays,
        down: 3,
        hanging: 2,
        latency_ms: Some((50, 400)),
        tap: None,
    };
    let network = DemoNetwork::start(&options).await?;
    let week_ago = Timestamp::from_secs(Timestamp::now().as_secs() - 7 * 86_400);
    let expected: Vec<EventId> = network
        .followed_notes_since(week_ago)
        .iter()
        .map(|e| e.id)
        .collect();
    let mut results = serde_json::Map::new();
    for (name, algorithm) in [
        ("samizdat", Algorithm::Samizdat),
        ("greedy", Algorithm::GreedyCover),
    ] {
        let r = measure(&network, algorithm, &expected).await?;
        results.insert(name.to_owned(), r);
    }
    let out = json!({
        "people": args.people,
        "follows": args.follow,
        "relays_up": args.relays,
        "relays_down": 3,
        "relays_hanging": 2,
        "latency_ms": [50, 400],
        "notes_7d": expected.len(),
        "runs": results,
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "time to feed: {} follows over {} relays (+3 dead, +2 hanging), 50–400 ms latency, {} notes in 7 days",
            args.follow, args.relays, expected.len()
        );
        for (name, r) in &results {
            println!(
                "  {name:<9} first page {:>6} ms   in hand: 1 s {:>5.1}%   3 s {:>5.1}%   10 s {:>5.1}%   ({} relays)",
                r["first_page_ms"], pct(&r["share_1s"]), pct(&r["share_3s"]), pct(&r["share_10s"]), r["relays_used"]
            );
        }
    }
    network.shutdown().await;
    Ok(())
}

fn pct(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(0.0) * 100.0
}

/// One fresh session syncing with `algorithm`, sampled while it runs.
async fn measure(
    network: &DemoNetwork,
    algorithm: Algorithm,
    expected: &[EventId],
) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let mut config = SessionConfig::default();
    config.engine.algorithm = algorithm;
    config.engine.phase_timeout = Duration::from_secs(8);
    config.engine.net.transport.connect_timeout = Duration::from_secs(4);
    config.engine.net.eose_timeout = Duration::from_secs(8);
    let session = network.open_session(dir.path(), config)?;
    let started = Instant::now();
    let syncing = {
        let session = session.clone();
        tokio::spawn(async move { session.sync(|_| {}).await })
    };
    let mut first_page_ms: Option<u128> = None;
    let mut shares = Vec::new();
    let store = session.engine().store().clone();
    let in_hand = |store: &samizdat_store::Store| -> usize {
        expected
            .chunks(500)
            .map(|chunk| {
                store
                    .query(&[Filter::new().ids(chunk.iter().copied()).limit(chunk.len())])
                    .map_or(0, |v| v.len())
            })
            .sum()
    };
    for checkpoint in CHECKPOINTS {
        let at = Duration::from_secs(checkpoint);
        while started.elapsed() < at {
            if first_page_ms.is_none() && session.following_feed(PAGE, None)?.len() >= PAGE {
                first_page_ms = Some(started.elapsed().as_millis());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shares.push(in_hand(&store) as f64 / expected.len().max(1) as f64);
    }
    let report = syncing.await??;
    session.shutdown().await;
    Ok(json!({
        "first_page_ms": first_page_ms,
        "share_1s": shares[0],
        "share_3s": shares[1],
        "share_10s": shares[2],
        "relays_used": report.plan.connections,
        "orphans": report.plan.orphans.len(),
    }))
}
