//! A coalition of relays that compare notes, for `samizdat bench privacy`
//! and the privacy tests: every relay of a demo network fronted by a tap
//! that logs what the relay sees (each connection's source address, each
//! REQ's subscription id and filters, each EVENT and AUTH with its arrival
//! time), and a SOCKS5 proxy standing in for Tor that logs each circuit's
//! credentials. [`figures`] then computes from these logs alone what the
//! coalition learned about one user.
//!
//! Loopback only: every connection comes from 127.0.0.1, so a connection's
//! "network address" is told apart by the proxy's log: one that left the
//! proxy came through a circuit (named by its SOCKS credentials), any other
//! came straight from the user's machine.

mod figures;
mod socks;
mod tap;
mod week;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nostr::prelude::{Event, PublicKey};

pub use figures::{figures, Figures, Truth};
pub use socks::socks_proxy;
pub use tap::tap_on;
pub use week::{run_week, Posture, WeekOptions, WeekResult};

/// What one relay saw on one connection, and when.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The connection (numbered across the whole coalition).
    pub conn: u64,
    /// The relay's name.
    pub relay: String,
    /// Time since the log started.
    pub at: Duration,
    /// What arrived.
    pub what: What,
}

/// What arrived from a client.
#[derive(Debug, Clone)]
pub enum What {
    /// A TCP connection from this address (a websocket or an HTTP request
    /// such as NIP-11).
    Connected {
        /// The source address the relay sees.
        peer: SocketAddr,
        /// Whether it asked for a websocket (false: plain HTTP).
        websocket: bool,
    },
    /// A subscription.
    Req {
        /// Its id on the wire.
        sub: String,
        /// Its filters, as sent.
        filters: Vec<serde_json::Value>,
    },
    /// A published event.
    Event(Box<Event>),
    /// A NIP-42 AUTH as this key.
    Auth(PublicKey),
}

/// One connection the proxy made for a client: its circuit.
#[derive(Debug, Clone)]
pub struct Circuit {
    /// SOCKS username (Tor isolates circuits by credentials).
    pub user: Option<String>,
    /// SOCKS password.
    pub pass: Option<String>,
    /// Where it went (`host:port`).
    pub target: String,
    /// The proxy's own address on that connection (the relay's peer).
    pub outbound: SocketAddr,
}

/// Everything the coalition logged, shared by its taps and the proxy.
#[derive(Debug)]
pub struct Log {
    start: Instant,
    next_conn: AtomicU64,
    seen: Mutex<Vec<Seen>>,
    circuits: Mutex<Vec<Circuit>>,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            next_conn: AtomicU64::new(1),
            seen: Mutex::new(Vec::new()),
            circuits: Mutex::new(Vec::new()),
        }
    }
}

impl Log {
    /// A new connection's number.
    fn connection(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Records what `relay` saw on `conn`, now.
    fn record(&self, conn: u64, relay: &str, what: What) {
        let seen = Seen {
            conn,
            relay: relay.to_owned(),
            at: self.start.elapsed(),
            what,
        };
        if let Ok(mut log) = self.seen.lock() {
            log.push(seen);
        }
    }

    /// Records a circuit the proxy opened.
    fn circuit(&self, circuit: Circuit) {
        if let Ok(mut log) = self.circuits.lock() {
            log.push(circuit);
        }
    }

    /// Everything the relays saw so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every circuit the proxy opened so far.
    pub fn circuits(&self) -> Vec<Circuit> {
        self.circuits.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Forgets everything logged (between two runs on one network).
    pub fn clear(&self) {
        if let Ok(mut l) = self.seen.lock() {
            l.clear();
        }
        if let Ok(mut l) = self.circuits.lock() {
            l.clear();
        }
    }
}
