//! Seeds at rest: sealed to their device and user, kept working through key rotation, and
//! refused, never served, by a server without their key.

use loginprofiled::{domain, store::ReplaceDevice};

use super::*;

#[tokio::test]
async fn rotation_keeps_every_device_working_under_the_new_key_alone() {
    let app = mfa_app().await;
    let (_, alice) = enrolled(&app, "alice").await;
    let spare = create_device(&app, "spare").await;
    // Phase two of a rotation: the new key first, the old one still there to open.
    let app = app
        .restart_with(|c| {
            c.mfa_keys = Some(Arc::new(Keyring::from_keys(vec![[9; 32], [7; 32]])));
        })
        .await;
    assert_eq!(
        domain::devices_without_key(&**app.service.store(), Some(&keys(9)))
            .await
            .unwrap()
            .len(),
        2,
        "both are sealed under the old key"
    );
    assert_eq!(app.service.reseal_mfa_seeds().await.unwrap(), 2);
    assert_eq!(
        app.service.reseal_mfa_seeds().await.unwrap(),
        0,
        "done once"
    );
    let app = app.restart_with(|c| c.mfa_keys = Some(keys(9))).await;
    assert!(
        app.service.devices_without_key().await.unwrap().is_empty(),
        "every seed opens under the new key alone"
    );
    app.clock.advance(STEP * 2);
    assert_eq!(
        verify_with(&app, "alice", GOOD, Some(code(&app, &alice, 0))).await,
        VerifyResult::Ok
    );
    // The unassigned device can still be enabled with the authenticator it was given to.
    user_with_profile(&app, "bob", GOOD).await;
    let seed = seed_of(&spare);
    app.devices()
        .enable_mfa_device(enable_request(
            "bob",
            &spare.serial_number,
            code(&app, &seed, -1),
            code(&app, &seed, 0),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_server_without_the_key_names_every_device_it_cannot_open() {
    let app = mfa_app().await;
    enrolled(&app, "carol").await;
    let app = app.restart_with(|c| c.mfa_keys = Some(keys(1))).await;
    let unopenable = app.service.devices_without_key().await.unwrap();
    assert_eq!(
        unopenable,
        vec!["arn:aws:iam::123456789012:mfa/carol-phone"]
    );
    let app = app.restart_with(|c| c.mfa_keys = None).await;
    assert_eq!(app.service.devices_without_key().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_seed_moved_to_another_device_or_user_does_not_open() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "dave").await;
    enrolled(&app, "erin").await;
    let store = app.service.store().clone();
    let dave = store.device("dave-phone").await.unwrap().unwrap();
    let erin = store.device("erin-phone").await.unwrap().unwrap();
    // Erin's record now holds Dave's sealed seed: a code of Dave's seed must not sign Erin in.
    let moved = loginprofiled::store::DeviceRecord {
        seed: dave.seed.clone(),
        version: erin.version + 1,
        ..erin.clone()
    };
    assert_eq!(
        store
            .replace_device("erin-phone", erin.version, moved)
            .await
            .unwrap(),
        ReplaceDevice::Replaced
    );
    app.clock.advance(STEP * 2);
    let err = app
        .profiles()
        .verify_password(VerifyPasswordRequest {
            user_name: "erin".to_owned(),
            password: GOOD.to_owned(),
            mfa_code: Some(code(&app, &seed, 0)),
        })
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::reason(&err), "ServiceFailure");
    assert!(!err.message().contains(&seed));
}

#[tokio::test]
async fn a_key_that_cannot_open_every_seed_is_not_put_in_force() {
    let app = mfa_app().await;
    let (_, seed) = enrolled(&app, "frank").await;
    let refused = app
        .service
        .replace_mfa_keys(Keyring::from_keys(vec![[9; 32]]))
        .await
        .unwrap();
    assert_eq!(refused, vec!["arn:aws:iam::123456789012:mfa/frank-phone"]);
    app.clock.advance(STEP * 2);
    assert_eq!(
        verify_with(&app, "frank", GOOD, Some(code(&app, &seed, 0))).await,
        VerifyResult::Ok,
        "the keys in force stayed"
    );
}

/// A line of a key file holding `key`.
fn key_line(key: [u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[tokio::test]
async fn a_changed_key_file_rotates_the_key_without_a_restart() {
    let keys_dir = tempfile::tempdir().unwrap();
    let file = keys_dir.path().join("mfa.keys");
    std::fs::write(&file, format!("{}\n", key_line([7; 32]))).unwrap();
    let path = file.clone();
    let app = spawn_app_with(move |c| {
        c.mfa_keys = Some(Arc::new(Keyring::load(&path).unwrap()));
        c.mfa_key_file = Some(path);
    })
    .await;
    let (_, seed) = enrolled(&app, "gail").await;
    // Phase two of a rotation in one step (one process): the new key first, the old second.
    std::fs::write(
        &file,
        format!("# rotated\n{}\n{}\n", key_line([9; 32]), key_line([7; 32])),
    )
    .unwrap();
    let new_only = keys(9);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !domain::devices_without_key(&**app.service.store(), Some(&new_only))
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the seed was not re-sealed under the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.clock.advance(STEP * 2);
    assert_eq!(
        verify_with(&app, "gail", GOOD, Some(code(&app, &seed, 0))).await,
        VerifyResult::Ok
    );
    let app = app.restart_with(|c| c.mfa_keys = Some(keys(9))).await;
    assert!(app.service.devices_without_key().await.unwrap().is_empty());
}
