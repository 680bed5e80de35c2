//! The app's own preferences, per profile (`desktop.json` in the profile
//! directory). Read and written by the worker, never by the UI thread.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the user set in the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// UI scale (zoom factor), 0.5 to 3.0.
    pub ui_scale: f32,
    /// Dark theme.
    pub dark: bool,
    /// High contrast: pure black and white, thick outlines, a yellow focus
    /// ring.
    pub high_contrast: bool,
    /// Lock the profile after this many minutes without input (0: never).
    pub idle_lock_minutes: u32,
    /// The relay the user runs and manages ("My relay" tab).
    pub my_relay: Option<String>,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            ui_scale: 1.0,
            dark: true,
            high_contrast: false,
            my_relay: None,
            idle_lock_minutes: 15,
        }
    }
}

impl Prefs {
    /// The file's name in a profile directory.
    pub const FILE: &'static str = "desktop.json";

    /// Reads the preferences; a missing or damaged file gives the defaults
    /// (a damaged one is logged, and replaced at the next save).
    pub fn load(path: &Path) -> Self {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str::<Prefs>(&text)
                .map(Prefs::clamped)
                .unwrap_or_else(|e| {
                    tracing::warn!(path = %path.display(), error = %e, "desktop preferences unreadable; using defaults");
                    Prefs::default()
                }),
            Err(_) => Prefs::default(),
        }
    }

    /// Writes the preferences.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, json)
    }

    /// Values in range.
    pub fn clamped(mut self) -> Self {
        if !self.ui_scale.is_finite() {
            self.ui_scale = 1.0;
        }
        self.ui_scale = self.ui_scale.clamp(0.5, 3.0);
        self.idle_lock_minutes = self.idle_lock_minutes.min(24 * 60);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damaged_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(Prefs::FILE);
        assert_eq!(Prefs::load(&path), Prefs::default());
        let p = Prefs {
            ui_scale: 1.5,
            dark: false,
            high_contrast: true,
            idle_lock_minutes: 5,
            my_relay: Some("ws://127.0.0.1:4869".into()),
        };
        p.save(&path).unwrap();
        assert_eq!(Prefs::load(&path), p);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Prefs::load(&path), Prefs::default());
        std::fs::write(&path, r#"{"ui_scale": 99}"#).unwrap();
        assert_eq!(Prefs::load(&path).ui_scale, 3.0);
        // A file from before the idle lock gets its default.
        assert_eq!(Prefs::load(&path).idle_lock_minutes, 15);
    }
}
