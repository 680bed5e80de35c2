//! The two message types between the UI thread and the worker: commands go
//! down (never waited for), updates come up (drained once per frame).

use std::collections::HashMap;

use nostr::prelude::*;
use samizdat_client::Intent;
use samizdat_net::Question;
use secrecy::SecretString;

use crate::prefs::Prefs;
use crate::view::{DeliveryView, NoteView, PersonView, RelaysView, ScreenedCards};

/// How a new profile gets its key.
pub enum KeyChoice {
    /// Generate one here.
    Generate,
    /// Import an nsec / hex key / ncryptsec (with its own passphrase).
    Import {
        /// What was pasted.
        key: SecretString,
        /// The ncryptsec's passphrase.
        passphrase: Option<SecretString>,
    },
    /// Log in with a remote signer.
    Bunker(String),
}

/// What the UI asks the worker.
pub enum Command {
    /// List the profiles on this machine.
    ListProfiles,
    /// Create a profile and open it.
    Create {
        /// Profile name.
        name: String,
        /// Its key.
        key: KeyChoice,
        /// The passphrase protecting it here.
        passphrase: SecretString,
    },
    /// Unlock and open a profile.
    Unlock {
        /// Profile name.
        name: String,
        /// Passphrase.
        passphrase: SecretString,
    },
    /// Start the seeded demo network and open its user.
    Demo,
    /// Close the session (back to the start screen).
    Lock,
    /// Run a client intent.
    Intent(Intent),
    /// Show the newest notes of the following feed.
    ShowFeed,
    /// Older notes (a time window before `before`).
    LoadMore {
        /// Strictly older than this.
        before: Timestamp,
    },
    /// Show the inbox.
    ShowInbox,
    /// Open a thread.
    OpenThread(EventId),
    /// Open a person's page.
    OpenPerson(PublicKey),
    /// Search the local store.
    Search(String),
    /// Open the message requests of this person (and let them in for the
    /// session).
    AcceptRequests(PublicKey),
    /// Save the web of trust's thresholds and wrap gate.
    SetTrust(samizdat_client::base::settings::TrustSettings),
    /// Refresh the relays page.
    ShowRelays,
    /// Save the app's preferences for this profile.
    SavePrefs(Prefs),
    /// The user's answer to an "ask" policy question.
    Answer {
        /// The question's number.
        id: u64,
        /// Allow or deny.
        allow: bool,
    },
    /// Change the network setting (a proxy address, or `None` for direct).
    SetNetwork(Option<String>),
    /// Reach a relay directly even with a proxy set (`true`), or through
    /// the proxy again (`false`).
    SetDirect(String, bool),
    /// Change the exposure cap (percent, `None`: none) and exploration.
    SetReadingPrivacy {
        /// No relay asked about more than this percent of the follow list.
        cap_percent: Option<u8>,
        /// Probe connected relays about people with no evidence there.
        explore: bool,
    },
    /// Show what needs attention (pending alerts and waiting list changes).
    ShowAlerts,
    /// Drop one waiting list change (by its number).
    CancelChange(i64),
    /// Check NIP-05 names (each asks the name's domain) or not.
    SetNip05Checks(bool),
    /// Show the conversations (private messages).
    ShowConversations,
    /// Open the conversation with exactly these people (the user aside).
    OpenConversation(Vec<PublicKey>),
    /// Benchmark: replace the feed by `n` generated notes.
    BenchFeed(usize),
    /// Own data: check the relays, restore, back up.
    OwnData(OwnData),
    /// Pictures: load one, the choices, posting with attachments.
    Media(MediaCommand),
    /// Save the notification settings.
    SetNotify(samizdat_client::notify::NotifySettings),
    /// Read the overview of the relay the user runs (NIP-86, `/metrics`).
    RelayOverview(String),
    /// Run one NIP-86 method on the user's relay, then read it again.
    ManageRelay {
        /// The relay.
        relay: String,
        /// The method (`banpubkey`, …).
        method: String,
        /// Its parameters.
        params: Vec<serde_json::Value>,
    },
}

/// What the UI asks of pictures.
#[derive(Debug, Clone)]
pub enum MediaCommand {
    /// Load (and decode) a picture `author` referenced; `clicked` says the
    /// user asked for it (else only a "load" choice fetches).
    Load {
        /// Whose note it is in.
        author: PublicKey,
        /// What the note says about it.
        reference: samizdat_client::media::MediaRef,
        /// The user clicked "load".
        clicked: bool,
    },
    /// The profile's choice and the cache size (MiB).
    SetChoice(samizdat_client::media::MediaChoice, u64),
    /// One person's choice (`None`: the profile's).
    SetPerson(PublicKey, Option<samizdat_client::media::MediaChoice>),
    /// List a folder's subfolders and pictures (the in-app file picker).
    ListDir(std::path::PathBuf),
    /// Post a note with these pictures attached (stripped, uploaded).
    Post {
        /// The text.
        text: String,
        /// The files.
        files: Vec<std::path::PathBuf>,
    },
}

/// What the "Your data" section asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnData {
    /// Check every relay holds the user's events; re-send what is missing.
    Replicate,
    /// Fetch the user's whole history from every relay they ever listed.
    Restore,
    /// Write a backup (JSON Lines, without the key) to this file.
    Export(std::path::PathBuf),
    /// Read a backup from this file.
    Import(std::path::PathBuf),
}

/// A profile on the start screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileEntry {
    /// Its name.
    pub name: String,
    /// Signs through a remote signer.
    pub remote: bool,
    /// Has a key at all.
    pub has_key: bool,
}

/// What the worker tells the UI.
pub enum Update {
    /// The profiles on this machine.
    Profiles(Vec<ProfileEntry>),
    /// Something slow is under way (scrypt, pairing, starting the demo).
    Busy(Option<String>),
    /// A start-screen operation failed (the message says why).
    StartFailed(String),
    /// A session is open.
    Opened {
        /// The profile's name.
        profile: String,
        /// The user.
        me: PublicKey,
        /// The user's display name.
        name: String,
        /// Preferences saved for this profile.
        prefs: Prefs,
        /// Whether the profile has no relay yet (first run).
        needs_relays: bool,
        /// The network setting, in a sentence.
        network: String,
        /// Whether NIP-05 names are checked.
        nip05_checks: bool,
        /// The web of trust's thresholds and wrap gate.
        trust: samizdat_client::base::settings::TrustSettings,
        /// When pictures load.
        media: samizdat_client::media::MediaSettings,
        /// When OS notifications are raised.
        notify: samizdat_client::notify::NotifySettings,
    },
    /// The session is closed.
    Locked,
    /// The user's display name (after their profile was fetched).
    Name(String),
    /// The newest page of the following feed (replaces what is shown).
    Feed(Vec<NoteView>),
    /// An older page (appended).
    More(Vec<NoteView>),
    /// New notes arrived that are not shown yet.
    NewNotes(usize),
    /// The inbox (with what the web of trust hid), and per relay how many
    /// strangers' items were held back (relays that are not spam-safe).
    Inbox(ScreenedCards, Vec<String>),
    /// What needs attention now.
    Pending(Vec<String>),
    /// List changes waiting for a relay to answer: number and a line
    /// ("follow list: add npub1… (waiting 3 min)").
    Waiting(Vec<(i64, String)>),
    /// The network setting changed (a sentence).
    Network(String),
    /// Where Tor answers on this machine (`None`: nowhere), for the first run.
    TorFound(Option<String>),
    /// What each relay learned (the privacy ledger).
    Privacy(Box<samizdat_client::PrivacyReport>),
    /// A thread: each card with its depth (and the replies the web of
    /// trust hid).
    Thread(EventId, ScreenedCards),
    /// A person's page.
    Person(Box<PersonView>),
    /// Search results (and those the web of trust hid).
    Search(String, ScreenedCards),
    /// The relays page.
    Relays(Box<RelaysView>),
    /// The conversations, the user's DM relays, and dropped wraps by reason.
    Conversations(Box<crate::view::MessagesView>),
    /// One conversation's messages, oldest first.
    Conversation(Vec<PublicKey>, Vec<crate::view::MessageView>),
    /// Where own events were delivered.
    Deliveries(HashMap<EventId, Vec<DeliveryView>>),
    /// A status line (sync phases, AUTH done).
    Status(String),
    /// The session authenticated (NIP-42) to this relay: it knows the key.
    Authenticated(String),
    /// An alert for the alerts list.
    Alert(String),
    /// An intent finished: a sentence for the user, or why it failed.
    Done(Result<String, String>),
    /// A policy says "ask": the user must answer.
    Ask(u64, Question),
    /// What an own-data operation did, line by line (`None`: it is running).
    OwnData(Option<Vec<String>>),
    /// A picture loaded (decoded, ready for a texture) or refused, by URL.
    Picture(String, Result<crate::view::PictureView, String>),
    /// An upload's progress (bytes sent, bytes in all); `None` when done.
    Upload(Option<(u64, u64)>),
    /// The media settings as saved.
    MediaSettings(samizdat_client::media::MediaSettings),
    /// A folder's subfolders and pictures (name, is a folder), for the picker.
    Folder(std::path::PathBuf, Vec<(String, bool)>),
    /// The user's relay as NIP-86 and `/metrics` show it, or why not.
    Operator(Box<Result<samizdat_client::operator::RelayOverview, String>>),
}
