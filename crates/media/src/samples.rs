//! Generated pictures: the demo network's images, and the awkward inputs
//! the tests feed the client (a decompression bomb, a photo with GPS EXIF).

use std::io::Cursor;

use image::{Rgb, RgbImage, Rgba, RgbaImage};

/// A PNG of `width` × `height` with a colourful gradient; `seed` varies the
/// colours so that each demo picture has its own hash.
pub fn gradient_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    // Smooth ramps (no wrap-around), the seed picking which channel runs
    // along which axis and a base tint.
    let tint = (seed.wrapping_mul(2_654_435_761) >> 24) as u8 / 3;
    let image = RgbaImage::from_fn(width, height, |x, y| {
        let across = (x * 170 / width.max(1)) as u8;
        let down = (y * 170 / height.max(1)) as u8;
        let diagonal = ((x + y) * 120 / (width + height).max(1)) as u8;
        let [a, b, c] = match seed % 3 {
            0 => [across, down, diagonal],
            1 => [down, diagonal, across],
            _ => [diagonal, across, down],
        };
        Rgba([a + tint, b + 85 - tint / 2, c + tint / 2, 255])
    });
    encode(&image, image::ImageFormat::Png)
}

/// A JPEG of `width` × `height` (a gradient at quality 85), like a phone
/// photo without its metadata.
pub fn photo_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    // Encoding an in-memory buffer to a Vec cannot fail.
    let _ = image.write_with_encoder(encoder);
    out
}

/// A JPEG of `width` × `height` with noisy content (quality 85), about the
/// size a phone photo of that many pixels is; `seed` makes each one unique.
pub fn noisy_jpeg(width: u32, height: u32, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let image = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state & 0x3F) as u8;
        Rgb([
            ((x * 180 / width.max(1)) as u8).saturating_add(n),
            ((y * 180 / height.max(1)) as u8).saturating_add(n / 2),
            n.saturating_mul(3),
        ])
    });
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    // Encoding an in-memory buffer to a Vec cannot fail.
    let _ = image.write_with_encoder(encoder);
    out
}

/// The text the GPS sample carries, to look for in uploaded bytes.
pub const GPS_MARKER: &[u8] = b"GPSLatitude=52.5200N";

/// A JPEG with an APP1 EXIF segment carrying GPS data, as a phone writes.
pub fn photo_jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let jpeg = photo_jpeg(width, height);
    let mut payload = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    payload.extend(GPS_MARKER);
    let mut out = jpeg[..2].to_vec();
    out.extend([0xFF, 0xE1]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
    out.extend(&jpeg[2..]);
    out
}

/// A valid PNG of a few dozen bytes that declares `width` × `height`
/// pixels: a decompression bomb's header.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    // A tiny zlib stream (one empty stored block), then the end.
    let idat = [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1];
    for (kind, data) in [
        (b"IHDR", &ihdr[..]),
        (b"IDAT", &idat[..]),
        (b"IEND", &[][..]),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        b.extend((data.len() as u32).to_be_bytes());
        b.extend(&chunk);
        b.extend(crc32(&chunk).to_be_bytes());
    }
    b
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn encode(image: &RgbaImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    // Encoding an in-memory buffer to a Vec cannot fail.
    let _ = image.write_to(&mut Cursor::new(&mut out), format);
    out
}
