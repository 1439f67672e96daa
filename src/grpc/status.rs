//! The one mapping from [`IamError`] and the auth layer's [`AuthError`] to a gRPC `Status`: the
//! gRPC code of the DESIGN table, the IAM message, and `ErrorInfo` (plus `BadRequest` /
//! `RetryInfo`) in the details.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt as _};

use crate::{access::AuthError, domain::IamError};

/// The `ErrorInfo.domain` of every error.
pub const ERROR_DOMAIN: &str = "iam.loginprofile.v1";

/// The gRPC code of an IAM error.
pub fn code(error: &IamError) -> Code {
    match error {
        IamError::Validation(_)
        | IamError::ValidationMessage(_)
        | IamError::PasswordPolicyViolation(_)
        | IamError::PasswordScreened(_)
        | IamError::InvalidInput(_) => Code::InvalidArgument,
        IamError::LimitExceeded(_) => Code::ResourceExhausted,
        IamError::NoSuchEntity(_) => Code::NotFound,
        IamError::EntityAlreadyExists(_) => Code::AlreadyExists,
        IamError::DeleteConflict(_) | IamError::InvalidUserType(_) => Code::FailedPrecondition,
        IamError::InvalidCredentials
        | IamError::AccessDenied(_)
        | IamError::InvalidAuthenticationCode => Code::PermissionDenied,
        IamError::Throttling { .. } => Code::ResourceExhausted,
        IamError::Internal(_) | IamError::MfaKeysMissing => Code::Internal,
        IamError::Unavailable(_) => Code::Unavailable,
    }
}

/// The gRPC code of a refusal by the auth layer.
pub fn auth_code(error: &AuthError) -> Code {
    match error {
        AuthError::MissingAuthenticationToken(_)
        | AuthError::InvalidClientTokenId(_)
        | AuthError::SignatureDoesNotMatch(_)
        | AuthError::IncompleteSignature(_)
        | AuthError::RequestExpired(_) => Code::Unauthenticated,
        AuthError::AccessDenied(_) => Code::PermissionDenied,
    }
}

impl From<AuthError> for Status {
    fn from(error: AuthError) -> Self {
        let details = ErrorDetails::with_error_info(error.code(), ERROR_DOMAIN, []);
        Status::with_error_details(auth_code(&error), error.to_string(), details)
    }
}

impl From<IamError> for Status {
    fn from(error: IamError) -> Self {
        if let Some(cause) = error.fault() {
            let call = crate::call::CallRecord::current();
            let request_id = call.as_ref().map_or("-", |c| c.request_id.as_str());
            tracing::error!(error = format!("{cause:#}"), request_id, "request failed");
        }
        let metadata = match &error {
            IamError::PasswordScreened(rule) => {
                std::collections::HashMap::from([("rule".to_owned(), rule.name().to_owned())])
            }
            _ => std::collections::HashMap::new(),
        };
        let mut details = ErrorDetails::with_error_info(error.code(), ERROR_DOMAIN, metadata);
        match &error {
            IamError::Validation(violations) => details.set_bad_request(
                violations
                    .iter()
                    .map(|v| FieldViolation::new(v.field.clone(), v.constraint.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => &mut details,
        };
        if let Some(retry_after) = error.retry_after() {
            details.set_retry_info(Some(retry_after));
        }
        Status::with_error_details(code(&error), error.to_string(), details)
    }
}
