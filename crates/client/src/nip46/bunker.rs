//! The NIP-46 signer ("bunker"): serves other apps with the user's key.
//!
//! Pairing is by a printed `bunker://` URI with a one-time secret: the first
//! app that connects with it is paired and the secret is spent. Each paired
//! app has its own permissions (always / ask / never, per method and per
//! kind). Before an "ask" the user sees a readable summary (who asks, kind,
//! content preview, tags). Every decision is appended to an audit log, which
//! names app, method, kind and event id, never content or secrets.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nostr::nips::nip46::NostrConnectMessage;
use nostr::prelude::*;
use samizdat_net::{NetConfig, PolicyBook, PoolEvent, RelayUrl};
use samizdat_store::Store;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::permissions::{AppPermissions, Decision, PermissionBook};
use super::transport::Channel;
use crate::base::signer::Signer;

/// Asks the user about one request. Runs on a blocking thread.
pub trait Prompt: Send + Sync {
    /// Shows `summary`; true to approve.
    fn approve(&self, summary: &str) -> bool;
}

/// How the bunker runs.
pub struct BunkerConfig {
    /// Relays to listen and answer on.
    pub relays: Vec<RelayUrl>,
    /// Kinds signed for any paired app without asking (`--approve`).
    pub auto_approve_kinds: BTreeSet<u16>,
    /// Where the permissions file and the audit log live (the profile directory).
    pub state_dir: PathBuf,
    /// Network settings (proxy, timeouts).
    pub net: NetConfig,
    /// Relay policies.
    pub policies: PolicyBook,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Unix time.
    pub at: u64,
    /// The app's public key (hex).
    pub app: String,
    /// The NIP-46 method.
    pub method: String,
    /// For `sign_event`: the kind.
    pub kind: Option<u16>,
    /// For `sign_event`: the id of what was signed.
    pub event: Option<String>,
    /// `approved`, `denied`, `paired`, `refused`.
    pub decision: String,
}

struct State {
    signer: Arc<dyn Signer>,
    channel: Channel,
    secret: Mutex<Option<String>>,
    paired: Mutex<BTreeSet<PublicKey>>,
    permissions: Mutex<PermissionBook>,
    auto_approve: BTreeSet<u16>,
    prompt: Arc<dyn Prompt>,
    audit_path: PathBuf,
}

/// A running bunker.
pub struct Bunker {
    state: Arc<State>,
    task: JoinHandle<()>,
    uri: String,
}

impl Bunker {
    /// Starts serving. The bunker speaks with its own key (`bunker_keys`), so
    /// relays never see the user's key on NIP-46 traffic.
    pub fn start(
        signer: Arc<dyn Signer>,
        bunker_keys: Keys,
        config: BunkerConfig,
        store: Arc<Store>,
        prompt: Arc<dyn Prompt>,
    ) -> Self {
        let secret = format!("{:032x}", rand::random::<u128>());
        let relays_q: Vec<String> = config
            .relays
            .iter()
            .map(|r| format!("relay={}", super::percent_encode(&r.to_string())))
            .collect();
        let uri = format!(
            "bunker://{}?{}&secret={secret}",
            bunker_keys.public_key().to_hex(),
            relays_q.join("&")
        );
        let (channel, rx) = Channel::open(
            bunker_keys,
            config.relays,
            store,
            config.net,
            config.policies,
        );
        let state = Arc::new(State {
            signer,
            channel,
            secret: Mutex::new(Some(secret)),
            paired: Mutex::new(BTreeSet::new()),
            permissions: Mutex::new(PermissionBook::load(
                &config.state_dir.join("bunker-apps.json"),
            )),
            auto_approve: config.auto_approve_kinds,
            prompt,
            audit_path: config.state_dir.join("bunker-audit.log"),
        });
        let task = tokio::spawn(serve(Arc::clone(&state), rx));
        Self { state, task, uri }
    }

    /// The pairing URI to give to an app (it holds a one-time secret).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Accepts a client-initiated `nostrconnect://` pairing: pairs the app
    /// and answers `connect` with its secret (on the bunker's relays, which
    /// must include one the app listens on).
    pub async fn accept(&self, uri: &str) -> Result<PublicKey, String> {
        let (public_key, name, secret) = parse_nostrconnect(uri)?;
        if let Ok(mut p) = self.state.paired.lock() {
            p.insert(public_key);
        }
        if let Ok(mut book) = self.state.permissions.lock() {
            let mut perms = book.app(&public_key.to_hex()).cloned().unwrap_or_default();
            perms.name = name.map(|n| n.chars().take(64).collect());
            let _ = book.set(&public_key.to_hex(), perms);
        }
        audit(
            &self.state,
            record(&public_key, "connect", None, None, "paired"),
        );
        let reply = NostrConnectMessage::Response {
            id: format!("{:016x}", rand::random::<u64>()),
            result: Some(secret),
            error: None,
        };
        if self.state.channel.send(&public_key, &reply).await {
            Ok(public_key)
        } else {
            Err("no relay accepted the pairing answer".into())
        }
    }

    /// Apps paired in this run.
    pub fn paired(&self) -> Vec<PublicKey> {
        self.state
            .paired
            .lock()
            .map(|p| p.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Stops serving.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        self.state.channel.pool.shutdown().await;
    }
}

async fn serve(state: Arc<State>, mut rx: mpsc::Receiver<PoolEvent>) {
    while let Some(event) = rx.recv().await {
        let PoolEvent::Events { events, .. } = event else {
            continue;
        };
        for e in events {
            let Some(NostrConnectMessage::Request { id, method, params }) =
                state.channel.open_message(&e)
            else {
                continue;
            };
            let (result, error) = handle(&state, e.pubkey, &method.to_string(), params).await;
            let reply = NostrConnectMessage::Response { id, result, error };
            if !state.channel.send(&e.pubkey, &reply).await {
                tracing::warn!("could not deliver a NIP-46 answer");
            }
        }
    }
}

fn audit(state: &State, record: AuditRecord) {
    let line = match serde_json::to_string(&record) {
        Ok(l) => l,
        Err(_) => return,
    };
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&state.audit_path) {
        Ok(mut f) => {
            let _ = writeln!(f, "{line}");
        }
        Err(e) => tracing::warn!(error = %e, "cannot write the bunker audit log"),
    }
}

fn record(
    app: &PublicKey,
    method: &str,
    kind: Option<u16>,
    event: Option<String>,
    decision: &str,
) -> AuditRecord {
    AuditRecord {
        at: Timestamp::now().as_secs(),
        app: app.to_hex(),
        method: method.to_owned(),
        kind,
        event,
        decision: decision.to_owned(),
    }
}

/// A readable summary of a signing request, for the user to approve.
/// Everything in it that the app chose (its name, the content, the tags) is
/// cut short and has its control characters replaced, so a request cannot
/// flood the prompt or forge a line of it (the fuzzer found a name of any
/// length, with newlines, passed through whole).
pub fn summary(app: &PublicKey, name: Option<&str>, unsigned: &UnsignedEvent) -> String {
    let who = match name {
        Some(name) => printable(name, 40),
        None => {
            let npub = app.to_bech32().unwrap_or_else(|_| app.to_hex());
            format!("app {}…", &npub[..npub.len().min(16)])
        }
    };
    let tags: Vec<String> = unsigned
        .tags
        .iter()
        .take(6)
        .map(|t| {
            let values: Vec<String> = t
                .as_slice()
                .iter()
                .take(4)
                .map(|v| printable(v, 24))
                .collect();
            values.join(" ")
        })
        .collect();
    format!(
        "{who} asks to sign a kind {} event\n  content: {}\n  tags ({}): {}",
        unsigned.kind.as_u16(),
        printable(&unsigned.content, 200),
        unsigned.tags.len(),
        tags.join(" | ")
    )
}

/// At most `max` characters of `text`, control characters (newlines
/// included) shown as spaces, and `…` when something was cut.
fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

async fn handle(
    state: &Arc<State>,
    app: PublicKey,
    method: &str,
    params: Vec<String>,
) -> (Option<String>, Option<String>) {
    let ok = |s: String| (Some(s), None);
    let err = |s: &str| (None, Some(s.to_owned()));
    if method == "connect" {
        let paired = state
            .paired
            .lock()
            .map(|p| p.contains(&app))
            .unwrap_or(false);
        if paired {
            return ok("ack".into());
        }
        let offered = params.get(1).cloned().unwrap_or_default();
        let spent = {
            let mut secret = match state.secret.lock() {
                Ok(s) => s,
                Err(_) => return err("internal error"),
            };
            if secret
                .as_deref()
                .is_some_and(|s| !offered.is_empty() && s == offered)
            {
                *secret = None;
                true
            } else {
                false
            }
        };
        if !spent {
            audit(state, record(&app, method, None, None, "refused"));
            return err("invalid or already used secret");
        }
        if let Ok(mut p) = state.paired.lock() {
            p.insert(app);
        }
        if let Ok(mut book) = state.permissions.lock() {
            if book.app(&app.to_hex()).is_none() {
                let _ = book.set(&app.to_hex(), AppPermissions::default());
            }
        }
        audit(state, record(&app, method, None, None, "paired"));
        return ok("ack".into());
    }
    let paired = state
        .paired
        .lock()
        .map(|p| p.contains(&app))
        .unwrap_or(false)
        || state
            .permissions
            .lock()
            .map(|b| b.app(&app.to_hex()).is_some())
            .unwrap_or(false);
    if !paired {
        return err("not paired: connect with the bunker's secret first");
    }
    let permissions = state
        .permissions
        .lock()
        .ok()
        .and_then(|b| b.app(&app.to_hex()).cloned())
        .unwrap_or_default();
    match method {
        "ping" => ok("pong".into()),
        "get_public_key" => ok(state.signer.public_key().to_hex()),
        "sign_event" => {
            let Some(unsigned) = params
                .first()
                .and_then(|p| parse_unsigned(p, state.signer.public_key()))
            else {
                return err("sign_event needs one unsigned event as JSON");
            };
            let kind = unsigned.kind.as_u16();
            let decision = if state.auto_approve.contains(&kind) {
                Decision::Always
            } else {
                permissions.decide(method, Some(kind))
            };
            let approved = match decision {
                Decision::Always => true,
                Decision::Never => false,
                Decision::Ask => {
                    let text = summary(&app, permissions.name.as_deref(), &unsigned);
                    let prompt = Arc::clone(&state.prompt);
                    tokio::task::spawn_blocking(move || prompt.approve(&text))
                        .await
                        .unwrap_or(false)
                }
            };
            if !approved {
                audit(state, record(&app, method, Some(kind), None, "denied"));
                return err("permission denied");
            }
            match state.signer.sign_event(unsigned).await {
                Ok(event) => {
                    audit(
                        state,
                        record(
                            &app,
                            method,
                            Some(kind),
                            Some(event.id.to_hex()),
                            "approved",
                        ),
                    );
                    ok(event.as_json())
                }
                Err(e) => err(&e.to_string()),
            }
        }
        "nip44_encrypt" | "nip44_decrypt" | "nip04_decrypt" => {
            let approved = match permissions.decide(method, None) {
                Decision::Always => true,
                Decision::Never => false,
                Decision::Ask => {
                    let text = format!("app {} asks to {method} a message", &app.to_hex()[..16]);
                    let prompt = Arc::clone(&state.prompt);
                    tokio::task::spawn_blocking(move || prompt.approve(&text))
                        .await
                        .unwrap_or(false)
                }
            };
            if !approved {
                audit(state, record(&app, method, None, None, "denied"));
                return err("permission denied");
            }
            let (Some(peer), Some(payload)) = (
                params.first().and_then(|p| PublicKey::from_hex(p).ok()),
                params.get(1),
            ) else {
                return err("needs a peer public key and a payload");
            };
            let result = match method {
                "nip44_encrypt" => state.signer.nip44_encrypt(&peer, payload).await,
                "nip44_decrypt" => state.signer.nip44_decrypt(&peer, payload).await,
                _ => state.signer.nip04_decrypt(&peer, payload).await,
            };
            audit(state, record(&app, method, None, None, "approved"));
            match result {
                Ok(s) => ok(s),
                Err(e) => err(&e.to_string()),
            }
        }
        "nip04_encrypt" => err("unsupported: NIP-04 encryption is deprecated; use NIP-44"),
        other => err(&format!("unsupported method {other}")),
    }
}

/// Reads a `nostrconnect://` URI: the app's key, its name (from `name=` or the
/// older `metadata={"name":…}`) and the secret to echo. Written here because
/// the protocol crate only reads the older form.
pub fn parse_nostrconnect(uri: &str) -> Result<(PublicKey, Option<String>, String), String> {
    let rest = uri
        .strip_prefix("nostrconnect://")
        .ok_or("give this bunker a nostrconnect:// URI (a bunker:// URI is for clients)")?;
    let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
    let public_key =
        PublicKey::from_hex(key).map_err(|_| "the nostrconnect:// URI has no valid app key")?;
    let (mut name, mut secret) = (None, None);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = super::percent_decode(v);
        match k {
            "secret" => secret = Some(v),
            "name" => name = Some(v),
            "metadata" if name.is_none() => {
                name = serde_json::from_str::<serde_json::Value>(&v)
                    .ok()
                    .and_then(|m| m.get("name").and_then(|n| n.as_str()).map(str::to_owned));
            }
            _ => {}
        }
    }
    let secret = secret
        .filter(|s| !s.is_empty())
        .ok_or("the nostrconnect:// URI has no secret")?;
    Ok((public_key, name, secret))
}

/// Reads the `sign_event` parameter: kind, content, tags, created_at;
/// `None` when it is not an event template.
pub fn parse_unsigned(json: &str, pubkey: PublicKey) -> Option<UnsignedEvent> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let kind = u16::try_from(v.get("kind")?.as_u64()?).ok()?;
    let content = v
        .get("content")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .to_owned();
    let created_at = v
        .get("created_at")
        .and_then(|c| c.as_u64())
        .unwrap_or_else(|| Timestamp::now().as_secs());
    let tags: Vec<Vec<String>> =
        serde_json::from_value(v.get("tags").cloned().unwrap_or_default()).unwrap_or_default();
    let tags: Vec<Tag> = tags
        .into_iter()
        .filter_map(|t| Tag::parse(t).ok())
        .collect();
    Some(
        EventBuilder::new(Kind::from_u16(kind), content)
            .tags(tags)
            .custom_created_at(Timestamp::from_secs(created_at))
            .finalize_unsigned(pubkey),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nostrconnect_uris_in_both_forms() {
        let key = Keys::generate().public_key();
        let new = format!("nostrconnect://{}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=s3&name=My%20App&perms=sign_event%3A1", key.to_hex());
        assert_eq!(
            parse_nostrconnect(&new).unwrap(),
            (key, Some("My App".into()), "s3".into())
        );
        let old = format!(
            "nostrconnect://{}?relay=ws%3A%2F%2Fx&metadata=%7B%22name%22%3A%22Old%22%7D&secret=z",
            key.to_hex()
        );
        assert_eq!(parse_nostrconnect(&old).unwrap().1.as_deref(), Some("Old"));
        assert!(parse_nostrconnect(&format!("nostrconnect://{}?relay=x", key.to_hex())).is_err());
        assert!(parse_nostrconnect("bunker://abc").is_err());
        assert!(parse_nostrconnect("nostrconnect://nothex?secret=1").is_err());
    }

    #[test]
    fn an_app_cannot_flood_or_forge_the_approval_prompt() {
        let app = Keys::generate().public_key();
        let long_tag: Vec<String> = std::iter::once("p".to_string())
            .chain((0..1_000).map(|i| format!("value{i}")))
            .collect();
        let unsigned = EventBuilder::new(Kind::TextNote, "hi\n  tags (0): none")
            .tag(Tag::parse(long_tag).unwrap())
            .finalize_unsigned(Keys::generate().public_key());
        let name = format!("Trusted{}\n  content: harmless", "J".repeat(5_000));
        let text = summary(&app, Some(&name), &unsigned);
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.chars().count() < 600,
            "{} characters",
            text.chars().count()
        );
        assert!(text.starts_with("TrustedJJJ"), "{text}");
    }

    #[test]
    fn summaries_are_readable_and_bounded() {
        let app = Keys::generate().public_key();
        let unsigned = EventBuilder::new(Kind::TextNote, "x".repeat(500))
            .tag(Tag::hashtag("nostr"))
            .finalize_unsigned(Keys::generate().public_key());
        let text = summary(&app, Some("Client"), &unsigned);
        assert!(text.starts_with("Client asks to sign a kind 1 event"));
        assert!(
            text.len() < 400 && text.contains("tags (1): t nostr"),
            "{text}"
        );
    }
}
