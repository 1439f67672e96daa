//! The one mapping from a [`QueryApiError`] (the domain's, the front door's and the Query API's
//! own errors) to the HTTP status and fault type, as the DESIGN table and IAM's error models
//! give them.

use http::StatusCode;

use super::error::{QueryApiError, RequestError};
use crate::{access::AuthError, domain::IamError};

/// The HTTP status IAM answers an error with.
pub(super) fn http_status(error: &QueryApiError) -> StatusCode {
    match error {
        QueryApiError::Request(error) => request_status(error),
        QueryApiError::Auth(error) => auth_status(error),
        QueryApiError::Iam(error) => iam_status(error),
    }
}

fn request_status(error: &RequestError) -> StatusCode {
    match error {
        RequestError::InvalidAction(_) | RequestError::MissingAction(_) => StatusCode::BAD_REQUEST,
        RequestError::RequestEntityTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        RequestError::RequestUriTooLong(_) => StatusCode::URI_TOO_LONG,
    }
}

fn auth_status(error: &AuthError) -> StatusCode {
    match error {
        AuthError::RequestExpired(_) | AuthError::IncompleteSignature(_) => StatusCode::BAD_REQUEST,
        AuthError::MissingAuthenticationToken(_)
        | AuthError::InvalidClientTokenId(_)
        | AuthError::SignatureDoesNotMatch(_)
        | AuthError::AccessDenied(_) => StatusCode::FORBIDDEN,
    }
}

fn iam_status(error: &IamError) -> StatusCode {
    match error {
        IamError::Validation(_)
        | IamError::ValidationMessage(_)
        | IamError::PasswordPolicyViolation(_)
        | IamError::PasswordScreened(_)
        | IamError::InvalidInput(_)
        | IamError::InvalidUserType(_)
        | IamError::Throttling { .. } => StatusCode::BAD_REQUEST,
        IamError::NoSuchEntity(_) => StatusCode::NOT_FOUND,
        IamError::EntityAlreadyExists(_)
        | IamError::DeleteConflict(_)
        | IamError::LimitExceeded(_) => StatusCode::CONFLICT,
        IamError::InvalidCredentials
        | IamError::AccessDenied(_)
        | IamError::InvalidAuthenticationCode => StatusCode::FORBIDDEN,
        IamError::Internal(_) | IamError::MfaKeysMissing => StatusCode::INTERNAL_SERVER_ERROR,
        IamError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// `Receiver` for the service's own failures (5xx), `Sender` for everything else.
pub(super) fn fault(status: StatusCode) -> &'static str {
    if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_design_table() {
        let cases: [(QueryApiError, u16); 14] = [
            (IamError::no_such_user("x").into(), 404),
            (IamError::EntityAlreadyExists(String::new()).into(), 409),
            (IamError::DeleteConflict(String::new()).into(), 409),
            (IamError::LimitExceeded(String::new()).into(), 409),
            (IamError::InvalidInput(String::new()).into(), 400),
            (IamError::PasswordPolicyViolation(String::new()).into(), 400),
            (IamError::InvalidCredentials.into(), 403),
            (IamError::InvalidUserType(String::new()).into(), 400),
            (AuthError::SignatureDoesNotMatch(String::new()).into(), 403),
            (AuthError::RequestExpired(String::new()).into(), 400),
            (
                RequestError::RequestEntityTooLarge(String::new()).into(),
                413,
            ),
            (RequestError::RequestUriTooLong(String::new()).into(), 414),
            (IamError::internal(anyhow::anyhow!("disk")).into(), 500),
            (
                IamError::from(anyhow::anyhow!("refused").context(crate::store::Unavailable))
                    .into(),
                503,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(http_status(&error).as_u16(), status, "{error:?}");
        }
        assert_eq!(fault(StatusCode::INTERNAL_SERVER_ERROR), "Receiver");
        assert_eq!(fault(StatusCode::NOT_FOUND), "Sender");
    }
}
