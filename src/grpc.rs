//! The gRPC face of the service: its front door (the access-log and auth layers), generated
//! code, and thin adapters that turn a request into a domain call and its result into a
//! response or a `Status`.

pub mod access_log;
pub mod auth;
mod convert;
mod login_profiles;
mod mfa_devices;
mod policy;
pub mod status;
mod users;

pub use login_profiles::LoginProfileApi;
pub use mfa_devices::MfaDeviceApi;
pub use policy::PasswordPolicyApi;
pub use users::UserApi;

/// The generated messages, clients and servers of `iam.loginprofile.v1`.
pub mod proto {
    #![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
    tonic::include_proto!("iam.loginprofile.v1");

    /// The descriptor set that server reflection serves.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("loginprofile_descriptor");
}

/// The fully qualified names of the services, for health and logging.
pub const SERVICE_NAMES: [&str; GrpcService::ALL.len()] = [
    GrpcService::LoginProfileService.full_name(),
    GrpcService::UserService.full_name(),
    GrpcService::AccountPasswordPolicyService.full_name(),
    GrpcService::MFADeviceService.full_name(),
];

use crate::operation::GrpcService;
