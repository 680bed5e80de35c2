//! Removing what a picture says about where and when it was taken (EXIF,
//! GPS, XMP, IPTC, comments, timestamps) before it leaves the machine.
//!
//! Each format is walked segment by segment and the metadata segments are
//! dropped; the pixels are not re-encoded, so nothing is lost in quality
//! and the result is exactly the input minus those segments.

use crate::format::{sniff, MediaFormat};
use crate::MediaError;

/// A picture with its metadata removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The format (from the bytes).
    pub format: MediaFormat,
    /// The bytes to upload.
    pub bytes: Vec<u8>,
    /// What was removed, one name per segment ("EXIF", "XMP", "comment", …).
    pub removed: Vec<&'static str>,
}

/// Removes metadata from a PNG, JPEG, WebP or GIF.
pub fn strip_metadata(bytes: &[u8]) -> Result<Stripped, MediaError> {
    let format = sniff(bytes)?;
    let mut removed = Vec::new();
    let out = match format {
        MediaFormat::Jpeg => jpeg(bytes, &mut removed),
        MediaFormat::Png => png(bytes, &mut removed),
        MediaFormat::Webp => webp(bytes, &mut removed),
        MediaFormat::Gif => gif(bytes, &mut removed),
    }
    .ok_or_else(|| MediaError::Damaged {
        format: format.name(),
        detail: "its segments do not add up".into(),
    })?;
    Ok(Stripped {
        format,
        bytes: out,
        removed,
    })
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

/// JPEG: keeps JFIF (APP0), ICC profiles (APP2 `ICC_PROFILE`) and Adobe's
/// colour transform (APP14); drops every other APPn (EXIF and XMP live in
/// APP1, IPTC in APP13) and comments.
fn jpeg(b: &[u8], removed: &mut Vec<&'static str>) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    while i < b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        match marker {
            0xFF => {
                i += 1; // fill byte
                continue;
            }
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[i..i + 2]);
                i += 2;
                continue;
            }
            0xD9 => {
                out.extend_from_slice(&b[i..i + 2]);
                return Some(out); // trailing bytes after EOI are dropped
            }
            _ => {}
        }
        let len = be16(b, i + 2)?;
        let end = i + 2 + len;
        let segment = b.get(i..end)?;
        let payload = &segment[4..];
        let drop = match marker {
            0xE1 if payload.starts_with(b"Exif\0") => Some("EXIF"),
            0xE1 => Some("XMP"),
            0xE2 if payload.starts_with(b"ICC_PROFILE\0") => None,
            0xED => Some("IPTC"),
            0xE0 | 0xEE => None,
            0xE2..=0xEF => Some("APP segment"),
            0xFE => Some("comment"),
            _ => None,
        };
        match drop {
            Some(name) => removed.push(name),
            None => out.extend_from_slice(segment),
        }
        i = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither a
            // stuffed zero nor a restart marker.
            let start = i;
            while i + 1 < b.len()
                && !(b[i] == 0xFF && b[i + 1] != 0 && !(0xD0..=0xD7).contains(&b[i + 1]))
            {
                i += 1;
            }
            if i + 1 >= b.len() {
                i = b.len();
            }
            out.extend_from_slice(&b[start..i]);
        }
    }
    Some(out)
}

/// PNG: drops `eXIf`, text chunks (`tEXt`, `zTXt`, `iTXt`) and `tIME`.
fn png(b: &[u8], removed: &mut Vec<&'static str>) -> Option<Vec<u8>> {
    let mut out = b[..8].to_vec();
    let mut i = 8;
    while i < b.len() {
        let len = u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize;
        let kind = b.get(i + 4..i + 8)?;
        let end = i.checked_add(12)?.checked_add(len)?;
        let chunk = b.get(i..end)?;
        let drop = match kind {
            b"eXIf" => Some("EXIF"),
            b"tEXt" | b"zTXt" | b"iTXt" => Some("text"),
            b"tIME" => Some("timestamp"),
            _ => None,
        };
        match drop {
            Some(name) => removed.push(name),
            None => out.extend_from_slice(chunk),
        }
        i = end;
        if kind == b"IEND" {
            break;
        }
    }
    Some(out)
}

/// WebP: drops the `EXIF` and `XMP ` chunks and clears their flags in `VP8X`.
fn webp(b: &[u8], removed: &mut Vec<&'static str>) -> Option<Vec<u8>> {
    let mut out = b[..12].to_vec();
    let mut i = 12;
    while i + 8 <= b.len() {
        let kind = &b[i..i + 4];
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().ok()?) as usize;
        let end = i.checked_add(8)?.checked_add(len)?.checked_add(len & 1)?;
        let chunk = b.get(i..end.min(b.len()))?;
        if chunk.len() < 8 + len {
            return None;
        }
        match kind {
            b"EXIF" => removed.push("EXIF"),
            b"XMP " => removed.push("XMP"),
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(chunk);
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !(0x08 | 0x04);
                }
            }
            _ => out.extend_from_slice(chunk),
        }
        i = end;
    }
    let riff = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Some(out)
}

/// GIF: drops comment extensions and application extensions other than the
/// looping ones (`NETSCAPE2.0`, `ANIMEXTS1.0`); XMP rides in the latter kind.
fn gif(b: &[u8], removed: &mut Vec<&'static str>) -> Option<Vec<u8>> {
    let sub_blocks_end = |mut i: usize| -> Option<usize> {
        loop {
            let n = *b.get(i)? as usize;
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    };
    let packed = *b.get(10)?;
    let mut i = 13;
    if packed & 0x80 != 0 {
        i += 3 * (1 << ((packed & 0x07) + 1));
    }
    let mut out = b.get(..i)?.to_vec();
    loop {
        match *b.get(i)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
            }
            0x21 => {
                let label = *b.get(i + 1)?;
                let end = sub_blocks_end(i + 2)?;
                let app_id = b.get(i + 3..i + 14);
                let drop = match label {
                    0xFE => Some("comment"),
                    0xFF if !matches!(app_id, Some(b"NETSCAPE2.0") | Some(b"ANIMEXTS1.0")) => {
                        Some("application data")
                    }
                    _ => None,
                };
                match drop {
                    Some(name) => removed.push(name),
                    None => out.extend_from_slice(b.get(i..end)?),
                }
                i = end;
            }
            0x2C => {
                let packed = *b.get(i + 9)?;
                let mut j = i + 10;
                if packed & 0x80 != 0 {
                    j += 3 * (1 << ((packed & 0x07) + 1));
                }
                let end = sub_blocks_end(j + 1)?;
                out.extend_from_slice(b.get(i..end)?);
                i = end;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG-shaped byte string: SOI, APP0, APP1 EXIF with a GPS
    /// marker, COM, SOS with stuffed bytes, EOI.
    fn jpeg_with_exif() -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        b.extend([0xFF, 0xE0, 0x00, 0x07]);
        b.extend(b"JFIF\0");
        let exif = b"Exif\0\0GPSLatitude 52.52";
        b.extend([0xFF, 0xE1, 0x00, (exif.len() + 2) as u8]);
        b.extend(exif);
        b.extend([0xFF, 0xFE, 0x00, 0x05]);
        b.extend(b"hi!");
        b.extend([
            0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56,
        ]);
        b.extend([0xFF, 0xD9]);
        b
    }

    #[test]
    fn jpeg_loses_exif_and_comments_keeps_the_scan() {
        let s = strip_metadata(&jpeg_with_exif()).unwrap();
        assert_eq!(s.removed, vec!["EXIF", "comment"]);
        let hay = String::from_utf8_lossy(&s.bytes);
        assert!(!hay.contains("GPS") && !hay.contains("Exif") && hay.contains("JFIF"));
        assert!(s
            .bytes
            .ends_with(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9]));
    }

    #[test]
    fn png_loses_text_and_exif() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend(kind);
            c.extend(data);
            c.extend([0; 4]);
            c
        };
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend(chunk(b"IHDR", &[0; 13]));
        b.extend(chunk(b"tEXt", b"Author\0me"));
        b.extend(chunk(b"eXIf", b"MM\0*GPS"));
        b.extend(chunk(b"IDAT", b"pixels"));
        b.extend(chunk(b"IEND", b""));
        let s = strip_metadata(&b).unwrap();
        assert_eq!(s.removed, vec!["text", "EXIF"]);
        assert!(!String::from_utf8_lossy(&s.bytes).contains("GPS"));
        assert!(String::from_utf8_lossy(&s.bytes).contains("IDAT"));
    }

    #[test]
    fn webp_loses_exif_and_fixes_sizes() {
        let mut b = b"RIFF\0\0\0\0WEBP".to_vec();
        b.extend(b"VP8X");
        b.extend(10u32.to_le_bytes());
        b.extend([0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        b.extend(b"EXIF");
        b.extend(3u32.to_le_bytes());
        b.extend(b"GPS\0");
        let len = (b.len() - 8) as u32;
        b[4..8].copy_from_slice(&len.to_le_bytes());
        let s = strip_metadata(&b).unwrap();
        assert_eq!(s.removed, vec!["EXIF"]);
        assert_eq!(s.bytes[20], 0, "EXIF and XMP flags cleared");
        assert_eq!(
            u32::from_le_bytes(s.bytes[4..8].try_into().unwrap()) as usize,
            s.bytes.len() - 8
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF][..],
            b"\x89PNG\r\n\x1a\n\xFF\xFF\xFF\xFFIHDR",
            b"RIFF\0\0\0\0WEBPVP8 \xFF\xFF\xFF\xFF",
            b"GIF89a\x01\0\x01\0\xF7",
        ] {
            assert!(strip_metadata(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..200), which in 0usize..4) {
            let head: &[u8] = [&[0xFF, 0xD8, 0xFF][..], b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP", b"GIF89a"][which];
            let mut b = head.to_vec();
            b.extend(tail);
            let _ = strip_metadata(&b);
        }
    }
}
