//! Who may write and who may read: the relay's admission policy.
//!
//! Writes: `public` (anyone), `owner` (only the owner's keys) or `personal`
//! (the owner, the people the owner follows — read from the owner's newest
//! follow list *on this relay*, so a follow takes effect the moment the new
//! list is stored — and any event that tags an owner: replies, reactions,
//! DMs, gift wraps). Above the mode sit a deny list (config + NIP-86 bans),
//! an allow list (config + NIP-86 allows; allowed keys pass any mode), banned
//! events, and optionally a set of allowed kinds.
//!
//! Reads: events of the `auth_read_kinds` (default: DMs, gift wraps, and
//! private kinds such as app data and drafts) go only to their authenticated
//! author or `p`-tagged recipient; `auth_read_all` asks every reader to
//! authenticate first.
//!
//! Refusals say why with the NIP-01 prefixes: `blocked:` (a ban),
//! `restricted:` (not covered by the policy), `auth-required:`.

use std::collections::HashSet;

use nostr::prelude::*;
use serde::{Deserialize, Serialize};

/// Who may publish (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// Anyone.
    #[default]
    Public,
    /// Only the owner's keys (and allowed keys).
    Owner,
    /// The owner, whom the owner follows, and events that tag the owner.
    Personal,
}

impl WriteMode {
    /// The mode's name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMode::Public => "public",
            WriteMode::Owner => "owner",
            WriteMode::Personal => "personal",
        }
    }
}

impl std::str::FromStr for WriteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public" => Ok(WriteMode::Public),
            "owner" => Ok(WriteMode::Owner),
            "personal" => Ok(WriteMode::Personal),
            other => Err(format!(
                "unknown write policy {other:?}: use public, owner or personal"
            )),
        }
    }
}

/// Kinds served only to their authenticated author or recipient by default:
/// NIP-04 DMs, NIP-59 gift wraps, NIP-78 app data, NIP-37 drafts and the
/// NIP-37 private relay list.
pub const DEFAULT_AUTH_READ_KINDS: &[u16] = &[4, 1059, 30078, 31234, 10013];

/// The `[policy]` table of the config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Who may publish.
    pub write: WriteMode,
    /// The owner's keys (hex or npub). Owners are admins too.
    pub owners: Vec<String>,
    /// Keys (hex or npub) that may use the NIP-86 management API.
    pub admins: Vec<String>,
    /// Keys that may always publish (unless denied).
    pub allow: Vec<String>,
    /// Keys that may never publish.
    pub deny: Vec<String>,
    /// When not empty, only these kinds are accepted.
    pub allowed_kinds: Vec<u16>,
    /// Kinds served only to their authenticated author or `p`-tagged recipient.
    pub auth_read_kinds: Vec<u16>,
    /// Every reader must authenticate (NIP-42) before a REQ, COUNT or NEG-OPEN.
    pub auth_read_all: bool,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            write: WriteMode::Public,
            owners: Vec::new(),
            admins: Vec::new(),
            allow: Vec::new(),
            deny: Vec::new(),
            allowed_kinds: Vec::new(),
            auth_read_kinds: DEFAULT_AUTH_READ_KINDS.to_vec(),
            auth_read_all: false,
        }
    }
}

impl PolicyConfig {
    /// A personal relay of `owner` (hex or npub): the owner, whom they
    /// follow, and events that tag them.
    pub fn personal(owner: &str) -> Self {
        Self {
            write: WriteMode::Personal,
            owners: vec![owner.to_owned()],
            ..Self::default()
        }
    }
}

/// Parses a key given as hex or npub.
pub fn parse_key(text: &str) -> Result<PublicKey, String> {
    PublicKey::parse(text.trim()).map_err(|e| format!("{text:?} is not a public key: {e}"))
}

fn parse_keys(field: &str, keys: &[String]) -> Result<HashSet<PublicKey>, String> {
    keys.iter()
        .map(|k| parse_key(k).map_err(|e| format!("policy.{field}: {e}")))
        .collect()
}

/// Moderation state kept in the store (NIP-86), merged into the policy.
#[derive(Debug, Clone, Default)]
pub struct Moderation {
    /// Banned keys.
    pub banned_keys: HashSet<PublicKey>,
    /// Allowed keys.
    pub allowed_keys: HashSet<PublicKey>,
    /// Banned events.
    pub banned_events: HashSet<EventId>,
    /// Allowed kinds added by an admin.
    pub allowed_kinds: HashSet<u16>,
    /// Kinds an admin took out of the allowed set.
    pub disallowed_kinds: HashSet<u16>,
    /// Salted hashes of blocked client addresses.
    pub blocked_addresses: HashSet<String>,
    /// Keys holding the NIP-86 role `admin`.
    pub role_admins: HashSet<PublicKey>,
    /// Keys that vanished (NIP-62), with the time up to which nothing of
    /// theirs (nor a gift wrap to them) may be published again.
    pub vanished: std::collections::HashMap<PublicKey, u64>,
}

/// The policy in force: the config's lists, the moderation lists and the
/// owner's follows, resolved to keys.
#[derive(Debug, Clone)]
pub struct Policy {
    write: WriteMode,
    owners: HashSet<PublicKey>,
    admins: HashSet<PublicKey>,
    allow: HashSet<PublicKey>,
    deny: HashSet<PublicKey>,
    allowed_kinds: HashSet<u16>,
    auth_read_kinds: HashSet<u16>,
    auth_read_all: bool,
    /// Moderation lists from the store.
    pub moderation: Moderation,
    /// Whom the owners follow (their newest follow lists on this relay).
    pub follows: HashSet<PublicKey>,
}

impl Default for Policy {
    /// The default config's policy: public writes, private kinds for their
    /// parties only.
    fn default() -> Self {
        Self {
            write: WriteMode::Public,
            owners: HashSet::new(),
            admins: HashSet::new(),
            allow: HashSet::new(),
            deny: HashSet::new(),
            allowed_kinds: HashSet::new(),
            auth_read_kinds: DEFAULT_AUTH_READ_KINDS.iter().copied().collect(),
            auth_read_all: false,
            moderation: Moderation::default(),
            follows: HashSet::new(),
        }
    }
}

impl Policy {
    /// Resolves a config's policy; a key that does not parse is an error
    /// naming the field and the text.
    pub fn from_config(config: &PolicyConfig) -> Result<Self, String> {
        let owners = parse_keys("owners", &config.owners)?;
        if config.write != WriteMode::Public && owners.is_empty() {
            return Err(format!(
                "policy.write = {:?} needs at least one owner key",
                config.write.as_str()
            ));
        }
        let mut admins = parse_keys("admins", &config.admins)?;
        admins.extend(owners.iter().copied());
        Ok(Self {
            write: config.write,
            owners,
            admins,
            allow: parse_keys("allow", &config.allow)?,
            deny: parse_keys("deny", &config.deny)?,
            allowed_kinds: config.allowed_kinds.iter().copied().collect(),
            auth_read_kinds: config.auth_read_kinds.iter().copied().collect(),
            auth_read_all: config.auth_read_all,
            moderation: Moderation::default(),
            follows: HashSet::new(),
        })
    }

    /// The write mode.
    pub fn write_mode(&self) -> WriteMode {
        self.write
    }

    /// The owner keys.
    pub fn owners(&self) -> &HashSet<PublicKey> {
        &self.owners
    }

    /// True if `key` may use the management API.
    pub fn is_admin(&self, key: &PublicKey) -> bool {
        self.admins.contains(key) || self.moderation.role_admins.contains(key)
    }

    /// True when writes are limited by anything (NIP-11 `restricted_writes`).
    pub fn restricts_writes(&self) -> bool {
        self.write != WriteMode::Public || !self.effective_allowed_kinds().is_empty()
    }

    /// True when reading needs authentication.
    pub fn auth_read_all(&self) -> bool {
        self.auth_read_all
    }

    /// True when a client address (as its salted hash) is blocked.
    pub fn is_blocked_address(&self, hash: &str) -> bool {
        self.moderation.blocked_addresses.contains(hash)
    }

    /// The kinds accepted when limited, config and admin changes applied.
    pub fn effective_allowed_kinds(&self) -> HashSet<u16> {
        let mut kinds: HashSet<u16> = self
            .allowed_kinds
            .union(&self.moderation.allowed_kinds)
            .copied()
            .collect();
        kinds.retain(|k| !self.moderation.disallowed_kinds.contains(k));
        kinds
    }

    /// `Err` with the refusal when `event` may not be stored here.
    pub fn check_write(&self, event: &Event) -> Result<(), String> {
        if self.moderation.banned_events.contains(&event.id) {
            return Err("blocked: this event is banned from this relay".into());
        }
        if let Some(why) = crate::vanish::vanished_refusal(&self.moderation.vanished, event) {
            return Err(why);
        }
        if self.deny.contains(&event.pubkey) || self.moderation.banned_keys.contains(&event.pubkey)
        {
            return Err("blocked: this key may not publish on this relay".into());
        }
        let kinds = self.effective_allowed_kinds();
        let kind_limited = !kinds.is_empty() || !self.moderation.disallowed_kinds.is_empty();
        if kind_limited
            && (self
                .moderation
                .disallowed_kinds
                .contains(&event.kind.as_u16())
                || (!kinds.is_empty() && !kinds.contains(&event.kind.as_u16())))
        {
            return Err(format!(
                "restricted: kind {} is not accepted on this relay",
                event.kind.as_u16()
            ));
        }
        if self.owners.contains(&event.pubkey)
            || self.allow.contains(&event.pubkey)
            || self.moderation.allowed_keys.contains(&event.pubkey)
        {
            return Ok(());
        }
        match self.write {
            WriteMode::Public => Ok(()),
            WriteMode::Owner => {
                Err("restricted: this relay takes events from its owner only".into())
            }
            WriteMode::Personal => {
                let tags_owner = event.tags.public_keys().any(|p| self.owners.contains(&p));
                if self.follows.contains(&event.pubkey) || tags_owner {
                    Ok(())
                } else {
                    Err(
                        "restricted: a personal relay; it takes events from its owner, the people \
                         they follow, and events that tag them"
                            .into(),
                    )
                }
            }
        }
    }

    /// `Err` with the refusal when `key` may not store blobs here
    /// (Blossom uploads and mirrors): the owners and allowed keys always
    /// may; anyone else only on a public relay that opened uploads to all
    /// (`public_uploads`); banned keys never.
    pub fn check_upload(&self, key: &PublicKey, public_uploads: bool) -> Result<(), String> {
        if self.deny.contains(key) || self.moderation.banned_keys.contains(key) {
            return Err("blocked: this key may not upload here".into());
        }
        let allowed = self.owners.contains(key)
            || self.allow.contains(key)
            || self.moderation.allowed_keys.contains(key);
        if allowed || (public_uploads && self.write == WriteMode::Public) {
            Ok(())
        } else {
            Err("restricted: only the owner and the people they allow may upload here".into())
        }
    }

    /// True if events of `kind` are served only to their authenticated
    /// author or recipients.
    pub fn is_auth_read_kind(&self, kind: Kind) -> bool {
        self.auth_read_kinds.contains(&kind.as_u16())
    }

    /// The auth-read kinds, for COUNT to leave out.
    pub fn auth_read_kinds(&self) -> Vec<u16> {
        let mut kinds: Vec<u16> = self.auth_read_kinds.iter().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// Whether a connection authenticated as `authed` may see `event`.
    pub fn can_read(&self, event: &Event, authed: &[PublicKey]) -> bool {
        if !self.is_auth_read_kind(event.kind) {
            return true;
        }
        !authed.is_empty()
            && (authed.contains(&event.pubkey)
                || event.tags.public_keys().any(|p| authed.contains(&p)))
    }

    /// True when every filter asks only for auth-read kinds (such a request
    /// is refused with `auth-required:` before authentication rather than
    /// answered with nothing).
    pub fn only_auth_read_kinds(&self, filters: &[Filter]) -> bool {
        filters.iter().all(|f| {
            f.kinds
                .as_ref()
                .is_some_and(|k| !k.is_empty() && k.iter().all(|k| self.is_auth_read_kind(*k)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(keys: &Keys, tags: Vec<Tag>) -> Event {
        EventBuilder::new(Kind::TextNote, "hi")
            .tags(tags)
            .finalize(keys)
            .unwrap()
    }

    #[test]
    fn personal_takes_owner_follows_and_mentions_only() {
        let owner = Keys::generate();
        let friend = Keys::generate();
        let stranger = Keys::generate();
        let config = PolicyConfig {
            write: WriteMode::Personal,
            owners: vec![owner.public_key().to_bech32().unwrap()],
            ..Default::default()
        };
        let mut policy = Policy::from_config(&config).unwrap();
        policy.follows.insert(friend.public_key());
        assert!(policy.check_write(&note(&owner, vec![])).is_ok());
        assert!(policy.check_write(&note(&friend, vec![])).is_ok());
        let refused = policy.check_write(&note(&stranger, vec![])).unwrap_err();
        assert!(refused.starts_with("restricted:"), "{refused}");
        let reply = note(&stranger, vec![Tag::public_key(owner.public_key())]);
        assert!(policy.check_write(&reply).is_ok());
        policy.moderation.banned_keys.insert(friend.public_key());
        assert!(policy
            .check_write(&note(&friend, vec![]))
            .unwrap_err()
            .starts_with("blocked:"));
    }

    #[test]
    fn owner_mode_needs_an_owner_and_allowed_kinds_limit() {
        let err = Policy::from_config(&PolicyConfig {
            write: WriteMode::Owner,
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("needs at least one owner"), "{err}");
        let err = Policy::from_config(&PolicyConfig {
            deny: vec!["nonsense".into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            err.contains("policy.deny") && err.contains("nonsense"),
            "{err}"
        );
        let anyone = Keys::generate();
        let mut policy = Policy::from_config(&PolicyConfig {
            allowed_kinds: vec![0, 3],
            ..Default::default()
        })
        .unwrap();
        let refused = policy.check_write(&note(&anyone, vec![])).unwrap_err();
        assert!(refused.contains("kind 1"), "{refused}");
        policy.moderation.allowed_kinds.insert(1);
        assert!(policy.check_write(&note(&anyone, vec![])).is_ok());
        policy.moderation.disallowed_kinds.insert(1);
        assert!(policy.check_write(&note(&anyone, vec![])).is_err());
    }

    #[test]
    fn auth_read_kinds_go_to_author_and_recipient_only() {
        let policy = Policy::from_config(&PolicyConfig::default()).unwrap();
        let author = Keys::generate();
        let recipient = Keys::generate().public_key();
        let dm = EventBuilder::new(Kind::EncryptedDirectMessage, "x")
            .tag(Tag::public_key(recipient))
            .finalize(&author)
            .unwrap();
        assert!(!policy.can_read(&dm, &[]));
        assert!(!policy.can_read(&dm, &[Keys::generate().public_key()]));
        assert!(policy.can_read(&dm, &[recipient]));
        assert!(policy.can_read(&dm, &[author.public_key()]));
        let app_data = EventBuilder::new(Kind::from(30078), "settings")
            .finalize(&author)
            .unwrap();
        assert!(!policy.can_read(&app_data, &[recipient]));
        assert!(policy.can_read(&note(&author, vec![]), &[]));
    }
}
