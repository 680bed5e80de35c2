//! When pictures are loaded (a profile-wide choice with per-person
//! overrides: nothing remote is loaded without one of these saying so),
//! and why a picture was not loaded or attached.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Whose media loads by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaChoice {
    /// Never load media (links only).
    Never,
    /// Load a picture only when the user clicks it (the default).
    #[default]
    Click,
    /// Load pictures from people the user follows; click for the rest.
    Follows,
    /// Load every picture.
    Always,
}

impl MediaChoice {
    /// The name used in settings and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Click => "click",
            Self::Follows => "follows",
            Self::Always => "always",
        }
    }

    /// Every choice, in order of openness (for menus).
    pub const ALL: [MediaChoice; 4] = [Self::Never, Self::Click, Self::Follows, Self::Always];

    /// A short sentence for menus and the privacy posture.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Never => "never loaded",
            Self::Click => "loaded when you click",
            Self::Follows => "loaded for people you follow, click for others",
            Self::Always => "always loaded",
        }
    }
}

impl std::str::FromStr for MediaChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown media choice {s:?}: use never, click, follows or always")
            })
    }
}

/// The profile's media settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaSettings {
    /// The choice for everyone without an override.
    pub show: MediaChoice,
    /// Per person (hex public key): their own choice ("always show their
    /// media", or never).
    pub people: BTreeMap<String, MediaChoice>,
    /// Size of the on-disk cache of fetched pictures, in MiB (oldest used
    /// go first past it).
    pub cache_mib: u64,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            show: MediaChoice::Click,
            people: BTreeMap::new(),
            cache_mib: 256,
        }
    }
}

/// Why a picture was not loaded or not uploaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MediaError {
    /// The profile's choice (or the author's override) does not load it.
    #[error("media from this person is not loaded (your choice: {0})")]
    NotLoaded(&'static str),
    /// It waits for a click; nothing was asked of any server.
    #[error("click to load (nothing has been fetched)")]
    NeedsClick,
    /// A server sent bytes that are not the blob: refused.
    #[error("refused: {server} sent bytes that do not match the picture's hash")]
    HashMismatch {
        /// The server that sent them.
        server: String,
    },
    /// No server had it (each tried, with its reason).
    #[error("could not load it: {}", .0.iter().map(|(s, r)| format!("{s}: {r}")).collect::<Vec<_>>().join("; "))]
    Unreachable(Vec<(String, String)>),
    /// The bytes are not a picture we show, or are over a cap.
    #[error("refused: {0}")]
    Refused(#[from] samizdat_media::MediaError),
    /// The user has no Blossom servers.
    #[error("you have no Blossom servers: samizdat blossom servers set URL…")]
    NoServers,
    /// A server URL is not http(s).
    #[error("{0:?} is not a Blossom server URL (http:// or https://)")]
    BadServer(String),
    /// The server refused the upload.
    #[error("uploading to {server} failed: {reason}")]
    Upload {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// A file to attach could not be read.
    #[error("cannot attach {path}: {reason}")]
    File {
        /// The path.
        path: String,
        /// Why.
        reason: String,
    },
    /// Work on the blocking pool stopped before it finished (shutdown).
    #[error("{0} stopped before it finished")]
    Stopped(&'static str),
    /// The signer refused the upload's authorization.
    #[error("the upload authorization was not signed: {0}")]
    Signer(String),
}
