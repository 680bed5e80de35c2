//! OS notifications: the freedesktop `org.freedesktop.Notifications`
//! service on the session D-Bus (zbus, already in the app through
//! AccessKit's screen-reader bridge). What is notified is decided by
//! `samizdat_client::notify`; this only delivers it. The body is escaped
//! (notification servers read a subset of HTML, and a note's text comes
//! from strangers' keyboards). Without a session bus nothing is shown and
//! one warning is logged.

use std::collections::HashMap;
use std::sync::Mutex;

use samizdat_client::notify::Notification;
use zbus::zvariant::Value;

/// Why a notification was not shown.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No session bus (or the one named could not be reached).
    #[error("no session D-Bus at {address}: {source}")]
    Bus {
        /// The address tried ("session" for the environment's).
        address: String,
        /// What zbus said.
        source: Box<zbus::Error>,
    },
    /// The notification service refused or is absent.
    #[error("the notification service did not take it: {0}")]
    Service(Box<zbus::Error>),
}

/// Delivers notifications over D-Bus; connects on first use.
pub struct OsNotifier {
    /// A bus address, or `None` for the session bus of the environment.
    address: Option<String>,
    connection: Mutex<Option<zbus::blocking::Connection>>,
    warned: std::sync::atomic::AtomicBool,
}

impl OsNotifier {
    /// Notifications on the bus at `address` (`None`: the session bus).
    pub fn new(address: Option<String>) -> Self {
        Self {
            address,
            connection: Mutex::new(None),
            warned: Default::default(),
        }
    }

    /// Shows `n` (blocking: call from a blocking thread). Returns the
    /// service's id for it.
    pub fn show(&self, n: &Notification) -> Result<u32, NotifyError> {
        let connection = self.connection()?;
        let hints: HashMap<&str, Value<'_>> =
            HashMap::from([("category", Value::from(category(n)))]);
        let reply = connection
            .call_method(
                Some("org.freedesktop.Notifications"),
                "/org/freedesktop/Notifications",
                Some("org.freedesktop.Notifications"),
                "Notify",
                &(
                    "Samizdat",
                    0u32,
                    "samizdat",
                    n.title.as_str(),
                    escape(&n.body),
                    Vec::<&str>::new(),
                    hints,
                    -1i32,
                ),
            )
            .map_err(|e| NotifyError::Service(Box::new(e)))?;
        reply
            .body()
            .deserialize::<u32>()
            .map_err(|e| NotifyError::Service(Box::new(e)))
    }

    /// Shows each of `all`, logging (once) when it cannot.
    pub fn show_all(&self, all: &[Notification]) {
        for n in all {
            if let Err(e) = self.show(n) {
                if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!("notifications are not shown: {e}");
                }
                return;
            }
        }
    }

    fn connection(&self) -> Result<zbus::blocking::Connection, NotifyError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let connected = match &self.address {
            None => zbus::blocking::Connection::session(),
            Some(a) => {
                zbus::blocking::connection::Builder::address(a.as_str()).and_then(|b| b.build())
            }
        };
        let c = connected.map_err(|source| NotifyError::Bus {
            address: self.address.clone().unwrap_or_else(|| "session".into()),
            source: Box::new(source),
        })?;
        *slot = Some(c.clone());
        Ok(c)
    }
}

/// The freedesktop category of a notification.
fn category(n: &Notification) -> &'static str {
    match n.kind {
        samizdat_client::notify::NotificationKind::Message => "im.received",
        _ => "x-nostr.social",
    }
}

/// `text` with the markup characters notification servers read escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The local hour (0–23), for quiet hours.
pub fn local_hour() -> u8 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as libc::time_t)
        .unwrap_or(0);
    // SAFETY: localtime_r writes only into `tm`, which lives on this stack.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&now, &mut tm).is_null() };
    if ok {
        tm.tm_hour.clamp(0, 23) as u8
    } else {
        ((now / 3600) % 24) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<b>hi</b> & <a href=x>"),
            "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;a href=x&gt;"
        );
    }

    #[test]
    fn the_hour_is_an_hour() {
        assert!(local_hour() < 24);
    }

    #[test]
    fn no_bus_is_an_error_not_a_panic() {
        let n = OsNotifier::new(Some("unix:path=/nonexistent/bus".into()));
        let note = Notification {
            kind: samizdat_client::notify::NotificationKind::Message,
            from: nostr::prelude::Keys::generate().public_key(),
            about: nostr::prelude::EventId::from_byte_array([0; 32]),
            title: "t".into(),
            body: "b".into(),
        };
        assert!(matches!(n.show(&note), Err(NotifyError::Bus { .. })));
        n.show_all(&[note]);
    }
}
