//! # samizdat-fuzzing
//!
//! One function per fuzz target, over everything Samizdat reads from outside:
//! client→relay frames, relay→client messages, events and filters, the
//! store's query path, NIP-19 references, NIP-44 / NIP-17 gift wraps, NIP-49
//! keys, NIP-46 URIs and requests, NIP-11 / NIP-05 HTTP answers, backup files
//! and the relay's TOML config.
//!
//! Each function takes arbitrary bytes and must return without panicking;
//! where a cheap oracle exists it also asserts it (a stored event returned
//! for a filter matches that filter; a refusal is valid JSON). The
//! libFuzzer binaries in `fuzz/` (nightly, outside the workspace) are
//! one-line wrappers, and `tests/corpus.rs` replays every seed and every
//! crash file through the same functions on stable, so a crash found once
//! stays fixed.

#![deny(missing_docs)]

mod protocol;
mod secrets;
pub mod seeds;
mod storage;

pub use protocol::{http_json, nip19, relay_config, relay_frame, relay_message};
pub use secrets::{backup, nip44_wrap, nip46, nip49};
pub use storage::{event, store_query};

/// A fuzz target: bytes in, nothing out, never a panic.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its libFuzzer binary and corpus folder).
pub const TARGETS: &[(&str, Target)] = &[
    ("relay_frame", relay_frame),
    ("relay_message", relay_message),
    ("event", event),
    ("store_query", store_query),
    ("nip19", nip19),
    ("nip44_wrap", nip44_wrap),
    ("nip49", nip49),
    ("nip46", nip46),
    ("http_json", http_json),
    ("backup", backup),
    ("relay_config", relay_config),
];

/// The input as text, as a websocket text frame or a file would give it.
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Runs a future that never waits (the local signer's futures are ready at
/// once) to completion without a runtime.
fn ready<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}
