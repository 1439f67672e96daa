//! The embedded sled store as a contract backend.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use loginprofiled::store::{self, Store, StoreConfig};

use crate::Backend;

pub struct SledBackend {
    dir: tempfile::TempDir,
}

impl SledBackend {
    fn config(&self) -> StoreConfig {
        StoreConfig::Sled {
            data_dir: self.dir.path().join("data"),
            cache_bytes: 8 << 20,
        }
    }
}

#[async_trait]
impl Backend for SledBackend {
    async fn fresh() -> (Self, Arc<dyn Store>) {
        let backend = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let store = store::open(&backend.config()).unwrap();
        (backend, store)
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Arc<dyn Store> {
        assert_eq!(
            Arc::strong_count(&store),
            1,
            "the test still holds a handle on the store it reopens"
        );
        drop(store);
        // sled's background threads may hold the directory's lock for a moment after the last
        // handle is gone.
        for _ in 0..100 {
            match store::open(&self.config()) {
                Ok(store) => return store,
                Err(e) if format!("{e:#}").contains("another process holds it") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("reopening the store: {e:#}"),
            }
        }
        panic!("the store's lock was not released within 5 s");
    }
}
