//! The session's update stream turned into UI updates: new feed notes are
//! counted (the UI shows "N new notes" instead of jumping), the inbox and
//! delivery states are re-read when they change, and finished intents are
//! reported in a sentence.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_client::{Alert, EngineUpdate, Intent, Session};
use tokio::sync::broadcast::error::RecvError;

use super::sentences::done_sentence;
use super::views::Ctx;
use super::FeedState;
use crate::bridge::UpdateSink;
use crate::notifier::{local_hour, OsNotifier};
use crate::protocol::{Command, Update};

/// How often the feed is re-read while the first refresh is filling it.
const INITIAL_REDRAW: Duration = Duration::from_millis(250);

/// Listens until the session closes.
pub(crate) async fn run(
    session: Arc<Session>,
    sink: UpdateSink,
    feed: Arc<Mutex<FeedState>>,
    notifier: Arc<OsNotifier>,
) {
    let mut updates = session.subscribe();
    let ctx = Ctx {
        session: Arc::clone(&session),
        sink: sink.clone(),
        feed: Arc::clone(&feed),
    };
    let mut last_redraw = Instant::now() - INITIAL_REDRAW;
    let mut last_ledger = Instant::now() - Duration::from_secs(1);
    loop {
        let update = match updates.recv().await {
            Ok(u) => u,
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => break,
        };
        match update {
            EngineUpdate::NewEvents { sub, events, .. } if sub == "feed" => {
                let initial = feed.lock().map(|f| f.initial).unwrap_or(false);
                if initial {
                    if last_redraw.elapsed() >= INITIAL_REDRAW {
                        ctx.show_feed();
                        last_redraw = Instant::now();
                    }
                    continue;
                }
                let unseen = {
                    let Ok(mut f) = feed.lock() else { continue };
                    let head = f.head.unwrap_or(Timestamp::from_secs(0));
                    for e in events.iter().filter(|e| {
                        matches!(e.kind, Kind::TextNote | Kind::Repost) && e.created_at > head
                    }) {
                        f.unseen.insert(e.id);
                    }
                    f.unseen.len()
                };
                if unseen > 0 {
                    sink.send(Update::NewNotes(unseen));
                }
            }
            EngineUpdate::NewEvents { sub, events, .. } if sub == "inbox" => {
                match session.notifications_of(&events, local_hour()) {
                    Ok(all) => deliver(&notifier, all),
                    Err(e) => tracing::warn!("notifications: {e}"),
                }
                ctx.handle(Command::ShowInbox);
                if events
                    .iter()
                    .any(|e| e.kind == Kind::EncryptedDirectMessage)
                {
                    ctx.show_conversations();
                    notify_messages(&session, &notifier);
                }
            }
            EngineUpdate::NewEvents { sub, .. }
                if sub == samizdat_client::dm::DM_SUB || sub == samizdat_client::dm::LEGACY_SUB =>
            {
                ctx.show_conversations();
                if let Some(with) = feed.lock().ok().and_then(|f| f.conversation.clone()) {
                    ctx.open_conversation(with);
                }
                notify_messages(&session, &notifier);
            }
            EngineUpdate::NewEvents { .. } => {}
            EngineUpdate::Delivery { .. } => ctx.show_deliveries(),
            EngineUpdate::IntentDone { id, result } => {
                let result = result.and_then(|r| {
                    samizdat_client::IntentOutcome::of(&r)
                        .cloned()
                        .ok_or_else(|| "finished with an unknown result".to_owned())
                });
                let what = feed
                    .lock()
                    .ok()
                    .and_then(|mut f| f.intents.remove(&id))
                    .unwrap_or("action");
                finished(&ctx, what, &result);
                sink.send(Update::Done(
                    result.map(|outcome| done_sentence(what, &outcome)),
                ));
            }
            EngineUpdate::Learned { .. } => {
                if last_ledger.elapsed() >= Duration::from_secs(1) {
                    last_ledger = Instant::now();
                    if let Ok(report) = session.privacy_report() {
                        sink.send(Update::Privacy(Box::new(report)));
                    }
                }
            }
            EngineUpdate::Phase(p) => {
                sink.send(Update::Status(p));
            }
            EngineUpdate::RelayFailed { relay, error } => {
                sink.send(Update::Status(format!("{relay}: {error}")));
            }
            EngineUpdate::Authenticated { relay } => {
                sink.send(Update::Status(format!(
                    "authenticated to {relay} (NIP-42): it now knows your public key"
                )));
                sink.send(Update::Authenticated(relay));
            }
            EngineUpdate::Alert(Alert::NoDmRelays { person }) => {
                let who = person.to_bech32().unwrap_or_else(|_| person.to_hex());
                sink.send(Update::Alert(format!(
                    "{who} has no DM relays (kind 10050): the message was not sent anywhere"
                )));
            }
            EngineUpdate::Alert(Alert::RelayLosesEvents {
                relay,
                missing,
                runs,
            }) => {
                sink.send(Update::Alert(format!(
                    "{relay} lost {missing} of your events again ({runs} checks in a row); they were re-sent — consider another relay"
                )));
            }
            EngineUpdate::Alert(Alert::NotStored { events, error }) => {
                sink.send(Update::Alert(format!(
                    "{events} events arrived but could not be kept: {error}"
                )));
            }
            EngineUpdate::Alert(Alert::PostNotEverywhere { event, missing }) => {
                let id = event.to_bech32().unwrap_or_else(|_| event.to_hex());
                sink.send(Update::Alert(format!(
                    "{}… is not on {} yet (retrying): {}",
                    &id[..id.len().min(16)],
                    if missing.len() == 1 {
                        "one relay"
                    } else {
                        "some relays"
                    },
                    missing.join(", ")
                )));
            }
        }
    }
}

/// Raises the notifications new private messages call for (the wraps are
/// opened through the signer on a task of their own).
fn notify_messages(session: &Arc<Session>, notifier: &Arc<OsNotifier>) {
    let (session, notifier) = (Arc::clone(session), Arc::clone(notifier));
    tokio::spawn(async move {
        match session.message_notifications(local_hour()).await {
            Ok(all) => deliver(&notifier, all),
            Err(e) => tracing::warn!("message notifications: {e}"),
        }
    });
}

/// Hands notifications to the OS on the blocking pool (D-Bus calls block).
fn deliver(notifier: &Arc<OsNotifier>, all: Vec<samizdat_client::notify::Notification>) {
    if all.is_empty() {
        return;
    }
    let notifier = Arc::clone(notifier);
    tokio::task::spawn_blocking(move || notifier.show_all(&all));
}

/// What to re-read once an intent is done.
fn finished(ctx: &Ctx, what: &str, result: &Result<samizdat_client::IntentOutcome, String>) {
    let ok = result.is_ok();
    // A list edit may wait, go out, or settle earlier waiting changes.
    if matches!(
        what,
        "follow"
            | "unfollow"
            | "mute list"
            | "bookmarks"
            | "profile"
            | "DM relays"
            | "waiting changes"
    ) {
        ctx.handle(Command::ShowAlerts);
    }
    match what {
        "refresh" => {
            if let Ok(mut f) = ctx.feed.lock() {
                f.initial = false;
            }
            ctx.show_feed();
            ctx.handle(Command::ShowInbox);
            ctx.show_conversations();
            let me = ctx.session.me();
            if let Some(name) = ctx
                .session
                .names(&[me])
                .ok()
                .and_then(|mut n| n.remove(&me))
            {
                ctx.sink.send(Update::Name(name));
            }
        }
        "post" | "reply" | "repost" | "reaction" | "deletion" | "retry" => {
            if ok && what != "retry" {
                ctx.show_feed();
            }
            ctx.show_deliveries();
        }
        "follow" | "unfollow" if ok => {
            ctx.show_feed();
            if let Some(who) = ctx.feed.lock().ok().and_then(|f| f.person) {
                ctx.stored_person(who, false);
            }
            // Read the new follow list's people live from now on.
            ctx.intent(Intent::Refresh);
        }
        "relay settings" | "relay list" => ctx.handle(Command::ShowRelays),
        "mute list" if ok => {
            ctx.show_feed();
            ctx.handle(Command::ShowInbox);
            if let Some(who) = ctx.feed.lock().ok().and_then(|f| f.person) {
                ctx.stored_person(who, false);
            }
        }
        "message" | "DM relays" => {
            ctx.show_conversations();
            if let Some(with) = ctx.feed.lock().ok().and_then(|f| f.conversation.clone()) {
                ctx.open_conversation(with);
            }
        }
        _ => {}
    }
}
