//! Crash safety: writers create, update and delete while the real binary is killed with SIGKILL
//! at a random moment; the restart is never refused (a healthy process killed at any moment
//! leaves nothing unacknowledged missing), every acknowledged write is there, no delete is lost
//! or undone, and `check` finds every record and invariant in order (no login profile without
//! its user). A few rounds by default; set `LOGINPROFILED_CRASH_ROUNDS` (e.g. 300) for a long run.

use crate::binary::{self, Binary};
use std::{path::Path, time::Duration};

use loginprofiled::grpc::proto::{
    CreateLoginProfileRequest, CreateUserRequest, DeleteLoginProfileRequest, DeleteUserRequest,
    GetLoginProfileRequest, GetUserRequest, UpdateLoginProfileRequest,
    login_profile_service_client::LoginProfileServiceClient,
    user_service_client::UserServiceClient,
};
use rand::Rng as _;
use tonic::{Code, Status, transport::Channel};

pub const WRITERS: usize = 4;
pub const USERS_PER_WRITER: usize = 6;
const PASSWORD: &str = "Crash-test-pw-1";

/// What the store holds for one user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Absent,
    User,
    Profile { reset_required: bool },
}

/// One user's last acknowledged state, and the state its unanswered call would have made.
#[derive(Debug, Clone, Copy)]
pub struct Tracked {
    pub acked: State,
    pub in_flight: Option<State>,
}

#[tokio::test]
async fn every_acknowledged_write_survives_kill_9_at_a_random_moment() {
    if crate::helpers::sled_only("kill -9 of a binary serving a data directory (sled recovery)") {
        return;
    }
    let rounds: usize = std::env::var("LOGINPROFILED_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let dir = tempfile::tempdir().unwrap();
    let mut model = vec![
        Tracked {
            acked: State::Absent,
            in_flight: None,
        };
        WRITERS * USERS_PER_WRITER
    ];
    let mut acked_writes = 0;
    for round in 0..rounds {
        let server = Binary::start(dir.path(), &[]).await;
        check_against_model(&server.channel(), &mut model, round).await;
        let writers: Vec<_> = model
            .chunks(USERS_PER_WRITER)
            .enumerate()
            .map(|(w, users)| tokio::spawn(write(server.channel(), w, users.to_vec())))
            .collect();
        let run_for = rand::rng().random_range(50..400);
        tokio::time::sleep(Duration::from_millis(run_for)).await;
        drop(server); // SIGKILL, then wait for the process to end
        for (w, writer) in writers.into_iter().enumerate() {
            let (users, acked) = writer.await.expect("a writer panicked");
            acked_writes += acked;
            model[w * USERS_PER_WRITER..(w + 1) * USERS_PER_WRITER].copy_from_slice(&users);
        }
        check_killed_store(&dir.path().join("data"), round);
    }
    let server = Binary::start(dir.path(), &[]).await;
    check_against_model(&server.channel(), &mut model, rounds).await;
    assert!(
        acked_writes > 0,
        "no write was acknowledged in {rounds} rounds"
    );
    eprintln!(
        "{rounds} kill -9 rounds: {acked_writes} writes acknowledged, every restart served them \
         all and every check passed"
    );
}

/// Repeats random writes on this writer's own users until the server goes away.
pub async fn write(
    channel: Channel,
    writer: usize,
    mut users: Vec<Tracked>,
) -> (Vec<Tracked>, usize) {
    let mut acked = 0;
    loop {
        let i = rand::rng().random_range(0..users.len());
        let name = format!("w{writer}u{i}");
        let before = users[i].acked;
        let after = next_state(before);
        users[i].in_flight = Some(after);
        match apply(&channel, &name, before, after).await {
            Ok(()) => {
                users[i] = Tracked {
                    acked: after,
                    in_flight: None,
                };
                acked += 1;
            }
            Err(status) if is_server_gone(&status) => return (users, acked),
            Err(status) => panic!("{name}: {before:?} -> {after:?} failed: {status:?}"),
        }
    }
}

fn next_state(state: State) -> State {
    let coin = rand::rng().random_bool(0.5);
    match state {
        State::Absent => State::User,
        State::User if coin => State::Absent,
        State::User => State::Profile {
            reset_required: rand::rng().random_bool(0.5),
        },
        State::Profile { .. } if coin => State::User,
        State::Profile { reset_required } => State::Profile {
            reset_required: !reset_required,
        },
    }
}

/// Sends the one call that moves `name` from `before` to `after`.
async fn apply(channel: &Channel, name: &str, before: State, after: State) -> Result<(), Status> {
    let mut users = UserServiceClient::new(channel.clone());
    let mut profiles = LoginProfileServiceClient::new(channel.clone());
    let user_name = name.to_owned();
    match (before, after) {
        (State::Absent, _) => users
            .create_user(CreateUserRequest {
                user_name,
                path: String::new(),
                ..Default::default()
            })
            .await
            .map(drop),
        (State::User, State::Absent) => users
            .delete_user(DeleteUserRequest { user_name })
            .await
            .map(drop),
        (State::User, State::Profile { reset_required }) => profiles
            .create_login_profile(CreateLoginProfileRequest {
                user_name,
                password: PASSWORD.to_owned(),
                password_reset_required: reset_required,
            })
            .await
            .map(drop),
        (State::Profile { .. }, State::User) => profiles
            .delete_login_profile(DeleteLoginProfileRequest { user_name })
            .await
            .map(drop),
        (State::Profile { .. }, State::Profile { reset_required }) => profiles
            .update_login_profile(UpdateLoginProfileRequest {
                user_name,
                password: None,
                password_reset_required: Some(reset_required),
            })
            .await
            .map(drop),
        (before, after) => unreachable!("no call moves {before:?} to {after:?}"),
    }
}

/// A call that failed because the server died, not because of what it asked: a transport
/// failure, which carries no IAM error details.
fn is_server_gone(status: &Status) -> bool {
    use tonic_types::StatusExt as _;
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Internal
    ) && status.get_error_details().error_info().is_none()
}

/// Every user is in its acknowledged state, or in the state its unanswered call would have
/// made; the model then takes what the server holds.
pub async fn check_against_model(channel: &Channel, model: &mut [Tracked], round: usize) {
    for (n, tracked) in model.iter_mut().enumerate() {
        let name = format!("w{}u{}", n / USERS_PER_WRITER, n % USERS_PER_WRITER);
        let found = read_state(channel, &name).await;
        assert!(
            found == tracked.acked || Some(found) == tracked.in_flight,
            "round {round}: {name} is {found:?}, but {:?} was acknowledged (in flight: {:?})",
            tracked.acked,
            tracked.in_flight
        );
        *tracked = Tracked {
            acked: found,
            in_flight: None,
        };
    }
}

async fn read_state(channel: &Channel, name: &str) -> State {
    let user = UserServiceClient::new(channel.clone())
        .get_user(GetUserRequest {
            user_name: name.to_owned(),
        })
        .await;
    match user {
        Err(status) if status.code() == Code::NotFound => return State::Absent,
        Err(status) => panic!("GetUser {name}: {status:?}"),
        Ok(_) => {}
    }
    let profile = LoginProfileServiceClient::new(channel.clone())
        .get_login_profile(GetLoginProfileRequest {
            user_name: name.to_owned(),
        })
        .await;
    match profile {
        Ok(reply) => State::Profile {
            reset_required: reply
                .into_inner()
                .login_profile
                .expect("a profile in the reply")
                .password_reset_required,
        },
        Err(status) if status.code() == Code::NotFound => State::User,
        Err(status) => panic!("GetLoginProfile {name}: {status:?}"),
    }
}

/// `check` on the killed server's store: every record reads and keeps the invariants, and the
/// store holds every write the mark says was acknowledged.
fn check_killed_store(data: &Path, round: usize) {
    let checked = binary::check(data, &[]);
    assert!(
        checked.status.success(),
        "round {round}: check failed after kill -9:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}
