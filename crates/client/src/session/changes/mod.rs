//! No clobbering: edits of the user's replaceable lists (follow list, mute
//! list, bookmarks, follow sets, profile, DM relays) are kept as *changes*
//! ("add p:X", "remove word:Y", "set name=Z"), not as finished events.
//!
//! A change is stored first ([`samizdat_store::Store::queue_list_change`]);
//! the event is built only when a copy of the list can be trusted — one that
//! a relay returned at or after the moment the change was made. Until then
//! it waits, visibly ("1 change to your follow list waiting: your relays
//! have not answered"), and it is never applied to an empty list assumed in
//! ignorance. Several waiting changes of one list go out as one version; a
//! change that no longer applies is dropped and reported; a version that
//! would lose entries nobody asked to remove is refused ([`model::guard`]).
//! The relay list (kind 10002) is not a change list: it is merged three ways
//! from the settings (`advertise`) and waits the same way for an answer.

mod model;
mod queue;

#[cfg(test)]
mod interleavings;

pub use model::{
    apply, guard, trusted, Applied, Change, ListContent, ListItem, OwnList, Shrinkage,
    GUARD_MAX_LOST,
};

use crate::session::Published;

/// A change that waits for a copy of its list that can be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingChange {
    /// Its number (for `cancel`).
    pub id: i64,
    /// Which list.
    pub list: OwnList,
    /// What it does.
    pub change: Change,
    /// When it was made (unix milliseconds).
    pub queued_at_ms: u64,
}

impl WaitingChange {
    /// How long it has waited, in whole seconds.
    pub fn age_secs(&self) -> u64 {
        samizdat_store::now_millis().saturating_sub(self.queued_at_ms) / 1000
    }

    /// "follow list: add npub1… (waiting 3 min)".
    pub fn describe(&self) -> String {
        format!(
            "{}: {} (waiting {})",
            self.list.name(),
            self.change.describe(),
            age_words(self.age_secs())
        )
    }
}

/// What a list edit did.
#[derive(Debug, Clone, Default)]
pub struct ListEdit {
    /// Which list.
    pub list: OwnList,
    /// The new version and each relay's answer; `None` while changes wait
    /// (or when none applied any more).
    pub published: Option<Published>,
    /// Changes the new version applies.
    pub applied: Vec<WaitingChange>,
    /// Changes that no longer applied, with why (not forced, not kept).
    pub dropped: Vec<(WaitingChange, String)>,
    /// Changes still waiting: no relay has answered since they were made.
    pub waiting: Vec<WaitingChange>,
}

impl ListEdit {
    /// One sentence: what went out, or what waits and why.
    pub fn summary(&self) -> String {
        if !self.waiting.is_empty() {
            return waiting_sentence(&self.list.name(), self.waiting.len());
        }
        match &self.published {
            Some(_) => {
                let n = self.applied.len();
                let mut s = format!(
                    "{} applied to your {} as one new version",
                    plural(n, "change"),
                    self.list.name()
                );
                if !self.dropped.is_empty() {
                    s.push_str(&format!(
                        "; {} dropped ({})",
                        self.dropped.len(),
                        self.dropped
                            .iter()
                            .map(|(c, why)| format!("{}: {why}", c.change.describe()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                s
            }
            None if !self.dropped.is_empty() => format!(
                "nothing sent: {} no longer applied to your {}",
                plural(self.dropped.len(), "change"),
                self.list.name()
            ),
            None => format!("nothing waits for your {}", self.list.name()),
        }
    }
}

/// "1 change to your follow list waiting: your relays have not answered".
pub fn waiting_sentence(list: &str, n: usize) -> String {
    format!(
        "{} to your {list} waiting: your relays have not answered",
        plural(n, "change"),
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "12 s", "3 min", "2 h", "4 days".
pub fn age_words(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
