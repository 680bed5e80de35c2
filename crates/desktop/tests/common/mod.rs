//! Helpers for the desktop's interaction tests: our relay in-process on
//! 127.0.0.1, profiles made with the client's own calls, and a harness
//! that steps the real app (worker and all) until something shows.

#![allow(dead_code)]

pub mod screen;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use nostr::prelude::*;
use samizdat_client::{access, Profiles, RelayPolicy, RelayRoles, Settings};
use samizdat_desktop::{AppOptions, DesktopApp, WorkerConfig};
use samizdat_relay::{RelayConfig, RelayHandle};
use samizdat_store::Store;
use secrecy::SecretString;

/// The passphrase every test profile uses.
pub const PASS: &str = "correct horse battery staple";

/// A runtime for the relays (the app's worker has its own).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Our relay on 127.0.0.1, over a store in `dir`.
pub fn relay(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    name: &str,
    config: RelayConfig,
) -> (RelayHandle, Arc<Store>, String) {
    relay_at(rt, dir, name, config, "127.0.0.1:0")
}

/// Our relay on a given address.
pub fn relay_at(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    name: &str,
    config: RelayConfig,
    addr: &str,
) -> (RelayHandle, Arc<Store>, String) {
    let store = Arc::new(Store::open(dir.join(format!("{name}.sqlite"))).unwrap());
    let handle = rt
        .block_on(samizdat_relay::start(
            config,
            store.clone(),
            addr.parse().unwrap(),
        ))
        .unwrap();
    let url = samizdat_net::RelayUrl::parse(&handle.url())
        .unwrap()
        .to_string();
    (handle, store, url)
}

/// A profile `name` under `home` with `keys`, its relays and discovery
/// relays, and per-relay policies, created through the client.
pub fn profile(
    rt: &tokio::runtime::Runtime,
    home: &Path,
    name: &str,
    keys: &Keys,
    relays: &[&str],
    discovery: &[&str],
    policies: &[(&str, RelayPolicy)],
) {
    let profile = Profiles::at(home).profile(name).unwrap();
    rt.block_on(access::create_local(
        &profile,
        access::NewKey::Import {
            input: SecretString::from(keys.secret_key().to_secret_hex()),
            passphrase: None,
        },
        SecretString::from(PASS.to_owned()),
        8,
    ))
    .unwrap();
    let path = profile.settings_path();
    let mut settings = Settings::load(&path).unwrap();
    for r in relays {
        settings.relays.insert(
            (*r).to_owned(),
            RelayRoles {
                read: true,
                write: true,
            },
        );
    }
    settings.discovery = discovery.iter().map(|d| (*d).to_owned()).collect();
    for (url, p) in policies {
        settings.policies.insert((*url).to_owned(), p.clone());
    }
    settings.save(&path).unwrap();
}

/// Another user's client session (in the test, not in the app): `own` to
/// read and write, `discovery` relays. Call inside the relays' runtime.
pub fn client_session(
    dir: &Path,
    keys: &Keys,
    own: &str,
    discovery: &[&str],
) -> Arc<samizdat_client::Session> {
    std::fs::create_dir_all(dir).unwrap();
    let mut settings = Settings {
        discovery: discovery.iter().map(|d| (*d).to_owned()).collect(),
        ..Settings::default()
    };
    settings.relays.insert(
        own.to_owned(),
        RelayRoles {
            read: true,
            write: true,
        },
    );
    settings.save(&dir.join("settings.json")).unwrap();
    samizdat_client::Session::with_store(
        Arc::new(Store::open(dir.join("events.sqlite")).unwrap()),
        dir.join("settings.json"),
        Arc::new(samizdat_client::LocalSigner::new(keys.clone())),
        samizdat_client::SessionConfig::default(),
    )
    .unwrap()
}

/// Signs a note (or any kind) at `at` seconds ago.
pub fn event(keys: &Keys, kind: Kind, content: &str, tags: Vec<Tag>, ago: u64) -> Event {
    EventBuilder::new(kind, content)
        .tags(tags)
        .custom_created_at(Timestamp::from_secs(Timestamp::now().as_secs() - ago))
        .finalize(keys)
        .unwrap()
}

/// A relay list naming `url` for reading and writing.
pub fn relay_list(keys: &Keys, url: &str) -> Event {
    event(
        keys,
        Kind::RelayList,
        "",
        vec![Tag::parse(["r", url]).unwrap()],
        600,
    )
}

/// The app under a test harness, with profiles under `home`.
pub fn app(home: &Path) -> Harness<'static, DesktopApp> {
    app_with(home, |_| {})
}

/// Like [`app`], with `tweak` applied to the worker's configuration.
pub fn app_with(
    home: &Path,
    tweak: impl FnOnce(&mut WorkerConfig),
) -> Harness<'static, DesktopApp> {
    let mut worker = WorkerConfig::new(home.to_path_buf());
    worker.log_n = 8;
    worker.session.engine.phase_timeout = Duration::from_secs(5);
    worker.session.engine.net.ok_timeout = Duration::from_secs(5);
    worker.session.engine.net.transport.connect_timeout = Duration::from_secs(2);
    worker.session.engine.retry_base = Duration::from_millis(200);
    worker.session.deliver_every = Duration::from_secs(3600);
    tweak(&mut worker);
    let app = DesktopApp::new(AppOptions {
        worker,
        demo: false,
        bench: None,
    });
    Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .with_max_steps(10_000)
        .build_state(|ctx, app: &mut DesktopApp| app.ui(ctx), app)
}

/// The app under a test harness on the seeded demo network (its worker
/// starts the demo at the first frame), profiles under `home`.
pub fn demo_app(home: &Path) -> Harness<'static, DesktopApp> {
    let mut worker = WorkerConfig::new(home.to_path_buf());
    worker.log_n = 8;
    let app = DesktopApp::new(AppOptions {
        worker,
        demo: true,
        bench: None,
    });
    Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .with_max_steps(10_000)
        .build_state(|ctx, app: &mut DesktopApp| app.ui(ctx), app)
}

/// Steps the app until `done` holds (30 s at most).
pub fn wait_for(
    h: &mut Harness<'static, DesktopApp>,
    what: &str,
    done: impl Fn(&Harness<'static, DesktopApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        h.step();
        if done(h) {
            h.step();
            return;
        }
        if Instant::now() > deadline {
            let main = h.state().main.as_ref();
            panic!(
                "timed out waiting for {what}; start error: {:?}; status: {:?}; alerts: {:?}",
                h.state().start.error,
                main.map(|m| m.status.clone()),
                main.map(|m| m.alerts.clone())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a widget whose label contains `text` is shown.
pub fn shows(h: &Harness<'static, DesktopApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

/// Clicks the widget labelled `label`.
pub fn click(h: &mut Harness<'static, DesktopApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

/// Types `text` into the field labelled `label`.
pub fn fill(h: &mut Harness<'static, DesktopApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.step();
    h.get_by_label(label).type_text(text);
    h.step();
}

/// Unlocks the (only) profile on the start screen.
pub fn unlock(h: &mut Harness<'static, DesktopApp>) {
    wait_for(h, "the profile list", |h| {
        shows(h, "Unlock a profile") && h.query_by_label("Unlock").is_some()
    });
    fill(h, "Passphrase", PASS);
    click(h, "Unlock");
    wait_for(h, "the session to open", |h| h.state().main.is_some());
}
