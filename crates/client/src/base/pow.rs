//! NIP-13 proof of work: a `nonce` tag (value and target) chosen so the
//! event id starts with at least `difficulty` zero bits. The miner hashes
//! the event's NIP-01 serialization the way `EventId::compute` does, with
//! the SHA-256 state of everything before the nonce computed once and
//! cloned per try, on every core; it reports progress and stops when told.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nostr::prelude::*;
use sha2::{Digest, Sha256};

/// How mining is going (shared with a progress bar or a UI).
#[derive(Debug, Default)]
pub struct PowProgress {
    /// Hashes tried so far.
    pub hashes: AtomicU64,
    /// Set to stop mining (nothing is published).
    pub cancel: AtomicBool,
}

impl PowProgress {
    /// A fresh progress record.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Expected number of hashes for `difficulty` bits.
    pub fn expected_hashes(difficulty: u8) -> f64 {
        2f64.powi(i32::from(difficulty))
    }
}

/// Why mining stopped without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PowError {
    /// The user cancelled.
    #[error("proof of work cancelled; nothing was published")]
    Cancelled,
    /// More than 64 bits asked (not reachable; refused).
    #[error("difficulty {0} is too high (at most 64)")]
    TooHard(u8),
}

/// Leading zero bits of a hash (NIP-13).
pub fn leading_zero_bits(hash: &[u8]) -> u8 {
    let mut bits = 0u8;
    for b in hash {
        if *b == 0 {
            bits = bits.saturating_add(8);
        } else {
            return bits.saturating_add(b.leading_zeros() as u8);
        }
    }
    bits
}

const MARK: &str = "\u{1}samizdat-nonce\u{1}";

/// The serialization split around the nonce value.
struct Template {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

fn template(unsigned: &UnsignedEvent, difficulty: u8) -> Option<(Template, Tags)> {
    let mut tags: Vec<Tag> = unsigned
        .tags
        .iter()
        .filter(|t| t.as_slice().first().map(String::as_str) != Some("nonce"))
        .cloned()
        .collect();
    tags.push(Tag::parse(["nonce", MARK, &difficulty.to_string()]).ok()?);
    let tags = Tags::from_list(tags);
    let json = serde_json::to_vec(&(
        0u8,
        &unsigned.pubkey,
        &unsigned.created_at,
        &unsigned.kind,
        &tags,
        &unsigned.content,
    ))
    .ok()?;
    let mark = serde_json::to_string(MARK).ok()?;
    let mark = mark.trim_matches('"').as_bytes().to_vec();
    let at = json
        .windows(mark.len())
        .position(|w| w == mark.as_slice())?;
    Some((
        Template {
            prefix: json[..at].to_vec(),
            suffix: json[at + mark.len()..].to_vec(),
        },
        tags,
    ))
}

/// Mines `unsigned` (any `nonce` tag is replaced) to `difficulty` bits on
/// `threads` threads. Blocking: call it on a blocking thread.
pub fn mine(
    unsigned: &UnsignedEvent,
    difficulty: u8,
    threads: usize,
    progress: &PowProgress,
) -> Result<UnsignedEvent, PowError> {
    if difficulty > 64 {
        return Err(PowError::TooHard(difficulty));
    }
    let Some((t, tags)) = template(unsigned, difficulty) else {
        return Err(PowError::Cancelled);
    };
    let mut base = Sha256::new();
    base.update(&t.prefix);
    let found = AtomicU64::new(u64::MAX);
    let done = AtomicBool::new(false);
    let threads = threads.max(1) as u64;
    std::thread::scope(|scope| {
        for start in 0..threads {
            let (base, t, found, done) = (&base, &t, &found, &done);
            scope.spawn(move || {
                let mut nonce = start;
                let mut digits = itoa::Buffer::new();
                let mut since = 0u64;
                loop {
                    let mut h = base.clone();
                    h.update(digits.format(nonce).as_bytes());
                    h.update(&t.suffix);
                    if leading_zero_bits(&h.finalize()) >= difficulty {
                        found.fetch_min(nonce, Ordering::SeqCst);
                        done.store(true, Ordering::SeqCst);
                    }
                    since += 1;
                    if since == 1024 {
                        progress.hashes.fetch_add(since, Ordering::Relaxed);
                        since = 0;
                        if done.load(Ordering::Relaxed) || progress.cancel.load(Ordering::Relaxed) {
                            return;
                        }
                    }
                    nonce += threads;
                }
            });
        }
    });
    let nonce = found.load(Ordering::SeqCst);
    if nonce == u64::MAX {
        return Err(PowError::Cancelled);
    }
    let tags: Vec<Tag> = tags
        .into_iter()
        .map(|tag| {
            if tag.as_slice().first().map(String::as_str) == Some("nonce") {
                Tag::parse(["nonce", &nonce.to_string(), &difficulty.to_string()]).unwrap_or(tag)
            } else {
                tag
            }
        })
        .collect();
    let mut mined = UnsignedEvent::new(
        unsigned.pubkey,
        unsigned.created_at,
        unsigned.kind,
        tags,
        unsigned.content.clone(),
    );
    mined.ensure_id();
    Ok(mined)
}

/// What `samizdat bench pow` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PowBench {
    /// Our miner's rate on all cores (hashes per second).
    pub hashes_per_s: f64,
    /// Plain SHA-256 of the same message, from scratch, on one core.
    pub raw_sha256_per_s_one_core: f64,
    /// Cores used by the miner.
    pub cores: usize,
    /// `hashes_per_s / (raw × cores)`: at least 0.8 is the goal.
    pub ratio: f64,
    /// Bytes hashed per try.
    pub message_bytes: usize,
}

/// Measures the miner (unreachable difficulty, stopped after `secs`) and
/// raw SHA-256 of the same serialized size on one core, in one run.
pub fn bench(secs: f64, content_len: usize) -> PowBench {
    let keys = Keys::generate();
    let unsigned = EventBuilder::new(Kind::TextNote, "x".repeat(content_len))
        .finalize_unsigned(keys.public_key());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let progress = PowProgress::new();
    let started = Instant::now();
    std::thread::scope(|s| {
        let p = &progress;
        s.spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(secs));
            p.cancel.store(true, Ordering::SeqCst);
        });
        let _ = mine(&unsigned, 64, cores, p);
    });
    let hashes_per_s =
        progress.hashes.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let message = template(&unsigned, 64)
        .map(|(t, _)| [t.prefix, b"1234567".to_vec(), t.suffix].concat())
        .unwrap_or_default();
    let started = Instant::now();
    let mut n = 0u64;
    let mut sink = 0u8;
    while started.elapsed().as_secs_f64() < secs {
        for _ in 0..1024 {
            sink ^= Sha256::digest(&message)[0];
        }
        n += 1024;
    }
    std::hint::black_box(sink);
    let raw = n as f64 / started.elapsed().as_secs_f64();
    PowBench {
        hashes_per_s,
        raw_sha256_per_s_one_core: raw,
        cores,
        ratio: hashes_per_s / (raw * cores as f64),
        message_bytes: message.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mined_ids_meet_the_target_and_sign_to_the_same_id() {
        let keys = Keys::generate();
        let unsigned = EventBuilder::new(Kind::TextNote, "hello \"pow\" ☃")
            .tag(Tag::hashtag("t"))
            .finalize_unsigned(keys.public_key());
        let progress = PowProgress::new();
        let mined = mine(&unsigned, 12, 2, &progress).unwrap();
        let id = mined.id.unwrap();
        assert!(leading_zero_bits(id.as_bytes()) >= 12);
        let signed = mined.finalize(&keys).unwrap();
        assert_eq!(signed.id, id, "the id we mined is the id nostr computes");
        signed.verify().unwrap();
        let nonce = signed
            .tags
            .iter()
            .find(|t| t.as_slice()[0] == "nonce")
            .unwrap()
            .as_slice()
            .to_vec();
        assert_eq!(nonce[2], "12", "the nonce tag carries the target");
        assert!(progress.hashes.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn cancelling_stops_mining() {
        let keys = Keys::generate();
        let unsigned =
            EventBuilder::new(Kind::TextNote, "never").finalize_unsigned(keys.public_key());
        let progress = PowProgress::new();
        progress.cancel.store(true, Ordering::SeqCst);
        assert_eq!(mine(&unsigned, 60, 2, &progress), Err(PowError::Cancelled));
        assert_eq!(
            mine(&unsigned, 65, 2, &progress),
            Err(PowError::TooHard(65))
        );
    }

    #[test]
    fn zero_bits() {
        assert_eq!(leading_zero_bits(&[0, 0, 0x0f, 0xff]), 20);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0; 32]), 255);
    }
}
