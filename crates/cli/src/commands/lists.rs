//! `samizdat mute | unmute | mutes | bookmark | unbookmark | bookmarks`:
//! NIP-51 lists edited like the follow list (newest copy first, one item
//! changed, nothing else lost). Mutes are private unless `--public`;
//! bookmarks are public unless `--private`.

use samizdat_client::lists::{ListItem, ListKind, ListView};
use serde_json::json;

use super::keys::Context;
use super::social::{parse_event_id, parse_person, session, Access};

/// What to mute: a person (positional), or `--word`, `--hashtag`, `--thread`.
#[derive(clap::Args)]
pub struct MuteArgs {
    /// A person (npub, nprofile, hex or name@domain).
    person: Option<String>,
    /// A word (matched case-insensitively).
    #[arg(long)]
    word: Option<String>,
    /// A hashtag (without #).
    #[arg(long)]
    hashtag: Option<String>,
    /// A thread (note, nevent or hex id of any note in it).
    #[arg(long)]
    thread: Option<String>,
    /// A regular expression on note text (case-insensitive; always private;
    /// at most 256 characters; matched in linear time).
    #[arg(long)]
    pattern: Option<String>,
    /// Publish this mute openly (default: private, NIP-44 to yourself).
    #[arg(long)]
    public: bool,
}

async fn mute_item(ctx: &Context, args: &MuteArgs) -> anyhow::Result<ListItem> {
    Ok(
        match (
            &args.person,
            &args.word,
            &args.hashtag,
            &args.thread,
            &args.pattern,
        ) {
            (Some(p), None, None, None, None) => {
                ListItem::Person(parse_person(ctx, p).await?.to_hex())
            }
            (None, Some(w), None, None, None) => ListItem::Word(w.to_lowercase()),
            (None, None, Some(t), None, None) => {
                ListItem::Hashtag(t.trim_start_matches('#').to_lowercase())
            }
            (None, None, None, Some(n), None) => ListItem::Event(parse_event_id(n)?.to_hex()),
            (None, None, None, None, Some(p)) => {
                samizdat_client::base::pattern::check_pattern(p)?;
                ListItem::Pattern(p.clone())
            }
            _ => {
                anyhow::bail!("give one thing: a person, --word, --hashtag, --thread or --pattern")
            }
        },
    )
}

/// Runs `samizdat mute` (`add`) or `unmute`.
pub async fn mute(ctx: &Context, args: MuteArgs, add: bool) -> anyhow::Result<()> {
    let item = mute_item(ctx, &args).await?;
    edit(ctx, ListKind::Mutes, item, add, !args.public).await
}

/// Runs `samizdat bookmark` (`add`) or `unbookmark`.
pub async fn bookmark(ctx: &Context, note: &str, add: bool, private: bool) -> anyhow::Result<()> {
    let item = ListItem::Event(parse_event_id(note)?.to_hex());
    edit(ctx, ListKind::Bookmarks, item, add, private).await
}

async fn edit(
    ctx: &Context,
    which: ListKind,
    item: ListItem,
    add: bool,
    private: bool,
) -> anyhow::Result<()> {
    let session = session(ctx, Access::Sign).await?;
    let result = session.edit_list(which.clone(), item, add, private).await;
    session.shutdown().await;
    let what = match which {
        ListKind::Mutes => "mute list",
        ListKind::Bookmarks => "bookmarks",
        ListKind::FollowSet(_) => "follow set",
    };
    super::social::report_edit(what, &result?)
}

/// Runs `samizdat set add|remove NAME PERSON`: a named follow set (NIP-51
/// kind 30000), public unless `--private`.
pub async fn follow_set(
    ctx: &Context,
    name: &str,
    person: &str,
    add: bool,
    private: bool,
) -> anyhow::Result<()> {
    let item = ListItem::Person(parse_person(ctx, person).await?.to_hex());
    edit(
        ctx,
        ListKind::FollowSet(name.to_owned()),
        item,
        add,
        private,
    )
    .await
}

/// Runs `samizdat sets [NAME]`: the names of your follow sets, or one set.
pub async fn follow_sets(ctx: &Context, name: Option<&str>, as_json: bool) -> anyhow::Result<()> {
    match name {
        Some(n) => show(ctx, ListKind::FollowSet(n.to_owned()), as_json).await,
        None => {
            let session = session(ctx, Access::Read).await?;
            let fetched = session.fetch_own().await;
            let names = session.follow_set_names();
            session.shutdown().await;
            fetched?;
            let names = names?;
            if as_json {
                println!("{}", json!(names));
            } else {
                for n in names {
                    println!("{n}");
                }
            }
            Ok(())
        }
    }
}

/// Runs `samizdat mutes` / `samizdat bookmarks`: the newest list from your
/// relays, both parts.
pub async fn show(ctx: &Context, which: ListKind, as_json: bool) -> anyhow::Result<()> {
    let session = session(ctx, Access::Sign).await?;
    let fetched = session.fetch_own().await;
    let view = session.list(which).await;
    session.shutdown().await;
    fetched?;
    print(&view?, as_json)
}

fn label(item: &ListItem) -> String {
    match item {
        ListItem::Person(p) => format!("person {p}"),
        ListItem::Word(w) => format!("word {w:?}"),
        ListItem::Hashtag(t) => format!("#{t}"),
        ListItem::Event(e) => format!("event {e}"),
        ListItem::Address(a) => format!("article {a}"),
        ListItem::Pattern(p) => format!("pattern /{p}/"),
    }
}

fn print(view: &ListView, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        let items = |set: &std::collections::BTreeSet<ListItem>| {
            set.iter()
                .map(|i| serde_json::to_value(i).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        println!(
            "{}",
            json!({"public": items(&view.public), "private": items(&view.private), "private_unreadable": view.private_unreadable})
        );
        return Ok(());
    }
    for i in &view.public {
        println!("{}", label(i));
    }
    for i in &view.private {
        println!("{} (private)", label(i));
    }
    if view.public.is_empty() && view.private.is_empty() {
        println!("(empty)");
    }
    Ok(())
}
