//! Blossom addresses every blob by the SHA-256 of its bytes (BUD-01), so a
//! client can check what any server handed it.

use std::fmt;

use sha2::{Digest, Sha256};

/// The SHA-256 of a blob, as 32 bytes; shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobHash([u8; 32]);

impl BlobHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// Reads 64 hex digits (either case); `None` for anything else.
    pub fn parse(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        faster_hex::hex_decode(hex.as_bytes(), &mut out).ok()?;
        Some(Self(out))
    }

    /// The hash a URL names in its last path segment (`…/<sha256>` or
    /// `…/<sha256>.<ext>`), as BUD-01 and NIP-B7 define it.
    pub fn in_url(url: &str) -> Option<Self> {
        let path = url.split(['?', '#']).next()?;
        let last = path.rsplit('/').next()?;
        let stem = last.split('.').next()?;
        Self::parse(stem)
    }

    /// Whether `bytes` hash to this.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        Self::of(bytes) == *self
    }

    /// The 64 hex digits.
    pub fn to_hex(&self) -> String {
        faster_hex::hex_string(&self.0)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobHash({})", self.to_hex())
    }
}

/// The SHA-256 of `bytes` in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    BlobHash::of(bytes).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_and_urls() {
        let h = BlobHash::of(b"abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(BlobHash::parse(&h.to_hex().to_uppercase()), Some(h));
        let url = format!("https://cdn.example/{h}.png?x=1");
        assert_eq!(BlobHash::in_url(&url), Some(h));
        assert_eq!(
            BlobHash::in_url(&format!("https://cdn.example/{h}")),
            Some(h)
        );
        assert_eq!(BlobHash::in_url("https://cdn.example/cat.png"), None);
        assert_eq!(BlobHash::parse("zz"), None);
        assert_eq!(BlobHash::parse(&"g".repeat(64)), None);
        assert!(h.matches(b"abc") && !h.matches(b"abd"));
    }
}
