//! Media for Samizdat, as pure functions: no sockets, no files, no threads.
//!
//! - [`hash`]: Blossom blob hashes (SHA-256), read from URLs and checked
//!   against bytes.
//! - [`reference`]: what a note points at (NIP-92 `imeta` tags and image
//!   links), and the `imeta` tag an upload gets.
//! - [`format`]: the raster formats we accept, sniffed from the bytes
//!   (never from a name or a server's `Content-Type`).
//! - [`strip`]: removing EXIF, GPS, XMP and comments before an upload,
//!   segment by segment, without re-encoding.
//! - [`decode`] (feature `decode`): decoding under caps on bytes, pixels and
//!   frames that are checked before anything is allocated, and blurhash.

#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod format;
pub mod hash;
pub mod reference;
pub mod strip;

#[cfg(feature = "decode")]
pub mod decode;
#[cfg(feature = "decode")]
pub mod samples;

pub use format::{sniff, MediaFormat};
pub use hash::{sha256_hex, BlobHash};
pub use reference::{has_image_extension, imeta_tag, media_in_note, MediaRef};
pub use strip::{strip_metadata, Stripped};

#[cfg(feature = "decode")]
pub use decode::{
    blurhash_of, blurhash_pixels, decode, measure, probe, Caps, Decoded, Frame, Measured,
};

/// Why media was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The bytes are not one of the raster formats we decode.
    #[error("not a supported image (PNG, JPEG, WebP or GIF): {0}")]
    Unsupported(String),
    /// More bytes than the cap.
    #[error("{bytes} bytes is more than the {cap}-byte cap")]
    TooManyBytes {
        /// Size of the input.
        bytes: usize,
        /// The cap.
        cap: usize,
    },
    /// The header declares more pixels than the cap (a decompression bomb,
    /// or simply too large); refused before any pixel buffer exists.
    #[error("{width}×{height} pixels is more than the {cap}-pixel cap")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The cap.
        cap: u64,
    },
    /// Decoding would need more memory than the cap (checked by the
    /// decoder before it allocates).
    #[error("decoding needs more than the {cap}-byte memory cap")]
    OverMemoryCap {
        /// The cap.
        cap: u64,
    },
    /// The image is damaged or its structure is not what its format says.
    #[error("damaged {format} image: {detail}")]
    Damaged {
        /// The format it claimed to be.
        format: &'static str,
        /// What was wrong.
        detail: String,
    },
}
