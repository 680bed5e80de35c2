//! Private messages: the conversation list (unread counts, legacy NIP-04
//! marked), one chat with its compose box, and the user's DM relays.

use egui::{RichText, Ui};
use nostr::prelude::*;
use samizdat_client::content::{parse_reference, Segment};
use samizdat_client::Intent;

use super::start::labelled_field;
use super::Main;
use crate::protocol::Command;
use crate::view::age;

/// Draws the messages tab.
pub fn show(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>) {
    let now = Timestamp::now();
    ui.horizontal(|ui| {
        ui.heading("Messages");
        ui.weak("NIP-17: sealed and gift-wrapped; your DM relays see when a wrap arrives, not from whom.");
    });
    let Some(view) = main.messages.clone() else {
        ui.spinner();
        return;
    };
    if view.dm_relays.is_empty() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "You have no DM relays yet: nobody can send you a private message.",
        );
    } else {
        ui.label(format!("Your DM relays: {}", view.dm_relays.join(", ")));
    }
    ui.horizontal(|ui| {
        labelled_field(ui, "DM relays", &mut main.dm_relays_field, false);
        if ui.button("Publish DM relays").clicked() {
            let urls: Vec<String> = main
                .dm_relays_field
                .split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !urls.is_empty() {
                commands.push(Command::Intent(Intent::SetDmRelays(urls)));
            }
        }
    });
    if !view.dropped.is_empty() {
        let dropped: Vec<String> = view
            .dropped
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        ui.weak(format!("Dropped wraps: {}", dropped.join(", ")));
    }
    ui.separator();
    ui.columns(2, |cols| {
        let left = &mut cols[0];
        left.horizontal(|ui| {
            labelled_field(ui, "Message to", &mut main.new_dm_to, false);
            if ui.button("Open").clicked() {
                let people: Vec<PublicKey> = main
                    .new_dm_to
                    .split([',', ' '])
                    .filter_map(|p| match parse_reference(p) {
                        Some(Segment::Person { pubkey, .. }) => Some(pubkey),
                        _ => None,
                    })
                    .collect();
                if !people.is_empty() {
                    main.chat = Some((people.clone(), Vec::new()));
                    commands.push(Command::OpenConversation(people));
                }
            }
        });
        left.horizontal(|ui| {
            if ui
                .selectable_label(!main.show_requests, "Conversations")
                .clicked()
            {
                main.show_requests = false;
            }
            let n: usize = view.requests.iter().map(|r| r.messages).sum();
            if ui
                .selectable_label(main.show_requests, format!("Requests ({n})"))
                .on_hover_text("Messages from people outside your network, not opened yet")
                .clicked()
            {
                main.show_requests = true;
            }
        });
        if main.show_requests {
            requests(left, main, &view, commands, now);
        } else {
            conversations(left, main, &view, commands, now);
        }
        let right = &mut cols[1];
        chat(right, main, commands, now);
    });
}

/// Message requests: who wrote, how many, nothing opened until asked.
fn requests(
    ui: &mut Ui,
    main: &mut Main,
    view: &crate::view::MessagesView,
    commands: &mut Vec<Command>,
    now: Timestamp,
) {
    ui.weak(
        "People outside your network (none of your follows follows them, or your follows \
         mute them). Only the sender is known: a message is opened (decrypted) when you open it.",
    );
    if view.waiting > 0 {
        ui.weak(format!(
            "{} more wait unopened: this hour's limit of strangers' messages is reached.",
            view.waiting
        ));
    }
    egui::ScrollArea::vertical()
        .id_salt("requests")
        .show(ui, |ui| {
            if view.requests.is_empty() {
                ui.weak("No message requests.");
            }
            for r in &view.requests {
                ui.horizontal(|ui| {
                    ui.strong(&r.name);
                    if let Some(real) = &r.imitates {
                        ui.colored_label(ui.visuals().error_fg_color, format!("⚠ imitates {real}"));
                    }
                });
                ui.horizontal(|ui| {
                    ui.weak(format!(
                        "{} message{} · {}",
                        r.messages,
                        if r.messages == 1 { "" } else { "s" },
                        age(r.last_at, now)
                    ));
                    if ui
                        .small_button("Open their messages")
                        .on_hover_text(
                            "Decrypts them; from then on their messages open like anyone's",
                        )
                        .clicked()
                    {
                        main.chat = Some((vec![r.from], Vec::new()));
                        main.show_requests = false;
                        commands.push(Command::AcceptRequests(r.from));
                    }
                });
                ui.separator();
            }
        });
}

/// The conversation list.
fn conversations(
    ui: &mut Ui,
    main: &mut Main,
    view: &crate::view::MessagesView,
    commands: &mut Vec<Command>,
    now: Timestamp,
) {
    {
        let left = ui;
        egui::ScrollArea::vertical().id_salt("conversations").show(left, |ui| {
            if view.conversations.is_empty() {
                ui.weak("No conversations yet.");
            }
            for c in &view.conversations {
                let mut title = c.names.clone();
                if c.unread > 0 {
                    title = format!("{title} ({} unread)", c.unread);
                }
                let open = main.chat.as_ref().is_some_and(|(w, _)| *w == c.with);
                let text = if c.unread > 0 {
                    RichText::new(title).strong()
                } else {
                    RichText::new(title)
                };
                if ui.selectable_label(open, text).clicked() {
                    main.chat = Some((c.with.clone(), Vec::new()));
                    commands.push(Command::OpenConversation(c.with.clone()));
                }
                ui.horizontal(|ui| {
                    ui.weak(age(c.last_at, now));
                    if let Some(s) = &c.subject {
                        ui.weak(format!("[{s}]"));
                    }
                    if c.legacy {
                        ui.weak("legacy NIP-04: its relays saw who and when")
                            .on_hover_text("Sent by an older client as kind 4: the relay sees sender, recipient and time.");
                    }
                });
                ui.weak(&c.preview);
                ui.separator();
            }
        });
    }
}

fn chat(ui: &mut Ui, main: &mut Main, commands: &mut Vec<Command>, now: Timestamp) {
    let Some((with, messages)) = main.chat.clone() else {
        ui.weak("Choose a conversation, or open one with an npub.");
        return;
    };
    egui::ScrollArea::vertical()
        .id_salt("chat")
        .max_height(ui.available_height() - 90.0)
        .stick_to_bottom(true)
        .show(ui, |ui| {
            for m in &messages {
                ui.horizontal_wrapped(|ui| {
                    let who = RichText::new(&m.sender).strong();
                    ui.label(if m.own { who.italics() } else { who });
                    ui.weak(age(m.created_at, now));
                    if m.legacy {
                        ui.weak("(legacy)");
                    }
                });
                ui.label(&m.text);
                ui.add_space(4.0);
            }
        });
    let l = ui.label("Your message");
    ui.add(
        egui::TextEdit::multiline(&mut main.dm_text)
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(l.id);
    if ui.button("Send message").clicked() && !main.dm_text.trim().is_empty() {
        commands.push(Command::Intent(Intent::SendDm {
            to: with,
            text: std::mem::take(&mut main.dm_text),
            subject: None,
        }));
    }
}
