//! Pictures on the worker's side: loading and decoding off the UI thread
//! (the UI only turns finished pixels into a texture), the choices, and
//! posting with attachments with the upload's progress sent to the UI.

use std::time::Duration;

use nostr::prelude::*;
use samizdat_client::media::{Caps, UploadProgress};

use super::views::Ctx;
use crate::protocol::{MediaCommand, Update};
use crate::view::{MediaCard, PictureView};

/// Longest side of a picture handed to the UI (a texture the viewer can
/// zoom into without holding a camera's full resolution).
const SHOWN_SIDE: u32 = 1600;

impl Ctx {
    /// The picture cards of a note.
    pub(crate) fn media_cards(&self, note: &Event) -> Vec<MediaCard> {
        let refs = self.session.media_of(note);
        if refs.is_empty() {
            return Vec::new();
        }
        let decision = self.session.media_decision(&note.pubkey);
        refs.into_iter()
            .map(|r| MediaCard::new(r, decision))
            .collect()
    }

    /// Runs one media command.
    pub(crate) fn media(&self, command: MediaCommand) {
        match command {
            MediaCommand::Load {
                author,
                reference,
                clicked,
            } => {
                let ctx = self.clone();
                tokio::spawn(async move {
                    let url = reference.url.clone();
                    let result = ctx.load(&author, &reference, clicked).await;
                    ctx.sink.send(Update::Picture(url, result));
                });
            }
            MediaCommand::SetChoice(choice, cache_mib) => {
                let saved = self
                    .session
                    .set_media_choice(choice)
                    .and_then(|()| self.session.set_media_cache_mib(cache_mib));
                match saved {
                    Ok(stats) => {
                        self.sink.send(Update::Alert(format!(
                            "pictures: {}; cache {} MiB ({} pictures, {:.1} MiB now)",
                            choice.describe(),
                            cache_mib,
                            stats.files,
                            stats.bytes as f64 / 1048576.0
                        )));
                        self.sink
                            .send(Update::MediaSettings(self.session.media_settings()));
                        self.show_feed();
                    }
                    Err(e) => {
                        self.sink.send(Update::Alert(e.to_string()));
                    }
                }
            }
            MediaCommand::SetPerson(who, choice) => {
                match self.session.set_person_media(who, choice) {
                    Ok(()) => {
                        self.sink
                            .send(Update::MediaSettings(self.session.media_settings()));
                        self.stored_person(who, false);
                        self.show_feed();
                    }
                    Err(e) => {
                        self.sink.send(Update::Alert(e.to_string()));
                    }
                }
            }
            MediaCommand::Post { text, files } => self.post_with_media(text, files),
            MediaCommand::ListDir(dir) => {
                let sink = self.sink.clone();
                tokio::task::spawn_blocking(move || {
                    let entries = folder(&dir);
                    sink.send(Update::Folder(dir, entries));
                });
            }
        }
    }

    async fn load(
        &self,
        author: &PublicKey,
        reference: &samizdat_client::media::MediaRef,
        clicked: bool,
    ) -> Result<PictureView, String> {
        let loaded = self
            .session
            .load_media(author, reference, clicked)
            .await
            .map_err(|e| e.to_string())?;
        let caps = Caps {
            max_side: SHOWN_SIDE,
            max_frames: 1,
            ..Caps::default()
        };
        let decoded = self
            .session
            .decode_media(&loaded, caps)
            .await
            .map_err(|e| e.to_string())?;
        let rgba = decoded
            .frames
            .into_iter()
            .next()
            .map(|f| f.rgba)
            .ok_or("the picture has no frame")?;
        Ok(PictureView {
            size: decoded.shown,
            rgba,
            original: decoded.original,
            verified: loaded.verified(),
            from: loaded.from,
        })
    }

    fn post_with_media(&self, text: String, files: Vec<std::path::PathBuf>) {
        let ctx = self.clone();
        tokio::spawn(async move {
            let total: u64 = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            let progress = UploadProgress::default();
            let ticker = {
                let (sent, sink) = (progress.sent.clone(), ctx.sink.clone());
                tokio::spawn(async move {
                    loop {
                        sink.send(Update::Upload(Some((sent.sent(), total))));
                        tokio::time::sleep(Duration::from_millis(150)).await;
                    }
                })
            };
            let result = ctx
                .session
                .post_with_media(&text, &files, Some(&progress))
                .await;
            ticker.abort();
            ctx.sink.send(Update::Upload(None));
            ctx.sink.send(Update::Done(match result {
                Ok((_, attached)) => {
                    let removed: Vec<&str> =
                        attached.iter().flat_map(|a| a.removed.clone()).collect();
                    Ok(format!(
                        "posted with {} picture(s){}",
                        attached.len(),
                        if removed.is_empty() {
                            String::new()
                        } else {
                            format!(" (removed {})", removed.join(", "))
                        }
                    ))
                }
                Err(e) => Err(e.to_string()),
            }));
            ctx.show_feed();
            ctx.show_deliveries();
        });
    }
}

/// A folder's subfolders and picture files (by extension), sorted, hidden
/// ones left out.
fn folder(dir: &std::path::Path) -> Vec<(String, bool)> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, bool)> = read
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().ok()?.is_dir();
            let picture = samizdat_media::has_image_extension(&name);
            (!name.starts_with('.') && (is_dir || picture)).then_some((name, is_dir))
        })
        .collect();
    entries.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then(a.0.to_lowercase().cmp(&b.0.to_lowercase()))
    });
    entries
}
