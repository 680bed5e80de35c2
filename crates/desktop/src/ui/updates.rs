//! How the signed-in screens take an [`Update`] from the worker: each one
//! replaces or extends what is shown; nothing here is computed from events.

use std::time::Instant;

use super::{ListState, Main, Page};
use crate::protocol::Update;
use crate::view::NoteView;

impl Main {
    /// Applies one update to what is shown.
    pub(super) fn apply(&mut self, update: Update) {
        let depth0 = |v: Vec<NoteView>| v.into_iter().map(|n| (n, 0)).collect::<Vec<_>>();
        match update {
            Update::Feed(notes) => {
                self.feed = depth0(notes);
                self.new_notes = 0;
                self.feed_end = false;
                self.selected = self.selected.filter(|s| *s < self.feed.len());
            }
            Update::More(notes) => {
                self.loading_more = false;
                if notes.is_empty() {
                    self.feed_end = true;
                }
                self.feed.extend(depth0(notes));
            }
            Update::NewNotes(n) => self.new_notes = n,
            Update::Inbox(mut notes, held) => {
                notes.revealed = self.inbox.revealed;
                self.inbox = notes;
                self.held_back = held;
            }
            Update::Pending(p) => self.pending = p,
            Update::Waiting(w) => self.waiting = w,
            Update::OwnData(lines) => self.own_data = Some(lines.unwrap_or_default()),
            Update::Privacy(p) => self.privacy = Some(*p),
            Update::Network(n) => self.network = n,
            Update::TorFound(found) => self.tor = Some(found),
            Update::Thread(id, notes) => {
                if let Some(Page::Thread(open, slot)) = self.pages.last_mut() {
                    if *open == id {
                        *slot = Some(notes);
                    }
                }
            }
            Update::Person(p) => {
                let same = matches!(self.pages.last(), Some(Page::Person(open)) if open.pubkey == p.pubkey);
                if same {
                    self.pages.pop();
                    self.pages.push(Page::Person(p));
                } else if self.pending_person == Some(p.pubkey) {
                    self.pending_person = None;
                    self.page_list = ListState::default();
                    self.pages.push(Page::Person(p));
                }
            }
            Update::Search(q, notes) => self.results = Some((q, notes)),
            Update::Relays(r) => self.relays = Some(*r),
            Update::Conversations(m) => self.messages = Some(*m),
            Update::Conversation(with, messages)
                if self.chat.as_ref().is_some_and(|(w, _)| *w == with) =>
            {
                self.chat = Some((with, messages));
            }
            Update::Deliveries(d) => self.deliveries = d,
            Update::Status(s) => self.status = s,
            Update::Name(n) => self.name = n,
            Update::Authenticated(relay) if !self.authenticated.contains(&relay) => {
                self.authenticated.push(relay);
            }
            Update::Alert(a) => self.alerts.push(a),
            Update::Upload(progress) => self.pictures.upload = progress,
            Update::MediaSettings(m) => {
                self.pictures.settings = m;
                self.pictures.forget();
            }
            Update::Folder(dir, entries) => self.pictures.picker = Some((dir, entries)),
            Update::Operator(result) => {
                self.operator.loading = false;
                self.operator.overview = Some(*result);
            }
            Update::Done(result) => {
                if result.as_ref().is_ok_and(|s| s.starts_with("post"))
                    || result.as_ref().is_err_and(|e| e.contains("proof of work"))
                {
                    self.mining = None;
                }
                if let Err(e) = &result {
                    self.alerts.push(e.clone());
                    // A post with pictures failed: its files come back.
                    if self.pictures.attachments.is_empty() && self.pictures.upload.is_none() {
                        self.pictures.attachments = std::mem::take(&mut self.pictures.sending);
                    }
                } else if self.pictures.upload.is_none() {
                    self.pictures.sending.clear();
                }
                self.last_done = Some((result, Instant::now()));
            }
            _ => {}
        }
    }
}
