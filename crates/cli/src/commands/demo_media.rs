//! The demo's pictures: which the user's choice loads by itself (the one
//! person they "always" show), which wait for a click, and what the media
//! servers learned (only the loaded ones' hashes).

use nostr::prelude::*;
use samizdat_client::media::MediaDecision;
use samizdat_client::Session;
use samizdat_demo::DemoNetwork;
use serde_json::json;

/// What the demo shows of media.
#[derive(Debug, Default)]
pub struct MediaSummary {
    /// Pictures referenced by notes in the store from the demo's posters.
    pub referenced: usize,
    /// Loaded without a click: (name, width, height, origin).
    pub loaded: Vec<(String, u32, u32, String)>,
    /// Waiting for a click (nothing fetched).
    pub waiting: usize,
    /// Failures, as messages.
    pub failed: Vec<String>,
}

/// Loads what the choice loads, counts what waits.
pub async fn summary(session: &Session, network: &DemoNetwork) -> anyhow::Result<MediaSummary> {
    let mut s = MediaSummary::default();
    if network.picture_posters.is_empty() {
        return Ok(s);
    }
    let notes = session.engine().store().query(&[Filter::new()
        .authors(network.picture_posters.clone())
        .kind(Kind::TextNote)
        .limit(200)])?;
    for note in notes {
        for r in session.media_of(&note) {
            s.referenced += 1;
            match session.media_decision(&note.pubkey) {
                MediaDecision::Load => match session.load_media(&note.pubkey, &r, false).await {
                    Ok(m) => s.loaded.push((
                        network
                            .name_of(&note.pubkey.to_hex())
                            .unwrap_or("?")
                            .to_owned(),
                        m.size.0,
                        m.size.1,
                        m.from.unwrap_or_else(|| "the cache".into()),
                    )),
                    Err(e) => s.failed.push(e.to_string()),
                },
                _ => s.waiting += 1,
            }
        }
    }
    Ok(s)
}

impl MediaSummary {
    /// As JSON (`samizdat demo --json`'s `media`).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "referenced": self.referenced,
            "loaded": self.loaded.iter().map(|(n, w, h, o)| json!({"name": n, "width": w, "height": h, "from": o})).collect::<Vec<_>>(),
            "waiting_for_click": self.waiting,
            "failed": self.failed,
        })
    }
}

/// Prints the summary.
pub fn print(s: &MediaSummary) {
    if s.referenced == 0 {
        return;
    }
    println!();
    println!("Pictures (click to load by default; Blossom, each checked against its hash):");
    for (name, w, h, from) in &s.loaded {
        println!("  loaded: {name}'s picture, {w}×{h}, hash verified, from {from} (you always show {name}'s pictures)");
    }
    println!(
        "  {} more wait for a click: nothing was fetched, their servers learned nothing",
        s.waiting
    );
    for f in &s.failed {
        println!("  ✗ {f}");
    }
}
