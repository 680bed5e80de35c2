//! `samizdat media …` and `samizdat blossom …`: when pictures load (for
//! everyone and per person), loading one (the terminal's "click"), the
//! cache, and the user's Blossom servers (kind 10063). `post --attach` is
//! here too: strip, upload with a progress bar, mirror, post.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use samizdat_client::media::{Attached, MediaChoice, UploadProgress};
use samizdat_client::Session;
use serde_json::json;

use super::keys::Context;
use super::social::{parse_event_id, parse_person, report, session, Access};

/// `samizdat media` subcommands.
#[derive(clap::Subcommand)]
pub enum MediaCommand {
    /// Whose pictures load by themselves: never, click (the default),
    /// follows, or always. Without a choice, shows the settings.
    Show {
        /// The new choice.
        choice: Option<String>,
    },
    /// One person's own choice (e.g. `always` to always show their media);
    /// `default` removes it.
    Person {
        /// Who (npub, nprofile, hex or name@domain).
        who: String,
        /// never, click, follows, always, or default.
        choice: String,
    },
    /// Load the pictures of a note (what a click does): fetched through the
    /// profile's network, checked against their hashes, cached.
    Load {
        /// The note (note, nevent or hex id; in the local store).
        note: String,
        /// Write the pictures here (`DIR/<hash>.<ext>`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The picture cache: its size, and with `--limit`, a new size limit (MiB).
    Cache {
        /// New limit in MiB (the cache is trimmed to it).
        #[arg(long)]
        limit: Option<u64>,
    },
}

/// `samizdat blossom` subcommands.
#[derive(clap::Subcommand)]
pub enum BlossomCommand {
    /// Your Blossom servers; `set URL…` publishes them (kind 10063), first
    /// one first (uploads go there, and the next one gets a mirror).
    Servers {
        /// `set`, followed by the servers.
        #[arg(num_args = 0..)]
        args: Vec<String>,
    },
}

fn parse_choice(word: &str) -> anyhow::Result<MediaChoice> {
    word.parse::<MediaChoice>().map_err(anyhow::Error::msg)
}

/// Runs `samizdat media …`.
pub async fn media(ctx: &Context, cmd: MediaCommand) -> anyhow::Result<()> {
    let session = session(ctx, Access::Read).await?;
    let result = run(ctx, &session, cmd).await;
    session.shutdown().await;
    result
}

async fn run(ctx: &Context, session: &Session, cmd: MediaCommand) -> anyhow::Result<()> {
    match cmd {
        MediaCommand::Show { choice } => {
            if let Some(c) = choice {
                session.set_media_choice(parse_choice(&c)?)?;
            }
            let m = session.media_settings();
            println!("pictures: {} ({})", m.show.as_str(), m.show.describe());
            for (who, c) in &m.people {
                println!("  {who}: {}", c.as_str());
            }
            Ok(())
        }
        MediaCommand::Person { who, choice } => {
            let who = parse_person(ctx, &who).await?;
            let choice = match choice.as_str() {
                "default" => None,
                other => Some(parse_choice(other)?),
            };
            session.set_person_media(who, choice)?;
            match choice {
                Some(c) => println!("their pictures: {} ({})", c.as_str(), c.describe()),
                None => println!("their pictures follow your choice again"),
            }
            Ok(())
        }
        MediaCommand::Load { note, out, json } => load(session, &note, out, json).await,
        MediaCommand::Cache { limit } => {
            let stats = match limit {
                Some(mib) => session.set_media_cache_mib(mib)?,
                None => session.media_cache().evict(),
            };
            println!(
                "{} pictures, {:.1} MiB (limit {} MiB) in {}",
                stats.files,
                stats.bytes as f64 / 1048576.0,
                session.media_settings().cache_mib,
                session.media_cache().dir().display()
            );
            Ok(())
        }
    }
}

async fn load(
    session: &Session,
    note: &str,
    out: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<()> {
    let id = parse_event_id(note)?;
    let event = session
        .engine()
        .event(id)?
        .with_context(|| format!("{note} is not in the local store; run samizdat sync first"))?;
    let refs = session.media_of(&event);
    if refs.is_empty() {
        anyhow::bail!("that note has no pictures");
    }
    let mut rows = Vec::new();
    let mut failed = 0;
    for r in &refs {
        match session.load_media(&event.pubkey, r, true).await {
            Ok(m) => {
                let name = m.hash.map_or_else(|| "picture".to_owned(), |h| h.to_hex());
                if let Some(dir) = &out {
                    std::fs::create_dir_all(dir)?;
                    let path = dir.join(format!("{name}.{}", m.format.extension()));
                    std::fs::write(&path, &m.bytes)?;
                }
                let check = if m.verified() {
                    "hash verified"
                } else {
                    "no hash to verify"
                };
                let from = m.from.clone().unwrap_or_else(|| "the cache".to_owned());
                rows.push(json!({"url": r.url, "ok": true, "from": from, "verified": m.verified(),
                    "format": m.format.name(), "width": m.size.0, "height": m.size.1, "bytes": m.bytes.len()}));
                if !json {
                    println!(
                        "{}: {} {}×{}, {} bytes from {from} ({check})",
                        r.url,
                        m.format.name(),
                        m.size.0,
                        m.size.1,
                        m.bytes.len()
                    );
                }
            }
            Err(e) => {
                failed += 1;
                rows.push(json!({"url": r.url, "ok": false, "error": e.to_string()}));
                if !json {
                    println!("{}: {e}", r.url);
                }
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    if failed == refs.len() {
        anyhow::bail!("no picture could be loaded");
    }
    Ok(())
}

/// Runs `samizdat blossom …`.
pub async fn blossom(ctx: &Context, cmd: BlossomCommand) -> anyhow::Result<()> {
    let BlossomCommand::Servers { args } = cmd;
    match args.split_first() {
        None => {
            let session = session(ctx, Access::Read).await?;
            let servers = session.blossom_servers_of(&session.me());
            session.shutdown().await;
            let servers = servers?;
            if servers.is_empty() {
                println!("no Blossom servers: samizdat blossom servers set URL…");
            }
            for s in servers {
                println!("{s}");
            }
            Ok(())
        }
        Some((set, urls)) if set == "set" && !urls.is_empty() => {
            let session = session(ctx, Access::Sign).await?;
            let result = session.set_blossom_servers(urls).await;
            session.shutdown().await;
            report("published your Blossom servers", &result?)
        }
        _ => anyhow::bail!("use `samizdat blossom servers` or `samizdat blossom servers set URL…`"),
    }
}

/// `samizdat post TEXT --attach FILE…`: each picture stripped of its
/// metadata and uploaded (with a progress bar), then the note.
pub async fn post_with_attachments(
    ctx: &Context,
    text: &str,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    let session = session(ctx, Access::Sign).await?;
    let result = attach_all(&session, files).await;
    let result = match result {
        Ok(attached) => session
            .post_attached(text, &attached)
            .await
            .map_err(Into::into),
        Err(e) => Err(e),
    };
    session.shutdown().await;
    report("posted", &result?)
}

async fn attach_all(session: &Arc<Session>, files: &[PathBuf]) -> anyhow::Result<Vec<Attached>> {
    let mut attached = Vec::new();
    for file in files {
        let total = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let progress = UploadProgress::default();
        let bar = indicatif::ProgressBar::new(total);
        bar.set_message(file.display().to_string());
        let ticker = {
            let (sent, bar) = (progress.sent.clone(), bar.clone());
            tokio::spawn(async move {
                loop {
                    bar.set_position(sent.sent());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let result = session.attach_file(file, Some(&progress)).await;
        ticker.abort();
        bar.finish_and_clear();
        let a = result?;
        let removed = if a.removed.is_empty() {
            "no metadata found".to_owned()
        } else {
            format!("removed {}", a.removed.join(", "))
        };
        println!(
            "{}: {}×{} {}, {} bytes, {removed}",
            file.display(),
            a.dim.0,
            a.dim.1,
            a.mime,
            a.size
        );
        println!("  uploaded: {}", a.url);
        for m in &a.mirrors {
            println!("  mirrored: {m}");
        }
        for (server, why) in &a.failed {
            println!("  not on {server}: {why}");
        }
        attached.push(a);
    }
    Ok(attached)
}
