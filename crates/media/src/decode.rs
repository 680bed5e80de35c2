//! Decoding under caps. The header is read first and the declared size is
//! checked against the caps before any pixel buffer exists, so a small
//! file that declares 100,000 × 100,000 pixels is refused in microseconds
//! instead of allocating 40 GB. The decoder also gets a memory limit, as a
//! second line for formats whose header understates what decoding needs.

use std::io::Cursor;

use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageReader, Limits, RgbaImage};

use crate::format::{sniff, MediaFormat};
use crate::MediaError;

/// Limits on what is decoded; the defaults suit a desktop client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Largest input, in bytes.
    pub max_bytes: usize,
    /// Largest declared width × height.
    pub max_pixels: u64,
    /// Most animation frames kept (the rest are not decoded).
    pub max_frames: usize,
    /// Longest side of what is returned: larger images are scaled down, so
    /// the UI holds a screen's worth of pixels, not a camera's.
    pub max_side: u32,
    /// Most memory the decoder may allocate, and most bytes of frames kept.
    pub max_alloc: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            max_bytes: 32 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_frames: 100,
            max_side: 2048,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// One frame, RGBA8, `Decoded::shown` in size.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Pixels, row by row, 4 bytes each.
    pub rgba: Vec<u8>,
    /// How long the frame shows (0 for a still image).
    pub delay_ms: u32,
}

/// A decoded picture, ready for a texture.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The format of the bytes.
    pub format: MediaFormat,
    /// Width and height the file declares.
    pub original: (u32, u32),
    /// Width and height of the frames (scaled to fit `Caps::max_side`).
    pub shown: (u32, u32),
    /// One frame for a still image, several for an animation.
    pub frames: Vec<Frame>,
}

/// The format and declared size of `bytes`, checked against the caps
/// without decoding any pixel.
pub fn probe(bytes: &[u8], caps: &Caps) -> Result<(MediaFormat, u32, u32), MediaError> {
    if bytes.len() > caps.max_bytes {
        return Err(MediaError::TooManyBytes {
            bytes: bytes.len(),
            cap: caps.max_bytes,
        });
    }
    let format = sniff(bytes)?;
    let (width, height) = reader(bytes, format, caps)
        .into_dimensions()
        .map_err(|e| damaged(format, e, caps))?;
    if width == 0 || height == 0 {
        return Err(MediaError::Damaged {
            format: format.name(),
            detail: "it declares zero pixels".into(),
        });
    }
    if u64::from(width) * u64::from(height) > caps.max_pixels {
        return Err(MediaError::TooManyPixels {
            width,
            height,
            cap: caps.max_pixels,
        });
    }
    Ok((format, width, height))
}

/// Decodes `bytes` within `caps`: still images to one frame, GIF
/// animations to at most `max_frames` frames.
pub fn decode(bytes: &[u8], caps: &Caps) -> Result<Decoded, MediaError> {
    let (format, width, height) = probe(bytes, caps)?;
    let shown = fit((width, height), caps.max_side);
    let frames = if format == MediaFormat::Gif {
        gif_frames(bytes, caps, shown)?
    } else {
        let image = reader(bytes, format, caps)
            .decode()
            .map_err(|e| damaged(format, e, caps))?;
        vec![Frame {
            rgba: scaled(image, shown).into_raw(),
            delay_ms: 0,
        }]
    };
    Ok(Decoded {
        format,
        original: (width, height),
        shown,
        frames,
    })
}

fn reader<'a>(bytes: &'a [u8], format: MediaFormat, caps: &Caps) -> ImageReader<Cursor<&'a [u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format(format));
    reader.limits(limits(caps));
    reader
}

fn limits(caps: &Caps) -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(caps.max_alloc);
    let side = u32::try_from(caps.max_pixels.min(u64::from(u32::MAX))).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits
}

fn image_format(format: MediaFormat) -> image::ImageFormat {
    match format {
        MediaFormat::Png => image::ImageFormat::Png,
        MediaFormat::Jpeg => image::ImageFormat::Jpeg,
        MediaFormat::Webp => image::ImageFormat::WebP,
        MediaFormat::Gif => image::ImageFormat::Gif,
    }
}

fn damaged(format: MediaFormat, e: image::ImageError, caps: &Caps) -> MediaError {
    match e {
        image::ImageError::Limits(_) => MediaError::OverMemoryCap {
            cap: caps.max_alloc,
        },
        other => MediaError::Damaged {
            format: format.name(),
            detail: other.to_string(),
        },
    }
}

/// The largest size with the same aspect ratio whose longer side is at most `max_side`.
fn fit((w, h): (u32, u32), max_side: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max_side {
        return (w, h);
    }
    let scale = |x: u32| ((u64::from(x) * u64::from(max_side)) / u64::from(longest)).max(1) as u32;
    (scale(w), scale(h))
}

fn scaled(image: DynamicImage, shown: (u32, u32)) -> RgbaImage {
    if (image.width(), image.height()) == shown {
        image.into_rgba8()
    } else {
        image::imageops::thumbnail(&image, shown.0, shown.1)
    }
}

fn gif_frames(bytes: &[u8], caps: &Caps, shown: (u32, u32)) -> Result<Vec<Frame>, MediaError> {
    let format = MediaFormat::Gif;
    let mut decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
        .map_err(|e| damaged(format, e, caps))?;
    decoder
        .set_limits(limits(caps))
        .map_err(|e| damaged(format, e, caps))?;
    let frame_bytes = u64::from(shown.0) * u64::from(shown.1) * 4;
    let keep = (caps.max_alloc / frame_bytes.max(1)).min(caps.max_frames as u64) as usize;
    let mut frames = Vec::new();
    for frame in decoder.into_frames().take(keep.max(1)) {
        let frame = match frame {
            Ok(f) => f,
            // A damaged later frame ends the animation; a damaged first one
            // is an error.
            Err(e) if frames.is_empty() => return Err(damaged(format, e, caps)),
            Err(_) => break,
        };
        let (num, den) = frame.delay().numer_denom_ms();
        let delay_ms = num.checked_div(den).unwrap_or(100);
        let buffer = frame.into_buffer();
        let rgba = if buffer.dimensions() == shown {
            buffer
        } else {
            image::imageops::thumbnail(&buffer, shown.0, shown.1)
        };
        frames.push(Frame {
            rgba: rgba.into_raw(),
            delay_ms,
        });
    }
    Ok(frames)
}

/// What an `imeta` tag says of a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measured {
    /// Its format.
    pub format: MediaFormat,
    /// The width and height it declares.
    pub size: (u32, u32),
    /// A blurhash of its first frame.
    pub blurhash: Option<String>,
}

/// Measures a picture for its `imeta` tag (decoded within `caps`).
pub fn measure(bytes: &[u8], caps: &Caps) -> Result<Measured, MediaError> {
    let decoded = decode(bytes, caps)?;
    let blurhash = decoded
        .frames
        .first()
        .and_then(|f| blurhash_of(&f.rgba, decoded.shown.0, decoded.shown.1));
    Ok(Measured {
        format: decoded.format,
        size: decoded.original,
        blurhash,
    })
}

/// A blurhash (4 × 3 components) of an RGBA image, computed on a 32-pixel
/// thumbnail so it costs the same for any size.
pub fn blurhash_of(rgba: &[u8], width: u32, height: u32) -> Option<String> {
    let image = RgbaImage::from_raw(width, height, rgba.to_vec())?;
    let (w, h) = fit((width, height), 32);
    let small = image::imageops::thumbnail(&image, w, h);
    blurhash::encode(4, 3, w, h, small.as_raw()).ok()
}

/// The RGBA pixels of a blurhash at `width` × `height` (small: it is a
/// placeholder); `None` for an invalid hash.
pub fn blurhash_pixels(hash: &str, width: u32, height: u32) -> Option<Vec<u8>> {
    if width == 0 || height == 0 || width > 256 || height > 256 {
        return None;
    }
    blurhash::decode(hash, width, height, 1.0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::{gradient_png as png, png_bomb as bomb_header};

    #[test]
    fn decodes_and_scales_down() {
        let d = decode(
            &png(300, 100, 0),
            &Caps {
                max_side: 150,
                ..Caps::default()
            },
        )
        .unwrap();
        assert_eq!((d.original, d.shown), ((300, 100), (150, 50)));
        assert_eq!(d.frames[0].rgba.len(), 150 * 50 * 4);
        let hash = blurhash_of(&d.frames[0].rgba, 150, 50).unwrap();
        assert_eq!(blurhash_pixels(&hash, 16, 16).unwrap().len(), 16 * 16 * 4);
        assert!(blurhash_pixels("nonsense", 16, 16).is_none());
    }

    #[test]
    fn a_stripped_photo_has_no_gps_and_still_decodes() {
        let photo = crate::samples::photo_jpeg_with_gps(64, 48);
        assert!(photo
            .windows(crate::samples::GPS_MARKER.len())
            .any(|w| w == crate::samples::GPS_MARKER));
        let stripped = crate::strip_metadata(&photo).unwrap();
        assert_eq!(stripped.removed, vec!["EXIF"]);
        assert!(!stripped
            .bytes
            .windows(4)
            .any(|w| w == b"Exif" || w == b"GPSL"));
        assert_eq!(
            decode(&stripped.bytes, &Caps::default()).unwrap().original,
            (64, 48)
        );
    }

    #[test]
    fn a_bomb_is_refused_before_allocation() {
        let err = decode(&bomb_header(100_000, 100_000), &Caps::default()).unwrap_err();
        assert!(
            matches!(err, MediaError::TooManyPixels { width: 100_000, .. }),
            "{err}"
        );
        let small_caps = Caps {
            max_bytes: 10,
            ..Caps::default()
        };
        assert!(matches!(
            decode(&png(4, 4, 0), &small_caps),
            Err(MediaError::TooManyBytes { .. })
        ));
        assert!(matches!(
            decode(b"\x89PNG\r\n\x1a\ngarbage", &Caps::default()),
            Err(MediaError::Damaged { .. })
        ));
    }
}
