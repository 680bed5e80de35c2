//! The demo's web of trust: after the sync, what the user's network lets
//! through — the inbox, a followed person's thread, private messages — and
//! the lookalike flagged, each computed here from the follows' follow and
//! mute lists (which came in the same REQs as their notes).

use nostr::prelude::*;
use samizdat_client::Session;
use samizdat_demo::DemoNetwork;
use serde_json::json;

/// What the demo shows of the web of trust.
#[derive(Debug)]
pub struct TrustSummary {
    /// Inbox items shown, as "name: text".
    pub inbox_shown: Vec<String>,
    /// Inbox items from people outside the network, hidden.
    pub inbox_hidden: usize,
    /// Replies hidden in the first follow's thread.
    pub thread_hidden: usize,
    /// Conversations opened (names).
    pub conversations: Vec<String>,
    /// Message requests (names), unopened.
    pub requests: Vec<String>,
    /// Names flagged as imitating a follow: (impostor's name, imitated name).
    pub lookalikes: Vec<(String, String)>,
}

/// Reads the inbox, the thread and the messages of the demo user.
pub async fn summary(session: &Session, network: &DemoNetwork) -> anyhow::Result<TrustSummary> {
    session.fetch_inbox(50).await?;
    session.sync_dms().await?;
    let (shown, held) = session.inbox_with_held(50)?;
    let mut people: Vec<PublicKey> = shown.iter().chain(&held.items).map(|e| e.pubkey).collect();
    let thread_hidden = match network
        .strangers
        .as_ref()
        .and_then(|s| network.people[s.imitated].notes.first().map(|n| n.id))
    {
        Some(id) => session.thread_read(id, false).await?.hidden.len(),
        None => 0,
    };
    let conversations = session.conversations().await?;
    let gate = session.dm_requests().await?;
    people.extend(conversations.iter().flat_map(|c| c.with.clone()));
    people.extend(gate.requests.iter().map(|r| r.from));
    people.sort();
    people.dedup();
    session.fetch_profiles_of(&people).await?;
    let imitators = session.lookalikes(&people)?;
    people.extend(imitators.values().copied());
    let names = session.names(&people)?;
    let name = |p: &PublicKey| names.get(p).cloned().unwrap_or_default();
    Ok(TrustSummary {
        inbox_shown: shown
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    name(&e.pubkey),
                    e.content.chars().take(50).collect::<String>()
                )
            })
            .collect(),
        inbox_hidden: held.outside_network,
        thread_hidden,
        conversations: conversations
            .iter()
            .map(|c| c.with.iter().map(name).collect::<Vec<_>>().join(", "))
            .collect(),
        requests: gate.requests.iter().map(|r| name(&r.from)).collect(),
        lookalikes: imitators
            .iter()
            .map(|(fake, real)| (name(fake), name(real)))
            .collect(),
    })
}

impl TrustSummary {
    /// As JSON (`samizdat demo --json`'s `trust`).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "inbox_shown": self.inbox_shown,
            "inbox_hidden": self.inbox_hidden,
            "thread_hidden": self.thread_hidden,
            "conversations": self.conversations,
            "requests": self.requests,
            "lookalikes": self.lookalikes,
        })
    }
}

/// Prints the summary.
pub fn print(s: &TrustSummary) {
    println!();
    println!("Web of trust (computed here from your follows' follow and mute lists):");
    println!(
        "  inbox: {} shown, {} from people outside your network hidden (samizdat inbox --all)",
        s.inbox_shown.len(),
        s.inbox_hidden
    );
    for line in &s.inbox_shown {
        println!("    {line}");
    }
    if s.thread_hidden > 0 {
        println!(
            "  a followed person's thread: {} reply from outside your network hidden",
            s.thread_hidden
        );
    }
    println!(
        "  messages: {} conversation(s) ({}); {} request(s) unopened ({})",
        s.conversations.len(),
        s.conversations.join("; "),
        s.requests.len(),
        s.requests.join("; ")
    );
    for (fake, real) in &s.lookalikes {
        println!("  ⚠ {fake:?} imitates {real}, whom you follow (another key)");
    }
}
