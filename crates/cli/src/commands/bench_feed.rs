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
    /// The exposure cap both planners read under, percent (25, a new
    /// profile's default; 100: no cap).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u8).range(1..=100))]
    cap: u8,
    /// Fill each profile's store with this many notes of the followed
    /// people before it starts (history, dated over the last day): the
    /// scale run, e.g. `--follow 2000 --fill 1000000`.
    #[arg(long, default_value_t = 0)]
    fill: usize,
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
        strangers: false,
        media: false,
    };
    let network = DemoNetwork::start(&options).await?;
    let week_ago = Timestamp::from_secs(Timestamp::now().as_secs() - 7 * 86_400);
    let expected: Vec<EventId> = network
        .followed_notes_since(week_ago)
        .iter()
        .map(|e| e.id)
        .collect();
    let reachable = network.reachable_notes_since(week_ago).len();
    let fill = if args.fill > 0 {
        let keys: Vec<Keys> = network
            .followed
            .iter()
            .map(|&i| network.people[i].keys.clone())
            .collect();
        samizdat_demo::load::signed_notes_by(&keys, args.fill)
    } else {
        Vec::new()
    };
    // What any client could hold at 1 s, asking every relay about everyone
    // 60 ms after it starts (the discovery phase).
    let bound_1s = network.bound_at(week_ago, Duration::from_millis(60), Duration::from_secs(1));
    let mut results = serde_json::Map::new();
    for (name, algorithm) in [
        ("samizdat", Algorithm::Samizdat),
        ("greedy", Algorithm::GreedyCover),
    ] {
        let config = bench_config(algorithm, args.cap);
        let r = measure(&network, &config, &expected, reachable, &fill).await?;
        results.insert(name.to_owned(), r);
    }
    let out = json!({
        "people": args.people,
        "follows": args.follow,
        "relays_up": args.relays,
        "relays_down": 3,
        "relays_hanging": 2,
        "latency_ms": [50, 400],
        "cap_percent": args.cap,
        "notes_7d": expected.len(),
        "notes_7d_reachable": reachable,
        "bound_1s": bound_1s,
        "runs": results,
    });
    let mut out = out;
    out["peak_rss_mib"] = json!(peak_rss_mib());
    if args.json {
        println!("{out}");
    } else {
        println!(
            "time to feed: {} follows over {} relays (+3 dead, +2 hanging), 50–400 ms latency, exposure cap {}%, {} notes in 7 days ({} on relays that are up)",
            args.follow, args.relays, args.cap, expected.len(), reachable
        );
        println!(
            "  bound: {:.1}% of them could be in hand at 1 s (every relay that is up asked about everyone, two round trips each)",
            bound_1s * 100.0
        );
        for (name, r) in &results {
            let cold = &r["cold"];
            println!(
                "  {name:<9} cold: first page {:>5} ms, in hand 1 s {:>5.1}%  3 s {:>5.1}% ({:>5.1}% of reachable)  10 s {:>5.1}%  ({} relays)",
                cold["first_page_ms"], pct(&cold["share_1s"]), pct(&cold["share_3s"]),
                pct(&cold["reachable_3s"]), pct(&cold["share_10s"]), cold["relays_used"]
            );
            let warm = &r["warm"];
            println!(
                "  {:<9} warm: first page {:>5} ms (same store, second run), next page {:.1} ms, sync done {:>5} ms; plan {:.1} ms",
                "", warm["first_page_ms"], warm["next_page_ms"].as_f64().unwrap_or(0.0), warm["sync_ms"],
                cold["plan_ms"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(rss) = out["peak_rss_mib"].as_f64() {
            println!(
                "  peak RSS of this process (demo relays, history and sessions): {rss:.0} MiB"
            );
        }
    }
    network.shutdown().await;
    Ok(())
}

/// This process's peak resident memory (the demo relays, the generated
/// history and the sessions together), from `/proc/self/status`.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn pct(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(0.0) * 100.0
}

fn bench_config(algorithm: Algorithm, cap: u8) -> SessionConfig {
    let mut config = SessionConfig::default();
    config.engine.algorithm = algorithm;
    config.engine.max_exposure = Some(f64::from(cap) / 100.0);
    config.engine.phase_timeout = Duration::from_secs(8);
    config.engine.net.transport.connect_timeout = Duration::from_secs(4);
    config.engine.net.eose_timeout = Duration::from_secs(8);
    config
}

/// A fresh session syncing with `algorithm` (cold), sampled while it runs;
/// then the same profile opened again (warm): when its first page shows.
async fn measure(
    network: &DemoNetwork,
    config: &SessionConfig,
    expected: &[EventId],
    reachable: usize,
    fill: &[Event],
) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let fill_secs = if fill.is_empty() {
        None
    } else {
        let started = Instant::now();
        let store = samizdat_store::Store::open(dir.path().join("events.sqlite"))?;
        for batch in fill.chunks(10_000) {
            store.insert_batch(batch)?;
        }
        Some(started.elapsed().as_secs_f64())
    };
    let started = Instant::now();
    let session = network.open_session(dir.path(), config.clone())?;
    let syncing = {
        let session = session.clone();
        tokio::spawn(async move { session.sync(|_| {}).await })
    };
    let mut first_page_ms: Option<u128> = None;
    let mut counts = Vec::new();
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
        counts.push(in_hand(&store));
    }
    let report = syncing.await??;
    // The planner alone, on what the store now holds (lists, evidence,
    // delivery history, the ledger for the cap).
    let follows = session.follows()?;
    let plan_started = Instant::now();
    session
        .engine()
        .plan(&follows, &session.own_read_relays())?;
    let plan_ms = plan_started.elapsed().as_secs_f64() * 1e3;
    session.shutdown().await;
    drop(session);
    let share = |n: usize| n as f64 / expected.len().max(1) as f64;
    let cold = json!({
        "first_page_ms": first_page_ms,
        "share_1s": share(counts[0]),
        "share_3s": share(counts[1]),
        "share_10s": share(counts[2]),
        "reachable_3s": counts[1] as f64 / reachable.max(1) as f64,
        "relays_used": report.plan.connections,
        "orphans": report.plan.orphans.len(),
        "plan_ms": plan_ms,
        "fill_secs": fill_secs,
    });
    // Warm: the same profile again. The feed is in the store before any
    // relay answers; the sync refreshes behind it.
    let started = Instant::now();
    let session = network.reopen_session(dir.path(), config.clone())?;
    let first = session.following_feed(PAGE, None)?;
    let warm_first_page_ms = (first.len() >= PAGE).then(|| started.elapsed().as_millis());
    let paged = Instant::now();
    if let Some(oldest) = first.last() {
        session.following_feed(PAGE, Some(oldest.created_at))?;
    }
    let next_page_ms = paged.elapsed().as_secs_f64() * 1e3;
    session.sync(|_| {}).await?;
    let sync_ms = started.elapsed().as_millis();
    session.shutdown().await;
    Ok(json!({
        "cold": cold,
        "warm": {"first_page_ms": warm_first_page_ms, "next_page_ms": next_page_ms, "sync_ms": sync_ms},
    }))
}
