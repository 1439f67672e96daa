//! Domain values as the elements IAM's response shapes name, in the model's member order.
//! Optional members are omitted rather than sent empty.

use super::xml::Node;
use crate::domain::{LoginProfile, PasswordPolicy, Tag, TagList, User, UserList};

/// `<LoginProfile>`; IAM always includes `PasswordResetRequired`, even when false.
pub(super) fn login_profile(profile: LoginProfile) -> Node {
    Node::Parent(
        "LoginProfile",
        vec![
            Node::text("UserName", profile.user_name),
            Node::date("CreateDate", profile.create_date),
            Node::boolean("PasswordResetRequired", profile.password_reset_required),
        ],
    )
}

/// The members of a `User`, under `element` (`User`, or `member` inside a list).
pub(super) fn user(element: &'static str, user: User) -> Node {
    let mut members = vec![
        Node::text("Path", user.path),
        Node::text("UserName", user.user_name),
        Node::text("UserId", user.user_id),
        Node::text("Arn", user.arn),
        Node::date("CreateDate", user.create_date),
    ];
    if let Some(last_used) = user.password_last_used {
        members.push(Node::date("PasswordLastUsed", last_used));
    }
    if !user.tags.is_empty() {
        members.push(tags(user.tags));
    }
    Node::Parent(element, members)
}

/// `<Tags>` with a `<member>` of `Key` and `Value` per tag.
pub(super) fn tags(tags: Vec<Tag>) -> Node {
    let members = tags
        .into_iter()
        .map(|t| {
            Node::Parent(
                "member",
                vec![Node::text("Key", t.key), Node::text("Value", t.value)],
            )
        })
        .collect();
    Node::Parent("Tags", members)
}

/// The children of `<ListUserTagsResult>`: `Tags` (present even when empty), `IsTruncated`,
/// and `Marker` when more follow.
pub(super) fn tag_list(list: TagList) -> Vec<Node> {
    let mut nodes = vec![
        tags(list.tags),
        Node::boolean("IsTruncated", list.marker.is_some()),
    ];
    if let Some(marker) = list.marker {
        nodes.push(Node::text("Marker", marker));
    }
    nodes
}

/// The children of `<ListUsersResult>`: `Users`, `IsTruncated`, and `Marker` when more follow.
pub(super) fn user_list(list: UserList) -> Vec<Node> {
    let users = list.users.into_iter().map(|u| user("member", u)).collect();
    let mut nodes = vec![
        Node::Parent("Users", users),
        Node::boolean("IsTruncated", list.marker.is_some()),
    ];
    if let Some(marker) = list.marker {
        nodes.push(Node::text("Marker", marker));
    }
    nodes
}

/// `<PasswordPolicy>`: the seven unboxed members always, the three boxed ones when set.
pub(super) fn password_policy(policy: PasswordPolicy) -> Node {
    let mut members = vec![
        Node::number("MinimumPasswordLength", policy.minimum_password_length),
        Node::boolean("RequireSymbols", policy.require_symbols),
        Node::boolean("RequireNumbers", policy.require_numbers),
        Node::boolean(
            "RequireUppercaseCharacters",
            policy.require_uppercase_characters,
        ),
        Node::boolean(
            "RequireLowercaseCharacters",
            policy.require_lowercase_characters,
        ),
        Node::boolean(
            "AllowUsersToChangePassword",
            policy.allow_users_to_change_password,
        ),
        Node::boolean("ExpirePasswords", policy.expire_passwords()),
    ];
    if let Some(age) = policy.max_password_age {
        members.push(Node::number("MaxPasswordAge", age));
    }
    if let Some(reuse) = policy.password_reuse_prevention {
        members.push(Node::number("PasswordReusePrevention", reuse));
    }
    if let Some(hard) = policy.hard_expiry {
        members.push(Node::boolean("HardExpiry", hard));
    }
    Node::Parent("PasswordPolicy", members)
}
