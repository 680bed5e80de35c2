//! `samizdat init / unlock / key / profiles` as a user runs them, and a
//! secrets-hygiene check over everything they print and write.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::walk;

use nostr::prelude::*;

/// `samizdat` for the profiles under `home`, with `env_pass` as the
/// passphrase (none: the variable unset).
fn command(home: &Path, env_pass: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_samizdat"));
    cmd.env("SAMIZDAT_HOME", home)
        .env_remove("SAMIZDAT_PASSPHRASE")
        .env_remove("SAMIZDAT_PROFILE");
    if let Some(p) = env_pass {
        cmd.env("SAMIZDAT_PASSPHRASE", p);
    }
    cmd
}

fn run(home: &Path, env_pass: Option<&str>, args: &[&str]) -> Output {
    command(home, env_pass).args(args).output().unwrap()
}

/// Like [`run`], with `input` on standard input (a key to import).
fn run_in(home: &Path, env_pass: Option<&str>, args: &[&str], input: &str) -> Output {
    common::output_with_stdin(command(home, env_pass).args(args), input)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn init_unlock_show_export_and_profiles() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let out = run(h, Some("correct horse"), &["init", "--log-n", "10"]);
    assert!(out.status.success(), "{}", text(&out));
    let npub = text(&out)
        .split_whitespace()
        .find(|w| w.starts_with("npub1"))
        .unwrap()
        .to_owned();
    let out = run(h, Some("correct horse"), &["unlock"]);
    assert!(text(&out).contains(&npub), "{}", text(&out));
    let out = run(h, Some("wrong"), &["unlock"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("wrong passphrase"));

    // The passphrase file works too.
    let pf = h.join("pass.txt");
    std::fs::write(&pf, "correct horse\n").unwrap();
    let out = run(
        h,
        None,
        &["--passphrase-file", pf.to_str().unwrap(), "unlock"],
    );
    assert!(text(&out).contains(&npub), "{}", text(&out));

    // Export needs consent and marks the key weak.
    assert!(!run(h, Some("correct horse"), &["key", "export"])
        .status
        .success());
    let out = run(
        h,
        Some("correct horse"),
        &["key", "export", "--i-understand"],
    );
    let nsec = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(
        Keys::parse(&nsec)
            .unwrap()
            .public_key()
            .to_bech32()
            .unwrap(),
        npub
    );
    assert!(text(&run(h, None, &["key", "show"])).contains("Weak"));

    // A second identity beside the first; names are checked.
    let out = run(
        h,
        Some("other"),
        &["--profile", "bot", "init", "--log-n", "10"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let list = text(&run(h, None, &["profiles"]));
    assert!(list.contains("bot") && list.contains("default"), "{list}");
    let out = run(h, Some("x"), &["--profile", "../evil", "init"]);
    assert!(!out.status.success() && text(&out).contains("not allowed"));
    let out = run(h, Some("x"), &["init", "--log-n", "10"]);
    assert!(!out.status.success() && text(&out).contains("already has a key"));
}

#[test]
fn imports_plain_and_encrypted_keys_and_refuses_garbage() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let keys = Keys::generate();
    let nsec = keys.secret_key().to_bech32().unwrap();
    // Never from the command line: refused, with the way to do it, and no
    // profile is made.
    let out = run(
        h,
        Some("pw"),
        &["--profile", "a", "init", "--log-n", "10", "--import", &nsec],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("never taken from the command line"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("samizdat init --import < key.txt"));
    assert!(!h.join("a").join("key.ncryptsec").exists());
    let out = run_in(
        h,
        Some("pw"),
        &["--profile", "a", "init", "--log-n", "10", "--import"],
        &nsec,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&keys.public_key().to_bech32().unwrap()));
    assert!(
        text(&run(h, None, &["--profile", "a", "key", "show"])).contains("Weak"),
        "a pasted nsec is weak"
    );
    let enc = nostr::nips::nip49::EncryptedSecretKey::new(
        keys.secret_key(),
        "pw",
        10,
        nostr::nips::nip49::KeySecurity::Medium,
    )
    .unwrap()
    .to_bech32()
    .unwrap();
    let out = run_in(
        h,
        Some("pw"),
        &["--profile", "b", "init", "--log-n", "10", "--import"],
        &enc,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&run(h, None, &["--profile", "b", "key", "show"])).contains("Medium"));
    let out = run_in(
        h,
        Some("pw"),
        &["--profile", "c", "init", "--import"],
        "npub1notakey",
    );
    assert!(!out.status.success() && text(&out).contains("not a key"));
}

#[test]
fn secrets_never_reach_logs_output_or_files() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let keys = Keys::generate();
    let hex = keys.secret_key().to_secret_hex();
    let nsec = keys.secret_key().to_bech32().unwrap();
    let pass = "hygiene-passphrase-7731";
    let new_pass_file = h.join("new.txt");
    std::fs::write(&new_pass_file, "second-passphrase-1180\n").unwrap();
    let mut transcript = String::new();
    for args in [
        vec!["--log", "trace", "init", "--log-n", "10", "--import"],
        vec!["--log", "trace", "unlock"],
        vec!["--log", "trace", "key", "show"],
        vec![
            "--log",
            "trace",
            "key",
            "change-passphrase",
            "--log-n",
            "10",
            "--new-passphrase-file",
            new_pass_file.to_str().unwrap(),
        ],
    ] {
        // The key goes in on standard input (the other commands ignore it).
        let out = run_in(h, Some(pass), &args, &hex);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        transcript.push_str(&text(&out));
    }
    std::fs::remove_file(&new_pass_file).unwrap();
    let mut files = String::new();
    for entry in walk(h) {
        files.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
    }
    for secret in [hex.as_str(), nsec.as_str(), pass, "second-passphrase-1180"] {
        assert!(
            !transcript.contains(secret),
            "a secret reached the output or logs"
        );
        assert!(!files.contains(secret), "a secret reached a file");
    }
    assert!(
        transcript.contains("TRACE") || transcript.contains("unlocked"),
        "the run did log"
    );
}

#[test]
fn init_chooses_how_to_reach_the_network() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let settings = |profile: &str| {
        samizdat_client::Settings::load(&h.join(profile).join("settings.json")).unwrap()
    };
    // No Tor answers here (the test machine runs none on 9050 or 9150):
    // direct, said loudly.
    let out = run(h, Some("pw"), &["--profile", "a", "init", "--log-n", "8"]);
    assert!(out.status.success(), "{}", text(&out));
    if settings("a").network.proxy.is_none() {
        assert!(text(&out).contains("connects DIRECTLY"), "{}", text(&out));
        assert!(text(&out).contains("samizdat network set --tor"));
    }
    // Each way of choosing, and the proxy it leaves in the settings.
    let mut out = None;
    for (profile, choice, proxy) in [
        ("b", &["--tor"][..], Some("127.0.0.1:9050")),
        (
            "c",
            &["--proxy", "127.0.0.1:9150"][..],
            Some("127.0.0.1:9150"),
        ),
        ("d", &["--direct"][..], None),
    ] {
        let mut args = vec!["--profile", profile, "init", "--log-n", "8"];
        args.extend_from_slice(choice);
        let o = run(h, Some("pw"), &args);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(settings(profile).network.proxy.as_deref(), proxy);
        out = Some(o);
    }
    let out = out.unwrap();
    assert!(text(&out).contains("relays see your IP address"));
}
