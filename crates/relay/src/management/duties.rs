//! NIP-86's roles and moderation queue.
//!
//! Roles (`createrole`, `editrole`, `deleterole`, `assignrole`,
//! `unassignrole`; `listroles` is this relay's own addition, so a client can
//! show them) are kept in the moderation lists like everything else. One
//! role has a meaning here: a key with the role `admin` is an admin (it may
//! call this API) for as long as it holds it. Other roles are labels for the
//! operator.
//!
//! The moderation queue (`listeventsneedingmoderation`) is the events stored
//! here that someone reported (NIP-56, kind 1984) and that no admin has
//! decided on yet: `banevent` removes one (and bans it), `allowevent` keeps
//! it and takes it off the queue.

use std::collections::BTreeMap;

use nostr::prelude::*;
use serde_json::{json, Value};

use super::param;
use crate::state::{lists, RelayState};

/// The role that makes a key an admin.
pub const ADMIN_ROLE: &str = "admin";

/// Reports read for the queue (the newest).
const REPORTS_READ: usize = 2_000;

/// Runs `method` if it is one of the methods here.
pub(super) fn call(
    state: &RelayState,
    admin: &str,
    method: &str,
    params: &[Value],
) -> Option<Result<Value, String>> {
    Some(match method {
        "createrole" | "editrole" => save_role(state, admin, method == "createrole", params),
        "deleterole" => delete_role(state, params),
        "assignrole" | "unassignrole" => assign(state, admin, method == "assignrole", params),
        "listroles" => list_roles(state),
        "listeventsneedingmoderation" => queue(state),
        _ => return None,
    })
}

fn role_id(params: &[Value]) -> Result<String, String> {
    let id = param(params, 0).ok_or("invalid: the first parameter must be a role id")?;
    let fine = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fine {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "invalid: role id {:?} must be 1-64 letters, digits, '-' or '_'",
            id.chars().take(70).collect::<String>()
        ))
    }
}

fn roles(state: &RelayState) -> Result<BTreeMap<String, Value>, String> {
    Ok(state
        .store
        .moderation_list(lists::ROLES)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| {
            let about = serde_json::from_str(&e.reason).unwrap_or(Value::Null);
            (e.value, about)
        })
        .collect())
}

fn save_role(
    state: &RelayState,
    admin: &str,
    create: bool,
    params: &[Value],
) -> Result<Value, String> {
    let id = role_id(params)?;
    let exists = roles(state)?.contains_key(&id);
    if create && exists {
        return Err(format!("invalid: role {id:?} exists (editrole changes it)"));
    }
    if !create && !exists {
        return Err(format!("invalid: no role {id:?} (createrole makes it)"));
    }
    let text = |i: usize| -> Result<String, String> {
        let t = param(params, i).unwrap_or("");
        if t.len() > 1024 {
            return Err(format!("invalid: parameter {i} is longer than 1024 bytes"));
        }
        Ok(t.to_owned())
    };
    let order = params.get(4).and_then(Value::as_i64).unwrap_or(0);
    let about = json!({
        "label": text(1)?,
        "description": text(2)?,
        "color": text(3)?,
        "order": order,
    });
    state
        .store
        .moderation_add(lists::ROLES, &id, &about.to_string(), admin)
        .map_err(|e| e.to_string())?;
    Ok(json!(true))
}

fn members(state: &RelayState) -> Result<Vec<(PublicKey, String)>, String> {
    Ok(state
        .store
        .moderation_list(lists::ROLE_MEMBERS)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|e| {
            let (key, role) = e.value.split_once(':')?;
            Some((PublicKey::from_hex(key).ok()?, role.to_owned()))
        })
        .collect())
}

fn delete_role(state: &RelayState, params: &[Value]) -> Result<Value, String> {
    let id = role_id(params)?;
    if !state
        .store
        .moderation_remove(lists::ROLES, &id)
        .map_err(|e| e.to_string())?
    {
        return Err(format!("invalid: no role {id:?}"));
    }
    for (key, role) in members(state)? {
        if role == id {
            unassign_one(state, key, &id)?;
        }
    }
    Ok(json!(true))
}

fn unassign_one(state: &RelayState, key: PublicKey, role: &str) -> Result<(), String> {
    state
        .store
        .moderation_remove(lists::ROLE_MEMBERS, &format!("{}:{role}", key.to_hex()))
        .map_err(|e| e.to_string())?;
    if role == ADMIN_ROLE {
        state.update_policy(|p| {
            p.moderation.role_admins.remove(&key);
        });
    }
    Ok(())
}

fn assign(state: &RelayState, admin: &str, add: bool, params: &[Value]) -> Result<Value, String> {
    let key = super::key_param(params)?;
    let role = role_id(&params[1.min(params.len())..])?;
    if !add {
        unassign_one(state, key, &role)?;
        return Ok(json!(true));
    }
    if !roles(state)?.contains_key(&role) {
        return Err(format!("invalid: no role {role:?} (createrole makes it)"));
    }
    state
        .store
        .moderation_add(
            lists::ROLE_MEMBERS,
            &format!("{}:{role}", key.to_hex()),
            "",
            admin,
        )
        .map_err(|e| e.to_string())?;
    if role == ADMIN_ROLE {
        state.update_policy(|p| {
            p.moderation.role_admins.insert(key);
        });
    }
    Ok(json!(true))
}

fn list_roles(state: &RelayState) -> Result<Value, String> {
    let members = members(state)?;
    Ok(Value::Array(
        roles(state)?
            .into_iter()
            .map(|(id, about)| {
                let holders: Vec<String> = members
                    .iter()
                    .filter(|(_, r)| *r == id)
                    .map(|(k, _)| k.to_hex())
                    .collect();
                json!({
                    "id": id,
                    "label": about["label"],
                    "description": about["description"],
                    "color": about["color"],
                    "order": about["order"],
                    "members": holders,
                })
            })
            .collect(),
    ))
}

/// Reported events still stored and not decided on, most reported first.
fn queue(state: &RelayState) -> Result<Value, String> {
    let reports = state
        .store
        .query(&[Filter::new().kind(Kind::Reporting).limit(REPORTS_READ)])
        .map_err(|e| e.to_string())?;
    let decided: std::collections::HashSet<String> = state
        .store
        .moderation_list(lists::REVIEWED_EVENTS)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| e.value)
        .collect();
    // Event → (how many reports, the reasons given).
    let mut reported: BTreeMap<EventId, (usize, Vec<String>)> = BTreeMap::new();
    for report in &reports {
        for tag in report.tags.iter() {
            let parts = tag.as_slice();
            if parts.first().map(String::as_str) != Some("e") {
                continue;
            }
            let Some(id) = parts.get(1).and_then(|h| EventId::from_hex(h).ok()) else {
                continue;
            };
            let entry = reported.entry(id).or_default();
            entry.0 += 1;
            let why = parts
                .get(2)
                .map(String::as_str)
                .unwrap_or("")
                .trim()
                .to_owned();
            let why = if why.is_empty() {
                "other".to_owned()
            } else {
                why
            };
            if !entry.1.contains(&why) && entry.1.len() < 8 {
                entry.1.push(why);
            }
        }
    }
    let policy = state.policy();
    let mut waiting: Vec<(EventId, usize, Vec<String>)> = reported
        .into_iter()
        .filter(|(id, _)| {
            !decided.contains(&id.to_hex()) && !policy.moderation.banned_events.contains(id)
        })
        .map(|(id, (n, why))| (id, n, why))
        .collect();
    let ids: Vec<EventId> = waiting.iter().map(|w| w.0).collect();
    let stored: std::collections::HashSet<EventId> = if ids.is_empty() {
        Default::default()
    } else {
        state
            .store
            .query(&[Filter::new().ids(ids.clone()).limit(ids.len())])
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    waiting.retain(|w| stored.contains(&w.0));
    waiting.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Value::Array(
        waiting
            .into_iter()
            .map(|(id, n, mut why)| {
                why.sort();
                json!({
                    "id": id.to_hex(),
                    "reason": format!(
                        "reported {n} time{}: {}",
                        if n == 1 { "" } else { "s" },
                        why.join(", ")
                    ),
                })
            })
            .collect(),
    ))
}
