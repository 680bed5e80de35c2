//! Conversions between events and their stored columns.
//!
//! Ids, public keys and signatures are stored as raw bytes (half the size of
//! hex). Tag values that are 64 lowercase hex characters (event ids, public
//! keys) are stored as 32 raw bytes; every other value as text. Filters encode
//! their tag values the same way, so equality still holds.

use nostr::prelude::{Event, EventId, Kind, PublicKey, Signature, Tags, Timestamp};
use rusqlite::types::Value;

use crate::error::StoreError;

/// Encodes one tag value for the `tags.value` column.
pub(crate) fn encode_tag_value(value: &str) -> Value {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        let mut bytes = vec![0u8; 32];
        for (i, chunk) in value.as_bytes().chunks(2).enumerate() {
            bytes[i] = (hex_nibble(chunk[0]) << 4) | hex_nibble(chunk[1]);
        }
        Value::Blob(bytes)
    } else {
        Value::Text(value.to_owned())
    }
}

fn hex_nibble(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        _ => b - b'a' + 10,
    }
}

/// The single-letter tags of an event that NIP-01 filters can match: the tag
/// letter as a byte and the first value.
pub fn indexable_tags(event: &Event) -> impl Iterator<Item = (u8, &str)> + '_ {
    event.tags.iter().filter_map(|tag| {
        let slice = tag.as_slice();
        let name = slice.first()?;
        let value = slice.get(1)?;
        let b = name.as_bytes();
        (b.len() == 1 && b[0].is_ascii_alphabetic()).then(|| (b[0], value.as_str()))
    })
}

/// The `d` tag value used to address an addressable event ("" when absent).
pub fn d_tag(event: &Event) -> String {
    event.tags.identifier().unwrap_or_default()
}

/// The NIP-40 expiration of an event, if it has a well-formed one.
pub fn expiration(event: &Event) -> Option<i64> {
    event.tags.expiration().map(|t| t.as_secs() as i64)
}

/// The raw columns of one stored event, in the order [`EVENT_COLUMNS`] selects them.
pub(crate) struct EventRow {
    pub seq: i64,
    pub id: Vec<u8>,
    pub pubkey: Vec<u8>,
    pub created_at: i64,
    pub kind: i64,
    pub tags: String,
    pub content: String,
    pub sig: Vec<u8>,
}

/// Columns selected for a full event, matching [`EventRow::from_row`].
pub(crate) const EVENT_COLUMNS: &str =
    "e.seq, e.id, a.pubkey, e.created_at, e.kind, e.tags, e.content, e.sig";

impl EventRow {
    /// Reads an [`EventRow`] from a row selected with [`EVENT_COLUMNS`].
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            id: row.get(1)?,
            pubkey: row.get(2)?,
            created_at: row.get(3)?,
            kind: row.get(4)?,
            tags: row.get(5)?,
            content: row.get(6)?,
            sig: row.get(7)?,
        })
    }

    /// Rebuilds the event. The stored id is returned as is (it was verified on
    /// the way in), so JSON escapes never change an event's identity.
    pub(crate) fn into_event(self) -> Result<Event, StoreError> {
        let seq = self.seq;
        let bad = |reason: String| StoreError::BadRow { seq, reason };
        let id = EventId::from_slice(&self.id).map_err(|e| bad(format!("id: {e}")))?;
        let pubkey =
            PublicKey::from_slice(&self.pubkey).map_err(|e| bad(format!("pubkey: {e}")))?;
        let sig = Signature::from_slice(&self.sig).map_err(|e| bad(format!("sig: {e}")))?;
        let kind = u16::try_from(self.kind).map_err(|_| bad(format!("kind {}", self.kind)))?;
        let created_at = u64::try_from(self.created_at)
            .map_err(|_| bad(format!("created_at {}", self.created_at)))?;
        let tags: Tags = serde_json::from_str(&self.tags).map_err(|e| bad(format!("tags: {e}")))?;
        Ok(Event::new(
            id,
            pubkey,
            Timestamp::from_secs(created_at),
            Kind::from_u16(kind),
            tags,
            self.content,
            sig,
        ))
    }
}

/// Kinds whose content is ciphertext: never put in the full-text index.
pub fn is_searchable(kind: Kind, content: &str) -> bool {
    !content.is_empty() && !matches!(kind.as_u16(), 4 | 13 | 1059 | 1060 | 24133)
}
