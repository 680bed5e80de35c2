//! `samizdat watch`: the session left running. Refreshes the following feed
//! and the inbox, keeps both subscribed, retries deliveries in the
//! background, and prints each new note as it arrives until Ctrl-C; then
//! shuts down cleanly (whatever is still queued stays queued).

use std::collections::HashSet;

use nostr::prelude::*;
use samizdat_client::session::trust::Surface;
use samizdat_client::EngineUpdate;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::keys::Context;
use super::social::{session, Access};

/// Arguments of `samizdat watch`.
#[derive(clap::Args)]
pub struct WatchArgs {
    /// One JSON object per line (`stream`, `relay`, `event`) instead of text.
    #[arg(long)]
    json: bool,
    /// Unlock the profile's signer so relays that ask for NIP-42 AUTH get it
    /// (where the AUTH policy allows); without it nothing is ever signed.
    #[arg(long)]
    unlock: bool,
}

/// Runs `samizdat watch`.
pub async fn watch(ctx: &Context, args: WatchArgs) -> anyhow::Result<()> {
    let access = if args.unlock {
        Access::Sign
    } else {
        Access::Read
    };
    let session = session(ctx, access).await?;
    let me = session.me();
    let mut updates = session.subscribe();
    session.start();
    if !args.json {
        eprintln!("watching the following feed and the inbox; Ctrl-C to stop");
    }
    let mut shown: HashSet<EventId> = HashSet::new();
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let update = tokio::select! {
            _ = &mut stop => break,
            u = updates.recv() => u,
        };
        let update = match update {
            Ok(u) => u,
            Err(RecvError::Lagged(n)) => {
                if !args.json {
                    eprintln!("({n} updates skipped: the terminal was too slow; `samizdat feed` has everything)");
                }
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        match update {
            EngineUpdate::NewEvents { relay, sub, events } => {
                let stream = match sub.as_str() {
                    "feed" => "feed",
                    "inbox" => "inbox",
                    _ => continue,
                };
                let events = if stream == "inbox" {
                    // Notifications: what the notifications threshold lets through.
                    let screened = session.screen(Surface::Notifications, events, |e| e.pubkey)?;
                    if !screened.hidden.is_empty() && !args.json {
                        eprintln!(
                            "  ({} from people outside your network not shown)",
                            screened.hidden.len()
                        );
                    }
                    session.without_muted(screened.shown)
                } else {
                    events
                };
                for e in events {
                    if !matches!(e.kind, Kind::TextNote | Kind::Repost | Kind::Reaction)
                        || e.pubkey == me
                        || !shown.insert(e.id)
                    {
                        continue;
                    }
                    print_note(stream, &relay, &e, args.json)?;
                }
            }
            EngineUpdate::RelayFailed { relay, error } if !args.json => {
                eprintln!("  ! {relay}: {error}");
            }
            EngineUpdate::Alert(alert) if !args.json => eprintln!("  ! {alert:?}"),
            _ => {}
        }
    }
    session.shutdown().await;
    let pending = session
        .publish_status(100)?
        .iter()
        .flat_map(|q| q.deliveries.iter())
        .filter(|d| d.state == samizdat_store::DeliveryState::Pending)
        .count();
    if !args.json {
        eprintln!("stopped; {pending} deliveries still queued for next time");
    }
    Ok(())
}

fn print_note(stream: &str, relay: &str, e: &Event, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        println!("{}", json!({"stream": stream, "relay": relay, "event": e}));
    } else {
        let who = e.pubkey.to_bech32()?;
        let text: String = e.content.chars().take(100).collect();
        println!("[{stream}] {}  {}…  {}", e.created_at, &who[..16], text);
    }
    Ok(())
}
