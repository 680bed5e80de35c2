//! NIP-86 relay management over HTTP on the relay's own URL, authenticated
//! with NIP-98 by a key in the admin list (owners are admins).
//!
//! A request is `POST /` with `Content-Type: application/nostr+json+rpc`,
//! an `Authorization: Nostr <base64 kind-27235 event>` header whose `u` tag is
//! the relay's URL (ws or http form), `method` tag `POST` and `payload` tag
//! the body's SHA-256 (required here, as NIP-86 asks). Missing or invalid
//! authorization is 401, a valid key that is not an admin 403. An
//! authorization event is accepted once (a replay within its minute is 401).
//! Every change is written to the store's moderation lists with the admin's
//! key and logged with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap, StatusCode};
use nostr::prelude::*;
use serde_json::{json, Value};

use crate::state::{lists, RelayState};

mod duties;
mod nip98;
pub use duties::ADMIN_ROLE;

/// Content type of NIP-86 requests.
pub const RPC_CONTENT_TYPE: &str = "application/nostr+json+rpc";

/// Largest request body read, in bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// Methods this relay answers.
pub const METHODS: &[&str] = &[
    "supportedmethods",
    "banpubkey",
    "unbanpubkey",
    "listbannedpubkeys",
    "allowpubkey",
    "unallowpubkey",
    "listallowedpubkeys",
    "banevent",
    "allowevent",
    "listbannedevents",
    "allowkind",
    "disallowkind",
    "listallowedkinds",
    "blockip",
    "unblockip",
    "listblockedips",
    "changerelayname",
    "changerelaydescription",
    "changerelayicon",
    "createrole",
    "editrole",
    "deleterole",
    "assignrole",
    "unassignrole",
    "listroles",
    "listeventsneedingmoderation",
];

/// Authorization events already used, with the time they stop being valid.
#[derive(Default)]
pub struct UsedTokens(Mutex<HashMap<EventId, u64>>);

impl UsedTokens {
    /// Records `id`; false if it was used before.
    fn first_use(&self, id: EventId, now: u64) -> bool {
        let mut used = self.0.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, until| *until > now);
        used.insert(id, now + 120).is_none()
    }
}

/// The URLs an authorization may name: the configured relay URL and the
/// host the request came to, each in its ws and http form.
fn accepted_urls(state: &RelayState, headers: &HeaderMap) -> Vec<Url> {
    let mut texts = Vec::new();
    if let Some(url) = &state.config().relay_url {
        texts.push(url.clone());
    }
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        texts.push(format!("ws://{host}"));
    }
    let mut urls = Vec::new();
    for text in texts {
        let twin = if let Some(rest) = text.strip_prefix("wss://") {
            format!("https://{rest}")
        } else if let Some(rest) = text.strip_prefix("ws://") {
            format!("http://{rest}")
        } else {
            text.clone()
        };
        urls.extend(Url::parse(&text).ok());
        urls.extend(Url::parse(&twin).ok());
    }
    urls
}

/// Checks the NIP-98 header; the admin's key, or the HTTP status and reason.
fn authorize(
    state: &RelayState,
    used: &UsedTokens,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<PublicKey, (StatusCode, String)> {
    let unauthorized = |why: String| (StatusCode::UNAUTHORIZED, why);
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| unauthorized("a NIP-98 Authorization header is required".into()))?;
    let now = Timestamp::now();
    let key = nip98::verify(header, &accepted_urls(state, headers), body, now)
        .map_err(|e| unauthorized(format!("invalid authorization: {e}")))?;
    let id = token_id(header).ok_or_else(|| unauthorized("unreadable authorization".into()))?;
    if !used.first_use(id, now.as_secs()) {
        return Err(unauthorized("this authorization was already used".into()));
    }
    if !state.policy().is_admin(&key) {
        tracing::warn!(key = %key.to_hex(), "management call by a key that is not an admin");
        return Err((
            StatusCode::FORBIDDEN,
            "this key is not an admin of this relay".into(),
        ));
    }
    Ok(key)
}

/// The id of the (already verified) authorization event in the header.
fn token_id(header: &str) -> Option<EventId> {
    use base64::Engine;
    let encoded = header.split_once(' ')?.1;
    let json = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Event::from_json(json).ok().map(|e| e.id)
}

/// Handles one management request: the HTTP status and the JSON body.
pub async fn handle(
    state: Arc<RelayState>,
    used: &UsedTokens,
    headers: &HeaderMap,
    body: &[u8],
) -> (StatusCode, String) {
    let is_rpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with(RPC_CONTENT_TYPE));
    if !is_rpc {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": format!("management requests use Content-Type {RPC_CONTENT_TYPE}")})
                .to_string(),
        );
    }
    let admin = match authorize(&state, used, headers, body) {
        Ok(key) => key,
        Err((status, why)) => return (status, json!({ "error": why }).to_string()),
    };
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                json!({"error": format!("invalid: request is not JSON ({e})")}).to_string(),
            )
        }
    };
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let params: Vec<Value> = request
        .get("params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    state.metrics.admin_action();
    let admin_hex = admin.to_hex();
    let span_state = Arc::clone(&state);
    let outcome = crate::storage::spawn_blocking(move || {
        call(&span_state, &admin_hex, &method, &params).map(|r| (method, params, r))
    })
    .await;
    match outcome {
        Ok(Ok((method, params, result))) => {
            let params = Value::Array(params).to_string();
            tracing::info!(admin = %admin.to_hex(), method, params, "admin action");
            (StatusCode::OK, json!({ "result": result }).to_string())
        }
        Ok(Err(why)) => {
            tracing::info!(admin = %admin.to_hex(), error = %why, "admin action refused");
            (StatusCode::OK, json!({ "error": why }).to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "management call failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal error"}).to_string(),
            )
        }
    }
}

fn param(params: &[Value], i: usize) -> Option<&str> {
    params.get(i).and_then(Value::as_str)
}

fn key_param(params: &[Value]) -> Result<PublicKey, String> {
    let text = param(params, 0).ok_or("invalid: the first parameter must be a public key")?;
    PublicKey::from_hex(text)
        .map_err(|e| format!("invalid: {text:?} is not a hex public key ({e})"))
}

fn id_param(params: &[Value]) -> Result<EventId, String> {
    let text = param(params, 0).ok_or("invalid: the first parameter must be an event id")?;
    EventId::from_hex(text).map_err(|e| format!("invalid: {text:?} is not a hex event id ({e})"))
}

fn kind_param(params: &[Value]) -> Result<u16, String> {
    params
        .first()
        .and_then(Value::as_u64)
        .and_then(|k| u16::try_from(k).ok())
        .ok_or_else(|| "invalid: the first parameter must be a kind number".to_string())
}

/// A client address given as an IP (hashed here) or as the hash the logs show.
fn address_param(state: &RelayState, params: &[Value]) -> Result<String, String> {
    let text = param(params, 0).ok_or("invalid: the first parameter must be an IP address")?;
    if let Ok(ip) = text.parse::<std::net::IpAddr>() {
        return Ok(state.peer_tag(ip));
    }
    if text.len() == 16 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(text.to_ascii_lowercase());
    }
    Err(format!(
        "invalid: {text:?} is neither an IP address nor an address hash from the logs"
    ))
}

fn listed(state: &RelayState, list: &str, field: &str) -> Result<Value, String> {
    let entries = state
        .store
        .moderation_list(list)
        .map_err(|e| e.to_string())?;
    Ok(Value::Array(
        entries
            .into_iter()
            .map(|e| json!({ field: e.value, "reason": e.reason }))
            .collect(),
    ))
}

/// Runs one method (on a blocking thread: it writes the store).
fn call(state: &RelayState, admin: &str, method: &str, params: &[Value]) -> Result<Value, String> {
    let store = &state.store;
    let reason = param(params, 1).unwrap_or("");
    let db = |e: samizdat_store::StoreError| e.to_string();
    match method {
        "supportedmethods" => Ok(json!(METHODS)),
        "banpubkey" => {
            let key = key_param(params)?;
            store
                .moderation_add(lists::BANNED_KEYS, &key.to_hex(), reason, admin)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.banned_keys.insert(key);
            });
            Ok(json!(true))
        }
        "unbanpubkey" => {
            let key = key_param(params)?;
            store
                .moderation_remove(lists::BANNED_KEYS, &key.to_hex())
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.banned_keys.remove(&key);
            });
            Ok(json!(true))
        }
        "listbannedpubkeys" => listed(state, lists::BANNED_KEYS, "pubkey"),
        "allowpubkey" => {
            let key = key_param(params)?;
            store
                .moderation_add(lists::ALLOWED_KEYS, &key.to_hex(), reason, admin)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.allowed_keys.insert(key);
            });
            Ok(json!(true))
        }
        "unallowpubkey" => {
            let key = key_param(params)?;
            store
                .moderation_remove(lists::ALLOWED_KEYS, &key.to_hex())
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.allowed_keys.remove(&key);
            });
            Ok(json!(true))
        }
        "listallowedpubkeys" => listed(state, lists::ALLOWED_KEYS, "pubkey"),
        "banevent" => {
            let id = id_param(params)?;
            store
                .moderation_add(lists::BANNED_EVENTS, &id.to_hex(), reason, admin)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.banned_events.insert(id);
            });
            store.remove_event(&id).map_err(db)?;
            Ok(json!(true))
        }
        "allowevent" => {
            let id = id_param(params)?;
            store
                .moderation_remove(lists::BANNED_EVENTS, &id.to_hex())
                .map_err(db)?;
            store
                .moderation_add(lists::REVIEWED_EVENTS, &id.to_hex(), reason, admin)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.banned_events.remove(&id);
            });
            Ok(json!(true))
        }
        "listbannedevents" => listed(state, lists::BANNED_EVENTS, "id"),
        "allowkind" | "disallowkind" => {
            let kind = kind_param(params)?;
            let (add, remove) = if method == "allowkind" {
                (lists::ALLOWED_KINDS, lists::DISALLOWED_KINDS)
            } else {
                (lists::DISALLOWED_KINDS, lists::ALLOWED_KINDS)
            };
            store
                .moderation_remove(remove, &kind.to_string())
                .map_err(db)?;
            store
                .moderation_add(add, &kind.to_string(), reason, admin)
                .map_err(db)?;
            let allow = method == "allowkind";
            state.update_policy(|p| {
                if allow {
                    p.moderation.disallowed_kinds.remove(&kind);
                    p.moderation.allowed_kinds.insert(kind);
                } else {
                    p.moderation.allowed_kinds.remove(&kind);
                    p.moderation.disallowed_kinds.insert(kind);
                }
            });
            Ok(json!(true))
        }
        "listallowedkinds" => {
            let mut kinds: Vec<u16> = state
                .policy()
                .effective_allowed_kinds()
                .into_iter()
                .collect();
            kinds.sort_unstable();
            Ok(json!(kinds))
        }
        "blockip" => {
            let hash = address_param(state, params)?;
            store
                .moderation_add(lists::BLOCKED_ADDRESSES, &hash, reason, admin)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.blocked_addresses.insert(hash);
            });
            Ok(json!(true))
        }
        "unblockip" => {
            let hash = address_param(state, params)?;
            store
                .moderation_remove(lists::BLOCKED_ADDRESSES, &hash)
                .map_err(db)?;
            state.update_policy(|p| {
                p.moderation.blocked_addresses.remove(&hash);
            });
            Ok(json!(true))
        }
        // Addresses are kept only as salted hashes; the list shows those.
        "listblockedips" => listed(state, lists::BLOCKED_ADDRESSES, "ip"),
        "changerelayname" | "changerelaydescription" | "changerelayicon" => {
            let text = param(params, 0)
                .ok_or("invalid: the first parameter must be a string")?
                .to_string();
            if text.len() > 4096 {
                return Err("invalid: longer than 4096 bytes".into());
            }
            let list = match method {
                "changerelayname" => lists::NAME,
                "changerelaydescription" => lists::DESCRIPTION,
                _ => lists::ICON,
            };
            store.moderation_set_only(list, &text, admin).map_err(db)?;
            state.update_config(|c| match method {
                "changerelayname" => c.name = text,
                "changerelaydescription" => c.description = text,
                _ => c.icon = Some(text),
            });
            Ok(json!(true))
        }
        other => {
            if let Some(done) = duties::call(state, admin, other, params) {
                return done;
            }
            let name: String = other.chars().take(64).collect();
            Err(format!("unsupported method {name:?}"))
        }
    }
}
