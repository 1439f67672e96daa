//! Virtual MFA devices: insert and read, the listings, compare-and-swap with the per-user
//! limit, deletion, and how users' deletion and renames treat their devices.

use loginprofiled::store::{
    Assignment, DEVICES_PER_USER, DeleteDevice, DeleteUser, DevicePage, DeviceRecord, Import,
    InsertDevice, ReplaceDevice, ReplaceUser, Snapshot, Store,
};
use loginprofiled::transfer::{self, Trailer};

use crate::{
    Backend,
    records::{device, key, next, profile, snapshot, user},
};

/// Inserts an unassigned device per name, at version 1.
async fn insert_devices(store: &dyn Store, names: &[&str]) {
    for name in names {
        let inserted = store.insert_device(&key(name), device(name, None, 1)).await;
        assert_eq!(inserted.unwrap(), InsertDevice::Inserted, "{name}");
    }
}

/// Enables the stored device `name` for `user_key`.
async fn enable(store: &dyn Store, name: &str, user_key: &str) -> ReplaceDevice {
    let stored = store.device(&key(name)).await.unwrap().unwrap();
    let enabled = next(&stored, Some(user_key), 1);
    store
        .replace_device(&key(name), stored.version, enabled)
        .await
        .unwrap()
}

fn names(devices: &[DeviceRecord]) -> Vec<&str> {
    devices.iter().map(|d| d.name.as_str()).collect()
}

pub async fn insert_device_and_read_it_back<B: Backend>() {
    let (backend, store) = B::fresh().await;
    let token = device("Token-A", None, 1);
    let inserted = store.insert_device("token-a", token.clone()).await.unwrap();
    assert_eq!(inserted, InsertDevice::Inserted);
    // Names are unique without regard to case.
    let again = store.insert_device("token-a", device("TOKEN-a", None, 1));
    assert_eq!(again.await.unwrap(), InsertDevice::AlreadyExists);
    assert_eq!(store.device("token-a").await.unwrap(), Some(token.clone()));
    assert_eq!(store.device("token-b").await.unwrap(), None);
    // A new device is unassigned: an assigned one is refused.
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let assigned = device("Token-B", Some("ann"), 1);
    assert!(store.insert_device("token-b", assigned).await.is_err());
    assert_eq!(store.device("token-b").await.unwrap(), None);

    let store = backend.reopen(store).await;
    assert_eq!(store.device("token-a").await.unwrap(), Some(token));
}

pub async fn list_devices_pages_in_key_order_by_assignment<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    insert_devices(&*store, &["e", "B", "a", "d", "C", "f", "G"]).await;
    for name in ["B", "d", "G"] {
        assert_eq!(enable(&*store, name, "ann").await, ReplaceDevice::Replaced);
    }
    let all_pages = |assignment, limit| {
        let store = store.clone();
        async move {
            let (mut pages, mut after) = (Vec::new(), None::<String>);
            loop {
                let page = store.list_devices(assignment, after.as_deref(), limit);
                let DevicePage {
                    devices,
                    next_after,
                } = page.await.unwrap();
                pages.push(names(&devices).join(""));
                match next_after {
                    Some(next) => after = Some(next),
                    None => return pages,
                }
            }
        }
    };
    assert_eq!(all_pages(Assignment::Any, 3).await, ["aBC", "def", "G"]);
    assert_eq!(all_pages(Assignment::Assigned, 2).await, ["Bd", "G"]);
    assert_eq!(all_pages(Assignment::Unassigned, 2).await, ["aC", "ef"]);
    // A page that ends exactly with the last match says no more follow.
    assert_eq!(all_pages(Assignment::Assigned, 3).await, ["BdG"]);
    let page = store.list_devices(Assignment::Any, Some("d"), 2).await;
    let page = page.unwrap();
    assert_eq!(
        (names(&page.devices), page.next_after.as_deref()),
        (vec!["e", "f"], Some("f"))
    );
}

pub async fn user_devices_are_the_users_enabled_devices_in_key_order<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.insert_user("bob", user("Bob", "/")).await.unwrap();
    insert_devices(&*store, &["c", "a", "b", "z"]).await;
    for name in ["c", "a", "b"] {
        assert_eq!(enable(&*store, name, "ann").await, ReplaceDevice::Replaced);
    }
    let ann = store.user_devices("ann").await.unwrap();
    assert_eq!(names(&ann), ["a", "b", "c"]);
    assert!(ann.iter().all(|d| d.user_key.as_deref() == Some("ann")));
    assert!(store.user_devices("bob").await.unwrap().is_empty());
    assert!(store.user_devices("nobody").await.unwrap().is_empty());

    // Deactivated: no longer the user's.
    let b = store.device("b").await.unwrap().unwrap();
    let unassigned = next(&b, None, 9);
    let replaced = store.replace_device("b", b.version, unassigned).await;
    assert_eq!(replaced.unwrap(), ReplaceDevice::Replaced);
    assert_eq!(names(&store.user_devices("ann").await.unwrap()), ["a", "c"]);
    // Moved from one user to another.
    let c = store.device("c").await.unwrap().unwrap();
    let moved = store.replace_device("c", c.version, next(&c, Some("bob"), 9));
    assert_eq!(moved.await.unwrap(), ReplaceDevice::Replaced);
    assert_eq!(names(&store.user_devices("ann").await.unwrap()), ["a"]);
    assert_eq!(names(&store.user_devices("bob").await.unwrap()), ["c"]);
}

pub async fn replace_device_outcomes<B: Backend>() {
    let (backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let token = device("Token", None, 1);
    let missing = store
        .replace_device("token", 1, next(&token, None, 5))
        .await;
    assert_eq!(missing.unwrap(), ReplaceDevice::NoDevice);
    insert_devices(&*store, &["Token"]).await;

    let stale = store
        .replace_device("token", 7, next(&token, None, 5))
        .await;
    assert_eq!(stale.unwrap(), ReplaceDevice::Stale);
    let ghost = store.replace_device("token", 1, next(&token, Some("ghost"), 5));
    assert_eq!(ghost.await.unwrap(), ReplaceDevice::NoUser);
    assert_eq!(store.device("token").await.unwrap(), Some(token.clone()));

    let enabled = next(&token, Some("ann"), 5);
    let replaced = store.replace_device("token", 1, enabled.clone()).await;
    assert_eq!(replaced.unwrap(), ReplaceDevice::Replaced);
    // The version moved on: the same replacement again is stale (a replayed code).
    let replayed = store.replace_device("token", 1, enabled.clone()).await;
    assert_eq!(replayed.unwrap(), ReplaceDevice::Stale);
    let store = backend.reopen(store).await;
    assert_eq!(store.device("token").await.unwrap(), Some(enabled));
}

pub async fn a_ninth_device_for_one_user_exceeds_the_limit<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let names: Vec<String> = (0..=DEVICES_PER_USER).map(|i| format!("t{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    insert_devices(&*store, &names).await;
    for name in &names[..DEVICES_PER_USER] {
        assert_eq!(enable(&*store, name, "ann").await, ReplaceDevice::Replaced);
    }
    let ninth = names[DEVICES_PER_USER];
    assert_eq!(
        enable(&*store, ninth, "ann").await,
        ReplaceDevice::LimitExceeded
    );
    assert_eq!(store.device(ninth).await.unwrap().unwrap().user_key, None);
    assert_eq!(
        store.user_devices("ann").await.unwrap().len(),
        DEVICES_PER_USER
    );
    // A device already enabled for the user is replaced at the limit (a code accepted).
    let t0 = store.device("t0").await.unwrap().unwrap();
    let accepted = store.replace_device("t0", t0.version, next(&t0, Some("ann"), 77));
    assert_eq!(accepted.await.unwrap(), ReplaceDevice::Replaced);
    // One deactivated makes room.
    let t1 = store.device("t1").await.unwrap().unwrap();
    let deactivated = store.replace_device("t1", t1.version, next(&t1, None, 0));
    assert_eq!(deactivated.await.unwrap(), ReplaceDevice::Replaced);
    assert_eq!(enable(&*store, ninth, "ann").await, ReplaceDevice::Replaced);
}

pub async fn delete_device_outcomes<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    let missing = store.delete_device("token").await.unwrap();
    assert_eq!(missing, DeleteDevice::NoDevice);
    insert_devices(&*store, &["Token", "Spare"]).await;
    assert_eq!(
        enable(&*store, "Token", "ann").await,
        ReplaceDevice::Replaced
    );

    let assigned = store.delete_device("token").await.unwrap();
    assert_eq!(assigned, DeleteDevice::Assigned);
    assert!(store.device("token").await.unwrap().is_some());
    assert_eq!(
        store.delete_device("spare").await.unwrap(),
        DeleteDevice::Deleted
    );
    assert_eq!(store.device("spare").await.unwrap(), None);
    let token = store.device("token").await.unwrap().unwrap();
    let off = store.replace_device("token", token.version, next(&token, None, 0));
    assert_eq!(off.await.unwrap(), ReplaceDevice::Replaced);
    assert_eq!(
        store.delete_device("token").await.unwrap(),
        DeleteDevice::Deleted
    );
    assert_eq!(
        store.list_devices(Assignment::Any, None, 10).await.unwrap(),
        DevicePage {
            devices: Vec::new(),
            next_after: None
        }
    );
}

pub async fn delete_user_refuses_a_user_with_an_enabled_device<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    store.insert_profile("ann", profile("a", 1)).await.unwrap();
    insert_devices(&*store, &["Token"]).await;
    assert_eq!(
        enable(&*store, "Token", "ann").await,
        ReplaceDevice::Replaced
    );

    // The profile is reported first.
    assert_eq!(
        store.delete_user("ann").await.unwrap(),
        DeleteUser::HasProfile
    );
    store.delete_profile("ann").await.unwrap();
    assert_eq!(
        store.delete_user("ann").await.unwrap(),
        DeleteUser::HasDevice
    );
    assert!(store.user("ann").await.unwrap().is_some());
    let token = store.device("token").await.unwrap().unwrap();
    let off = store.replace_device("token", token.version, next(&token, None, 0));
    assert_eq!(off.await.unwrap(), ReplaceDevice::Replaced);
    assert_eq!(store.delete_user("ann").await.unwrap(), DeleteUser::Deleted);
}

pub async fn a_rename_moves_the_users_devices<B: Backend>() {
    let (backend, store) = B::fresh().await;
    let ann = user("Ann", "/");
    store.insert_user("ann", ann.clone()).await.unwrap();
    insert_devices(&*store, &["a", "b", "spare"]).await;
    for name in ["a", "b"] {
        assert_eq!(enable(&*store, name, "ann").await, ReplaceDevice::Replaced);
    }
    let before = store.device("a").await.unwrap().unwrap();

    let anne = user("Anne", "/");
    let renamed = store.replace_user("ann", "anne", &ann, anne).await;
    assert_eq!(renamed.unwrap(), ReplaceUser::Replaced);

    let moved = store.user_devices("anne").await.unwrap();
    assert_eq!(names(&moved), ["a", "b"]);
    assert!(moved.iter().all(|d| d.user_key.as_deref() == Some("anne")));
    assert!(store.user_devices("ann").await.unwrap().is_empty());
    // A replacement read before the rename would put the old key back: it is stale.
    let late = store.replace_device("a", before.version, next(&before, Some("ann"), 3));
    assert_eq!(late.await.unwrap(), ReplaceDevice::Stale);
    assert_eq!(
        store.delete_user("anne").await.unwrap(),
        DeleteUser::HasDevice
    );
    // The old name is free, without devices.
    store.insert_user("ann", user("Ann", "/")).await.unwrap();
    assert!(store.user_devices("ann").await.unwrap().is_empty());
    let listed = store.list_devices(Assignment::Assigned, None, 10).await;
    assert_eq!(names(&listed.unwrap().devices), ["a", "b"]);

    let store = backend.reopen(store).await;
    assert_eq!(
        names(&store.user_devices("anne").await.unwrap()),
        ["a", "b"]
    );
}

pub async fn import_writes_the_devices_and_a_device_makes_a_store_non_empty<B: Backend>() {
    let (backend, store) = B::fresh().await;
    let whole = snapshot(12);
    assert!(whole.devices.iter().any(|d| d.user_key.is_some()));
    assert_eq!(store.import(whole.clone()).await.unwrap(), Import::Imported);
    let store = backend.reopen(store).await;
    let listed = store.list_devices(Assignment::Any, None, 100).await;
    assert_eq!(listed.unwrap().devices, whole.devices);
    let user001 = store.user_devices("user001").await.unwrap();
    assert_eq!(names(&user001), ["Token-User001"]);
    // Imported devices take ordinary writes, and their users keep them.
    assert_eq!(
        store.delete_user("user001").await.unwrap(),
        DeleteUser::HasDevice
    );
    let token = &user001[0];
    let off = store.replace_device("token-user001", token.version, next(token, None, 0));
    assert_eq!(off.await.unwrap(), ReplaceDevice::Replaced);
    assert!(store.user_devices("user001").await.unwrap().is_empty());

    // A store that holds only a device is not empty.
    let (_backend, store) = B::fresh().await;
    insert_devices(&*store, &["Lone"]).await;
    let refused = store.import(snapshot(3)).await.unwrap();
    assert_eq!(refused, Import::NotEmpty);
    assert_eq!(store.user("user000").await.unwrap(), None);
    let only_users = Snapshot {
        devices: Vec::new(),
        ..snapshot(3)
    };
    assert_eq!(store.import(only_users).await.unwrap(), Import::NotEmpty);
}

pub async fn export_and_import_carry_the_devices_as_stored<B: Backend>() {
    let (_backend, store) = B::fresh().await;
    // Without profiles (import checks hashes, and the fixtures' are only hash-shaped), and
    // with distinct user ids, as import wants.
    let mut whole = snapshot(9);
    for (i, entry) in whole.users.iter_mut().enumerate() {
        entry.profile = None;
        entry.user.user_id = format!("AIDA{i:0>17}");
    }
    assert_eq!(store.import(whole.clone()).await.unwrap(), Import::Imported);
    let mut exported = Vec::new();
    let counts = transfer::export(&*store, &mut exported).await.unwrap();
    assert_eq!(counts.devices, whole.devices.len() as u64);
    let text = String::from_utf8(exported.clone()).unwrap();
    let device_lines = text.lines().filter(|l| l.contains(r#""type":"device""#));
    assert_eq!(device_lines.count(), whole.devices.len());

    let checked = transfer::read(exported.as_slice(), Trailer::Checked).unwrap();
    assert!(checked.checksum_verified);
    assert_eq!(checked.snapshot.devices, whole.devices);
    let (_backend, copy) = B::fresh().await;
    let imported = transfer::import(&*copy, checked.snapshot).await.unwrap();
    assert_eq!(imported, counts);
    let listed = copy.list_devices(Assignment::Any, None, 100).await.unwrap();
    assert_eq!(listed.devices, whole.devices);

    // A store without devices exports the file it did before devices existed.
    let (_backend, store) = B::fresh().await;
    let users_only = Snapshot {
        devices: Vec::new(),
        ..whole
    };
    assert_eq!(store.import(users_only).await.unwrap(), Import::Imported);
    let mut exported = Vec::new();
    transfer::export(&*store, &mut exported).await.unwrap();
    let text = String::from_utf8(exported).unwrap();
    assert!(!text.contains("device"), "{text}");
}
