//! A closed-loop gRPC load generator: `concurrency` callers spread over `connections` HTTP/2
//! connections, each sending its next call as soon as the last one answered, for a fixed time.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use loginprofiled::grpc::proto::{
    self, login_profile_service_client::LoginProfileServiceClient,
    mfa_device_service_client::MfaDeviceServiceClient, user_service_client::UserServiceClient,
};
use rand::Rng as _;
use serde::Serialize;
use tonic::{
    Code, Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};
use tonic_types::StatusExt as _;

/// The password every bench user has (it satisfies the default IAM policy).
pub(crate) const PASSWORD: &str = "Bench-password-1";
/// A password no bench user has.
pub(crate) const WRONG_PASSWORD: &str = "Bench-password-2";

/// One connection's clients of the services the bench drives.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) profiles: LoginProfileServiceClient<InterceptedService<Channel, Bearer>>,
    pub(crate) users: UserServiceClient<InterceptedService<Channel, Bearer>>,
    pub(crate) devices: MfaDeviceServiceClient<InterceptedService<Channel, Bearer>>,
}

/// Sends `authorization: Bearer <token>` on every call, when there is a token.
#[derive(Debug, Clone)]
pub(crate) struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// How hard to drive a target.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Shape {
    pub(crate) concurrency: usize,
    pub(crate) connections: usize,
    #[serde(with = "secs")]
    pub(crate) duration: Duration,
}

/// The call each caller repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Op {
    /// GetLoginProfile of a random user with a profile.
    Get,
    /// CreateLoginProfile for the next user without one.
    Create,
    /// UpdateLoginProfile with a new password for a random user.
    Update,
    /// VerifyPassword with the right password for a random user.
    Verify,
    /// VerifyPassword with a wrong password for a random user (lockout off): the stored hash
    /// stays as it is, so an imported one is verified on every call.
    VerifyWrong,
    /// CreateUser of a new name: no hashing, so the store's write path sets the pace.
    CreateUser,
}

/// Which users the calls name: `u0..profiles` have profiles, `c0..creatable` have none, and
/// `n0, n1, ...` do not exist yet.
#[derive(Debug)]
pub(crate) struct Users {
    pub(crate) profiles: usize,
    pub(crate) creatable: usize,
    next_creatable: AtomicUsize,
    next_new: AtomicUsize,
}

impl Users {
    pub(crate) fn new(profiles: usize, creatable: usize) -> Self {
        Self {
            profiles,
            creatable,
            next_creatable: AtomicUsize::new(0),
            next_new: AtomicUsize::new(0),
        }
    }

    fn random(&self) -> String {
        format!("u{}", rand::rng().random_range(0..self.profiles))
    }

    fn fresh(&self) -> String {
        let next = self.next_creatable.fetch_add(1, Ordering::Relaxed);
        format!("c{}", next % self.creatable.max(1))
    }

    fn new_name(&self) -> String {
        format!("n{}", self.next_new.fetch_add(1, Ordering::Relaxed))
    }
}

/// What one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Measured {
    pub(crate) ok: u64,
    pub(crate) throttled: u64,
    pub(crate) other_errors: u64,
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p90_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

/// Drives `op` against `addr` with `token` as bearer (if any) and returns the figures.
pub(crate) async fn drive(
    addr: SocketAddr,
    token: Option<&str>,
    op: Op,
    users: Arc<Users>,
    shape: Shape,
) -> anyhow::Result<Measured> {
    let clients = connect(addr, token, shape.connections).await?;
    drive_over(&clients, op, users, shape).await
}

/// Runs `shape.concurrency` callers for `shape.duration`, caller `i` on `clients[i % len]`.
pub(crate) async fn drive_over(
    clients: &[Client],
    op: Op,
    users: Arc<Users>,
    shape: Shape,
) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let until = started + shape.duration;
    let callers: Vec<_> = (0..shape.concurrency)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            tokio::spawn(caller(client, op, users.clone(), until))
        })
        .collect();
    let mut tally = Tally::default();
    for caller in callers {
        tally.merge(caller.await?);
    }
    Ok(tally.finish(started.elapsed()))
}

/// Opens `connections` connections, each a client that sends the bearer token.
pub(crate) async fn connect(
    addr: SocketAddr,
    token: Option<&str>,
    connections: usize,
) -> anyhow::Result<Vec<Client>> {
    let header: Option<MetadataValue<_>> =
        token.map(|t| format!("Bearer {t}").parse()).transpose()?;
    let mut clients = Vec::new();
    for _ in 0..connections.max(1) {
        let channel = Endpoint::from_shared(format!("http://{addr}"))?
            .tcp_nodelay(true)
            .connect()
            .await?;
        clients.push(Client {
            profiles: LoginProfileServiceClient::with_interceptor(
                channel.clone(),
                Bearer(header.clone()),
            ),
            users: UserServiceClient::with_interceptor(channel.clone(), Bearer(header.clone())),
            devices: MfaDeviceServiceClient::with_interceptor(channel, Bearer(header.clone())),
        });
    }
    Ok(clients)
}

async fn caller(mut client: Client, op: Op, users: Arc<Users>, until: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let sent = Instant::now();
        let outcome = call(&mut client, op, &users).await;
        tally.record(sent.elapsed(), outcome);
    }
    tally
}

/// Sends one call of kind `op`.
pub(crate) async fn call(client: &mut Client, op: Op, users: &Users) -> Result<(), Status> {
    match op {
        Op::Get => client
            .profiles
            .get_login_profile(proto::GetLoginProfileRequest {
                user_name: users.random(),
            })
            .await
            .map(drop),
        Op::Create => client
            .profiles
            .create_login_profile(proto::CreateLoginProfileRequest {
                user_name: users.fresh(),
                password: PASSWORD.to_owned(),
                password_reset_required: false,
            })
            .await
            .map(drop),
        Op::Update => client
            .profiles
            .update_login_profile(proto::UpdateLoginProfileRequest {
                user_name: users.random(),
                password: Some(PASSWORD.to_owned()),
                password_reset_required: None,
            })
            .await
            .map(drop),
        Op::VerifyWrong => {
            let reply = client
                .profiles
                .verify_password(proto::VerifyPasswordRequest {
                    mfa_code: None,
                    user_name: users.random(),
                    password: WRONG_PASSWORD.to_owned(),
                })
                .await?;
            match reply.into_inner().result() {
                proto::VerifyResult::InvalidCredentials => Ok(()),
                other => Err(Status::internal(format!("verify answered {other:?}"))),
            }
        }
        Op::Verify => {
            let reply = client
                .profiles
                .verify_password(proto::VerifyPasswordRequest {
                    mfa_code: None,
                    user_name: users.random(),
                    password: PASSWORD.to_owned(),
                })
                .await?;
            match reply.into_inner().result() {
                proto::VerifyResult::Ok => Ok(()),
                other => Err(Status::internal(format!("verify answered {other:?}"))),
            }
        }
        Op::CreateUser => client
            .users
            .create_user(proto::CreateUserRequest {
                user_name: users.new_name(),
                path: String::new(),
                tags: Vec::new(),
            })
            .await
            .map(drop),
    }
}

/// Whether a status is the service shedding load (RESOURCE_EXHAUSTED, reason Throttling).
pub(crate) fn is_throttling(status: &Status) -> bool {
    status.code() == Code::ResourceExhausted
        && status
            .get_error_details()
            .error_info()
            .is_some_and(|info| info.reason == "Throttling")
}

/// Per-caller counts and latencies, merged at the end.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    ok: u64,
    throttled: u64,
    other_errors: u64,
    latencies_us: Vec<u32>,
}

impl Tally {
    pub(crate) fn record(&mut self, latency: Duration, outcome: Result<(), Status>) {
        match outcome {
            Ok(()) => self.ok += 1,
            Err(status) if is_throttling(&status) => self.throttled += 1,
            Err(_) => self.other_errors += 1,
        }
        let us = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.latencies_us.push(us);
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.throttled += other.throttled;
        self.other_errors += other.other_errors;
        self.latencies_us.extend(other.latencies_us);
    }

    pub(crate) fn finish(mut self, elapsed: Duration) -> Measured {
        self.latencies_us.sort_unstable();
        let at = |q: f64| -> f64 {
            let Some(last) = self.latencies_us.len().checked_sub(1) else {
                return 0.0;
            };
            let index = ((last as f64) * q).round() as usize;
            f64::from(self.latencies_us[index]) / 1000.0
        };
        Measured {
            ok: self.ok,
            throttled: self.throttled,
            other_errors: self.other_errors,
            rps: self.ok as f64 / elapsed.as_secs_f64(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

mod secs {
    use std::time::Duration;

    pub(crate) fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
