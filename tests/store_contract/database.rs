//! PostgreSQL as a contract backend: a fresh database per test on
//! `LOGINPROFILED_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

use std::sync::Arc;

use async_trait::async_trait;
use loginprofiled::store::{self, Store, StoreConfig};

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
