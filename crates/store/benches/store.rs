//! Store benchmark: prints figures, asserts nothing.
//!
//! Builds a store of `SAMIZDAT_BENCH_EVENTS` events (default 1,000,000) over
//! 10,000 authors with power-law posting rates, Zipf-distributed words and
//! realistic tags, spread over one year, then measures:
//! - batched insert rate (events/s), next to single-core Schnorr verification
//!   rate measured in the same run (the checks that will feed the store);
//! - a 100-event "following" page over 1,000 authors (median, p95);
//! - local full-text search, newest 50 matches of a common and a rare word;
//! - bytes on disk per event against the raw JSON size;
//! - the process's peak resident memory.
//!
//! Run: `cargo bench -p samizdat-store` (add `SAMIZDAT_BENCH_EVENTS=100000`
//! for a quick look).

use std::time::{Duration, Instant};

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samizdat_store::Store;

const AUTHORS: usize = 10_000;
const FOLLOWED: usize = 1_000;
const VOCABULARY: usize = 5_000;
const YEAR: u64 = 365 * 24 * 3600;

fn main() {
    let total: usize = std::env::var("SAMIZDAT_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let batch_size: usize = std::env::var("SAMIZDAT_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.sqlite");
    let store = Store::open(&path).expect("open store");
    let mut rng = StdRng::seed_from_u64(7);

    let keys: Vec<PublicKey> = (0..AUTHORS)
        .map(|i| {
            let mut b = [0u8; 32];
            b[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            b[31] = 1;
            Keys::new(SecretKey::from_slice(&b).expect("key")).public_key()
        })
        .collect();
    // Power-law posting weights: author i posts ~ 1/(i+10)^0.8.
    let weights: Vec<f64> = (0..AUTHORS)
        .map(|i| 1.0 / ((i + 10) as f64).powf(0.8))
        .collect();
    let author_cdf = cdf(&weights);
    let word_cdf = cdf(&(0..VOCABULARY)
        .map(|i| 1.0 / (i + 1) as f64)
        .collect::<Vec<_>>());
    let words: Vec<String> = (0..VOCABULARY).map(word).collect();
    let now = Timestamp::now().as_secs();

    let verify_eps = verify_rate();

    let mut raw_json = 0usize;
    let mut insert_time = Duration::ZERO;
    let mut inserted = 0usize;
    while inserted < total {
        let n = batch_size.min(total - inserted);
        let batch: Vec<Event> = (0..n)
            .map(|_| synthetic_event(&mut rng, &keys, &author_cdf, &word_cdf, &words, now))
            .collect();
        raw_json += batch.iter().map(|e| e.as_json().len()).sum::<usize>();
        let start = Instant::now();
        store.insert_batch(&batch).expect("insert batch");
        insert_time += start.elapsed();
        inserted += n;
    }
    let insert_eps = inserted as f64 / insert_time.as_secs_f64();
    store.checkpoint().expect("checkpoint");

    // A "following" page: 1,000 authors drawn from everyone, newest 100 notes.
    let mut page = Vec::new();
    let mut page_len = 0;
    for round in 0..40 {
        let mut follow_rng = StdRng::seed_from_u64(round);
        let follows: Vec<PublicKey> = (0..FOLLOWED)
            .map(|_| keys[follow_rng.random_range(0..AUTHORS)])
            .collect();
        let filter = Filter::new()
            .authors(follows)
            .kind(Kind::TextNote)
            .limit(100);
        let start = Instant::now();
        let got = store.query(&[filter]).expect("page");
        page.push(start.elapsed());
        page_len = got.len();
    }

    let common = &words[0];
    let rare = &words[VOCABULARY - 300];
    let search = |q: &str| {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..20 {
            let filter = Filter::new().search(q).limit(50);
            let start = Instant::now();
            n = store.query(&[filter]).expect("search").len();
            times.push(start.elapsed());
        }
        (times, n)
    };
    let (common_times, common_n) = search(common);
    let (rare_times, rare_n) = search(rare);

    // NIP-45 COUNT from the indexes, beside loading the same events: the
    // busiest author's notes, and every note.
    let timed = |f: &dyn Fn() -> usize| {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..5 {
            let start = Instant::now();
            n = f();
            times.push(start.elapsed());
        }
        (median(&mut times), n)
    };
    let author = Filter::new().author(keys[0]).kind(Kind::TextNote);
    let notes = Filter::new().kind(Kind::TextNote);
    let (count_author, n_author) = timed(&|| {
        store
            .count(std::slice::from_ref(&author), &[])
            .expect("count") as usize
    });
    let (load_author, _) = timed(&|| {
        let f = author.clone().limit(total);
        store.query(&[f]).expect("query").len()
    });
    let (count_all, n_all) = timed(&|| {
        store
            .count(std::slice::from_ref(&notes), &[])
            .expect("count") as usize
    });

    let disk = store.size_on_disk().expect("size");
    let raw_per_event = raw_json as f64 / inserted as f64;
    let disk_per_event = disk as f64 / inserted as f64;

    println!(
        "samizdat-store benchmark: {inserted} events, {AUTHORS} authors, batches of {batch_size}"
    );
    println!("  verify (1 core, same run) : {verify_eps:>10.0} events/s");
    println!(
        "  batched insert            : {insert_eps:>10.0} events/s   ({:.1}x one core of verification; target >= 30,000)",
        insert_eps / verify_eps
    );
    println!(
        "  following page (100 of {FOLLOWED} authors): median {:.2} ms, p95 {:.2} ms, {page_len} events (target <= 5 ms)",
        ms(median(&mut page)),
        ms(p95(&mut page))
    );
    println!(
        "  search common word '{common}': median {:.2} ms, p95 {:.2} ms, {common_n} results (target <= 50 ms)",
        ms(median(&mut common_times.clone())),
        ms(p95(&mut common_times.clone()))
    );
    println!(
        "  search rare word '{rare}'  : median {:.2} ms, p95 {:.2} ms, {rare_n} results (target <= 50 ms)",
        ms(median(&mut rare_times.clone())),
        ms(p95(&mut rare_times.clone()))
    );
    println!(
        "  COUNT one author's notes   : {:.2} ms ({n_author} events; loading them: {:.2} ms, {:.0}x)",
        ms(count_author),
        ms(load_author),
        load_author.as_secs_f64() / count_author.as_secs_f64().max(1e-9)
    );
    println!(
        "  COUNT every note           : {:.2} ms ({n_all} events)",
        ms(count_all)
    );
    println!(
        "  disk: {:.0} bytes/event vs raw JSON {:.0} bytes/event = {:.2}x (target <= 2x); file {:.1} MiB",
        disk_per_event,
        raw_per_event,
        disk_per_event / raw_per_event,
        disk as f64 / (1024.0 * 1024.0)
    );
    println!("  peak memory (VmHWM)       : {:.0} MiB", peak_rss_mib());
}

fn synthetic_event(
    rng: &mut StdRng,
    keys: &[PublicKey],
    author_cdf: &[f64],
    word_cdf: &[f64],
    words: &[String],
    now: u64,
) -> Event {
    let author = keys[sample(rng, author_cdf)];
    let n_words = rng.random_range(6..30);
    let content: Vec<&str> = (0..n_words)
        .map(|_| words[sample(rng, word_cdf)].as_str())
        .collect();
    let mut tags = Vec::new();
    let roll: f64 = rng.random();
    if roll < 0.35 {
        let mut id = [0u8; 32];
        rng.fill(&mut id);
        tags.push(Tag::parse(["e", &hex(&id), "", "root"]).expect("e tag"));
        tags.push(Tag::public_key(keys[rng.random_range(0..keys.len())]));
    } else if roll < 0.45 {
        tags.push(Tag::hashtag(words[rng.random_range(0..200)].clone()));
    }
    let mut id = [0u8; 32];
    rng.fill(&mut id);
    let mut sig = [0u8; 64];
    rng.fill(&mut sig);
    Event::new(
        EventId::from_byte_array(id),
        author,
        Timestamp::from_secs(now - rng.random_range(0..YEAR)),
        Kind::TextNote,
        tags,
        content.join(" "),
        Signature::from_slice(&sig).expect("64 bytes"),
    )
}

/// Schnorr verifications per second on one core, on real signed events.
fn verify_rate() -> f64 {
    let keys = Keys::generate();
    let events: Vec<Event> = (0..3_000)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("verify me {i}"))
                .finalize(&keys)
                .expect("sign")
        })
        .collect();
    let start = Instant::now();
    for e in &events {
        e.verify().expect("valid");
    }
    events.len() as f64 / start.elapsed().as_secs_f64()
}

fn cdf(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

fn sample(rng: &mut StdRng, cdf: &[f64]) -> usize {
    let x: f64 = rng.random();
    cdf.partition_point(|&c| c < x).min(cdf.len() - 1)
}

/// A pronounceable pseudo-word for vocabulary rank `i`.
fn word(i: usize) -> String {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "nu", "re", "sa", "ti", "vo", "ze", "qu", "pa", "do",
    ];
    let mut n = i + 12;
    let mut s = String::new();
    while n > 0 {
        s.push_str(SYL[n % SYL.len()]);
        n /= SYL.len();
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p95(v: &mut [Duration]) -> Duration {
    v.sort();
    v[(v.len() * 95 / 100).min(v.len() - 1)]
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
