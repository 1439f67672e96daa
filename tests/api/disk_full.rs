//! A full disk: writes fail with ServiceFailure and are never acknowledged, health turns
//! NOT_SERVING, a restart on the still-full disk exits with a clear error, and once there is room
//! again every acknowledged write is there.
//!
//! Needs to mount a small tmpfs (root, and a sandbox that allows it); elsewhere it says so on
//! stderr and passes without checking anything.

use std::{path::Path, process::Command};

use loginprofiled::grpc::proto::{
    CreateUserRequest, GetUserRequest, user_service_client::UserServiceClient,
};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{binary::Binary, helpers::reason};

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|out| out.status.success());
        mounted.then_some(Self(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test]
async fn a_full_disk_fails_writes_turns_health_off_and_loses_no_acknowledged_write() {
    if crate::helpers::sled_only("a full disk under the data directory") {
        return;
    }
    let Some(disk) = SmallDisk::mount("3m") else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and a sandbox that allows it)");
        return;
    };
    let mut server = Binary::start(disk.path(), &[]).await;
    let mut users = UserServiceClient::new(server.channel());
    let mut acknowledged = Vec::new();
    let failure = loop {
        assert!(acknowledged.len() < 100_000, "the disk never filled up");
        let name = format!("user{:06}-{}", acknowledged.len(), "x".repeat(40));
        let request = CreateUserRequest {
            user_name: name.clone(),
            path: format!("/{}/", "p".repeat(200)),
            ..Default::default()
        };
        match users.create_user(request).await {
            Ok(_) => acknowledged.push(name),
            Err(status) => break status,
        }
    };
    assert_eq!(
        (failure.code(), reason(&failure).as_str()),
        (Code::Internal, "ServiceFailure"),
        "{failure:?}"
    );
    server.wait_for_health(ServingStatus::NotServing).await;
    drop(server);

    let restart = Binary::spawn(disk.path(), &[]);
    let exit = tokio::task::spawn_blocking(move || {
        let mut restart = restart;
        restart.child.wait().unwrap()
    })
    .await
    .unwrap();
    assert!(
        !exit.success(),
        "a start on a full disk fails instead of serving"
    );

    disk.grow("32m");
    let server = Binary::start(disk.path(), &[]).await;
    let mut users = UserServiceClient::new(server.channel());
    for name in &acknowledged {
        let found = users
            .get_user(GetUserRequest {
                user_name: name.clone(),
            })
            .await;
        assert!(
            found.is_ok(),
            "acknowledged user {name} is missing: {found:?}"
        );
    }
    assert!(
        acknowledged.len() > 100,
        "only {} writes fit before the disk was full",
        acknowledged.len()
    );
}
