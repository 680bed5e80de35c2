//! A scripted week of use on a demo network whose relays all log, for
//! `samizdat bench privacy` and its test. The same week runs under each
//! [`Posture`] on a fresh network with the same seed; the figures come from
//! the coalition's logs alone.
//!
//! The week: the user follows `follow` people (their published kind 3), and
//! on each day opens the profile again (a new run, new connections), syncs
//! (feed, mentions, profiles, DMs), opens threads whose replies come from
//! strangers naming their own relays (in tags, in an `nevent` in the text,
//! and in their relay lists), writes to people through one DM relay that
//! both sides use, posts and reacts. On one day the profile stays open with
//! its background refresh running, as the desktop would.

use std::sync::Arc;
use std::time::Duration;

use nostr::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samizdat_client::{RelayPolicy, Settings};

use super::{figures, socks_proxy, Figures, Log, Truth};
use crate::{ev, normal_url, DemoError, DemoNetwork, DemoOptions};

/// How the user has Samizdat set up for the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posture {
    /// The defaults before private-by-default: direct connections, no
    /// exposure cap, exploration on, every hinted relay contacted
    /// (`--allow-hinted`), the copy of a DM to oneself sent at once, wraps
    /// not kept apart, background REQs not spread. (Random sub ids, jittered
    /// timers and wraps on unauthenticated connections cannot be switched
    /// off: they are in this column too.)
    OldDefaults,
    /// Today's defaults with Tor found at first run (a proxy, per-relay
    /// circuits).
    DefaultsWithTor,
    /// Today's defaults for a user who chose direct connections.
    DefaultsDirect,
}

impl Posture {
    /// A short name for tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::OldDefaults => "before (old defaults)",
            Self::DefaultsWithTor => "after (defaults, Tor)",
            Self::DefaultsDirect => "after (defaults, direct)",
        }
    }
}

/// The shape of the week.
#[derive(Debug, Clone)]
pub struct WeekOptions {
    /// Seed of the network and the script.
    pub seed: u64,
    /// People in the network.
    pub people: usize,
    /// People the user follows.
    pub follow: usize,
    /// Content relays up.
    pub relays: usize,
    /// Discovery relays (each holds every relay list).
    pub indexers: usize,
    /// Days (runs of the profile).
    pub days: usize,
    /// Threads opened over the week, each through a stranger's reply.
    pub threads: usize,
    /// Relays named only by strangers.
    pub stranger_relays: usize,
    /// Messages sent over the week.
    pub dms: usize,
    /// People written to.
    pub partners: usize,
    /// How long the profile stays open on the desktop day, and its refresh
    /// period then (scaled down from 15 minutes; the background spread is
    /// set to the same).
    pub desktop: Option<(Duration, Duration)>,
}

impl Default for WeekOptions {
    /// The week of `samizdat bench privacy`.
    fn default() -> Self {
        Self {
            seed: 3,
            people: 500,
            follow: 200,
            relays: 10,
            indexers: 4,
            days: 7,
            threads: 30,
            stranger_relays: 3,
            dms: 20,
            partners: 5,
            desktop: Some((Duration::from_secs(120), Duration::from_secs(15))),
        }
    }
}

/// What one week under one posture showed.
#[derive(Debug, Clone)]
pub struct WeekResult {
    /// The posture.
    pub posture: Posture,
    /// The coalition's figures.
    pub figures: Figures,
    /// Threads opened whose stranger relays were refused (no proxy, not allowed).
    pub hinted_refused: usize,
    /// Stranger relays contacted while opening threads.
    pub hinted_contacted: usize,
    /// Threads that could not be opened (the stranger's reply never arrived).
    pub threads_missing: usize,
    /// Messages sent.
    pub dms_sent: usize,
    /// Wall-clock time of the week.
    pub elapsed: Duration,
}

/// The network, the strangers' replies and who is who.
struct Stage {
    network: DemoNetwork,
    log: Arc<Log>,
    truth: Truth,
    dm_relay_url: String,
    replies: Vec<EventId>,
    partners: Vec<PublicKey>,
    notes_to_react: Vec<EventId>,
}

/// Runs the week under `posture` on a fresh network.
pub async fn run_week(options: &WeekOptions, posture: Posture) -> Result<WeekResult, DemoError> {
    let started = std::time::Instant::now();
    let stage = stage(options).await?;
    let proxy = match posture {
        Posture::DefaultsWithTor => Some(socks_proxy(Arc::clone(&stage.log)).await?),
        _ => None,
    };
    let dir = tempfile::tempdir()?;
    let mut settings = stage.network.settings();
    settings.discovery = stage
        .network
        .relays
        .iter()
        .filter(|r| r.name.starts_with("indexer"))
        .map(|r| normal_url(r.url.clone()))
        .collect();
    settings.policies.insert(
        stage.dm_relay_url.clone(),
        RelayPolicy {
            connect: None,
            auth: Some("allow".into()),
        },
    );
    apply_posture(&mut settings, posture, proxy.as_ref().map(|p| p.addr));
    settings
        .save(&dir.path().join("settings.json"))
        .map_err(|e| DemoError::Event(format!("the week's settings: {e}")))?;
    let mut config = crate::session_config();
    if posture == Posture::OldDefaults {
        config.engine.self_copy_delay_secs = (0, 0);
        config.engine.wrap_gap_ms = None;
        config.engine.background_spread = Duration::ZERO;
    }
    let allow_hinted = posture == Posture::OldDefaults;
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x3eec);
    let mut result = WeekResult {
        posture,
        figures: Figures::default(),
        hinted_refused: 0,
        hinted_contacted: 0,
        threads_missing: 0,
        dms_sent: 0,
        elapsed: Duration::ZERO,
    };
    let days = options.days.max(1);
    let desktop_day = days / 2;
    for day in 0..days {
        let mut day_config = config.clone();
        let desktop = options.desktop.filter(|_| day == desktop_day);
        if let Some((_, every)) = desktop {
            day_config.refresh_every = every;
            // Scaled with the refresh as 60 s is to 15 min, the spread would
            // be too short to see here: a whole period, as a relay's own
            // clock would be (none before this work).
            if posture != Posture::OldDefaults {
                day_config.engine.background_spread = every;
            }
        }
        let session = open_and_deliver(&stage.network, dir.path(), day_config).await?;
        session.refresh().await.map_err(session_error)?;
        for reply in share_of(&stage.replies, day, days) {
            let read = match session.thread_read(*reply, allow_hinted).await {
                Ok(read) => read,
                Err(e) => {
                    // A reply the inbox did not bring cannot be opened.
                    tracing::warn!(error = %e, "a stranger's reply was not in hand");
                    result.threads_missing += 1;
                    continue;
                }
            };
            result.hinted_contacted += read.stranger_relays.len();
            result.hinted_refused += usize::from(read.stranger_relays.is_empty());
        }
        let first_dm = options.dms * day / days;
        for n in first_dm..options.dms * (day + 1) / days {
            let to = stage.partners[n % stage.partners.len()];
            session
                .send_dm(&[to], &format!("message {n}"), None)
                .await
                .map_err(session_error)?;
            result.dms_sent += 1;
            // People do not type two messages in the same second.
            tokio::time::sleep(Duration::from_millis(rng.random_range(300..1_500))).await;
        }
        session
            .post(&format!("day {day} of the week"))
            .await
            .map_err(session_error)?;
        if let Some(note) = stage.notes_to_react.get(day) {
            // A note the plan did not bring (its author over the cap, say)
            // cannot be reacted to; the day goes on.
            if let Err(e) = session.react(*note, "+").await {
                tracing::warn!(error = %e, "the note to react to was not in hand");
            }
        }
        if let Some((open_for, _)) = desktop {
            session.start_background(false);
            tokio::time::sleep(open_for).await;
        }
        session.shutdown().await;
        // The next day does not start in the same second.
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
    // The copies to oneself still waiting go out on the next run.
    tokio::time::sleep(Duration::from_secs(config.engine.self_copy_delay_secs.1)).await;
    let session = open_and_deliver(&stage.network, dir.path(), config).await?;
    session.shutdown().await;

    let truth = Truth {
        proxy: proxy.is_some(),
        ..stage.truth.clone()
    };
    result.figures = figures(&stage.log.seen(), &stage.log.circuits(), &truth);
    result.elapsed = started.elapsed();
    drop(proxy);
    stage.network.shutdown().await;
    Ok(result)
}

/// Opens the profile again (a new run) and sends what is due first, as a
/// session does when it starts.
async fn open_and_deliver(
    network: &DemoNetwork,
    dir: &std::path::Path,
    config: samizdat_client::SessionConfig,
) -> Result<Arc<samizdat_client::Session>, DemoError> {
    let session = network.reopen_session(dir, config).map_err(session_error)?;
    session
        .engine()
        .deliver_all_due()
        .await
        .map_err(engine_error)?;
    Ok(session)
}

fn apply_posture(settings: &mut Settings, posture: Posture, proxy: Option<std::net::SocketAddr>) {
    match posture {
        Posture::OldDefaults => settings.max_exposure_percent = None,
        Posture::DefaultsWithTor => settings.network.proxy = proxy.map(|p| p.to_string()),
        Posture::DefaultsDirect => {}
    }
}

/// The `day`-th of `days` even shares of `items`.
fn share_of<T>(items: &[T], day: usize, days: usize) -> &[T] {
    &items[items.len() * day / days..items.len() * (day + 1) / days]
}

fn session_error(e: samizdat_client::SessionError) -> DemoError {
    DemoError::Event(format!("the week's session: {e}"))
}

fn engine_error(e: samizdat_client::EngineError) -> DemoError {
    DemoError::Event(format!("the week's session: {e}"))
}

/// Builds the network: the demo's relays and people, more discovery
/// relays, the DM relay, the strangers' relays and replies.
async fn stage(options: &WeekOptions) -> Result<Stage, DemoError> {
    let log = Arc::new(Log::default());
    let mut network = DemoNetwork::start(&DemoOptions {
        seed: options.seed,
        people: options.people,
        follow: options.follow,
        up: options.relays,
        down: 2,
        hanging: 0,
        latency_ms: None,
        tap: Some(Arc::clone(&log)),
        strangers: false,
        media: false,
    })
    .await?;
    let config = samizdat_relay::RelayConfig::default;
    let mut indexers = vec![0];
    for i in 2..=options.indexers.max(1) {
        indexers.push(network.add_relay(&format!("indexer-{i}"), config()).await?);
    }
    let dm = network.add_relay("dm-relay", config()).await?;
    let mut strangers = Vec::new();
    for i in 1..=options.stranger_relays.max(1) {
        strangers.push(
            network
                .add_relay(&format!("stranger-{i}"), config())
                .await?,
        );
    }
    let url = |i: usize| network.relays[i].url.clone();
    let dm_url = normal_url(url(dm));
    let stranger_urls: Vec<String> = strangers.iter().map(|&i| url(i)).collect();
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x57a6);
    let now = Timestamp::now().as_secs();
    let at = |ago: u64| Timestamp::from_secs(now - ago);

    // Everyone's lists on every discovery relay; DM relays for the user
    // and the people written to.
    let follows = network.follows();
    let partners: Vec<PublicKey> = follows.iter().take(options.partners).copied().collect();
    let partner_keys: Vec<&Keys> = network
        .people
        .iter()
        .map(|p| &p.keys)
        .filter(|k| partners.contains(&k.public_key()))
        .collect();
    let mut lists = stored(
        &network,
        0,
        &[Kind::RelayList, Kind::ContactList, Kind::Metadata],
    )?;
    for keys in partner_keys.into_iter().chain([&network.user]) {
        lists.push(ev(EventBuilder::new(Kind::Custom(10050), "")
            .tag(ev(Tag::parse(["relay", dm_url.as_str()]))?)
            .custom_created_at(at(7_200))
            .finalize(keys))?);
    }

    // Strangers: each with a relay list naming stranger relays, replying
    // to the user's followed people and mentioning the user, with hints.
    let stranger_keys: Vec<Keys> = (0..6).map(|_| Keys::generate()).collect();
    for (i, k) in stranger_keys.iter().enumerate() {
        let names = [
            &stranger_urls[i % stranger_urls.len()],
            &stranger_urls[(i + 1) % stranger_urls.len()],
        ];
        lists.push(ev(EventBuilder::new(Kind::RelayList, "")
            .tags(ev(names
                .iter()
                .map(|u| Tag::parse(["r", u.as_str()]))
                .collect::<Result<Vec<_>, _>>())?)
            .custom_created_at(at(86_400))
            .finalize(k))?);
    }
    let roots: Vec<&Event> = network.followed_notes_since(at(7 * 86_400));
    let mut replies = Vec::new();
    let mut reply_events = Vec::new();
    for n in 0..options.threads {
        let Some(root) = roots.get(rng.random_range(0..roots.len().max(1))) else {
            break;
        };
        let hint = &stranger_urls[n % stranger_urls.len()];
        let other = &stranger_urls[(n + 2) % stranger_urls.len()];
        let nevent = Nip19Event::new(root.id)
            .relays([ev(RelayUrl::parse(other))?])
            .to_bech32()
            .map_err(|e| DemoError::Event(e.to_string()))?;
        let reply = ev(EventBuilder::new(
            Kind::TextNote,
            format!("more on this over here: nostr:{nevent}"),
        )
        .tags([
            ev(Tag::parse(["e", &root.id.to_hex(), hint.as_str(), "root"]))?,
            ev(Tag::parse([
                "p",
                &network.user.public_key().to_hex(),
                other.as_str(),
            ]))?,
        ])
        .custom_created_at(at(rng.random_range(600..86_400)))
        .finalize(&stranger_keys[n % stranger_keys.len()]))?;
        replies.push(reply.id);
        reply_events.push(reply);
    }
    for &i in &indexers {
        insert(&network, i, &lists)?;
    }
    // The replies sit on the user's read relay (where mentions are read)
    // and on the strangers' relays.
    insert(&network, 1, &reply_events)?;
    for &i in &strangers {
        insert(&network, i, &reply_events)?;
    }
    let notes_to_react = roots
        .iter()
        .rev()
        .take(options.days)
        .map(|e| e.id)
        .collect();
    let truth = Truth {
        me: network.user.public_key(),
        follows: follows.into_iter().collect(),
        strangers: strangers
            .iter()
            .map(|&i| network.relays[i].name.clone())
            .collect(),
        dm_relay: network.relays[dm].name.clone(),
        partners: partners.iter().copied().collect(),
        proxy: false,
    };
    Ok(Stage {
        network,
        log,
        truth,
        dm_relay_url: dm_url,
        replies,
        partners,
        notes_to_react,
    })
}

/// The events of `kinds` stored on relay `i`.
fn stored(network: &DemoNetwork, i: usize, kinds: &[Kind]) -> Result<Vec<Event>, DemoError> {
    let Some(store) = &network.relays[i].store else {
        return Ok(Vec::new());
    };
    Ok(store.query(&[Filter::new().kinds(kinds.iter().copied()).limit(1_000_000)])?)
}

/// Writes `events` straight into relay `i`'s store.
fn insert(network: &DemoNetwork, i: usize, events: &[Event]) -> Result<(), DemoError> {
    if let Some(store) = &network.relays[i].store {
        store.insert_batch(events)?;
    }
    Ok(())
}
