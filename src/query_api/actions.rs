//! The actions the Query API serves, and the dispatch of each to the domain operation the gRPC
//! adapters call too: parameters in, the children of `<OpResult>` out.

use super::error::RequestError;
use super::{mfa_actions as mfa, params::Params, render, xml::Node};
use crate::{
    access::Caller,
    domain::{
        ChangePassword, CreateLoginProfile, CreateUser, IamError, ListUserTags, ListUsers,
        PasswordPolicyFields, Service, Tag, TagUser, UntagUser, UpdateLoginProfile,
        UpdatePasswordPolicy, UpdateUser, Violations, parse_user_name,
    },
    operation::Operation,
};

/// The only API version served; a missing or empty Version means this one.
pub(super) const VERSION: &str = "2010-05-08";

/// An IAM action this service serves: an operation of the list that the Query API serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Action(Operation);

impl Action {
    /// The action's IAM name, which is also the operation's name.
    pub(super) fn name(self) -> &'static str {
        self.0.name()
    }

    pub(super) fn operation(self) -> Operation {
        self.0
    }

    /// The requested action: MissingAction without one; InvalidAction for an action this
    /// service does not serve or a Version other than 2010-05-08.
    pub(super) fn from_params(params: &Params) -> Result<Self, RequestError> {
        let name = params
            .get("Action")
            .filter(|name| !name.is_empty())
            .ok_or_else(|| RequestError::MissingAction("Missing Action".to_owned()))?;
        let version = params.get("Version").unwrap_or_default();
        match Operation::from_action(name) {
            Some(operation) if version.is_empty() || version == VERSION => Ok(Self(operation)),
            _ => {
                let version = if version.is_empty() { VERSION } else { version };
                Err(RequestError::InvalidAction(format!(
                    "Could not find operation {} for version {}",
                    echoable(name, |c| c.is_ascii_alphanumeric()),
                    echoable(version, |c| c.is_ascii_digit() || c == '-'),
                )))
            }
        }
    }
}

/// The value when it looks like what the parameter should hold; a mistyped request may carry a
/// password anywhere, and error messages never echo one.
fn echoable(value: &str, allowed: impl Fn(char) -> bool) -> &str {
    if !value.is_empty() && value.len() <= 64 && value.chars().all(allowed) {
        value
    } else {
        "(unrecognised)"
    }
}

/// Performs `action` for `caller` (None: an unauthenticated local caller).
pub(super) async fn perform(
    action: Action,
    params: &Params,
    caller: Option<&Caller>,
    service: &Service,
) -> Result<Vec<Node>, IamError> {
    use Operation as Action;
    match action.operation() {
        Action::CreateLoginProfile => {
            let user = user_name_or_callers(params, caller)?;
            let password = params.required("Password", "password")?;
            let reset = params.boolean("PasswordResetRequired", "passwordResetRequired")?;
            let create = CreateLoginProfile::parse(&user, password, reset.unwrap_or(false))?;
            let profile = service.create_login_profile(create).await?;
            Ok(vec![render::login_profile(profile)])
        }
        Action::GetLoginProfile => {
            let user = parse_user_name(&user_name_or_callers(params, caller)?)?;
            let profile = service.get_login_profile(user).await?;
            Ok(vec![render::login_profile(profile)])
        }
        Action::UpdateLoginProfile => {
            let user = params.required("UserName", "userName")?;
            let reset = params.boolean("PasswordResetRequired", "passwordResetRequired")?;
            let update = UpdateLoginProfile::parse(&user, params.string("Password"), reset)?;
            service.update_login_profile(update).await?;
            Ok(Vec::new())
        }
        Action::DeleteLoginProfile => {
            let user = parse_user_name(&user_name_or_callers(params, caller)?)?;
            service.delete_login_profile(user).await?;
            Ok(Vec::new())
        }
        Action::ChangePassword => {
            let user = change_password_user(params, caller)?;
            let old = params.required("OldPassword", "oldPassword")?;
            let new = params.required("NewPassword", "newPassword")?;
            service
                .change_password(ChangePassword::parse(&user, old, new)?.by_the_user())
                .await?;
            Ok(Vec::new())
        }
        Action::CreateUser => {
            let name = params.required("UserName", "userName")?;
            let path = params.get("Path").unwrap_or_default();
            let create = CreateUser::parse(&name, path, tags(params)?)?;
            let user = service.create_user(create).await?;
            Ok(vec![render::user("User", user)])
        }
        Action::GetUser => {
            let user = parse_user_name(&user_name_or_callers(params, caller)?)?;
            Ok(vec![render::user("User", service.get_user(user).await?)])
        }
        Action::DeleteUser => {
            let user = parse_user_name(&params.required("UserName", "userName")?)?;
            service.delete_user(user).await?;
            Ok(Vec::new())
        }
        Action::ListUsers => {
            let max_items = params.integer("MaxItems", "maxItems")?.unwrap_or(0);
            let list = ListUsers::parse(
                params.get("PathPrefix").unwrap_or_default(),
                params.get("Marker").unwrap_or_default(),
                max_items,
            )?;
            Ok(render::user_list(service.list_users(list).await?))
        }
        Action::UpdateUser => {
            let user = params.required("UserName", "userName")?;
            let update =
                UpdateUser::parse(&user, params.get("NewUserName"), params.get("NewPath"))?;
            service.update_user(update).await?;
            Ok(Vec::new())
        }
        Action::TagUser => {
            let user = params.required("UserName", "userName")?;
            service
                .tag_user(TagUser::parse(&user, tags(params)?)?)
                .await?;
            Ok(Vec::new())
        }
        Action::UntagUser => {
            let user = params.required("UserName", "userName")?;
            let keys = params
                .list_members("TagKeys")
                .into_values()
                .flat_map(|parts| parts.into_iter().filter(|(suffix, _)| suffix.is_empty()))
                .map(|(_, key)| key.to_owned())
                .collect();
            service.untag_user(UntagUser::parse(&user, keys)?).await?;
            Ok(Vec::new())
        }
        Action::ListUserTags => {
            let user = params.required("UserName", "userName")?;
            let max_items = params.integer("MaxItems", "maxItems")?.unwrap_or(0);
            let list =
                ListUserTags::parse(&user, params.get("Marker").unwrap_or_default(), max_items)?;
            Ok(render::tag_list(service.list_user_tags(list).await?))
        }
        Action::GetAccountPasswordPolicy => {
            let policy = service.get_account_password_policy().await?;
            Ok(vec![render::password_policy(policy)])
        }
        Action::UpdateAccountPasswordPolicy => {
            let update = UpdatePasswordPolicy::parse(policy_fields(params)?)?;
            service.update_account_password_policy(update).await?;
            Ok(Vec::new())
        }
        Action::DeleteAccountPasswordPolicy => {
            service.delete_account_password_policy().await?;
            Ok(Vec::new())
        }
        Action::CreateVirtualMFADevice => mfa::create(params, service).await,
        Action::EnableMFADevice => mfa::enable(params, service).await,
        Action::ResyncMFADevice => mfa::resync(params, service).await,
        Action::DeactivateMFADevice => mfa::deactivate(params, service).await,
        Action::DeleteVirtualMFADevice => mfa::delete(params, service).await,
        Action::ListMFADevices => mfa::list(params, caller, service).await,
        Action::ListVirtualMFADevices => mfa::list_virtual(params, service).await,
        // `from_params` never yields an operation the Query API does not serve.
        Action::VerifyPassword | Action::ImportLoginProfile => Err(IamError::internal(
            anyhow::anyhow!("{} is not a Query API action", action.operation().name()),
        )),
    }
}

fn non_user_credentials() -> IamError {
    IamError::ValidationMessage(
        "Must specify userName when calling with non-User credentials".to_owned(),
    )
}

/// The UserName parameter, or when it is omitted the user the caller's access key belongs to.
pub(super) fn user_name_or_callers(
    params: &Params,
    caller: Option<&Caller>,
) -> Result<String, IamError> {
    params
        .string("UserName")
        .or_else(|| caller.and_then(|c| c.user.clone()))
        .ok_or_else(non_user_credentials)
}

/// ChangePassword acts on the caller's own user: the access key's user when signed (a UserName
/// parameter is ignored, so no key can change another user's password); an unauthenticated
/// local caller (no tokens file) names the user with UserName.
fn change_password_user(params: &Params, caller: Option<&Caller>) -> Result<String, IamError> {
    match caller {
        Some(caller) => caller.user.clone().ok_or_else(|| {
            IamError::InvalidUserType(
                "ChangePassword must be called with the access key of an IAM user; this key \
                 belongs to no user."
                    .to_owned(),
            )
        }),
        None => params.string("UserName").ok_or_else(non_user_credentials),
    }
}

/// The `Tags` list (`Tags.member.N.Key`, `Tags.member.N.Value`); IAM's Tag requires both.
pub(super) fn tags(params: &Params) -> Result<Vec<Tag>, IamError> {
    let mut violations = Violations::default();
    let mut tags = Vec::new();
    for (i, parts) in params.list_members("Tags").into_values().enumerate() {
        let mut part = |suffix: &str, member: &str| {
            let value = parts.iter().find(|(s, _)| *s == suffix).map(|(_, v)| *v);
            if value.is_none() {
                violations.push(
                    format!("tags.{}.member.{member}", i + 1),
                    "Member must not be null",
                );
            }
            value.unwrap_or_default().to_owned()
        };
        let key = part("Key", "key");
        let value = part("Value", "value");
        tags.push(Tag { key, value });
    }
    violations.into_result()?;
    Ok(tags)
}

fn policy_fields(params: &Params) -> Result<PasswordPolicyFields, IamError> {
    let flag = |name, field| params.boolean(name, field).map(Option::unwrap_or_default);
    Ok(PasswordPolicyFields {
        minimum_password_length: params
            .integer("MinimumPasswordLength", "minimumPasswordLength")?,
        require_symbols: flag("RequireSymbols", "requireSymbols")?,
        require_numbers: flag("RequireNumbers", "requireNumbers")?,
        require_uppercase_characters: flag(
            "RequireUppercaseCharacters",
            "requireUppercaseCharacters",
        )?,
        require_lowercase_characters: flag(
            "RequireLowercaseCharacters",
            "requireLowercaseCharacters",
        )?,
        allow_users_to_change_password: flag(
            "AllowUsersToChangePassword",
            "allowUsersToChangePassword",
        )?,
        max_password_age: params.integer("MaxPasswordAge", "maxPasswordAge")?,
        password_reuse_prevention: params
            .integer("PasswordReusePrevention", "passwordReusePrevention")?,
        hard_expiry: params.boolean("HardExpiry", "hardExpiry")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(query: &str) -> Result<Action, RequestError> {
        Action::from_params(&Params::parse(Some(query), None))
    }

    #[test]
    fn actions_are_found_by_name_with_or_without_a_version() {
        let op = |query: &str| action(query).unwrap().operation();
        assert_eq!(op("Action=GetUser"), Operation::GetUser);
        assert_eq!(
            op("Action=ListUsers&Version=2010-05-08"),
            Operation::ListUsers
        );
        assert_eq!(op("Action=ListUsers&Version="), Operation::ListUsers);
        for &o in Operation::ALL.iter().filter(|o| o.is_query_api_action()) {
            let query = format!("Action={}", o.name());
            assert_eq!(op(&query), o);
        }
        assert_eq!(
            action("Action=VerifyPassword").unwrap_err().code(),
            "InvalidAction"
        );
    }

    #[test]
    fn unknown_or_missing_actions_and_other_versions_are_common_errors() {
        let err = action("Version=2010-05-08").unwrap_err();
        assert_eq!(err.code(), "MissingAction");
        let err = action("Action=CreateAccessKey").unwrap_err();
        assert_eq!(err.code(), "InvalidAction");
        let err = action("Action=GetUser&Version=2011-01-01").unwrap_err();
        assert_eq!(err.code(), "InvalidAction");
        assert_eq!(
            err.to_string(),
            "Could not find operation GetUser for version 2011-01-01"
        );
        let err = action("Action=hunter2!").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
