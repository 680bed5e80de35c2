//! Media, privately. Pictures load only when the profile's choice (or the
//! author's override) says so ([`MediaChoice`]): "click to load" by default,
//! so no server learns anything until the user asks. A fetch goes through
//! the profile's transport (the proxy, failing closed), is written in the
//! privacy ledger (which server learned which blob), tries the author's
//! Blossom servers (kind 10063) before the URL's host, and is checked
//! against the blob's SHA-256: a mismatch is refused and said. Verified
//! bytes are kept in an on-disk cache by hash with a size limit.
//!
//! Uploads strip EXIF, GPS, XMP and comments first, go to the user's
//! Blossom servers with a kind-24242 authorization, are mirrored to a
//! second server (BUD-04) when there is one, and give the note an `imeta`
//! tag (url, hash, type, size in pixels, blurhash).

mod cache;
mod fetch;
mod upload;

use std::time::Duration;

use nostr::prelude::*;

pub use crate::base::media::{MediaChoice, MediaError, MediaSettings};
pub use cache::{CacheStats, MediaCache};
pub use fetch::{LoadedMedia, MediaDecision};
pub use samizdat_media::{Caps, Decoded, MediaRef};
pub use upload::{Attached, UploadProgress};

use crate::session::{Session, SessionError};

/// Kind of a Blossom server list (BUD-03).
pub const SERVER_LIST_KIND: Kind = Kind::Custom(10063);

/// How long one fetch or upload may take.
const TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) use crate::engine::ledger::{MEDIA_FETCH, MEDIA_UPLOAD};

impl Session {
    /// The profile's media settings.
    pub fn media_settings(&self) -> MediaSettings {
        self.settings().media
    }

    /// Sets the choice for everyone without an override.
    pub fn set_media_choice(&self, choice: MediaChoice) -> Result<(), SessionError> {
        self.change_settings(|s| {
            s.media.show = choice;
            Ok(())
        })
    }

    /// Sets (or with `None` removes) one person's override.
    pub fn set_person_media(
        &self,
        who: PublicKey,
        choice: Option<MediaChoice>,
    ) -> Result<(), SessionError> {
        self.change_settings(|s| {
            match choice {
                Some(c) => s.media.people.insert(who.to_hex(), c),
                None => s.media.people.remove(&who.to_hex()),
            };
            Ok(())
        })
    }

    /// Sets the cache's size limit (MiB) and trims the cache to it.
    pub fn set_media_cache_mib(&self, mib: u64) -> Result<CacheStats, SessionError> {
        self.change_settings(|s| {
            s.media.cache_mib = mib;
            Ok(())
        })?;
        Ok(self.media_cache().evict())
    }

    /// The on-disk picture cache of this profile.
    pub fn media_cache(&self) -> MediaCache {
        let dir = self.settings_path.with_file_name("media");
        MediaCache::with_totals(
            dir,
            self.settings().media.cache_mib.saturating_mul(1 << 20),
            self.feature::<cache::CacheTotals>(),
        )
    }

    /// A person's Blossom servers (their newest kind 10063 in the store),
    /// in their order.
    pub fn blossom_servers_of(&self, who: &PublicKey) -> Result<Vec<String>, SessionError> {
        let newest = self
            .engine
            .store()
            .query(&[Filter::new().author(*who).kind(SERVER_LIST_KIND).limit(1)])?;
        Ok(newest
            .first()
            .map(|e| {
                e.tags
                    .iter()
                    .filter(|t| t.as_slice().first().map(String::as_str) == Some("server"))
                    .filter_map(|t| t.as_slice().get(1).cloned())
                    .filter(|u| samizdat_net::blossom::BlossomServer::parse(u).is_ok())
                    .take(8)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Publishes the user's Blossom servers (kind 10063, BUD-03), first
    /// one first: uploads go there, and readers fetch from there.
    pub async fn set_blossom_servers(
        &self,
        servers: &[String],
    ) -> Result<crate::session::writes::Published, SessionError> {
        let mut tags = Vec::new();
        for s in servers {
            let server = samizdat_net::blossom::BlossomServer::parse(s)
                .map_err(|_| MediaError::BadServer(s.clone()))?;
            tags.push(
                Tag::parse(["server".to_owned(), server.origin()])
                    .map_err(|_| MediaError::BadServer(s.clone()))?,
            );
        }
        let unsigned = EventBuilder::new(SERVER_LIST_KIND, "")
            .tags(tags)
            .finalize_unsigned(self.me);
        let targets = self.own_list_targets().await?;
        self.sign_and_publish(unsigned, &targets).await
    }

    /// The pictures a note references (its `imeta` tags and image links).
    pub fn media_of(&self, note: &Event) -> Vec<MediaRef> {
        let links: Vec<String> = crate::base::content::segments(&note.content)
            .into_iter()
            .filter_map(|s| match s {
                crate::base::content::Segment::Link(l) => Some(l),
                _ => None,
            })
            .collect();
        samizdat_media::media_in_note(
            note.tags.iter().map(|t| t.as_slice()),
            links.iter().map(String::as_str),
        )
    }
}
