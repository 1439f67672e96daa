//! Racing writers: exactly one winner, nothing lost or duplicated. Each race starts its
//! writers together on a multi-threaded runtime.

use std::sync::Arc;

use loginprofiled::store::{
    DEVICES_PER_USER, DeleteUser, Import, InsertProfile, InsertUser, LockoutRecord, ProfileLookup,
    ReplaceDevice, ReplaceProfile, ReplaceUser, Store,
};
use tokio::sync::Barrier;

use crate::{
    Backend,
    records::{device, key, next, profile, snapshot, user},
};

const RACERS: usize = 16;

/// Runs `op(i)` for i in 0..n at once (released together by a barrier) and returns the results
/// in order of i.
pub(crate) async fn race<T, F, Fut>(n: usize, op: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let work = op(i);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

fn winners<T: PartialEq>(results: &[T], win: &T) -> Vec<usize> {
    (0..results.len()).filter(|&i| results[i] == *win).collect()
}

/// "ann", "Ann", "aNn", ...: RACERS spellings of one name.
fn spelling(i: usize) -> String {
    "annabelle"
        .chars()
        .enumerate()
        .map(|(bit, c)| {
            if i >> bit & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

pub async fn one_of_racing_insert_user_in_different_case_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let results = race(RACERS, |i| {
        let store = store.clone();
        async move {
            let name = spelling(i);
            store
                .insert_user(&key(&name), user(&name, "/"))
                .await
                .unwrap()
        }
    })
    .await;
    let won = winners(&results, &InsertUser::Inserted);
    assert_eq!(won.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, InsertUser::Inserted | InsertUser::AlreadyExists))
    );
    let stored = store.user("annabelle").await.unwrap().unwrap();
    assert_eq!(stored.user_name, spelling(won[0]));
    assert_eq!(
        store.list_users("", None, 100).await.unwrap().users.len(),
        1
    );
}

pub async fn one_of_racing_insert_profile_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let results = race(RACERS, |i| {
        let store = store.clone();
        async move {
            store
                .insert_profile("ann", profile(&i.to_string(), 1))
                .await
                .unwrap()
        }
    })
    .await;
    let won = winners(&results, &InsertProfile::Inserted);
    assert_eq!(won.len(), 1, "{results:?}");
    assert_eq!(
        winners(&results, &InsertProfile::AlreadyExists).len(),
        RACERS - 1
    );
    let ProfileLookup::Found(_, stored) = store.profile("ann").await.unwrap() else {
        panic!("no profile")
    };
    assert_eq!(stored, profile(&won[0].to_string(), 1));
}

pub async fn one_of_racing_replace_profile_with_one_version_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store
        .insert_profile("ann", profile("first", 1))
        .await
        .unwrap();
    let results = race(RACERS, |i| {
        let store = store.clone();
        async move {
            let record = profile(&i.to_string(), 2);
            // Half of them write lazily: the version check is the same.
            if i % 2 == 0 {
                store.replace_profile("ann", 1, record).await.unwrap()
            } else {
                store
                    .replace_profile_lazily("ann", 1, record)
                    .await
                    .unwrap()
            }
        }
    })
    .await;
    let won = winners(&results, &ReplaceProfile::Replaced);
    assert_eq!(won.len(), 1, "{results:?}");
    assert_eq!(winners(&results, &ReplaceProfile::Stale).len(), RACERS - 1);
    let ProfileLookup::Found(_, stored) = store.profile("ann").await.unwrap() else {
        panic!("no profile")
    };
    assert_eq!(stored, profile(&won[0].to_string(), 2));
}

pub async fn one_of_racing_renames_onto_one_key_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let mut originals = Vec::new();
    for i in 0..RACERS {
        let name = format!("user{i}");
        store.insert_user(&name, user(&name, "/")).await.unwrap();
        store
            .insert_profile(&name, profile(&name, 1))
            .await
            .unwrap();
        originals.push(user(&name, "/"));
    }
    let results = race(RACERS, |i| {
        let (store, original) = (store.clone(), originals[i].clone());
        async move {
            let mut renamed = original.clone();
            renamed.user_name = spelling(i);
            store
                .replace_user(&format!("user{i}"), "annabelle", &original, renamed)
                .await
                .unwrap()
        }
    })
    .await;
    let won = winners(&results, &ReplaceUser::Replaced);
    assert_eq!(won.len(), 1, "{results:?}");
    assert_eq!(winners(&results, &ReplaceUser::NameTaken).len(), RACERS - 1);
    let winner = won[0];
    let ProfileLookup::Found(renamed, moved) = store.profile("annabelle").await.unwrap() else {
        panic!("the winner's profile did not move")
    };
    assert_eq!(renamed.user_name, spelling(winner));
    assert_eq!(moved, profile(&format!("user{winner}"), 1));
    for i in (0..RACERS).filter(|&i| i != winner) {
        let name = format!("user{i}");
        assert_eq!(
            store.profile(&name).await.unwrap(),
            ProfileLookup::Found(user(&name, "/"), profile(&name, 1))
        );
    }
    assert_eq!(store.user(&format!("user{winner}")).await.unwrap(), None);
    let listed = store.list_users("", None, 100).await.unwrap().users;
    assert_eq!(listed.len(), RACERS);
}

pub async fn delete_user_and_insert_profile_never_both_win<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    for round in 0..20 {
        let name = format!("user{round}");
        store.insert_user(&name, user(&name, "/")).await.unwrap();
        let results = race(2, |i| {
            let (store, name) = (store.clone(), name.clone());
            async move {
                if i == 0 {
                    Err(store.delete_user(&name).await.unwrap())
                } else {
                    Ok(store.insert_profile(&name, profile("p", 1)).await.unwrap())
                }
            }
        })
        .await;
        let lookup = store.profile(&name).await.unwrap();
        match (&results[0], &results[1]) {
            (Err(DeleteUser::Deleted), Ok(InsertProfile::NoUser)) => {
                assert_eq!(lookup, ProfileLookup::NoUser);
            }
            (Err(DeleteUser::HasProfile), Ok(InsertProfile::Inserted)) => {
                assert!(matches!(lookup, ProfileLookup::Found(..)));
            }
            other => panic!("round {round}: both or neither won: {other:?}"),
        }
    }
}

pub async fn concurrent_lockout_updates_lose_no_increment<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let results = race(50, |_| {
        let store = store.clone();
        async move {
            store
                .update_lockout("ann", &|s| LockoutRecord {
                    consecutive_failures: s.consecutive_failures + 1,
                    ..s.clone()
                })
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(store.lockout("ann").await.unwrap().consecutive_failures, 50);
    // Each update saw a distinct state before it: the stored result of one is the next's input.
    let mut befores: Vec<u32> = results
        .iter()
        .map(|(before, after)| {
            assert_eq!(after.consecutive_failures, before.consecutive_failures + 1);
            before.consecutive_failures
        })
        .collect();
    befores.sort_unstable();
    assert_eq!(befores, (0..50).collect::<Vec<_>>());
}

pub async fn one_of_racing_imports_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let results = race(4, |i| {
        let store: Arc<dyn Store> = store.clone();
        async move {
            let mut snapshot = snapshot(10);
            snapshot.policy.as_mut().unwrap().minimum_password_length = 10 + i as u32;
            store.import(snapshot).await.unwrap()
        }
    })
    .await;
    let won = winners(&results, &Import::Imported);
    assert_eq!(won.len(), 1, "{results:?}");
    let policy = store.policy().await.unwrap().unwrap();
    assert_eq!(policy.minimum_password_length, 10 + won[0] as u32);
    assert_eq!(
        store.list_users("", None, 100).await.unwrap().users.len(),
        10
    );
}

/// The replay protection of TOTP codes: of sign-ins that accept codes on one device at once,
/// from one version of it, exactly one stores its step.
pub async fn one_of_racing_replace_device_with_one_version_wins<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    racing_replacements_of_one_version(std::slice::from_ref(&store), &store).await;
}

/// Racers on `replicas` (taken in turn) replace one device of `store` from one version.
pub(crate) async fn racing_replacements_of_one_version(
    replicas: &[Arc<dyn Store>],
    store: &Arc<dyn Store>,
) {
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let token = device("Token", None, 1);
    store.insert_device("token", token.clone()).await.unwrap();
    let enabled = next(&token, Some("ann"), 100);
    let replaced = store.replace_device("token", 1, enabled.clone()).await;
    assert_eq!(replaced.unwrap(), ReplaceDevice::Replaced);
    let results = race(RACERS, |i| {
        let replica = replicas[i % replicas.len()].clone();
        let accepted = next(&enabled, Some("ann"), 200 + i as i64);
        async move { replica.replace_device("token", 2, accepted).await.unwrap() }
    })
    .await;
    let won = winners(&results, &ReplaceDevice::Replaced);
    assert_eq!(won.len(), 1, "{results:?}");
    assert_eq!(winners(&results, &ReplaceDevice::Stale).len(), RACERS - 1);
    let stored = store.device("token").await.unwrap().unwrap();
    assert_eq!(stored.last_step, Some(200 + won[0] as i64));
    assert_eq!(stored.version, 3);
}

pub async fn racing_enables_for_one_user_never_exceed_the_limit<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    racing_enables_of_different_devices(std::slice::from_ref(&store), &store).await;
}

/// Racers on `replicas` (taken in turn) enable one device each for one user of `store`.
pub(crate) async fn racing_enables_of_different_devices(
    replicas: &[Arc<dyn Store>],
    store: &Arc<dyn Store>,
) {
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    for i in 0..RACERS {
        let name = format!("t{i:02}");
        store
            .insert_device(&name, device(&name, None, 1))
            .await
            .unwrap();
    }
    let results = race(RACERS, |i| {
        let replica = replicas[i % replicas.len()].clone();
        let name = format!("t{i:02}");
        let enabled = next(&device(&name, None, 1), Some("ann"), 1);
        async move { replica.replace_device(&name, 1, enabled).await.unwrap() }
    })
    .await;
    let enabled = winners(&results, &ReplaceDevice::Replaced);
    assert_eq!(enabled.len(), DEVICES_PER_USER, "{results:?}");
    assert_eq!(
        winners(&results, &ReplaceDevice::LimitExceeded).len(),
        RACERS - DEVICES_PER_USER
    );
    let stored = store.user_devices("ann").await.unwrap();
    let expected: Vec<String> = enabled.iter().map(|i| format!("t{i:02}")).collect();
    let found: Vec<&str> = stored.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(found, expected);
}

pub async fn delete_user_and_enable_never_both_win<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    for round in 0..20 {
        let name = format!("user{round}");
        store.insert_user(&name, user(&name, "/")).await.unwrap();
        let token = format!("token{round}");
        store
            .insert_device(&token, device(&token, None, 1))
            .await
            .unwrap();
        let results = race(2, |i| {
            let (store, name, token) = (store.clone(), name.clone(), token.clone());
            async move {
                if i == 0 {
                    Err(store.delete_user(&name).await.unwrap())
                } else {
                    let enabled = next(&device(&token, None, 1), Some(&name), 1);
                    Ok(store.replace_device(&token, 1, enabled).await.unwrap())
                }
            }
        })
        .await;
        let assigned = store.device(&token).await.unwrap().unwrap().user_key;
        match (&results[0], &results[1]) {
            (Err(DeleteUser::Deleted), Ok(ReplaceDevice::NoUser)) => {
                assert_eq!(assigned, None);
            }
            (Err(DeleteUser::HasDevice), Ok(ReplaceDevice::Replaced)) => {
                assert_eq!(assigned, Some(name));
            }
            other => panic!("round {round}: both or neither won: {other:?}"),
        }
    }
}
