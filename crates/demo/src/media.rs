//! Pictures on the demo network (`DemoOptions::media`): every content relay
//! also serves Blossom; a few followed people post a generated picture
//! (uploaded over HTTP like any client would, described by an `imeta` tag
//! with its blurhash, their kind 10063 naming their relay); the demo user's
//! home relay is their own Blossom server; the first poster is someone the
//! demo user "always" shows pictures of, so the feed shows both a loaded
//! picture and "click to load" placeholders.

use std::path::Path;
use std::time::Duration;

use nostr::prelude::*;
use samizdat_media::BlobHash;
use samizdat_net::blossom::{self, BlossomServer};

use crate::{ev, DemoError, DemoNetwork};

/// How many followed people post a picture.
const POSTERS: usize = 5;

/// A content relay's config: Blossom on, open to uploads (a demo, on loopback).
pub(crate) fn relay_config(dir: &Path, name: &str) -> samizdat_relay::RelayConfig {
    samizdat_relay::RelayConfig {
        media: samizdat_relay::MediaConfig {
            public_uploads: true,
            ..samizdat_relay::MediaConfig::in_dir(dir.join(format!("{name}-blobs")))
        },
        ..Default::default()
    }
}

/// The `http://` origin of a relay's `ws://` URL.
pub fn http_of(ws_url: &str) -> String {
    ws_url
        .trim_end_matches('/')
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1)
}

impl DemoNetwork {
    /// Uploads and posts the demo's pictures; returns who posted them.
    pub(crate) async fn publish_pictures(
        &mut self,
        seed: u64,
    ) -> Result<Vec<PublicKey>, DemoError> {
        let now = Timestamp::now().as_secs();
        let mut posters = Vec::new();
        let candidates: Vec<usize> = self
            .followed
            .iter()
            .copied()
            .filter(|&i| self.relays[self.people[i].writes[0]].store.is_some())
            .take(POSTERS)
            .collect();
        for (n, &i) in candidates.iter().enumerate() {
            let home = self.people[i].writes[0];
            let origin = http_of(&self.relays[home].url);
            let (w, h) = [(480, 320), (360, 360), (320, 440)][n % 3];
            let png = samizdat_media::samples::gradient_png(
                w,
                h,
                (seed as u32).wrapping_add(n as u32 * 97),
            );
            let keys = self.people[i].keys.clone();
            let url = upload(&origin, &keys, png.clone()).await?;
            let hash = BlobHash::of(&png);
            let blurhash = ev(samizdat_media::measure(&png, &Default::default()))?.blurhash;
            let imeta = samizdat_media::imeta_tag(
                &url,
                &hash,
                "image/png",
                (w, h),
                blurhash.as_deref(),
                &[],
            );
            let at = Timestamp::from_secs(now - 300 - n as u64 * 900);
            let note = ev(EventBuilder::new(
                Kind::TextNote,
                format!("A picture from {}\n{url}", self.people[i].name),
            )
            .tag(ev(Tag::parse(imeta))?)
            .custom_created_at(at)
            .finalize(&keys))?;
            let servers = ev(EventBuilder::new(Kind::Custom(10063), "")
                .tag(ev(Tag::parse(["server", origin.as_str()]))?)
                .custom_created_at(Timestamp::from_secs(now - 86_400))
                .finalize(&keys))?;
            for &r in &self.people[i].writes {
                if let Some(store) = &self.relays[r].store {
                    store.insert_batch(&[note.clone(), servers.clone()])?;
                }
            }
            self.people[i].notes.push(note);
            posters.push(keys.public_key());
        }
        // The demo user's own Blossom server: their home relay.
        let servers = ev(EventBuilder::new(Kind::Custom(10063), "")
            .tag(ev(Tag::parse([
                "server",
                http_of(&self.home_relay()).as_str(),
            ]))?)
            .custom_created_at(Timestamp::from_secs(now - 3_600))
            .finalize(&self.user))?;
        for relay in self.relays.iter().take(2) {
            if let Some(store) = &relay.store {
                store.insert_batch(std::slice::from_ref(&servers))?;
            }
        }
        Ok(posters)
    }
}

/// Uploads `bytes` to `origin` as `keys`; the blob's URL.
async fn upload(origin: &str, keys: &Keys, bytes: Vec<u8>) -> Result<String, DemoError> {
    let server = ev(BlossomServer::parse(origin))?;
    let d = ev(blossom::upload_signed(
        &server,
        keys,
        bytes,
        "image/png",
        &samizdat_net::TransportConfig::default(),
        Duration::from_secs(10),
    )
    .await)?;
    Ok(d.url)
}
