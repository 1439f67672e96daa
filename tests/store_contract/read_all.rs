//! `Store::read_all`, what `loginprofiled export` writes from.

use loginprofiled::store::{Import, PolicyRecord, SnapshotEntry, Store};

use crate::{Backend, records::snapshot};

/// What `read_all` hands over, and the policy it returns.
async fn everything(store: &dyn Store) -> (Vec<SnapshotEntry>, Option<PolicyRecord>) {
    let mut seen = Vec::new();
    let policy = store
        .read_all(&mut |entry| {
            seen.push(entry);
            Ok(())
        })
        .await
        .unwrap();
    (seen, policy)
}

pub async fn read_all_hands_over_every_user_then_every_device_in_key_order_and_the_policy<
    B: Backend,
>() {
    let (_backend, store) = B::fresh().await;
    let (seen, policy) = everything(&*store).await;
    assert_eq!((seen.len(), policy), (0, None), "an empty store");

    // More users and devices than the default's page, so the paging is covered too.
    let whole = snapshot(2_203);
    assert!(whole.devices.len() > 1_000);
    assert_eq!(store.import(whole.clone()).await.unwrap(), Import::Imported);
    let (seen, policy) = everything(&*store).await;
    let mut users = whole.users.clone();
    users.sort_by(|a, b| a.key.cmp(&b.key));
    let expected: Vec<SnapshotEntry> = users
        .into_iter()
        .map(SnapshotEntry::User)
        .chain(whole.devices.iter().cloned().map(SnapshotEntry::Device))
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(policy, whole.policy);

    // An error from the caller ends the read and comes back.
    let mut calls = 0;
    let error = store
        .read_all(&mut |_| {
            calls += 1;
            anyhow::ensure!(calls < 3, "the disk is full");
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(calls, 3);
    assert!(
        format!("{error:#}").contains("the disk is full"),
        "{error:#}"
    );
}
