//! What the web of trust screens, as the desktop shows it: the inbox, a
//! thread and search results with the cards it hid (revealed on request),
//! authors whose names imitate someone followed, and message requests.
//! Each is one client call; the cards are built here, never in the UI.

use std::collections::HashMap;

use nostr::prelude::*;
use samizdat_client::dm::GateReport;
use samizdat_client::session::trust::Screened;
use samizdat_client::SessionError;

use super::views::Ctx;
use crate::protocol::Update;
use crate::view::{NoteView, RequestView, ScreenedCards};

/// Events newest first, each at depth 0 (the inbox, search results).
fn newest_first(events: &[Event]) -> Vec<(Event, usize)> {
    let mut v: Vec<Event> = events.to_vec();
    v.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
    v.into_iter().map(|e| (e, 0)).collect()
}

impl Ctx {
    /// Authors among `events` whose name imitates someone followed, with
    /// the name they imitate.
    pub(crate) fn imitators(&self, events: &[Event]) -> HashMap<PublicKey, String> {
        let authors: Vec<PublicKey> = events.iter().map(|e| e.pubkey).collect();
        self.session.imitated_names(&authors).unwrap_or_default()
    }

    /// Cards for `shown` and `hidden` together: `order` arranges all of
    /// them (with a depth each) for the revealed view.
    fn screened_cards(
        &self,
        shown: &[Event],
        hidden: &[Event],
        order: impl Fn(&[Event]) -> Vec<(Event, usize)>,
    ) -> ScreenedCards {
        let hidden_ids: std::collections::HashSet<EventId> = hidden.iter().map(|e| e.id).collect();
        let layout = |events: &[Event]| -> Vec<(NoteView, usize)> {
            let arranged = order(events);
            let flat: Vec<Event> = arranged.iter().map(|(e, _)| e.clone()).collect();
            self.cards(&flat)
                .into_iter()
                .zip(arranged.iter().map(|(_, d)| *d))
                .map(|(mut card, depth)| {
                    card.outside = hidden_ids.contains(&card.id);
                    (card, depth)
                })
                .collect()
        };
        let shown_cards = layout(shown);
        let everything = if hidden.is_empty() {
            shown_cards.clone()
        } else {
            let mut all: Vec<Event> = shown.to_vec();
            all.extend(hidden.iter().cloned());
            layout(&all)
        };
        ScreenedCards {
            shown: shown_cards,
            everything,
            hidden: hidden.len(),
            revealed: false,
        }
    }

    /// The inbox, with what the web of trust held back; then the names of
    /// its authors not known yet (once a session), so a name that imitates
    /// someone followed is shown, and flagged.
    pub(crate) fn show_inbox(&self) {
        let inbox = self.session.inbox_with_held(super::PAGE);
        if let Ok((shown, held)) = &inbox {
            let unknown: Vec<PublicKey> = shown
                .iter()
                .chain(&held.items)
                .map(|e| e.pubkey)
                .filter(|p| !self.session.profile_of(*p).is_ok_and(|pr| pr.known))
                .collect();
            let new: Vec<PublicKey> = match self.feed.lock() {
                Ok(mut f) => unknown
                    .into_iter()
                    .filter(|p| f.profiles_asked.insert(*p))
                    .collect(),
                Err(_) => Vec::new(),
            };
            if !new.is_empty() {
                let ctx = self.clone();
                tokio::spawn(async move {
                    if ctx.session.fetch_profiles_of(&new).await.is_ok() {
                        ctx.show_inbox();
                    }
                });
            }
        }
        self.answer(inbox.map(|(events, held)| {
            let by_relay = held
                .by_relay
                .iter()
                .map(|(r, n)| format!("{r} ({n})"))
                .collect::<Vec<_>>();
            Update::Inbox(
                self.screened_cards(&events, &held.items, newest_first),
                by_relay,
            )
        }));
    }

    /// A thread, as its own task: replies nested; those from people outside
    /// the network kept apart.
    pub(crate) fn open_thread(&self, id: EventId) {
        let ctx = self.clone();
        tokio::spawn(async move {
            let result = ctx.session.thread_read(id, false).await.map(|read| {
                let tree = |events: &[Event]| {
                    let mut sorted = events.to_vec();
                    let root = read.events.first().map(|e| e.id);
                    sorted.sort_by_key(|e| (Some(e.id) != root, e.created_at, e.id));
                    samizdat_client::thread_tree(&sorted)
                };
                Update::Thread(id, ctx.screened_cards(&read.events, &read.hidden, tree))
            });
            ctx.answer(result);
        });
    }

    /// Local search, with the results from people outside the network.
    pub(crate) fn search(&self, text: String) {
        let found = self.session.search_screened(&text, 100);
        self.answer(found.map(|Screened { shown, hidden }| {
            Update::Search(text, self.screened_cards(&shown, &hidden, newest_first))
        }));
    }

    /// Message requests as rows (names, lookalike warnings).
    pub(crate) fn request_views(
        &self,
        gate: &GateReport,
        names: &HashMap<PublicKey, String>,
    ) -> Result<Vec<RequestView>, SessionError> {
        let senders: Vec<PublicKey> = gate.requests.iter().map(|r| r.from).collect();
        let imitated = self.session.imitated_names(&senders)?;
        Ok(gate
            .requests
            .iter()
            .map(|r| RequestView {
                from: r.from,
                name: names.get(&r.from).cloned().unwrap_or_default(),
                messages: r.messages,
                last_at: Timestamp::from_secs(r.last_at),
                imitates: imitated.get(&r.from).cloned(),
            })
            .collect())
    }

    /// Opens `who`'s requests (the user asked) and shows the conversation.
    pub(crate) fn accept_requests(&self, who: PublicKey) {
        let ctx = self.clone();
        tokio::spawn(async move {
            if let Err(e) = ctx.session.accept_requests(who).await {
                return ctx.answer(Err(e));
            }
            ctx.show_conversations();
            ctx.open_conversation(vec![who]);
        });
    }
}
