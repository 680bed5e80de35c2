//! Secrets stay inside: once a key is unlocked the process makes no core
//! dump, and a note that carries a secret key is refused before anything is
//! signed or queued. (Its own test binary: turning dumps off is for the
//! whole process.)

mod common;

use nostr::prelude::*;
use samizdat_client::base::harden;
use samizdat_client::SessionError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlocked_key_makes_the_process_undumpable_and_keys_are_not_posted() {
    if harden::dumpable().is_none() {
        eprintln!("skipped: this platform cannot tell whether it dumps core");
        return;
    }
    assert_eq!(harden::dumpable(), Some(true), "dumpable before any key");
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::generate();
    let dead = common::dead_url();
    let s = common::local_session(dir.path(), &keys, &[(&dead, true, true)], &dead);
    assert_eq!(
        harden::dumpable(),
        Some(false),
        "no core dump while a key is unlocked"
    );

    let nsec = keys.secret_key().to_bech32().unwrap();
    for text in [
        format!("oops {nsec}"),
        format!("backup: {}", nsec.to_uppercase()),
    ] {
        let err = s.post(&text).await.unwrap_err();
        assert!(matches!(err, SessionError::SecretInText("nsec1")), "{err}");
        assert!(err.to_string().contains("secret key"));
    }
    // Talking about the format is fine.
    let talk = s.post("keys start with nsec1 and must stay private").await;
    assert!(!matches!(talk, Err(SessionError::SecretInText(_))));
    let queued = s.publish_status(10).unwrap();
    assert!(
        queued.iter().all(|q| !q.event.content.contains(&nsec)),
        "no secret was queued"
    );
    s.shutdown().await;
}
