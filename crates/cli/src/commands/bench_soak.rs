//! `samizdat bench soak`: a relay under a mixed, bounded load for a fixed
//! time, loopback only. Publishers (each event waits for its OK), readers
//! (REQ to EOSE, latency kept per minute), live subscribers, slow readers
//! that never read, reconnect storms that drop the TCP connection without a
//! close, and an abuser sending oversize, malformed, binary and forged
//! frames. Every second the relay process's RSS and open files are sampled
//! (`--pid`); at the end every acknowledged event is looked up in the
//! relay's database (`--db`). Prints the curves' start, peak and end, p99
//! REQ latency per minute, and what was lost; exits non-zero on any loss.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use nostr::prelude::*;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::bench::{connect, next_json, Ws};

/// Arguments of `samizdat bench soak`.
#[derive(clap::Args, Clone)]
pub struct SoakArgs {
    /// The relay (`ws://127.0.0.1:PORT`).
    #[arg(long)]
    url: String,
    /// The relay's process id, to sample its RSS and open files.
    #[arg(long)]
    pid: Option<u32>,
    /// The relay's SQLite file, to check every acknowledged event at the end.
    #[arg(long)]
    db: Option<PathBuf>,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 600)]
    secs: u64,
    /// Events per second published in all (the load is bounded).
    #[arg(long, default_value_t = 200)]
    rate: u32,
}

const PUBLISHERS: usize = 8;
const READERS: usize = 4;
const LIVE: usize = 20;
const SLOW: usize = 4;
const STORM_SIZE: usize = 100;
const STORM_EVERY: Duration = Duration::from_secs(20);

/// What every task adds to.
#[derive(Default)]
struct Tally {
    stop: AtomicBool,
    acked: Mutex<Vec<EventId>>,
    refused: AtomicU64,
    unanswered: AtomicU64,
    /// (minute, milliseconds) per REQ.
    latencies: Mutex<Vec<(u64, f64)>>,
    live_events: AtomicU64,
    slow_connections: AtomicU64,
    storm_connections: AtomicU64,
    storm_failures: AtomicU64,
    bad_frames: AtomicU64,
    bad_answers: AtomicU64,
    reconnects: AtomicU64,
}

impl Tally {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// One sample of the relay process. RSS splits into anonymous memory (the
/// heap: what a leak grows) and file-backed pages (the database's memory
/// map, up to its configured size, which the kernel may reclaim).
#[derive(Clone, Copy)]
struct Sample {
    at: f64,
    rss_kb: u64,
    anon_kb: u64,
    fds: u64,
}

/// Runs the soak and prints its figures.
pub async fn run(args: SoakArgs) -> anyhow::Result<()> {
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    let per_publisher = (f64::from(args.rate) / PUBLISHERS as f64).max(0.1);
    for i in 0..PUBLISHERS {
        tasks.push(tokio::spawn(publisher(
            args.url.clone(),
            tally.clone(),
            per_publisher,
            i,
        )));
    }
    for i in 0..READERS {
        tasks.push(tokio::spawn(reader(
            args.url.clone(),
            tally.clone(),
            started,
            i,
        )));
    }
    for _ in 0..LIVE {
        tasks.push(tokio::spawn(live(args.url.clone(), tally.clone())));
    }
    for _ in 0..SLOW {
        tasks.push(tokio::spawn(slow(args.url.clone(), tally.clone())));
    }
    tasks.push(tokio::spawn(storms(args.url.clone(), tally.clone())));
    tasks.push(tokio::spawn(abuser(args.url.clone(), tally.clone())));
    let samples = sample(args.pid, args.secs, started).await;
    tally.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(40), task).await;
    }
    report(&args, &tally, &samples, started.elapsed())
}

/// Samples the relay's RSS and open files every second for `secs`.
async fn sample(pid: Option<u32>, secs: u64, started: Instant) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while started.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        let Some(pid) = pid else { continue };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
                .unwrap_or(0)
        };
        let (rss_kb, anon_kb) = (field("VmRSS:"), field("RssAnon:"));
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
        samples.push(Sample {
            at: started.elapsed().as_secs_f64(),
            rss_kb,
            anon_kb,
            fds,
        });
    }
    samples
}

/// Connects, retrying while the soak runs.
async fn reconnect(url: &str, tally: &Tally) -> Option<Ws> {
    while tally.running() {
        match connect(url).await {
            Ok(ws) => return Some(ws),
            Err(_) => {
                tally.reconnects.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    None
}

/// Publishes notes at `per_second`, each waiting for its OK.
async fn publisher(url: String, tally: Arc<Tally>, per_second: f64, index: usize) {
    let keys = Keys::generate();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut ws = None;
    let mut n = 0u64;
    while tally.running() {
        tick.tick().await;
        if ws.is_none() {
            ws = reconnect(&url, &tally).await;
        }
        let Some(socket) = ws.as_mut() else { break };
        n += 1;
        let Some(event) = samizdat_demo::load::soak_note(&keys, index, n) else {
            continue;
        };
        let id = event.id;
        let answer = async {
            socket
                .send(Message::text(json!(["EVENT", event]).to_string()))
                .await?;
            loop {
                let m = next_json(socket).await?;
                if m[0] == "OK" && m[1] == id.to_hex() {
                    return anyhow::Ok(m[2] == true);
                }
            }
        };
        match answer.await {
            Ok(true) => tally
                .acked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id),
            Ok(false) => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                tally.unanswered.fetch_add(1, Ordering::Relaxed);
                ws = None;
            }
        }
    }
}

/// REQs to EOSE, one after another, latency recorded by minute.
async fn reader(url: String, tally: Arc<Tally>, started: Instant, index: usize) {
    let mut ws = None;
    let mut n = 0usize;
    while tally.running() {
        if ws.is_none() {
            ws = reconnect(&url, &tally).await;
        }
        let Some(socket) = ws.as_mut() else { break };
        n += 1;
        let sub = format!("r{index}-{n}");
        let filter = match n % 3 {
            0 => json!({"#t": [format!("t{}", n % 100)], "limit": 20}),
            1 => {
                json!({"kinds": [1], "since": Timestamp::now().as_secs().saturating_sub(60), "limit": 50})
            }
            _ => json!({"kinds": [1], "limit": 100}),
        };
        let t0 = Instant::now();
        let done = async {
            socket
                .send(Message::text(json!(["REQ", sub, filter]).to_string()))
                .await?;
            loop {
                let m = next_json(socket).await?;
                if m[1] == sub.as_str() && (m[0] == "EOSE" || m[0] == "CLOSED") {
                    break;
                }
            }
            socket
                .send(Message::text(json!(["CLOSE", sub]).to_string()))
                .await?;
            anyhow::Ok(())
        };
        match done.await {
            Ok(()) => {
                let minute = started.elapsed().as_secs() / 60;
                let ms = t0.elapsed().as_secs_f64() * 1e3;
                tally
                    .latencies
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((minute, ms));
            }
            Err(_) => ws = None,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A live subscription to every new note, read as it comes.
async fn live(url: String, tally: Arc<Tally>) {
    while tally.running() {
        let Some(mut ws) = reconnect(&url, &tally).await else {
            break;
        };
        if ws
            .send(Message::text(r#"["REQ","live",{"kinds":[1],"limit":0}]"#))
            .await
            .is_err()
        {
            continue;
        }
        while tally.running() {
            match tokio::time::timeout(Duration::from_secs(1), ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.starts_with("[\"EVENT\"") => {
                    tally.live_events.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Some(Ok(_))) | Err(_) => {}
                Ok(None) | Ok(Some(Err(_))) => break,
            }
        }
    }
}

/// Subscribes to a lot and never reads; a new one every 30 s.
async fn slow(url: String, tally: Arc<Tally>) {
    while tally.running() {
        if let Some(mut ws) = reconnect(&url, &tally).await {
            tally.slow_connections.fetch_add(1, Ordering::Relaxed);
            let _ = ws
                .send(Message::text(r#"["REQ","all",{"kinds":[1],"limit":5000}]"#))
                .await;
            let deadline = Instant::now() + Duration::from_secs(30);
            while tally.running() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// Every [`STORM_EVERY`], [`STORM_SIZE`] connections at once, each sends a
/// REQ and drops its TCP connection without a close frame.
async fn storms(url: String, tally: Arc<Tally>) {
    while tally.running() {
        let wave: Vec<_> = (0..STORM_SIZE)
            .map(|i| {
                let url = url.clone();
                tokio::spawn(async move {
                    let mut ws = connect(&url).await?;
                    ws.send(Message::text(
                        json!(["REQ", format!("s{i}"), {"kinds": [1], "limit": 10}]).to_string(),
                    ))
                    .await?;
                    drop(ws);
                    anyhow::Ok(())
                })
            })
            .collect();
        for task in wave {
            match task.await {
                Ok(Ok(())) => tally.storm_connections.fetch_add(1, Ordering::Relaxed),
                _ => tally.storm_failures.fetch_add(1, Ordering::Relaxed),
            };
        }
        let deadline = Instant::now() + STORM_EVERY;
        while tally.running() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Oversize, malformed, binary and forged frames, ten a second; every
/// answer must be a NOTICE, an OK false or a CLOSED (or the connection
/// closed, for the oversize frame; an AUTH challenge greets each new one).
async fn abuser(url: String, tally: Arc<Tally>) {
    let keys = Keys::generate();
    let mut ws: Option<Ws> = None;
    let mut n = 0u64;
    while tally.running() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ws.is_none() {
            ws = reconnect(&url, &tally).await;
        }
        let Some(socket) = ws.as_mut() else { break };
        n += 1;
        let frame = match n % 6 {
            0 => Message::text(format!(
                r#"["EVENT",{{"content":"{}"}}]"#,
                "a".repeat(600 * 1024)
            )),
            1 => Message::text("[[[[\"REQ\""),
            2 => Message::binary(vec![0u8, 159, 146, 150]),
            3 => {
                let Some(forged) = samizdat_demo::load::forged_note(&keys) else {
                    continue;
                };
                Message::text(json!(["EVENT", forged]).to_string())
            }
            4 => Message::text(
                json!([
                    "REQ",
                    "many",
                    (0..100).map(|_| json!({})).collect::<Vec<_>>()
                ])
                .to_string(),
            ),
            _ => Message::text(r#"["HELLO","world"]"#),
        };
        tally.bad_frames.fetch_add(1, Ordering::Relaxed);
        if socket.send(frame).await.is_err() {
            ws = None;
            continue;
        }
        // Read what came back so far; anything but a refusal is a finding.
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(20), socket.next()).await
        {
            match message {
                Ok(Message::Text(t)) => {
                    let refusal = t.starts_with("[\"NOTICE\"")
                        || t.starts_with("[\"AUTH\"")
                        || t.starts_with("[\"CLOSED\"")
                        || (t.starts_with("[\"OK\"") && t.contains("false"));
                    if !refusal {
                        tally.bad_answers.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(_) => {}
                Err(_) => {
                    ws = None;
                    break;
                }
            }
        }
    }
}

fn report(
    args: &SoakArgs,
    tally: &Tally,
    samples: &[Sample],
    took: Duration,
) -> anyhow::Result<()> {
    let acked = std::mem::take(&mut *tally.acked.lock().unwrap_or_else(|p| p.into_inner()));
    let lost = match &args.db {
        Some(db) => Some(count_missing(db, &acked)?),
        None => None,
    };
    println!("soak of {} for {:.0} s (rate {} events/s, {PUBLISHERS} publishers, {READERS} readers, {LIVE} live, {SLOW} slow readers, storms of {STORM_SIZE} every {} s, 10 bad frames/s)",
        args.url, took.as_secs_f64(), args.rate, STORM_EVERY.as_secs());
    let latencies = std::mem::take(&mut *tally.latencies.lock().unwrap_or_else(|p| p.into_inner()));
    println!("minute  REQs  p50 ms  p99 ms   RSS MB  (heap MB)  open files");
    let minutes = latencies.iter().map(|(m, _)| *m).max().unwrap_or(0);
    for minute in 0..=minutes {
        let mut ms: Vec<f64> = latencies
            .iter()
            .filter(|(m, _)| *m == minute)
            .map(|(_, l)| *l)
            .collect();
        ms.sort_by(f64::total_cmp);
        let pct = |p: usize| {
            ms.get((ms.len() * p / 100).min(ms.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        let last = samples.iter().rev().find(|s| (s.at as u64) / 60 == minute);
        println!(
            "{:>6} {:>5} {:>7.1} {:>7.1} {:>8.1} {:>10.1} {:>11}",
            minute + 1,
            ms.len(),
            pct(50),
            pct(99),
            last.map_or(0.0, |s| s.rss_kb as f64 / 1024.0),
            last.map_or(0.0, |s| s.anon_kb as f64 / 1024.0),
            last.map_or(0, |s| s.fds)
        );
    }
    curve(samples, "RSS MB", |s| s.rss_kb as f64 / 1024.0);
    curve(samples, "heap (RssAnon) MB", |s| s.anon_kb as f64 / 1024.0);
    curve(samples, "open files", |s| s.fds as f64);
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "events: {} acknowledged, {} refused, {} unanswered (connection lost before OK); live subscribers received {}",
        acked.len(),
        load(&tally.refused),
        load(&tally.unanswered),
        load(&tally.live_events)
    );
    println!(
        "connections: {} storm connections dropped without close ({} failed), {} slow readers, {} reconnect attempts; {} bad frames sent, {} answered with anything but a refusal",
        load(&tally.storm_connections),
        load(&tally.storm_failures),
        load(&tally.slow_connections),
        load(&tally.reconnects),
        load(&tally.bad_frames),
        load(&tally.bad_answers)
    );
    if let Some(db) = &args.db {
        let bytes: u64 = ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", db.display())).ok())
            .map(|m| m.len())
            .sum();
        println!(
            "database at the end: {:.1} MB (the store maps up to 256 MB of it: file-backed RSS)",
            bytes as f64 / 1e6
        );
    }
    match lost {
        Some(0) => println!(
            "lost: 0 of {} acknowledged events (every one is in the database)",
            acked.len()
        ),
        Some(n) => anyhow::bail!(
            "lost: {n} of {} acknowledged events are not in the database",
            acked.len()
        ),
        None => println!("lost: not checked (no --db)"),
    }
    Ok(())
}

/// Prints one sampled curve: its start (at 5 s), peak and end, and the
/// second half's peak over the first half's (about 1 when it plateaus).
fn curve(samples: &[Sample], name: &str, value: impl Fn(&Sample) -> f64) {
    let Some(first) = samples.iter().find(|s| s.at >= 5.0) else {
        return;
    };
    let peak = |part: &[Sample]| part.iter().map(&value).fold(0.0, f64::max);
    let half = samples.len() / 2;
    let (early, late) = samples.split_at(half.max(1));
    println!(
        "{name}: start {:.1} (at 5 s), peak {:.1}, end {:.1}; second half's peak / first half's peak {:.2}",
        value(first),
        peak(samples),
        samples.last().map_or(0.0, &value),
        peak(late) / peak(early).max(1e-9)
    );
}

/// How many of `ids` the database at `db` lacks.
fn count_missing(db: &std::path::Path, ids: &[EventId]) -> anyhow::Result<usize> {
    let store =
        samizdat_store::Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let mut missing = 0;
    for chunk in ids.chunks(200) {
        let found = store.query(&[Filter::new().ids(chunk.iter().copied())])?;
        missing += chunk.len() - found.len();
    }
    Ok(missing)
}
