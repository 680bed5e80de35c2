//! What a relay sends, one text frame at a time: events into the validation
//! pipeline (in order with the EOSEs, CLOSEDs and NOTICEs around them), OKs
//! to the publishes waiting on them, AUTH challenges, negentropy rounds.

use std::time::Instant;

use nostr::prelude::*;
use samizdat_store::FailureClass;
use serde_json::json;
use tokio::sync::mpsc;

use crate::ingest::IngestItem;
use crate::message::{self, RelayMessage};
use crate::negentropy::AfterError;
use crate::nip11::RelayLimits;
use crate::pool::{PoolEvent, PublishOutcome};
use crate::relay::{RelayActor, SessionEnd};
use crate::session::Session;
use crate::validate::{precheck, Rejection};

impl RelayActor {
    /// Handles one text frame; returns `Some` to end the session.
    pub(crate) async fn on_text(
        &mut self,
        s: &mut Session,
        text: &str,
        limits: &RelayLimits,
        ingest_tx: &mpsc::Sender<IngestItem>,
        out: &mut Vec<String>,
    ) -> Option<SessionEnd> {
        match message::parse(text) {
            RelayMessage::Event { sub, event } => {
                let Some(wire) = s.wire.get(&sub) else {
                    self.reject(ingest_tx, Rejection::UnknownSubscription).await;
                    return None;
                };
                let now = Timestamp::now().as_secs();
                // Before EOSE a relay may send at most `limit` stored events per filter.
                let cap: Option<usize> = wire.filters.iter().map(|f| f.limit).sum();
                let count = s.received.entry(sub.clone()).or_insert(0);
                *count += 1;
                if !wire.eose && cap.is_some_and(|cap| *count > cap) {
                    self.reject(ingest_tx, Rejection::OffFilter).await;
                    return None;
                }
                match precheck(&event, &wire.filters, &self.shared.config.validation, now) {
                    Ok(()) => {
                        s.batch.push((wire.logical.clone(), *event));
                        if s.batch.len() >= self.shared.config.batch_size {
                            let batch = std::mem::take(&mut s.batch);
                            if ingest_tx.send(IngestItem::Batch(batch)).await.is_err() {
                                return Some(SessionEnd::Failed(
                                    FailureClass::Other,
                                    "ingest stopped".into(),
                                ));
                            }
                        }
                    }
                    Err(reason) => self.reject(ingest_tx, reason).await,
                }
            }
            RelayMessage::OkWithoutId { accepted, reason } => {
                // Only attributable when exactly one publish is waiting.
                let waiting: Vec<EventId> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| p.sent)
                    .map(|(id, _)| *id)
                    .collect();
                if let [id] = waiting[..] {
                    if let Some(p) = self.pending.remove(&id) {
                        let _ = p.reply.send(PublishOutcome::from_ok(accepted, &reason));
                    }
                } else {
                    s.malformed += 1;
                }
            }
            RelayMessage::Eose(sub) => {
                if let Some(logical) = s.mark_eose(&sub) {
                    self.caught_up.insert(logical.clone(), Timestamp::now());
                    self.flush_then(
                        s,
                        ingest_tx,
                        IngestItem::Eose {
                            sub: logical,
                            timed_out: false,
                        },
                    )
                    .await;
                }
            }
            RelayMessage::Ok {
                id,
                accepted,
                reason,
            } => {
                if s.auth_event == Some(id) {
                    s.auth_event = None;
                    if accepted {
                        s.authenticated = true;
                        self.emit(PoolEvent::Authenticated {
                            relay: self.url.clone(),
                        })
                        .await;
                        for (id, filters) in std::mem::take(&mut s.deferred_subs) {
                            s.open(&id, filters, limits, out);
                        }
                        for p in self.pending.values().filter(|p| p.auth_retried) {
                            out.push(json!(["EVENT", p.event]).to_string());
                        }
                        self.negs.reopen_after_auth(out);
                    } else {
                        self.decline_auth(s, &format!("auth-required: AUTH refused: {reason}"))
                            .await;
                    }
                    return None;
                }
                let outcome = PublishOutcome::from_ok(accepted, &reason);
                if let PublishOutcome::AuthRequired(_) = outcome {
                    let retry = self.pending.get(&id).is_some_and(|p| !p.auth_retried);
                    if retry && self.try_auth(s, out).await {
                        let ok_timeout = self.shared.config.ok_timeout;
                        if let Some(p) = self.pending.get_mut(&id) {
                            p.auth_retried = true;
                            p.deadline = Instant::now() + ok_timeout;
                        }
                        return None;
                    }
                }
                if let Some(p) = self.pending.remove(&id) {
                    let _ = p.reply.send(outcome);
                }
            }
            RelayMessage::Closed { sub, reason } => {
                let logical = s.wire.get(&sub).map(|w| w.logical.clone())?;
                if reason.starts_with("auth-required:") && !s.authenticated {
                    let filters = self.desired.get(&logical).cloned();
                    s.close_logical_silently(&logical);
                    if let Some(filters) = filters {
                        s.deferred_subs.push((logical.clone(), filters));
                    }
                    if !self.try_auth(s, out).await {
                        self.decline_auth(s, &reason).await;
                    }
                    return None;
                }
                s.close_logical_silently(&logical);
                self.desired.remove(&logical);
                s.activate_queued(limits, out);
                self.flush_then(
                    s,
                    ingest_tx,
                    IngestItem::Emit(PoolEvent::Closed {
                        relay: self.url.clone(),
                        sub: logical,
                        reason,
                    }),
                )
                .await;
            }
            RelayMessage::NegMsg { sub, message } => self.negs.on_msg(&sub, &message, out),
            RelayMessage::NegErr { sub, reason } => {
                let reason: String = reason.chars().take(500).collect();
                if let AfterError::Authenticate = self.negs.on_err(&sub, &reason, s.authenticated) {
                    if !self.try_auth(s, out).await {
                        self.negs.refuse_waiting_for_auth(&reason);
                    }
                }
            }
            RelayMessage::Notice(text) => {
                let text: String = text.chars().take(500).collect();
                self.negs.on_notice(&text);
                self.emit(PoolEvent::Notice {
                    relay: self.url.clone(),
                    text,
                })
                .await;
            }
            RelayMessage::Auth(challenge) => {
                s.challenge = Some(challenge.chars().take(256).collect());
            }
            RelayMessage::Malformed(reason) => {
                s.malformed += 1;
                tracing::debug!(relay = %self.url, %reason, "malformed message");
                if s.malformed > self.shared.config.max_malformed {
                    return Some(SessionEnd::Failed(
                        FailureClass::Protocol,
                        format!("too many malformed messages ({reason})"),
                    ));
                }
            }
        }
        None
    }

    pub(crate) async fn reject(&self, ingest_tx: &mpsc::Sender<IngestItem>, reason: Rejection) {
        let _ = ingest_tx.send(IngestItem::Rejected(reason)).await;
    }

    /// Sends pending events to the pipeline, then `item`, preserving order.
    pub(crate) async fn flush_then(
        &self,
        s: &mut Session,
        ingest_tx: &mpsc::Sender<IngestItem>,
        item: IngestItem,
    ) {
        if !s.batch.is_empty() {
            let _ = ingest_tx
                .send(IngestItem::Batch(std::mem::take(&mut s.batch)))
                .await;
        }
        let _ = ingest_tx.send(item).await;
    }
}
