//! The audit trail's hook in the operations: a change writes its line after it is settled and
//! before its reply; a sign-in writes its outcome. See `crate::audit`.

use std::future::Future;

use super::{IamError, Service, UserName, Verdict};
use crate::{
    meter,
    operation::{Audit, Operation},
};

impl Service {
    /// Runs `work`, an operation on `user`, and writes its audit line (outcome `Success` or the
    /// IAM code). Refused before `work` starts when the trail has failed; a line that cannot be
    /// written fails the call.
    pub(super) async fn audited<T>(
        &self,
        operation: Operation,
        user: Option<&UserName>,
        work: impl Future<Output = Result<T, IamError>>,
    ) -> Result<T, IamError> {
        self.audited_on(operation, user, None, work).await
    }

    /// [`Service::audited`] for a change of an MFA device, whose line also names the device by
    /// serial number.
    pub(super) async fn audited_on<T>(
        &self,
        operation: Operation,
        user: Option<&UserName>,
        serial_number: Option<&str>,
        work: impl Future<Output = Result<T, IamError>>,
    ) -> Result<T, IamError> {
        let Audit::Change(event) = operation.audit() else {
            return work.await;
        };
        self.audit.ready()?;
        let result = work.await;
        let outcome = result.as_ref().map_or_else(IamError::code, |_| "Success");
        self.audit.write_line(
            operation,
            event,
            user.map(UserName::as_str),
            serial_number,
            outcome,
        )?;
        result
    }

    /// Writes the audit line and counts the outcome of a VerifyPassword.
    pub(super) fn signed_in(
        &self,
        user: &UserName,
        result: Result<Verdict, IamError>,
    ) -> Result<Verdict, IamError> {
        let (event, outcome, counted) = match &result {
            Ok(Verdict::Ok { .. }) => ("sign_in_succeeded", "Success", "ok"),
            Ok(Verdict::InvalidCredentials) => (
                "sign_in_failed",
                "InvalidCredentials",
                "invalid_credentials",
            ),
            Ok(Verdict::Locked { .. }) => ("sign_in_locked", "Locked", "locked"),
            Ok(Verdict::MfaRequired) => ("sign_in_mfa_required", "MfaRequired", "mfa_required"),
            Ok(Verdict::InvalidMfaCode) => (
                "sign_in_failed",
                "InvalidAuthenticationCode",
                "invalid_credentials",
            ),
            Err(IamError::Throttling { .. }) => ("sign_in_failed", "Throttling", "throttled"),
            Err(error) => ("sign_in_failed", error.code(), "error"),
        };
        meter::verify(counted);
        self.audit.write(
            Operation::VerifyPassword,
            event,
            Some(user.as_str()),
            outcome,
        )?;
        result
    }
}
