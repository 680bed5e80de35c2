//! What a coalition of logging relays learns over a short scripted week
//! (the test-sized version of `samizdat bench privacy`): under today's
//! defaults with Tor, no relay learns more than the cap's share of the
//! follow list, the DM relay cannot tie any message to its sender, no
//! stranger-named relay and no relay at all sees a direct connection, and
//! no two connections share a subscription id. Under the old defaults the
//! same logs show the leaks, so the measurement can see them.

use std::time::Duration;

use samizdat_demo::coalition::{run_week, Posture, WeekOptions};

fn short_week() -> WeekOptions {
    WeekOptions {
        seed: 5,
        people: 120,
        follow: 40,
        relays: 5,
        indexers: 4,
        days: 2,
        threads: 6,
        stranger_relays: 2,
        dms: 4,
        partners: 2,
        desktop: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tor_and_the_defaults_the_coalition_learns_only_what_it_must() {
    let week = run_week(&short_week(), Posture::DefaultsWithTor)
        .await
        .unwrap();
    let f = &week.figures;
    assert!(f.connections > 10, "{f:?}");
    assert_eq!(f.through_proxy, f.connections, "{f:?}");
    assert!(
        f.a_max_follow_share <= 0.25 + 1e-9,
        "(a) {} learned {:.0}%",
        f.a_relay,
        f.a_max_follow_share * 100.0
    );
    assert_eq!(f.c_dms, 4, "{f:?}");
    assert_eq!(f.c_dms_linkable, 0, "(c) {f:?}");
    assert_eq!(f.d_direct_to_strangers, 0, "(d) {f:?}");
    assert_eq!(f.e_direct_with_proxy, Some(0), "(e) {f:?}");
    assert_eq!(f.f_by_sub_id, 0, "(f) {f:?}");
    assert_eq!(
        f.f_linked_pairs, f.f_both_keyed,
        "(f) only connections that carry the key anyway meet on a clock: {f:?}"
    );
    assert!(week.hinted_contacted > 0, "hints went through the proxy");
    assert!(week.elapsed > Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_old_defaults_the_same_logs_show_the_leaks() {
    let week = run_week(&short_week(), Posture::OldDefaults).await.unwrap();
    let f = &week.figures;
    assert_eq!(f.through_proxy, 0);
    assert!(f.a_max_follow_share > 0.9, "(a) {f:?}");
    assert_eq!(
        f.c_dms_linkable, f.c_dms,
        "(c) every copy to self at once: {f:?}"
    );
    assert!(f.d_direct_to_strangers > 0, "(d) {f:?}");
    assert_eq!(f.e_direct_with_proxy, None);
    assert_eq!(f.b_tied_share, 1.0, "one address ties everything: {f:?}");
}
