//! What the UI draws: plain data built by the worker from the client's
//! answers, so the UI thread never queries the store or waits on anything.
//! Each builder here only rearranges what the client computed (names,
//! content segments, delivery states); it decides nothing.

use std::collections::HashMap;

use nostr::prelude::*;
use samizdat_client::content::{segments, short_npub, Segment};
use samizdat_store::{DeliveryState, QueuedEvent};

/// One run of a note's text, references already resolved to names.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Plain text.
    Text(String),
    /// A web link: shown, opened only by the user's click, never fetched.
    Link(String),
    /// `#tag`.
    Hashtag(String),
    /// A person, with the name to show.
    Person(PublicKey, String),
    /// An event, opened in the app.
    Event(EventId),
    /// An addressable event's coordinate.
    Address(String),
}

/// One note (or repost) as a card.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteView {
    /// The event's id.
    pub id: EventId,
    /// Its author.
    pub author: PublicKey,
    /// The author's display name.
    pub author_name: String,
    /// When.
    pub created_at: Timestamp,
    /// The text, in pieces.
    pub pieces: Vec<Piece>,
    /// A repost: whose note it reposts (the pieces are that note's text
    /// when it is in the store).
    pub repost_of: Option<(EventId, String)>,
    /// The note this replies to, if any.
    pub reply_to: Option<EventId>,
    /// Written by the user.
    pub own: bool,
    /// The event's kind (1 note, 6 repost, 7 reaction).
    pub kind: u16,
    /// The author's name imitates this followed person's (another key).
    pub imitates: Option<String>,
    /// From someone outside the user's network (shown only on request).
    pub outside: bool,
    /// The pictures it references, with what the settings say of them.
    pub media: Vec<MediaCard>,
}

/// A picture on a card before it is loaded: what the note says, whether it
/// loads by itself, and a blurhash placeholder's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaCard {
    /// What the note says about it.
    pub reference: samizdat_client::media::MediaRef,
    /// Load by itself, wait for a click, or never.
    pub decision: samizdat_client::media::MediaDecision,
    /// The placeholder (width, height, RGBA), from the `imeta` blurhash.
    pub placeholder: Option<(u32, u32, Vec<u8>)>,
}

impl MediaCard {
    /// The card for `reference` with `decision`; the placeholder decoded
    /// small (32 pixels wide) with the declared aspect ratio.
    pub fn new(
        reference: samizdat_client::media::MediaRef,
        decision: samizdat_client::media::MediaDecision,
    ) -> Self {
        let (w, h) = reference.dim.unwrap_or((4, 3));
        let ph = ((32 * u64::from(h.max(1))) / u64::from(w.max(1))).clamp(4, 64) as u32;
        let placeholder = reference
            .blurhash
            .as_deref()
            .and_then(|b| samizdat_media::blurhash_pixels(b, 32, ph))
            .map(|px| (32, ph, px));
        Self {
            reference,
            decision,
            placeholder,
        }
    }
}

/// A decoded picture for the UI (scaled to fit a screen).
#[derive(Debug, Clone)]
pub struct PictureView {
    /// Width and height of `rgba`.
    pub size: (u32, u32),
    /// The pixels (first frame of an animation).
    pub rgba: Vec<u8>,
    /// The size the file declares.
    pub original: (u32, u32),
    /// Checked against its hash.
    pub verified: bool,
    /// Where it came from (`None`: the cache).
    pub from: Option<String>,
}

/// The cards a surface shows, and with them those the web of trust hid
/// ("N from people outside your network"), shown only when revealed.
#[derive(Debug, Clone, Default)]
pub struct ScreenedCards {
    /// What is shown by default.
    pub shown: Vec<(NoteView, usize)>,
    /// Shown and hidden together, in the surface's order (hidden cards
    /// marked `outside`).
    pub everything: Vec<(NoteView, usize)>,
    /// How many were hidden.
    pub hidden: usize,
    /// The user asked to see them.
    pub revealed: bool,
}

impl ScreenedCards {
    /// The cards to draw.
    pub fn cards(&self) -> &[(NoteView, usize)] {
        if self.revealed {
            &self.everything
        } else {
            &self.shown
        }
    }

    /// Cards nothing was hidden from.
    pub fn plain(cards: Vec<(NoteView, usize)>) -> Self {
        Self {
            everything: cards.clone(),
            shown: cards,
            hidden: 0,
            revealed: false,
        }
    }
}

/// A message request in the Messages tab: someone outside the user's
/// network wrote; nothing of it is opened yet.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestView {
    /// Who.
    pub from: PublicKey,
    /// Their name.
    pub name: String,
    /// How many messages wait.
    pub messages: usize,
    /// The newest one's (blurred) date.
    pub last_at: Timestamp,
    /// Their name imitates this followed person's.
    pub imitates: Option<String>,
}

/// One relay's delivery of an own event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryView {
    /// The relay.
    pub relay: String,
    /// `pending`, `ok`, `refused`, `given up`.
    pub state: &'static str,
    /// Why it is not delivered (the relay's words, or the network's).
    pub reason: Option<String>,
    /// Attempts so far.
    pub attempts: u32,
}

/// Everything the worker needs to turn events into cards.
pub struct Naming<'a> {
    /// Display names.
    pub names: &'a HashMap<PublicKey, String>,
    /// The user.
    pub me: PublicKey,
}

impl Naming<'_> {
    fn name(&self, p: &PublicKey) -> String {
        self.names.get(p).cloned().unwrap_or_else(|| short_npub(p))
    }
}

/// Everyone an event's card names: its author and the people its text
/// mentions (for one names query per page).
pub fn people_in(events: &[Event]) -> Vec<PublicKey> {
    let mut out = Vec::new();
    for e in events {
        out.push(e.pubkey);
        out.extend(e.tags.public_keys());
        for s in segments(&e.content) {
            if let Segment::Person { pubkey, .. } = s {
                out.push(pubkey);
            }
        }
    }
    out
}

/// Turns text into pieces with names.
pub fn pieces(text: &str, naming: &Naming<'_>) -> Vec<Piece> {
    segments(text)
        .into_iter()
        .map(|s| match s {
            Segment::Text(t) => Piece::Text(t),
            Segment::Link(l) => Piece::Link(l),
            Segment::Hashtag(h) => Piece::Hashtag(h),
            Segment::Person { pubkey, .. } => Piece::Person(pubkey, naming.name(&pubkey)),
            Segment::Event { id, .. } => Piece::Event(id),
            Segment::Address(a) => Piece::Address(a),
        })
        .collect()
}

/// A card for `event`. `reposted` is the stored original of a repost
/// (verified when it was stored), if the store has it.
pub fn note_view(event: &Event, reposted: Option<&Event>, naming: &Naming<'_>) -> NoteView {
    let repost_target = (event.kind == Kind::Repost)
        .then(|| event.tags.event_ids().next())
        .flatten();
    let (pieces, repost_of) = match (repost_target, reposted) {
        (Some(id), Some(original)) => (
            self::pieces(&original.content, naming),
            Some((id, naming.name(&original.pubkey))),
        ),
        (Some(id), None) => (vec![Piece::Event(id)], Some((id, String::new()))),
        (None, _) => (self::pieces(&event.content, naming), None),
    };
    NoteView {
        id: event.id,
        author: event.pubkey,
        author_name: naming.name(&event.pubkey),
        created_at: event.created_at,
        pieces,
        repost_of,
        reply_to: (event.kind == Kind::TextNote)
            .then(|| samizdat_client::parent_of(event))
            .flatten(),
        own: event.pubkey == naming.me,
        kind: event.kind.as_u16(),
        imitates: None,
        outside: false,
        media: Vec::new(),
    }
}

/// Per-relay delivery rows of one queued own event.
pub fn delivery_views(queued: &QueuedEvent) -> Vec<DeliveryView> {
    queued
        .deliveries
        .iter()
        .map(|d| DeliveryView {
            relay: d.relay.clone(),
            state: match d.state {
                DeliveryState::Pending => "pending",
                DeliveryState::Delivered => "ok",
                DeliveryState::Rejected => "refused",
                DeliveryState::Abandoned => "given up",
            },
            reason: (d.state != DeliveryState::Delivered)
                .then(|| d.last_error.clone())
                .flatten(),
            attempts: d.attempts,
        })
        .collect()
}

/// "5m", "3h", "2d" since `t`.
pub fn age(t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_secs().saturating_sub(t.as_secs());
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}

/// How long ago, in words, for screen readers ("5 minutes ago").
pub fn age_spoken(t: Timestamp, now: Timestamp) -> String {
    let secs = now.as_secs().saturating_sub(t.as_secs());
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3_600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3_600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

impl NoteView {
    /// The card as a screen reader says it: author, time, text (links,
    /// people and tags as written; pictures counted).
    pub fn spoken(&self, now: Timestamp) -> String {
        let mut text = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) | Piece::Link(t) => text.push_str(t),
                Piece::Hashtag(t) => {
                    text.push('#');
                    text.push_str(t);
                }
                Piece::Person(_, name) => {
                    text.push('@');
                    text.push_str(name);
                }
                Piece::Event(_) => text.push_str("(a quoted note)"),
                Piece::Address(a) => text.push_str(a),
            }
        }
        let mut out = format!(
            "{}, {}: {}",
            self.author_name,
            age_spoken(self.created_at, now),
            text.trim()
        );
        if let Some((_, by)) = &self.repost_of {
            out = format!("repost of {by} by {out}");
        }
        match self.media.len() {
            0 => {}
            1 => out.push_str(" (1 picture)"),
            n => out.push_str(&format!(" ({n} pictures)")),
        }
        out
    }
}

/// One conversation in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationView {
    /// The other participants.
    pub with: Vec<PublicKey>,
    /// Their names, joined.
    pub names: String,
    /// The newest message, shortened.
    pub preview: String,
    /// When.
    pub last_at: Timestamp,
    /// Unread messages.
    pub unread: usize,
    /// Subject, if set.
    pub subject: Option<String>,
    /// Holds legacy NIP-04 messages.
    pub legacy: bool,
}

/// One message in a chat.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    /// The sender's name ("you" for the user).
    pub sender: String,
    /// Sent by the user.
    pub own: bool,
    /// When.
    pub created_at: Timestamp,
    /// The text.
    pub text: String,
    /// A legacy NIP-04 message.
    pub legacy: bool,
}

/// The messages page.
#[derive(Debug, Clone, Default)]
pub struct MessagesView {
    /// Conversations, newest first.
    pub conversations: Vec<ConversationView>,
    /// The user's DM relays (kind 10050).
    pub dm_relays: Vec<String>,
    /// Wraps dropped, by reason.
    pub dropped: Vec<(String, u64)>,
    /// Message requests (people outside the network), newest first.
    pub requests: Vec<RequestView>,
    /// Wraps waiting, unopened, for the next hour's limit.
    pub waiting: usize,
}

/// A person's page.
#[derive(Debug, Clone)]
pub struct PersonView {
    /// Who.
    pub pubkey: PublicKey,
    /// Their profile (name, about, NIP-05 claim).
    pub profile: samizdat_client::PersonProfile,
    /// Their newest notes, from their own relays.
    pub notes: Vec<NoteView>,
    /// Whether the user follows them.
    pub followed: bool,
    /// Whether the user mutes them.
    pub muted: bool,
    /// Whether their NIP-05 claim verified (`None`: not checked yet).
    pub nip05: Option<samizdat_client::Nip05Badge>,
    /// Still fetching from their relays.
    pub loading: bool,
    /// Where they write, per relay, with the evidence (from the store).
    pub relays: Vec<samizdat_client::evidence::PersonRelay>,
    /// Their relay list names no working relay.
    pub stale_list: bool,
    /// The web of trust's word on them ("followed by alice and 3 others;
    /// muted by 1 of your follows; score -1").
    pub trust: Option<String>,
    /// Their name imitates this followed person's (another key).
    pub imitates: Option<String>,
    /// The user's choice for their pictures (`None`: the profile's).
    pub media_choice: Option<samizdat_client::media::MediaChoice>,
}

/// The relays page: settings, coverage and health.
#[derive(Debug, Clone, Default)]
pub struct RelaysView {
    /// The user's relays: URL, read, write.
    pub own: Vec<(String, bool, bool)>,
    /// Discovery relays.
    pub discovery: Vec<String>,
    /// Per relay: connect and AUTH policy words (`allow`/`deny`/`ask`/default).
    pub policies: HashMap<String, (String, String)>,
    /// Whitelist-only mode.
    pub whitelist_only: bool,
    /// The saved exposure cap, percent (`None`: no cap).
    pub cap_percent: Option<u8>,
    /// Whether exploration is on (saved setting).
    pub explore: bool,
    /// How many people are followed.
    pub follows: usize,
    /// Relay → names of the people read there.
    pub coverage: Vec<(String, Vec<String>)>,
    /// Relay → names of the people it is also asked about with no evidence
    /// that they write there (exploration).
    pub probes: Vec<(String, Vec<String>)>,
    /// Relay in use → names of the people with no relay list read there
    /// ("read from your relays").
    pub unlisted: Vec<(String, Vec<String>)>,
    /// Orphans: name and why.
    pub orphans: Vec<(String, String)>,
    /// How many NIP-66 monitors the profile trusts.
    pub monitors: usize,
    /// Relays followed people list that the monitors report dead, skipped
    /// before connecting: URL and what the monitors said.
    pub skipped_dead: Vec<(String, String)>,
    /// People whose relay list is stale: name and what they are read from instead.
    pub stale: Vec<(String, String)>,
    /// Share of follows with a relay.
    pub covered: f64,
    /// Largest share of the follow list one relay learns.
    pub max_exposure: f64,
    /// Health rows.
    pub health: Vec<HealthView>,
}

/// What the store knows of one relay's behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthView {
    /// URL.
    pub url: String,
    /// Attempts.
    pub attempts: u64,
    /// Share of attempts that worked.
    pub success_rate: f64,
    /// Mean latency (ms).
    pub latency_ms: Option<f64>,
    /// Invalid events received.
    pub invalid: u64,
    /// The last error.
    pub last_error: Option<String>,
    /// What the trusted NIP-66 monitors say (`None`: they do not report
    /// on it).
    pub monitors_say: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reposts_show_the_stored_original_and_replies_their_parent() {
        let a = Keys::generate();
        let b = Keys::generate();
        let original = EventBuilder::new(Kind::TextNote, "hello #world")
            .finalize(&a)
            .unwrap();
        let repost = EventBuilder::new(Kind::Repost, "")
            .tag(Tag::event(original.id))
            .finalize(&b)
            .unwrap();
        let mut names = HashMap::new();
        names.insert(a.public_key(), "alice".to_owned());
        let naming = Naming {
            names: &names,
            me: b.public_key(),
        };
        let v = note_view(&repost, Some(&original), &naming);
        assert_eq!(v.repost_of, Some((original.id, "alice".into())));
        assert_eq!(v.pieces[1], Piece::Hashtag("world".into()));
        assert!(v.own);
        let v = note_view(&repost, None, &naming);
        assert_eq!(v.pieces, vec![Piece::Event(original.id)]);
        let reply = EventBuilder::new(Kind::TextNote, "hi")
            .tag(Tag::parse(["e", &original.id.to_hex(), "", "root"]).unwrap())
            .finalize(&b)
            .unwrap();
        assert_eq!(note_view(&reply, None, &naming).reply_to, Some(original.id));
    }
}
