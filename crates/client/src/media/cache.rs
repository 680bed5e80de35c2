//! The on-disk picture cache: one file per blob, named by its hash (or, for
//! a link without a hash, by the hash of the link), trimmed to a size limit
//! by dropping the least recently used. A cached blob is checked against
//! its hash again when read, so a damaged file is dropped, never shown.
//!
//! The folder is scanned once a session (and whenever it goes over its
//! limit); between scans the session keeps the count and size in memory,
//! so a write costs the write.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use samizdat_media::BlobHash;

/// What the cache holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Files kept.
    pub files: usize,
    /// Bytes kept.
    pub bytes: u64,
    /// Files dropped by the last trim.
    pub evicted: usize,
}

/// Files and bytes in the cache, once a scan has counted them.
#[derive(Debug, Default)]
pub(crate) struct CacheTotals(Mutex<Option<(usize, u64)>>);

impl CacheTotals {
    fn get(&self) -> Option<(usize, u64)> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, totals: Option<(usize, u64)>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = totals;
    }
}

/// A cache folder and its size limit.
#[derive(Debug, Clone)]
pub struct MediaCache {
    dir: PathBuf,
    limit: u64,
    totals: Arc<CacheTotals>,
}

/// What a cache entry is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheKey<'a> {
    /// A blob with a known hash (checked on every read).
    Blob(&'a BlobHash),
    /// A link without a hash (its bytes cannot be checked).
    Link(&'a str),
}

impl MediaCache {
    /// The cache in `dir`, trimmed to `limit_bytes`.
    pub fn new(dir: PathBuf, limit_bytes: u64) -> Self {
        Self::with_totals(dir, limit_bytes, Arc::default())
    }

    /// The cache with totals shared with the session's other handles.
    pub(crate) fn with_totals(dir: PathBuf, limit_bytes: u64, totals: Arc<CacheTotals>) -> Self {
        Self {
            dir,
            limit: limit_bytes,
            totals,
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: CacheKey<'_>) -> PathBuf {
        match key {
            CacheKey::Blob(h) => self.dir.join(h.to_hex()),
            CacheKey::Link(url) => self
                .dir
                .join(format!("link-{}", BlobHash::of(url.as_bytes()))),
        }
    }

    /// The cached bytes, if any (and, for a blob, if they still match).
    pub(crate) fn get(&self, key: CacheKey<'_>) -> Option<Vec<u8>> {
        let path = self.path(key);
        let bytes = std::fs::read(&path).ok()?;
        if let CacheKey::Blob(h) = key {
            if !h.matches(&bytes) {
                tracing::warn!(blob = %h, "a cached blob no longer matches its hash; dropped");
                let _ = std::fs::remove_file(&path);
                self.totals.set(None);
                return None;
            }
        }
        // Touch: the trim drops the least recently used.
        if let Ok(f) = std::fs::File::options().append(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(bytes)
    }

    /// Keeps `bytes`; trims the cache when it goes over its limit.
    pub(crate) fn put(&self, key: CacheKey<'_>, bytes: &[u8]) -> CacheStats {
        let path = self.path(key);
        let replaced = path.exists();
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| {
            let tmp = path.with_extension(format!("part{}", rand::random::<u32>()));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path)
        });
        if let Err(e) = written {
            tracing::debug!(error = %e, "picture not cached");
            self.totals.set(None);
        }
        match self.totals.get().filter(|_| !replaced) {
            Some((files, total)) if total + bytes.len() as u64 <= self.limit => {
                let (files, total) = (files + 1, total + bytes.len() as u64);
                self.totals.set(Some((files, total)));
                CacheStats {
                    files,
                    bytes: total,
                    evicted: 0,
                }
            }
            // Over the limit: trimmed to 90% of it, so the next writes do
            // not each rescan the folder.
            _ => self.evict_to(self.limit - self.limit / 10),
        }
    }

    /// Drops the least recently used files until the cache is at most its
    /// limit, and says what is left.
    pub fn evict(&self) -> CacheStats {
        self.evict_to(self.limit)
    }

    fn evict_to(&self, target: u64) -> CacheStats {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            self.totals.set(Some((0, 0)));
            return CacheStats::default();
        };
        let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| {
                    (
                        meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                        meta.len(),
                        e.path(),
                    )
                })
            })
            .collect();
        let mut bytes: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        let mut evicted = 0;
        for (_, len, path) in &files {
            if bytes <= target {
                break;
            }
            if std::fs::remove_file(path).is_ok() {
                bytes -= len;
                evicted += 1;
            }
        }
        self.totals.set(Some((files.len() - evicted, bytes)));
        CacheStats {
            files: files.len() - evicted,
            bytes,
            evicted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_checks_and_trims_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = MediaCache::new(dir.path().join("media"), 25);
        let blobs: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8; 10]).collect();
        let hashes: Vec<BlobHash> = blobs.iter().map(|b| BlobHash::of(b)).collect();
        cache.put(CacheKey::Blob(&hashes[0]), &blobs[0]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.put(CacheKey::Blob(&hashes[1]), &blobs[1]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(
            cache.get(CacheKey::Blob(&hashes[0])).is_some(),
            "touched: now the newest"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        let stats = cache.put(CacheKey::Blob(&hashes[2]), &blobs[2]);
        assert_eq!((stats.files, stats.bytes, stats.evicted), (2, 20, 1));
        assert!(
            cache.get(CacheKey::Blob(&hashes[1])).is_none(),
            "the least recently used went"
        );
        // A file that no longer matches its hash is dropped, not served.
        std::fs::write(cache.path(CacheKey::Blob(&hashes[2])), b"tampered").unwrap();
        assert!(cache.get(CacheKey::Blob(&hashes[2])).is_none());
        assert!(!cache.path(CacheKey::Blob(&hashes[2])).exists());
        cache.put(CacheKey::Link("https://x.example/a.png"), b"link");
        assert_eq!(
            cache
                .get(CacheKey::Link("https://x.example/a.png"))
                .unwrap(),
            b"link"
        );
    }
}
