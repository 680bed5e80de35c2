//! `samizdat demo`: the outbox model at work, on this machine alone.
//!
//! Starts the seeded demo network (`samizdat-demo`: our relay several times
//! on 127.0.0.1, one of them the discovery relay, two addresses dead), then
//! runs a real client session for the demo user over real websockets: their
//! follow list and everyone's relay lists from the discovery relay, a plan,
//! subscriptions scoped to the people assigned to each relay, and a second
//! pass once the dead relays have shown themselves.
//! Prints the following feed and the outbox picture, then exits.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_client::SyncReport;
use samizdat_demo::{DemoNetwork, DemoOptions};
use samizdat_net::RelayUrl;
use serde_json::json;

/// Arguments of `samizdat demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Print one JSON object (`feed`, `outbox`) instead of text.
    #[arg(long)]
    json: bool,
    /// Keep the relays running (until Ctrl-C) to point other clients at them.
    #[arg(long)]
    keep_running: bool,
    /// Seed of the generated network.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// People in the network.
    #[arg(long, default_value_t = 120)]
    people: usize,
    /// People the demo user follows.
    #[arg(long, default_value_t = 40)]
    follow: usize,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let options = DemoOptions {
        seed: args.seed,
        people: args.people,
        follow: args.follow,
        ..DemoOptions::default()
    };
    let network = DemoNetwork::start(&options).await?;
    let relay_names: HashMap<String, String> = network
        .relays
        .iter()
        .filter_map(|r| {
            RelayUrl::parse(&r.url)
                .ok()
                .map(|u| (u.to_string(), r.name.clone()))
        })
        .collect();
    let dir = tempfile::tempdir()?;
    let session = network.open_session(dir.path(), samizdat_demo::session_config())?;
    let quiet = args.json;
    let progress = |msg: &str| {
        if !quiet {
            let named = relay_names
                .iter()
                .fold(msg.to_owned(), |m, (url, name)| m.replace(url, name));
            eprintln!("  · {named}");
        }
    };
    if !quiet {
        eprintln!(
            "Samizdat demo: {} relays on 127.0.0.1 ({} of them down), {} people, you follow {}.",
            network.relays.len(),
            options.down,
            network.people.len(),
            network.followed.len()
        );
    }
    let report = session.sync(progress).await?;
    let feed = session.following_feed(20, None)?;
    let skipped: Vec<String> = session
        .skipped_as_dead()?
        .into_iter()
        .map(|(url, _)| url)
        .collect();
    let name_of = |hex: &str| {
        network
            .name_of(hex)
            .map_or_else(|| hex[..8].to_owned(), str::to_owned)
    };
    let trust = super::demo_trust::summary(&session, &network).await?;
    let media = super::demo_media::summary(&session, &network).await?;
    if args.json {
        let mut v = json_report(&report, &feed, &name_of, &relay_names);
        v["privacy"] = serde_json::to_value(session.privacy_report()?)?;
        v["outbox"]["skipped_as_dead"] = json!(skipped);
        v["trust"] = trust.to_json();
        v["media"] = media.to_json();
        println!("{v}");
    } else {
        let shown = Shown {
            feed: &feed,
            name_of: &name_of,
            relay_names: &relay_names,
            skipped: &skipped,
        };
        print_report(&report, &shown, started.elapsed());
        super::demo_trust::print(&trust);
        super::demo_media::print(&media);
    }
    session.shutdown().await;
    if args.keep_running {
        eprintln!("Relays stay up until Ctrl-C:");
        for r in &network.relays {
            eprintln!("  {:<16} {}", r.name, r.url);
        }
        eprintln!(
            "The demo user is {}",
            network.user.public_key().to_bech32()?
        );
        tokio::signal::ctrl_c().await?;
    }
    network.shutdown().await;
    Ok(())
}

fn age(created_at: Timestamp) -> String {
    let secs = Timestamp::now()
        .as_secs()
        .saturating_sub(created_at.as_secs());
    match secs {
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

fn is_reply(e: &Event) -> bool {
    e.tags
        .iter()
        .any(|t| t.as_slice().first().map(String::as_str) == Some("e"))
}

/// What the printed report names besides the sync's own report.
struct Shown<'a> {
    feed: &'a [Event],
    name_of: &'a dyn Fn(&str) -> String,
    relay_names: &'a HashMap<String, String>,
    /// Relays skipped as dead on the monitors' word.
    skipped: &'a [String],
}

fn print_report(report: &SyncReport, shown: &Shown<'_>, took: Duration) {
    let Shown {
        feed,
        name_of,
        relay_names,
        skipped,
    } = *shown;
    let rname = |url: &str| {
        relay_names
            .get(url)
            .cloned()
            .unwrap_or_else(|| url.to_owned())
    };
    println!();
    println!("Following feed (newest {}):", feed.len());
    for e in feed {
        let text: String = e.content.chars().take(70).collect();
        let reply = if is_reply(e) { "↳ " } else { "" };
        println!(
            "  {:>4} ago  {:<8} {reply}{text}",
            age(e.created_at),
            name_of(&e.pubkey.to_hex())
        );
    }
    println!();
    println!(
        "Outbox picture: {} of {} follows have a relay list; {} relays in the final plan (cap 20), up to 2 per person.",
        report.with_relay_list, report.follows, report.plan.connections
    );
    let mut rows: Vec<(&String, &samizdat_client::RelayOutcome)> = report.relays.iter().collect();
    rows.sort_by_key(|(url, _)| rname(url));
    for (url, o) in rows {
        let people = report.plan.assignments.get(url.as_str());
        let status = match (&o.error, o.finished) {
            (Some(e), false) => format!("failed ({e}); its people were re-planned"),
            _ if o.asked == 0 => format!("served {} relay lists", o.events),
            _ => format!("{} new notes from {} of them", o.events, o.delivered_for),
        };
        let who: Vec<String> = people
            .into_iter()
            .flatten()
            .take(5)
            .map(|p| name_of(p))
            .collect();
        let who = if who.is_empty() {
            String::new()
        } else {
            format!(" ({}…)", who.join(", "))
        };
        let probed = report.plan.probes.get(url.as_str()).map_or(0, Vec::len);
        let who = if probed > 0 {
            format!("{who}, {probed} of them with no evidence there (exploring)")
        } else {
            who
        };
        let unlisted = report.plan.unlisted.get(url.as_str()).map_or(0, Vec::len);
        let who = if unlisted > 0 {
            format!("{who}, {unlisted} with no relay list (read from your relays)")
        } else {
            who
        };
        println!(
            "  {:<16} asked about {:>2} people{who}: {status}",
            rname(url),
            o.asked
        );
    }
    for url in skipped {
        println!(
            "  {:<16} skipped: the NIP-66 monitor you trust reports it dead; no connection tried",
            rname(url)
        );
    }
    let mut by_reason: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for o in &report.plan.orphans {
        let reason = serde_json::to_value(o.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        by_reason
            .entry(reason)
            .or_default()
            .push(name_of(&o.pubkey));
    }
    let unlisted = report.plan.unlisted_people();
    if !unlisted.is_empty() {
        let who: Vec<String> = unlisted.iter().map(|p| name_of(p)).collect();
        println!(
            "  read from your relays (no relay list, no other evidence): {}",
            who.join(", ")
        );
    }
    if by_reason.is_empty() {
        println!("  no orphans: everyone followed is read from at least one relay");
    }
    for (reason, who) in by_reason {
        println!("  orphaned ({reason}): {}", who.join(", "));
    }
    if !report.plan.stale_lists.is_empty() {
        let who: Vec<String> = report.plan.stale_lists.iter().map(|p| name_of(p)).collect();
        println!(
            "  stale relay lists (no listed relay works; read from other evidence where any): {}",
            who.join(", ")
        );
    }
    println!();
    println!(
        "Done in {:.1} s. No relay was asked about anyone it was not picked for.",
        took.as_secs_f64()
    );
}

fn json_report(
    report: &SyncReport,
    feed: &[Event],
    name_of: &dyn Fn(&str) -> String,
    relay_names: &HashMap<String, String>,
) -> serde_json::Value {
    let feed: Vec<serde_json::Value> = feed
        .iter()
        .map(|e| {
            json!({
                "id": e.id.to_hex(),
                "author": e.pubkey.to_hex(),
                "author_name": name_of(&e.pubkey.to_hex()),
                "created_at": e.created_at.as_secs(),
                "kind": e.kind.as_u16(),
                "content": e.content,
                "reply": is_reply(e),
            })
        })
        .collect();
    let relays: serde_json::Map<String, serde_json::Value> = report
        .relays
        .iter()
        .map(|(url, o)| {
            let mut v = serde_json::to_value(o).unwrap_or_default();
            v["name"] = json!(relay_names.get(url).cloned().unwrap_or_default());
            (url.clone(), v)
        })
        .collect();
    json!({
        "feed": feed,
        "outbox": {
            "assignments": report.plan.assignments,
            "probes": report.plan.probes,
            "unlisted": report.plan.unlisted,
            "asked": report.asked,
            "orphans": report.plan.orphans,
            "stale_lists": report.plan.stale_lists,
            "connections": report.plan.connections,
            "follows": report.follows,
            "with_relay_list": report.with_relay_list,
            "relays": relays,
        }
    })
}
