//! A new device restores everything: the user's relay lists are found on the
//! discovery relays, then every relay the user ever listed (in any version of
//! their relay list, DM relay list or kind-3 relay map found along the way)
//! is asked for their whole history, page by page: profile, every follow
//! list and relay list version (the older ones become the local history),
//! lists, notes, reactions, and the DM gift wraps on their DM relays (after
//! AUTH, which restore allows for those relays unless the user said
//! otherwise). A profile with no relays yet takes the newest relay list's.

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use serde::Serialize;

use crate::session::advertise::roles_of;
use crate::session::{own_and_discovery, Session, SessionError};

/// Events asked per page.
const PAGE: usize = 500;

/// Pages per relay at most.
const MAX_PAGES: usize = 200;

/// Rounds of "new relays found in the lists just fetched".
const MAX_DISCOVERY_ROUNDS: usize = 4;

/// Where restore is.
#[derive(Debug, Clone)]
pub struct RestoreProgress {
    /// Relays read so far.
    pub done: usize,
    /// Relays to read.
    pub total: usize,
    /// What is happening.
    pub message: String,
}

/// What one relay gave.
#[derive(Debug, Clone, Serialize)]
pub struct RelayRestore {
    /// The relay.
    pub relay: String,
    /// How it was found (`settings`, `discovery`, `relay list`, `dm relays`, `kind 3`).
    pub found_through: String,
    /// Events of the user's it sent (new or already restored from elsewhere).
    pub events: u64,
    /// Why it could not be read, if so.
    pub error: Option<String>,
}

/// What restore found in all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestoreReport {
    /// Per relay.
    pub relays: Vec<RelayRestore>,
    /// Events of the user's now in the store, by kind.
    pub by_kind: BTreeMap<u16, usize>,
    /// Versions of each list kept (current and history), by kind.
    pub versions: BTreeMap<u16, usize>,
    /// DM gift wraps to the user in the store.
    pub dm_wraps: usize,
    /// Whether the settings took the relay list found (they had no relays).
    pub adopted_relays: bool,
}

/// A name for people for what a kind holds.
pub fn kind_name(kind: u16) -> String {
    match kind {
        0 => "profile".into(),
        1 => "notes".into(),
        3 => "follow list".into(),
        5 => "deletions".into(),
        6 => "reposts".into(),
        7 => "reactions".into(),
        10000 => "mute list".into(),
        10002 => "relay list".into(),
        10003 => "bookmarks".into(),
        10050 => "DM relays".into(),
        30000 => "follow sets".into(),
        other => format!("kind {other}"),
    }
}

impl RestoreReport {
    /// Lines for people: what was restored, then what was found where.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec!["restored:".to_owned()];
        for (kind, n) in &self.by_kind {
            let versions = self
                .versions
                .get(kind)
                .filter(|v| **v > 1)
                .map(|v| format!(" ({v} versions kept)"))
                .unwrap_or_default();
            out.push(format!("  {:<12} {n}{versions}", kind_name(*kind)));
        }
        out.push(format!("  {:<12} {}", "DM wraps", self.dm_wraps));
        out.push("found where:".to_owned());
        for r in &self.relays {
            out.push(match &r.error {
                Some(e) => format!("  {} ({}): could not read: {e}", r.relay, r.found_through),
                None => format!("  {} ({}): {} events", r.relay, r.found_through, r.events),
            });
        }
        if self.adopted_relays {
            out.push("your relays were taken from your newest relay list".to_owned());
        }
        out
    }
}

impl Session {
    /// Relays named in any version of the user's lists in the store, with
    /// the list that named them.
    fn relays_in_own_lists(&self) -> Result<Vec<(RelayUrl, &'static str)>, SessionError> {
        let mut out = Vec::new();
        for v in self.engine.versions(self.me, Kind::RelayList)? {
            for url in roles_of(&v).keys() {
                out.extend(RelayUrl::parse(url).ok().map(|u| (u, "relay list")));
            }
        }
        for v in self.engine.versions(self.me, Kind::InboxRelays)? {
            out.extend(
                crate::dm::dm_relays_in(&v)
                    .into_iter()
                    .map(|u| (u, "dm relays")),
            );
        }
        for v in self.engine.versions(self.me, Kind::ContactList)? {
            for url in crate::engine::evidence::legacy_write_relays(&v.content) {
                out.extend(RelayUrl::parse(&url).ok().map(|u| (u, "kind 3")));
            }
        }
        Ok(out)
    }

    /// Restores the user's history from every relay they ever listed.
    pub async fn restore(
        &self,
        progress: impl Fn(RestoreProgress) + Sync,
    ) -> Result<RestoreReport, SessionError> {
        let say = |done, total, message: String| {
            progress(RestoreProgress {
                done,
                total,
                message,
            })
        };
        // 1. Where the lists are: the settings' and discovery relays, then
        // every relay those lists name, until no new one appears.
        let settings = self.settings();
        let mut found: BTreeMap<RelayUrl, String> = BTreeMap::new();
        for url in own_and_discovery(&settings) {
            let how = if settings.relays.contains_key(&url.to_string()) {
                "settings"
            } else {
                "discovery"
            };
            found.insert(url, how.to_owned());
        }
        let mut asked: BTreeSet<RelayUrl> = BTreeSet::new();
        let lists = Filter::new()
            .author(self.me)
            .kinds(crate::engine::own::OWN_LIST_KINDS);
        for _ in 0..MAX_DISCOVERY_ROUNDS {
            let new: Vec<RelayUrl> = found
                .keys()
                .filter(|u| !asked.contains(*u))
                .cloned()
                .collect();
            if new.is_empty() {
                break;
            }
            say(
                0,
                found.len(),
                format!("looking for your lists on {} relays", new.len()),
            );
            self.engine
                .fetch("restore-lists", &new, vec![lists.clone()])
                .await?;
            asked.extend(new);
            for (url, how) in self.relays_in_own_lists()? {
                found.entry(url).or_insert_with(|| how.to_owned());
            }
        }
        // 2. DM relays may be read only after AUTH: allow it there unless
        // the user decided otherwise.
        let dm_relays: BTreeSet<RelayUrl> = self
            .relays_in_own_lists()?
            .into_iter()
            .filter(|(_, how)| *how == "dm relays")
            .map(|(u, _)| u)
            .collect();
        self.allow_auth_unless_set(dm_relays.iter())?;
        // 3. Everything of the user's, relay by relay, page by page.
        let total = found.len();
        let mut report = RestoreReport::default();
        for (i, (relay, how)) in found.iter().enumerate() {
            say(i, total, format!("reading your history from {relay}"));
            let started = Timestamp::now().as_secs();
            let mut error = self
                .read_all_pages(relay, &Filter::new().author(self.me), started)
                .await
                .err();
            if dm_relays.contains(relay) && error.is_none() {
                // On its own: a REQ only for gift wraps is what makes the
                // relay ask for AUTH (mixed in, they would be left out).
                let wraps = Filter::new().kind(Kind::GiftWrap).pubkey(self.me);
                error = self.read_all_pages(relay, &wraps, started).await.err();
            }
            let (events, _) =
                self.engine
                    .store()
                    .received_since(&relay.to_string(), started, u64::MAX)?;
            report.relays.push(RelayRestore {
                relay: relay.to_string(),
                found_through: how.clone(),
                events,
                error,
            });
        }
        say(total, total, "restored".into());
        // 4. A profile without relays takes the newest relay list's.
        if let Some(newest) = self.engine.versions(self.me, Kind::RelayList)?.first() {
            if self.settings().relays.is_empty() {
                let roles = roles_of(newest);
                self.change_settings(|s| {
                    s.relays = roles;
                    Ok(())
                })?;
                report.adopted_relays = true;
            }
        }
        // The restored mute list applies at once (its private part opened).
        if let Err(e) = self.list(crate::lists::ListKind::Mutes).await {
            tracing::debug!(error = %e, "could not open the restored mute list");
        }
        let store = self.engine.store();
        for e in store.query(&[Filter::new().author(self.me).limit(5_000_000)])? {
            *report.by_kind.entry(e.kind.as_u16()).or_default() += 1;
        }
        for kind in crate::engine::own::OWN_LIST_KINDS {
            let n = self.engine.versions(self.me, kind)?.len();
            if n > 0 {
                report.versions.insert(kind.as_u16(), n);
            }
        }
        report.dm_wraps = store
            .query(&[Filter::new()
                .kind(Kind::GiftWrap)
                .pubkey(self.me)
                .limit(5_000_000)])?
            .len();
        Ok(report)
    }

    /// Pages backwards through what `relay` holds for `filter` until a page
    /// brings nothing older than the one before. `started` is when this
    /// relay's reading began.
    async fn read_all_pages(
        &self,
        relay: &RelayUrl,
        filter: &Filter,
        started: u64,
    ) -> Result<(), String> {
        let mut until = Timestamp::now().as_secs() + 60;
        for _ in 0..MAX_PAGES {
            let page = vec![filter.clone().until(Timestamp::from(until)).limit(PAGE)];
            let outcomes = self
                .engine
                .fetch("restore", std::slice::from_ref(relay), page)
                .await
                .map_err(|e| e.to_string())?;
            if let Some(e) = outcomes
                .get(&relay.to_string())
                .and_then(|o| o.error.clone())
            {
                return Err(e);
            }
            let (_, oldest) = self
                .engine
                .store()
                .received_since(&relay.to_string(), started, until)
                .map_err(|e| e.to_string())?;
            // `until` only moves back, so this ends.
            match oldest {
                Some(oldest) if oldest < until => until = oldest,
                _ => return Ok(()),
            }
        }
        Ok(())
    }
}
