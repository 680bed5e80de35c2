//! Advertising where people look.
//!
//! The user's relay list (kind 10002), profile (kind 0) and DM relay list
//! (kind 10050) go to the user's own relays, the discovery relays, and the
//! read relays of the people who follow or mention the user (the outbox
//! crate's advertise targets): that is where readers and repliers look.
//!
//! Before the relay list goes out, the newest copy on the network is fetched
//! and merged three ways against the copy this device last published: what
//! another device added or removed since is taken over (and saved in the
//! settings), what this device changed is kept, and where both changed the
//! same relay the roles are united (a relay is never dropped by a race).
//! When the merged list equals the newest copy, that copy is re-sent as it
//! is: no new version is made. The running session re-advertises by itself
//! when the user's relays change (see [`Session::readvertise_if_changed`]).

use std::collections::{BTreeMap, BTreeSet};

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use serde::Serialize;

use crate::base::settings::RelayRoles;
use crate::engine::relay_list;
use crate::session::{own_and_discovery, Published, Session, SessionError};

/// A relay list as roles per relay URL.
pub type Roles = BTreeMap<String, RelayRoles>;

/// Most relays one advertisement goes to.
const ADVERTISE_CAP: usize = 20;

/// Most followers and mentioners whose inboxes are considered.
const AUDIENCE_LIMIT: usize = 500;

/// What merging with the network's newest relay list changed locally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelayListMerge {
    /// The newest list on the network was made elsewhere (another device or
    /// app) since this device last published.
    pub from_elsewhere: bool,
    /// Relays taken over from it.
    pub added: Vec<String>,
    /// Relays it had dropped, dropped here too.
    pub removed: Vec<String>,
    /// Relays whose read/write roles changed.
    pub changed: Vec<String>,
}

/// What `relays publish` did.
#[derive(Debug, Clone)]
pub struct Advertised {
    /// The list sent and each relay's answer.
    pub published: Published,
    /// What the merge changed in the settings.
    pub merge: RelayListMerge,
    /// False when the newest copy on the network already said the same and
    /// was re-sent as it was.
    pub new_version: bool,
}

/// The roles a kind-10002 event gives each relay.
pub fn roles_of(event: &Event) -> Roles {
    let list = relay_list(event);
    let mut roles = Roles::new();
    for url in list.read {
        roles.entry(url).or_default().read = true;
    }
    for url in list.write {
        roles.entry(url).or_default().write = true;
    }
    roles
}

/// Three-way merge of relay lists: `base` is what this device last
/// published (unknown: `None`, then the two sides are united), `theirs` the
/// newest copy on the network, `ours` the local settings. Per relay: if only
/// one side changed it since `base`, that side wins; if both did, their
/// roles are united.
pub fn merge_roles(base: Option<&Roles>, theirs: &Roles, ours: &Roles) -> Roles {
    let none = RelayRoles::default();
    let urls: BTreeSet<&String> = theirs.keys().chain(ours.keys()).collect();
    let mut out = Roles::new();
    for url in urls {
        let t = theirs.get(url).copied().unwrap_or(none);
        let o = ours.get(url).copied().unwrap_or(none);
        let merged = match base.map(|b| b.get(url).copied().unwrap_or(none)) {
            Some(b) if t == b => o,
            Some(b) if o == b => t,
            _ => RelayRoles {
                read: t.read || o.read,
                write: t.write || o.write,
            },
        };
        if merged.read || merged.write {
            out.insert(url.clone(), merged);
        }
    }
    out
}

/// How `after` differs from `before`.
fn describe(before: &Roles, after: &Roles, from_elsewhere: bool) -> RelayListMerge {
    RelayListMerge {
        from_elsewhere,
        added: after
            .keys()
            .filter(|u| !before.contains_key(*u))
            .cloned()
            .collect(),
        removed: before
            .keys()
            .filter(|u| !after.contains_key(*u))
            .cloned()
            .collect(),
        changed: after
            .iter()
            .filter(|(u, r)| before.get(*u).is_some_and(|b| b != *r))
            .map(|(u, _)| u.clone())
            .collect(),
    }
}

impl Session {
    /// People who follow or mention the user, as far as the store knows
    /// (follow lists, replies, mentions, reposts and reactions that tag them).
    fn audience(&self) -> Result<Vec<PublicKey>, SessionError> {
        let events = self.engine.store().query(&[Filter::new()
            .pubkey(self.me)
            .kinds([
                Kind::ContactList,
                Kind::TextNote,
                Kind::Repost,
                Kind::Reaction,
            ])
            .limit(AUDIENCE_LIMIT)])?;
        let mut people: Vec<PublicKey> = events
            .iter()
            .map(|e| e.pubkey)
            .filter(|p| *p != self.me)
            .collect();
        people.sort();
        people.dedup();
        Ok(people)
    }

    /// Where the user's relay list, profile and DM relays are advertised:
    /// their relays, the discovery relays, then the read relays where the
    /// most of their followers and mentioners look (their relay lists
    /// fetched from the discovery relays first).
    pub async fn advertise_targets(&self) -> Result<Vec<RelayUrl>, SessionError> {
        let settings = self.settings();
        let audience = self.audience()?;
        if !audience.is_empty() {
            self.engine.fetch_relay_lists(&audience).await?;
        }
        let with_role = |role: fn(&RelayRoles) -> bool| -> Vec<String> {
            settings
                .relays
                .iter()
                .filter(|(_, r)| role(r))
                .map(|(u, _)| u.clone())
                .collect()
        };
        let own = samizdat_outbox::RelayList {
            write: with_role(|r| r.write),
            read: with_role(|r| r.read),
        };
        let discovery: Vec<String> = settings
            .discovery_relays()
            .iter()
            .map(|u| u.to_string())
            .collect();
        Ok(self
            .engine
            .advertise_targets(&own, &discovery, &audience, ADVERTISE_CAP)?)
    }

    /// Publishes the user's relay list where people look, after merging the
    /// newest copy on the network into the settings (never clobbering a
    /// list made on another device).
    pub async fn advertise_relay_list(&self) -> Result<Advertised, SessionError> {
        if self.settings().relays.is_empty() {
            return Err(SessionError::NoWriteRelay);
        }
        self.engine
            .fetch_own(self.me, &own_and_discovery(&self.settings()))
            .await?;
        // Never a relay list built in ignorance: until some relay has
        // answered once, the list out there is unknown and this one waits.
        if self.engine.list_answered_at("10002")?.is_none() {
            return Err(SessionError::RelayListWaiting);
        }
        let versions = self.engine.versions(self.me, Kind::RelayList)?;
        let newest = versions.first().cloned();
        let last_published = self.settings().published_lists.get("10002").cloned();
        let ours = self.settings().relays;
        let mut merge = RelayListMerge::default();
        let mut merged = ours.clone();
        if let Some(theirs) = newest
            .as_ref()
            .filter(|e| Some(e.id.to_hex()) != last_published)
        {
            let base = last_published
                .as_deref()
                .and_then(|id| versions.iter().find(|v| v.id.to_hex() == id))
                .map(roles_of);
            merged = merge_roles(base.as_ref(), &roles_of(theirs), &ours);
            merge = describe(&ours, &merged, true);
            if merged != ours {
                let adopted = merged.clone();
                self.change_settings(move |s| {
                    s.relays = adopted;
                    Ok(())
                })?;
            }
        }
        let targets = self.advertise_targets().await?;
        // The newest copy already says it: send that one, make no new version.
        if let Some(same) = newest.filter(|e| roles_of(e) == merged) {
            self.note_published_list(&same);
            let deliveries = self.engine.publish(&same, &targets).await?;
            return Ok(Advertised {
                published: Published {
                    event: same,
                    deliveries,
                },
                merge,
                new_version: false,
            });
        }
        let settings = self.settings();
        let unsigned =
            crate::base::compose::relay_list(self.me, settings.relays.iter(), versions.first());
        Ok(Advertised {
            published: self.sign_and_publish(unsigned, &targets).await?,
            merge,
            new_version: true,
        })
    }

    /// When the relay list in the settings differs from the newest one
    /// published, and the user has published one before, advertises it
    /// again (the background work calls this; a read-only session cannot
    /// sign and skips it).
    pub async fn readvertise_if_changed(&self) -> Result<bool, SessionError> {
        let settings = self.settings();
        if self.signer.is_locked()
            || settings.relays.is_empty()
            || !settings.published_lists.contains_key("10002")
        {
            return Ok(false);
        }
        let newest = self.engine.versions(self.me, Kind::RelayList)?;
        if newest.first().map(roles_of).as_ref() == Some(&settings.relays) {
            return Ok(false);
        }
        self.advertise_relay_list().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(list: &[(&str, bool, bool)]) -> Roles {
        list.iter()
            .map(|(u, read, write)| {
                (
                    (*u).to_owned(),
                    RelayRoles {
                        read: *read,
                        write: *write,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn each_side_keeps_its_own_changes() {
        let base = roles(&[("a", true, true), ("b", true, true)]);
        // Elsewhere: b dropped, c added. Here: d added, a made write-only.
        let theirs = roles(&[("a", true, true), ("c", true, false)]);
        let ours = roles(&[("a", false, true), ("b", true, true), ("d", true, true)]);
        let merged = merge_roles(Some(&base), &theirs, &ours);
        assert_eq!(
            merged,
            roles(&[("a", false, true), ("c", true, false), ("d", true, true)])
        );
        let d = describe(&ours, &merged, true);
        assert_eq!(d.added, vec!["c"]);
        assert_eq!(d.removed, vec!["b"]);
        assert!(d.changed.is_empty());
    }

    #[test]
    fn both_changed_or_no_base_unites() {
        let base = roles(&[("a", true, false)]);
        let theirs = roles(&[("a", false, true)]);
        let ours = roles(&[("a", true, true), ("x", true, false)]);
        assert_eq!(
            merge_roles(Some(&base), &theirs, &ours),
            roles(&[("a", true, true), ("x", true, false)])
        );
        let theirs = roles(&[("t", false, true)]);
        let ours = roles(&[("o", true, false)]);
        assert_eq!(
            merge_roles(None, &theirs, &ours),
            roles(&[("o", true, false), ("t", false, true)])
        );
    }
}
