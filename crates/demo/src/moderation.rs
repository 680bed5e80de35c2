//! The demo's moderation queue: on the home relay (the one the demo user
//! runs, as an admin), a stranger's scam and a followed person's NIP-56
//! report of it, for the desktop's "My relay" tab.

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{ev, DemoError, DemoNetwork};

impl DemoNetwork {
    /// On the home relay (the one the demo user runs): a spam note from a
    /// stranger and a followed person's NIP-56 report of it, so the
    /// operator's moderation queue has something in it.
    pub(crate) fn publish_report(&self, seed: u64) -> Result<(), DemoError> {
        let (Some(store), Some(reporter)) = (
            self.relays.get(1).and_then(|r| r.store.as_ref()),
            self.followed.first().and_then(|i| self.people.get(*i)),
        ) else {
            return Ok(());
        };
        let spammer = Keys::new(ev(SecretKey::from_slice(
            &StdRng::seed_from_u64(seed ^ 0x5_9a44).random::<[u8; 32]>(),
        ))?);
        let at = Timestamp::from_secs(Timestamp::now().as_secs() - 1_800);
        let spam = ev(EventBuilder::new(
            Kind::TextNote,
            "Double your sats in 24 hours!!! DM me for the secret wallet",
        )
        .custom_created_at(at)
        .finalize(&spammer))?;
        let report = ev(EventBuilder::new(Kind::Reporting, "scam, asks for money")
            .tag(ev(Tag::parse([
                "e".to_owned(),
                spam.id.to_hex(),
                "spam".into(),
            ]))?)
            .tag(ev(Tag::parse([
                "p".to_owned(),
                spammer.public_key().to_hex(),
                "spam".into(),
            ]))?)
            .custom_created_at(at)
            .finalize(&reporter.keys))?;
        store.insert_batch(&[spam, report])?;
        Ok(())
    }
}
