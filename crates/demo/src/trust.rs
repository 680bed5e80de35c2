//! The demo's web of trust: everyone's follow list (5–15 others, on their
//! own write relays, where a client that reads them finds them), and — with
//! `DemoOptions::strangers` — what a user outside anyone's network meets:
//! a spammer who mentions the demo user, replies in a followed person's
//! thread and sends private messages, muted by two of the user's follows;
//! an impostor wearing a followed person's name with a Cyrillic letter and
//! a zero-width space; and a friend of a friend who mentions the user.

use std::collections::BTreeMap;

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samizdat_client::dm::wrap;
use samizdat_client::LocalSigner;

use crate::{ev, DemoError, DemoNetwork};

/// Who plays which part in the demo's web of trust.
#[derive(Debug, Clone)]
pub struct Strangers {
    /// Outside anyone's network; muted by two of the user's follows.
    pub spammer: Keys,
    /// Wears the name of the first person the user follows.
    pub impostor: Keys,
    /// The index (in `people`) of the person the impostor imitates.
    pub imitated: usize,
    /// The index of someone the user does not follow whom a follow
    /// follows, if there is one.
    pub friend_of_friend: Option<usize>,
}

/// Each person's follows (indexes into `people`), drawn from `seed`.
fn follow_lists(seed: u64, people: usize) -> Vec<Vec<usize>> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x3b0f_7a11);
    (0..people)
        .map(|i| {
            let n = rng.random_range(5..=15usize).min(people.saturating_sub(1));
            let mut picks: Vec<usize> = Vec::new();
            while picks.len() < n {
                let p = rng.random_range(0..people);
                if p != i && !picks.contains(&p) {
                    picks.push(p);
                }
            }
            picks
        })
        .collect()
}

fn keys_from(seed: u64) -> Result<Keys, DemoError> {
    let mut secret: [u8; 32] = StdRng::seed_from_u64(seed).random();
    secret[0] |= 1;
    Ok(Keys::new(ev(SecretKey::from_slice(&secret))?))
}

/// "Alice" with its first `a` in Cyrillic and a zero-width space inside.
fn lookalike_of(name: &str) -> String {
    let mut out: String = name.replacen('a', "а", 1);
    if out == name {
        out = name.replacen('o', "о", 1);
    }
    let mid = out.char_indices().nth(1).map_or(out.len(), |(i, _)| i);
    out.insert(mid, '\u{200B}');
    out
}

impl DemoNetwork {
    fn write_to(&self, relays: &[usize], events: &[Event]) -> Result<(), DemoError> {
        for &r in relays {
            if let Some(store) = self.relays.get(r).and_then(|r| r.store.as_ref()) {
                store.insert_batch(events)?;
            }
        }
        Ok(())
    }

    /// Everyone's follow list, on their write relays.
    pub(crate) fn publish_follow_lists(&self, seed: u64) -> Result<Vec<Vec<usize>>, DemoError> {
        let lists = follow_lists(seed, self.people.len());
        let at = Timestamp::from_secs(Timestamp::now().as_secs() - 86_400 * 10);
        let mut by_relay: BTreeMap<usize, Vec<Event>> = BTreeMap::new();
        for (person, follows) in self.people.iter().zip(&lists) {
            let list = ev(EventBuilder::new(Kind::ContactList, "")
                .tags(
                    follows
                        .iter()
                        .map(|&f| Tag::public_key(self.people[f].keys.public_key())),
                )
                .custom_created_at(at)
                .finalize(&person.keys))?;
            for &r in &person.writes {
                by_relay.entry(r).or_default().push(list.clone());
            }
        }
        for (r, events) in by_relay {
            self.write_to(&[r], &events)?;
        }
        Ok(lists)
    }

    /// The strangers' part (see the module's text), on the user's home
    /// relay and the relays of the people involved.
    pub(crate) async fn publish_strangers(
        &self,
        seed: u64,
        lists: &[Vec<usize>],
    ) -> Result<Option<Strangers>, DemoError> {
        let (Some(&first), Some(&second), Some(&third)) = (
            self.followed.first(),
            self.followed.get(1),
            self.followed.get(2),
        ) else {
            return Ok(None);
        };
        let user = self.user.public_key();
        let now = Timestamp::now().as_secs();
        let at = |ago: u64| Timestamp::from_secs(now - ago);
        let spammer = keys_from(seed ^ 0x5a_a3e7)?;
        let impostor = keys_from(seed ^ 0x1d_e7a1)?;
        let imitated = &self.people[first];
        let home = [1usize];
        let mention = |k: &Keys, text: &str, ago: u64| {
            ev(EventBuilder::new(Kind::TextNote, text)
                .tag(Tag::public_key(user))
                .custom_created_at(at(ago))
                .finalize(k))
        };
        let profile = |k: &Keys, name: &str| {
            ev(
                EventBuilder::new(Kind::Metadata, format!("{{\"name\":\"{name}\"}}"))
                    .custom_created_at(at(86_400))
                    .finalize(k),
            )
        };
        // The user's DM relay: the home relay.
        let dm_relays = ev(EventBuilder::new(Kind::InboxRelays, "")
            .tag(ev(Tag::parse(["relay", self.home_relay().as_str()]))?)
            .custom_created_at(at(3_600))
            .finalize(&self.user))?;
        let mut home_events = vec![
            profile(&spammer, "free sats bot")?,
            profile(&impostor, &lookalike_of(&imitated.name))?,
            dm_relays,
            mention(
                &spammer,
                "FREE SATS for the first 100 npubs, claim now",
                900,
            )?,
            mention(
                &impostor,
                "this is my new key, follow me here and send your backup",
                700,
            )?,
        ];
        // A reply in the thread of the first follow's first note.
        if let Some(root) = imitated.notes.first() {
            let reply = ev(
                EventBuilder::new(Kind::TextNote, "great post! claim your free sats")
                    .tag(ev(Tag::parse(["e", &root.id.to_hex(), "", "root"]))?)
                    .tag(Tag::public_key(imitated.keys.public_key()))
                    .custom_created_at(at(600))
                    .finalize(&spammer),
            )?;
            self.write_to(&imitated.writes, std::slice::from_ref(&reply))?;
            home_events.push(reply);
        }
        // Two follows mute the spammer, publicly, on their own relays.
        for &f in &[second, third] {
            let person = &self.people[f];
            let mutes = ev(EventBuilder::new(Kind::MuteList, "")
                .tag(Tag::public_key(spammer.public_key()))
                .custom_created_at(at(3_600))
                .finalize(&person.keys))?;
            self.write_to(&person.writes, &[mutes])?;
        }
        // Someone a follow follows, whom the user does not: a friend of a friend.
        let friend_of_friend = lists[first]
            .iter()
            .copied()
            .find(|p| !self.followed.contains(p));
        if let Some(fof) = friend_of_friend {
            home_events.push(mention(
                &self.people[fof].keys,
                "welcome! a friend of a friend says hi",
                800,
            )?);
        }
        // Private messages: from the first follow, from the spammer and the
        // impostor (to the user's DM relay, the home relay).
        let dm = |k: &Keys, text: &str| {
            let rumor = wrap::rumor(k.public_key(), &[user], text, None);
            let signer = LocalSigner::new(k.clone());
            async move { wrap::gift_wrap(&signer, &rumor, user).await }
        };
        for (k, text) in [
            (&imitated.keys, "coffee this week?"),
            (&spammer, "claim your prize: send 1000 sats first"),
            (&impostor, "it's me, new key. send me your nsec backup"),
        ] {
            home_events.push(ev(dm(k, text).await)?);
        }
        self.write_to(&home, &home_events)?;
        self.write_to(&[0], &home_events[..3])?;
        Ok(Some(Strangers {
            spammer,
            impostor,
            imitated: first,
            friend_of_friend,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_differ_but_read_the_same() {
        let fake = lookalike_of("ada0");
        assert_ne!(fake, "ada0");
        assert!(fake.contains('\u{200B}'));
        let lists = follow_lists(7, 30);
        assert!(lists.iter().all(|l| (5..=15).contains(&l.len())));
        assert_eq!(lists, follow_lists(7, 30), "the same seed, the same lists");
    }
}
