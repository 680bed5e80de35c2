//! `samizdat bench trust`: the web of trust's cost on a generated graph —
//! N follows with M follows each (2,000 × 500 = 1M edges by default) drawn
//! from a population with popular accounts (Zipf), plus public mute lists.
//! Build time, the time to take one changed list, lookups per second and
//! memory (the graph's own estimate and the process's resident growth),
//! first in memory, then the same graph read from a real store the way a
//! session refreshes it (heads compared, only changed lists read).

use std::time::Instant;

use nostr::prelude::*;
use rand::{Rng, SeedableRng};
use samizdat_client::base::trust::{Key, ListKind, TrustGraph};
use samizdat_client::session::trust::{refresh_from_store, StoreCursor};
use samizdat_demo::load::contact_list;
use serde_json::json;

/// `samizdat bench trust` arguments.
#[derive(clap::Args)]
pub struct TrustBenchArgs {
    /// People the user follows.
    #[arg(long, default_value_t = 2_000)]
    follows: usize,
    /// People each of them follows.
    #[arg(long, default_value_t = 500)]
    each: usize,
    /// People each of them mutes (public mute list).
    #[arg(long, default_value_t = 20)]
    mutes: usize,
    /// Skip the part through a real store (it writes N signed lists first).
    #[arg(long)]
    memory_only: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

fn rss_mib() -> f64 {
    super::bench::proc_status_mib("VmRSS")
}

/// A population of `n` keys; picks favour low indexes (Zipf-like: a few
/// accounts are followed by most people).
struct Population {
    keys: Vec<Key>,
}

impl Population {
    fn new(n: usize, rng: &mut impl Rng) -> Self {
        Self {
            keys: (0..n).map(|_| rng.random()).collect(),
        }
    }

    fn pick(&self, rng: &mut impl Rng) -> Key {
        // Inverse transform of a power law over ranks.
        let u: f64 = rng.random_range(0.0..1.0);
        let rank = ((self.keys.len() as f64).powf(u) - 1.0) as usize;
        self.keys[rank.min(self.keys.len() - 1)]
    }

    /// `n` distinct people (at most a tenth of the population, so drawing
    /// them stays quick however skewed the picks are).
    fn list(&self, n: usize, rng: &mut impl Rng) -> Vec<Key> {
        let n = n.min(self.keys.len() / 10);
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let k = self.pick(rng);
            if seen.insert(k) {
                out.push(k);
            }
        }
        out
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs the benchmark.
pub async fn run(args: TrustBenchArgs) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(30);
    let me: Key = rng.random();
    let population = Population::new(args.follows * 100, &mut rng);
    let follows: Vec<Key> = (0..args.follows).map(|_| rng.random()).collect();
    let lists: Vec<(Vec<Key>, Vec<Key>)> = follows
        .iter()
        .map(|_| {
            (
                population.list(args.each, &mut rng),
                population.list(args.mutes, &mut rng),
            )
        })
        .collect();

    let rss_before = rss_mib();
    let t = Instant::now();
    let mut graph = TrustGraph::new(me);
    graph.set_follows(&follows);
    for (who, (f, m)) in follows.iter().zip(&lists) {
        graph.set_list(who, ListKind::Follows, 1, f);
        graph.set_list(who, ListKind::Mutes, 1, m);
    }
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss_growth = rss_mib() - rss_before;
    let heap_mib = graph.heap_bytes() as f64 / (1024.0 * 1024.0);

    // One changed list: a follow adds 5 people and drops 5.
    let mut update_ms = Vec::new();
    for round in 0..200u64 {
        let i = rng.random_range(0..follows.len());
        let mut list = lists[i].0.clone();
        list.truncate(list.len().saturating_sub(5));
        list.extend(population.list(5, &mut rng));
        let t = Instant::now();
        graph.set_list(&follows[i], ListKind::Follows, 2 + round, &list);
        update_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let update_ms = median(update_ms);
    // Lookups as a feed makes them: popular people more often (repeats kept).
    let probes: Vec<Key> = (0..100_000).map(|_| population.pick(&mut rng)).collect();
    let t = Instant::now();
    let mut passing = 0usize;
    for p in &probes {
        passing += usize::from(graph.trust(p).passes(1));
    }
    let lookups_per_sec = probes.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let explained = graph.explain(&population.keys[0]);
    let explain_ms = t.elapsed().as_secs_f64() * 1e3;

    let store = if args.memory_only {
        serde_json::Value::Null
    } else {
        through_store(&args, &lists, me).await?
    };
    let out = json!({
        "follows": args.follows,
        "each": args.each,
        "edges": graph.edges(),
        "people": graph.people(),
        "build_ms": build_ms,
        "update_one_list_ms": update_ms,
        "lookups_per_sec": lookups_per_sec,
        "explain_ms": explain_ms,
        "explain_followed_by": explained.followed_by.len(),
        "graph_heap_mib": heap_mib,
        "rss_growth_mib": rss_growth,
        "probes_passing_share": passing as f64 / probes.len() as f64,
        "store": store,
    });
    if args.json {
        println!("{out}");
        return Ok(());
    }
    println!(
        "web of trust: {} follows × {} follows each + {} mutes each ({} edges, {} people)",
        args.follows,
        args.each,
        args.mutes,
        graph.edges(),
        graph.people()
    );
    println!("  build            {build_ms:>9.1} ms   (goal < 2000)");
    println!("  one list changed {update_ms:>9.3} ms   (goal < 10; median of 200)");
    println!("  memory           {heap_mib:>9.1} MiB  graph estimate; {rss_growth:.1} MiB resident growth (goal < 100)");
    println!("  lookups          {:>9.0} /s", lookups_per_sec);
    println!(
        "  explain          {explain_ms:>9.2} ms   (the most followed: followed by {})",
        explained.followed_by.len()
    );
    if !store.is_null() {
        println!(
            "  through a store: write {:.1} s (setup, {:.0} MiB on disk), build {:.0} ms, refresh with nothing changed {:.1} ms, refresh after one list changed {:.1} ms (median of 20)",
            store["write_s"].as_f64().unwrap_or(0.0),
            store["store_mib"].as_f64().unwrap_or(0.0),
            store["build_ms"].as_f64().unwrap_or(0.0),
            store["refresh_unchanged_ms"].as_f64().unwrap_or(0.0),
            store["refresh_one_changed_ms"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(())
}

/// The same graph from a real store, read as a session refreshes it: list
/// heads compared with the graph's copies, changed lists read (`p` tags as
/// raw keys, never decoded as events).
async fn through_store(
    args: &TrustBenchArgs,
    lists: &[(Vec<Key>, Vec<Key>)],
    me: Key,
) -> anyhow::Result<serde_json::Value> {
    let dir = tempfile::tempdir()?;
    let store = samizdat_store::Store::open(dir.path().join("trust.sqlite"))?;
    let t = Instant::now();
    let mut keys = Vec::new();
    let mut events = Vec::new();
    for (f, _) in lists {
        let k = Keys::generate();
        events.extend(contact_list(&k, f, 1_000));
        keys.push(k);
        if events.len() == 200 {
            store.insert_batch(&events)?;
            events.clear();
        }
    }
    store.insert_batch(&events)?;
    let write_s = t.elapsed().as_secs_f64();
    store.checkpoint()?;
    let store_mib = store.size_on_disk()? as f64 / (1024.0 * 1024.0);
    let real_follows: Vec<Key> = keys.iter().map(|k| k.public_key().to_bytes()).collect();
    let mut cursor = StoreCursor::default();
    let mut refresh = |graph: &mut TrustGraph| -> anyhow::Result<usize> {
        Ok(refresh_from_store(&store, graph, &mut cursor, &real_follows)?.lists_read)
    };
    let mut graph = TrustGraph::new(me);
    let t = Instant::now();
    let read = refresh(&mut graph)?;
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    refresh(&mut graph)?;
    let refresh_unchanged_ms = t.elapsed().as_secs_f64() * 1e3;
    // One follow changes their list, 20 times over; the median refresh.
    let mut times = Vec::new();
    let mut reread = 0;
    for round in 0..20u64 {
        let who = (round as usize * 97) % keys.len();
        let mut changed: Vec<Key> = lists[who].0.iter().skip(5).copied().collect();
        changed.push(Keys::generate().public_key().to_bytes());
        store.insert_batch(
            &contact_list(&keys[who], &changed, 2_000 + round)
                .into_iter()
                .collect::<Vec<_>>(),
        )?;
        let t = Instant::now();
        reread += refresh(&mut graph)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let refresh_one_changed_ms = median(times);
    Ok(json!({
        "lists": read,
        "each": args.each,
        "write_s": write_s,
        "store_mib": store_mib,
        "build_ms": build_ms,
        "refresh_unchanged_ms": refresh_unchanged_ms,
        "refresh_one_changed_ms": refresh_one_changed_ms,
        "lists_reread": reread,
        "refresh_rounds": 20,
    }))
}
