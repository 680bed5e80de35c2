//! Hints are not beacons. A relay that only a stranger named — in a note's
//! tags, or in the relay list of someone the user does not follow — may be
//! the stranger's own, set up to learn who reads the thread and from which
//! address. Such a relay is contacted only through the proxy; without one,
//! only when the user says so (`--allow-hinted` in the CLI; the desktop asks
//! through the same dialog as an "ask" connect policy). At most
//! [`MAX_STRANGER_RELAYS`] per thread, never with AUTH (the default AUTH
//! policy is deny), and each contact is written in the privacy ledger with
//! who named the relay. The user's own relays, the discovery relays and
//! relays named by people the user follows are trusted.

use nostr::prelude::*;
use samizdat_net::Decision;

use crate::session::{own_and_discovery, Session, SessionError};

/// Relays named only by strangers asked per thread at most.
pub const MAX_STRANGER_RELAYS: usize = 3;

/// The ledger's fact: who named a relay the user was sent to.
pub(crate) const NAMED_BY: &str = "named_by";

/// A thread as read, and the relays that were not asked.
#[derive(Debug, Clone, Default)]
pub struct ThreadRead {
    /// Root first, then replies oldest first (mutes applied; replies from
    /// people below the thread threshold are in `hidden` instead).
    pub events: Vec<Event>,
    /// Replies from people outside the user's network, oldest first.
    pub hidden: Vec<Event>,
    /// Relays not asked, each with why.
    pub skipped: Vec<(String, String)>,
    /// Relays named only by a stranger that were asked, with who named them.
    pub stranger_relays: Vec<(String, PublicKey)>,
}

/// Relays vetted for one read: those to ask, those not asked (with why),
/// and those named only by strangers that will be asked (with who named them).
#[derive(Debug, Clone, Default)]
pub(crate) struct Vetted {
    pub(crate) relays: Vec<samizdat_net::RelayUrl>,
    pub(crate) skipped: Vec<(String, String)>,
    pub(crate) strangers: Vec<(String, PublicKey)>,
}

/// How a read may treat relays named only by strangers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrangerRelays {
    /// Directly too (the user said so: `--allow-hinted`).
    Allowed,
    /// Through the proxy; without one, the desktop asks the user first.
    AskWithoutProxy,
    /// Through the proxy only (background reads nobody is watching).
    ProxyOnly,
}

impl Session {
    /// Sorts `named` (each relay with who named it) into relays to ask and
    /// relays not to: the user's own and discovery relays, and those named
    /// by the user or people they follow, are asked; one named only by a
    /// stranger is asked through the proxy (at most [`MAX_STRANGER_RELAYS`],
    /// each written in the ledger with who named it), and without a proxy
    /// only as `strangers` allows.
    pub(crate) fn vet_relays(
        &self,
        named: Vec<(samizdat_net::RelayUrl, PublicKey)>,
        strangers: StrangerRelays,
    ) -> Result<Vetted, SessionError> {
        let settings = self.settings();
        let trusted = own_and_discovery(&settings);
        let follows = self.follows()?;
        let mut out = Vetted::default();
        for (relay, named_by) in named {
            if out.relays.contains(&relay) {
                continue;
            }
            if trusted.contains(&relay) || follows.contains(&named_by) || named_by == self.me {
                out.relays.push(relay);
                continue;
            }
            let who = named_by.to_bech32().unwrap_or_else(|_| named_by.to_hex());
            if out.strangers.len() >= MAX_STRANGER_RELAYS {
                out.skipped.push((
                    relay.to_string(),
                    format!("more than {MAX_STRANGER_RELAYS} relays named by strangers"),
                ));
                continue;
            }
            let proxied = settings.network.proxy.is_some()
                && !settings.network.direct.contains(&relay.to_string());
            let set_by_user = settings.policies.contains_key(&relay.to_string());
            if !proxied && strangers != StrangerRelays::Allowed {
                if strangers == StrangerRelays::AskWithoutProxy
                    && self.config.approver.is_some()
                    && !set_by_user
                {
                    // The desktop: the user is asked before the connection.
                    self.engine.policies().set_connect(&relay, Decision::Ask);
                } else {
                    out.skipped.push((
                        relay.to_string(),
                        format!(
                            "named only by {who}, whom you don't follow; without a proxy it would \
                             see your IP address (set a proxy, or allow it: --allow-hinted)"
                        ),
                    ));
                    continue;
                }
            }
            self.engine
                .store()
                .record_learned(&relay.to_string(), NAMED_BY, &[who])?;
            out.strangers.push((relay.to_string(), named_by));
            out.relays.push(relay);
        }
        Ok(out)
    }

    /// A thread's events split by the thread threshold: the note opened
    /// (`opened`) and the root always show; other replies from people below
    /// the threshold are hidden.
    pub fn screen_replies(
        &self,
        opened: EventId,
        events: Vec<Event>,
    ) -> Result<crate::session::trust::Screened<Event>, SessionError> {
        let root = events
            .iter()
            .find(|e| e.id == opened)
            .and_then(crate::engine::feeds::root_of)
            .or(Some(opened));
        let keep: Vec<EventId> = [Some(opened), root].into_iter().flatten().collect();
        let (always, rest): (Vec<Event>, Vec<Event>) =
            events.into_iter().partition(|e| keep.contains(&e.id));
        let mut screened =
            self.screen(crate::session::trust::Surface::Replies, rest, |e| e.pubkey)?;
        let mut shown = always;
        shown.append(&mut screened.shown);
        // Root first, then replies oldest first, as read.
        let root_first = |e: &Event| (Some(e.id) != root, e.created_at, e.id);
        shown.sort_by_key(root_first);
        screened.shown = shown;
        Ok(screened)
    }

    /// Reads a thread (see [`Session::thread`]), asking relays named only by
    /// strangers only through the proxy, or directly when `allow_hinted`.
    pub async fn thread_read(
        &self,
        id: EventId,
        allow_hinted: bool,
    ) -> Result<ThreadRead, SessionError> {
        let rule = if allow_hinted {
            StrangerRelays::Allowed
        } else {
            StrangerRelays::AskWithoutProxy
        };
        let vetted = self.vet_relays(self.engine.thread_relays(id)?, rule)?;
        let events = self.engine.fetch_thread(id, &vetted.relays).await?;
        let screened = self.screen_replies(id, self.without_muted(events))?;
        Ok(ThreadRead {
            events: screened.shown,
            hidden: screened.hidden,
            skipped: vetted.skipped,
            stranger_relays: vetted.strangers,
        })
    }
}
