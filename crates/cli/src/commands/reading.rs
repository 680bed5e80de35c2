//! `samizdat person` and `samizdat thread`: reading beyond the following feed.

use std::collections::HashMap;

use nostr::prelude::*;

use super::keys::Context;
use super::social::{look_where_hinted, parse_event_ref, parse_person_with_hints, session, Access};

/// Prints events as JSON, or one line each (time, author, start of the text).
pub(crate) fn print_events(events: &[Event], as_json: bool) -> anyhow::Result<()> {
    print_flagged(events, &HashMap::new(), as_json)
}

/// Authors among `events` whose name imitates someone the user follows,
/// each with the name they imitate.
pub(crate) fn lookalikes_in(
    session: &samizdat_client::Session,
    events: &[Event],
) -> anyhow::Result<HashMap<PublicKey, String>> {
    let authors: Vec<PublicKey> = events.iter().map(|e| e.pubkey).collect();
    Ok(session.imitated_names(&authors)?)
}

/// Events, one per line; an author whose name imitates someone followed
/// is flagged ("⚠ name imitates …").
pub(crate) fn print_flagged(
    events: &[Event],
    lookalikes: &HashMap<PublicKey, String>,
    as_json: bool,
) -> anyhow::Result<()> {
    if as_json {
        let rows: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if let (Some(obj), Some(real)) = (v.as_object_mut(), lookalikes.get(&e.pubkey)) {
                    obj.insert("imitates".into(), real.clone().into());
                }
                v
            })
            .collect();
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        for e in events {
            let who = e.pubkey.to_bech32()?;
            let flag = lookalikes
                .get(&e.pubkey)
                .map(|real| format!("  ⚠ name imitates {real} (another key)"))
                .unwrap_or_default();
            println!(
                "{}  {}…  {}{flag}",
                e.created_at,
                &who[..16],
                e.content.chars().take(100).collect::<String>()
            );
        }
    }
    Ok(())
}

/// Prints "N from people outside your network" (stderr, so JSON stays
/// clean) when something was hidden.
pub(crate) fn print_hidden(hidden: usize, what: &str) {
    if hidden > 0 {
        eprintln!("{hidden} {what} from people outside your network hidden (--all shows them; `samizdat trust PERSON` says why)");
    }
}

/// Runs `samizdat person`: someone's notes from their own write relays
/// (and wherever else the evidence says they write).
pub async fn person(ctx: &Context, who: &str, limit: usize, as_json: bool) -> anyhow::Result<()> {
    let person = parse_person_with_hints(ctx, who).await?;
    let session = session(ctx, Access::Read).await?;
    look_where_hinted(&session, &person).await;
    let notes = session.person(person.key, limit).await;
    session.shutdown().await;
    print_events(&notes?, as_json)
}

/// Runs `samizdat person --relays`: where someone writes, per relay, with
/// the evidence, its age and the relay's delivery record.
pub async fn person_relays(ctx: &Context, who: &str, as_json: bool) -> anyhow::Result<()> {
    let person = parse_person_with_hints(ctx, who).await?;
    let session = session(ctx, Access::Read).await?;
    look_where_hinted(&session, &person).await;
    let report = session.person_relays(person.key).await;
    session.shutdown().await;
    let report = report?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{}", person.key.to_bech32()?);
    match report.relay_list_at {
        Some(at) => println!(
            "  relay list (kind 10002) made {:.1} days ago{}",
            Timestamp::now().as_secs().saturating_sub(at) as f64 / 86_400.0,
            if report.stale_list {
                ": STALE, none of its write relays works; read from the other evidence"
            } else {
                ""
            }
        ),
        None => println!("  no relay list (kind 10002): read from the other evidence"),
    }
    if report.relays.is_empty() {
        println!("  no evidence of any relay");
    }
    for r in &report.relays {
        let mark = match (r.planned, r.probed) {
            (true, _) => "read here",
            (false, true) => "asked to learn whether it has them (no evidence yet)",
            _ => "",
        };
        let down = if r.reachable { "" } else { " (unreachable)" };
        println!(
            "  {}{down}  asked {} delivered {}  {mark}",
            r.relay, r.asked, r.delivered
        );
        for e in &r.evidence {
            println!(
                "      {:<15} {:>6.1} days  {}",
                e.source, e.age_days, e.detail
            );
        }
    }
    Ok(())
}

/// Runs `samizdat thread`: a conversation from its root, oldest first.
/// Relays named only by strangers are asked through the proxy, or directly
/// with `allow_hinted`; those not asked are listed on stderr with why.
pub async fn thread(
    ctx: &Context,
    event: &str,
    as_json: bool,
    allow_hinted: bool,
    all: bool,
) -> anyhow::Result<()> {
    let (id, author) = parse_event_ref(event)?;
    let session = session(ctx, Access::Read).await?;
    if let Some(author) = &author {
        // The nevent says where its author writes (evidence for later too),
        // but a stranger wrote it: asked only through a proxy or when allowed.
        if allow_hinted || session.settings().network.proxy.is_some() {
            look_where_hinted(&session, author).await;
        } else if !author.hints.is_empty() {
            eprintln!(
                "not asked: the {} relays this nevent names (a stranger's hint; without a proxy \
                 they would see your IP address; --allow-hinted asks them)",
                author.hints.len()
            );
        }
    }
    let read = session.thread_read(id, allow_hinted).await;
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            session.shutdown().await;
            return Err(e.into());
        }
    };
    let mut events = read.events.clone();
    if all {
        let root = read.events.first().map(|e| e.id);
        events.extend(read.hidden.iter().cloned());
        events.sort_by_key(|e| (Some(e.id) != root, e.created_at, e.id));
    }
    let flagged = lookalikes_in(&session, &events);
    session.shutdown().await;
    for (relay, why) in &read.skipped {
        eprintln!("not asked: {relay}: {why}");
    }
    print_flagged(&events, &flagged?, as_json)?;
    if !all {
        print_hidden(read.hidden.len(), "replies");
    }
    Ok(())
}
