//! The signed-in window: the top bar with tabs, the page or tab shown, the
//! status line, the reply window and the keyboard (j/k move, r replies,
//! Enter opens the thread, / searches, Esc goes back).

use egui::{Key, RichText};
use samizdat_client::Intent;

use super::list::notes_list;
use super::note::NoteAction;
use super::{messages, operator, pages, relays, settings, DesktopApp, Main, Page, Tab};
use crate::protocol::Command;

/// Draws the signed-in window.
pub fn show(app: &mut DesktopApp, ctx: &egui::Context) {
    let mut commands: Vec<Command> = Vec::new();
    // The other accounts' ledgers, for the Relays tab's shared-IP warning.
    let others: Vec<(String, Option<samizdat_client::PrivacyReport>)> = app
        .others
        .iter()
        .map(|a| (a.main.profile.clone(), a.main.privacy.clone()))
        .collect();
    let Some(main) = app.main.as_mut() else {
        return;
    };
    top_bar(main, ctx, &mut commands);
    status_bar(main, ctx);
    link_dialog(main, ctx);
    egui::CentralPanel::default().show(ctx, |ui| {
        if let Some(page) = main.pages.last().cloned() {
            ui.horizontal(|ui| {
                if ui.button("Back (Esc)").clicked() {
                    main.pages.pop();
                }
            });
            let action = match page {
                Page::Thread(_, notes) => pages::thread(ui, main, notes.as_ref()),
                Page::Person(person) => pages::person(ui, main, &person, &mut commands),
            };
            if let Some(a) = action {
                act(main, a, &mut commands);
            }
            return;
        }
        let action = match main.tab {
            Tab::Feed => feed(ui, main, &mut commands),
            Tab::Inbox => {
                ui.heading("Inbox: replies, mentions, reactions");
                if !main.held_back.is_empty() {
                    ui.weak(format!(
                        "Held back (people you don't follow, via relays that are not spam-safe): {}",
                        main.held_back.join(", ")
                    ));
                }
                if super::list::outside_bar(ui, &main.inbox) {
                    main.inbox.revealed = !main.inbox.revealed;
                }
                let out = notes_list(
                    ui,
                    "inbox",
                    main.inbox.cards(),
                    &mut main.inbox_list,
                    &main.deliveries,
                    &main.pictures,
                    None,
                );
                out.action.map(|(_, a)| a)
            }
            Tab::Messages => {
                messages::show(ui, main, &mut commands);
                None
            }
            Tab::Search => pages::search(ui, main, &mut commands),
            Tab::Relays => {
                relays::shared_ip_warning(ui, main, &others);
                relays::show(ui, main, &mut commands);
                None
            }
            Tab::MyRelay => {
                operator::show(ui, main, &mut commands);
                None
            }
            Tab::Alerts => {
                pages::alerts(ui, main, &mut commands);
                None
            }
            Tab::Settings => {
                egui::ScrollArea::vertical()
                    .id_salt("settings")
                    .show(ui, |ui| settings::settings(ui, main, &mut commands));
                None
            }
        };
        if let Some(a) = action {
            act(main, a, &mut commands);
        }
    });
    reply_window(main, ctx, &mut commands);
    super::media::viewer(ctx, &mut main.pictures);
    super::media::picker(ctx, &mut main.pictures, &mut commands);
    commands.extend(main.pictures.take_wanted().into_iter().map(Command::Media));
    keyboard(main, ctx, &mut commands);
    if commands.iter().any(|c| matches!(c, Command::ShowRelays)) {
        // The shared-IP warning compares with the other accounts' ledgers.
        for account in &app.others {
            account.bridge.send(Command::ShowRelays);
        }
    }
    for c in commands {
        app.send(c);
    }
}

fn top_bar(main: &mut Main, ctx: &egui::Context, commands: &mut Vec<Command>) {
    egui::TopBottomPanel::top("top").show(ctx, |ui| {
        ui.horizontal(|ui| {
            ui.strong("Samizdat");
            ui.separator();
            let unseen = main.alerts.len().saturating_sub(main.alerts_seen);
            let unread: usize = main
                .messages
                .as_ref()
                .map_or(0, |m| m.conversations.iter().map(|c| c.unread).sum());
            let messages_label = if unread > 0 {
                format!("Messages ({unread})")
            } else {
                "Messages".to_owned()
            };
            let alerts = if unseen > 0 {
                format!("Alerts ({unseen})")
            } else {
                "Alerts".to_owned()
            };
            for (tab, label) in [
                (Tab::Feed, "Feed".to_owned()),
                (Tab::Inbox, "Inbox".to_owned()),
                (Tab::Messages, messages_label),
                (Tab::Search, "Search".to_owned()),
                (Tab::Relays, "Relays".to_owned()),
                (Tab::MyRelay, "My relay".to_owned()),
                (Tab::Alerts, alerts),
                (Tab::Settings, "Settings".to_owned()),
            ] {
                let text = if tab == Tab::Alerts && unseen > 0 {
                    RichText::new(label).color(ui.visuals().warn_fg_color)
                } else {
                    RichText::new(label)
                };
                if ui
                    .selectable_label(main.tab == tab && main.pages.is_empty(), text)
                    .clicked()
                {
                    switch_tab(main, tab, commands);
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("Lock")
                    .on_hover_text("close this profile")
                    .clicked()
                {
                    commands.push(Command::Lock);
                }
                if ui.button("Refresh").clicked() {
                    commands.push(Command::Intent(Intent::Refresh));
                }
                let who = if main.name.is_empty() {
                    main.profile.clone()
                } else {
                    format!("{} ({})", main.name, main.profile)
                };
                ui.weak(who);
            });
        });
    });
}

/// "Open in the browser?": the browser does not go through Samizdat's
/// proxy, so the site would see the user's address and the link.
fn link_dialog(main: &mut Main, ctx: &egui::Context) {
    let Some(url) = main.link_to_open.clone() else {
        return;
    };
    egui::Window::new("Open this link?")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .show(ctx, |ui| {
            ui.label(&url);
            ui.label(
                "Your browser does not go through Samizdat's proxy: the site will see your \
                 IP address (unless the browser has a proxy of its own) and know this link was opened.",
            );
            ui.horizontal(|ui| {
                if ui.button("Open in browser").clicked() {
                    ctx.open_url(egui::OpenUrl::new_tab(&url));
                    main.link_to_open = None;
                }
                if ui.button("Copy link").clicked() {
                    ctx.copy_text(url.clone());
                    main.link_to_open = None;
                }
                if ui.button("Cancel").clicked() {
                    main.link_to_open = None;
                }
            });
        });
}

/// Switches tab and asks for what it shows.
pub fn switch_tab(main: &mut Main, tab: Tab, commands: &mut Vec<Command>) {
    main.tab = tab;
    main.pages.clear();
    match tab {
        Tab::Inbox => commands.push(Command::ShowInbox),
        Tab::Relays => commands.push(Command::ShowRelays),
        Tab::MyRelay => {
            if let Some(url) = main.prefs.my_relay.clone() {
                main.operator.loading = true;
                commands.push(Command::RelayOverview(url));
            }
        }
        Tab::Messages => commands.push(Command::ShowConversations),
        Tab::Alerts => {
            main.alerts_seen = main.alerts.len();
            commands.push(Command::ShowAlerts);
        }
        Tab::Search => main.focus_search = true,
        _ => {}
    }
}

fn status_bar(main: &mut Main, ctx: &egui::Context) {
    egui::TopBottomPanel::bottom("status").show(ctx, |ui| {
        ui.horizontal(|ui| {
            if let Some((result, at)) = &main.last_done {
                if at.elapsed().as_secs() < 20 {
                    match result {
                        Ok(s) => ui.label(s),
                        Err(e) => ui.colored_label(ui.visuals().error_fg_color, e),
                    };
                    ui.separator();
                }
            }
            ui.weak(&main.status);
        });
    });
}

fn feed(ui: &mut egui::Ui, main: &mut Main, commands: &mut Vec<Command>) -> Option<NoteAction> {
    if main.needs_relays {
        pages::first_run(ui, main, commands);
        ui.separator();
    }
    ui.horizontal(|ui| {
        let l = ui.label("New note");
        let response = ui
            .add(
                egui::TextEdit::multiline(&mut main.compose)
                    .desired_rows(2)
                    .desired_width(ui.available_width() - 80.0)
                    .hint_text("What's happening? (Ctrl+Enter posts)"),
            )
            .labelled_by(l.id);
        if main.focus_compose {
            response.request_focus();
            main.focus_compose = false;
        }
        let ctrl_enter =
            response.has_focus() && ui.input(|i| i.modifiers.command && i.key_pressed(Key::Enter));
        ui.vertical(|ui| {
            let posting = main.mining.is_none();
            let attaching = !main.pictures.attachments.is_empty();
            let posting = posting && main.pictures.upload.is_none();
            if (ui.add_enabled(posting, egui::Button::new("Post")).clicked()
                || (ctrl_enter && posting))
                && (!main.compose.trim().is_empty() || attaching)
            {
                let text = std::mem::take(&mut main.compose);
                if attaching {
                    let files = std::mem::take(&mut main.pictures.attachments);
                    main.pictures.sending = files.clone();
                    main.pictures.upload = Some((0, 1));
                    commands.push(Command::Media(crate::protocol::MediaCommand::Post {
                        text,
                        files,
                    }));
                } else if main.pow_bits > 0 {
                    let progress = samizdat_client::pow::PowProgress::new();
                    main.mining = Some((
                        std::sync::Arc::clone(&progress),
                        std::time::Instant::now(),
                        main.pow_bits,
                    ));
                    commands.push(Command::Intent(Intent::PostWithPow {
                        text,
                        reply_to: None,
                        difficulty: main.pow_bits,
                        progress,
                    }));
                } else {
                    commands.push(Command::Intent(Intent::Post { text }));
                }
            }
            ui.add(
                egui::DragValue::new(&mut main.pow_bits)
                    .range(0..=40)
                    .prefix("PoW ")
                    .suffix(" bits"),
            )
            .on_hover_text("NIP-13 proof of work, mined on every core before signing");
        });
    });
    super::media::attachments(ui, &mut main.pictures, commands);
    if let Some((progress, started, bits)) = &main.mining {
        use std::sync::atomic::Ordering;
        let done = progress.hashes.load(Ordering::Relaxed) as f64;
        let rate = done / started.elapsed().as_secs_f64().max(0.001);
        let expected = samizdat_client::pow::PowProgress::expected_hashes(*bits);
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!(
                "mining {bits} bits: {:.2} Mhash/s, about {:.0} s expected, {:.0}% of the expected work done",
                rate / 1e6,
                expected / rate.max(1.0),
                (100.0 * done / expected).min(999.0)
            ));
            if ui.button("Cancel").clicked() {
                progress.cancel.store(true, Ordering::SeqCst);
            }
        });
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(250));
    }
    if main.new_notes > 0 {
        let text = if main.new_notes == 1 {
            "1 new note — show".to_owned()
        } else {
            format!("{} new notes — show", main.new_notes)
        };
        if ui.button(text).clicked() {
            commands.push(Command::ShowFeed);
            main.feed_list.scroll_to = Some(0);
            main.selected = None;
        }
    }
    if main.feed.is_empty() {
        ui.weak("No notes yet. Follow people (Search → paste an npub) and press Refresh.");
        return None;
    }
    let out = notes_list(
        ui,
        "feed",
        &main.feed,
        &mut main.feed_list,
        &main.deliveries,
        &main.pictures,
        main.selected,
    );
    if out.at_end && !main.loading_more && !main.feed_end {
        if let Some((last, _)) = main.feed.last() {
            main.loading_more = true;
            commands.push(Command::LoadMore {
                before: last.created_at,
            });
        }
    }
    out.action.map(|(i, a)| {
        main.selected = Some(i);
        a
    })
}

/// Carries out a card action.
pub fn act(main: &mut Main, action: NoteAction, commands: &mut Vec<Command>) {
    match action {
        NoteAction::Thread(id) => {
            main.page_list = Default::default();
            main.pages.push(Page::Thread(id, None));
            commands.push(Command::OpenThread(id));
        }
        NoteAction::Person(pk) => {
            main.pending_person = Some(pk);
            commands.push(Command::OpenPerson(pk));
        }
        NoteAction::Reply(id) => {
            if let Some(note) = find(main, id) {
                main.reply = Some((note, String::new()));
            }
        }
        NoteAction::Like(id) => commands.push(Command::Intent(Intent::React {
            to: id,
            content: "+".into(),
        })),
        NoteAction::Repost(id) => commands.push(Command::Intent(Intent::Repost { of: id })),
        NoteAction::Delete(id) => commands.push(Command::Intent(Intent::Delete {
            event: id,
            reason: String::new(),
        })),
        NoteAction::Retry => commands.push(Command::Intent(Intent::RetryDeliveries)),
        NoteAction::OpenLink(url) => main.link_to_open = Some(url),
        NoteAction::LoadPicture(author, reference) => {
            main.pictures.loading(&reference.url);
            commands.push(Command::Media(crate::protocol::MediaCommand::Load {
                author,
                reference: *reference,
                clicked: true,
            }));
        }
        NoteAction::ViewPicture(url) => main.pictures.viewer = Some((url, 1.0)),
        NoteAction::BanOnMyRelay(author) => match main.prefs.my_relay.clone() {
            Some(relay) => commands.push(Command::ManageRelay {
                relay,
                method: "banpubkey".into(),
                params: vec![
                    serde_json::json!(author.to_hex()),
                    serde_json::json!("banned from a note"),
                ],
            }),
            None => main
                .alerts
                .push("name your relay in the My relay tab first".into()),
        },
        NoteAction::Bookmark(id) => commands.push(Command::Intent(Intent::EditList {
            which: samizdat_client::lists::ListKind::Bookmarks,
            item: samizdat_client::lists::ListItem::Event(id.to_hex()),
            add: true,
            private: true,
        })),
    }
}

fn find(main: &Main, id: nostr::prelude::EventId) -> Option<crate::view::NoteView> {
    let in_pages = main.pages.iter().flat_map(|p| match p {
        Page::Thread(_, Some(n)) => n.everything.iter().map(|(v, _)| v).collect::<Vec<_>>(),
        Page::Person(p) => p.notes.iter().collect(),
        _ => Vec::new(),
    });
    main.feed
        .iter()
        .chain(&main.inbox.everything)
        .map(|(v, _)| v)
        .chain(in_pages)
        .chain(
            main.results
                .iter()
                .flat_map(|(_, r)| r.everything.iter().map(|(v, _)| v)),
        )
        .find(|v| v.id == id)
        .cloned()
}

fn reply_window(main: &mut Main, ctx: &egui::Context, commands: &mut Vec<Command>) {
    let Some((note, text)) = main.reply.as_mut() else {
        return;
    };
    let mut close = false;
    let mut send = false;
    egui::Window::new(format!("Reply to {}", note.author_name))
        .collapsible(false)
        .show(ctx, |ui| {
            let preview: String = note
                .pieces
                .iter()
                .map(|p| match p {
                    crate::view::Piece::Text(t) => t.clone(),
                    crate::view::Piece::Link(l) => l.clone(),
                    crate::view::Piece::Hashtag(h) => format!("#{h}"),
                    crate::view::Piece::Person(_, n) => format!("@{n}"),
                    _ => "…".into(),
                })
                .collect();
            ui.weak(preview.chars().take(200).collect::<String>());
            let l = ui.label("Your reply");
            let r = ui
                .add(egui::TextEdit::multiline(text).desired_rows(4))
                .labelled_by(l.id);
            r.request_focus();
            ui.horizontal(|ui| {
                if ui.button("Send reply").clicked() && !text.trim().is_empty() {
                    send = true;
                }
                if ui.button("Cancel").clicked() {
                    close = true;
                }
            });
            if ui.input(|i| i.key_pressed(Key::Escape)) {
                close = true;
            }
        });
    if send {
        if let Some((note, text)) = main.reply.take() {
            commands.push(Command::Intent(Intent::Reply { to: note.id, text }));
        }
    } else if close {
        main.reply = None;
    }
}

fn keyboard(main: &mut Main, ctx: &egui::Context, commands: &mut Vec<Command>) {
    if ctx.wants_keyboard_input() || main.reply.is_some() {
        return;
    }
    let (down, up, reply, open, search, back) = ctx.input(|i| {
        (
            i.key_pressed(Key::J),
            i.key_pressed(Key::K),
            i.key_pressed(Key::R),
            i.key_pressed(Key::Enter),
            i.key_pressed(Key::Slash),
            i.key_pressed(Key::Escape),
        )
    });
    if back && !main.pages.is_empty() {
        main.pages.pop();
        return;
    }
    if search {
        switch_tab(main, Tab::Search, commands);
        return;
    }
    if main.tab != Tab::Feed || !main.pages.is_empty() || main.feed.is_empty() {
        return;
    }
    let last = main.feed.len() - 1;
    if down {
        main.selected = Some(main.selected.map_or(0, |s| (s + 1).min(last)));
        main.feed_list.scroll_to = main.selected;
    }
    if up {
        main.selected = Some(main.selected.map_or(0, |s| s.saturating_sub(1)));
        main.feed_list.scroll_to = main.selected;
    }
    let Some(selected) = main.selected.and_then(|s| main.feed.get(s)) else {
        return;
    };
    let id = selected.0.id;
    if reply {
        act(main, NoteAction::Reply(id), commands);
    } else if open {
        act(main, NoteAction::Thread(id), commands);
    }
}
