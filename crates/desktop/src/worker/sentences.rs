//! Sentences the worker shows the user: a pending alert, what an intent
//! was, what it did.

use samizdat_client::{Intent, IntentOutcome};

/// A sentence for one pending alert.
pub(super) fn pending_sentence(p: &samizdat_client::everyday::Pending) -> String {
    use samizdat_client::everyday::Pending;
    match p {
        Pending::NotEverywhere { event, missing } => format!(
            "{}… is not yet on {}",
            &event[..12.min(event.len())],
            missing
                .iter()
                .map(|(r, e)| format!("{r} ({})", e.as_deref().unwrap_or("pending")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Pending::AsksFirst { relay, what } => format!("{relay} will ask you before {what}"),
        Pending::ChangedElsewhere { list, .. } => {
            format!("your {list} was changed on another device; your next edit starts from it")
        }
        Pending::ChangesWaiting {
            list,
            count,
            oldest_secs,
        } => format!(
            "{} (oldest {})",
            samizdat_client::changes::waiting_sentence(list, *count),
            samizdat_client::changes::age_words(*oldest_secs)
        ),
        Pending::WeakKey => {
            "your key was once handled in plain form (nsec import or export)".to_owned()
        }
        Pending::NoDmRelays => {
            "you have no DM relays: nobody can send you private messages".to_owned()
        }
    }
}

/// A short word for what an intent was (to say what finished).
pub(super) fn intent_name(intent: &Intent) -> &'static str {
    match intent {
        Intent::Post { .. } => "post",
        Intent::Reply { .. } => "reply",
        Intent::React { .. } => "reaction",
        Intent::Repost { .. } => "repost",
        Intent::Delete { .. } => "deletion",
        Intent::Follow(_) => "follow",
        Intent::Unfollow(_) => "unfollow",
        Intent::RestoreFollows { .. } => "follow list restore",
        Intent::SetProfile(_) => "profile",
        Intent::AddRelay { .. }
        | Intent::SetRoles { .. }
        | Intent::RemoveRelay { .. }
        | Intent::SetPolicy { .. } => "relay settings",
        Intent::PublishRelayList => "relay list",
        Intent::Refresh => "refresh",
        Intent::LoadMore { .. } => "load more",
        Intent::Thread(_) => "thread",
        Intent::Person(_) => "person",
        Intent::RetryDeliveries => "retry",
        Intent::ApplyWaitingChanges => "waiting changes",
        Intent::SendDm { .. } => "message",
        Intent::PostWithPow { .. } => "post",
        Intent::EditList {
            which: samizdat_client::lists::ListKind::Mutes,
            ..
        } => "mute list",
        Intent::EditList { .. } => "bookmarks",
        Intent::SetDmRelays(_) => "DM relays",
    }
}

/// "follow: accepted by 2 of 3 relays".
fn accepted_sentence(what: &str, p: &samizdat_client::Published) -> String {
    let ok = p
        .deliveries
        .iter()
        .filter(|(_, o)| {
            matches!(
                o,
                samizdat_net::PublishOutcome::Accepted | samizdat_net::PublishOutcome::Duplicate
            )
        })
        .count();
    format!("{what}: accepted by {ok} of {} relays", p.deliveries.len())
}

/// A sentence about a finished intent.
pub(crate) fn done_sentence(what: &str, outcome: &IntentOutcome) -> String {
    match outcome {
        IntentOutcome::Published(p) => accepted_sentence(what, p),
        IntentOutcome::ListEdited(edit) => match &edit.published {
            Some(p) if edit.applied.len() == 1 && edit.dropped.is_empty() => {
                accepted_sentence(what, p)
            }
            Some(p) => format!("{}; {}", edit.summary(), accepted_sentence(what, p)),
            None => format!("{what}: {}", edit.summary()),
        },
        IntentOutcome::Synced(r) => format!(
            "{what}: {} new events from {} relays, {} of {} follows covered",
            r.relays.values().map(|o| o.events).sum::<usize>(),
            r.relays.len(),
            r.plan
                .assignments
                .values()
                .flatten()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            r.follows
        ),
        IntentOutcome::ListsEdited(edits) if edits.is_empty() => {
            format!("{what}: nothing waits")
        }
        IntentOutcome::ListsEdited(edits) => edits
            .iter()
            .map(|e| e.summary())
            .collect::<Vec<_>>()
            .join("; "),
        IntentOutcome::SettingsSaved => format!("{what}: saved"),
        IntentOutcome::Events(e) => format!("{what}: {} events", e.len()),
        IntentOutcome::Delivered(d) => format!("{what}: {} deliveries attempted", d.len()),
        IntentOutcome::MessageSent(sent) => {
            let relays: usize = sent.deliveries.iter().map(|(_, d)| d.len()).sum();
            let ok: usize = sent
                .deliveries
                .iter()
                .flat_map(|(_, d)| d)
                .filter(|(_, o)| {
                    matches!(
                        o,
                        samizdat_net::PublishOutcome::Accepted
                            | samizdat_net::PublishOutcome::Duplicate
                    )
                })
                .count();
            format!(
                "{what}: wrapped for {} people, accepted by {ok} of {relays} DM relays",
                sent.deliveries.len()
            )
        }
    }
}
