//! `Store::read_all`, what `loginprofiled export` writes from.

use loginprofiled::store::{Import, PolicyRecord, SnapshotUser, Store};

use crate::{Backend, records::snapshot};

/// What `read_all` hands over, and the policy it returns.
async fn everything(store: &dyn Store) -> (Vec<SnapshotUser>, Option<PolicyRecord>) {
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

pub async fn read_all_hands_over_every_user_in_key_order_and_the_policy<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let (seen, policy) = everything(&*store).await;
    assert_eq!((seen.len(), policy), (0, None), "an empty store");

    // More users than the default's page, so the paging is covered too.
    let whole = snapshot(1_203);
    assert_eq!(store.import(whole.clone()).await.unwrap(), Import::Imported);
    let (seen, policy) = everything(&*store).await;
    let mut expected = whole.users.clone();
    expected.sort_by(|a, b| a.key.cmp(&b.key));
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
