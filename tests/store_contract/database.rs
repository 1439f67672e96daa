//! PostgreSQL as a contract backend: a fresh database per test on
//! `LOGINPROFILED_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

use std::sync::Arc;

use async_trait::async_trait;
use loginprofiled::store::{
    self, Import, PgStore, ProfileLookup, ReplaceDevice, ReplaceUser, SnapshotEntry, Store,
    StoreConfig,
};

use crate::{Backend, pg_db::TestDb};

pub struct PgBackend {
    db: TestDb,
}

#[async_trait]
impl Backend for PgBackend {
    async fn available() -> bool {
        crate::pg_db::answers_or_required()
    }

    async fn fresh() -> (Self, Arc<dyn Store>) {
        let backend = Self {
            db: TestDb::create(),
        };
        let store = open(&backend.db).await;
        (backend, store)
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Arc<dyn Store> {
        assert_eq!(
            Arc::strong_count(&store),
            1,
            "the test still holds a handle on the store it reopens"
        );
        drop(store);
        open(&self.db).await
    }
}

async fn open(db: &TestDb) -> Arc<dyn Store> {
    let config = StoreConfig::Postgres(db.config());
    tokio::task::spawn_blocking(move || store::open(&config))
        .await
        .unwrap()
        .unwrap()
}

/// The bench's PostgreSQL ceiling (`PgStore::profile_lookup_only`) runs the SELECT a Get runs: it
/// finds a row exactly where `Store::profile` finds the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_lookup_only_finds_the_users_profile_finds() {
    if !PgBackend::available().await {
        return;
    }
    let db = TestDb::create();
    let config = db.config();
    let store = tokio::task::spawn_blocking(move || PgStore::open(&config))
        .await
        .unwrap()
        .unwrap();
    let imported = store.import(crate::records::snapshot(4)).await.unwrap();
    assert_eq!(imported, Import::Imported);
    // User000 and User002 have a profile, User001 and User003 none.
    for name in ["User000", "User001", "User003"] {
        let key = crate::records::key(name);
        assert!(store.profile_lookup_only(&key).await.unwrap(), "{name}");
        let found = store.profile(&key).await.unwrap();
        assert!(!matches!(found, ProfileLookup::NoUser), "{name}");
    }
    let missing = crate::records::key("User004");
    assert!(!store.profile_lookup_only(&missing).await.unwrap());
    let found = store.profile(&missing).await.unwrap();
    assert!(matches!(found, ProfileLookup::NoUser));
}

/// An export while replicas serve is one consistent view: what is created, deleted or renamed
/// after it began is not in it, whatever the order of keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_all_is_one_view_whatever_is_written_meanwhile() {
    if !PgBackend::available().await {
        return;
    }
    let db = TestDb::create();
    let store = open(&db).await;
    let whole = crate::records::snapshot(6);
    assert_eq!(store.import(whole.clone()).await.unwrap(), Import::Imported);
    let writer = store.clone();
    let (mut keys, mut devices) = (Vec::new(), Vec::new());
    let runtime = tokio::runtime::Handle::current();
    let policy = store
        .read_all(&mut |entry| {
            if keys.is_empty() {
                // After the first row: a later user goes, a new one comes, a third is renamed
                // and the policy is removed, each committed at once.
                tokio::task::block_in_place(|| {
                    runtime.block_on(async {
                        let gone = crate::records::key("User005");
                        writer.delete_profile(&gone).await.unwrap();
                        writer.delete_user(&gone).await.unwrap();
                        let new = crate::records::user("Zed", "/");
                        writer.insert_user("zed", new).await.unwrap();
                        let old = writer.user("user003").await.unwrap().unwrap();
                        let renamed = loginprofiled::store::UserRecord {
                            user_name: "Aaron".to_owned(),
                            ..old.clone()
                        };
                        let moved = writer.replace_user("user003", "aaron", &old, renamed);
                        assert_eq!(moved.await.unwrap(), ReplaceUser::Replaced);
                        // User004's device moves with its user; a spare is enabled for Zed.
                        let old = writer.user("user004").await.unwrap().unwrap();
                        let renamed = loginprofiled::store::UserRecord {
                            user_name: "Abe".to_owned(),
                            ..old.clone()
                        };
                        let moved = writer.replace_user("user004", "abe", &old, renamed);
                        assert_eq!(moved.await.unwrap(), ReplaceUser::Replaced);
                        let spare = writer.device("spare000").await.unwrap().unwrap();
                        let enabled = crate::records::next(&spare, Some("zed"), 1);
                        let replaced = writer.replace_device("spare000", 1, enabled);
                        assert_eq!(replaced.await.unwrap(), ReplaceDevice::Replaced);
                        assert!(writer.delete_policy().await.unwrap());
                    })
                });
            }
            match entry {
                SnapshotEntry::User(entry) => keys.push(entry.key),
                SnapshotEntry::Device(device) => devices.push(device),
            }
            Ok(())
        })
        .await
        .unwrap();
    let expected: Vec<String> = whole.users.iter().map(|u| u.key.clone()).collect();
    assert_eq!(keys, expected, "the store as it was when the read began");
    assert_eq!(devices, whole.devices, "the devices as they were, too");
    assert_eq!(policy, whole.policy);
}

/// Two replicas on one database: of sign-ins accepting codes on one device at once, exactly one
/// stores its step, whichever replica each runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_racing_replace_device_with_one_version_have_one_winner() {
    if !PgBackend::available().await {
        return;
    }
    let db = TestDb::create();
    let (one, other) = (open(&db).await, open(&db).await);
    crate::races::racing_replacements_of_one_version(&[one.clone(), other], &one).await;
}

/// Two replicas on one database: enables of different devices for one user at once never
/// exceed the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_racing_enables_for_one_user_never_exceed_the_limit() {
    if !PgBackend::available().await {
        return;
    }
    let db = TestDb::create();
    let (one, other) = (open(&db).await, open(&db).await);
    crate::races::racing_enables_of_different_devices(&[one.clone(), other], &one).await;
}
