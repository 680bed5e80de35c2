//! `samizdat relay --mirror URL`: the relay pulls from another relay exactly
//! the events it lacks, by NIP-77 negentropy over its own store, and takes
//! them in through the same checks and policy as any EVENT (then fans them
//! out to live subscriptions). Two relays of one person stay in step without
//! either re-sending what the other holds.
//!
//! The network side is the client's `net` pool (every event verified before
//! it is kept) over a scratch store; nothing reaches the relay's store except
//! through [`RelayHandle::ingest`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, Pool, PoolEvent, RelayUrl};
use samizdat_relay::RelayHandle;
use samizdat_store::Store;
use tokio::sync::mpsc;

/// Ids per REQ filter when fetching what is missing.
const IDS_PER_FILTER: usize = 500;

/// Longest one reconciliation or fetch may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(120);

/// What one mirror run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorReport {
    /// Events this relay held that matched (the negentropy set).
    pub held_here: usize,
    /// Events the other relay has and this one lacked.
    pub missing_here: usize,
    /// Of those, fetched (verified) from the other relay.
    pub fetched: usize,
    /// Of those, stored here.
    pub stored: usize,
    /// Refused by this relay's checks or policy.
    pub refused: usize,
    /// Events this relay has and the other lacks (not pushed).
    pub missing_there: usize,
    /// Negentropy bytes exchanged.
    pub reconcile_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

impl MirrorReport {
    /// One line for the operator.
    pub fn line(&self, from: &str) -> String {
        format!(
            "mirror {from}: {} missing here, {} fetched, {} stored, {} refused by policy or checks; \
             {} held here that it lacks; {} bytes of negentropy, {} ms",
            self.missing_here,
            self.fetched,
            self.stored,
            self.refused,
            self.missing_there,
            self.reconcile_bytes,
            self.elapsed.as_millis()
        )
    }
}

/// A connection to the relay being mirrored.
pub struct Mirror {
    pool: Pool,
    /// Where the pool keeps what it fetched (verified).
    scratch_store: Arc<Store>,
    events: mpsc::Receiver<PoolEvent>,
    from: RelayUrl,
    next_sub: u64,
    _scratch: tempfile::TempDir,
}

impl Mirror {
    /// Prepares to mirror `from` (nothing connects until [`Mirror::run`]).
    pub fn new(from: &str) -> anyhow::Result<Self> {
        let scratch = tempfile::tempdir().context("creating the mirror's scratch directory")?;
        let store = Arc::new(Store::open(scratch.path().join("mirror.sqlite"))?);
        let config = NetConfig {
            eose_timeout: EXCHANGE_TIMEOUT,
            ..NetConfig::default()
        };
        let (pool, events) = Pool::new(config, Arc::clone(&store), PolicyBook::new(), None);
        let from = pool
            .relay_url(from)
            .with_context(|| format!("mirror address {from:?}"))?;
        Ok(Self {
            pool,
            scratch_store: store,
            events,
            from,
            next_sub: 0,
            _scratch: scratch,
        })
    }

    /// The mirrored relay.
    pub fn url(&self) -> &RelayUrl {
        &self.from
    }

    /// One pass: reconcile `filter` against what `relay` holds, fetch what
    /// is missing here, and ingest it.
    pub async fn run(
        &mut self,
        relay: &RelayHandle,
        filter: Filter,
    ) -> anyhow::Result<MirrorReport> {
        let started = Instant::now();
        let store = Arc::clone(relay.store());
        let mut everything = filter.clone();
        everything.limit = Some(usize::MAX / 2);
        let held = tokio::task::spawn_blocking(move || store.query(&[everything]))
            .await
            .context("reading this relay's events")??;
        let items: Vec<(Timestamp, EventId)> = held.iter().map(|e| (e.created_at, e.id)).collect();
        let outcome = self
            .pool
            .negentropy(&self.from, filter, items, EXCHANGE_TIMEOUT)
            .await
            .with_context(|| format!("reconciling with {}", self.from))?;
        let fetched = self.fetch(&outcome.need).await?;
        let results = relay.ingest(fetched.clone()).await;
        let stored = results
            .iter()
            .filter(|r| r.as_ref().is_ok_and(|o| o.is_stored()))
            .count();
        for refusal in results.iter().filter_map(|r| r.as_ref().err()).take(3) {
            tracing::info!(from = %self.from, reason = %refusal, "mirrored event refused");
        }
        Ok(MirrorReport {
            held_here: held.len(),
            missing_here: outcome.need.len(),
            fetched: fetched.len(),
            stored,
            refused: results.iter().filter(|r| r.is_err()).count(),
            missing_there: outcome.have.len(),
            reconcile_bytes: outcome.bytes_sent + outcome.bytes_received,
            elapsed: started.elapsed(),
        })
    }

    /// Fetches `ids` from the mirrored relay; the verified events it sent
    /// (read back from the scratch store, so an event fetched in an earlier
    /// pass and refused here then counts again).
    async fn fetch(&mut self, ids: &[EventId]) -> anyhow::Result<Vec<Event>> {
        let mut got = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_FILTER * 8) {
            let since = Timestamp::now().as_secs();
            self.next_sub += 1;
            let sub = format!("mirror-{}", self.next_sub);
            let filters: Vec<Filter> = chunk
                .chunks(IDS_PER_FILTER)
                .map(|c| Filter::new().ids(c.iter().copied()).limit(c.len()))
                .collect();
            self.pool.subscribe(&self.from, &sub, filters)?;
            let deadline = tokio::time::Instant::now() + EXCHANGE_TIMEOUT;
            loop {
                let event = tokio::time::timeout_at(deadline, self.events.recv()).await;
                match event {
                    Ok(Some(PoolEvent::Eose { sub: s, .. })) if s == sub => break,
                    Ok(Some(PoolEvent::Closed { sub: s, reason, .. })) if s == sub => {
                        bail!("{} closed the fetch: {reason}", self.from)
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => bail!("the connection to {} ended", self.from),
                    Err(_) => bail!("{} did not answer the fetch in time", self.from),
                }
            }
            self.pool.unsubscribe(&self.from, &sub)?;
            let sent = self
                .scratch_store
                .seen_since(&self.from.to_string(), chunk, since)?;
            let sent: Vec<EventId> = sent.into_iter().collect();
            for part in sent.chunks(IDS_PER_FILTER) {
                let filter = Filter::new().ids(part.iter().copied()).limit(part.len());
                got.extend(self.scratch_store.query(&[filter])?);
            }
        }
        Ok(got)
    }

    /// Closes the connection.
    pub async fn shutdown(self) {
        self.pool.shutdown().await;
    }
}
