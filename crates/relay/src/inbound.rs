//! Client-to-relay frames, parsed within the configured limits before any
//! connection state is touched: a pure function from text to a [`Frame`] or
//! the [`Refusal`] to send back. Everything a client sends passes through
//! [`parse`] first, which is why it is public: the fuzz targets and the
//! robustness tests call it directly. Nothing here panics on any input.

use nostr::prelude::*;
use serde_json::Value;

use crate::config::Limits;
use crate::messages;
use crate::negentropy::{self, Open};

/// One well-formed client message.
#[derive(Debug)]
pub enum Frame {
    /// `["EVENT", event]`: parsed, not yet checked (id, signature, policy).
    Event(Box<Event>),
    /// `["REQ", sub, filter…]`, limits applied to each filter.
    Req {
        /// Subscription id.
        sub: String,
        /// The filters, each with its `limit` bounded.
        filters: Vec<Filter>,
    },
    /// `["COUNT", sub, filter…]` (NIP-45).
    Count {
        /// Subscription id.
        sub: String,
        /// The filters.
        filters: Vec<Filter>,
    },
    /// `["CLOSE", sub]`.
    Close(String),
    /// `["AUTH", event]` (NIP-42): parsed, not yet verified.
    Auth(Box<Event>),
    /// `["NEG-OPEN", sub, filter, hex]` (NIP-77).
    NegOpen(Open),
    /// `["NEG-MSG", sub, hex]` (NIP-77), the payload decoded.
    NegMsg {
        /// Reconciliation id.
        sub: String,
        /// The client's message.
        message: Vec<u8>,
    },
    /// `["NEG-CLOSE", sub]` (NIP-77).
    NegClose(String),
}

/// Why a frame is refused, as the message that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A `NOTICE`: the frame names nothing to answer to.
    Notice(String),
    /// `OK false` for an event whose id could be read.
    Event {
        /// The event's id.
        id: EventId,
        /// The reason, with its NIP-01 prefix.
        reason: String,
    },
    /// `CLOSED` for a subscription.
    Closed {
        /// Subscription id.
        sub: String,
        /// The reason, with its NIP-01 prefix.
        reason: String,
    },
    /// `NEG-ERR` for a reconciliation.
    NegErr {
        /// Reconciliation id.
        sub: String,
        /// The reason, with its NIP-01 prefix.
        reason: String,
    },
}

impl Refusal {
    /// The wire message that carries this refusal.
    pub fn message(&self) -> String {
        match self {
            Refusal::Notice(text) => messages::notice(text),
            Refusal::Event { id, reason } => messages::ok(id, false, reason),
            Refusal::Closed { sub, reason } => messages::closed(sub, reason),
            Refusal::NegErr { sub, reason } => negentropy::err(sub, reason),
        }
    }
}

/// Parses one text frame. `negentropy` says whether NIP-77 verbs are
/// served (when not, they are unknown verbs).
pub fn parse(text: &str, limits: &Limits, negentropy: bool) -> Result<Frame, Refusal> {
    let notice = |text: String| Refusal::Notice(text);
    let max = limits.max_message_length;
    if text.len() > max {
        return Err(notice(format!(
            "invalid: message of {} bytes is over the limit of {max}",
            text.len()
        )));
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| notice(format!("invalid: malformed JSON ({e})")))?;
    let Some(items) = value.as_array() else {
        return Err(notice("invalid: a message must be a JSON array".into()));
    };
    match items.first().and_then(Value::as_str) {
        Some("EVENT") => parse_event(items),
        Some(verb @ ("REQ" | "COUNT")) => {
            let (sub, filters) = parse_request(verb, items, limits)?;
            Ok(if verb == "REQ" {
                Frame::Req { sub, filters }
            } else {
                Frame::Count { sub, filters }
            })
        }
        Some("CLOSE") => sub_of(items, "CLOSE").map(Frame::Close),
        Some("AUTH") => parse_auth(items),
        Some("NEG-OPEN") if negentropy => negentropy::parse_open(items, limits.max_subid_length)
            .map(Frame::NegOpen)
            .map_err(|(sub, reason)| match sub {
                Some(sub) => Refusal::NegErr { sub, reason },
                None => Refusal::Notice(reason),
            }),
        Some("NEG-MSG") if negentropy => {
            let sub = sub_of(items, "NEG-MSG")?;
            match items.get(2).and_then(Value::as_str).map(negentropy::decode) {
                Some(Ok(message)) => Ok(Frame::NegMsg { sub, message }),
                Some(Err(reason)) => Err(Refusal::NegErr { sub, reason }),
                None => Err(Refusal::NegErr {
                    sub,
                    reason: "invalid: NEG-MSG needs a message".into(),
                }),
            }
        }
        Some("NEG-CLOSE") if negentropy => sub_of(items, "NEG-CLOSE").map(Frame::NegClose),
        Some(other) => {
            let verb: String = other.chars().take(32).collect();
            Err(notice(format!("invalid: unknown message type {verb:?}")))
        }
        None => Err(notice(
            "invalid: a message must start with a verb (EVENT, REQ, CLOSE, AUTH)".into(),
        )),
    }
}

/// The subscription id string at position 1.
fn sub_of(items: &[Value], verb: &str) -> Result<String, Refusal> {
    items
        .get(1)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Refusal::Notice(format!("invalid: {verb} needs a subscription id string")))
}

fn parse_event(items: &[Value]) -> Result<Frame, Refusal> {
    let Some(raw) = items.get(1) else {
        return Err(Refusal::Notice("invalid: EVENT without an event".into()));
    };
    let Some(id) = raw
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| EventId::from_hex(s).ok())
    else {
        return Err(Refusal::Notice("invalid: EVENT without a valid id".into()));
    };
    serde_json::from_value::<Event>(raw.clone())
        .map(|e| Frame::Event(Box::new(e)))
        .map_err(|e| Refusal::Event {
            id,
            reason: format!("invalid: malformed event ({e})"),
        })
}

fn parse_auth(items: &[Value]) -> Result<Frame, Refusal> {
    let Some(raw) = items.get(1) else {
        return Err(Refusal::Notice("invalid: AUTH without an event".into()));
    };
    serde_json::from_value::<Event>(raw.clone())
        .map(|e| Frame::Auth(Box::new(e)))
        .map_err(|e| Refusal::Notice(format!("invalid: malformed AUTH event ({e})")))
}

/// `[verb, sub, filter…]` within the limits; each filter's `limit` bounded
/// (a filter by ids alone keeps none: the ids bound it).
fn parse_request(
    verb: &str,
    items: &[Value],
    limits: &Limits,
) -> Result<(String, Vec<Filter>), Refusal> {
    let sub = sub_of(items, verb)?;
    let closed = |reason: String| Refusal::Closed {
        sub: sub.clone(),
        reason,
    };
    if sub.is_empty() || sub.chars().count() > limits.max_subid_length {
        return Err(closed(format!(
            "invalid: subscription id must be 1 to {} characters",
            limits.max_subid_length
        )));
    }
    let raw_filters = items.get(2..).unwrap_or_default();
    if raw_filters.is_empty() {
        return Err(closed(format!("invalid: {verb} needs at least one filter")));
    }
    if raw_filters.len() > limits.max_filters {
        return Err(closed(format!(
            "invalid: {} filters, more than the limit of {}",
            raw_filters.len(),
            limits.max_filters
        )));
    }
    let mut filters = Vec::with_capacity(raw_filters.len());
    for raw in raw_filters {
        let mut f = serde_json::from_value::<Filter>(raw.clone())
            .map_err(|e| closed(format!("invalid: malformed filter ({e})")))?;
        if f.ids.is_none() || f.limit.is_some() {
            f.limit = Some(
                f.limit
                    .unwrap_or(limits.default_limit)
                    .min(limits.max_limit),
            );
        }
        filters.push(f);
    }
    Ok((sub, filters))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_default(text: &str) -> Result<Frame, Refusal> {
        parse(text, &Limits::default(), true)
    }

    #[test]
    fn well_formed_frames_parse() {
        let keys = Keys::generate();
        let event = EventBuilder::new(Kind::TextNote, "hi")
            .finalize(&keys)
            .unwrap();
        let text = format!(r#"["EVENT",{}]"#, event.as_json());
        assert!(matches!(parse_default(&text), Ok(Frame::Event(e)) if e.id == event.id));
        let req = parse_default(r#"["REQ","s",{"kinds":[1]},{"limit":100000}]"#).unwrap();
        let Frame::Req { sub, filters } = req else {
            panic!("not a REQ")
        };
        assert_eq!(sub, "s");
        assert_eq!(filters[0].limit, Some(Limits::default().default_limit));
        assert_eq!(filters[1].limit, Some(Limits::default().max_limit));
        assert!(matches!(parse_default(r#"["CLOSE","s"]"#), Ok(Frame::Close(s)) if s == "s"));
        assert!(matches!(
            parse_default(r#"["NEG-MSG","n","61"]"#),
            Ok(Frame::NegMsg { message, .. }) if message == b"a"
        ));
    }

    #[test]
    fn bad_frames_are_refused_with_the_right_answer() {
        let cases = [
            ("", "NOTICE"),
            ("{}", "NOTICE"),
            ("[]", "NOTICE"),
            (r#"["EVENT"]"#, "NOTICE"),
            (r#"["EVENT",{"id":"00"}]"#, "NOTICE"),
            (r#"["REQ"]"#, "NOTICE"),
            (r#"["REQ",""]"#, "CLOSED"),
            (r#"["REQ","s"]"#, "CLOSED"),
            (r#"["REQ","s",{"kinds":"x"}]"#, "CLOSED"),
            (r#"["COUNT","s",7]"#, "CLOSED"),
            (r#"["NEG-MSG","n","zz"]"#, "NEG-ERR"),
            (r#"["NEG-OPEN","n",{},"abc"]"#, "NEG-ERR"),
            (r#"["HELLO"]"#, "NOTICE"),
        ];
        for (text, verb) in cases {
            let refusal = parse_default(text).expect_err(text);
            assert!(
                refusal.message().starts_with(&format!("[\"{verb}\"")),
                "{text}: {refusal:?}"
            );
        }
        let id = "a".repeat(64);
        let refusal = parse_default(&format!(r#"["EVENT",{{"id":"{id}","kind":"x"}}]"#));
        assert!(matches!(refusal, Err(Refusal::Event { .. })));
        assert!(parse(r#"["NEG-CLOSE","n"]"#, &Limits::default(), false).is_err());
    }
}
