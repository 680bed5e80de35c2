//! Backups of the user's own data as JSON Lines.
//!
//! A backup starts with one header line, `{"samizdat_backup":1,"pubkey":…}`
//! (plus `"ncryptsec":…` only when the key is exported too: it stays
//! encrypted under its passphrase), then one event per line, oldest first:
//! everything the user authored that the store holds, every earlier version
//! of their profile and lists (so follow-list history survives), and the DM
//! gift wraps addressed to them. Importing verifies every event (id and
//! signature) and stores it; a bad line is reported by its number and the
//! good ones are kept.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};

use nostr::prelude::*;
use samizdat_store::{Store, StoreError};
use serde::Serialize;

/// Most events one backup holds.
const MAX_EVENTS: usize = 5_000_000;

/// Why a backup could not be written or read at all.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing or reading the file failed.
    #[error("{op} the backup: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The file's header names another key than this profile's.
    #[error("this backup belongs to {found}, not to this profile ({expected})")]
    OtherKey {
        /// The profile's key.
        expected: String,
        /// The backup's key.
        found: String,
    },
}

/// The first line of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BackupHeader {
    /// Format version (1).
    pub samizdat_backup: u32,
    /// Whose data it is (hex).
    pub pubkey: String,
    /// The key, NIP-49 encrypted, when exported with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ncryptsec: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// Events written.
    pub events: usize,
    /// Of which earlier versions of profile and lists.
    pub earlier_versions: usize,
    /// Of which DM gift wraps.
    pub dm_wraps: usize,
    /// Whether the (encrypted) key was included.
    pub with_key: bool,
}

/// What an import found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Lines read (the header included).
    pub lines: usize,
    /// Events newly stored (or kept as earlier versions).
    pub stored: usize,
    /// Events the store already had.
    pub already_had: usize,
    /// Earlier versions of a list the store already holds a newer copy of
    /// (not kept: history only grows forward in a store).
    pub older_than_held: usize,
    /// Bad lines: line number (from 1) and why.
    pub bad: Vec<(usize, String)>,
    /// The header, if the file had one.
    #[serde(skip)]
    pub header: Option<BackupHeader>,
    /// The events kept (verified, this profile's), oldest first, for
    /// republishing.
    #[serde(skip)]
    pub events: Vec<Event>,
}

/// Everything of `me`'s the store holds, oldest first: own events, earlier
/// versions of profile and lists, DM wraps addressed to `me`.
pub fn own_events(store: &Store, me: PublicKey) -> Result<(Vec<Event>, usize, usize), BackupError> {
    let mut events = store.query(&[Filter::new().author(me).limit(MAX_EVENTS)])?;
    let mut ids: BTreeSet<EventId> = events.iter().map(|e| e.id).collect();
    let mut earlier = 0;
    for kind in crate::engine::own::OWN_LIST_KINDS {
        for v in store.versions(&me, kind)? {
            if ids.insert(v.id) {
                earlier += 1;
                events.push(v);
            }
        }
    }
    let wraps = store.query(&[Filter::new()
        .kind(Kind::GiftWrap)
        .pubkey(me)
        .limit(MAX_EVENTS)])?;
    let mut dm_wraps = 0;
    for w in wraps {
        if ids.insert(w.id) {
            dm_wraps += 1;
            events.push(w);
        }
    }
    events.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok((events, earlier, dm_wraps))
}

/// Writes `me`'s backup to `out` (with the encrypted key if `ncryptsec`).
pub fn export(
    store: &Store,
    me: PublicKey,
    ncryptsec: Option<String>,
    out: &mut dyn Write,
) -> Result<ExportReport, BackupError> {
    let io = |source| BackupError::Io {
        op: "writing",
        source,
    };
    let (events, earlier_versions, dm_wraps) = own_events(store, me)?;
    let with_key = ncryptsec.is_some();
    let header = BackupHeader {
        samizdat_backup: 1,
        pubkey: me.to_hex(),
        ncryptsec,
    };
    let header = serde_json::to_string(&header).map_err(|e| io(e.into()))?;
    writeln!(out, "{header}").map_err(io)?;
    for e in &events {
        writeln!(out, "{}", e.as_json()).map_err(io)?;
    }
    out.flush().map_err(io)?;
    Ok(ExportReport {
        events: events.len(),
        earlier_versions,
        dm_wraps,
        with_key,
    })
}

/// Whether an event belongs in `me`'s backup.
fn is_own(event: &Event, me: &PublicKey) -> bool {
    event.pubkey == *me
        || (event.kind == Kind::GiftWrap && event.tags.public_keys().any(|p| p == *me))
}

/// Reads a backup: every line verified; the good events of `me` (or, with
/// `me` unknown, of the header's key) kept, the bad ones reported by line.
/// Nothing is stored here: see [`store_imported`].
pub fn read(input: &mut dyn BufRead, me: Option<PublicKey>) -> Result<ImportReport, BackupError> {
    let mut report = ImportReport::default();
    let mut owner = me;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        report.lines = n;
        let line = line.map_err(|source| BackupError::Io {
            op: "reading",
            source,
        })?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if n == 1 {
            if let Ok(h) = serde_json::from_str::<BackupHeader>(line) {
                let key = PublicKey::from_hex(&h.pubkey).ok();
                match (owner, key) {
                    (Some(mine), Some(theirs)) if mine != theirs => {
                        return Err(BackupError::OtherKey {
                            expected: mine.to_hex(),
                            found: theirs.to_hex(),
                        })
                    }
                    (None, key) => owner = key,
                    _ => {}
                }
                report.header = Some(h);
                continue;
            }
        }
        let event = match Event::from_json(line) {
            Ok(e) => e,
            Err(e) => {
                report.bad.push((n, format!("not an event: {e}")));
                continue;
            }
        };
        if let Err(e) = event.verify() {
            report.bad.push((n, format!("does not verify: {e}")));
            continue;
        }
        // Without a header, the first event's author is taken as the owner.
        let owner = *owner.get_or_insert(event.pubkey);
        if !is_own(&event, &owner) {
            report.bad.push((n, "not this profile's event".to_owned()));
            continue;
        }
        report.events.push(event);
    }
    report
        .events
        .sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    Ok(report)
}

/// Stores what [`read`] kept, oldest first (so earlier versions of a list
/// become its history), counting new and known events.
pub fn store_imported(store: &Store, report: &mut ImportReport) -> Result<(), BackupError> {
    for chunk in report.events.chunks(1_000) {
        for outcome in store.insert_batch(chunk)? {
            match outcome {
                samizdat_store::InsertOutcome::Duplicate => report.already_had += 1,
                samizdat_store::InsertOutcome::RejectedOlder => report.older_than_held += 1,
                _ => report.stored += 1,
            }
        }
    }
    Ok(())
}

impl crate::session::Session {
    /// Writes this profile's backup (see [`export`]).
    pub fn export_backup(
        &self,
        ncryptsec: Option<String>,
        out: &mut dyn Write,
    ) -> Result<ExportReport, BackupError> {
        export(self.engine.store(), self.me, ncryptsec, out)
    }

    /// Reads a backup of this profile and stores its good events; bad lines
    /// are reported, not fatal.
    pub fn import_backup(&self, input: &mut dyn BufRead) -> Result<ImportReport, BackupError> {
        let mut report = read(input, Some(self.me))?;
        store_imported(self.engine.store(), &mut report)?;
        Ok(report)
    }

    /// Queues `events` (already signed) durably for the user's write relays
    /// (gift wraps: the user's DM relays) and delivers what is due; returns
    /// how many deliveries were queued.
    pub async fn republish(&self, events: &[Event]) -> Result<usize, crate::SessionError> {
        let write: Vec<String> = self
            .settings()
            .write_relays()
            .iter()
            .map(|u| u.to_string())
            .collect();
        let dm: Vec<String> = self
            .dm_relays_of(self.me)?
            .iter()
            .map(|u| u.to_string())
            .collect();
        let mut queued = 0;
        for event in events {
            let targets = if event.kind == Kind::GiftWrap {
                &dm
            } else {
                &write
            };
            if targets.is_empty() {
                continue;
            }
            self.engine.store().enqueue_publish(event, targets)?;
            queued += targets.len();
        }
        self.engine.deliver_all_due().await?;
        Ok(queued)
    }
}
