//! The user's own replaceable events (profile, follow list, relay list):
//! fetched from everywhere before a change, with their earlier versions kept.

use nostr::prelude::*;
use samizdat_net::RelayUrl;

use crate::engine::{Engine, EngineError};

/// The user's own profile and lists: fetched before a change, restored on a
/// new device, their earlier versions kept and backed up.
pub const OWN_LIST_KINDS: [Kind; 8] = [
    Kind::Metadata,
    Kind::ContactList,
    Kind::RelayList,
    Kind::InboxRelays,
    Kind::MuteList,
    Kind::Bookmarks,
    Kind::FollowSet,
    // The Blossom server list (BUD-03): where the user's pictures go.
    Kind::Custom(10063),
];

/// The store key under which a fetch of all own lists at once is remembered.
pub const ALL_OWN_LISTS: &str = "own";

impl Engine {
    /// Fetches the user's own profile, follow list and relay list from their
    /// relays and the discovery relays, so that a change starts from the
    /// newest copy anywhere (the store keeps the newest of each).
    ///
    /// When a relay answered, the store remembers when (under
    /// [`ALL_OWN_LISTS`]): a copy fetched after a list change was made is one
    /// the change may be applied to. Returns whether one answered.
    pub async fn fetch_own(&self, me: PublicKey, relays: &[RelayUrl]) -> Result<bool, EngineError> {
        let filter = Filter::new().author(me).kinds(OWN_LIST_KINDS);
        let outcomes = self.fetch("own", relays, vec![filter]).await?;
        let answered = outcomes.values().any(|o| o.finished);
        if answered {
            self.store
                .note_list_answered(ALL_OWN_LISTS, samizdat_store::now_millis())?;
        }
        Ok(answered)
    }

    /// When a relay last answered a fetch of the list stored under `key`
    /// (or of all own lists at once), in unix milliseconds.
    pub fn list_answered_at(&self, key: &str) -> Result<Option<u64>, EngineError> {
        let one = self.store.list_answered_at(key)?;
        let all = self.store.list_answered_at(ALL_OWN_LISTS)?;
        Ok(one.max(all))
    }

    /// The newest follow list (kind 3) of `who` in the store.
    pub fn contact_list(&self, who: PublicKey) -> Result<Option<Event>, EngineError> {
        let filter = Filter::new().author(who).kind(Kind::ContactList).limit(1);
        Ok(self.store.query(&[filter])?.into_iter().next())
    }

    /// Keeps earlier versions of this key's profile, follow list and relay
    /// list from now on (see [`samizdat_store::Store::versions`]).
    pub fn keep_history_for(&self, me: PublicKey) -> Result<(), EngineError> {
        Ok(self.store.keep_history_for(&me)?)
    }

    /// Every known version of `who`'s replaceable event of `kind`, newest first.
    pub fn versions(&self, who: PublicKey, kind: Kind) -> Result<Vec<Event>, EngineError> {
        Ok(self.store.versions(&who, kind)?)
    }

    /// The people `who` follows, from the newest follow list in the store.
    pub fn follows_of(&self, who: PublicKey) -> Result<Vec<PublicKey>, EngineError> {
        Ok(self
            .contact_list(who)?
            .map(|e| e.tags.public_keys().collect())
            .unwrap_or_default())
    }
}
