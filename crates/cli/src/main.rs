//! `samizdat`: the command-line face of Samizdat.
//!
//! Every client command parses its arguments, makes one call into the
//! client session (`samizdat-client`), and prints; `relay` runs the relay
//! server, `demo` the seeded demo network, `bench` the benchmarks.

mod commands;
mod heap;

use clap::{Parser, Subcommand};

/// Samizdat: follow people, not relays.
#[derive(Parser)]
#[command(name = "samizdat", version, about)]
struct Cli {
    /// Log filter (e.g. `info`, `samizdat_relay=debug`); logs go to stderr.
    /// Default: `info` for `relay` and `bunker`, `warn` for everything else.
    #[arg(long, global = true, env = "SAMIZDAT_LOG")]
    log: Option<String>,
    /// The identity to use (each profile has its own key, events and settings).
    #[arg(
        long,
        global = true,
        default_value = "default",
        env = "SAMIZDAT_PROFILE"
    )]
    profile: String,
    /// Read the passphrase from this file instead of asking (less safe than the
    /// prompt: the file must be protected). `SAMIZDAT_PASSPHRASE` works the same
    /// way and is less safe still (the environment leaks to child processes).
    #[arg(long, global = true)]
    passphrase_file: Option<std::path::PathBuf>,
    /// For this run: every connection through this SOCKS5 proxy
    /// (`127.0.0.1:9050`, `socks5h://…`), or `direct`. Default: the
    /// profile's network setting (`samizdat network`).
    #[arg(long, global = true, env = "SAMIZDAT_PROXY")]
    proxy: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start relays on 127.0.0.1 with a generated social network, follow a few
    /// dozen people the outbox way over real websockets, and show the feed and
    /// which relays were used for whom. Needs no internet; exits by itself.
    Demo(commands::demo::DemoArgs),
    /// Create this profile's key (new, or `--import` an nsec, hex or ncryptsec).
    Init(commands::keys::InitArgs),
    /// Open this profile's key and show who it is.
    Unlock,
    /// Manage this profile's key: show, change passphrase, export.
    #[command(subcommand)]
    Key(commands::keys::KeyCommand),
    /// List the profiles.
    Profiles,
    /// This profile's relays (read / write / discovery) and its relay list.
    #[command(subcommand)]
    Relays(commands::relays::RelaysCommand),
    /// The profile's default proof of work (NIP-13 bits) for posts and
    /// replies: `pow 20` sets it, `pow 0` turns it off, `pow` shows it.
    Pow {
        /// Bits (0 turns it off).
        bits: Option<u8>,
    },
    /// Mute a person, a word, a hashtag or a thread in every feed, the inbox
    /// and threads (NIP-51; private unless --public).
    Mute(commands::lists::MuteArgs),
    /// Undo a mute.
    Unmute(commands::lists::MuteArgs),
    /// Your mute list (public and private parts).
    Mutes {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Bookmark a note (NIP-51; public unless --private).
    Bookmark {
        /// The note (note, nevent or hex id).
        note: String,
        /// Keep it private (NIP-44 to yourself).
        #[arg(long)]
        private: bool,
    },
    /// Remove a bookmark.
    Unbookmark {
        /// The note.
        note: String,
    },
    /// Your bookmarks.
    Bookmarks {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Named follow sets (NIP-51): `set add NAME PERSON`, `set remove NAME PERSON`.
    Set {
        /// `add` or `remove`.
        #[arg(value_parser = ["add", "remove"])]
        action: String,
        /// The set's name.
        name: String,
        /// Who.
        person: String,
        /// As a private (encrypted) entry.
        #[arg(long)]
        private: bool,
    },
    /// Your follow sets, or the people in one.
    Sets {
        /// A set's name.
        name: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Search notes: this machine's store at once; with --relay, also that
    /// search relay (NIP-50; only it sees the query).
    Search {
        /// Words.
        text: String,
        /// A search relay to ask too.
        #[arg(long)]
        relay: Option<String>,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Also results from people outside your network.
        #[arg(long)]
        all: bool,
    },
    /// Check that each of your relays still holds your events (DM relays:
    /// the gift wraps to you), by NIP-77 negentropy or by ids, and re-send
    /// what is missing through the publishing queue.
    Replicate {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// On a new device (after `init --import` or `init --bunker`): find your
    /// relay lists, then fetch your whole history from every relay you ever
    /// listed (profile, follow-list versions, lists, notes, reactions, DMs).
    Restore {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Write all your own events (profile and list history, notes, DM gift
    /// wraps) to FILE as JSON Lines; `--with-key` adds your key, still
    /// encrypted under its passphrase.
    Export {
        /// Where to write.
        file: std::path::PathBuf,
        /// Include the key (as ncryptsec).
        #[arg(long)]
        with_key: bool,
    },
    /// Verify and store the events of a backup; bad lines are reported by
    /// number and the good ones kept. A profile without a key takes the
    /// backup's. `--publish` sends them to your relays again.
    Import {
        /// The backup (JSON Lines).
        file: std::path::PathBuf,
        /// Queue them for your relays (DM wraps: your DM relays).
        #[arg(long)]
        publish: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// What each relay has learned from you: people asked about, your events
    /// it holds, AUTH, how it was reached (your IP or a proxy), searches.
    Privacy {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// What needs your attention: undelivered posts, relays that will ask,
    /// lists changed elsewhere, a key seen in plain form, missing DM relays.
    Alerts {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// How this profile reaches the network: `network show`, or `network set
    /// --proxy ADDR | --tor | --direct` (with a proxy, every connection goes
    /// through it and nothing connects when it is down).
    #[command(subcommand)]
    Network(commands::relays::NetworkCommand),
    /// Private messages (NIP-17): send, list, read, and your DM relays.
    #[command(subcommand)]
    Dm(commands::dm::DmCommand),
    /// Follow someone (npub, nprofile or hex); starts from the newest list on your relays.
    Follow {
        /// Who.
        person: String,
    },
    /// Stop following someone.
    Unfollow {
        /// Who.
        person: String,
    },
    /// Who this profile follows; `follows history` and `follows restore N`.
    Follows {
        /// JSON output.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<FollowsAction>,
    },
    /// Your profile (kind 0): show, or change fields without losing the others.
    #[command(subcommand)]
    Profile(commands::identity::ProfileCommand),
    /// Fetch everyone followed from their own relays (the outbox model) and exit.
    Sync {
        /// JSON output (the plan and what each relay did).
        #[arg(long)]
        json: bool,
    },
    /// The following feed, from the local store.
    Feed {
        /// How many notes.
        #[arg(long, default_value_t = 30)]
        limit: usize,
        /// Load more: only notes older than this unix time (the last one shown).
        #[arg(long)]
        before: Option<u64>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// One person's notes, from their own write relays.
    Person {
        /// Who (npub, nprofile, hex or name@domain).
        who: String,
        /// How many notes.
        #[arg(long, default_value_t = 30)]
        limit: usize,
        /// Show where they write instead: every relay with its evidence
        /// (source, age), delivery record, and whether the plan reads them there.
        #[arg(long)]
        relays: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// A conversation, from its root (NIP-10), oldest first.
    Thread {
        /// Any note of the thread (note, nevent or hex; must be in the local store).
        event: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Also ask relays named only by strangers (tag hints, the nevent, the
        /// relay list of someone you don't follow) without a proxy: they see
        /// your IP address. With a proxy they are asked through it anyway.
        #[arg(long)]
        allow_hinted: bool,
        /// Also replies from people outside your network.
        #[arg(long)]
        all: bool,
    },
    /// Post a note to your write relays (queued durably, retried until delivered).
    Post {
        /// The text.
        text: String,
        /// Proof of work (NIP-13): leading zero bits of the id, mined on
        /// every core before signing (Ctrl-C cancels; nothing is published).
        /// Default: the profile's `pow` setting.
        #[arg(long)]
        pow: Option<u8>,
        /// Attach a picture (PNG, JPEG, WebP, GIF; repeatable): its EXIF,
        /// GPS and other metadata are removed, it goes to your Blossom
        /// servers, and the note gets its link and an `imeta` tag.
        #[arg(long)]
        attach: Vec<std::path::PathBuf>,
    },
    /// When pictures load, and loading them (Blossom, hash-checked).
    #[command(subcommand)]
    Media(commands::media::MediaCommand),
    /// Your Blossom media servers (kind 10063).
    #[command(subcommand)]
    Blossom(commands::media::BlossomCommand),
    /// Reply to a note (NIP-10), delivered to your relays and the inboxes of
    /// everyone in the conversation.
    Reply {
        /// The note replied to (note, nevent or hex id; must be in the local store).
        to: String,
        /// The text.
        text: String,
        /// Proof of work (NIP-13 bits), as for `post`.
        #[arg(long)]
        pow: Option<u8>,
    },
    /// React to a note (NIP-25).
    React {
        /// The note (note, nevent or hex id; must be in the local store).
        to: String,
        /// The reaction: `+`, `-` or an emoji.
        #[arg(long, default_value = "+")]
        content: String,
    },
    /// Repost a note (NIP-18).
    Repost {
        /// The note (must be in the local store).
        of: String,
    },
    /// Ask relays to delete one of your events (NIP-09).
    Delete {
        /// Your event (must be in the local store).
        event: String,
        /// Why (shown by some clients).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Replies and mentions of you, from your read relays.
    Inbox {
        /// How many.
        #[arg(long, default_value_t = 30)]
        limit: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Also what was held back (people outside your network, strangers
        /// via relays that are not spam-safe).
        #[arg(long)]
        all: bool,
    },
    /// The web of trust: why PERSON has their score (followed by which of
    /// your follows, muted by how many); threshold flags change the
    /// thresholds; alone, the thresholds in force.
    Trust(commands::trust::TrustArgs),
    /// OS notifications in the desktop app: off, on or dms-only, quiet
    /// hours, and whether a message's text is shown (never by default).
    Notify(commands::notify::NotifyArgs),
    /// Keep the session running: print new notes of the following feed and
    /// the inbox as they arrive, retry deliveries, until Ctrl-C.
    Watch(commands::watch::WatchArgs),
    /// List edits waiting for a relay to answer (they are never applied to
    /// a list this device has not seen); `apply` tries now, `cancel N` drops one.
    Changes {
        /// What to do (nothing: list them).
        #[command(subcommand)]
        action: Option<commands::changes::ChangesAction>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Retry what is due and show where recent posts landed.
    Status {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Serve other apps with this profile's key over NIP-46 until Ctrl-C.
    Bunker(commands::bunker::BunkerArgs),
    /// Use a remote signer (NIP-46).
    #[command(subcommand)]
    Signer(commands::bunker::SignerCommand),
    /// Run the relay (NIP-01, 09, 11, 40, 42, 50, 70) until SIGINT or SIGTERM.
    Relay(commands::relay::RelayArgs),
    /// Run the outbox network simulator: every relay-selection algorithm on
    /// the same synthetic network and budget, over several sessions.
    Sim(commands::outbox::SimArgs),
    /// The outbox planner as a tool: `samizdat outbox plan --input FILE.json`.
    #[command(subcommand)]
    Outbox(commands::outbox::OutboxCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

/// `samizdat follows …` actions.
#[derive(Subcommand)]
enum FollowsAction {
    /// Every kept version of your follow list, newest first.
    History,
    /// Publish an earlier version again (as a new, newer list).
    Restore {
        /// The version number from `follows history`.
        version: usize,
    },
}

fn main() -> std::process::ExitCode {
    // Before anything allocates much; written out when main returns.
    let _heap_profile = heap::profiler();
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Relay(_) | Command::Bunker(_) => "info",
        _ => "warn",
    };
    let filter = cli.log.as_deref().unwrap_or(default_level);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| default_level.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let keys_ctx = commands::keys::Context {
        profile: cli.profile.clone(),
        passphrase_file: cli.passphrase_file.clone(),
        proxy: cli.proxy.clone(),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Init(args) => commands::keys::init(&keys_ctx, args).await,
            Command::Unlock => commands::keys::unlock(&keys_ctx).await,
            Command::Key(cmd) => commands::keys::key(&keys_ctx, cmd).await,
            Command::Profiles => commands::keys::profiles(),
            Command::Relays(cmd) => commands::relays::relays(&keys_ctx, cmd).await,
            Command::Dm(cmd) => commands::dm::dm(&keys_ctx, cmd).await,
            Command::Search {
                text,
                relay,
                json,
                all,
            } => commands::social::search(&keys_ctx, &text, relay.as_deref(), json, all).await,
            Command::Trust(args) => commands::trust::trust(&keys_ctx, args).await,
            Command::Notify(args) => commands::notify::notify(&keys_ctx, args).await,
            Command::Alerts { json } => commands::social::alerts(&keys_ctx, json).await,
            Command::Privacy { json } => commands::social::privacy(&keys_ctx, json).await,
            Command::Replicate { json } => commands::replicate::replicate(&keys_ctx, json).await,
            Command::Restore { json } => commands::replicate::restore(&keys_ctx, json).await,
            Command::Export { file, with_key } => {
                commands::backup::export(&keys_ctx, &file, with_key).await
            }
            Command::Import {
                file,
                publish,
                json,
            } => commands::backup::import(&keys_ctx, &file, publish, json).await,
            Command::Set {
                action,
                name,
                person,
                private,
            } => {
                commands::lists::follow_set(&keys_ctx, &name, &person, action == "add", private)
                    .await
            }
            Command::Sets { name, json } => {
                commands::lists::follow_sets(&keys_ctx, name.as_deref(), json).await
            }
            Command::Mute(args) => commands::lists::mute(&keys_ctx, args, true).await,
            Command::Unmute(args) => commands::lists::mute(&keys_ctx, args, false).await,
            Command::Mutes { json } => {
                commands::lists::show(&keys_ctx, samizdat_client::lists::ListKind::Mutes, json)
                    .await
            }
            Command::Bookmark { note, private } => {
                commands::lists::bookmark(&keys_ctx, &note, true, private).await
            }
            Command::Unbookmark { note } => {
                commands::lists::bookmark(&keys_ctx, &note, false, false).await
            }
            Command::Bookmarks { json } => {
                commands::lists::show(&keys_ctx, samizdat_client::lists::ListKind::Bookmarks, json)
                    .await
            }
            Command::Pow { bits } => commands::social::pow_default(&keys_ctx, bits).await,
            Command::Follow { person } => commands::social::follow(&keys_ctx, &person, true).await,
            Command::Unfollow { person } => {
                commands::social::follow(&keys_ctx, &person, false).await
            }
            Command::Follows { json, action: None } => {
                commands::social::follows(&keys_ctx, json).await
            }
            Command::Follows {
                action: Some(FollowsAction::History),
                ..
            } => commands::identity::follows_history(&keys_ctx, None).await,
            Command::Follows {
                action: Some(FollowsAction::Restore { version }),
                ..
            } => commands::identity::follows_history(&keys_ctx, Some(version)).await,
            Command::Profile(cmd) => commands::identity::profile(&keys_ctx, cmd).await,
            Command::Sync { json } => commands::social::sync(&keys_ctx, json).await,
            Command::Feed {
                limit,
                before,
                json,
            } => commands::social::feed(&keys_ctx, limit, before, json).await,
            Command::Person {
                who,
                limit,
                relays,
                json,
            } => {
                if relays {
                    commands::reading::person_relays(&keys_ctx, &who, json).await
                } else {
                    commands::reading::person(&keys_ctx, &who, limit, json).await
                }
            }
            Command::Thread {
                event,
                json,
                allow_hinted,
                all,
            } => commands::reading::thread(&keys_ctx, &event, json, allow_hinted, all).await,
            Command::Post { text, attach, .. } if !attach.is_empty() => {
                commands::media::post_with_attachments(&keys_ctx, &text, &attach).await
            }
            Command::Post { text, pow, .. } => commands::social::post(&keys_ctx, &text, pow).await,
            Command::Media(cmd) => commands::media::media(&keys_ctx, cmd).await,
            Command::Blossom(cmd) => commands::media::blossom(&keys_ctx, cmd).await,
            Command::Reply { to, text, pow } => {
                commands::social::reply(&keys_ctx, &to, &text, pow).await
            }
            Command::React { to, content } => {
                commands::social::act(&keys_ctx, &to, commands::social::Action::React(content))
                    .await
            }
            Command::Repost { of } => {
                commands::social::act(&keys_ctx, &of, commands::social::Action::Repost).await
            }
            Command::Delete { event, reason } => {
                commands::social::act(&keys_ctx, &event, commands::social::Action::Delete(reason))
                    .await
            }
            Command::Inbox { limit, json, all } => {
                commands::social::inbox(&keys_ctx, limit, json, all).await
            }
            Command::Watch(args) => commands::watch::watch(&keys_ctx, args).await,
            Command::Status { json } => commands::social::status(&keys_ctx, json).await,
            Command::Changes { action, json } => {
                commands::changes::changes(&keys_ctx, action, json).await
            }
            Command::Bunker(args) => commands::bunker::bunker(&keys_ctx, args).await,
            Command::Signer(cmd) => commands::bunker::signer(&keys_ctx, cmd).await,
            Command::Network(cmd) => commands::relays::network(&keys_ctx, cmd).await,
            Command::Relay(args) => commands::relay::run(args).await,
            Command::Bench(cmd) => commands::bench::run(cmd).await,
            Command::Sim(args) => commands::outbox::sim(args),
            Command::Outbox(cmd) => commands::outbox::run(&keys_ctx, cmd).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
