//! Per-app permissions of the bunker: for each paired app, which methods and
//! which event kinds are signed always, after asking, or never. Kept in a JSON
//! file in the profile, readable by the owner alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What to do when an app asks for something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Do it without asking.
    Always,
    /// Ask the user each time.
    Ask,
    /// Refuse.
    Never,
}

/// One app's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppPermissions {
    /// A name the app gave, if any (shown in prompts).
    pub name: Option<String>,
    /// Decisions by method (`nip44_encrypt`, …); `sign_event` is decided by kind.
    pub methods: BTreeMap<String, Decision>,
    /// Decisions by event kind for `sign_event`.
    pub kinds: BTreeMap<u16, Decision>,
    /// Decision for kinds not listed.
    pub other_kinds: Decision,
}

impl Default for AppPermissions {
    fn default() -> Self {
        Self {
            name: None,
            methods: BTreeMap::new(),
            kinds: BTreeMap::new(),
            other_kinds: Decision::Ask,
        }
    }
}

impl AppPermissions {
    /// The decision for a method (and, for `sign_event`, the kind).
    pub fn decide(&self, method: &str, kind: Option<u16>) -> Decision {
        match method {
            "connect" | "ping" | "get_public_key" => Decision::Always,
            "sign_event" => kind
                .and_then(|k| self.kinds.get(&k).copied())
                .unwrap_or(self.other_kinds),
            other => self.methods.get(other).copied().unwrap_or(Decision::Ask),
        }
    }
}

/// Every paired app's permissions, persisted.
#[derive(Debug)]
pub struct PermissionBook {
    path: PathBuf,
    apps: BTreeMap<String, AppPermissions>,
}

impl PermissionBook {
    /// Loads the book (an absent or unreadable file is an empty book: nothing
    /// is allowed that was not granted again).
    pub fn load(path: &Path) -> Self {
        let apps = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Self {
            path: path.to_path_buf(),
            apps,
        }
    }

    /// The permissions of a paired app, by hex public key.
    pub fn app(&self, app: &str) -> Option<&AppPermissions> {
        self.apps.get(app)
    }

    /// Adds or replaces an app's permissions and saves the book.
    pub fn set(&mut self, app: &str, permissions: AppPermissions) -> std::io::Result<()> {
        self.apps.insert(app.to_owned(), permissions);
        self.save()
    }

    fn save(&self) -> std::io::Result<()> {
        let json = serde_json::to_string_pretty(&self.apps).map_err(std::io::Error::other)?;
        crate::base::private_file::write_private(&self.path, json.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_by_method_and_kind_persist() {
        let dir = std::env::temp_dir().join(format!("samizdat-perm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("apps.json");
        let mut book = PermissionBook::load(&path);
        assert!(book.app("aa").is_none());
        let mut p = AppPermissions::default();
        p.kinds.insert(1, Decision::Always);
        p.kinds.insert(0, Decision::Never);
        book.set("aa", p).unwrap();
        let book = PermissionBook::load(&path);
        let p = book.app("aa").unwrap();
        assert_eq!(p.decide("sign_event", Some(1)), Decision::Always);
        assert_eq!(p.decide("sign_event", Some(0)), Decision::Never);
        assert_eq!(p.decide("sign_event", Some(7)), Decision::Ask);
        assert_eq!(p.decide("nip44_decrypt", None), Decision::Ask);
        assert_eq!(p.decide("get_public_key", None), Decision::Always);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
