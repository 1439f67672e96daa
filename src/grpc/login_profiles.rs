//! LoginProfileService: adapters over the domain's login-profile and sign-in operations.

use tonic::{Request, Response, Status};

use super::{
    convert::timestamp,
    proto::{self, login_profile_service_server::LoginProfileService},
};
use crate::domain::{
    ChangePassword, CreateLoginProfile, ImportLoginProfile, Service, UpdateLoginProfile, Verdict,
    VerifyPassword, parse_user_name,
};

/// Serves LoginProfileService.
#[derive(Debug, Clone)]
pub struct LoginProfileApi(pub Service);

#[tonic::async_trait]
impl LoginProfileService for LoginProfileApi {
    async fn create_login_profile(
        &self,
        request: Request<proto::CreateLoginProfileRequest>,
    ) -> Result<Response<proto::CreateLoginProfileResponse>, Status> {
        let r = request.into_inner();
        let create =
            CreateLoginProfile::parse(&r.user_name, r.password, r.password_reset_required)?;
        let profile = self.0.create_login_profile(create).await?;
        Ok(Response::new(proto::CreateLoginProfileResponse {
            login_profile: Some(profile.into()),
        }))
    }

    async fn import_login_profile(
        &self,
        request: Request<proto::ImportLoginProfileRequest>,
    ) -> Result<Response<proto::ImportLoginProfileResponse>, Status> {
        let r = request.into_inner();
        let import =
            ImportLoginProfile::parse(&r.user_name, r.password_hash, r.password_reset_required)?;
        let profile = self.0.import_login_profile(import).await?;
        Ok(Response::new(proto::ImportLoginProfileResponse {
            login_profile: Some(profile.into()),
        }))
    }

    async fn get_login_profile(
        &self,
        request: Request<proto::GetLoginProfileRequest>,
    ) -> Result<Response<proto::GetLoginProfileResponse>, Status> {
        let profile = self
            .0
            .get_login_profile(parse_user_name(&request.into_inner().user_name)?)
            .await?;
        Ok(Response::new(proto::GetLoginProfileResponse {
            login_profile: Some(profile.into()),
        }))
    }

    async fn update_login_profile(
        &self,
        request: Request<proto::UpdateLoginProfileRequest>,
    ) -> Result<Response<proto::UpdateLoginProfileResponse>, Status> {
        let r = request.into_inner();
        let update =
            UpdateLoginProfile::parse(&r.user_name, r.password, r.password_reset_required)?;
        self.0.update_login_profile(update).await?;
        Ok(Response::new(proto::UpdateLoginProfileResponse {}))
    }

    async fn delete_login_profile(
        &self,
        request: Request<proto::DeleteLoginProfileRequest>,
    ) -> Result<Response<proto::DeleteLoginProfileResponse>, Status> {
        self.0
            .delete_login_profile(parse_user_name(&request.into_inner().user_name)?)
            .await?;
        Ok(Response::new(proto::DeleteLoginProfileResponse {}))
    }

    async fn change_password(
        &self,
        request: Request<proto::ChangePasswordRequest>,
    ) -> Result<Response<proto::ChangePasswordResponse>, Status> {
        let r = request.into_inner();
        let change = ChangePassword::parse(&r.user_name, r.old_password, r.new_password)?;
        self.0.change_password(change).await?;
        Ok(Response::new(proto::ChangePasswordResponse {}))
    }

    async fn verify_password(
        &self,
        request: Request<proto::VerifyPasswordRequest>,
    ) -> Result<Response<proto::VerifyPasswordResponse>, Status> {
        let r = request.into_inner();
        let verdict = self
            .0
            .verify_password(VerifyPassword::parse(
                &r.user_name,
                r.password,
                r.mfa_code.as_deref(),
            )?)
            .await?;
        Ok(Response::new(verdict.into()))
    }
}

impl From<Verdict> for proto::VerifyPasswordResponse {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Ok {
                password_reset_required,
                password_expired,
                password_expires_at,
            } => Self {
                result: proto::VerifyResult::Ok.into(),
                password_reset_required,
                password_expired,
                password_expires_at: password_expires_at.map(timestamp),
                retry_after: None,
            },
            // A wrong code answers as a wrong password does.
            Verdict::InvalidCredentials | Verdict::InvalidMfaCode => Self {
                result: proto::VerifyResult::InvalidCredentials.into(),
                ..Self::default()
            },
            Verdict::MfaRequired => Self {
                result: proto::VerifyResult::MfaRequired.into(),
                ..Self::default()
            },
            Verdict::Locked { retry_after } => Self {
                result: proto::VerifyResult::Locked.into(),
                retry_after: prost_types::Duration::try_from(retry_after).ok(),
                ..Self::default()
            },
        }
    }
}
