//! What the crash matrix's scenarios share (`crash_matrix.rs`): the seeded
//! dice and kill timing, the per-scenario tally, the store check after a
//! restart, client profiles, and helpers that read or fill a relay's
//! database.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use nostr::prelude::*;
use samizdat_store::{Store, StoreConfig};

use crate::common::{Profile, RelayProcess};

pub fn kills() -> usize {
    std::env::var("SAMIZDAT_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// A seeded xorshift: the same seed kills at the same moments.
pub struct Dice(u64);

impl Dice {
    pub fn new(scenario: u64) -> Self {
        let seed: u64 = std::env::var("SAMIZDAT_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        Self((seed ^ (scenario.wrapping_mul(0x9E37_79B9_7F4A_7C15))) | 1)
    }

    pub fn millis(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low).max(1))
    }
}

/// Kills tried and survived in one scenario.
pub struct Matrix {
    name: &'static str,
    tried: usize,
    mid_run: usize,
    failures: Vec<String>,
}

impl Matrix {
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            tried: 0,
            mid_run: 0,
            failures: Vec::new(),
        }
    }

    /// Counts one kill and what the checks after it found.
    pub fn record(&mut self, was_running: bool, problems: Vec<String>) {
        self.tried += 1;
        self.mid_run += usize::from(was_running);
        if !problems.is_empty() {
            self.failures
                .push(format!("kill {}: {}", self.tried, problems.join("; ")));
        }
    }

    pub fn finish(self) {
        println!(
            "crash matrix: {}: {} / {} kills survived ({} landed while the process ran)",
            self.name,
            self.tried - self.failures.len(),
            self.tried,
            self.mid_run
        );
        assert!(
            self.failures.is_empty(),
            "{}: {:#?}",
            self.name,
            self.failures
        );
    }
}

/// How long a command takes when nobody kills it: kills land within it.
pub fn duration_of(run: impl FnOnce()) -> u64 {
    let t0 = Instant::now();
    run();
    (t0.elapsed().as_millis() as u64).max(20)
}

/// SIGKILLs `child` after `delay`; whether it was still running then.
pub fn kill_after(mut child: Child, delay: Duration) -> bool {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
}

/// Reopens a store (the restart) and lists what is wrong with it.
pub fn check_store(path: &Path) -> Vec<String> {
    match Store::open(path).and_then(|s| s.integrity_check()) {
        Ok(report) => report.problems,
        Err(e) => vec![format!("reopening {}: {e}", path.display())],
    }
}

/// A client profile under `home` (the default profile) and its key.
pub struct Client {
    pub profile: Profile,
    pub keys: Keys,
}

impl std::ops::Deref for Client {
    type Target = Profile;
    fn deref(&self) -> &Profile {
        &self.profile
    }
}

impl Client {
    pub fn new(home: PathBuf, relay: &RelayProcess) -> Self {
        let keys = Keys::generate();
        let nsec = keys.secret_key().to_bech32().unwrap();
        let client = Self {
            profile: Profile { home },
            keys,
        };
        client.ok_with_stdin(&["init", "--log-n", "8", "--import"], &nsec);
        client.ok(&["relays", "add", &relay.url(), "--read", "--write"]);
        client.ok(&["relays", "add", &relay.url(), "--discovery"]);
        client
    }

    /// Own events of `kind` in the client's store.
    pub fn own(&self, kind: Kind) -> Vec<Event> {
        let filter = Filter::new()
            .author(self.keys.public_key())
            .kind(kind)
            .limit(10_000);
        Store::open(self.store_path())
            .and_then(|s| s.query(&[filter]))
            .unwrap()
    }
}

/// Copies a profile home (a few small files) with its permissions.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Events of `kind` by `author` in a relay's database.
pub fn on_relay(db: &Path, author: PublicKey, kind: Kind) -> Vec<Event> {
    let filter = Filter::new().author(author).kind(kind).limit(10_000);
    Store::open_with(db, StoreConfig::relay())
        .and_then(|s| s.query(&[filter]))
        .unwrap()
}

/// `n` notes by each of `authors`, plus each author's relay list naming `relay`.
pub fn preload(db: &Path, authors: &[Keys], notes: usize, relay: &str) {
    let store = Store::open_with(db, StoreConfig::relay()).unwrap();
    let now = Timestamp::now().as_secs();
    let mut events = Vec::new();
    for keys in authors {
        let list = EventBuilder::new(Kind::RelayList, "")
            .tag(Tag::parse(["r", relay]).unwrap())
            .finalize(keys)
            .unwrap();
        events.push(list);
        for i in 0..notes {
            let note = EventBuilder::new(Kind::TextNote, format!("preloaded note {i}"))
                .custom_created_at(Timestamp::from_secs(now - 30 - i as u64 * 20))
                .finalize(keys)
                .unwrap();
            events.push(note);
        }
    }
    store.insert_batch(&events).unwrap();
}
