//! The client commands on the engine: relay settings, follow lists, sync,
//! feed, post, and where posts landed.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use nostr::prelude::*;
use samizdat_client::{Engine, EngineConfig, LocalSigner, Profile, Settings, Signer};
use samizdat_net::RelayUrl;
use samizdat_store::{DeliveryState, Store};
use serde_json::json;

use super::keys::Context;

pub(crate) fn settings_of(profile: &Profile) -> anyhow::Result<Settings> {
    Ok(Settings::load(&profile.settings_path())?)
}

pub(crate) fn engine_for(profile: &Profile, settings: &Settings) -> anyhow::Result<Engine> {
    profile.create_dir()?;
    let store = Arc::new(Store::open(profile.store_path())?);
    let mut config = EngineConfig {
        discovery: settings.discovery_relays(),
        phase_timeout: Duration::from_secs(15),
        ..EngineConfig::default()
    };
    config.net.transport.connect_timeout = Duration::from_secs(5);
    config.net.ok_timeout = Duration::from_secs(5);
    Ok(Engine::new(store, config, settings.policy_book()))
}

/// Own relays plus discovery relays, once each.
pub(crate) fn own_and_discovery(settings: &Settings) -> Vec<RelayUrl> {
    let mut all: Vec<RelayUrl> = settings
        .relays
        .keys()
        .filter_map(|u| RelayUrl::parse(u).ok())
        .collect();
    for d in settings.discovery_relays() {
        if !all.contains(&d) {
            all.push(d);
        }
    }
    all
}

/// Reads a person as npub, nprofile, hex, or a NIP-05 `name@domain`
/// (resolved over the network).
pub async fn parse_person(input: &str) -> anyhow::Result<PublicKey> {
    let input = input.trim().trim_start_matches("nostr:");
    if input.contains('@') {
        let (key, _relays) =
            samizdat_net::resolve_nip05(input, &samizdat_net::TransportConfig::default()).await?;
        return Ok(key);
    }
    if input.starts_with("nprofile1") {
        return Ok(nostr::nips::nip19::Nip19Profile::from_bech32(input)?.public_key);
    }
    PublicKey::parse(input).with_context(|| {
        format!("{input:?} is not an npub, nprofile, hex public key or name@domain")
    })
}

/// Runs `samizdat follow` / `unfollow`: starts from the newest follow list on
/// any of the user's relays, changes one entry, keeps everything else.
pub async fn follow(ctx: &Context, person: &str, add: bool) -> anyhow::Result<()> {
    let who = parse_person(person).await?;
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let targets = own_and_discovery(&settings);
    if settings.write_relays().is_empty() {
        bail!("add a relay you write to first: samizdat relays add URL --write");
    }
    let (keys, _) = super::keys::open(ctx, &profile).await?;
    let me = keys.public_key();
    let mut engine = engine_for(&profile, &settings)?;
    engine.keep_history_for(me)?;
    engine.fetch_own(me, &targets).await?;
    let current = engine.contact_list(me)?;
    let mut tags: Vec<Tag> = current
        .as_ref()
        .map(|e| e.tags.iter().cloned().collect())
        .unwrap_or_default();
    let present = tags
        .iter()
        .any(|t| t.as_slice().get(1).is_some_and(|v| *v == who.to_hex()));
    match (add, present) {
        (true, true) => bail!("already following {}", who.to_bech32()?),
        (false, false) => bail!("not following {}", who.to_bech32()?),
        (true, false) => tags.push(Tag::public_key(who)),
        (false, true) => tags.retain(|t| {
            !(t.as_slice().first().is_some_and(|k| k == "p")
                && t.as_slice().get(1).is_some_and(|v| *v == who.to_hex()))
        }),
    }
    let created_at = strictly_after(current.as_ref());
    let content = current.map(|e| e.content).unwrap_or_default();
    let unsigned = EventBuilder::new(Kind::ContactList, content)
        .tags(tags)
        .custom_created_at(created_at)
        .finalize_unsigned(me);
    let event = LocalSigner::new(keys).sign_event(unsigned).await?;
    let results = engine.publish(&event, &targets).await?;
    println!(
        "{} {}",
        if add { "following" } else { "unfollowed" },
        who.to_bech32()?
    );
    report_delivery(&results);
    engine.shutdown().await;
    Ok(())
}

/// A time for a replaceable event that is strictly newer than the copy it
/// replaces: a same-second tie would be decided by id, not by intent.
pub(crate) fn strictly_after(current: Option<&Event>) -> Timestamp {
    let after = current.map_or(0, |e| e.created_at.as_secs() + 1);
    Timestamp::from_secs(Timestamp::now().as_secs().max(after))
}

pub(crate) fn report_delivery(results: &[(String, samizdat_net::PublishOutcome)]) {
    for (relay, outcome) in results {
        println!("  {relay}: {outcome:?}");
    }
}

/// The profile's public key: remembered in the settings after the first
/// unlock (it is public), so read-only commands ask for no passphrase.
pub(crate) async fn me(ctx: &Context, profile: &Profile) -> anyhow::Result<PublicKey> {
    let mut settings = settings_of(profile)?;
    if let Some(pk) = settings
        .pubkey
        .as_deref()
        .and_then(|p| PublicKey::from_hex(p).ok())
    {
        return Ok(pk);
    }
    let (keys, _) = super::keys::open(ctx, profile).await?;
    settings.pubkey = Some(keys.public_key().to_hex());
    settings.save(&profile.settings_path())?;
    Ok(keys.public_key())
}

/// Runs `samizdat follows`.
pub async fn follows(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let engine = engine_for(&profile, &settings)?;
    let list = engine.follows_of(me)?;
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
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let mut engine = engine_for(&profile, &settings)?;
    engine.fetch_own(me, &own_and_discovery(&settings)).await?;
    let follows = engine.follows_of(me)?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(100));
    let report = engine
        .sync(&follows, |msg| bar.set_message(msg.to_owned()))
        .await?;
    bar.finish_and_clear();
    if as_json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let notes: usize = report.relays.values().map(|o| o.events).sum();
        println!(
            "synced {} follows from {} relays: {} new events, {} orphans",
            report.follows,
            report.plan.connections,
            notes,
            report.plan.orphans.len()
        );
    }
    engine.shutdown().await;
    Ok(())
}

/// Runs `samizdat feed`: the following feed from the local store.
pub async fn feed(
    ctx: &Context,
    limit: usize,
    before: Option<u64>,
    as_json: bool,
) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let engine = engine_for(&profile, &settings)?;
    let follows = engine.follows_of(me)?;
    let feed = match before {
        Some(t) => engine.following_feed_before(&follows, Timestamp::from_secs(t), limit)?,
        None => engine.following_feed(&follows, limit)?,
    };
    super::reading::print_events(&feed, as_json)?;
    Ok(())
}

/// Runs `samizdat post`: sign, queue durably, deliver to the user's write relays.
pub async fn post(ctx: &Context, text: &str) -> anyhow::Result<()> {
    if text.trim().is_empty() {
        bail!("nothing to post");
    }
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let targets = settings.write_relays();
    if targets.is_empty() {
        bail!("add a relay you write to first: samizdat relays add URL --write");
    }
    let (keys, _) = super::keys::open(ctx, &profile).await?;
    let unsigned = EventBuilder::new(Kind::TextNote, text).finalize_unsigned(keys.public_key());
    let event = LocalSigner::new(keys).sign_event(unsigned).await?;
    let engine = engine_for(&profile, &settings)?;
    let results = engine.publish(&event, &targets).await?;
    println!("posted {}", event.id.to_bech32()?);
    report_delivery(&results);
    engine.shutdown().await;
    Ok(())
}

/// Runs `samizdat status`: retries what is due, then shows where recent posts landed.
pub async fn status(ctx: &Context, as_json: bool) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let engine = engine_for(&profile, &settings)?;
    engine.deliver_due().await?;
    let status = engine.publish_status(20)?;
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
        println!("{}", json!(v));
    } else {
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
    }
    engine.shutdown().await;
    Ok(())
}

/// Reads an event reference: note, nevent or hex id.
pub(crate) fn parse_event_id(input: &str) -> anyhow::Result<EventId> {
    let input = input.trim().trim_start_matches("nostr:");
    if input.starts_with("nevent1") {
        return Ok(nostr::nips::nip19::Nip19Event::from_bech32(input)?.event_id);
    }
    EventId::parse(input)
        .with_context(|| format!("{input:?} is not a note, nevent or hex event id"))
}

/// NIP-10 tags for a reply to `parent`: root and reply markers, and every
/// person in the conversation (`p`) except the author of the reply.
fn reply_tags(parent: &Event, me: PublicKey) -> Vec<Tag> {
    let root = parent.tags.iter().find_map(|t| {
        let s = t.as_slice();
        (s.first().map(String::as_str) == Some("e") && s.get(3).map(String::as_str) == Some("root"))
            .then(|| s.get(1).cloned())
            .flatten()
    });
    let mut tags = Vec::new();
    match root {
        Some(root) => {
            tags.extend(Tag::parse(["e", root.as_str(), "", "root"]).ok());
            tags.extend(Tag::parse(["e", parent.id.to_hex().as_str(), "", "reply"]).ok());
        }
        None => tags.extend(Tag::parse(["e", parent.id.to_hex().as_str(), "", "root"]).ok()),
    }
    let mut people = vec![parent.pubkey];
    people.extend(parent.tags.public_keys());
    let mut seen = std::collections::BTreeSet::new();
    for p in people {
        if p != me && seen.insert(p) {
            tags.push(Tag::public_key(p));
        }
    }
    tags
}

/// What a command about an existing event needs: the profile's write
/// relays, an engine over its store, the stored event, and the unlocked key.
struct AboutEvent {
    own: Vec<RelayUrl>,
    engine: Engine,
    subject: Event,
    keys: Keys,
}

async fn about_event(ctx: &Context, target: &str) -> anyhow::Result<AboutEvent> {
    let id = parse_event_id(target)?;
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let own = settings.write_relays();
    if own.is_empty() {
        bail!("add a relay you write to first: samizdat relays add URL --write");
    }
    let engine = engine_for(&profile, &settings)?;
    let Some(subject) = engine.event(id)? else {
        bail!(
            "event {} is not in the local store; run samizdat sync (or inbox) first",
            id.to_bech32()?
        );
    };
    let (keys, _) = super::keys::open(ctx, &profile).await?;
    Ok(AboutEvent {
        own,
        engine,
        subject,
        keys,
    })
}

/// Runs `samizdat reply`: NIP-10 tags, delivered to the user's write relays
/// and the inboxes of everyone in the conversation.
pub async fn reply(ctx: &Context, to: &str, text: &str) -> anyhow::Result<()> {
    let AboutEvent {
        own,
        mut engine,
        subject: parent,
        keys,
    } = about_event(ctx, to).await?;
    let me = keys.public_key();
    let unsigned = EventBuilder::new(Kind::TextNote, text)
        .tags(reply_tags(&parent, me))
        .finalize_unsigned(me);
    let event = LocalSigner::new(keys).sign_event(unsigned).await?;
    let tagged: Vec<PublicKey> = event.tags.public_keys().collect();
    engine.fetch_relay_lists(&tagged).await?;
    let targets = engine.publish_targets(&own, &event)?;
    let results = engine.publish(&event, &targets).await?;
    println!("replied {}", event.id.to_bech32()?);
    report_delivery(&results);
    engine.shutdown().await;
    Ok(())
}

/// Runs `samizdat inbox`: replies and mentions from the user's read relays.
pub async fn inbox(ctx: &Context, limit: usize, as_json: bool) -> anyhow::Result<()> {
    let profile = ctx.profile()?;
    let settings = settings_of(&profile)?;
    let me = me(ctx, &profile).await?;
    let read: Vec<RelayUrl> = settings
        .relays
        .iter()
        .filter(|(_, r)| r.read)
        .filter_map(|(u, _)| RelayUrl::parse(u).ok())
        .collect();
    if read.is_empty() {
        bail!("add a relay you read from first: samizdat relays add URL --read");
    }
    let mut engine = engine_for(&profile, &settings)?;
    engine.sync_inbox(me, &read).await?;
    let items = engine.inbox_feed(me, limit)?;
    super::reading::print_events(&items, as_json)?;
    engine.shutdown().await;
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

/// Runs `samizdat react | repost | delete`: an event about another event,
/// delivered to the user's write relays and (for reactions and reposts) the
/// author's inbox.
pub async fn act(ctx: &Context, target: &str, action: Action) -> anyhow::Result<()> {
    let AboutEvent {
        own,
        mut engine,
        subject,
        keys,
    } = about_event(ctx, target).await?;
    let me = keys.public_key();
    let e_tag = Tag::event(subject.id);
    let builder = match &action {
        Action::React(content) => EventBuilder::new(Kind::Reaction, content.as_str())
            .tag(e_tag)
            .tag(Tag::public_key(subject.pubkey))
            .tag(Tag::parse(["k", &subject.kind.as_u16().to_string()])?),
        Action::Repost => EventBuilder::new(Kind::Repost, subject.as_json())
            .tag(e_tag)
            .tag(Tag::public_key(subject.pubkey)),
        Action::Delete(reason) => {
            if subject.pubkey != me {
                bail!("only your own events can be deleted (NIP-09)");
            }
            EventBuilder::new(Kind::EventDeletion, reason.as_str())
                .tag(e_tag)
                .tag(Tag::parse(["k", &subject.kind.as_u16().to_string()])?)
        }
    };
    let event = LocalSigner::new(keys)
        .sign_event(builder.finalize_unsigned(me))
        .await?;
    let mut targets = own;
    if !matches!(action, Action::Delete(_)) && subject.pubkey != me {
        engine.fetch_relay_lists(&[subject.pubkey]).await?;
        targets = engine.publish_targets(&targets, &event)?;
    }
    let results = engine.publish(&event, &targets).await?;
    let what = match action {
        Action::React(_) => "reacted",
        Action::Repost => "reposted",
        Action::Delete(_) => "deletion requested",
    };
    println!("{what}: {}", event.id.to_bech32()?);
    report_delivery(&results);
    engine.shutdown().await;
    Ok(())
}
