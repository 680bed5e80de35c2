//! The "My relay" tab, for a user who runs `samizdat relay`: its metrics
//! (connections, events per minute, storage), its policy (kinds allowed,
//! allowed and banned keys, name and description: each changeable), its
//! roles and its moderation queue. Everything is NIP-86 from the signed-in
//! key (the relay must list it as an owner or admin) and `/metrics`; the
//! relay's address is remembered in this profile's preferences.

use egui::{RichText, Ui};
use nostr::prelude::*;
use samizdat_client::operator::RelayOverview;
use serde_json::{json, Value};

use super::start::labelled_field;
use super::Main;
use crate::protocol::Command;

/// What the tab shows and the fields being typed.
#[derive(Default)]
pub struct OperatorState {
    /// The relay's address as typed.
    pub url: String,
    /// The last overview, or why it failed.
    pub overview: Option<Result<RelayOverview, String>>,
    /// A read is under way.
    pub loading: bool,
    /// The "key" field (npub or hex) for allow and ban.
    pub key: String,
    /// The "kind" field.
    pub kind: String,
    /// The name and description fields.
    pub name: String,
    /// The description field.
    pub description: String,
}

/// The command that runs `method` on the relay shown.
fn call(main: &Main, method: &str, params: Vec<Value>) -> Command {
    Command::ManageRelay {
        relay: main.operator.url.trim().to_owned(),
        method: method.to_owned(),
        params,
    }
}

/// A typed key as hex, if it reads as one.
fn key_hex(text: &str) -> Option<String> {
    PublicKey::parse(text.trim()).ok().map(|k| k.to_hex())
}

fn short(hex: &str) -> String {
    match PublicKey::from_hex(hex)
        .ok()
        .and_then(|k| k.to_bech32().ok())
    {
        Some(npub) => format!("{}…{}", &npub[..12], &npub[npub.len() - 4..]),
        None => hex.chars().take(12).collect(),
    }
}

/// Draws the tab.
pub fn show(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.heading("My relay");
    ui.weak("For the relay you run (samizdat relay): managed over NIP-86 with your key, which the relay must list as an owner or admin. Each call tells the relay your key.");
    if main.operator.url.is_empty() {
        main.operator.url = main.prefs.my_relay.clone().unwrap_or_default();
    }
    ui.horizontal(|ui| {
        labelled_field(ui, "Relay address", &mut main.operator.url, false);
        let url = main.operator.url.trim().to_owned();
        if ui.button("Connect").clicked() && !url.is_empty() {
            main.operator.loading = true;
            if main.prefs.my_relay.as_deref() != Some(url.as_str()) {
                main.prefs.my_relay = Some(url.clone());
                commands.push(Command::SavePrefs(main.prefs.clone()));
            }
            commands.push(Command::RelayOverview(url));
        }
        if main.operator.loading {
            ui.spinner();
        }
    });
    let overview = match &main.operator.overview {
        None => return,
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return;
        }
        Some(Ok(o)) => o.clone(),
    };
    egui::ScrollArea::vertical()
        .id_salt("operator")
        .show(ui, |ui| {
            metrics(ui, &overview);
            ui.separator();
            policy(ui, main, &overview, commands);
            ui.separator();
            queue(ui, main, &overview, commands);
            if !overview.roles.is_empty() {
                ui.separator();
                ui.label(RichText::new("Roles").strong());
                for role in &overview.roles {
                    let members = role["members"].as_array().map_or(0, Vec::len);
                    ui.label(format!(
                        "{} ({}): {} — {members} member(s)",
                        role["label"].as_str().unwrap_or(""),
                        role["id"].as_str().unwrap_or(""),
                        role["description"].as_str().unwrap_or("")
                    ));
                }
            }
        });
}

fn metrics(ui: &mut Ui, o: &RelayOverview) {
    let m = &o.metrics;
    ui.label(RichText::new("Now").strong());
    egui::Grid::new("relay-metrics").show(ui, |ui| {
        ui.label("Connections open");
        ui.monospace(m.connections.to_string());
        ui.end_row();
        ui.label("Events per minute");
        ui.monospace(
            m.events_per_minute
                .map_or("— (Connect again to measure)".into(), |r| {
                    format!("{r:.1}")
                }),
        );
        ui.end_row();
        ui.label("Events accepted / refused since start");
        ui.monospace(format!("{} / {}", m.events_accepted, m.events_refused));
        ui.end_row();
        ui.label("Media stored");
        ui.monospace(format!(
            "{} blobs, {:.1} MiB",
            m.blobs,
            m.blob_bytes as f64 / 1048576.0
        ));
        ui.end_row();
    });
}

fn policy(ui: &mut Ui, main: &mut Main, o: &RelayOverview, commands: &mut Vec<Command>) {
    ui.label(RichText::new("Policy").strong());
    ui.label(if o.kinds.is_empty() {
        "Kinds: all".to_owned()
    } else {
        format!(
            "Kinds allowed: {}",
            o.kinds
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    ui.horizontal(|ui| {
        labelled_field(ui, "Kind", &mut main.operator.kind, false);
        if let Ok(kind) = main.operator.kind.trim().parse::<u16>() {
            if ui.button("Allow kind").clicked() {
                commands.push(call(main, "allowkind", vec![json!(kind)]));
            }
            if ui.button("Disallow kind").clicked() {
                commands.push(call(main, "disallowkind", vec![json!(kind)]));
            }
        }
    });
    ui.horizontal(|ui| {
        labelled_field(ui, "Key (npub or hex)", &mut main.operator.key, false);
        if let Some(hex) = key_hex(&main.operator.key) {
            if ui.button("Allow key").clicked() {
                commands.push(call(main, "allowpubkey", vec![json!(hex), json!("")]));
            }
            if ui.button("Ban key").clicked() {
                commands.push(call(main, "banpubkey", vec![json!(hex), json!("")]));
            }
        }
    });
    for (title, list, undo) in [
        ("Allowed keys", &o.allowed, "unallowpubkey"),
        ("Banned keys", &o.banned, "unbanpubkey"),
    ] {
        ui.label(format!("{title}: {}", list.len()));
        for entry in list {
            ui.horizontal(|ui| {
                ui.monospace(short(&entry.value));
                if !entry.reason.is_empty() {
                    ui.weak(&entry.reason);
                }
                let label = if undo == "unbanpubkey" {
                    "Unban"
                } else {
                    "Remove"
                };
                if ui.small_button(label).clicked() {
                    commands.push(call(main, undo, vec![json!(entry.value), json!("")]));
                }
            });
        }
    }
    ui.horizontal(|ui| {
        labelled_field(ui, "Relay name", &mut main.operator.name, false);
        if ui.button("Rename").clicked() && !main.operator.name.trim().is_empty() {
            commands.push(call(
                main,
                "changerelayname",
                vec![json!(main.operator.name.trim())],
            ));
        }
    });
    ui.horizontal(|ui| {
        labelled_field(ui, "Description", &mut main.operator.description, false);
        if ui.button("Change description").clicked() {
            commands.push(call(
                main,
                "changerelaydescription",
                vec![json!(main.operator.description.trim())],
            ));
        }
    });
}

fn queue(ui: &mut Ui, main: &Main, o: &RelayOverview, commands: &mut Vec<Command>) {
    ui.label(RichText::new(format!("Moderation queue: {}", o.queue.len())).strong());
    if o.queue.is_empty() {
        ui.weak("Nothing reported waits for you.");
    }
    for (entry, text) in &o.queue {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.monospace(entry.value.chars().take(16).collect::<String>());
                ui.label(&entry.reason);
            });
            match text {
                Some(t) => ui.label(t.chars().take(280).collect::<String>()),
                None => ui.weak("(not in your store)"),
            };
            ui.horizontal(|ui| {
                if ui.button("Remove and ban the event").clicked() {
                    commands.push(call(
                        main,
                        "banevent",
                        vec![json!(entry.value), json!("reported")],
                    ));
                }
                if ui.button("Keep").clicked() {
                    commands.push(call(
                        main,
                        "allowevent",
                        vec![json!(entry.value), json!("reviewed")],
                    ));
                }
            });
        });
    }
}
