//! Attaching pictures: metadata stripped (EXIF, GPS, XMP, comments), the
//! size and a blurhash taken from the decoded picture, uploaded to the
//! user's first Blossom server that takes it, mirrored to the next one,
//! and described by an `imeta` tag for the note.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nostr::prelude::*;
use samizdat_http::Progress;
use samizdat_media::{BlobHash, Caps};
use samizdat_net::blossom::{self, BlossomServer, BlossomVerb};

use super::{MediaError, MEDIA_UPLOAD, TIMEOUT};
use crate::session::writes::Published;
use crate::session::{Session, SessionError};

/// How long an upload authorization is valid.
const AUTH_VALID_FOR: Duration = Duration::from_secs(600);

/// An upload's progress, shared with whoever draws the bar.
#[derive(Debug, Clone, Default)]
pub struct UploadProgress {
    /// Bytes sent to the first server so far.
    pub sent: Progress,
}

/// A picture uploaded and ready to be referenced by a note.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Where it is served (the first server's URL).
    pub url: String,
    /// Its hash (of the stripped bytes).
    pub hash: BlobHash,
    /// Its type.
    pub mime: &'static str,
    /// Its width and height.
    pub dim: (u32, u32),
    /// Its blurhash placeholder.
    pub blurhash: Option<String>,
    /// Its size in bytes after stripping.
    pub size: u64,
    /// The metadata segments removed ("EXIF", "XMP", "comment", …).
    pub removed: Vec<&'static str>,
    /// Where copies are (mirrors), as URLs.
    pub mirrors: Vec<String>,
    /// Servers that did not take a copy, with why.
    pub failed: Vec<(String, String)>,
    /// The note's `imeta` tag (tag name first).
    pub imeta: Vec<String>,
}

impl Session {
    /// Uploads a picture file (see [`Session::attach_bytes`]).
    pub async fn attach_file(
        &self,
        path: &Path,
        progress: Option<&UploadProgress>,
    ) -> Result<Attached, MediaError> {
        let file_err = |reason: String| MediaError::File {
            path: path.display().to_string(),
            reason,
        };
        let max = Caps::default().max_bytes as u64;
        let len = std::fs::metadata(path)
            .map_err(|e| file_err(e.to_string()))?
            .len();
        if len > max {
            return Err(file_err(format!(
                "{len} bytes is more than the {max}-byte cap"
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| file_err(e.to_string()))?;
        self.attach_bytes(bytes, progress).await
    }

    /// Strips a picture's metadata, measures it, uploads it to the user's
    /// Blossom servers (the first that takes it, then a mirror on the next)
    /// and returns its `imeta` tag. Only PNG, JPEG, WebP and GIF.
    pub async fn attach_bytes(
        &self,
        bytes: Vec<u8>,
        progress: Option<&UploadProgress>,
    ) -> Result<Attached, MediaError> {
        let (stripped, dim, blurhash) = tokio::task::spawn_blocking(move || {
            let stripped = samizdat_media::strip_metadata(&bytes)?;
            let measured = samizdat_media::measure(&stripped.bytes, &Caps::default())?;
            Ok::<_, samizdat_media::MediaError>((stripped, measured.size, measured.blurhash))
        })
        .await
        .map_err(|_| MediaError::Stopped("preparing the picture"))??;
        let mut listed = self.blossom_servers_of(&self.me).unwrap_or_default();
        if listed.is_empty() {
            // Not in this store yet (a new device): ask the user's relays.
            if let Err(e) = self.own_list_targets().await {
                tracing::debug!(error = %e, "own lists not fetched");
            }
            listed = self.blossom_servers_of(&self.me).unwrap_or_default();
        }
        let servers: Vec<BlossomServer> = listed
            .iter()
            .filter_map(|s| BlossomServer::parse(s).ok())
            .collect();
        if servers.is_empty() {
            return Err(MediaError::NoServers);
        }
        let hash = BlobHash::of(&stripped.bytes);
        let mime = stripped.format.mime();
        let auth = self.blossom_auth(BlossomVerb::Upload, &hash).await?;
        let transport = &self.engine.config().net.transport;
        let body = bytes::Bytes::from(stripped.bytes);
        let mut failed = Vec::new();
        let mut first: Option<(usize, String)> = None;
        for (i, server) in servers.iter().enumerate() {
            self.record_media_contact(&server.origin(), MEDIA_UPLOAD, &format!("blob {hash}"));
            let sent = progress.map(|p| &p.sent);
            match blossom::upload(server, body.clone(), mime, &auth, transport, sent, TIMEOUT).await
            {
                Ok(d) => {
                    first = Some((i, d.url));
                    break;
                }
                Err(e) => failed.push((server.origin(), e.to_string())),
            }
        }
        let Some((index, url)) = first else {
            let (server, reason) = failed.pop().unwrap_or_default();
            return Err(MediaError::Upload { server, reason });
        };
        // One mirror, on the next server: it fetches the blob itself
        // (BUD-04); when it cannot, the blob is uploaded to it directly.
        let mut mirrors = Vec::new();
        if let Some(next) = servers.get(index + 1) {
            self.record_media_contact(&next.origin(), MEDIA_UPLOAD, &format!("blob {hash}"));
            let mirrored = match blossom::mirror(next, &url, &hash, &auth, transport, TIMEOUT).await
            {
                Ok(d) => Ok(d),
                Err(_) => {
                    blossom::upload(next, body.clone(), mime, &auth, transport, None, TIMEOUT).await
                }
            };
            match mirrored {
                Ok(d) => mirrors.push(d.url),
                Err(e) => failed.push((next.origin(), e.to_string())),
            }
        }
        let imeta =
            samizdat_media::imeta_tag(&url, &hash, mime, dim, blurhash.as_deref(), &mirrors);
        Ok(Attached {
            url,
            hash,
            mime,
            dim,
            blurhash,
            size: body.len() as u64,
            removed: stripped.removed,
            mirrors,
            failed,
            imeta,
        })
    }

    /// A signed BUD-11 authorization header for `verb` on `hash`.
    async fn blossom_auth(&self, verb: BlossomVerb, hash: &BlobHash) -> Result<String, MediaError> {
        let unsigned =
            blossom::auth_template(verb, Some(hash), AUTH_VALID_FOR).finalize_unsigned(self.me);
        let event = self
            .signer
            .sign_event(unsigned)
            .await
            .map_err(|e| MediaError::Signer(e.to_string()))?;
        Ok(blossom::auth_header(&event))
    }

    /// Posts a note with pictures: each file is attached first (stripped,
    /// uploaded, mirrored), then the note goes out with their links and
    /// `imeta` tags. Nothing is posted when an attachment fails.
    pub async fn post_with_media(
        &self,
        text: &str,
        files: &[PathBuf],
        progress: Option<&UploadProgress>,
    ) -> Result<(Published, Vec<Attached>), SessionError> {
        let mut attached = Vec::new();
        for file in files {
            attached.push(self.attach_file(file, progress).await?);
        }
        let published = self.post_attached(text, &attached).await?;
        Ok((published, attached))
    }

    /// Posts a note referencing pictures already attached.
    pub async fn post_attached(
        &self,
        text: &str,
        attached: &[Attached],
    ) -> Result<Published, SessionError> {
        let imeta: Vec<Vec<String>> = attached.iter().map(|a| a.imeta.clone()).collect();
        let urls: Vec<&str> = attached.iter().map(|a| a.url.as_str()).collect();
        let unsigned = crate::base::compose::note_with_media(self.me, text, &urls, &imeta);
        self.post_unsigned(unsigned).await
    }
}
