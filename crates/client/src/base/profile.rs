//! Profiles: separate identities (personal, bot, throwaway), each with its own
//! directory, so their keys, events and settings never mix.
//!
//! Profiles live under `$SAMIZDAT_HOME` when it is set, else the platform's
//! data directory (`$XDG_DATA_HOME/samizdat`, `~/.local/share/samizdat`,
//! `~/Library/Application Support/samizdat` on macOS, `%APPDATA%\samizdat` on
//! Windows).

use std::path::{Path, PathBuf};

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The name has characters that do not belong in a directory name.
    #[error("profile name {0:?} is not allowed: use 1 to 32 of a-z, 0-9, '-' and '_'")]
    BadName(String),
    /// No home for profiles could be found.
    #[error("cannot find a data directory: set SAMIZDAT_HOME")]
    NoHome,
    /// The directory could not be created.
    #[error("cannot create profile directory {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where all profiles live.
#[derive(Debug, Clone)]
pub struct Profiles {
    home: PathBuf,
}

impl Profiles {
    /// Profiles under `home`.
    pub fn at(home: impl Into<PathBuf>) -> Self {
        Self { home: home.into() }
    }

    /// Profiles under `$SAMIZDAT_HOME`, else the platform data directory.
    pub fn from_env() -> Result<Self, ProfileError> {
        if let Some(home) = std::env::var_os("SAMIZDAT_HOME").filter(|v| !v.is_empty()) {
            return Ok(Self::at(home));
        }
        platform_data_dir()
            .map(Self::at)
            .ok_or(ProfileError::NoHome)
    }

    /// The directory holding every profile.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// One profile (not created yet).
    pub fn profile(&self, name: &str) -> Result<Profile, ProfileError> {
        let valid = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid {
            return Err(ProfileError::BadName(name.to_owned()));
        }
        Ok(Profile {
            name: name.to_owned(),
            dir: self.home.join(name),
        })
    }

    /// Names of the profiles that exist.
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.home)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }
}

/// One identity's directory.
#[derive(Debug, Clone)]
pub struct Profile {
    name: String,
    dir: PathBuf,
}

impl Profile {
    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The NIP-49 key file (the only place the key rests, encrypted).
    pub fn key_path(&self) -> PathBuf {
        self.dir.join("key.ncryptsec")
    }

    /// The event store.
    pub fn store_path(&self) -> PathBuf {
        self.dir.join("events.sqlite")
    }

    /// The relay settings file.
    pub fn settings_path(&self) -> PathBuf {
        self.dir.join("settings.json")
    }

    /// Creates the directory, readable by the owner alone.
    pub fn create_dir(&self) -> Result<(), ProfileError> {
        let err = |source| ProfileError::Create {
            path: self.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// The platform's data directory for Samizdat (`directories`): on Linux
/// `$XDG_DATA_HOME/samizdat` or `~/.local/share/samizdat`, on macOS
/// `~/Library/Application Support/samizdat`, on Windows
/// `%APPDATA%\samizdat\data`.
fn platform_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "samizdat").map(|d| d.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_profiles_are_separate() {
        let p = Profiles::at("/tmp/x");
        assert!(p.profile("personal").is_ok());
        for bad in ["", "../etc", "A", "a b", &"x".repeat(33)] {
            assert!(p.profile(bad).is_err(), "{bad}");
        }
        let a = p.profile("bot").unwrap();
        let b = p.profile("throwaway").unwrap();
        assert_ne!(a.key_path(), b.key_path());
        assert_ne!(a.store_path(), b.store_path());
    }
}
