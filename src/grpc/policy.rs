//! AccountPasswordPolicyService: adapters over the domain's policy operations.

use tonic::{Request, Response, Status};

use super::proto::{self, account_password_policy_service_server::AccountPasswordPolicyService};
use crate::domain::{PasswordPolicyFields, Service, UpdatePasswordPolicy};

/// Serves AccountPasswordPolicyService.
#[derive(Debug, Clone)]
pub struct PasswordPolicyApi(pub Service);

#[tonic::async_trait]
impl AccountPasswordPolicyService for PasswordPolicyApi {
    async fn get_account_password_policy(
        &self,
        _request: Request<proto::GetAccountPasswordPolicyRequest>,
    ) -> Result<Response<proto::GetAccountPasswordPolicyResponse>, Status> {
        let policy = self.0.get_account_password_policy().await?;
        Ok(Response::new(proto::GetAccountPasswordPolicyResponse {
            password_policy: Some(policy.into()),
        }))
    }

    async fn update_account_password_policy(
        &self,
        request: Request<proto::UpdateAccountPasswordPolicyRequest>,
    ) -> Result<Response<proto::UpdateAccountPasswordPolicyResponse>, Status> {
        let r = request.into_inner();
        let fields = PasswordPolicyFields {
            minimum_password_length: r.minimum_password_length,
            require_symbols: r.require_symbols,
            require_numbers: r.require_numbers,
            require_uppercase_characters: r.require_uppercase_characters,
            require_lowercase_characters: r.require_lowercase_characters,
            allow_users_to_change_password: r.allow_users_to_change_password,
            max_password_age: r.max_password_age,
            password_reuse_prevention: r.password_reuse_prevention,
            hard_expiry: r.hard_expiry,
        };
        self.0
            .update_account_password_policy(UpdatePasswordPolicy::parse(fields)?)
            .await?;
        Ok(Response::new(proto::UpdateAccountPasswordPolicyResponse {}))
    }

    async fn delete_account_password_policy(
        &self,
        _request: Request<proto::DeleteAccountPasswordPolicyRequest>,
    ) -> Result<Response<proto::DeleteAccountPasswordPolicyResponse>, Status> {
        self.0.delete_account_password_policy().await?;
        Ok(Response::new(proto::DeleteAccountPasswordPolicyResponse {}))
    }
}
