//! Damage to sled's file: bytes flipped, zeroed or cut off, and its snapshot removed.

use super::{Damage, Healthy, Outcome, outcome, refused_for_lost_writes};

/// sled's log segments (its default segment size).
const SEGMENT: u64 = 512 * 1024;

#[tokio::test]
async fn a_log_flipped_in_the_middle_or_near_its_start_or_cut_in_half_is_refused() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    // One session: everything is in the part of the log sled replays at open, so damage
    // anywhere in it makes sled drop what follows, and the mark shows the gap.
    let store = Healthy::build(1, 1000, 0).await;
    let len = store.copy().db_len();
    for (damage, apply) in [
        ("flipped in the middle", Damage::Flip { at: len / 2 }),
        ("flipped at 4096", Damage::Flip { at: 4096 }),
        ("truncated to half", Damage::TruncateTo(len / 2)),
    ] {
        let copy = store.copy();
        copy.damage(apply);
        let found = outcome(&copy, &store.users).await;
        let recovered = refused_for_lost_writes(&found, 1000);
        eprintln!("{damage}: refused, the store recovered up to write #{recovered}");
    }
}

#[tokio::test]
async fn a_log_flipped_near_its_end_is_refused_or_served_whole() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let store = Healthy::build(1, 200, 0).await;
    let copy = store.copy();
    copy.damage(Damage::Flip {
        at: copy.db_len() - 64,
    });
    // The last bytes may hold the last user or only a later health probe's write.
    match outcome(&copy, &store.users).await {
        found @ Outcome::Refused { .. } => {
            refused_for_lost_writes(&found, 200);
        }
        Outcome::ServedComplete => {}
    }
}

#[tokio::test]
async fn a_removed_snapshot_is_rebuilt_from_the_log_and_every_user_is_served() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    // The second session's open writes a snapshot; without it sled replays its whole log.
    let store = Healthy::build(2, 300, 0).await;
    let copy = store.copy();
    assert!(copy.remove_snapshots() > 0, "the store had a snapshot");

    let found = outcome(&copy, &store.users).await;

    assert!(matches!(found, Outcome::ServedComplete), "{found:?}");
}

#[tokio::test]
async fn zeroing_a_segment_or_flipping_bytes_of_an_older_store_never_serves_fewer_users() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    // Several sessions over several segments: most records sit before the snapshot, where
    // sled does not look at open and only notices damage when a page is read.
    let store = Healthy::build(3, 400, 400).await;
    let len = store.copy().db_len();
    assert!(
        len > 2 * SEGMENT,
        "the store spans several segments ({len} bytes)"
    );
    let mut damages = Vec::new();
    for segment in 0..len.div_ceil(SEGMENT) {
        let at = segment * SEGMENT;
        let len = SEGMENT.min(len - at);
        damages.push((
            format!("segment {segment} zeroed"),
            Damage::Zero { at, len },
        ));
    }
    for eighth in 1..8 {
        let at = len * eighth / 8;
        damages.push((format!("flipped at {at}"), Damage::Flip { at }));
    }
    let (mut lost_writes, mut unreadable) = (0, 0);
    for (damage, apply) in damages {
        let copy = store.copy();
        copy.damage(apply);
        match outcome(&copy, &store.users).await {
            Outcome::Refused { reason } => {
                lost_writes += usize::from(reason.contains("but the store recovered only up to"));
                unreadable += usize::from(reason.contains("cannot be read"));
                eprintln!("{damage}: refused");
            }
            Outcome::ServedComplete => eprintln!("{damage}: served with every user"),
        }
    }
    // Both ways of noticing: the log replayed short of the mark, and a page that fails its
    // checksum when the full read at open reaches it.
    assert!(lost_writes > 0, "no damage cost the end of the log");
    assert!(unreadable > 0, "no damage hit a page before the snapshot");
}
