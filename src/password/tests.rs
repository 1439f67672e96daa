use super::*;

fn cheap() -> HashCost {
    HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    }
}

fn password(s: &str) -> SecretString {
    SecretString::from(s)
}

#[tokio::test]
async fn a_hash_verifies_only_its_own_password() {
    let hasher = Hasher::start(
        cheap(),
        PoolSize {
            concurrency: 1,
            queue: 4,
        },
    )
    .unwrap();
    let phc = hasher.hash(&password("correct horse")).await.unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    let right = hasher
        .verify(&password("correct horse"), &phc)
        .await
        .unwrap();
    let wrong = hasher
        .verify(&password("correct horsf"), &phc)
        .await
        .unwrap();
    assert!(right.matches && !right.needs_rehash);
    assert!(!wrong.matches);
}

#[tokio::test]
async fn hashes_made_with_other_parameters_need_a_rehash() {
    let old = Hasher::start(
        cheap(),
        PoolSize {
            concurrency: 1,
            queue: 4,
        },
    )
    .unwrap();
    let phc = old.hash(&password("pw")).await.unwrap();
    let cost = HashCost {
        memory_kib: 128,
        ..cheap()
    };
    let new = Hasher::start(
        cost,
        PoolSize {
            concurrency: 1,
            queue: 4,
        },
    )
    .unwrap();
    let verified = new.verify(&password("pw"), &phc).await.unwrap();
    assert!(verified.matches && verified.needs_rehash);
}

#[tokio::test]
async fn a_full_queue_refuses_with_throttling() {
    let cost = HashCost {
        memory_kib: 8192,
        iterations: 8,
        parallelism: 1,
    };
    let hasher = Hasher::start(
        cost,
        PoolSize {
            concurrency: 1,
            queue: 1,
        },
    )
    .unwrap();
    // Spawned tasks all enqueue before the first, slow hash can finish.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(&password("pw")).await })
        })
        .collect();
    let mut throttled = 0;
    let mut hashed = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => hashed += 1,
            Err(HashError::Throttled { .. }) => throttled += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert!(throttled >= 6, "only {throttled} of 8 calls were throttled");
    assert!(hashed >= 1);
}
