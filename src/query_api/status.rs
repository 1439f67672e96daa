//! The one mapping from [`IamError`] to the Query API's HTTP status and fault type, as the
//! DESIGN table and IAM's error models give them.

use http::StatusCode;

use crate::domain::IamError;

/// The HTTP status IAM answers an error with.
pub(super) fn http_status(error: &IamError) -> StatusCode {
    match error {
        IamError::Validation(_)
        | IamError::ValidationMessage(_)
        | IamError::PasswordPolicyViolation(_)
        | IamError::InvalidInput(_)
        | IamError::InvalidUserType(_)
        | IamError::Throttling { .. }
        | IamError::RequestExpired(_)
        | IamError::IncompleteSignature(_)
        | IamError::InvalidAction(_)
        | IamError::MissingAction(_) => StatusCode::BAD_REQUEST,
        IamError::NoSuchEntity(_) => StatusCode::NOT_FOUND,
        IamError::EntityAlreadyExists(_)
        | IamError::DeleteConflict(_)
        | IamError::LimitExceeded(_) => StatusCode::CONFLICT,
        IamError::InvalidCredentials
        | IamError::AccessDenied(_)
        | IamError::MissingAuthenticationToken(_)
        | IamError::InvalidClientTokenId(_)
        | IamError::SignatureDoesNotMatch(_) => StatusCode::FORBIDDEN,
        IamError::RequestEntityTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        IamError::RequestUriTooLong(_) => StatusCode::URI_TOO_LONG,
        IamError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        let cases = [
            (IamError::no_such_user("x"), 404),
            (IamError::EntityAlreadyExists(String::new()), 409),
            (IamError::DeleteConflict(String::new()), 409),
            (IamError::LimitExceeded(String::new()), 409),
            (IamError::InvalidInput(String::new()), 400),
            (IamError::PasswordPolicyViolation(String::new()), 400),
            (IamError::InvalidCredentials, 403),
            (IamError::InvalidUserType(String::new()), 400),
            (IamError::SignatureDoesNotMatch(String::new()), 403),
            (IamError::RequestExpired(String::new()), 400),
            (IamError::RequestEntityTooLarge(String::new()), 413),
            (IamError::RequestUriTooLong(String::new()), 414),
            (IamError::internal(anyhow::anyhow!("disk")), 500),
        ];
        for (error, status) in cases {
            assert_eq!(http_status(&error).as_u16(), status, "{error:?}");
        }
        assert_eq!(fault(StatusCode::INTERNAL_SERVER_ERROR), "Receiver");
        assert_eq!(fault(StatusCode::NOT_FOUND), "Sender");
    }
}
