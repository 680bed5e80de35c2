//! `samizdat network set --proxy`: with a proxy set, a whole CLI session
//! (sync, post, a NIP-05 lookup) reaches the relays and the NIP-05 server
//! only through it — the SOCKS5 server written here records every
//! destination, and strace counts every `connect()` the process makes: all
//! of them go to the proxy's port. With the proxy gone, a command connects
//! nowhere else and says why.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{samizdat, RelayProcess};

/// A SOCKS5 server on loopback (RFC 1928, with RFC 1929 credentials
/// accepted) that connects where asked and records each destination.
struct Socks {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

fn handshake(c: &mut TcpStream) -> std::io::Result<SocketAddr> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head)?;
    let mut methods = vec![0u8; head[1] as usize];
    c.read_exact(&mut methods)?;
    if methods.contains(&2) {
        c.write_all(&[5, 2])?;
        let mut v = [0u8; 2];
        c.read_exact(&mut v)?;
        let mut skip = vec![0u8; v[1] as usize];
        c.read_exact(&mut skip)?;
        let mut pl = [0u8; 1];
        c.read_exact(&mut pl)?;
        let mut skip = vec![0u8; pl[0] as usize];
        c.read_exact(&mut skip)?;
        c.write_all(&[1, 0])?;
    } else {
        c.write_all(&[5, 0])?;
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req)?;
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            c.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len)?;
            let mut name = vec![0u8; len[0] as usize];
            c.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Err(std::io::Error::other("unsupported address type")),
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port)?;
    let port = u16::from_be_bytes(port);
    let host = if host == "localhost" {
        "127.0.0.1".into()
    } else {
        host
    };
    format!("{host}:{port}")
        .parse()
        .map_err(|_| std::io::Error::other("not a loopback address"))
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

impl Socks {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((mut client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let seen = Arc::clone(&seen2);
                std::thread::spawn(move || {
                    client.set_nonblocking(false).unwrap();
                    let Ok(target) = handshake(&mut client) else {
                        return;
                    };
                    seen.lock().unwrap().push(target.to_string());
                    let Ok(upstream) = TcpStream::connect(target) else {
                        let _ = client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
                        return;
                    };
                    let _ = client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
                    pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    pipe(upstream, client);
                });
            }
        });
        Self { addr, seen, stop }
    }
}

/// A NIP-05 document server on loopback (plain HTTP is allowed there).
fn nip05_server(name: &str, hex: &str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = format!(r#"{{"names":{{"{name}":"{hex}"}}}}"#);
    std::thread::spawn(move || {
        for mut s in listener.incoming().map_while(Result::ok) {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    port
}

fn have_strace() -> bool {
    std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs samizdat under strace; returns its output and the TCP ports of
/// every IPv4/IPv6 `connect()` it made.
fn traced(home: &Path, trace: &Path, args: &[&str]) -> (Output, Vec<u16>) {
    let bin = env!("CARGO_BIN_EXE_samizdat");
    let out = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=connect", "-o"])
        .arg(trace)
        .arg(bin)
        .args(args)
        .env("SAMIZDAT_HOME", home)
        .env("SAMIZDAT_PASSPHRASE", "network-test-passphrase")
        .env_remove("SAMIZDAT_PROFILE")
        .env_remove("SAMIZDAT_PROXY")
        .output()
        .unwrap();
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let ports = text
        .lines()
        .filter(|l| l.contains("AF_INET"))
        .filter_map(|l| {
            let at = l.find("htons(")? + "htons(".len();
            l[at..].split(')').next()?.parse().ok()
        })
        .collect();
    (out, ports)
}

#[test]
fn with_a_proxy_every_connection_goes_through_it_and_none_without_it() {
    if !have_strace() {
        assert!(std::env::var_os("CI").is_none(), "CI must install strace");
        eprintln!("SKIPPED: strace is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let relay = RelayProcess::start(&dir.path().join("relay.sqlite"), &[]);
    let socks = Socks::start();
    let home = dir.path().join("home");
    let run = |args: &[&str]| common::run_ok(&home, "network-test-passphrase", args);
    let init = run(&["init", "--log-n", "8"]);
    let npub = init
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();
    let hex = nostr::prelude::PublicKey::parse(&npub).unwrap().to_hex();
    let nip05 = nip05_server("me", &hex);
    run(&[
        "relays",
        "add",
        &relay.url(),
        "--read",
        "--write",
        "--discovery",
    ]);
    let shown = run(&["network", "set", "--proxy", &socks.addr.to_string()]);
    assert!(shown.contains("no direct fallback"), "{shown}");
    assert!(run(&["network", "show"]).contains(&socks.addr.to_string()));

    let trace = dir.path().join("trace");
    let mut all_ports = Vec::new();
    for args in [
        vec!["post", "through the proxy"],
        vec!["follow", &npub],
        vec!["sync"],
        vec!["person", &format!("me@127.0.0.1:{nip05}")],
    ] {
        let (out, ports) = traced(&home, &trace, &args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!ports.is_empty(), "{args:?} connected somewhere");
        all_ports.extend(ports);
    }
    assert!(
        all_ports.iter().all(|p| *p == socks.addr.port()),
        "a connection bypassed the proxy: {all_ports:?} (proxy {})",
        socks.addr.port()
    );
    let seen = socks.seen.lock().unwrap().clone();
    assert!(
        seen.contains(&format!("127.0.0.1:{}", relay.port)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&format!("127.0.0.1:{nip05}")),
        "NIP-05 went through the proxy: {seen:?}"
    );

    // The ledger says how the relay was reached: through the proxy, not our IP.
    let privacy: serde_json::Value = serde_json::from_str(&run(&["privacy", "--json"])).unwrap();
    let relays = privacy["relays"].as_array().unwrap();
    assert!(!relays.is_empty());
    for r in relays {
        assert_eq!(r["saw_ip"], false, "{r}");
        assert!(
            r["summary"]
                .as_str()
                .unwrap()
                .contains("your IP: no (proxy)"),
            "{r}"
        );
    }

    // A per-relay direct exception, set explicitly: that relay is reached
    // without the proxy (and the ledger says it saw our IP); then removed.
    let shown = run(&["network", "direct", &relay.url()]);
    assert!(shown.contains("reached directly by your choice"), "{shown}");
    let (out, ports) = traced(&home, &trace, &["post", "direct by choice"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ports.contains(&relay.port),
        "the relay was reached directly: {ports:?}"
    );
    let privacy: serde_json::Value = serde_json::from_str(&run(&["privacy", "--json"])).unwrap();
    assert!(
        privacy["relays"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["saw_ip"] == true),
        "{privacy}"
    );
    run(&["network", "direct", &relay.url(), "--off"]);

    // The proxy goes away: nothing connects anywhere else, and it says why.
    socks.stop.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    let (out, ports) = traced(&home, &trace, &["post", "never sent"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not answer") && stderr.contains("never falls back"),
        "{stderr}"
    );
    assert!(ports.iter().all(|p| *p == socks.addr.port()), "{ports:?}");

    // NIP-05 checks can be switched off (and on again).
    assert!(run(&["network", "nip05", "off"]).contains("NIP-05 checks: off"));
    assert!(run(&["network", "show"]).contains("NIP-05 checks: off"));
    assert!(run(&["network", "nip05", "on"]).contains("NIP-05 checks: on"));

    // An .onion relay is refused without a proxy.
    run(&["network", "set", "--direct"]);
    let posture = run(&["privacy"]);
    assert!(
        posture.contains("network: direct") && posture.contains("NIP-05 checks: on"),
        "the posture line: {posture}"
    );
    run(&[
        "relays",
        "add",
        "ws://exampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion",
        "--write",
    ]);
    let out = samizdat()
        .env("SAMIZDAT_HOME", &home)
        .env("SAMIZDAT_PASSPHRASE", "network-test-passphrase")
        .args(["post", "to an onion"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(".onion: Failed") && text.contains("only through Tor"),
        "{text}"
    );
}
