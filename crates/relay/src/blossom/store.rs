//! Blobs on disk by hash (`<dir>/<first two hex digits>/<hash>`), indexed
//! in a SQLite file beside them: which blobs exist, their size and type,
//! and who uploaded each (a blob stays while anyone who uploaded it keeps it).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use samizdat_media::BlobHash;

/// One stored blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its hash.
    pub hash: BlobHash,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type.
    pub mime: String,
    /// When it was first stored (Unix seconds).
    pub uploaded: u64,
}

/// Why a blob was not stored.
#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// The quota would be exceeded.
    #[error("the storage quota ({quota} bytes) is full")]
    Quota {
        /// The quota.
        quota: u64,
    },
    /// The disk or the index failed.
    #[error("blob storage failed: {0}")]
    Io(String),
}

fn io(e: impl std::fmt::Display) -> BlobStoreError {
    BlobStoreError::Io(e.to_string())
}

/// The blob folder and its index.
pub struct BlobStore {
    dir: PathBuf,
    index: Mutex<Connection>,
}

impl BlobStore {
    /// Opens (creating) the folder and its index.
    pub fn open(dir: &Path) -> Result<Self, BlobStoreError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let index = Connection::open(dir.join("index.sqlite")).map_err(io)?;
        index
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE IF NOT EXISTS blobs (
                     hash BLOB PRIMARY KEY, size INTEGER NOT NULL,
                     mime TEXT NOT NULL, uploaded INTEGER NOT NULL);
                 CREATE TABLE IF NOT EXISTS uploaders (
                     hash BLOB NOT NULL, pubkey TEXT NOT NULL, uploaded INTEGER NOT NULL,
                     PRIMARY KEY (pubkey, hash));
                 CREATE INDEX IF NOT EXISTS uploaders_hash ON uploaders (hash);",
            )
            .map_err(io)?;
        Ok(Self {
            dir: dir.to_owned(),
            index: Mutex::new(index),
        })
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn path_of(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.dir.join(&hex[..2]).join(hex)
    }

    /// The blob's record, when it is stored.
    pub fn info(&self, hash: &BlobHash) -> Result<Option<BlobInfo>, BlobStoreError> {
        self.index()
            .query_row(
                "SELECT size, mime, uploaded FROM blobs WHERE hash = ?1",
                [hash.as_bytes().as_slice()],
                |r| {
                    Ok(BlobInfo {
                        hash: *hash,
                        size: r.get::<_, i64>(0)? as u64,
                        mime: r.get(1)?,
                        uploaded: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()
            .map_err(io)
    }

    /// The blob's bytes, when stored.
    pub fn read(&self, hash: &BlobHash) -> Result<Option<(BlobInfo, Vec<u8>)>, BlobStoreError> {
        let Some(info) = self.info(hash)? else {
            return Ok(None);
        };
        match std::fs::read(self.path_of(hash)) {
            Ok(bytes) => Ok(Some((info, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Stores `bytes` (already known to hash to `hash`) for `uploader`
    /// within `quota` bytes in all; a blob already stored only gains an
    /// uploader.
    pub fn put(
        &self,
        hash: &BlobHash,
        bytes: &[u8],
        mime: &str,
        uploader: &str,
        now: u64,
        quota: u64,
    ) -> Result<BlobInfo, BlobStoreError> {
        let existing = self.info(hash)?;
        let info = match existing {
            Some(info) => info,
            None => {
                let (_, used) = self.totals()?;
                if used + bytes.len() as u64 > quota {
                    return Err(BlobStoreError::Quota { quota });
                }
                let path = self.path_of(hash);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let tmp = path.with_extension(format!("part{}", rand::random::<u32>()));
                std::fs::write(&tmp, bytes).map_err(io)?;
                std::fs::rename(&tmp, &path).map_err(io)?;
                let info = BlobInfo {
                    hash: *hash,
                    size: bytes.len() as u64,
                    mime: mime.to_owned(),
                    uploaded: now,
                };
                self.index()
                    .execute(
                        "INSERT OR IGNORE INTO blobs (hash, size, mime, uploaded) VALUES (?1, ?2, ?3, ?4)",
                        params![hash.as_bytes().as_slice(), info.size as i64, mime, now as i64],
                    )
                    .map_err(io)?;
                info
            }
        };
        self.index()
            .execute(
                "INSERT OR IGNORE INTO uploaders (hash, pubkey, uploaded) VALUES (?1, ?2, ?3)",
                params![hash.as_bytes().as_slice(), uploader, now as i64],
            )
            .map_err(io)?;
        Ok(info)
    }

    /// The blobs `uploader` stored, newest first.
    pub fn list(&self, uploader: &str) -> Result<Vec<BlobInfo>, BlobStoreError> {
        let index = self.index();
        let mut stmt = index
            .prepare(
                "SELECT b.hash, b.size, b.mime, u.uploaded FROM uploaders u
                 JOIN blobs b ON b.hash = u.hash WHERE u.pubkey = ?1 ORDER BY u.uploaded DESC",
            )
            .map_err(io)?;
        let rows = stmt
            .query_map([uploader], |r| {
                let raw: Vec<u8> = r.get(0)?;
                Ok((
                    raw,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(io)?;
        let mut out = Vec::new();
        for row in rows {
            let (raw, size, mime, uploaded) = row.map_err(io)?;
            let Some(hash) = BlobHash::parse(&faster_hex::hex_string(&raw)) else {
                continue;
            };
            out.push(BlobInfo {
                hash,
                size: size as u64,
                mime,
                uploaded: uploaded as u64,
            });
        }
        Ok(out)
    }

    /// Whether `uploader` stored the blob.
    pub fn uploaded_by(&self, hash: &BlobHash, uploader: &str) -> Result<bool, BlobStoreError> {
        self.index()
            .query_row(
                "SELECT 1 FROM uploaders WHERE hash = ?1 AND pubkey = ?2",
                params![hash.as_bytes().as_slice(), uploader],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(io)
    }

    /// Removes `uploader`'s claim on the blob (every claim when `uploader`
    /// is `None`, for an admin); the file goes when no claim is left.
    /// Returns whether the file was removed.
    pub fn delete(&self, hash: &BlobHash, uploader: Option<&str>) -> Result<bool, BlobStoreError> {
        let key = hash.as_bytes().as_slice();
        let index = self.index();
        match uploader {
            Some(u) => index.execute(
                "DELETE FROM uploaders WHERE hash = ?1 AND pubkey = ?2",
                params![key, u],
            ),
            None => index.execute("DELETE FROM uploaders WHERE hash = ?1", [key]),
        }
        .map_err(io)?;
        let left: i64 = index
            .query_row(
                "SELECT COUNT(*) FROM uploaders WHERE hash = ?1",
                [key],
                |r| r.get(0),
            )
            .map_err(io)?;
        if left > 0 {
            return Ok(false);
        }
        index
            .execute("DELETE FROM blobs WHERE hash = ?1", [key])
            .map_err(io)?;
        drop(index);
        match std::fs::remove_file(self.path_of(hash)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(e)),
        }
    }

    /// How many blobs and bytes are stored.
    pub fn totals(&self) -> Result<(u64, u64), BlobStoreError> {
        self.index()
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_lists_shares_and_deletes_within_a_quota() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (a, b) = (b"first blob".as_slice(), b"second".as_slice());
        let (ha, hb) = (BlobHash::of(a), BlobHash::of(b));
        store.put(&ha, a, "image/png", "alice", 10, 100).unwrap();
        store.put(&ha, a, "image/png", "bob", 11, 100).unwrap();
        assert!(matches!(
            store.put(&hb, b, "x", "alice", 12, 12),
            Err(BlobStoreError::Quota { .. })
        ));
        assert_eq!(store.totals().unwrap(), (1, a.len() as u64));
        assert_eq!(store.list("bob").unwrap()[0].hash, ha);
        assert_eq!(store.read(&ha).unwrap().unwrap().1, a);
        assert!(
            !store.delete(&ha, Some("alice")).unwrap(),
            "bob still holds it"
        );
        assert!(store.read(&ha).unwrap().is_some());
        assert!(store.delete(&ha, Some("bob")).unwrap());
        assert!(store.read(&ha).unwrap().is_none());
        assert_eq!(store.totals().unwrap(), (0, 0));
    }
}
