//! PostgreSQL as a contract backend: a fresh database per test on
//! `LOGINPROFILED_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

use std::sync::Arc;

use async_trait::async_trait;
use loginprofiled::store::{self, Import, PgStore, ProfileLookup, Store, StoreConfig};

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
