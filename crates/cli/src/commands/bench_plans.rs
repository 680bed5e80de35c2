//! `samizdat bench plans`: why the soak's REQ latency grows with the
//! database. Fills a SQLite store with the soak's notes (8 publishers, 200 a
//! second, hashtags t0…t99) in steps, and at each size prints, for each
//! filter the soak's readers send, SQLite's query plan and the time to
//! answer it in the store (no network): p50 and p99 over many runs. A plan
//! at fault shows as a time that grows with the size while the page does not.

use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_store::Store;
use serde_json::json;

/// Arguments of `samizdat bench plans`.
#[derive(clap::Args, Clone)]
pub struct PlansBenchArgs {
    /// The largest store, in events (reached in four steps).
    #[arg(long, default_value_t = 120_000)]
    events: usize,
    /// Runs of each filter at each size.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// The soak's readers' filters (`bench soak`), by name.
fn shapes(now: u64) -> Vec<(&'static str, Filter)> {
    let parse = |v: serde_json::Value| Filter::from_json(v.to_string()).ok();
    [
        ("tag t7, limit 20", json!({"#t": ["t7"], "limit": 20})),
        (
            "kind 1, last minute, limit 50",
            json!({"kinds": [1], "since": now.saturating_sub(60), "limit": 50}),
        ),
        ("kind 1, limit 100", json!({"kinds": [1], "limit": 100})),
        ("kind 1, limit 10", json!({"kinds": [1], "limit": 10})),
        (
            "kind 1, limit 5000 (slow readers)",
            json!({"kinds": [1], "limit": 5000}),
        ),
    ]
    .into_iter()
    .filter_map(|(name, v)| Some((name, parse(v)?)))
    .collect()
}

fn pct(sorted: &[Duration], p: usize) -> f64 {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Runs the bench (blocking: call it on a blocking thread).
fn run_blocking(args: PlansBenchArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("plans.sqlite"))?;
    let keys: Vec<Keys> = (0..8).map(|_| Keys::generate()).collect();
    let now = Timestamp::now().as_secs();
    let steps = [
        args.events / 8,
        args.events / 4,
        args.events / 2,
        args.events,
    ];
    let mut stored = 0;
    let mut last_plans: Vec<Vec<String>> = Vec::new();
    for size in steps {
        if size > stored {
            let notes = samizdat_demo::load::soak_history(&keys, stored..size, now, args.events);
            for batch in notes.chunks(500) {
                store.insert_batch(batch)?;
            }
            stored = size;
            store.checkpoint()?;
        }
        if !args.json {
            println!("{size} events:");
        }
        for (i, (name, filter)) in shapes(now).into_iter().enumerate() {
            let plan = store.explain(&filter)?;
            let mut times = Vec::with_capacity(args.runs);
            let mut returned = 0;
            for _ in 0..args.runs {
                let t0 = Instant::now();
                returned = store.query(std::slice::from_ref(&filter))?.len();
                times.push(t0.elapsed());
            }
            times.sort();
            if args.json {
                println!(
                    "{}",
                    json!({"events": size, "filter": name, "returned": returned,
                           "p50_ms": pct(&times, 50), "p99_ms": pct(&times, 99), "plan": plan})
                );
                continue;
            }
            println!(
                "  {name:36} {returned:5} events  p50 {:7.3} ms  p99 {:7.3} ms",
                pct(&times, 50),
                pct(&times, 99)
            );
            if last_plans.get(i) != Some(&plan) {
                for line in &plan {
                    println!("      plan: {line}");
                }
                if last_plans.len() <= i {
                    last_plans.push(plan);
                } else {
                    last_plans[i] = plan;
                }
            }
        }
    }
    Ok(())
}

/// `samizdat bench plans`.
pub async fn run(args: PlansBenchArgs) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(args)).await?
}
