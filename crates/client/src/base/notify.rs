//! When the desktop raises an OS notification: off, on, or for private
//! messages only, with quiet hours, and whether a message's text may be
//! shown (never unless the user says so: a notification is drawn over
//! whatever is on screen, and notification daemons keep a history).

use serde::{Deserialize, Serialize};

/// What raises a notification.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyMode {
    /// Nothing.
    Off,
    /// Mentions, replies, reactions and private messages (the default).
    #[default]
    On,
    /// Private messages only.
    DmsOnly,
}

impl NotifyMode {
    /// Every mode, for menus.
    pub const ALL: [NotifyMode; 3] = [Self::Off, Self::On, Self::DmsOnly];

    /// The name used in settings and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::On => "on",
            Self::DmsOnly => "dms-only",
        }
    }
}

impl std::str::FromStr for NotifyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown notification mode {s:?}: use off, on or dms-only"))
    }
}

/// The profile's notification settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifySettings {
    /// What raises one.
    pub mode: NotifyMode,
    /// Quiet hours, local time: from this hour (0–23) up to, not including,
    /// `quiet.1`; `(22, 7)` spans midnight. `None`: never quiet.
    pub quiet: Option<(u8, u8)>,
    /// Show a private message's text in its notification (default: no,
    /// "New message from NAME" only).
    pub show_dm_text: bool,
}

impl NotifySettings {
    /// Whether `hour` (local, 0–23) is inside the quiet hours.
    pub fn is_quiet(&self, hour: u8) -> bool {
        match self.quiet {
            None => false,
            Some((from, to)) if from == to => false,
            Some((from, to)) if from < to => (from..to).contains(&hour),
            Some((from, to)) => hour >= from || hour < to,
        }
    }

    /// One sentence for settings pages and the privacy posture.
    pub fn describe(&self) -> String {
        let what = match self.mode {
            NotifyMode::Off => return "notifications off".into(),
            NotifyMode::On => "mentions, replies, reactions and messages",
            NotifyMode::DmsOnly => "private messages only",
        };
        let text = if self.show_dm_text {
            "message text shown"
        } else {
            "message text never shown"
        };
        match self.quiet {
            Some((from, to)) if from != to => {
                format!("{what}; {text}; quiet {from:02}:00–{to:02}:00")
            }
            _ => format!("{what}; {text}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_span_midnight_or_not() {
        let night = NotifySettings {
            quiet: Some((22, 7)),
            ..Default::default()
        };
        assert!(night.is_quiet(23) && night.is_quiet(0) && night.is_quiet(6));
        assert!(!night.is_quiet(7) && !night.is_quiet(12) && !night.is_quiet(21));
        let lunch = NotifySettings {
            quiet: Some((12, 14)),
            ..Default::default()
        };
        assert!(lunch.is_quiet(12) && lunch.is_quiet(13) && !lunch.is_quiet(14));
        let none = NotifySettings {
            quiet: Some((5, 5)),
            ..Default::default()
        };
        assert!(!none.is_quiet(5));
        assert!(!NotifySettings::default().is_quiet(3));
    }

    #[test]
    fn modes_parse_and_unknown_ones_are_named() {
        for m in NotifyMode::ALL {
            assert_eq!(m.as_str().parse::<NotifyMode>(), Ok(m));
        }
        assert!("loud".parse::<NotifyMode>().unwrap_err().contains("loud"));
    }
}
