//! Broken machines: a disk that fills up during a sync and during a key
//! save, a profile directory that turns read-only, events dated in the
//! future by our clock, a relay that would answer only after ten minutes.
//! Each ends in a clear error or a bounded wait, never a panic, a lost key
//! or a damaged store.
//!
//! The disk is a real tmpfs of a few hundred KiB (mounting needs root, as
//! in CI; elsewhere those two tests say so and return).

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, samizdat, Profile, RelayProcess};
use nostr::prelude::*;
use samizdat_store::{Store, StoreConfig};

/// A small tmpfs, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size_kib: u64) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_kib}k"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!("skipped: mounting a tmpfs needs root");
            return None;
        }
        Some(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }

    /// Fills what is left with a file; returns its path.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The profile under test.
struct Client(Profile);

impl std::ops::Deref for Client {
    type Target = Profile;
    fn deref(&self) -> &Profile {
        &self.0
    }
}

impl Client {
    fn store(&self) -> PathBuf {
        self.store_path()
    }

    fn set_up(home: PathBuf, relay: &RelayProcess, follow: &[&Keys]) -> Self {
        let client = Self(Profile { home });
        client.ok(&["init", "--log-n", "8"]);
        client.ok(&["relays", "add", &relay.url(), "--read", "--write"]);
        client.ok(&["relays", "add", &relay.url(), "--discovery"]);
        for keys in follow {
            client.ok(&["follow", &keys.public_key().to_bech32().unwrap()]);
        }
        client
    }
}

/// Notes of `keys` stored straight into a relay's database (dated `offset`
/// seconds from now, one second apart), with a relay list naming `relays`.
fn preload(db: &Path, keys: &Keys, notes: usize, offset: i64, content: usize, relays: &[&str]) {
    let store = Store::open_with(db, StoreConfig::relay()).unwrap();
    let now = Timestamp::now().as_secs() as i64;
    let mut events: Vec<Event> = (0..notes)
        .map(|i| {
            EventBuilder::new(Kind::TextNote, format!("{i} {}", "z".repeat(content)))
                .custom_created_at(Timestamp::from_secs((now + offset - i as i64) as u64))
                .finalize(keys)
                .unwrap()
        })
        .collect();
    if !relays.is_empty() {
        let tags = relays.iter().map(|r| Tag::parse(["r", r]).unwrap());
        events.push(
            EventBuilder::new(Kind::RelayList, "")
                .tags(tags)
                .finalize(keys)
                .unwrap(),
        );
    }
    store.insert_batch(&events).unwrap();
}

fn notes_of(store: &Path, keys: &Keys) -> u64 {
    Store::open(store)
        .and_then(|s| {
            s.count(
                &[Filter::new().author(keys.public_key()).kind(Kind::TextNote)],
                &[],
            )
        })
        .unwrap()
}

fn sound(store: &Path) {
    let report = Store::open(store).unwrap().integrity_check().unwrap();
    assert!(report.is_sound(), "{report:?}");
}

#[test]
fn a_full_disk_during_a_sync_and_a_key_save_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let author = Keys::generate();
    preload(
        &dir.path().join("relay.sqlite"),
        &author,
        1_500,
        -60,
        1_000,
        &[&url],
    );
    let relay = RelayProcess::start_on(&dir.path().join("relay.sqlite"), port, &[]);
    let Some(disk) = SmallDisk::mount(768) else {
        return;
    };
    let client = Client::set_up(disk.path().join("home"), &relay, &[&author]);

    // 1,500 notes of 1 KB do not fit in what is left.
    let stderr = client.fails(&["sync"]);
    assert!(
        stderr.contains("full"),
        "the error names the full disk: {stderr}"
    );
    disk.remount("size=64m");
    sound(&client.store());
    client.ok(&["sync"]);
    let control = Client::set_up(dir.path().join("control"), &relay, &[&author]);
    control.ok(&["sync"]);
    assert_eq!(
        notes_of(&client.store(), &author),
        notes_of(&control.store(), &author),
        "a sync after the disk has room gets what a profile that never ran out gets"
    );

    // A key save on a full disk: an error, the old key file intact.
    let key = client.home.join("default").join("key.ncryptsec");
    let before = std::fs::read(&key).unwrap();
    let new_pass = dir.path().join("new-pass");
    std::fs::write(&new_pass, "new passphrase").unwrap();
    let filler = disk.fill();
    let stderr = client.fails(&[
        "key",
        "change-passphrase",
        "--new-passphrase-file",
        new_pass.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("space") || stderr.contains("full"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key file is untouched"
    );
    std::fs::remove_file(filler).unwrap();
    assert!(
        client.ok(&["unlock"]).contains("npub1"),
        "the old passphrase still opens it"
    );
    sound(&client.store());
}

#[test]
fn a_read_only_profile_directory_is_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.sqlite"), &[]);
    let Some(disk) = SmallDisk::mount(4096) else {
        return;
    };
    let client = Client::set_up(disk.path().join("home"), &relay, &[]);
    client.ok(&["post", "written while the disk could be written"]);
    disk.remount("ro");
    let stderr = client.fails(&["post", "cannot be stored"]);
    assert!(stderr.to_lowercase().contains("read-only"), "{stderr}");
    client.fails(&[
        "follow",
        &Keys::generate().public_key().to_bech32().unwrap(),
    ]);
    disk.remount("rw");
    sound(&client.store());
    let mine = client.ok(&["status", "--json"]);
    assert!(
        mine.contains("written while the disk could be written") || mine.contains("delivered"),
        "{mine}"
    );
    assert!(
        !mine.contains("cannot be stored"),
        "nothing of the refused post was kept: {mine}"
    );
}

#[test]
fn events_from_the_future_by_our_clock_are_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let db = dir.path().join("relay.sqlite");
    let author = Keys::generate();
    preload(&db, &author, 5, -60, 10, &[&url]);
    // A year ahead of our clock: a relay serves them (stored behind its back).
    preload(&db, &author, 5, 365 * 86_400, 10, &[]);
    let relay = RelayProcess::start_on(&db, port, &[]);
    let client = Client::set_up(dir.path().join("home"), &relay, &[&author]);
    client.ok(&["sync"]);
    assert_eq!(
        notes_of(&client.store(), &author),
        5,
        "only the five from the present"
    );
    let store = Store::open(client.store()).unwrap();
    let ahead = Filter::new()
        .author(author.public_key())
        .since(Timestamp::from_secs(Timestamp::now().as_secs() + 3_600));
    assert_eq!(store.count(&[ahead], &[]).unwrap(), 0);
}

#[test]
fn a_relay_that_answers_after_ten_minutes_does_not_hold_up_a_sync() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts, reads the upgrade request, and would answer in ten minutes.
    let slow = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow_url = format!("ws://{}", slow.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in slow.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                std::thread::sleep(Duration::from_secs(600));
                let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
            });
        }
    });
    let port = free_port();
    let url = format!("ws://127.0.0.1:{port}");
    let db = dir.path().join("relay.sqlite");
    let author = Keys::generate();
    preload(&db, &author, 20, -60, 10, &[&slow_url, &url]);
    let relay = RelayProcess::start_on(&db, port, &[]);
    let client = Client::set_up(dir.path().join("home"), &relay, &[&author]);
    let started = Instant::now();
    let mut sync = samizdat()
        .env("SAMIZDAT_HOME", &client.home)
        .env("SAMIZDAT_PASSPHRASE", "pw")
        .args(["--log", "warn", "sync", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A watchdog far above any timeout of ours: a hang fails the test
    // instead of holding CI for ten minutes.
    while sync.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(180) {
            let _ = sync.kill();
            panic!("sync still waiting for the slow relay after 180 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = String::new();
    sync.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    println!(
        "sync with a relay that answers in ten minutes took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(sync.wait().unwrap().success(), "{out}");
    assert_eq!(
        notes_of(&client.store(), &author),
        20,
        "the healthy relay's notes arrived"
    );
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let slow_entry = &report["relays"][&slow_url];
    assert!(
        slow_entry.is_null() || !slow_entry["error"].is_null() || slow_entry["finished"] == false,
        "the slow relay is reported as not answering: {report}"
    );
}
