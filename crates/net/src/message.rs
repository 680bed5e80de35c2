//! Relay-to-client messages, parsed defensively: anything a relay sends is
//! hostile until checked. Unknown or malformed messages become
//! [`RelayMessage::Malformed`] with a reason; nothing here panics.

use nostr::prelude::*;
use serde_json::Value;

/// One message from a relay.
#[derive(Debug, Clone)]
pub enum RelayMessage {
    /// `["EVENT", sub, event]` — the event is parsed but not yet verified.
    Event {
        /// Subscription id.
        sub: String,
        /// The unverified event.
        event: Box<Event>,
    },
    /// `["OK", id, accepted, reason]`.
    Ok {
        /// The event id the answer is for.
        id: EventId,
        /// Whether the relay accepted it.
        accepted: bool,
        /// The relay's reason (machine-readable prefix first).
        reason: String,
    },
    /// `["OK", <not an id>, accepted, reason]`: some relays (the Python
    /// `nostr-relay`) leave the id empty when they reject an event.
    OkWithoutId {
        /// Whether the relay accepted it.
        accepted: bool,
        /// The relay's reason.
        reason: String,
    },
    /// `["EOSE", sub]`.
    Eose(String),
    /// `["CLOSED", sub, reason]`.
    Closed {
        /// Subscription id.
        sub: String,
        /// Why.
        reason: String,
    },
    /// `["NOTICE", text]`.
    Notice(String),
    /// `["AUTH", challenge]`.
    Auth(String),
    /// `["NEG-MSG", sub, hex]` (NIP-77).
    NegMsg {
        /// NEG subscription id.
        sub: String,
        /// The negentropy message, hex-encoded.
        message: String,
    },
    /// `["NEG-ERR", sub, reason]` (NIP-77).
    NegErr {
        /// NEG subscription id.
        sub: String,
        /// Why (machine-readable prefix first).
        reason: String,
    },
    /// Anything else, with what was wrong with it.
    Malformed(String),
}

/// `["EVENT", sub, event]`, deserialised in one pass (the hot path).
#[derive(serde::Deserialize)]
struct EventMessage(#[allow(dead_code)] String, String, Event);

/// Parses one text frame.
pub fn parse(text: &str) -> RelayMessage {
    if text.starts_with("[\"EVENT\"") {
        if let Ok(EventMessage(_, sub, event)) = serde_json::from_str(text) {
            return RelayMessage::Event {
                sub,
                event: Box::new(event),
            };
        }
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return RelayMessage::Malformed(format!("not JSON: {e}")),
    };
    let Some(items) = value.as_array() else {
        return RelayMessage::Malformed("not a JSON array".into());
    };
    let str_at = |i: usize| items.get(i).and_then(Value::as_str).map(str::to_owned);
    match items.first().and_then(Value::as_str) {
        Some("EVENT") => match (str_at(1), items.get(2)) {
            (Some(sub), Some(raw)) => match Event::deserialize(raw) {
                Ok(event) => RelayMessage::Event {
                    sub,
                    event: Box::new(event),
                },
                Err(e) => RelayMessage::Malformed(format!("EVENT with a malformed event: {e}")),
            },
            _ => RelayMessage::Malformed("EVENT needs a subscription id and an event".into()),
        },
        Some("OK") => {
            let id = str_at(1).and_then(|s| EventId::from_hex(&s).ok());
            match (id, items.get(2).and_then(Value::as_bool)) {
                (Some(id), Some(accepted)) => RelayMessage::Ok {
                    id,
                    accepted,
                    reason: str_at(3).unwrap_or_default(),
                },
                (None, Some(accepted)) if items.len() >= 3 => RelayMessage::OkWithoutId {
                    accepted,
                    reason: str_at(3).unwrap_or_default(),
                },
                _ => RelayMessage::Malformed("OK needs an event id and a boolean".into()),
            }
        }
        Some("EOSE") => str_at(1)
            .map(RelayMessage::Eose)
            .unwrap_or_else(|| RelayMessage::Malformed("EOSE without a subscription id".into())),
        Some("CLOSED") => match str_at(1) {
            Some(sub) => RelayMessage::Closed {
                sub,
                reason: str_at(2).unwrap_or_default(),
            },
            None => RelayMessage::Malformed("CLOSED without a subscription id".into()),
        },
        Some("NOTICE") => RelayMessage::Notice(str_at(1).unwrap_or_default()),
        Some("NEG-MSG") => match (str_at(1), str_at(2)) {
            (Some(sub), Some(message)) => RelayMessage::NegMsg { sub, message },
            _ => RelayMessage::Malformed("NEG-MSG needs a subscription id and a message".into()),
        },
        Some("NEG-ERR") => match str_at(1) {
            Some(sub) => RelayMessage::NegErr {
                sub,
                reason: str_at(2).unwrap_or_default(),
            },
            None => RelayMessage::Malformed("NEG-ERR without a subscription id".into()),
        },
        Some("AUTH") => str_at(1)
            .map(RelayMessage::Auth)
            .unwrap_or_else(|| RelayMessage::Malformed("AUTH without a challenge".into())),
        Some(other) => RelayMessage::Malformed(format!(
            "unknown message type {:?}",
            other.chars().take(32).collect::<String>()
        )),
        None => RelayMessage::Malformed("no message type".into()),
    }
}

use serde::Deserialize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for bad in [
            "",
            "{}",
            "[]",
            "[1]",
            "[\"EVENT\"]",
            "[\"EVENT\",\"s\",{}]",
            "[\"OK\",\"zz\"]",
            "\u{0}",
            "[\"EOSE\"]",
            "[\"WAT\"]",
        ] {
            assert!(matches!(parse(bad), RelayMessage::Malformed(_)), "{bad}");
        }
    }

    #[test]
    fn an_ok_without_an_id_is_kept_apart() {
        assert!(matches!(
            parse("[\"OK\",\"\",false,\"invalid: bad signature\"]"),
            RelayMessage::OkWithoutId {
                accepted: false,
                ..
            }
        ));
    }

    #[test]
    fn parses_the_standard_messages() {
        let id = "a".repeat(64);
        assert!(matches!(
            parse(&format!("[\"OK\",\"{id}\",false,\"blocked: no\"]")),
            RelayMessage::Ok {
                accepted: false,
                ..
            }
        ));
        assert!(matches!(parse("[\"EOSE\",\"s\"]"), RelayMessage::Eose(s) if s == "s"));
        assert!(matches!(
            parse("[\"CLOSED\",\"s\",\"auth-required: x\"]"),
            RelayMessage::Closed { .. }
        ));
        assert!(matches!(parse("[\"AUTH\",\"c\"]"), RelayMessage::Auth(c) if c == "c"));
        assert!(matches!(
            parse("[\"NOTICE\",\"hi\"]"),
            RelayMessage::Notice(_)
        ));
    }
}
