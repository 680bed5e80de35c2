//! The raster formats Samizdat shows, told apart by their first bytes.
//! Nothing else is decoded: no SVG (it can run script and fetch), no
//! formats whose decoders we have not vetted.

use crate::MediaError;

/// A format we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    /// PNG.
    Png,
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// WebP (lossy, lossless, or extended).
    Webp,
    /// GIF (87a or 89a).
    Gif,
}

impl MediaFormat {
    /// The MIME type of the format.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Jpeg => "JPEG",
            Self::Webp => "WebP",
            Self::Gif => "GIF",
        }
    }
}

/// The format of `bytes`, from their signature.
pub fn sniff(bytes: &[u8]) -> Result<MediaFormat, MediaError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(MediaFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(MediaFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Ok(MediaFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(MediaFormat::Webp)
    } else {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(16)]).into_owned();
        let what = if head.trim_start().starts_with('<') {
            "markup (SVG or HTML) is never rendered".to_owned()
        } else {
            format!("unknown signature {:?}", head.escape_debug().to_string())
        };
        Err(MediaError::Unsupported(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_signatures_and_refuses_svg() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), MediaFormat::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), MediaFormat::Jpeg);
        assert_eq!(sniff(b"GIF89a...").unwrap(), MediaFormat::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), MediaFormat::Webp);
        let svg = sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>").unwrap_err();
        assert!(svg.to_string().contains("SVG"), "{svg}");
        assert!(sniff(b"").is_err());
    }
}
