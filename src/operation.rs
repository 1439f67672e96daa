//! The one list of the service's operations. Each line names an operation once, with the gRPC
//! service that serves it, whether the Query API serves it as an action, the scopes besides
//! `admin` that allow it, and the audit event it writes. The gRPC auth layer, the Query API's
//! action parsing and dispatch, scopes, metric labels and the audit trail all read this list,
//! so adding an operation is one line here (plus its adapter and its action arm, which the
//! compiler asks for).

use serde::Deserialize;

/// The package of the gRPC services.
pub const PACKAGE: &str = "iam.loginprofile.v1";

/// A right a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every operation.
    Admin,
    /// What a sign-in service needs: VerifyPassword, ChangePassword and reads of one user.
    Signin,
    /// Reads: GetLoginProfile, GetUser, ListUsers, ListUserTags, GetAccountPasswordPolicy,
    /// ListMFADevices, ListVirtualMFADevices.
    Read,
}

impl Scope {
    /// Whether this scope allows the operation (the operation list says which do).
    pub fn permits(self, operation: Operation) -> bool {
        operation.allowed_by(self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "admin",
            Scope::Signin => "signin",
            Scope::Read => "read",
        }
    }
}

/// A gRPC service of the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcService {
    LoginProfileService,
    UserService,
    AccountPasswordPolicyService,
    MFADeviceService,
}

impl GrpcService {
    pub const ALL: [GrpcService; 4] = [
        GrpcService::LoginProfileService,
        GrpcService::UserService,
        GrpcService::AccountPasswordPolicyService,
        GrpcService::MFADeviceService,
    ];

    /// The fully qualified name, as health, reflection and the metrics' `grpc_service` name it.
    pub const fn full_name(self) -> &'static str {
        match self {
            GrpcService::LoginProfileService => "iam.loginprofile.v1.LoginProfileService",
            GrpcService::UserService => "iam.loginprofile.v1.UserService",
            GrpcService::AccountPasswordPolicyService => {
                "iam.loginprofile.v1.AccountPasswordPolicyService"
            }
            GrpcService::MFADeviceService => "iam.loginprofile.v1.MFADeviceService",
        }
    }
}

/// What the audit trail writes for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audit {
    /// A read: no audit line.
    No,
    /// A change of identity or credentials: this event, with the call's outcome.
    Change(&'static str),
    /// A sign-in: `sign_in_succeeded`, `sign_in_failed` or `sign_in_locked` by its outcome.
    SignIn,
}

macro_rules! operations {
    ($(
        $op:ident: $service:ident, query_api: $query:literal, scopes: [$($scope:ident),*],
            audit: $audit:expr;
    )*) => {
        /// An operation of the service, on either transport.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($op),* }

        impl Operation {
            /// Every operation, in the list's order.
            pub const ALL: &[Operation] = &[$(Operation::$op),*];

            /// The gRPC method name, which is also the IAM action name and the metric label.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }

            /// The gRPC service that serves it.
            pub fn grpc_service(self) -> GrpcService {
                match self { $(Operation::$op => GrpcService::$service),* }
            }

            /// Whether the Query API serves it as an action.
            pub fn is_query_api_action(self) -> bool {
                match self { $(Operation::$op => $query),* }
            }

            /// Whether `scope` allows it (`admin` allows everything).
            pub fn allowed_by(self, scope: Scope) -> bool {
                scope == Scope::Admin
                    || match self { $(Operation::$op => [$(Scope::$scope),*].contains(&scope)),* }
            }

            /// What the audit trail writes for it.
            pub fn audit(self) -> Audit {
                match self { $(Operation::$op => $audit),* }
            }
        }
    };
}

operations! {
    CreateLoginProfile: LoginProfileService, query_api: true, scopes: [],
        audit: Audit::Change("profile_created");
    GetLoginProfile: LoginProfileService, query_api: true, scopes: [Signin, Read],
        audit: Audit::No;
    UpdateLoginProfile: LoginProfileService, query_api: true, scopes: [],
        audit: Audit::Change("profile_updated");
    DeleteLoginProfile: LoginProfileService, query_api: true, scopes: [],
        audit: Audit::Change("profile_deleted");
    ChangePassword: LoginProfileService, query_api: true, scopes: [Signin],
        audit: Audit::Change("password_changed");
    VerifyPassword: LoginProfileService, query_api: false, scopes: [Signin],
        audit: Audit::SignIn;
    ImportLoginProfile: LoginProfileService, query_api: false, scopes: [],
        audit: Audit::Change("profile_imported");
    CreateUser: UserService, query_api: true, scopes: [],
        audit: Audit::Change("user_created");
    GetUser: UserService, query_api: true, scopes: [Signin, Read],
        audit: Audit::No;
    DeleteUser: UserService, query_api: true, scopes: [],
        audit: Audit::Change("user_deleted");
    ListUsers: UserService, query_api: true, scopes: [Read],
        audit: Audit::No;
    UpdateUser: UserService, query_api: true, scopes: [],
        audit: Audit::Change("user_updated");
    TagUser: UserService, query_api: true, scopes: [],
        audit: Audit::Change("user_updated");
    UntagUser: UserService, query_api: true, scopes: [],
        audit: Audit::Change("user_updated");
    ListUserTags: UserService, query_api: true, scopes: [Read],
        audit: Audit::No;
    GetAccountPasswordPolicy: AccountPasswordPolicyService, query_api: true,
        scopes: [Signin, Read], audit: Audit::No;
    UpdateAccountPasswordPolicy: AccountPasswordPolicyService, query_api: true, scopes: [],
        audit: Audit::Change("policy_updated");
    DeleteAccountPasswordPolicy: AccountPasswordPolicyService, query_api: true, scopes: [],
        audit: Audit::Change("policy_deleted");
    CreateVirtualMFADevice: MFADeviceService, query_api: true, scopes: [],
        audit: Audit::Change("mfa_device_created");
    EnableMFADevice: MFADeviceService, query_api: true, scopes: [],
        audit: Audit::Change("mfa_device_enabled");
    ResyncMFADevice: MFADeviceService, query_api: true, scopes: [],
        audit: Audit::Change("mfa_device_resynced");
    DeactivateMFADevice: MFADeviceService, query_api: true, scopes: [],
        audit: Audit::Change("mfa_device_deactivated");
    DeleteVirtualMFADevice: MFADeviceService, query_api: true, scopes: [],
        audit: Audit::Change("mfa_device_deleted");
    ListMFADevices: MFADeviceService, query_api: true, scopes: [Read],
        audit: Audit::No;
    ListVirtualMFADevices: MFADeviceService, query_api: true, scopes: [Read],
        audit: Audit::No;
}

/// The label metrics and logs use for a gRPC method or Query API action that is not in the
/// list, so that callers cannot grow the label set.
pub const UNKNOWN: &str = "unknown";

impl Operation {
    /// The operation a gRPC request path (`/package.Service/Method`) calls, if any.
    pub fn from_grpc_path(path: &str) -> Option<Self> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        Self::ALL
            .iter()
            .copied()
            .find(|op| op.name() == method && op.grpc_service().full_name() == service)
    }

    /// The Query API action of this name, if the Query API serves one.
    pub fn from_action(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|op| op.is_query_api_action() && op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    /// The methods the proto file declares for the package's services, as (service, method).
    fn proto_methods() -> Vec<(String, String)> {
        let set = prost_types::FileDescriptorSet::decode(crate::grpc::proto::FILE_DESCRIPTOR_SET)
            .unwrap();
        let mut methods = Vec::new();
        for file in set.file {
            let package = file.package().to_owned();
            for service in file.service {
                let name = format!("{package}.{}", service.name());
                for method in service.method {
                    methods.push((name.clone(), method.name().to_owned()));
                }
            }
        }
        methods
    }

    #[test]
    fn the_list_holds_exactly_the_methods_the_proto_declares() {
        let mut listed: Vec<_> = Operation::ALL
            .iter()
            .map(|op| {
                (
                    op.grpc_service().full_name().to_owned(),
                    op.name().to_owned(),
                )
            })
            .collect();
        let mut declared = proto_methods();
        listed.sort();
        declared.sort();
        assert_eq!(listed, declared);
        for service in GrpcService::ALL {
            assert!(service.full_name().starts_with(PACKAGE));
        }
    }

    #[test]
    fn grpc_paths_and_actions_name_their_operation() {
        assert_eq!(
            Operation::from_grpc_path("/iam.loginprofile.v1.UserService/GetUser"),
            Some(Operation::GetUser)
        );
        // The method under another service is not the operation.
        assert_eq!(
            Operation::from_grpc_path("/iam.loginprofile.v1.LoginProfileService/GetUser"),
            None
        );
        assert_eq!(
            Operation::from_grpc_path("/grpc.health.v1.Health/Check"),
            None
        );
        assert_eq!(Operation::from_action("GetUser"), Some(Operation::GetUser));
        // VerifyPassword is gRPC only.
        assert_eq!(Operation::from_action("VerifyPassword"), None);
        assert_eq!(
            Operation::ALL
                .iter()
                .filter(|op| op.is_query_api_action())
                .count(),
            23
        );
    }

    #[test]
    fn every_change_is_audited_and_no_read_is() {
        for op in Operation::ALL {
            let read = ["Get", "List"].iter().any(|p| op.name().starts_with(p));
            assert_eq!(op.audit() == Audit::No, read, "{op:?}");
        }
    }
}
