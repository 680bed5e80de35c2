//! A scrolling list of note cards that draws only what is on screen, so a
//! feed of 10,000 notes costs what a screenful costs. Each card's height is
//! measured when drawn and remembered; cards never drawn count as an
//! estimate until they are.

use std::collections::HashMap;

use egui::Ui;
use nostr::prelude::*;

use super::note::{card, NoteAction};
use crate::view::{DeliveryView, NoteView};

/// Height assumed for a card not drawn yet.
const ESTIMATE: f32 = 96.0;

/// Remembered heights and scroll requests of one list.
#[derive(Default)]
pub struct ListState {
    heights: HashMap<EventId, f32>,
    /// Scroll so that this index is visible on the next frame.
    pub scroll_to: Option<usize>,
    /// Scroll by this many points on the next frame (benchmark).
    pub scroll_by: f32,
    /// The scroll offset after the last frame.
    pub offset: f32,
    /// Total content height after the last frame.
    pub content_height: f32,
}

/// What a list frame produced.
pub struct ListOutput {
    /// The user's action on a card, with its index.
    pub action: Option<(usize, NoteAction)>,
    /// The bottom of the list is on screen.
    pub at_end: bool,
}

/// Draws `notes` (each with its depth, for threads) in a scroll area.
pub fn notes_list(
    ui: &mut Ui,
    id: &str,
    notes: &[(NoteView, usize)],
    state: &mut ListState,
    deliveries: &HashMap<EventId, Vec<DeliveryView>>,
    pictures: &super::media::Pictures,
    selected: Option<usize>,
) -> ListOutput {
    let now = Timestamp::now();
    let heights: Vec<f32> = notes
        .iter()
        .map(|(n, _)| state.heights.get(&n.id).copied().unwrap_or(ESTIMATE))
        .collect();
    let spacing = ui.spacing().item_spacing.y;
    let mut tops = Vec::with_capacity(heights.len() + 1);
    let mut y = 0.0;
    for h in &heights {
        tops.push(y);
        y += h + spacing;
    }
    let total = y;
    let mut area = egui::ScrollArea::vertical()
        .id_salt(id)
        .auto_shrink([false, false]);
    if let Some(i) = state.scroll_to.take().filter(|i| *i < tops.len()) {
        let view = ui.available_height();
        let (top, bottom) = (tops[i], tops[i] + heights[i]);
        if top < state.offset {
            area = area.vertical_scroll_offset(top);
        } else if bottom > state.offset + view {
            area = area.vertical_scroll_offset((bottom - view).max(0.0));
        }
    } else if state.scroll_by != 0.0 {
        let max = (total - ui.available_height()).max(0.0);
        let mut next = state.offset + state.scroll_by;
        if next > max {
            next = 0.0;
        }
        area = area.vertical_scroll_offset(next);
        state.scroll_by = 0.0;
    }
    let mut action = None;
    let mut measured = Vec::new();
    let out = area.show_viewport(ui, |ui, viewport| {
        ui.set_min_height(total);
        // The last card starting above the viewport's top is the first drawn.
        let first = tops
            .partition_point(|t| *t <= viewport.min.y)
            .saturating_sub(1);
        let Some(&first_top) = tops.get(first) else {
            return;
        };
        ui.add_space(first_top);
        let mut i = first;
        while i < notes.len() {
            let (note, depth) = &notes[i];
            let top = ui.cursor().min.y;
            let response = ui.horizontal(|ui| {
                ui.add_space(*depth as f32 * 18.0);
                ui.vertical(|ui| {
                    card(
                        ui,
                        note,
                        deliveries.get(&note.id),
                        pictures,
                        selected == Some(i),
                        now,
                    )
                })
                .inner
            });
            if let Some(a) = response.inner {
                action = Some((i, a));
            }
            let height = ui.cursor().min.y - top - spacing;
            measured.push((note.id, height.max(1.0)));
            if tops[i] + height > viewport.max.y {
                break;
            }
            i += 1;
        }
    });
    for (id, h) in measured {
        state.heights.insert(id, h);
    }
    state.offset = out.state.offset.y;
    state.content_height = total;
    let at_end = state.offset + out.inner_rect.height() >= total - 4.0;
    ListOutput { action, at_end }
}

/// "N from people outside your network" with a button that shows or hides
/// them; returns whether it was clicked.
pub fn outside_bar(ui: &mut egui::Ui, screened: &crate::view::ScreenedCards) -> bool {
    if screened.hidden == 0 {
        return false;
    }
    let mut clicked = false;
    ui.horizontal(|ui| {
        ui.weak(format!(
            "{} from people outside your network",
            screened.hidden
        ))
        .on_hover_text(
            "Hidden by your web of trust: none of the people you follow follows them, \
             or your follows mute them. Nothing is deleted.",
        );
        let label = if screened.revealed {
            "Hide them"
        } else {
            "Show them"
        };
        clicked = ui.small_button(label).clicked();
    });
    clicked
}
