//! Loading a picture: the choice first (nothing is asked of any server
//! without it), then the cache, then the author's Blossom servers and the
//! link's host in turn, each through the profile's transport, each written
//! in the ledger before it is asked, each answer checked against the hash.

use nostr::prelude::*;
use samizdat_http::HttpUrl;
use samizdat_media::{BlobHash, Caps, Decoded, MediaFormat, MediaRef};
use samizdat_net::blossom::{self, BlossomError, BlossomServer};

use super::cache::CacheKey;
use super::{MediaChoice, MediaError, MEDIA_FETCH, TIMEOUT};
use crate::session::Session;

/// What the settings say about one person's pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaDecision {
    /// Load without asking.
    Load,
    /// Show a "click to load" placeholder.
    Click,
    /// Do not load (the link only).
    Never,
}

/// A picture fetched (or read from the cache) and checked.
#[derive(Debug, Clone)]
pub struct LoadedMedia {
    /// The blob's hash, when the note gave one (then the bytes match it).
    pub hash: Option<BlobHash>,
    /// The bytes.
    pub bytes: bytes::Bytes,
    /// Their format (sniffed from the bytes).
    pub format: MediaFormat,
    /// Width and height the file declares (within the caps).
    pub size: (u32, u32),
    /// The origin that served it (`None`: from the cache).
    pub from: Option<String>,
}

impl LoadedMedia {
    /// Whether the bytes were checked against a hash.
    pub fn verified(&self) -> bool {
        self.hash.is_some()
    }
}

impl Session {
    /// Whether `author`'s pictures load by themselves, wait for a click, or
    /// never load: the user's own always load; others by their override,
    /// else the profile's choice.
    pub fn media_decision(&self, author: &PublicKey) -> MediaDecision {
        if *author == self.me {
            // The user's own pictures, on servers the user chose.
            return MediaDecision::Load;
        }
        let media = self.settings().media;
        let choice = media
            .people
            .get(&author.to_hex())
            .copied()
            .unwrap_or(media.show);
        match choice {
            MediaChoice::Never => MediaDecision::Never,
            MediaChoice::Click => MediaDecision::Click,
            MediaChoice::Always => MediaDecision::Load,
            MediaChoice::Follows => {
                let followed = self.follows().map(|f| f.contains(author)).unwrap_or(false);
                if followed {
                    MediaDecision::Load
                } else {
                    MediaDecision::Click
                }
            }
        }
    }

    /// Loads a picture `author` referenced. `clicked` says the user asked
    /// for this one; without it only a `Load` decision fetches. Nothing is
    /// sent anywhere when the answer is [`MediaError::NeedsClick`] or
    /// [`MediaError::NotLoaded`].
    pub async fn load_media(
        &self,
        author: &PublicKey,
        media: &MediaRef,
        clicked: bool,
    ) -> Result<LoadedMedia, MediaError> {
        match self.media_decision(author) {
            MediaDecision::Never => {
                let choice = self.settings().media.people.get(&author.to_hex()).copied();
                return Err(MediaError::NotLoaded(
                    choice.unwrap_or(MediaChoice::Never).as_str(),
                ));
            }
            MediaDecision::Click if !clicked => return Err(MediaError::NeedsClick),
            _ => {}
        }
        let caps = Caps::default();
        let cache = self.media_cache();
        let key = match &media.hash {
            Some(h) => CacheKey::Blob(h),
            None => CacheKey::Link(&media.url),
        };
        if let Some(bytes) = cache.get(key) {
            if let Ok((format, w, h)) = samizdat_media::probe(&bytes, &caps) {
                return Ok(LoadedMedia {
                    hash: media.hash,
                    bytes: bytes.into(),
                    format,
                    size: (w, h),
                    from: None,
                });
            }
        }
        let mut tried = Vec::new();
        let mut mismatch = None;
        for url in self.candidates(author, media) {
            let mut contacted = Vec::new();
            let transport = &self.engine.config().net.transport;
            let result = blossom::fetch(
                &url,
                media.hash.as_ref(),
                transport,
                caps.max_bytes,
                TIMEOUT,
                &mut contacted,
            )
            .await;
            // Every origin that received the request learned the blob's
            // hash (or the link), whether or not it answered well.
            for origin in &contacted {
                self.record_media_contact(origin, MEDIA_FETCH, &what_was_asked(media, &url));
            }
            match result {
                Ok(bytes) => {
                    let (format, w, h) = samizdat_media::probe(&bytes, &caps)?;
                    cache.put(key, &bytes);
                    return Ok(LoadedMedia {
                        hash: media.hash,
                        bytes,
                        format,
                        size: (w, h),
                        from: Some(url.origin()),
                    });
                }
                Err(BlossomError::HashMismatch { server, .. }) => {
                    tracing::warn!(%server, "a media server sent bytes that do not match the hash");
                    tried.push((
                        server.clone(),
                        "sent bytes that do not match the hash".to_owned(),
                    ));
                    mismatch.get_or_insert(server);
                }
                Err(e) => tried.push((url.origin(), e.to_string())),
            }
        }
        match mismatch {
            Some(server) => Err(MediaError::HashMismatch { server }),
            None => Err(MediaError::Unreachable(tried)),
        }
    }

    /// Decodes a loaded picture within `caps`, off the async threads.
    pub async fn decode_media(
        &self,
        loaded: &LoadedMedia,
        caps: Caps,
    ) -> Result<Decoded, MediaError> {
        let bytes = loaded.bytes.clone();
        tokio::task::spawn_blocking(move || samizdat_media::decode(&bytes, &caps))
            .await
            .map_err(|_| MediaError::Stopped("decoding"))?
            .map_err(MediaError::Refused)
    }

    /// Where to ask, in order: with a hash, the author's Blossom servers,
    /// then the link, then its fallbacks; without one, the link and its
    /// fallbacks only.
    fn candidates(&self, author: &PublicKey, media: &MediaRef) -> Vec<HttpUrl> {
        let mut urls = Vec::new();
        if let Some(hash) = &media.hash {
            for server in self.blossom_servers_of(author).unwrap_or_default() {
                if let Ok(s) = BlossomServer::parse(&server) {
                    urls.push(s.blob_url(hash));
                }
            }
        }
        urls.extend(
            std::iter::once(&media.url)
                .chain(&media.fallbacks)
                .filter_map(|u| HttpUrl::parse(u).ok()),
        );
        // With a hash, one request per server is enough: any path there
        // names the same blob.
        let mut seen = std::collections::HashSet::new();
        urls.retain(|u| {
            seen.insert(if media.hash.is_some() {
                u.origin()
            } else {
                u.to_string()
            })
        });
        urls.truncate(6);
        urls
    }

    /// The ledger: `origin` was contacted (by this profile's path) and
    /// learned `detail` under `fact`.
    pub(crate) fn record_media_contact(&self, origin: &str, fact: &str, detail: &str) {
        crate::engine::ledger::record_site(
            self.engine.store(),
            &self.engine.config().net.transport,
            origin,
            fact,
            detail,
        );
    }
}

fn what_was_asked(media: &MediaRef, url: &HttpUrl) -> String {
    match &media.hash {
        Some(h) => format!("blob {h}"),
        None => format!("link {}", url.path_and_query()),
    }
}
