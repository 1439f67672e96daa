//! The acknowledged-write mark: missing, damaged, without its store or from another one; a
//! store of the previous format; and accepting a loss.

use std::os::unix::fs::FileExt as _;

use loginprofiled::store::UserRecord;
use prost::Message as _;

use super::{
    Copy, Damage, Healthy, Outcome, create_users, list_users, outcome, refused_for_lost_writes,
};
use crate::binary::{self, Binary};

const MARK: &str = "ACKNOWLEDGED";

/// The reason the binary gave for refusing `copy`.
async fn refusal(copy: &Copy, users: &[String]) -> String {
    match outcome(copy, users).await {
        Outcome::Refused { reason } => reason,
        Outcome::ServedComplete => panic!("served a store it should refuse"),
    }
}

#[tokio::test]
async fn a_missing_mark_is_refused_until_the_loss_is_accepted() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let store = Healthy::build(1, 20, 0).await;
    let copy = store.copy();
    std::fs::remove_file(copy.data().join(MARK)).unwrap();

    let reason = refusal(&copy, &store.users).await;
    assert!(
        reason.contains("ACKNOWLEDGED is missing, but the store records 20 acknowledged writes"),
        "{reason}"
    );

    let accepted = binary::check(&copy.data(), &["--accept-loss"]);
    assert!(accepted.status.success(), "{accepted:?}");
    assert!(matches!(
        outcome(&copy, &store.users).await,
        Outcome::ServedComplete
    ));
}

#[tokio::test]
async fn a_mark_damaged_in_both_its_records_is_refused() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let store = Healthy::build(1, 5, 0).await;
    let copy = store.copy();
    let mark = std::fs::OpenOptions::new()
        .write(true)
        .open(copy.data().join(MARK))
        .unwrap();
    // Each 512-byte slot: 8 bytes of magic, then the store id: spoil an id byte in both.
    mark.write_all_at(b"!", 10).unwrap();
    mark.write_all_at(b"!", 512 + 10).unwrap();

    let reason = refusal(&copy, &store.users).await;

    assert!(reason.contains("ACKNOWLEDGED is damaged"), "{reason}");
}

#[tokio::test]
async fn a_mark_whose_store_is_gone_is_refused_not_served_empty() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let store = Healthy::build(1, 5, 0).await;
    let copy = store.copy();
    for entry in std::fs::read_dir(copy.data()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != MARK {
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }

    let reason = refusal(&copy, &store.users).await;

    assert!(
        reason.contains("says 5 writes were acknowledged, but there is no store beside it"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_mark_from_another_store_is_refused() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let (store, other) = tokio::join!(Healthy::build(1, 5, 0), Healthy::build(1, 5, 0));
    let copy = store.copy();
    std::fs::copy(other.copy().data().join(MARK), copy.data().join(MARK)).unwrap();

    let reason = refusal(&copy, &store.users).await;

    assert!(
        reason.contains("ACKNOWLEDGED belongs to another store"),
        "{reason}"
    );
}

#[tokio::test]
async fn accepting_a_loss_serves_what_is_left_and_takes_writes_again() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    let store = Healthy::build(1, 300, 0).await;
    let copy = store.copy();
    copy.damage(Damage::Flip {
        at: copy.db_len() / 2,
    });
    let recovered = refused_for_lost_writes(&outcome(&copy, &store.users).await, 300);

    let accepted = binary::check(&copy.data(), &["--accept-loss"]);

    let report = String::from_utf8_lossy(&accepted.stdout);
    assert!(accepted.status.success(), "{accepted:?}");
    let given_up = format!(
        "acknowledged writes #{} to #300 are given up",
        recovered + 1
    );
    assert!(report.contains(&given_up), "{report}");
    let server = Binary::start(copy.dir(), &[]).await;
    let left = list_users(server.channel()).await;
    // Each write created one user, so the store holds the first `recovered` of them.
    assert_eq!(left.len() as u64, recovered);
    assert!(left.iter().all(|name| store.users.contains(name)));
    create_users(server.channel(), &["after-the-loss".to_owned()], 0).await;
    server.stop().await;
    let server = Binary::start(copy.dir(), &[]).await;
    assert_eq!(
        list_users(server.channel()).await.len() as u64,
        recovered + 1
    );
}

#[tokio::test]
async fn a_store_of_the_previous_format_is_adopted_with_every_user() {
    if crate::helpers::sled_only("damage to the files of the embedded store") {
        return;
    }
    // Written as loginprofiled did before the ledger: format 1, users, no ledger, no mark.
    let copy = Copy::empty();
    let users: Vec<String> = (0..50).map(|i| format!("Old{i:02}")).collect();
    {
        let db = sled::open(copy.data()).unwrap();
        db.insert("format", "loginprofiled/1").unwrap();
        let tree = db.open_tree("users").unwrap();
        for name in &users {
            let user = UserRecord {
                user_name: name.clone(),
                user_id: "AIDAOLDSTOREUSER0001".to_owned(),
                path: "/".to_owned(),
                create_date_ms: 1_700_000_000_000,
                password_last_used_ms: None,
                tags: Vec::new(),
            };
            tree.insert(name.to_ascii_lowercase(), user.encode_to_vec())
                .unwrap();
        }
        db.flush().unwrap();
    }
    let checked = binary::check(&copy.data(), &[]);
    let report = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success(), "{report}");
    assert!(
        report.contains("written by an earlier loginprofiled"),
        "{report}"
    );

    assert!(matches!(
        outcome(&copy, &users).await,
        Outcome::ServedComplete
    ));
    let after = binary::check(&copy.data(), &[]);
    let report = String::from_utf8_lossy(&after.stdout);
    assert!(report.contains("up to write #0 (ACKNOWLEDGED)"), "{report}");
}
