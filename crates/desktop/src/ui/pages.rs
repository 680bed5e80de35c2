//! The smaller pages: a thread, a person, search, alerts and the first-run
//! card.

use egui::{RichText, Ui};
use samizdat_client::content::{parse_reference, Segment};
use samizdat_client::{Intent, RelayRoles};

use super::list::notes_list;
use super::note::NoteAction;
use super::start::labelled_field;
use super::Main;
use crate::protocol::Command;
use crate::view::PersonView;

/// Relays offered on the first run (nothing connects until one is chosen).
const SUGGESTED: [(&str, &str); 4] = [
    ("wss://relay.damus.io", "large public relay"),
    ("wss://nos.lol", "public relay"),
    ("wss://relay.primal.net", "public relay"),
    (
        "wss://purplepag.es",
        "indexer: relay lists and profiles (discovery)",
    ),
];

/// A thread: root first, replies nested under their parents.
pub fn thread(
    ui: &mut Ui,
    main: &mut Main,
    notes: Option<&crate::view::ScreenedCards>,
) -> Option<NoteAction> {
    ui.heading("Thread");
    let Some(notes) = notes else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("fetching the thread from the relays its notes point to…");
        });
        return None;
    };
    if notes.everything.is_empty() {
        ui.weak("Nothing found for this thread.");
        return None;
    }
    if super::list::outside_bar(ui, notes) {
        // The page shown is a copy: the switch lives on the open page.
        if let Some(super::Page::Thread(_, Some(open))) = main.pages.last_mut() {
            open.revealed = !open.revealed;
        }
    }
    notes_list(
        ui,
        "thread",
        notes.cards(),
        &mut main.page_list,
        &main.deliveries,
        &main.pictures,
        None,
    )
    .action
    .map(|(_, a)| a)
}

/// Where a person writes: each relay with its evidence, its delivery record
/// and whether they are read there.
fn person_relays(ui: &mut Ui, person: &PersonView) {
    let title = format!(
        "Where they write: {} relay{}{}",
        person.relays.len(),
        if person.relays.len() == 1 { "" } else { "s" },
        if person.stale_list {
            " (their relay list is stale: none of its relays works)"
        } else {
            ""
        }
    );
    egui::CollapsingHeader::new(title)
        .id_salt("person-relays")
        .show(ui, |ui| {
            if person.relays.is_empty() {
                ui.weak("no evidence of any relay yet");
            }
            for r in &person.relays {
                let mut line =
                    format!("{}  asked {} · delivered {}", r.relay, r.asked, r.delivered);
                if r.planned {
                    line.push_str(" · read here");
                }
                if r.probed {
                    line.push_str(" · asked to find out (no evidence yet)");
                }
                if !r.reachable {
                    line.push_str(" · unreachable");
                }
                ui.label(line);
                for e in &r.evidence {
                    ui.weak(format!(
                        "    {} · {:.0} days · {}",
                        e.source, e.age_days, e.detail
                    ));
                }
            }
        });
}

/// A person's page: profile, follow / unfollow, their notes.
pub fn person(
    ui: &mut Ui,
    main: &mut Main,
    person: &PersonView,
    commands: &mut Vec<Command>,
) -> Option<NoteAction> {
    ui.horizontal(|ui| {
        ui.heading(&person.profile.name);
        if person.pubkey != main.me {
            let (label, intent) = if person.followed {
                ("Unfollow", Intent::Unfollow(person.pubkey))
            } else {
                ("Follow", Intent::Follow(person.pubkey))
            };
            if ui.button(label).clicked() {
                commands.push(Command::Intent(intent));
            }
            let mute = if person.muted { "Unmute" } else { "Mute" };
            if ui
                .button(mute)
                .on_hover_text("a private mute: hidden from every feed, the inbox and threads")
                .clicked()
            {
                commands.push(Command::Intent(Intent::EditList {
                    which: samizdat_client::lists::ListKind::Mutes,
                    item: samizdat_client::lists::ListItem::Person(person.pubkey.to_hex()),
                    add: !person.muted,
                    private: true,
                }));
            }
        }
        if person.loading {
            ui.spinner();
            ui.weak("reading their own relays…");
        }
    });
    if let Some(real) = &person.imitates {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("⚠ This name imitates {real}, whom you follow: it is another key."),
        );
    }
    if let Some(sentence) = &person.trust {
        ui.weak(format!("Web of trust: {sentence}"))
            .on_hover_text("Computed on this machine from your follows' follow and mute lists");
    }
    super::media::person_switch(ui, person.pubkey, person.media_choice, commands);
    let npub = nostr::nips::nip19::ToBech32::to_bech32(&person.pubkey).unwrap_or_default();
    ui.horizontal(|ui| {
        ui.monospace(&npub);
        if ui.small_button("Copy").clicked() {
            ui.ctx().copy_text(npub.clone());
        }
    });
    if let Some(n) = &person.profile.nip05 {
        use samizdat_client::Nip05Badge;
        match &person.nip05 {
            Some(Nip05Badge::Verified) => {
                ui.colored_label(
                    egui::Color32::from_rgb(90, 180, 110),
                    format!("{n}: NIP-05 verified"),
                );
            }
            Some(Nip05Badge::Mismatch) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("{n}: NIP-05 FAILS, the domain names another key"),
                );
            }
            Some(Nip05Badge::Unverified(why)) => {
                ui.weak(format!("{n}: NIP-05 could not verify"))
                    .on_hover_text(why);
            }
            None => {
                ui.weak(format!("{n} (checking…)"));
            }
        }
    }
    if !person.profile.about.is_empty() {
        ui.label(&person.profile.about);
    }
    if person.profile.picture.is_some() {
        ui.weak("has a profile picture (remote images are not loaded)");
    }
    person_relays(ui, person);
    ui.separator();
    let notes: Vec<_> = person.notes.iter().cloned().map(|n| (n, 0)).collect();
    if notes.is_empty() && !person.loading {
        ui.weak("No notes found on their relays.");
    }
    notes_list(
        ui,
        "person",
        &notes,
        &mut main.page_list,
        &main.deliveries,
        &main.pictures,
        None,
    )
    .action
    .map(|(_, a)| a)
}

/// Search: local full-text search, or an npub / note reference to open.
pub fn search(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) -> Option<NoteAction> {
    let mut opened = None;
    ui.horizontal(|ui| {
        let l = ui.label("Find");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut main.search)
                    .hint_text("words, or an npub / nprofile / note / nevent")
                    .desired_width(420.0),
            )
            .labelled_by(l.id);
        if main.focus_search {
            r.request_focus();
            main.focus_search = false;
        }
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (ui.button("Go").clicked() || enter) && !main.search.trim().is_empty() {
            let text = main.search.trim().to_owned();
            match parse_reference(&text) {
                Some(Segment::Person { pubkey, .. }) => opened = Some(NoteAction::Person(pubkey)),
                Some(Segment::Event { id, .. }) => opened = Some(NoteAction::Thread(id)),
                _ => commands.push(Command::Search(text)),
            }
        }
    });
    if opened.is_some() {
        return opened;
    }
    ui.weak("Searches this machine's store only: no relay sees what you look for.");
    let Some((query, results)) = &mut main.results else {
        return None;
    };
    ui.label(format!("{} notes match {query:?}", results.shown.len()));
    if super::list::outside_bar(ui, results) {
        results.revealed = !results.revealed;
    }
    notes_list(
        ui,
        "search",
        results.cards(),
        &mut main.results_list,
        &main.deliveries,
        &main.pictures,
        None,
    )
    .action
    .map(|(_, a)| a)
}

/// Alerts, newest first.
pub fn alerts(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.heading("Alerts");
        if ui.button("Retry deliveries").clicked() {
            commands.push(Command::Intent(Intent::RetryDeliveries));
        }
        if ui.button("Clear").clicked() {
            main.alerts.clear();
            main.alerts_seen = 0;
        }
    });
    main.alerts_seen = main.alerts.len();
    if !main.pending.is_empty() {
        ui.strong("Needs attention");
        for p in &main.pending {
            ui.label(p);
        }
        ui.separator();
    }
    if !main.waiting.is_empty() {
        ui.horizontal(|ui| {
            ui.strong("Waiting changes");
            if ui.button("Try now").clicked() {
                commands.push(Command::Intent(Intent::ApplyWaitingChanges));
            }
        });
        ui.weak("Applied to your newest list once one of your relays answers; never to a list this device has not seen.");
        for (id, line) in &main.waiting {
            ui.horizontal(|ui| {
                ui.label(line);
                if ui.small_button("Cancel").clicked() {
                    commands.push(Command::CancelChange(*id));
                }
            });
        }
        ui.separator();
    }
    if main.alerts.is_empty() && main.pending.is_empty() && main.waiting.is_empty() {
        ui.weak("Nothing needs your attention.");
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for a in main.alerts.iter().rev() {
            ui.label(a);
            ui.separator();
        }
    });
}

/// The first-run card: suggested relays, "use my own relay", and
/// publishing the relay list.
pub fn first_run(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    ui.heading(RichText::new("Get started: how to reach the network"));
    ui.label(format!("Now: {}.", main.network));
    match &main.tor {
        None => {
            ui.weak("Looking for Tor on this machine…");
        }
        Some(Some(tor)) => {
            ui.label(format!("Tor answers at {tor}. Recommended: every relay then sees a Tor exit, never your address."));
            if ui.button("Use Tor (recommended)").clicked() {
                commands.push(Command::SetNetwork(Some(tor.clone())));
            }
        }
        Some(None) => {
            ui.label("Tor is not running here (127.0.0.1:9050 or 9150). Recommended: start Tor (the tor service or Tor Browser), then use it.");
            ui.horizontal(|ui| {
                if ui.button("Use Tor at 127.0.0.1:9050").clicked() {
                    commands.push(Command::SetNetwork(Some(
                        samizdat_client::network::TOR.to_owned(),
                    )));
                }
                if ui.button("Stay direct: relays see my IP address").clicked() {
                    commands.push(Command::SetNetwork(None));
                }
            });
        }
    }
    ui.separator();
    ui.heading(RichText::new("Get started: choose your relays"));
    ui.label("Your relays are where you publish and where others find you. Nothing is contacted until you add one.");
    for (url, what) in SUGGESTED {
        ui.horizontal(|ui| {
            let discovery = what.starts_with("indexer");
            if ui.small_button("Add").clicked() {
                commands.push(Command::Intent(Intent::AddRelay {
                    url: url.into(),
                    roles: RelayRoles {
                        read: !discovery,
                        write: !discovery,
                    },
                    discovery,
                }));
            }
            ui.monospace(url);
            ui.weak(what);
        });
    }
    ui.horizontal(|ui| {
        labelled_field(ui, "My own relay", &mut main.own_relay, false);
        if ui.button("Use it").clicked() && !main.own_relay.trim().is_empty() {
            commands.push(Command::Intent(Intent::AddRelay {
                url: main.own_relay.trim().to_owned(),
                roles: RelayRoles {
                    read: true,
                    write: true,
                },
                discovery: false,
            }));
        }
    });
    ui.horizontal(|ui| {
        if ui.button("Publish my relay list").clicked() {
            commands.push(Command::Intent(Intent::PublishRelayList));
        }
        if ui.button("Done").clicked() {
            main.needs_relays = false;
        }
    });
}
