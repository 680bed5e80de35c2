//! NIP-59 gift wraps for NIP-17 messages, through the session's [`Signer`]
//! (so a NIP-46 bunker works too): the rumor (kind 14, unsigned) is sealed
//! (kind 13, signed by the sender, NIP-44 to the recipient) and wrapped
//! (kind 1059, signed by a fresh one-time key, NIP-44 to the recipient),
//! both dated up to two days back. Unwrapping checks every layer and says
//! why a wrap was dropped.

use nostr::nips::nip44;
use nostr::prelude::*;
use rand::Rng;

use crate::base::signer::Signer;

/// Largest rumor accepted (its JSON), so a hostile wrap cannot make us hold
/// or show megabytes.
pub const MAX_RUMOR_BYTES: usize = 64 * 1024;

/// How far back seals and wraps are dated (NIP-59: up to two days).
const TWEAK_SECS: u64 = 2 * 24 * 3600;

/// Why a wrap was dropped (counted per reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dropped {
    /// Not a kind-1059 event `p`-tagged to us.
    NotForUs,
    /// The wrap or the seal could not be decrypted.
    Undecryptable,
    /// The seal is not a valid signed kind-13 event.
    BadSeal,
    /// The seal's author is not the rumor's author (a forgery).
    ForgedAuthor,
    /// The rumor is not a valid kind-14 message.
    BadRumor,
    /// The rumor is larger than [`MAX_RUMOR_BYTES`].
    Oversized,
    /// The signer could not be asked (remote signer away).
    SignerUnavailable,
}

impl Dropped {
    /// A word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotForUs => "not_for_us",
            Self::Undecryptable => "undecryptable",
            Self::BadSeal => "bad_seal",
            Self::ForgedAuthor => "forged_author",
            Self::BadRumor => "bad_rumor",
            Self::Oversized => "oversized",
            Self::SignerUnavailable => "signer_unavailable",
        }
    }
}

/// A date up to two days in the past, so relays cannot time messages.
fn tweaked() -> Timestamp {
    let back = rand::rng().random_range(0..TWEAK_SECS);
    Timestamp::from_secs(Timestamp::now().as_secs().saturating_sub(back))
}

/// Seals `rumor` (its author must be the signer's key) for `receiver` and
/// wraps it with a one-time key.
pub async fn gift_wrap(
    signer: &dyn Signer,
    rumor: &UnsignedEvent,
    receiver: PublicKey,
) -> Result<Event, crate::base::signer::SignerError> {
    gift_wrap_with_pow(signer, rumor, receiver, 0).await
}

/// [`gift_wrap`] with NIP-13 work of `pow` bits on the wrap (0: none), so
/// a recipient who does not know the sender can let it in unopened-first
/// (the work is on the wrap's id, checked before any decryption).
pub async fn gift_wrap_with_pow(
    signer: &dyn Signer,
    rumor: &UnsignedEvent,
    receiver: PublicKey,
    pow: u8,
) -> Result<Event, crate::base::signer::SignerError> {
    let sealed = signer.nip44_encrypt(&receiver, &rumor.as_json()).await?;
    let seal = signer
        .sign_event(
            EventBuilder::new(Kind::Seal, sealed)
                .custom_created_at(tweaked())
                .finalize_unsigned(signer.public_key()),
        )
        .await?;
    let one_time = Keys::generate();
    let content = nip44::encrypt(
        one_time.secret_key(),
        &receiver,
        seal.as_json(),
        nip44::Version::V2,
    )
    .map_err(|e| crate::base::signer::SignerError::Crypto(e.to_string()))?;
    let unsigned = EventBuilder::new(Kind::GiftWrap, content)
        .tag(Tag::public_key(receiver))
        .custom_created_at(tweaked())
        .finalize_unsigned(one_time.public_key());
    let crypto = |e: String| crate::base::signer::SignerError::Crypto(e);
    let unsigned = if pow == 0 {
        unsigned
    } else {
        // Mining takes a while: on a blocking thread, on every core.
        tokio::task::spawn_blocking(move || {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            crate::base::pow::mine(
                &unsigned,
                pow,
                threads,
                &crate::base::pow::PowProgress::new(),
            )
        })
        .await
        .map_err(|e| crypto(e.to_string()))?
        .map_err(|e| crypto(e.to_string()))?
    };
    nostr::event::SignEvent::sign_event(&one_time, unsigned).map_err(|e| crypto(e.to_string()))
}

/// Opens a wrap addressed to the signer's key: the rumor and its author
/// (checked to be the seal's signer). Two decryptions: [`open_wrap`], then
/// [`open_seal`].
pub async fn unwrap(signer: &dyn Signer, wrap: &Event) -> Result<UnsignedEvent, Dropped> {
    let seal = open_wrap(signer, wrap).await?;
    open_seal(signer, &seal).await
}

/// The outer layer only (one decryption): the seal, verified, whose author
/// is the sender. What the gate needs to decide whether to go on.
pub async fn open_wrap(signer: &dyn Signer, wrap: &Event) -> Result<Event, Dropped> {
    let me = signer.public_key();
    if wrap.kind != Kind::GiftWrap || !wrap.tags.public_keys().any(|p| p == me) {
        return Err(Dropped::NotForUs);
    }
    if wrap.content.len() > MAX_RUMOR_BYTES * 2 {
        return Err(Dropped::Oversized);
    }
    let seal_json = signer
        .nip44_decrypt(&wrap.pubkey, &wrap.content)
        .await
        .map_err(classify)?;
    let seal = Event::from_json(&seal_json).map_err(|_| Dropped::BadSeal)?;
    if seal.kind != Kind::Seal || seal.verify().is_err() {
        return Err(Dropped::BadSeal);
    }
    Ok(seal)
}

/// The inner layer (one decryption): the rumor inside a verified seal,
/// checked to be a kind-14 message by the seal's author.
pub async fn open_seal(signer: &dyn Signer, seal: &Event) -> Result<UnsignedEvent, Dropped> {
    let rumor_json = signer
        .nip44_decrypt(&seal.pubkey, &seal.content)
        .await
        .map_err(classify)?;
    if rumor_json.len() > MAX_RUMOR_BYTES {
        return Err(Dropped::Oversized);
    }
    let mut rumor = UnsignedEvent::from_json(&rumor_json).map_err(|_| Dropped::BadRumor)?;
    if rumor.pubkey != seal.pubkey {
        return Err(Dropped::ForgedAuthor);
    }
    if rumor.kind != Kind::PrivateDirectMessage {
        return Err(Dropped::BadRumor);
    }
    if rumor.id.is_some() && rumor.verify_id().is_err() {
        return Err(Dropped::BadRumor);
    }
    rumor.ensure_id();
    Ok(rumor)
}

fn classify(e: crate::base::signer::SignerError) -> Dropped {
    match e {
        crate::base::signer::SignerError::Crypto(_) => Dropped::Undecryptable,
        _ => Dropped::SignerUnavailable,
    }
}

/// A kind-14 rumor from `me` to `to` (everyone in the conversation but
/// the sender), with an optional subject.
pub fn rumor(me: PublicKey, to: &[PublicKey], text: &str, subject: Option<&str>) -> UnsignedEvent {
    let mut tags: Vec<Tag> = to.iter().map(|p| Tag::public_key(*p)).collect();
    if let Some(s) = subject.filter(|s| !s.trim().is_empty()) {
        if let Ok(t) = Tag::parse(["subject", s]) {
            tags.push(t);
        }
    }
    let mut rumor = EventBuilder::new(Kind::PrivateDirectMessage, text)
        .tags(tags)
        .finalize_unsigned(me);
    rumor.ensure_id();
    rumor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::signer::LocalSigner;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn wraps_open_for_their_recipient_only() {
        let (a, b, c) = (Keys::generate(), Keys::generate(), Keys::generate());
        let (sa, sb, sc) = (
            LocalSigner::new(a.clone()),
            LocalSigner::new(b.clone()),
            LocalSigner::new(c.clone()),
        );
        let r = rumor(a.public_key(), &[b.public_key()], "hi b", Some("topic"));
        let wrap = block(gift_wrap(&sa, &r, b.public_key())).unwrap();
        assert_ne!(wrap.pubkey, a.public_key(), "a one-time key signs the wrap");
        assert!(wrap.created_at <= Timestamp::now());
        assert!(!wrap.content.contains("hi b"));
        let opened = block(unwrap(&sb, &wrap)).unwrap();
        assert_eq!(opened.content, "hi b");
        assert_eq!(opened.pubkey, a.public_key());
        assert_eq!(block(unwrap(&sc, &wrap)), Err(Dropped::NotForUs));
        // Addressed to c by tag, but encrypted for b: c cannot open it.
        let mut forged = wrap.as_json();
        forged = forged.replace(&b.public_key().to_hex(), &c.public_key().to_hex());
        if let Ok(e) = Event::from_json(&forged) {
            assert!(block(unwrap(&sc, &e)).is_err());
        }
    }

    #[test]
    fn a_seal_signed_by_someone_else_is_a_forgery() {
        let (a, b, mallory) = (Keys::generate(), Keys::generate(), Keys::generate());
        // Mallory seals a rumor claiming to be from a.
        let r = rumor(a.public_key(), &[b.public_key()], "send money", None);
        let wrap = block(gift_wrap(&LocalSigner::new(mallory), &r, b.public_key()));
        // Our gift_wrap signs the seal with the signer, so the rumor's author
        // (a) differs from the seal's (mallory).
        let wrap = wrap.unwrap();
        assert_eq!(
            block(unwrap(&LocalSigner::new(b), &wrap)),
            Err(Dropped::ForgedAuthor)
        );
    }

    #[test]
    fn garbage_is_dropped_with_a_reason() {
        let b = Keys::generate();
        let sb = LocalSigner::new(b.clone());
        let junk = EventBuilder::new(Kind::GiftWrap, "not a payload")
            .tag(Tag::public_key(b.public_key()))
            .finalize(&Keys::generate())
            .unwrap();
        assert_eq!(block(unwrap(&sb, &junk)), Err(Dropped::Undecryptable));
        // A wrap whose seal is not JSON.
        let k = Keys::generate();
        let content =
            nip44::encrypt(k.secret_key(), &b.public_key(), "{oops", nip44::Version::V2).unwrap();
        let bad = EventBuilder::new(Kind::GiftWrap, content)
            .tag(Tag::public_key(b.public_key()))
            .finalize(&k)
            .unwrap();
        assert_eq!(block(unwrap(&sb, &bad)), Err(Dropped::BadSeal));
        // An oversized rumor.
        let a = Keys::generate();
        let big = rumor(
            a.public_key(),
            &[b.public_key()],
            &"x".repeat(MAX_RUMOR_BYTES + 1),
            None,
        );
        let wrap = block(gift_wrap(&LocalSigner::new(a), &big, b.public_key())).unwrap();
        assert_eq!(block(unwrap(&sb, &wrap)), Err(Dropped::Oversized));
    }
}
