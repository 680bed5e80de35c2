//! `samizdat dm`: private messages (NIP-17 gift wraps to each person's DM
//! relays, a copy to yourself; legacy NIP-04 shown, never sent). Every
//! subcommand unlocks the profile: reading needs the key too.

use nostr::prelude::*;
use serde_json::json;

use super::keys::Context;
use super::social::{parse_person, session, Access};

/// `samizdat dm …`.
#[derive(clap::Subcommand)]
pub enum DmCommand {
    /// Send a message: `dm send PERSON [PERSON…] TEXT` (several people: a group).
    Send {
        /// The people, then the text (last).
        #[arg(num_args = 2.., required = true)]
        args: Vec<String>,
        /// A subject for the conversation.
        #[arg(long)]
        subject: Option<String>,
    },
    /// Conversations, newest first, with unread counts (messages from
    /// people outside your network wait in `dm requests`).
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Open every message request too (each costs a decryption).
        #[arg(long)]
        all: bool,
    },
    /// Message requests: private messages from people outside your network,
    /// not opened (only the sender is known); `--open PERSON` opens theirs.
    Requests {
        /// Open this sender's messages and let them in for this session.
        #[arg(long)]
        open: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The messages with PERSON (or a group: several people), oldest first.
    Read {
        /// Who (everyone in the conversation but you).
        #[arg(required = true)]
        people: Vec<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Your DM relays (kind 10050): `dm relays` shows them, `dm relays set URL…` publishes them.
    Relays {
        #[command(subcommand)]
        action: Option<DmRelaysAction>,
    },
}

/// `samizdat dm relays …`.
#[derive(clap::Subcommand)]
pub enum DmRelaysAction {
    /// Publish these as your DM relays (AUTH is allowed there unless you set a policy).
    Set {
        /// Relay URLs.
        #[arg(required = true)]
        urls: Vec<String>,
    },
}

async fn people(ctx: &Context, inputs: &[String]) -> anyhow::Result<Vec<PublicKey>> {
    let mut out = Vec::new();
    for p in inputs {
        out.push(parse_person(ctx, p).await?);
    }
    Ok(out)
}

fn print_gate(gate: &samizdat_client::dm::GateReport) {
    if !gate.requests.is_empty() {
        let n: usize = gate.requests.iter().map(|r| r.messages).sum();
        println!(
            "{n} message request(s) from {} people outside your network: samizdat dm requests",
            gate.requests.len()
        );
    }
    if gate.waiting > 0 {
        println!(
            "{} gift wraps wait unopened: this hour's limit of strangers' wraps is spent (samizdat trust --wraps-per-hour N)",
            gate.waiting
        );
    }
}

fn npub(p: &PublicKey) -> String {
    p.to_bech32().unwrap_or_else(|_| p.to_hex())
}

/// Runs `samizdat dm`.
pub async fn dm(ctx: &Context, cmd: DmCommand) -> anyhow::Result<()> {
    let session = session(ctx, Access::Sign).await?;
    let result = run(ctx, &session, cmd).await;
    session.shutdown().await;
    result
}

async fn run(
    ctx: &Context,
    session: &samizdat_client::Session,
    cmd: DmCommand,
) -> anyhow::Result<()> {
    match cmd {
        DmCommand::Send { mut args, subject } => {
            let text = args.pop().unwrap_or_default();
            let to = people(ctx, &args).await?;
            let sent = session.send_dm(&to, &text, subject.as_deref()).await?;
            println!("sent {}", sent.id.to_hex());
            for (who, deliveries) in &sent.deliveries {
                let label = if *who == session.me() {
                    "you (copy)".to_owned()
                } else {
                    npub(who)
                };
                for (relay, outcome) in deliveries {
                    println!("  {label} via {relay}: {outcome:?}");
                }
            }
            if let Some(secs) = sent.self_copy_in {
                println!(
                    "  your own copy is queued for your DM relays in {secs} s, apart from this one \
                     (so the relay cannot pair them); the next command or the running app sends it"
                );
            }
        }
        DmCommand::List { json, all } => {
            session.sync_dms().await?;
            if all {
                session.dm_messages().await?;
                session.accept_all_requests().await?;
            }
            let list = session.conversations().await?;
            let gate = session.dm_requests().await?;
            let names =
                session.names(&list.iter().flat_map(|c| c.with.clone()).collect::<Vec<_>>())?;
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|c| {
                        json!({
                            "with": c.with.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                            "names": c.with.iter().map(|p| names.get(p).cloned().unwrap_or_default()).collect::<Vec<_>>(),
                            "last_at": c.last_at.as_secs(),
                            "preview": c.preview,
                            "messages": c.messages,
                            "unread": c.unread,
                            "subject": c.subject,
                            "legacy": c.legacy,
                        })
                    })
                    .collect();
                println!(
                    "{}",
                    json!({"conversations": rows, "dropped": session.dm_drops(), "requests": gate})
                );
                return Ok(());
            }
            if list.is_empty() {
                println!("no conversations");
            }
            for c in &list {
                let who: Vec<String> = c
                    .with
                    .iter()
                    .map(|p| names.get(p).cloned().unwrap_or_else(|| npub(p)))
                    .collect();
                let who = if who.is_empty() {
                    "(notes to self)".to_owned()
                } else {
                    who.join(", ")
                };
                let legacy = if c.legacy {
                    " [legacy NIP-04: its relays saw who and when]"
                } else {
                    ""
                };
                println!(
                    "{who}: {} messages, {} unread{legacy}",
                    c.messages, c.unread
                );
                println!("  {}", c.preview);
            }
            let drops = session.dm_drops();
            if !drops.is_empty() {
                println!("dropped: {drops:?}");
            }
            print_gate(&gate);
        }
        DmCommand::Requests { open, json } => {
            session.sync_dms().await?;
            if let Some(who) = open {
                let who = parse_person(ctx, &who).await?;
                let messages = session.accept_requests(who).await?;
                for m in &messages {
                    println!(
                        "[{}] {}: {}",
                        m.created_at.as_secs(),
                        npub(&m.author),
                        m.text
                    );
                }
                return Ok(());
            }
            let gate = session.dm_requests().await?;
            if json {
                println!("{}", serde_json::to_string(&gate)?);
                return Ok(());
            }
            let senders: Vec<PublicKey> = gate.requests.iter().map(|r| r.from).collect();
            let names = session.names(&senders)?;
            let imitators = session.imitated_names(&senders)?;
            if gate.requests.is_empty() {
                println!("no message requests");
            }
            for r in &gate.requests {
                let flag = imitators
                    .get(&r.from)
                    .map(|real| format!("  ⚠ name imitates {real}, whom you follow"))
                    .unwrap_or_default();
                println!(
                    "{} ({}): {} message(s), unopened{flag}",
                    names.get(&r.from).cloned().unwrap_or_default(),
                    npub(&r.from),
                    r.messages
                );
            }
            print_gate(&gate);
        }
        DmCommand::Read {
            people: inputs,
            json,
        } => {
            let with = people(ctx, &inputs).await?;
            session.sync_dms().await?;
            let messages = session.conversation(&with).await?;
            let names = session.names(&messages.iter().map(|m| m.author).collect::<Vec<_>>())?;
            if json {
                let rows: Vec<_> = messages
                    .iter()
                    .map(|m| {
                        json!({
                            "id": m.id.to_hex(),
                            "sender": m.author.to_hex(),
                            "sender_name": names.get(&m.author),
                            "created_at": m.created_at.as_secs(),
                            "text": m.text,
                            "subject": m.subject,
                            "legacy": m.legacy,
                        })
                    })
                    .collect();
                println!("{}", json!(rows));
                return Ok(());
            }
            for m in &messages {
                let who = if m.author == session.me() {
                    "you".to_owned()
                } else {
                    names
                        .get(&m.author)
                        .cloned()
                        .unwrap_or_else(|| npub(&m.author))
                };
                let legacy = if m.legacy { " (legacy NIP-04)" } else { "" };
                println!("[{}] {who}{legacy}: {}", m.created_at.as_secs(), m.text);
            }
        }
        DmCommand::Relays { action: None } => {
            session.fetch_own().await?;
            let relays = session.dm_relays_of(session.me())?;
            if relays.is_empty() {
                println!("no DM relays yet: samizdat dm relays set URL…");
            }
            for r in relays {
                println!("{r}");
            }
        }
        DmCommand::Relays {
            action: Some(DmRelaysAction::Set { urls }),
        } => {
            let published = session.set_dm_relays(&urls).await?;
            super::social::report_edit("DM relay list", &published)?;
        }
    }
    Ok(())
}
