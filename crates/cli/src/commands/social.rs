//! The client commands on the session: follow lists, sync, feed, post,
//! reply, react, repost, delete, inbox, and where posts landed. Each one
//! parses its arguments, makes one call into the session, and prints.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use nostr::prelude::*;
use samizdat_client::changes::ListEdit;
use samizdat_client::{LockedSigner, Published, Session, SessionConfig, Settings, Signer};
use samizdat_store::{DeliveryState, HintSource, Store};
use serde_json::json;

use super::keys::Context;

/// Whether a command needs to sign (asks for the passphrase) or only reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read only: no passphrase, every signature refused.
    Read,
    /// Signs through the profile's signer (local key or remote signer).
    Sign,
}

/// The session configuration for one CLI command: short timeouts, since a
/// person is waiting at the terminal.
pub(crate) fn cli_config(ctx: &Context) -> anyhow::Result<SessionConfig> {
    let mut config = SessionConfig::default();
    config.engine.phase_timeout = Duration::from_secs(15);
    config.engine.net.transport = ctx.transport()?;
    config.engine.net.transport.connect_timeout = Duration::from_secs(5);
    config.engine.net.ok_timeout = Duration::from_secs(5);
    Ok(config)
}

/// Opens this profile's session.
pub(crate) async fn session(ctx: &Context, access: Access) -> anyhow::Result<Arc<Session>> {
    let profile = ctx.profile()?;
    profile.create_dir()?;
    ctx.check_proxy().await?;
    let store = Arc::new(Store::open(profile.store_path())?);
    let signer: Arc<dyn Signer> = match access {
        Access::Read => Arc::new(LockedSigner(me(ctx, &profile, &store).await?)),
        Access::Sign => super::keys::signer(ctx, &profile, &store).await?,
    };
    Ok(Session::with_store(
        store,
        profile.settings_path(),
        signer,
        cli_config(ctx)?,
    )?)
}

/// The profile's public key: remembered in the settings after the first
/// unlock (it is public), so read-only commands ask for no passphrase.
async fn me(
    ctx: &Context,
    profile: &samizdat_client::Profile,
    store: &Arc<Store>,
) -> anyhow::Result<PublicKey> {
    let settings = Settings::load(&profile.settings_path())?;
    if let Some(pk) = settings
        .pubkey
        .as_deref()
        .and_then(|p| PublicKey::from_hex(p).ok())
    {
        return Ok(pk);
    }
    Ok(super::keys::signer(ctx, profile, store).await?.public_key())
}

/// Reads a person as npub, nprofile, hex, or a NIP-05 `name@domain`
/// (resolved over the network).
pub async fn parse_person(ctx: &Context, input: &str) -> anyhow::Result<PublicKey> {
    Ok(parse_person_with_hints(ctx, input).await?.key)
}

/// A person as the user named them, with the relays the reference names.
pub struct PersonRef {
    /// Their key.
    pub key: PublicKey,
    /// An nprofile's relay hints, or the relays a NIP-05 document lists.
    pub hints: Vec<String>,
    /// Which of the two the hints are.
    pub source: HintSource,
}

/// Like [`parse_person`], with the relays the reference names.
pub async fn parse_person_with_hints(ctx: &Context, input: &str) -> anyhow::Result<PersonRef> {
    let input = input.trim().trim_start_matches("nostr:");
    if input.contains('@') {
        ctx.check_proxy().await?;
        let (key, hints) = samizdat_net::resolve_nip05(input, &ctx.transport()?).await?;
        return Ok(PersonRef {
            key,
            hints,
            source: HintSource::Nip05,
        });
    }
    if input.starts_with("nprofile1") {
        let p = nostr::nips::nip19::Nip19Profile::from_bech32(input)?;
        return Ok(PersonRef {
            key: p.public_key,
            hints: p.relays.iter().map(|r| r.to_string()).collect(),
            source: HintSource::Reference,
        });
    }
    let key = PublicKey::parse(input).with_context(|| {
        format!("{input:?} is not an npub, nprofile, hex public key or name@domain")
    })?;
    Ok(PersonRef {
        key,
        hints: Vec::new(),
        source: HintSource::Reference,
    })
}

/// Records the reference's relays as evidence and asks them for the
/// person's relay list (their list may be on no discovery relay).
pub(crate) async fn look_where_hinted(session: &Session, person: &PersonRef) {
    if person.hints.is_empty() {
        return;
    }
    match session
        .fetch_relay_list_from(person.key, &person.hints, person.source)
        .await
    {
        Ok(skipped) => {
            for (relay, why) in skipped {
                eprintln!("note: {relay} not asked: {why}");
            }
        }
        Err(e) => eprintln!("note: the relays the reference names did not answer: {e}"),
    }
}

/// Reads an event reference: note, nevent or hex id.
pub(crate) fn parse_event_id(input: &str) -> anyhow::Result<EventId> {
    Ok(parse_event_ref(input)?.0)
}

/// Reads an event reference with what an nevent says besides the id: its
/// author and relay hints (as a [`PersonRef`] when the author is named).
pub(crate) fn parse_event_ref(input: &str) -> anyhow::Result<(EventId, Option<PersonRef>)> {
    let input = input.trim().trim_start_matches("nostr:");
    if input.starts_with("nevent1") {
        let n = nostr::nips::nip19::Nip19Event::from_bech32(input)?;
        let author = n.author.map(|key| PersonRef {
            key,
            hints: n.relays.iter().map(|r| r.to_string()).collect(),
            source: HintSource::Reference,
        });
        return Ok((n.event_id, author));
    }
    let id = EventId::parse(input)
        .with_context(|| format!("{input:?} is not a note, nevent or hex event id"))?;
    Ok((id, None))
}

/// Prints what was published and each relay's answer.
pub(crate) fn report(what: &str, published: &Published) -> anyhow::Result<()> {
    println!("{what} {}", published.event.id.to_bech32()?);
    for (relay, outcome) in &published.deliveries {
        println!("  {relay}: {outcome:?}");
    }
    Ok(())
}

/// Prints what a list edit did: the new version and each relay's answer,
/// what no longer applied, or what waits and why.
pub(crate) fn report_edit(what: &str, edit: &ListEdit) -> anyhow::Result<()> {
    for (change, why) in &edit.dropped {
        println!("dropped: {} ({why})", change.change.describe());
    }
    match &edit.published {
        Some(published) => {
            if edit.applied.len() > 1 {
                println!("{}", edit.summary());
            }
            report(what, published)
        }
        None => {
            println!("{}", edit.summary());
            for change in &edit.waiting {
                println!("  #{} {}", change.id, change.describe());
            }
            if !edit.waiting.is_empty() {
                println!("it goes out when a relay answers: `samizdat changes apply` (or leave the app running); `samizdat changes cancel N` drops one");
            }
            Ok(())
        }
    }
}

/// Runs `samizdat follow` / `unfollow`: starts from the newest follow list on
/// any of the user's relays, changes one entry, keeps everything else.
pub async fn follow(ctx: &Context, person: &str, add: bool) -> anyhow::Result<()> {
    let person = parse_person_with_hints(ctx, person).await?;
    let who = person.key;
    let session = session(ctx, Access::Sign).await?;
    if add {
        look_where_hinted(&session, &person).await;
    }
    let result = session.follow(who, add).await;
    session.shutdown().await;
    let edit = result?;
    if edit.published.is_some() {
        println!(
            "{} {}",
            if add { "following" } else { "unfollowed" },
            who.to_bech32()?
        );
    }
    report_edit("follow list", &edit)
}

/// Runs `samizdat follows`.
pub async fn follows(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let list = session.follows()?;
    if as_json {
        println!(
            "{}",
            json!(list.iter().map(|p| p.to_hex()).collect::<Vec<_>>())
        );
    } else {
        for p in list {
            println!("{}", p.to_bech32()?);
        }
    }
    Ok(())
}

/// Runs `samizdat sync`: read everyone followed, the outbox way.
pub async fn sync(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    let report = session.sync(|msg| bar.set_message(msg.to_owned())).await;
    bar.finish_and_clear();
    session.shutdown().await;
    let report = report?;
    if as_json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let notes: usize = report.relays.values().map(|o| o.events).sum();
        println!(
            "synced {} follows from {} relays: {} new events, {} read from your relays (no relay list), {} orphans",
            report.follows,
            report.plan.asked().len(),
            notes,
            report.plan.unlisted_people().len(),
            report.plan.orphans.len()
        );
    }
    Ok(())
}

/// Runs `samizdat feed`: the following feed from the local store.
pub async fn feed(
    ctx: &Context,
    limit: usize,
    before: Option<u64>,
    as_json: bool,
) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let feed = session.following_feed(limit, before.map(Timestamp::from_secs))?;
    super::reading::print_events(&feed, as_json)
}

/// Runs `samizdat post`: sign (after proof of work, if asked), queue
/// durably, deliver to the user's write relays.
pub async fn post(ctx: &Context, text: &str, pow: Option<u8>) -> anyhow::Result<()> {
    let session = session(ctx, Access::Sign).await?;
    let result = match pow.or(session.settings().pow).filter(|d| *d > 0) {
        Some(d) => mine_and(&session, text, None, d).await,
        None => session.post(text).await.map_err(Into::into),
    };
    session.shutdown().await;
    report("posted", &result?)
}

/// Runs `samizdat pow [BITS]`.
pub async fn pow_default(ctx: &Context, bits: Option<u8>) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    if let Some(b) = bits {
        session.set_pow_default(Some(b))?;
    }
    match session.settings().pow {
        Some(b) => println!("posts and replies get {b} bits of proof of work (NIP-13)"),
        None => println!("no proof of work by default"),
    }
    Ok(())
}

/// Mines proof of work with a progress bar (hash rate, expected time);
/// Ctrl-C cancels and nothing is published.
async fn mine_and(
    session: &Session,
    text: &str,
    reply_to: Option<EventId>,
    difficulty: u8,
) -> anyhow::Result<Published> {
    use std::sync::atomic::Ordering;
    let progress = samizdat_client::pow::PowProgress::new();
    let expected = samizdat_client::pow::PowProgress::expected_hashes(difficulty);
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let ticker = {
        let (progress, bar) = (Arc::clone(&progress), bar.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let done = progress.hashes.load(Ordering::Relaxed) as f64;
                let rate = done / started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "proof of work {difficulty} bits: {:.2} Mhash/s, {:.0} s expected, {:.0}% of expected work done (Ctrl-C cancels)",
                    rate / 1e6,
                    expected / rate.max(1.0),
                    100.0 * done / expected
                ));
            }
        })
    };
    let cancel = {
        let progress = Arc::clone(&progress);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                progress.cancel.store(true, Ordering::SeqCst);
            }
        })
    };
    let result = session
        .post_with_pow(text, reply_to, difficulty, Arc::clone(&progress))
        .await;
    ticker.abort();
    cancel.abort();
    bar.finish_and_clear();
    Ok(result?)
}

/// Runs `samizdat status`: retries what is due, then shows list changes that
/// wait and where recent posts landed.
pub async fn status(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let delivered = session.engine().deliver_due().await;
    let status = session.publish_status(20);
    let waiting = session.waiting_changes();
    session.shutdown().await;
    delivered?;
    let status = status?;
    let waiting = waiting?;
    if as_json {
        let v: Vec<_> = status
            .iter()
            .map(|q| {
                json!({
                    "id": q.event.id.to_hex(),
                    "kind": q.event.kind.as_u16(),
                    "deliveries": q.deliveries.iter().map(|d| json!({
                        "relay": d.relay, "state": format!("{:?}", d.state).to_lowercase(),
                        "attempts": d.attempts, "last_error": d.last_error,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        // The waiting list changes are in `samizdat changes --json`.
        println!("{}", json!(v));
        return Ok(());
    }
    super::changes::print_waiting(&waiting, false);
    for q in status {
        let landed = q
            .deliveries
            .iter()
            .filter(|d| d.state == DeliveryState::Delivered)
            .count();
        println!(
            "kind {} {}: on {landed} of {} relays",
            q.event.kind.as_u16(),
            q.event.id.to_bech32()?,
            q.deliveries.len()
        );
        for d in q
            .deliveries
            .iter()
            .filter(|d| d.state != DeliveryState::Delivered)
        {
            println!(
                "  {} {:?} after {} attempts: {}",
                d.relay,
                d.state,
                d.attempts,
                d.last_error.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// Runs `samizdat reply`: NIP-10 tags, delivered to the user's write relays
/// and the inboxes of everyone in the conversation.
pub async fn reply(ctx: &Context, to: &str, text: &str, pow: Option<u8>) -> anyhow::Result<()> {
    let id = parse_event_id(to)?;
    let session = session(ctx, Access::Sign).await?;
    let result = match pow.or(session.settings().pow).filter(|d| *d > 0) {
        Some(d) => mine_and(&session, text, Some(id), d).await,
        None => session.reply(id, text).await.map_err(Into::into),
    };
    session.shutdown().await;
    report("replied", &result?)
}

/// Runs `samizdat inbox`: replies and mentions from the user's read relays;
/// items from people outside the user's network (and strangers' items via
/// relays that are not spam-safe) are held back unless `all`.
pub async fn inbox(ctx: &Context, limit: usize, as_json: bool, all: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let fetched = session.fetch_inbox(limit).await;
    let items = if all {
        session.inbox_all(limit).map(|i| (i, Default::default()))
    } else {
        session.inbox_with_held(limit)
    };
    // Read before the session closes; an unreadable inbox reports its own error below.
    let flagged = match &items {
        Ok((i, _)) => super::reading::lookalikes_in(&session, i),
        Err(_) => Ok(Default::default()),
    };
    session.shutdown().await;
    fetched?;
    let (items, held): (Vec<Event>, samizdat_client::everyday::HeldBack) = items?;
    let flagged = flagged?;
    if as_json {
        println!(
            "{}",
            json!({"items": items.iter().map(|e| serde_json::to_value(e).unwrap_or_default()).collect::<Vec<_>>(), "held_back": held,
                   "imitators": flagged.keys().map(|p| p.to_hex()).collect::<Vec<_>>()})
        );
        return Ok(());
    }
    super::reading::print_flagged(&items, &flagged, false)?;
    super::reading::print_hidden(held.outside_network, "items");
    let strangers = held.total - held.outside_network;
    if strangers > 0 {
        let from: Vec<String> = held
            .by_relay
            .iter()
            .map(|(r, n)| format!("{r} ({n})"))
            .collect();
        println!(
            "{strangers} held back (people you don't follow, via relays that are not spam-safe): {}",
            from.join(", ")
        );
    }
    Ok(())
}

/// Runs `samizdat search`: the local store at once (nothing leaves this
/// machine); with `--relay`, also that one search relay (NIP-50). Results
/// from people outside the user's network are hidden unless `all`.
pub async fn search(
    ctx: &Context,
    text: &str,
    relay: Option<&str>,
    as_json: bool,
    all: bool,
) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let asked = match relay {
        Some(r) => session.search_relay(text, r, 50).await.map(|_| ()),
        None => Ok(()),
    };
    let found = session.search_screened(text, 50);
    let found = asked.and(found).map(|mut f| {
        if all {
            f.shown.append(&mut f.hidden);
            f.shown
                .sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
        }
        f
    });
    let flagged = match &found {
        Ok(f) => super::reading::lookalikes_in(&session, &f.shown),
        Err(_) => Ok(Default::default()),
    };
    session.shutdown().await;
    let found = found?;
    super::reading::print_flagged(&found.shown, &flagged?, as_json)?;
    super::reading::print_hidden(found.hidden.len(), "results");
    Ok(())
}

/// Runs `samizdat privacy`: what each relay has learned from this profile.
pub async fn privacy(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let report = session.privacy_report();
    session.shutdown().await;
    let report = report?;
    if as_json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!("{}", report.posture);
    if report.relays.is_empty() {
        println!("no relay has learned anything from this profile yet");
    }
    for r in &report.relays {
        println!("{}", r.summary);
    }
    println!(
        "the most any one relay learned: {:.0}% of your {} follows",
        report.max_follow_share * 100.0,
        report.follows
    );
    Ok(())
}

/// Runs `samizdat alerts`: what needs attention now.
pub async fn alerts(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let fetched = session.fetch_own().await;
    let alerts = session.alerts();
    session.shutdown().await;
    if let Err(e) = fetched {
        eprintln!("note: could not fetch your lists from your relays: {e}");
    }
    let alerts = alerts?;
    if as_json {
        println!("{}", serde_json::to_string(&alerts)?);
        return Ok(());
    }
    if alerts.is_empty() {
        println!("nothing needs your attention");
    }
    for a in &alerts {
        use samizdat_client::everyday::Pending;
        match a {
            Pending::NotEverywhere { event, missing } => {
                let m: Vec<String> = missing.iter().map(|(r, e)| format!("{r} ({})", e.as_deref().unwrap_or("pending"))).collect();
                println!("event {event} is not yet on: {}", m.join(", "));
            }
            Pending::AsksFirst { relay, what } => println!("{relay} will ask you before {what}"),
            Pending::ChangedElsewhere { list, at } => println!("your {list} was changed elsewhere (at {at}); your next edit starts from that copy"),
            Pending::ChangesWaiting { list, count, oldest_secs } => println!(
                "{} (oldest {}); see samizdat changes",
                samizdat_client::changes::waiting_sentence(list, *count),
                samizdat_client::changes::age_words(*oldest_secs)
            ),
            Pending::WeakKey => println!("your key was once handled in plain form (imported as nsec or exported): consider a new key"),
            Pending::NoDmRelays => println!("you have no DM relays: nobody can send you private messages (samizdat dm relays set URL…)"),
        }
    }
    Ok(())
}

/// What to do about an existing event.
pub enum Action {
    /// NIP-25 reaction with this content (`+`, `-`, an emoji).
    React(String),
    /// NIP-18 repost.
    Repost,
    /// NIP-09 deletion request, with an optional reason.
    Delete(String),
}

/// Runs `samizdat react | repost | delete`.
pub async fn act(ctx: &Context, target: &str, action: Action) -> anyhow::Result<()> {
    let id = parse_event_id(target)?;
    let session = session(ctx, Access::Sign).await?;
    let (what, result) = match &action {
        Action::React(content) => ("reacted:", session.react(id, content).await),
        Action::Repost => ("reposted:", session.repost(id).await),
        Action::Delete(reason) => ("deletion requested:", session.delete(id, reason).await),
    };
    session.shutdown().await;
    report(what, &result?)
}
