//! The session's background work and the refresh. [`Session::start`] keeps
//! a profile alive: due deliveries retried, waiting list changes tried,
//! the relay list re-advertised when it changed, everyone followed re-read
//! (sync, inbox, profiles, private messages) and the user's data checked on
//! every relay, each on its own clock; [`Session::send`] runs an intent in
//! the background and announces its result on the update stream.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::app::Intent;
use crate::engine::publisher::jittered;
use crate::engine::sync::SyncReport;
use crate::engine::updates::IntentResult;
use crate::engine::EngineUpdate;
use crate::session::{read_relays, Session, SessionError};

impl Session {
    /// Starts the background work: retries due deliveries now and every
    /// `deliver_every`; refreshes (sync + inbox, leaving both subscribed)
    /// now and every `refresh_every`. Failures are announced as updates.
    pub fn start(self: &Arc<Self>) {
        self.start_background(true);
    }

    /// Like [`Session::start`]; with `refresh_now` false the first refresh
    /// waits one `refresh_every` (for a UI that runs its own first refresh
    /// as an intent, to hear when it is done).
    pub fn start_background(self: &Arc<Self>, refresh_now: bool) {
        let deliver = periodic(
            Arc::downgrade(self),
            Duration::ZERO,
            self.config.deliver_every,
            |s, _| {
                Box::pin(
                    async move { s.engine.deliver_due().await.map(|_| ()).map_err(Into::into) },
                )
            },
        );
        let first = if refresh_now {
            Duration::ZERO
        } else {
            self.config.refresh_every
        };
        let refresh = periodic(
            Arc::downgrade(self),
            first,
            self.config.refresh_every,
            |s, run| {
                Box::pin(async move {
                    // The first refresh is what the user waits for; later
                    // ones spread their REQs over time.
                    if run == 0 {
                        s.refresh().await.map(|_| ())
                    } else {
                        s.engine().in_background(s.refresh()).await.map(|_| ())
                    }
                })
            },
        );
        // The relay list is advertised again when the user's relays change
        // (checked as often as deliveries are retried, so changes in quick
        // succession go out as one list).
        let advertise = periodic(
            Arc::downgrade(self),
            self.config.deliver_every,
            self.config.deliver_every,
            |s, _| Box::pin(async move { s.readvertise_if_changed().await.map(|_| ()) }),
        );
        // Waiting list changes go out as soon as a relay answers (tried at
        // start and as often as deliveries; nothing is fetched while none
        // waits).
        let changes = periodic(
            Arc::downgrade(self),
            Duration::ZERO,
            self.config.deliver_every,
            |s, _| Box::pin(async move { s.apply_waiting_changes().await.map(|_| ()) }),
        );
        let replicate = periodic(
            Arc::downgrade(self),
            self.config.replicate_every,
            self.config.replicate_every,
            |s, _| Box::pin(async move { s.replicate(|_| {}).await.map(|_| ()) }),
        );
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.push(deliver);
            tasks.push(refresh);
            tasks.push(advertise);
            tasks.push(changes);
            tasks.push(replicate);
        }
    }

    /// Runs `intent` in the background and returns its number at once; the
    /// result arrives as [`EngineUpdate::IntentDone`] with that number.
    pub fn send(self: &Arc<Self>, intent: Intent) -> u64 {
        let id = self.next_intent.fetch_add(1, Ordering::Relaxed);
        let session = Arc::clone(self);
        tokio::spawn(async move {
            let result = session
                .run(intent)
                .await
                .map(IntentResult::new)
                .map_err(|e| e.to_string());
            session
                .engine
                .announce(EngineUpdate::IntentDone { id, result });
        });
        id
    }

    /// Reads everyone followed the outbox way and the user's inbox, and
    /// leaves both subscribed: fetches the user's own lists first (from
    /// their relays and the discovery relays), then syncs.
    pub async fn refresh(&self) -> Result<SyncReport, SessionError> {
        let report = self.sync(|_| {}).await?;
        let read = read_relays(&self.settings());
        if !read.is_empty() {
            self.engine.sync_inbox(self.me, &read).await?;
            self.sync_legacy_dms().await?;
        }
        self.engine.fetch_profiles().await?;
        self.forget_names_index();
        // The follows' lists came with their notes: take them into the web
        // of trust now rather than at the next query.
        self.refresh_trust()?;
        self.sync_dm_wraps().await?;
        Ok(report)
    }
}

/// One run of periodic work: the session and the run's number (0: the
/// run at start, which someone may be waiting for).
type Work = fn(
    Arc<Session>,
    u64,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), SessionError>> + Send>,
>;

/// Runs `work` after `first`, then every `every` while the session lives.
fn periodic(
    session: Weak<Session>,
    first: Duration,
    every: Duration,
    work: Work,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(jittered(first)).await;
        // A run after a wait counts as a later run (nobody waits on it).
        let later = u64::from(!first.is_zero());
        for run in later.. {
            let Some(s) = session.upgrade() else { break };
            if let Err(e) = work(Arc::clone(&s), run).await {
                tracing::warn!(error = %e, "background work failed");
                s.engine
                    .announce(EngineUpdate::Phase(format!("background work failed: {e}")));
            }
            drop(s);
            // No fixed period: relays comparing logs could match the clock.
            tokio::time::sleep(jittered(every)).await;
        }
    })
}
