//! Why a front door refused a caller before any operation ran: authentication (bearer token,
//! client certificate or SigV4 signature) and the scope check. Both transports produce it, and
//! each maps it to its wire in its one status module.

/// A caller the front door refused. Variants are the IAM error codes; the message of each is
/// the IAM message, and never contains a token, a key or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all: no bearer token, no SigV4 `Authorization` header or query.
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// A token or access key that the tokens file does not know, or more than one.
    #[error("{0}")]
    InvalidClientTokenId(String),
    /// A SigV4 signature that does not match the request.
    #[error("{0}")]
    SignatureDoesNotMatch(String),
    /// A SigV4 signature made too long ago, in the future, or past its presigned expiry.
    #[error("{0}")]
    RequestExpired(String),
    /// A SigV4 `Authorization` header or presigned query that lacks a required part.
    #[error("{0}")]
    IncompleteSignature(String),
    /// An authenticated caller whose scopes do not allow the operation.
    #[error("{0}")]
    AccessDenied(String),
}

impl AuthError {
    /// The IAM error code, as sent in `ErrorInfo.reason` and the Query API's `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken(_) => "MissingAuthenticationToken",
            Self::InvalidClientTokenId(_) => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::RequestExpired(_) => "RequestExpired",
            Self::IncompleteSignature(_) => "IncompleteSignature",
            Self::AccessDenied(_) => "AccessDenied",
        }
    }
}
