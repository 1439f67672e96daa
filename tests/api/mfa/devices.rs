//! The life of a device and IAM's errors on the way.

use loginprofiled::grpc::proto::{
    AssignmentStatus, DeactivateMfaDeviceRequest, DeleteUserRequest, DeleteVirtualMfaDeviceRequest,
    ListMfaDevicesRequest, ListVirtualMfaDevicesRequest, ResyncMfaDeviceRequest,
};
use tonic::Code;

use super::*;
use crate::helpers::{assert_error, spawn_app, user};

const ARN: &str = "arn:aws:iam::123456789012:mfa/";

#[tokio::test]
async fn a_device_is_created_enabled_listed_deactivated_and_deleted() {
    let app = mfa_app().await;
    user_with_profile(&app, "alice", GOOD).await;
    let device = create_device(&app, "Alice-Phone").await;
    assert_eq!(device.serial_number, format!("{ARN}Alice-Phone"));
    let seed = seed_of(&device);
    assert_eq!(seed.len(), 32, "20 bytes in base32");
    assert!(
        seed.bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    assert!(device.qr_code_png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(device.user.is_none() && device.enable_date.is_none());

    let unassigned = list_virtual(&app, AssignmentStatus::Unassigned).await;
    assert_eq!(unassigned.len(), 1);
    assert!(
        unassigned[0].base32_string_seed.is_empty() && unassigned[0].qr_code_png.is_empty(),
        "the seed is shown by Create only"
    );

    app.devices()
        .enable_mfa_device(enable_request(
            "alice",
            &device.serial_number,
            code(&app, &seed, -1),
            code(&app, &seed, 0),
        ))
        .await
        .unwrap();
    let listed = app
        .devices()
        .list_mfa_devices(ListMfaDevicesRequest {
            user_name: "ALICE".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.mfa_devices.len(), 1);
    assert_eq!(listed.mfa_devices[0].user_name, "ALICE");
    assert_eq!(listed.mfa_devices[0].serial_number, device.serial_number);
    let assigned = list_virtual(&app, AssignmentStatus::Assigned).await;
    assert_eq!(assigned[0].user.as_ref().unwrap().user_name, "alice");
    assert!(assigned[0].enable_date.is_some());
    assert!(
        list_virtual(&app, AssignmentStatus::Unassigned)
            .await
            .is_empty()
    );

    let deleted = app
        .devices()
        .delete_virtual_mfa_device(DeleteVirtualMfaDeviceRequest {
            serial_number: device.serial_number.clone(),
        })
        .await
        .unwrap_err();
    assert_error(
        &deleted,
        Code::FailedPrecondition,
        "DeleteConflict",
        "Cannot delete entity, must deactivate MFA device first.",
    );
    let user_deleted = app
        .users()
        .delete_user(DeleteUserRequest {
            user_name: "alice".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::reason(&user_deleted), "DeleteConflict");

    app.devices()
        .deactivate_mfa_device(DeactivateMfaDeviceRequest {
            user_name: "alice".to_owned(),
            serial_number: device.serial_number.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        verify_with(&app, "alice", GOOD, None).await,
        VerifyResult::Ok
    );
    app.devices()
        .delete_virtual_mfa_device(DeleteVirtualMfaDeviceRequest {
            serial_number: device.serial_number.clone(),
        })
        .await
        .unwrap();
    assert!(list_virtual(&app, AssignmentStatus::Any).await.is_empty());
}

#[tokio::test]
async fn enable_checks_the_user_the_device_its_state_and_then_the_codes() {
    let app = mfa_app().await;
    user_with_profile(&app, "bob", GOOD).await;
    let device = create_device(&app, "bob-phone").await;
    let seed = seed_of(&device);
    let serial = device.serial_number.clone();
    let enable = |user: &str, serial: &str, first: String, second: String| {
        let request = enable_request(user, serial, first, second);
        let app = &app;
        async move { app.devices().enable_mfa_device(request).await }
    };

    let err = enable(
        "nobody",
        &serial,
        code(&app, &seed, 0),
        code(&app, &seed, 1),
    )
    .await
    .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        "The user with name nobody cannot be found.",
    );
    let missing = format!("{ARN}nothing");
    let err = enable("bob", &missing, "123456".into(), "654321".into())
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::NotFound,
        "NoSuchEntity",
        &format!("VirtualMFADevice with serial number {missing} doesn't exist."),
    );
    // Codes not consecutive, the same code twice, codes two steps away: all refused.
    for (first, second) in [(-1, 1), (0, 0), (1, 2), (-3, -2)] {
        let err = enable(
            "bob",
            &serial,
            code(&app, &seed, first),
            code(&app, &seed, second),
        )
        .await
        .unwrap_err();
        assert_error(
            &err,
            Code::PermissionDenied,
            "InvalidAuthenticationCode",
            "Authentication code for device is not valid.",
        );
    }
    let err = enable("bob", &serial, "12345".into(), "x".into())
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::reason(&err), "ValidationError");

    enable("bob", &serial, code(&app, &seed, 0), code(&app, &seed, 1))
        .await
        .unwrap();
    user_with_profile(&app, "carol", GOOD).await;
    app.clock.advance(STEP * 4);
    let err = enable("carol", &serial, code(&app, &seed, 0), code(&app, &seed, 1))
        .await
        .unwrap_err();
    assert_eq!(
        crate::helpers::reason(&err),
        "EntityAlreadyExists",
        "{err:?}"
    );
}

#[tokio::test]
async fn names_are_unique_without_regard_to_case_or_path() {
    let app = mfa_app().await;
    create_device(&app, "Shared").await;
    let err = app
        .devices()
        .create_virtual_mfa_device(CreateVirtualMfaDeviceRequest {
            virtual_mfa_device_name: "sHARED".to_owned(),
            path: "/team/".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_error(
        &err,
        Code::AlreadyExists,
        "EntityAlreadyExists",
        "MFADevice entity at the same path and name already exists.",
    );
}

#[tokio::test]
async fn a_user_may_have_eight_devices_and_not_a_ninth() {
    let app = mfa_app().await;
    user(&app, "dave").await;
    for i in 0..9 {
        let device = create_device(&app, &format!("dave-{i}")).await;
        let seed = seed_of(&device);
        let result = app
            .devices()
            .enable_mfa_device(enable_request(
                "dave",
                &device.serial_number,
                code(&app, &seed, -1),
                code(&app, &seed, 0),
            ))
            .await;
        if i < 8 {
            result.unwrap();
        } else {
            let err = result.unwrap_err();
            assert_eq!(crate::helpers::reason(&err), "LimitExceeded", "{err:?}");
        }
    }
}

#[tokio::test]
async fn without_a_key_file_devices_cannot_be_made_but_the_lists_work() {
    let app = spawn_app().await;
    let err = app
        .devices()
        .create_virtual_mfa_device(CreateVirtualMfaDeviceRequest {
            virtual_mfa_device_name: "phone".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::reason(&err), "ServiceFailure");
    // The message names what the operator must fix.
    assert!(
        err.message().contains("--mfa-key-file"),
        "{}",
        err.message()
    );
    assert!(list_virtual(&app, AssignmentStatus::Any).await.is_empty());
}

#[tokio::test]
async fn resync_measures_the_drift_that_sign_in_then_applies() {
    let app = mfa_app().await;
    let (serial, seed) = enrolled(&app, "erin").await;
    // From now on the phone's clock runs five steps ahead: it shows the code of step now + 5.
    app.clock.advance(STEP * 3);
    let phone = |app: &TestApp| code(app, &seed, 5);
    assert_eq!(
        verify_with(&app, "erin", GOOD, Some(phone(&app))).await,
        VerifyResult::InvalidCredentials,
        "outside the window"
    );
    let resync = |first: String, second: String| ResyncMfaDeviceRequest {
        user_name: "erin".to_owned(),
        serial_number: serial.clone(),
        authentication_code_1: first,
        authentication_code_2: second,
    };
    // Two codes as the user reads them, 30 s apart.
    let first = phone(&app);
    app.clock.advance(STEP);
    let second = phone(&app);
    let err = app
        .devices()
        .resync_mfa_device(resync(second.clone(), first.clone()))
        .await
        .unwrap_err();
    assert_eq!(crate::helpers::reason(&err), "InvalidAuthenticationCode");
    app.devices()
        .resync_mfa_device(resync(first, second.clone()))
        .await
        .unwrap();
    assert_eq!(
        verify_with(&app, "erin", GOOD, Some(second)).await,
        VerifyResult::InvalidCredentials,
        "resync's codes are used"
    );
    app.clock.advance(STEP);
    assert_eq!(
        verify_with(&app, "erin", GOOD, Some(phone(&app))).await,
        VerifyResult::Ok,
        "the drift is applied"
    );
}

async fn list_virtual(app: &TestApp, status: AssignmentStatus) -> Vec<VirtualMfaDevice> {
    app.devices()
        .list_virtual_mfa_devices(ListVirtualMfaDevicesRequest {
            assignment_status: status.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .virtual_mfa_devices
}

#[tokio::test]
async fn device_changes_are_audited_with_their_serial_number() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.log");
    let path = log.clone();
    let app = spawn_app_with(move |c| {
        with_keys(c);
        c.audit_log = Some(path);
    })
    .await;
    let (serial, _) = enrolled(&app, "ivy").await;
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let enabled = lines
        .iter()
        .find(|line| line["event"] == "mfa_device_enabled")
        .expect("an mfa_device_enabled line");
    assert_eq!(enabled["serial_number"], serial.as_str());
    assert_eq!(enabled["user_name"], "ivy");
    assert_eq!(enabled["outcome"], "Success");
    let created = lines
        .iter()
        .find(|line| line["event"] == "mfa_device_created")
        .expect("an mfa_device_created line");
    assert_eq!(created["serial_number"], serial.as_str());
    let user_created = lines
        .iter()
        .find(|line| line["event"] == "user_created")
        .unwrap();
    assert!(user_created.get("serial_number").is_none());
}
