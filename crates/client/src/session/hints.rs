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
    /// Root first, then replies oldest first (mutes applied).
    pub events: Vec<Event>,
    /// Relays not asked, each with why.
    pub skipped: Vec<(String, String)>,
    /// Relays named only by a stranger that were asked, with who named them.
    pub stranger_relays: Vec<(String, PublicKey)>,
}

impl Session {
    /// Reads a thread (see [`Session::thread`]), asking relays named only by
    /// strangers only through the proxy, or directly when `allow_hinted`.
    pub async fn thread_read(
        &self,
        id: EventId,
        allow_hinted: bool,
    ) -> Result<ThreadRead, SessionError> {
        let settings = self.settings();
        let trusted = own_and_discovery(&settings);
        let follows = self.follows()?;
        let mut read = ThreadRead::default();
        let mut relays = Vec::new();
        for (relay, named_by) in self.engine.thread_relays(id)? {
            if trusted.contains(&relay) || follows.contains(&named_by) || named_by == self.me {
                relays.push(relay);
                continue;
            }
            let who = named_by.to_bech32().unwrap_or_else(|_| named_by.to_hex());
            if read.stranger_relays.len() >= MAX_STRANGER_RELAYS {
                read.skipped.push((
                    relay.to_string(),
                    format!("more than {MAX_STRANGER_RELAYS} relays named by strangers"),
                ));
                continue;
            }
            let proxied = settings.network.proxy.is_some()
                && !settings.network.direct.contains(&relay.to_string());
            let policies = self.engine.policies();
            let set_by_user = settings.policies.contains_key(&relay.to_string());
            if !proxied && !allow_hinted {
                if self.config.approver.is_some() && !set_by_user {
                    // The desktop: the user is asked before the connection.
                    policies.set_connect(&relay, Decision::Ask);
                } else {
                    read.skipped.push((
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
            read.stranger_relays.push((relay.to_string(), named_by));
            relays.push(relay);
        }
        read.events = self.without_muted(self.engine.fetch_thread(id, &relays).await?);
        Ok(read)
    }
}
