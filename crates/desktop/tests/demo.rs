//! `samizdat-desktop --demo` shows the same first notes `samizdat demo`
//! prints: the app's worker runs the seeded demo network, and the feed it
//! shows after the first refresh is compared with what the CLI's code path
//! (the same `samizdat-demo` network, session config, sync and
//! `following_feed(20)`) gives.

mod common;

use std::collections::BTreeMap;

use common::*;

fn counts(items: impl Iterator<Item = (String, String)>) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}

#[test]
fn the_demo_feed_starts_with_the_notes_samizdat_demo_prints() {
    let home = tempfile::tempdir().unwrap();
    let mut h = demo_app(home.path());
    wait_for(&mut h, "the demo's first refresh", |h| {
        h.state().main.as_ref().is_some_and(|m| {
            m.last_done
                .as_ref()
                .is_some_and(|(r, _)| r.as_ref().is_ok_and(|s| s.starts_with("refresh")))
                && m.feed.len() >= 20
        })
    });
    let shown = counts(
        h.state().main.as_ref().unwrap().feed[..20]
            .iter()
            .map(|(n, _)| {
                let text = n
                    .pieces
                    .iter()
                    .map(|p| match p {
                        samizdat_desktop::view::Piece::Text(t) => t.clone(),
                        samizdat_desktop::view::Piece::Hashtag(t) => format!("#{t}"),
                        samizdat_desktop::view::Piece::Link(t) => t.clone(),
                        other => format!("{other:?}"),
                    })
                    .collect::<String>();
                (n.author_name.clone(), without_ports(&text))
            }),
    );
    drop(h);

    let rt = runtime();
    let cli = rt.block_on(async {
        let network = samizdat_demo::DemoNetwork::start(&Default::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let session = network
            .open_session(dir.path(), samizdat_demo::session_config())
            .unwrap();
        session.sync(|_| {}).await.unwrap();
        let feed = session.following_feed(20, None).unwrap();
        session.shutdown().await;
        // The names `samizdat demo` prints (the generated people's).
        let named = counts(feed.iter().map(|e| {
            let name = network
                .name_of(&e.pubkey.to_hex())
                .unwrap_or("?")
                .to_owned();
            (name, without_ports(&e.content))
        }));
        network.shutdown().await;
        named
    });
    assert_eq!(shown, cli);
}

/// The text with loopback ports taken out: the demo's pictures are on its
/// relays, whose ports differ from one run of the network to the next.
fn without_ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + "127.0.0.1".len()]);
        rest = rest[i + "127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}
