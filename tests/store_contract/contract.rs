//! Every outcome of every `Store` method, and durability across a reopen.

use loginprofiled::store::{
    DeleteProfile, DeleteUser, Import, InsertProfile, InsertUser, LockoutRecord, ProfileLookup,
    ReplaceProfile, ReplaceUser, Snapshot, SnapshotUser, TagRecord,
};

use crate::{
    Backend,
    records::{failures, key, policy, profile, snapshot, user},
};

pub async fn insert_user_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(store.user("ann").await.unwrap(), None);
    let ann = user("Ann", "/");
    assert_eq!(
        store.insert_user("ann", ann.clone()).await.unwrap(),
        InsertUser::Inserted
    );
    assert_eq!(
        store.insert_user("ann", user("ANN", "/x/")).await.unwrap(),
        InsertUser::AlreadyExists
    );
    assert_eq!(store.user("ann").await.unwrap(), Some(ann));
}

pub async fn delete_user_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(store.delete_user("ann").await.unwrap(), DeleteUser::NoUser);
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.insert_profile("ann", profile("a", 1)).await.unwrap();
    assert_eq!(
        store.delete_user("ann").await.unwrap(),
        DeleteUser::HasProfile
    );
    assert!(store.user("ann").await.unwrap().is_some());
    store.delete_profile("ann").await.unwrap();
    assert_eq!(store.delete_user("ann").await.unwrap(), DeleteUser::Deleted);
    assert_eq!(store.user("ann").await.unwrap(), None);
    assert_eq!(store.delete_user("ann").await.unwrap(), DeleteUser::NoUser);
}

pub async fn list_users_pages_in_key_order_by_path_prefix<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let users = [
        ("Dee", "/b/"),
        ("al", "/a/"),
        ("Bo", "/a/x/"),
        ("cy", "/"),
        ("Ed", "/ab/"),
    ];
    for (name, path) in users {
        store
            .insert_user(&key(name), user(name, path))
            .await
            .unwrap();
    }
    let names = |page: &loginprofiled::store::UserPage| -> Vec<String> {
        page.users.iter().map(|u| u.user_name.clone()).collect()
    };
    for everyone in ["", "/"] {
        let page = store.list_users(everyone, None, 10).await.unwrap();
        assert_eq!(names(&page), ["al", "Bo", "cy", "Dee", "Ed"]);
        assert_eq!(page.next_after, None);
    }
    let first = store.list_users("", None, 2).await.unwrap();
    assert_eq!(names(&first), ["al", "Bo"]);
    assert_eq!(first.next_after.as_deref(), Some("bo"));
    let second = store.list_users("", Some("bo"), 2).await.unwrap();
    assert_eq!(names(&second), ["cy", "Dee"]);
    let last = store.list_users("", Some("dee"), 2).await.unwrap();
    assert_eq!(
        (names(&last), last.next_after),
        (vec!["Ed".to_owned()], None)
    );

    // The prefix is compared byte for byte with the path: "/a" matches "/ab/" too.
    let page = store.list_users("/a/", None, 10).await.unwrap();
    assert_eq!(names(&page), ["al", "Bo"]);
    let page = store.list_users("/a", None, 10).await.unwrap();
    assert_eq!(names(&page), ["al", "Bo", "Ed"]);
    // A full page with no further match says nothing follows.
    let page = store.list_users("/a/", None, 2).await.unwrap();
    assert_eq!((names(&page).len(), page.next_after), (2, None));
    let page = store.list_users("/a/", None, 1).await.unwrap();
    assert_eq!(
        (names(&page), page.next_after.as_deref()),
        (vec!["al".to_owned()], Some("al"))
    );
    let page = store.list_users("/nobody/", None, 10).await.unwrap();
    assert_eq!((page.users.len(), page.next_after), (0, None));
}

pub async fn replace_user_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let ann = user("Ann", "/");
    assert_eq!(
        store
            .replace_user("ann", "ann", &ann, ann.clone())
            .await
            .unwrap(),
        ReplaceUser::NoUser
    );
    store.insert_user("ann", ann.clone()).await.unwrap();
    store.insert_user("bob", user("Bob", "/")).await.unwrap();

    let mut tagged = ann.clone();
    tagged.tags.push(TagRecord {
        key: "z".into(),
        value: "1".into(),
    });
    assert_eq!(
        store
            .replace_user("ann", "ann", &ann, tagged.clone())
            .await
            .unwrap(),
        ReplaceUser::Replaced
    );
    assert_eq!(store.user("ann").await.unwrap(), Some(tagged.clone()));
    // `ann` is no longer what is stored.
    assert_eq!(
        store
            .replace_user("ann", "ann", &ann, ann.clone())
            .await
            .unwrap(),
        ReplaceUser::Stale
    );
    let mut renamed = tagged.clone();
    renamed.user_name = "Bob".into();
    assert_eq!(
        store
            .replace_user("ann", "bob", &tagged, renamed)
            .await
            .unwrap(),
        ReplaceUser::NameTaken
    );
    assert_eq!(store.user("ann").await.unwrap(), Some(tagged));
    assert_eq!(store.user("bob").await.unwrap(), Some(user("Bob", "/")));
}

pub async fn a_rename_moves_profile_and_lockout<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let ann = user("Ann", "/");
    store.insert_user("ann", ann.clone()).await.unwrap();
    store.insert_profile("ann", profile("a", 4)).await.unwrap();
    store
        .update_lockout("ann", &|_| failures(3, 10))
        .await
        .unwrap();
    // An unknown name's failures under the new key do not stick to the renamed user.
    store
        .update_lockout("cat", &|_| failures(7, 20))
        .await
        .unwrap();

    let mut cat = ann.clone();
    cat.user_name = "Cat".into();
    assert_eq!(
        store
            .replace_user("ann", "cat", &ann, cat.clone())
            .await
            .unwrap(),
        ReplaceUser::Replaced
    );
    assert_eq!(store.user("ann").await.unwrap(), None);
    assert_eq!(store.profile("ann").await.unwrap(), ProfileLookup::NoUser);
    assert_eq!(
        store.profile("cat").await.unwrap(),
        ProfileLookup::Found(cat, profile("a", 4))
    );
    assert_eq!(store.lockout("cat").await.unwrap(), failures(3, 10));
    assert_eq!(
        store.lockout("ann").await.unwrap(),
        LockoutRecord::default()
    );
    // The old key is free at once.
    assert_eq!(
        store.insert_user("ann", user("ann", "/")).await.unwrap(),
        InsertUser::Inserted
    );
}

pub async fn touch_user_records_last_use_and_creates_nothing<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.touch_user("ghost", 5).await.unwrap();
    assert_eq!(store.user("ghost").await.unwrap(), None);
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.touch_user("ann", 1_800_000_000_000).await.unwrap();
    let touched = store.user("ann").await.unwrap().unwrap();
    assert_eq!(touched.password_last_used_ms, Some(1_800_000_000_000));
    assert_eq!(touched.tags, user("Ann", "/").tags);
}

pub async fn profile_lookup_and_insert_profile_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(store.profile("ann").await.unwrap(), ProfileLookup::NoUser);
    assert_eq!(
        store.insert_profile("ann", profile("a", 1)).await.unwrap(),
        InsertProfile::NoUser
    );
    let ann = user("Ann", "/");
    store.insert_user("ann", ann.clone()).await.unwrap();
    assert_eq!(
        store.profile("ann").await.unwrap(),
        ProfileLookup::NoProfile(ann.clone())
    );
    assert_eq!(
        store.insert_profile("ann", profile("a", 1)).await.unwrap(),
        InsertProfile::Inserted
    );
    assert_eq!(
        store.insert_profile("ann", profile("b", 1)).await.unwrap(),
        InsertProfile::AlreadyExists
    );
    assert_eq!(
        store.profile("ann").await.unwrap(),
        ProfileLookup::Found(ann, profile("a", 1))
    );
}

pub async fn replace_profile_outcomes<B: Backend>() {
    replace_outcomes::<B>(false).await;
}

pub async fn replace_profile_lazily_outcomes<B: Backend>() {
    replace_outcomes::<B>(true).await;
}

async fn replace_outcomes<B: Backend>(lazily: bool) {
    let (_backend, store) = B::fresh().await;
    let replace = |expected, record| {
        let store = store.clone();
        async move {
            if lazily {
                store.replace_profile_lazily("ann", expected, record).await
            } else {
                store.replace_profile("ann", expected, record).await
            }
            .unwrap()
        }
    };
    assert_eq!(replace(1, profile("b", 2)).await, ReplaceProfile::NoUser);
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    assert_eq!(replace(1, profile("b", 2)).await, ReplaceProfile::NoProfile);
    store.insert_profile("ann", profile("a", 1)).await.unwrap();
    assert_eq!(replace(2, profile("b", 3)).await, ReplaceProfile::Stale);
    assert_eq!(replace(1, profile("b", 2)).await, ReplaceProfile::Replaced);
    assert_eq!(replace(1, profile("c", 2)).await, ReplaceProfile::Stale);
    let ProfileLookup::Found(_, stored) = store.profile("ann").await.unwrap() else {
        panic!("no profile")
    };
    assert_eq!(stored, profile("b", 2));
}

pub async fn delete_profile_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(
        store.delete_profile("ann").await.unwrap(),
        DeleteProfile::NoUser
    );
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    assert_eq!(
        store.delete_profile("ann").await.unwrap(),
        DeleteProfile::NoProfile
    );
    store.insert_profile("ann", profile("a", 1)).await.unwrap();
    assert_eq!(
        store.delete_profile("ann").await.unwrap(),
        DeleteProfile::Deleted
    );
    assert!(matches!(
        store.profile("ann").await.unwrap(),
        ProfileLookup::NoProfile(_)
    ));
}

pub async fn policy_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(store.policy().await.unwrap(), None);
    assert!(!store.delete_policy().await.unwrap());
    store.put_policy(policy(10)).await.unwrap();
    assert_eq!(store.policy().await.unwrap(), Some(policy(10)));
    store.put_policy(policy(14)).await.unwrap();
    assert_eq!(store.policy().await.unwrap(), Some(policy(14)));
    assert!(store.delete_policy().await.unwrap());
    assert_eq!(store.policy().await.unwrap(), None);
}

pub async fn lockout_updates_and_default_state<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    assert_eq!(
        store.lockout("ann").await.unwrap(),
        LockoutRecord::default()
    );
    let (before, after) = store
        .update_lockout("ann", &|s| failures(s.consecutive_failures + 1, 7))
        .await
        .unwrap();
    assert_eq!(
        (before, after.clone()),
        (LockoutRecord::default(), failures(1, 7))
    );
    assert_eq!(store.lockout("ann").await.unwrap(), after);
    // Updating to the default state removes it.
    let (before, after) = store
        .update_lockout("ann", &|_| LockoutRecord::default())
        .await
        .unwrap();
    assert_eq!((before, after), (failures(1, 7), LockoutRecord::default()));
    assert_eq!(
        store.lockout("ann").await.unwrap(),
        LockoutRecord::default()
    );
}

pub async fn prune_lockouts_keeps_what_still_counts<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    let now = 1_000_000;
    let old = failures(2, 10);
    let mut locked = old.clone();
    locked.locked_until_ms = now + 1;
    let mut in_flight = old.clone();
    in_flight
        .in_flight
        .push(loginprofiled::store::InFlightAttempt {
            id: 1,
            lease_until_ms: now + 1,
        });
    let recent = failures(2, now - 1);
    for (key, state) in [
        ("old", &old),
        ("locked", &locked),
        ("flight", &in_flight),
        ("recent", &recent),
    ] {
        let state = state.clone();
        store
            .update_lockout(key, &move |_| state.clone())
            .await
            .unwrap();
    }
    assert_eq!(store.prune_lockouts(now, now - 100).await.unwrap(), 1);
    assert_eq!(
        store.lockout("old").await.unwrap(),
        LockoutRecord::default()
    );
    assert_eq!(store.lockout("locked").await.unwrap(), locked);
    assert_eq!(store.lockout("flight").await.unwrap(), in_flight);
    assert_eq!(store.lockout("recent").await.unwrap(), recent);
    assert_eq!(store.prune_lockouts(now, now - 100).await.unwrap(), 0);
}

/// Every acknowledged write is there after a reopen without a flush.
pub async fn acknowledged_writes_survive_a_reopen<B: Backend>() {
    let (backend, store) = B::fresh().await;
    let ann = user("Ann", "/");
    store.insert_user("ann", ann.clone()).await.unwrap();
    store.insert_user("bob", user("Bob", "/")).await.unwrap();
    store.insert_user("gone", user("Gone", "/")).await.unwrap();
    store.delete_user("gone").await.unwrap();
    let mut dee = ann.clone();
    dee.user_name = "Dee".into();
    store
        .replace_user("ann", "dee", &ann, dee.clone())
        .await
        .unwrap();
    store.insert_profile("dee", profile("a", 1)).await.unwrap();
    store
        .replace_profile("dee", 1, profile("b", 2))
        .await
        .unwrap();
    store.insert_profile("bob", profile("c", 1)).await.unwrap();
    store.delete_profile("bob").await.unwrap();
    store.put_policy(policy(11)).await.unwrap();

    let store = backend.reopen(store).await;
    assert_eq!(store.user("ann").await.unwrap(), None);
    assert_eq!(store.user("gone").await.unwrap(), None);
    assert_eq!(
        store.profile("dee").await.unwrap(),
        ProfileLookup::Found(dee, profile("b", 2))
    );
    assert!(matches!(
        store.profile("bob").await.unwrap(),
        ProfileLookup::NoProfile(_)
    ));
    assert_eq!(store.policy().await.unwrap(), Some(policy(11)));
    store.delete_policy().await.unwrap();
    let store = backend.reopen(store).await;
    assert_eq!(store.policy().await.unwrap(), None);
}

/// Deferred writes (last use, lazy re-hash, lockout) are there after `flush` and a reopen.
pub async fn deferred_writes_survive_a_reopen_after_flush<B: Backend>() {
    let (backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.insert_profile("ann", profile("a", 1)).await.unwrap();
    store.touch_user("ann", 42).await.unwrap();
    store
        .replace_profile_lazily("ann", 1, profile("rehashed", 2))
        .await
        .unwrap();
    store
        .update_lockout("bob", &|_| failures(2, 9))
        .await
        .unwrap();
    store.flush().await.unwrap();

    let store = backend.reopen(store).await;
    let ProfileLookup::Found(ann, stored) = store.profile("ann").await.unwrap() else {
        panic!("the profile is gone")
    };
    assert_eq!(ann.password_last_used_ms, Some(42));
    assert_eq!(stored, profile("rehashed", 2));
    assert_eq!(store.lockout("bob").await.unwrap(), failures(2, 9));
}

pub async fn check_passes_on_a_healthy_store<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.check().await.unwrap();
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.check().await.unwrap();
}

pub async fn import_into_an_empty_store_and_reopen<B: Backend>() {
    let (backend, store) = B::fresh().await;
    // Lockout states are not data: they do not make the store non-empty.
    store
        .update_lockout("x", &|_| failures(1, 1))
        .await
        .unwrap();
    let snapshot = snapshot(25);
    assert_eq!(
        store.import(snapshot.clone()).await.unwrap(),
        Import::Imported
    );
    let store = backend.reopen(store).await;
    assert_eq!(store.policy().await.unwrap(), snapshot.policy);
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users("", after.as_deref(), 7).await.unwrap();
        listed.extend(page.users);
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(listed.len(), 25);
    for SnapshotUser { key, user, profile } in snapshot.users {
        let expected = match profile {
            Some(profile) => ProfileLookup::Found(user, profile),
            None => ProfileLookup::NoProfile(user),
        };
        assert_eq!(store.profile(&key).await.unwrap(), expected, "{key}");
    }
    // The imported store takes ordinary writes, and counts them.
    store.insert_user("zed", user("Zed", "/")).await.unwrap();
    store.delete_profile("user000").await.unwrap();
    store.delete_user("user000").await.unwrap();
    let store = backend.reopen(store).await;
    assert!(store.user("zed").await.unwrap().is_some());
}

pub async fn import_refuses_a_store_with_a_user_or_a_policy<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    assert_eq!(store.import(snapshot(3)).await.unwrap(), Import::NotEmpty);
    assert_eq!(store.user("user000").await.unwrap(), None);
    assert_eq!(store.policy().await.unwrap(), None);

    let (_backend, store) = B::fresh().await;
    store.put_policy(policy(9)).await.unwrap();
    assert_eq!(store.import(snapshot(3)).await.unwrap(), Import::NotEmpty);
    assert_eq!(store.user("user000").await.unwrap(), None);
    assert_eq!(store.policy().await.unwrap(), Some(policy(9)));

    // An empty snapshot into an empty store is fine, and leaves it empty.
    let (_backend, store) = B::fresh().await;
    assert_eq!(
        store.import(Snapshot::default()).await.unwrap(),
        Import::Imported
    );
    assert_eq!(store.import(snapshot(2)).await.unwrap(), Import::Imported);
}
