use super::*;

fn cheap() -> HashCost {
    HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    }
}

/// A started pool of `concurrency` threads and a queue of `queue`.
fn pool(cost: HashCost, concurrency: usize, queue: usize) -> Hasher {
    Hasher::start(cost, PoolSize { concurrency, queue }).unwrap()
}

fn password(s: &str) -> SecretString {
    SecretString::from(s)
}

#[tokio::test]
async fn a_hash_verifies_only_its_own_password() {
    let hasher = pool(cheap(), 1, 4);
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
    let old = pool(cheap(), 1, 4);
    let phc = old.hash(&password("pw")).await.unwrap();
    let cost = HashCost {
        memory_kib: 128,
        ..cheap()
    };
    let new = pool(cost, 1, 4);
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
    let hasher = pool(cost, 1, 1);
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

#[tokio::test]
async fn a_stored_hash_past_the_bounds_fails_at_once_and_the_pool_goes_on() {
    let hasher = pool(cheap(), 1, 4);
    // Once, these aborted the process (a 4 TiB allocation) or held the one thread for years.
    for params in [
        "m=4294967295,t=1,p=1",
        "m=64,t=4294967295,p=1",
        "m=1,t=0,p=0",
    ] {
        let hostile = format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
        let refused = tokio::time::timeout(
            Duration::from_secs(5),
            hasher.verify(&password("pw"), &hostile),
        )
        .await
        .expect("a hash past the bounds is refused before any work")
        .unwrap_err();
        let message = format!("{refused:#}");
        assert!(
            message.contains("outside the supported bounds"),
            "{message}"
        );
        assert!(!message.contains(params), "{message}");
    }
    assert_eq!(hasher.stats().verifications.load(Ordering::Relaxed), 0);
    let phc = hasher.hash(&password("pw")).await.unwrap();
    assert!(hasher.verify(&password("pw"), &phc).await.unwrap().matches);
}

#[tokio::test]
async fn a_version_0x10_hash_verifies_with_its_own_version_and_needs_a_rehash() {
    let mut out = [0u8; OUTPUT_LEN];
    let params = cheap().params().unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x10, params)
        .hash_password_into(b"pw", b"saltsaltsalt", &mut out)
        .unwrap();
    let phc = format!(
        "$argon2id$v=16$m=64,t=1,p=1${}${}",
        Salt::new(b"saltsaltsalt").unwrap(),
        Output::new(&out).unwrap()
    );
    let hasher = pool(cheap(), 1, 4);
    let verified = hasher.verify(&password("pw"), &phc).await.unwrap();
    assert!(verified.matches && verified.needs_rehash);
    assert!(!hasher.verify(&password("px"), &phc).await.unwrap().matches);
}

#[tokio::test]
async fn every_format_in_the_table_verifies_its_example_and_asks_for_an_upgrade() {
    let hasher = pool(HashCost::default(), 2, 64);
    for format in FORMATS {
        let right = hasher
            .verify(&password(EXAMPLE_PASSWORD), format.example)
            .await
            .unwrap();
        assert!(right.matches, "{}", format.example);
        assert_eq!(right.scheme, format.scheme);
        // Only the service's own scheme with the configured costs stays as it is.
        assert_eq!(
            right.needs_rehash,
            !format.scheme.is_native(),
            "{}",
            format.example
        );
        let wrong = hasher
            .verify(&password("correct horse battery stapler"), format.example)
            .await
            .unwrap();
        assert!(!wrong.matches, "{}", format.example);
    }
}
