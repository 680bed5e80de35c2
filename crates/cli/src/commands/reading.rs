//! `samizdat person` and `samizdat thread`: reading beyond the following feed.

use nostr::prelude::*;

use super::keys::Context;
use super::social::{parse_event_id, parse_person, session, Access};

/// Prints events as JSON, or one line each (time, author, start of the text).
pub(crate) fn print_events(events: &[Event], as_json: bool) -> anyhow::Result<()> {
    if as_json {
        println!("{}", serde_json::to_string(events)?);
    } else {
        for e in events {
            let who = e.pubkey.to_bech32()?;
            println!(
                "{}  {}…  {}",
                e.created_at,
                &who[..16],
                e.content.chars().take(100).collect::<String>()
            );
        }
    }
    Ok(())
}

/// Runs `samizdat person`: someone's notes from their own write relays.
pub async fn person(ctx: &Context, who: &str, limit: usize, as_json: bool) -> anyhow::Result<()> {
    let who = parse_person(ctx, who).await?;
    let session = session(ctx, Access::Read).await?;
    let notes = session.person(who, limit).await;
    session.shutdown().await;
    print_events(&notes?, as_json)
}

/// Runs `samizdat thread`: a conversation from its root, oldest first.
pub async fn thread(ctx: &Context, event: &str, as_json: bool) -> anyhow::Result<()> {
    let id = parse_event_id(event)?;
    let session = session(ctx, Access::Read).await?;
    let events = session.thread(id).await;
    session.shutdown().await;
    print_events(&events?, as_json)
}
