//! The session's side of list changes: keep each edit as a waiting change,
//! fetch the newest copy, and — once a relay has answered — apply every
//! waiting change of that list to it as one new version, signed and queued
//! in the same transaction that settles the changes.

use std::collections::BTreeSet;

use nostr::prelude::*;
use samizdat_net::RelayUrl;
use samizdat_store::{now_millis, ListChangeRow};

use super::model::{self, Change, ListContent, ListItem, OwnList};
use super::{ListEdit, WaitingChange};
use crate::session::{own_and_discovery, Published, Session, SessionError};

impl WaitingChange {
    fn from_row(row: &ListChangeRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            list: OwnList::from_key(&row.list)?,
            change: serde_json::from_str(&row.change).ok()?,
            queued_at_ms: row.queued_at,
        })
    }
}

impl Session {
    /// Makes `change` to one of the user's lists: it is kept as a waiting
    /// change first (it survives a crash), then the newest copy is fetched
    /// from the user's relays and the discovery relays; if one answered,
    /// every waiting change of the list goes out as one new version. If
    /// none answered and no copy fetched since can be trusted, the change
    /// waits ([`ListEdit::waiting`]) and is applied later — never to an
    /// empty list assumed in ignorance.
    ///
    /// A single change that no longer applies (following someone already
    /// followed) is an error, as before; among several it is dropped and
    /// reported.
    pub async fn change_list(
        &self,
        list: OwnList,
        change: Change,
    ) -> Result<ListEdit, SessionError> {
        if self.settings().write_relays().is_empty() {
            return Err(SessionError::NoWriteRelay);
        }
        let _one_at_a_time = self.settling.lock().await;
        let id = self.queue_change(&list, &change).await?;
        let edit = self.settle(&list).await?;
        let mine_dropped = edit.dropped.iter().find(|(c, _)| c.id == id);
        if let (Some((c, why)), None) = (mine_dropped, &edit.published) {
            return Err(single_dropped(c, why));
        }
        Ok(edit)
    }

    /// Tries every list that has waiting changes (the background work and
    /// `samizdat changes apply`); a read-only session does nothing.
    pub async fn apply_waiting_changes(&self) -> Result<Vec<ListEdit>, SessionError> {
        if self.signer.is_locked() {
            return Ok(Vec::new());
        }
        let lists: BTreeSet<OwnList> = self
            .waiting_changes()?
            .into_iter()
            .map(|c| c.list)
            .collect();
        let mut out = Vec::new();
        for list in lists {
            let _one_at_a_time = self.settling.lock().await;
            out.push(self.settle(&list).await?);
        }
        Ok(out)
    }

    /// Every waiting change, oldest first.
    pub fn waiting_changes(&self) -> Result<Vec<WaitingChange>, SessionError> {
        Ok(self
            .engine
            .store()
            .list_changes(None)?
            .iter()
            .filter_map(WaitingChange::from_row)
            .collect())
    }

    /// Every waiting change, oldest first, private ones opened through the
    /// signer where it can (for a UI that shows what a change is before it
    /// is cancelled); those it cannot open stay sealed.
    pub async fn waiting_changes_opened(&self) -> Result<Vec<WaitingChange>, SessionError> {
        let mut out = self.waiting_changes()?;
        if self.signer.is_locked() {
            return Ok(out);
        }
        for w in &mut out {
            if let Ok(Some(opened)) = self.opened(w.change.clone()).await {
                w.change = opened;
            }
        }
        Ok(out)
    }

    /// Cancels one waiting change (by its number); it is never applied.
    pub fn cancel_change(&self, id: i64) -> Result<WaitingChange, SessionError> {
        let change = self
            .waiting_changes()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(SessionError::NoSuchChange(id))?;
        self.engine.store().remove_list_changes(&[id])?;
        Ok(change)
    }

    /// Keeps `change` to `list` as a waiting change (with the copy the user
    /// sees now as its base); returns its number. Nothing is sent.
    pub(crate) async fn queue_change(
        &self,
        list: &OwnList,
        change: &Change,
    ) -> Result<i64, SessionError> {
        let base = self.newest_copy(list)?.map(|e| e.id.to_hex());
        let json = self.at_rest(change).await?;
        Ok(self
            .engine
            .store()
            .queue_list_change(&list.key(), &json, base.as_deref())?)
    }

    /// A change as it is stored: its JSON, sealed to the user's key when
    /// it is private.
    pub(crate) async fn at_rest(&self, change: &Change) -> Result<String, SessionError> {
        let json = serde_json::to_string(change).unwrap_or_default();
        if !change.is_private() {
            return Ok(json);
        }
        let sealed = self.signer.nip44_encrypt(&self.me, &json).await?;
        Ok(serde_json::to_string(&Change::Sealed(sealed)).unwrap_or_default())
    }

    /// Opens a sealed change through the signer (a signer that cannot
    /// decrypt now is an error: the change keeps waiting); what opens to
    /// no change at all is `None`.
    async fn opened(&self, change: Change) -> Result<Option<Change>, SessionError> {
        let Change::Sealed(payload) = change else {
            return Ok(Some(change));
        };
        let json = self.signer.nip44_decrypt(&self.me, &payload).await?;
        Ok(serde_json::from_str::<Change>(&json)
            .ok()
            .filter(|c| !matches!(c, Change::Sealed(_))))
    }

    /// The newest copy of one of the user's lists in the store.
    pub(crate) fn newest_copy(&self, list: &OwnList) -> Result<Option<Event>, SessionError> {
        Ok(self
            .engine
            .store()
            .query(&[list.filter(self.me).limit(1)])?
            .into_iter()
            .next())
    }

    /// Where a new version of `list` goes.
    async fn list_targets(&self, list: &OwnList) -> Result<Vec<RelayUrl>, SessionError> {
        Ok(match list {
            OwnList::Profile | OwnList::DmRelays => self.advertise_targets().await?,
            _ => own_and_discovery(&self.settings()),
        })
    }

    /// Fetches `list`, then applies its waiting changes if the copy can be
    /// trusted. The caller holds `settling`.
    async fn settle(&self, list: &OwnList) -> Result<ListEdit, SessionError> {
        let store = self.engine.store();
        let key = list.key();
        let relays = own_and_discovery(&self.settings());
        let outcomes = self
            .engine
            .fetch("own-list", &relays, vec![list.filter(self.me)])
            .await?;
        if outcomes.values().any(|o| o.finished) {
            store.note_list_answered(&key, now_millis())?;
        }
        let rows = store.list_changes(Some(&key))?;
        let mut waiting: Vec<WaitingChange> = Vec::new();
        for mut change in rows.iter().filter_map(WaitingChange::from_row) {
            if let Some(opened) = self.opened(change.change.clone()).await? {
                change.change = opened;
                waiting.push(change);
            }
        }
        let unreadable: Vec<i64> = rows
            .iter()
            .filter(|r| !waiting.iter().any(|w| w.id == r.id))
            .map(|r| r.id)
            .collect();
        store.remove_list_changes(&unreadable)?;
        let mut edit = ListEdit {
            list: list.clone(),
            ..ListEdit::default()
        };
        let Some(oldest) = waiting.first() else {
            return Ok(edit);
        };
        if !model::trusted(self.engine.list_answered_at(&key)?, oldest.queued_at_ms) {
            edit.waiting = waiting;
            return Ok(edit);
        }
        let current = self.newest_copy(list)?;
        let content = self.content_of(list, current.as_ref()).await?;
        let changes: Vec<Change> = waiting.iter().map(|w| w.change.clone()).collect();
        let applied = model::apply(list, &content, &changes);
        for (i, why) in &applied.dropped {
            edit.dropped.push((waiting[*i].clone(), (*why).to_owned()));
        }
        edit.applied = applied
            .applied
            .iter()
            .map(|i| waiting[*i].clone())
            .collect();
        let all: Vec<i64> = waiting.iter().map(|w| w.id).collect();
        if edit.applied.is_empty() {
            store.remove_list_changes(&all)?;
            return Ok(edit);
        }
        // The guard: against the copy the user saw when asking (the newest
        // base a change recorded), the new version may lose only what was
        // asked and a few more.
        let saw = rows
            .iter()
            .rev()
            .find_map(|r| r.base.clone())
            .and_then(|id| {
                self.engine
                    .versions(self.me, list.kind())
                    .ok()?
                    .into_iter()
                    .find(|v| v.id.to_hex() == id)
            });
        if let Some(saw) = saw {
            let before = self.content_of(list, Some(&saw)).await?.entries(list);
            let after = applied.content.entries(list);
            if let Err(s) = model::guard(&before, &after, &applied.asked_removed) {
                store.remove_list_changes(&all)?;
                return Err(SessionError::ShrinkRefused {
                    list: list.name(),
                    before: s.before,
                    after: s.after,
                    unasked: s.unasked,
                });
            }
        }
        let unsigned = self
            .version_of(list, &applied.content, current.as_ref())
            .await?;
        let event = self.signer.sign_event(unsigned).await?;
        let targets = self.list_targets(list).await?;
        self.note_published_list(&event);
        let deliveries = self.engine.publish_settling(&event, &targets, &all).await?;
        if *list == OwnList::Mutes {
            // What the new mute list says is hidden at once.
            let items: Vec<ListItem> = applied
                .content
                .tags
                .iter()
                .filter_map(|t| ListItem::from_tag(t))
                .chain(applied.content.private.iter().cloned())
                .collect();
            self.remember_mutes(crate::session::mutes::MuteSet::from_items(&items));
        }
        edit.published = Some(Published { event, deliveries });
        Ok(edit)
    }

    /// The readable content of one copy (the private part decrypted through
    /// the signer; a part this key cannot read stops the edit).
    pub(crate) async fn content_of(
        &self,
        list: &OwnList,
        event: Option<&Event>,
    ) -> Result<ListContent, SessionError> {
        let Some(event) = event else {
            return Ok(ListContent::default());
        };
        let mut content = ListContent {
            tags: event.tags.iter().map(|t| t.as_slice().to_vec()).collect(),
            ..ListContent::default()
        };
        match list {
            OwnList::Profile => content.fields = crate::base::compose::profile_fields(Some(event)),
            OwnList::Follows | OwnList::DmRelays => content.kept_content = event.content.clone(),
            _ if event.content.trim().is_empty() => {}
            _ => {
                let json = self
                    .signer
                    .nip44_decrypt(&self.me, &event.content)
                    .await
                    .map_err(|_| {
                        SessionError::Signer(crate::base::signer::SignerError::Crypto(
                            "the private part of this list cannot be decrypted with this key; not changing it"
                                .into(),
                        ))
                    })?;
                let tags: Vec<Vec<String>> = serde_json::from_str(&json).unwrap_or_default();
                content.private = tags.iter().filter_map(|t| ListItem::from_tag(t)).collect();
            }
        }
        Ok(content)
    }

    /// The new version: `content` as an event dated strictly after `current`.
    async fn version_of(
        &self,
        list: &OwnList,
        content: &ListContent,
        current: Option<&Event>,
    ) -> Result<UnsignedEvent, SessionError> {
        let mut tags: Vec<Tag> = content
            .tags
            .iter()
            .filter_map(|t| Tag::parse(t.clone()).ok())
            .collect();
        if let Some(name) = list.set_name() {
            if !content
                .tags
                .iter()
                .any(|t| t.first().map(String::as_str) == Some("d"))
            {
                tags.insert(0, Tag::identifier(name));
            }
        }
        let body = match list {
            OwnList::Profile => serde_json::Value::Object(content.fields.clone()).to_string(),
            OwnList::Follows | OwnList::DmRelays => content.kept_content.clone(),
            _ if content.private.is_empty() => String::new(),
            _ => {
                let private: Vec<Vec<String>> = content
                    .private
                    .iter()
                    .filter_map(ListItem::tag)
                    .map(|t| t.as_slice().to_vec())
                    .collect();
                let json = serde_json::to_string(&private).unwrap_or_default();
                self.signer.nip44_encrypt(&self.me, &json).await?
            }
        };
        Ok(EventBuilder::new(list.kind(), body)
            .tags(tags)
            .custom_created_at(crate::base::compose::strictly_after(current))
            .finalize_unsigned(self.me))
    }
}

/// The error a lone change that no longer applies gives (as before changes
/// were queued: "already following X").
fn single_dropped(change: &WaitingChange, why: &str) -> SessionError {
    match (&change.list, &change.change) {
        (OwnList::Follows, Change::Add { item, .. }) => {
            SessionError::AlreadyFollowing(item.describe())
        }
        (OwnList::Follows, Change::Remove { item }) => SessionError::NotFollowing(item.describe()),
        (_, Change::Add { .. }) => SessionError::ListUnchanged("already on the list"),
        (_, Change::Remove { .. }) => SessionError::ListUnchanged("not on the list"),
        _ => SessionError::ListUnchanged(if why.starts_with("already") {
            "nothing to change: it is set so already"
        } else {
            "this change does not fit this list"
        }),
    }
}
