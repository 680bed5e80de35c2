//! `samizdat notify`: the notification settings as a user sets them, and
//! bad values refused with a clear error and nothing changed.

mod common;

use common::Profile;

#[test]
fn notification_settings_are_set_shown_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = Profile {
        home: dir.path().join("p"),
    };
    p.ok(&["init", "--log-n", "8"]);
    let out = p.ok(&["notify"]);
    assert!(
        out.contains("mentions, replies, reactions and messages; message text never shown"),
        "{out}"
    );
    let out = p.ok(&["notify", "dms-only", "--quiet", "22-7"]);
    assert!(
        out.contains("private messages only; message text never shown; quiet 22:00–07:00"),
        "{out}"
    );
    let out = p.ok(&["notify", "--show-text", "yes", "--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["notify"]["mode"], "dms_only");
    assert_eq!(v["notify"]["show_dm_text"], true);
    assert_eq!(v["notify"]["quiet"], serde_json::json!([22, 7]));
    for bad in [
        &["notify", "loud"][..],
        &["notify", "--quiet", "25-7"],
        &["notify", "--quiet", "night"],
        &["notify", "--show-text", "maybe"],
    ] {
        let err = p.fails(bad);
        assert!(
            err.contains("loud") || err.contains("FROM-TO") || err.contains("yes or no"),
            "{bad:?}: {err}"
        );
    }
    let out = p.ok(&["notify", "off", "--no-quiet"]);
    assert_eq!(out.trim(), "notifications: notifications off");
    assert!(p
        .ok(&["notify", "--json"])
        .contains(r#""show_dm_text":true"#));
}
