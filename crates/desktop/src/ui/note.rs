//! One note card: author, age, text with links and resolved mentions, the
//! actions, and for the user's own notes the delivery per relay.

use egui::{Color32, RichText, Ui};
use nostr::prelude::*;

use crate::view::{age, DeliveryView, NoteView, Piece};

/// What the user did on a card.
#[derive(Debug, Clone, PartialEq)]
pub enum NoteAction {
    /// Open the note's thread.
    Thread(EventId),
    /// Open a person's page.
    Person(PublicKey),
    /// Reply to the note.
    Reply(EventId),
    /// React with "+".
    Like(EventId),
    /// Repost it.
    Repost(EventId),
    /// Delete it (own notes).
    Delete(EventId),
    /// Retry its deliveries.
    Retry,
    /// Bookmark it (privately).
    Bookmark(EventId),
    /// Open a link (after saying the browser does not use the proxy).
    OpenLink(String),
    /// Load a picture the user clicked (whose note, which picture).
    LoadPicture(PublicKey, Box<samizdat_client::media::MediaRef>),
    /// Open a loaded picture in the viewer (by URL).
    ViewPicture(String),
    /// Ban the note's author on the relay the user runs (NIP-86).
    BanOnMyRelay(PublicKey),
}

/// Colours of delivery states.
fn state_colour(state: &str) -> Color32 {
    match state {
        "ok" => Color32::from_rgb(90, 180, 110),
        "pending" => Color32::from_rgb(220, 170, 60),
        _ => Color32::from_rgb(220, 90, 80),
    }
}

/// Draws the card; returns what the user clicked.
pub fn card(
    ui: &mut Ui,
    note: &NoteView,
    deliveries: Option<&Vec<DeliveryView>>,
    pictures: &super::media::Pictures,
    selected: bool,
    now: Timestamp,
) -> Option<NoteAction> {
    let mut action = None;
    let stroke = if selected {
        ui.visuals().selection.stroke
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    };
    // One accessibility node per card, read as "author, time: text", just
    // before the card's own links and buttons.
    let card_id = ui.id().with(("card", note.id));
    ui.ctx().accesskit_node_builder(card_id, |node| {
        node.set_role(egui::accesskit::Role::Article);
        node.set_label(note.spoken(now));
    });
    egui::Frame::group(ui.style())
        .stroke(stroke)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                if ui
                    .link(RichText::new(&note.author_name).strong())
                    .on_hover_text(note.author.to_bech32().unwrap_or_default())
                    .clicked()
                {
                    action = Some(NoteAction::Person(note.author));
                }
                if let Some(real) = &note.imitates {
                    ui.colored_label(ui.visuals().error_fg_color, format!("⚠ imitates {real}"))
                        .on_hover_text(format!(
                            "This name looks like that of {real}, whom you follow, but it belongs to another key."
                        ));
                }
                ui.weak(age(note.created_at, now));
                if note.outside {
                    ui.weak("· outside your network");
                }
                if let Some((_, original_author)) = &note.repost_of {
                    ui.weak(format!("reposted {original_author}"));
                }
                if note.reply_to.is_some() {
                    ui.weak("replied");
                }
            });
            text(ui, &note.pieces, &mut action);
            if !note.media.is_empty() {
                if let Some(a) = super::media::on_card(ui, note, pictures) {
                    action = Some(a);
                }
            }
            ui.horizontal(|ui| {
                if note.kind == 1 {
                    if ui.small_button("Reply").clicked() {
                        action = Some(NoteAction::Reply(note.id));
                    }
                    if ui.small_button("Like").clicked() {
                        action = Some(NoteAction::Like(note.id));
                    }
                    if ui.small_button("Repost").clicked() {
                        action = Some(NoteAction::Repost(note.id));
                    }
                    if ui
                        .small_button("Bookmark")
                        .on_hover_text("a private bookmark (NIP-51, encrypted to yourself)")
                        .clicked()
                    {
                        action = Some(NoteAction::Bookmark(note.id));
                    }
                }
                let thread_of = note.repost_of.as_ref().map_or(note.id, |(id, _)| *id);
                if ui.small_button("Thread").clicked() {
                    action = Some(NoteAction::Thread(thread_of));
                }
                if note.own && ui.small_button("Delete").clicked() {
                    action = Some(NoteAction::Delete(note.id));
                }
                if !note.own {
                    ui.menu_button("More", |ui| {
                        if ui
                            .button("Ban the author on my relay")
                            .on_hover_text("NIP-86 banpubkey on the relay named in the My relay tab")
                            .clicked()
                        {
                            action = Some(NoteAction::BanOnMyRelay(note.author));
                            ui.close();
                        }
                    });
                }
                if let Some(d) = deliveries {
                    delivery_badge(ui, d, &mut action);
                }
            });
        });
    action
}

/// The text of a note: links open in the browser only on click; mentions
/// and note references open in the app.
fn text(ui: &mut Ui, pieces: &[Piece], action: &mut Option<NoteAction>) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for piece in pieces {
            match piece {
                Piece::Text(t) => {
                    ui.label(t);
                }
                Piece::Link(l) => {
                    if ui.link(l).on_hover_text(l).clicked() {
                        *action = Some(NoteAction::OpenLink(l.clone()));
                    }
                }
                Piece::Hashtag(h) => {
                    ui.label(RichText::new(format!("#{h}")).italics());
                }
                Piece::Person(pk, name) => {
                    if ui.link(format!("@{name}")).clicked() {
                        *action = Some(NoteAction::Person(*pk));
                    }
                }
                Piece::Event(id) => {
                    let b = id.to_bech32().unwrap_or_else(|_| id.to_hex());
                    if ui.link(format!("{}…", &b[..b.len().min(14)])).clicked() {
                        *action = Some(NoteAction::Thread(*id));
                    }
                }
                Piece::Address(a) => {
                    ui.weak(a);
                }
            }
        }
    });
}

/// "✓ 2/3" with the per-relay detail on hover and a retry button while
/// something is pending or refused.
fn delivery_badge(ui: &mut Ui, deliveries: &[DeliveryView], action: &mut Option<NoteAction>) {
    let ok = deliveries.iter().filter(|d| d.state == "ok").count();
    let all = deliveries.len();
    let worst = if ok == all {
        "ok"
    } else if deliveries.iter().any(|d| d.state == "pending") {
        "pending"
    } else {
        "refused"
    };
    ui.separator();
    ui.label(
        RichText::new(format!("delivered {ok}/{all}"))
            .color(state_colour(worst))
            .small(),
    )
    .on_hover_ui(|ui| {
        for d in deliveries {
            ui.horizontal(|ui| {
                ui.label(RichText::new(d.state).color(state_colour(d.state)));
                ui.label(&d.relay);
                if let Some(r) = &d.reason {
                    ui.weak(r);
                }
                ui.weak(format!("({} attempts)", d.attempts));
            });
        }
    });
    for d in deliveries {
        ui.label(
            RichText::new(format!("{} {}", short_relay(&d.relay), d.state))
                .color(state_colour(d.state))
                .small(),
        );
    }
    if ok < all && ui.small_button("Retry").clicked() {
        *action = Some(NoteAction::Retry);
    }
}

/// `relay.example` from `wss://relay.example/`.
pub fn short_relay(url: &str) -> &str {
    url.trim_start_matches("wss://")
        .trim_start_matches("ws://")
        .trim_end_matches('/')
}
