//! The errors of a Query API request: the HTTP-only ones (size limits, Action and Version), the
//! front door's [`AuthError`] and the domain's [`IamError`], under one type that
//! `query_api::status` maps to the wire.

use crate::{access::AuthError, domain::IamError};

/// A request the Query API refused before any operation ran, for reasons only HTTP has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// An Action this service does not serve, or a wrong Version.
    #[error("{0}")]
    InvalidAction(String),
    /// A request with no Action.
    #[error("{0}")]
    MissingAction(String),
    /// A request body over the size limit.
    #[error("{0}")]
    RequestEntityTooLarge(String),
    /// A URL over the size limit.
    #[error("{0}")]
    RequestUriTooLong(String),
}

impl RequestError {
    /// The IAM error code, as sent in `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidAction(_) => "InvalidAction",
            Self::MissingAction(_) => "MissingAction",
            Self::RequestEntityTooLarge(_) => "RequestEntityTooLarge",
            Self::RequestUriTooLong(_) => "RequestURITooLong",
        }
    }
}

/// Every failure a Query API caller can see.
#[derive(Debug, thiserror::Error)]
pub enum QueryApiError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Iam(#[from] IamError),
}

impl QueryApiError {
    /// The IAM error code, as sent in `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Request(error) => error.code(),
            Self::Auth(error) => error.code(),
            Self::Iam(error) => error.code(),
        }
    }
}
