//! `samizdat changes`: list edits that wait for a relay to answer (see
//! `samizdat_client::changes`), applying them now, or cancelling one.

use clap::Subcommand;
use serde_json::json;

use super::keys::Context;
use super::social::{report_edit, session, Access};

/// `samizdat changes …` actions.
#[derive(Subcommand)]
pub enum ChangesAction {
    /// Try every waiting change now (fetches each list first; signs).
    Apply,
    /// Drop one waiting change (its number from `samizdat changes`).
    Cancel {
        /// The change's number.
        id: i64,
    },
}

/// Runs `samizdat changes [apply | cancel N]`.
pub async fn changes(
    ctx: &Context,
    action: Option<ChangesAction>,
    as_json: bool,
) -> anyhow::Result<()> {
    match action {
        None => {
            let session = session(ctx, Access::Read).await?;
            let waiting = session.waiting_changes();
            session.shutdown().await;
            print_waiting(&waiting?, as_json);
        }
        Some(ChangesAction::Cancel { id }) => {
            let session = session(ctx, Access::Read).await?;
            let cancelled = session.cancel_change(id);
            session.shutdown().await;
            println!("cancelled #{id}: {}", cancelled?.describe());
        }
        Some(ChangesAction::Apply) => {
            let session = session(ctx, Access::Sign).await?;
            let edits = session.apply_waiting_changes().await;
            session.shutdown().await;
            let edits = edits?;
            if edits.is_empty() {
                println!("no change is waiting");
            }
            for edit in edits {
                report_edit(&edit.list.name(), &edit)?;
            }
        }
    }
    Ok(())
}

/// Prints waiting changes, one line each with its number and age (JSON:
/// an array of objects).
pub(crate) fn print_waiting(waiting: &[samizdat_client::changes::WaitingChange], as_json: bool) {
    if as_json {
        let v: Vec<_> = waiting
            .iter()
            .map(|w| {
                json!({
                    "id": w.id,
                    "list": w.list.name(),
                    "change": w.change.describe(),
                    "waiting_secs": w.age_secs(),
                })
            })
            .collect();
        println!("{}", json!(v));
        return;
    }
    let mut lists: Vec<&samizdat_client::changes::OwnList> =
        waiting.iter().map(|w| &w.list).collect();
    lists.dedup();
    for list in lists {
        let n = waiting.iter().filter(|w| &w.list == list).count();
        println!(
            "{}",
            samizdat_client::changes::waiting_sentence(&list.name(), n)
        );
        for w in waiting.iter().filter(|w| &w.list == list) {
            println!("  #{} {}", w.id, w.describe());
        }
    }
}
