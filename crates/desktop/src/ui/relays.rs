//! The relays page: the user's relays and their roles, connect / AUTH
//! policies, the coverage picture (who is read from where, who is orphaned
//! and why) and what the store knows of each relay's health.

use egui::{RichText, Ui};
use samizdat_client::{Intent, RelayRoles};

use super::note::short_relay;
use super::start::labelled_field;
use super::Main;
use crate::protocol::Command;

const WORDS: [&str; 3] = ["allow", "ask", "deny"];

/// With several accounts open: the relays both this account and another
/// reached directly, each of which can see both come from one IP address.
pub fn shared_ip_warning(
    ui: &mut Ui,
    main: &Main,
    others: &[(String, Option<samizdat_client::PrivacyReport>)],
) {
    let Some(mine) = &main.privacy else { return };
    for (profile, theirs) in others {
        let Some(theirs) = theirs else { continue };
        let shared = samizdat_client::session::privacy::seen_directly_by_both(mine, theirs);
        if shared.is_empty() {
            continue;
        }
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "⚠ {} shared with {profile} while direct: this relay can see both accounts come from one IP. Use a proxy (Settings) for one of them.",
                shared.join(", ")
            ),
        );
    }
}

/// Draws the relays page.
pub fn show(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    let Some(view) = main.relays.clone() else {
        ui.spinner();
        return;
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Your relays");
        egui::Grid::new("own-relays").striped(true).show(ui, |ui| {
            ui.strong("relay");
            ui.strong("read");
            ui.strong("write");
            ui.strong("connect");
            ui.strong("AUTH");
            ui.end_row();
            for (url, read, write) in &view.own {
                ui.monospace(url);
                let (mut r, mut w) = (*read, *write);
                ui.checkbox(&mut r, "");
                ui.checkbox(&mut w, "");
                if (r, w) != (*read, *write) {
                    commands.push(Command::Intent(Intent::SetRoles {
                        url: url.clone(),
                        roles: RelayRoles { read: r, write: w },
                    }));
                }
                policy_boxes(ui, url, &view, commands);
                if ui.small_button("Remove").clicked() {
                    commands.push(Command::Intent(Intent::RemoveRelay { url: url.clone() }));
                }
                ui.end_row();
            }
            for url in view.discovery.iter().filter(|d| !view.own.iter().any(|o| &o.0 == *d)) {
                ui.monospace(url);
                ui.weak("discovery");
                ui.label("");
                policy_boxes(ui, url, &view, commands);
                if ui.small_button("Remove").clicked() {
                    commands.push(Command::Intent(Intent::RemoveRelay { url: url.clone() }));
                }
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            let (url, read, write, discovery) = &mut main.new_relay;
            labelled_field(ui, "Add relay", url, false);
            ui.checkbox(read, "read");
            ui.checkbox(write, "write");
            ui.checkbox(discovery, "discovery");
            if ui.button("Add").clicked() && !url.trim().is_empty() {
                commands.push(Command::Intent(Intent::AddRelay {
                    url: url.trim().to_owned(),
                    roles: RelayRoles {
                        read: *read,
                        write: *write,
                    },
                    discovery: *discovery,
                }));
                url.clear();
            }
        });
        ui.horizontal(|ui| {
            let mut whitelist = view.whitelist_only;
            if ui
                .checkbox(&mut whitelist, "Connect only to relays set to \"allow\"")
                .changed()
            {
                commands.push(Command::Intent(Intent::SetPolicy {
                    url: view.own.first().map(|o| o.0.clone()).unwrap_or_default(),
                    connect: None,
                    auth: None,
                    whitelist_only: Some(whitelist),
                }));
            }
            if ui.button("Publish relay list").clicked() {
                commands.push(Command::Intent(Intent::PublishRelayList));
            }
        });
        if main.authenticated.is_empty() {
            ui.weak("This session has authenticated (NIP-42) to no relay: none knows your key from AUTH.");
        } else {
            ui.label(format!(
                "This session authenticated (NIP-42) to: {} — each of them knows your public key.",
                main.authenticated.join(", ")
            ));
        }
        ui.separator();
        ui.heading("Coverage");
        ui.label(format!(
            "{} follows, read from {} relays: {:.0}% covered; the most any one relay learns is {:.0}% of your follow list.",
            view.follows,
            view.coverage.len(),
            view.covered * 100.0,
            view.max_exposure * 100.0
        ));
        reading_privacy(ui, main, &view, commands);
        for (url, people) in &view.coverage {
            egui::CollapsingHeader::new(format!("{} — {} people", short_relay(url), people.len()))
                .id_salt(url)
                .show(ui, |ui| {
                    ui.label(people.join(", "));
                });
        }
        if !view.probes.is_empty() {
            let n: usize = view.probes.iter().map(|(_, p)| p.len()).sum();
            ui.label(format!(
                "Exploring: {} asked of a relay that has no evidence for them, to learn where they write (the Explore switch above turns this off).",
                people_count(n)
            ));
            for (url, people) in &view.probes {
                egui::CollapsingHeader::new(format!("{} — also asked about {}", short_relay(url), people_count(people.len())))
                    .id_salt(("probe", url))
                    .show(ui, |ui| {
                        ui.label(people.join(", "));
                    });
            }
        }
        if !view.unlisted.is_empty() {
            let mut everyone: Vec<&String> = view.unlisted.iter().flat_map(|(_, p)| p).collect();
            everyone.sort();
            everyone.dedup();
            ui.label(format!(
                "Read from your relays (no relay list): {} with no evidence of where they write, asked about on relays you use anyway (no new connection).",
                people_count(everyone.len())
            ));
            for (url, people) in &view.unlisted {
                egui::CollapsingHeader::new(format!("{} — {} with no relay list", short_relay(url), people_count(people.len())))
                    .id_salt(("unlisted", url))
                    .show(ui, |ui| {
                        ui.label(people.iter().map(String::as_str).collect::<Vec<_>>().join(", "));
                    });
            }
        }
        if !view.orphans.is_empty() {
            let n = view.orphans.len();
            let who = if n == 1 {
                "1 person has".to_owned()
            } else {
                format!("{n} people have")
            };
            ui.label(RichText::new(format!("{who} no relay:")).strong());
            for (who, why) in &view.orphans {
                ui.label(format!("{who}: {why}"));
            }
        }
        if !view.stale.is_empty() {
            ui.label(
                RichText::new(format!(
                    "{} a stale relay list (none of its relays works):",
                    if view.stale.len() == 1 {
                        "1 person has".to_owned()
                    } else {
                        format!("{} people have", view.stale.len())
                    }
                ))
                .strong(),
            );
            for (who, from) in &view.stale {
                ui.label(format!("{who}: read from {from}"));
            }
        }
        ui.separator();
        ui.heading("What each relay learned");
        match &main.privacy {
            None => {
                ui.weak("nothing recorded yet");
            }
            Some(report) => {
                ui.strong(&report.posture);
                ui.label(format!(
                    "The most any relay learned: {:.0}% of your follow list.",
                    report.max_follow_share * 100.0
                ));
                for r in &report.relays {
                    ui.label(&r.summary);
                }
            }
        }
        ui.separator();
        ui.heading("Health");
        if view.monitors == 0 {
            ui.weak("No NIP-66 monitor trusted: every relay is tried until this client's own connections say otherwise.");
        } else if view.skipped_dead.is_empty() {
            ui.weak(format!(
                "{} NIP-66 monitor{} trusted; none of your follows' relays is reported dead.",
                view.monitors,
                if view.monitors == 1 { "" } else { "s" }
            ));
        } else {
            ui.label(format!(
                "Skipped before connecting, reported dead by the NIP-66 monitors you trust ({}); a relay this client reached itself is still tried:",
                view.monitors
            ));
            for (url, said) in &view.skipped_dead {
                ui.label(format!("{} — {said}", short_relay(url)));
            }
        }
        egui::Grid::new("health").striped(true).show(ui, |ui| {
            for h in ["relay", "attempts", "success", "latency", "invalid events", "monitors", "last error"] {
                ui.strong(h);
            }
            ui.end_row();
            for h in &view.health {
                ui.monospace(short_relay(&h.url));
                ui.label(h.attempts.to_string());
                ui.label(format!("{:.0}%", h.success_rate * 100.0));
                ui.label(h.latency_ms.map_or("–".into(), |l| format!("{l:.0} ms")));
                ui.label(h.invalid.to_string());
                ui.label(h.monitors_say.as_deref().unwrap_or("–"));
                ui.weak(h.last_error.as_deref().unwrap_or(""));
                ui.end_row();
            }
        });
    });
}

fn policy_boxes(
    ui: &mut Ui,
    url: &str,
    view: &crate::view::RelaysView,
    commands: &mut Vec<Command>,
) {
    let (connect, auth) = view
        .policies
        .get(url)
        .cloned()
        .unwrap_or_else(|| ("allow".into(), "deny".into()));
    for (which, current) in [("connect", connect), ("auth", auth)] {
        let mut chosen = current.clone();
        egui::ComboBox::from_id_salt((url, which))
            .selected_text(&chosen)
            .width(70.0)
            .show_ui(ui, |ui| {
                for w in WORDS {
                    ui.selectable_value(&mut chosen, w.to_owned(), w);
                }
            });
        if chosen != current {
            let (connect, auth) = if which == "connect" {
                (Some(chosen), None)
            } else {
                (None, Some(chosen))
            };
            commands.push(Command::Intent(Intent::SetPolicy {
                url: url.to_owned(),
                connect,
                auth,
                whitelist_only: None,
            }));
        }
    }
}

/// The exposure cap and the exploration switch, saved with one button.
fn reading_privacy(
    ui: &mut Ui,
    main: &mut Main,
    view: &crate::view::RelaysView,
    commands: &mut Vec<Command>,
) {
    let edit = main
        .reading_edit
        .get_or_insert((view.cap_percent.unwrap_or(0), view.explore));
    ui.horizontal(|ui| {
        let l = ui.label("Exposure cap");
        ui.add(egui::Slider::new(&mut edit.0, 0..=100).suffix(" %"))
            .labelled_by(l.id);
        ui.checkbox(
            &mut edit.1,
            "Explore (also ask connected relays about people with no evidence there)",
        );
        if ui.button("Save").clicked() {
            commands.push(Command::SetReadingPrivacy {
                cap_percent: (edit.0 > 0).then_some(edit.0),
                explore: edit.1,
            });
        }
    });
    ui.weak("Cap 0 % means none. A cap keeps any one relay from learning more of your follow list; exploring finds people with no relay list at the price of telling more relays about them. Applies from the next unlock.");
}

/// "1 person", "3 people".
fn people_count(n: usize) -> String {
    if n == 1 {
        "1 person".to_owned()
    } else {
        format!("{n} people")
    }
}
