//! What a note points at: NIP-92 `imeta` tags, and links that look like
//! images (an image extension, or a blob hash as the last path segment).

use crate::hash::BlobHash;

/// One picture a note references, with what the note says about it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaRef {
    /// Where the note says it is.
    pub url: String,
    /// The blob's SHA-256, from `x` or from the URL; `None` means the bytes
    /// cannot be verified.
    pub hash: Option<BlobHash>,
    /// The MIME type the note declares (informative only: the bytes decide).
    pub mime: Option<String>,
    /// Declared width and height.
    pub dim: Option<(u32, u32)>,
    /// A blurhash placeholder.
    pub blurhash: Option<String>,
    /// Alternative URLs (`fallback`).
    pub fallbacks: Vec<String>,
    /// Alt text.
    pub alt: Option<String>,
}

/// Extensions of the formats we show.
const IMAGE_EXTENSIONS: [&str; 5] = ["png", "jpg", "jpeg", "gif", "webp"];

/// Most media references read from one note (the rest are ignored).
pub const MAX_REFS_PER_NOTE: usize = 16;

impl MediaRef {
    /// Reads the values of one `imeta` tag (`["imeta", "url …", "x …", …]`,
    /// without the tag name); `None` without an `http(s)` url.
    pub fn from_imeta<S: AsRef<str>>(values: &[S]) -> Option<Self> {
        let mut r = MediaRef::default();
        for v in values {
            let Some((key, value)) = v.as_ref().split_once(' ') else {
                continue;
            };
            let value = value.trim();
            match key {
                "url" => r.url = value.to_owned(),
                "x" => r.hash = BlobHash::parse(value),
                "m" => r.mime = Some(value.to_owned()),
                "dim" => r.dim = parse_dim(value),
                "blurhash" if value.len() <= 100 => r.blurhash = Some(value.to_owned()),
                "fallback" if is_http(value) => r.fallbacks.push(value.to_owned()),
                "alt" => r.alt = Some(value.chars().take(500).collect()),
                _ => {}
            }
        }
        if !is_http(&r.url) {
            return None;
        }
        if r.hash.is_none() {
            r.hash = BlobHash::in_url(&r.url);
        }
        Some(r)
    }

    /// A link in a note's text, when it looks like an image: a known
    /// extension, or a blob hash as its last path segment.
    pub fn from_link(url: &str) -> Option<Self> {
        if !is_http(url) {
            return None;
        }
        let hash = BlobHash::in_url(url);
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let last = path.rsplit('/').next().unwrap_or("");
        (hash.is_some() || has_image_extension(last)).then(|| MediaRef {
            url: url.to_owned(),
            hash,
            ..Default::default()
        })
    }

    /// The host part of the URL (for "load from HOST" and the ledger).
    pub fn host(&self) -> &str {
        let rest = self.url.split_once("://").map_or("", |(_, r)| r);
        rest.split(['/', '?', '#']).next().unwrap_or("")
    }
}

/// Whether a file name ends in the extension of a format we show.
pub fn has_image_extension(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, e)| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn is_http(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://")) && url.len() > "https://".len()
}

fn parse_dim(value: &str) -> Option<(u32, u32)> {
    let (w, h) = value.split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

/// The pictures a note references: its `imeta` tags first, then image
/// links in its text that no `imeta` tag already describes. At most
/// [`MAX_REFS_PER_NOTE`].
pub fn media_in_note<'a, T, S>(tags: T, links: impl IntoIterator<Item = &'a str>) -> Vec<MediaRef>
where
    T: IntoIterator<Item = &'a [S]>,
    S: AsRef<str> + 'a,
{
    let mut out: Vec<MediaRef> = tags
        .into_iter()
        .filter(|t| t.first().is_some_and(|n| n.as_ref() == "imeta"))
        .filter_map(|t| MediaRef::from_imeta(&t[1..]))
        .take(MAX_REFS_PER_NOTE)
        .collect();
    for link in links {
        if out.len() >= MAX_REFS_PER_NOTE {
            break;
        }
        if out.iter().any(|r| r.url == link) {
            continue;
        }
        if let Some(r) = MediaRef::from_link(link) {
            out.push(r);
        }
    }
    out
}

/// The `imeta` tag values (tag name first) for an uploaded blob.
pub fn imeta_tag(
    url: &str,
    hash: &BlobHash,
    mime: &str,
    dim: (u32, u32),
    blurhash: Option<&str>,
    fallbacks: &[String],
) -> Vec<String> {
    let mut tag = vec![
        "imeta".to_owned(),
        format!("url {url}"),
        format!("m {mime}"),
        format!("x {hash}"),
        format!("dim {}x{}", dim.0, dim.1),
    ];
    if let Some(b) = blurhash {
        tag.push(format!("blurhash {b}"));
    }
    tag.extend(fallbacks.iter().map(|f| format!("fallback {f}")));
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imeta_and_links_without_duplicates() {
        let h = BlobHash::of(b"pic");
        let url = format!("https://blossom.example/{h}.jpg");
        let tag = imeta_tag(
            &url,
            &h,
            "image/jpeg",
            (640, 480),
            Some("LEHV6nWB2yk8"),
            &[],
        );
        let other = vec!["t".to_owned(), "cats".to_owned()];
        let tags = [tag.as_slice(), other.as_slice()];
        let links = [
            url.as_str(),
            "https://x.example/a.PNG",
            "https://x.example/page",
        ];
        let refs = media_in_note(tags, links);
        assert_eq!(refs.len(), 2, "{refs:?}");
        assert_eq!(refs[0].hash, Some(h));
        assert_eq!(refs[0].dim, Some((640, 480)));
        assert_eq!(refs[0].blurhash.as_deref(), Some("LEHV6nWB2yk8"));
        assert_eq!(refs[0].host(), "blossom.example");
        assert_eq!(refs[1].url, "https://x.example/a.PNG");
        assert_eq!(refs[1].hash, None);
    }

    #[test]
    fn ignores_bad_imeta() {
        assert!(MediaRef::from_imeta(&["url javascript:alert(1)"]).is_none());
        assert!(MediaRef::from_imeta(&["nonsense"]).is_none());
        let r = MediaRef::from_imeta(&["url https://a.example/x.png", "dim 12xq", "x zz"]).unwrap();
        assert_eq!((r.dim, r.hash), (None, None));
        let many: Vec<Vec<String>> = (0..100)
            .map(|i| vec!["imeta".into(), format!("url https://a.example/{i}.png")])
            .collect();
        let refs = media_in_note(many.iter().map(Vec::as_slice), []);
        assert_eq!(refs.len(), MAX_REFS_PER_NOTE);
    }
}
