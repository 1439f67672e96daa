"""The real aws CLI, v1 (PyPI) and v2 (Debian), against loginprofiled's Query API."""

import json

from conftest import BOB_KEY, READ_KEY, SECRET, client
from helpers import PASSWORD, reset_bob


def test_user_and_login_profile_lifecycle(cli, name):
    user = cli.ok("iam", "create-user", "--user-name", name, "--path", "/eng/")["User"]
    assert user["UserName"] == name
    assert user["Arn"] == f"arn:aws:iam::123456789012:user/eng/{name}"
    assert user["UserId"].startswith("AIDA")
    assert user["CreateDate"].endswith(("Z", "+00:00"))
    assert cli.ok("iam", "get-user", "--user-name", name)["User"]["Path"] == "/eng/"
    listed = cli.ok("iam", "list-users", "--path-prefix", "/eng/")["Users"]
    assert name in [u["UserName"] for u in listed]

    profile = cli.ok(
        "iam", "create-login-profile", "--user-name", name,
        "--password", PASSWORD, "--password-reset-required",
    )["LoginProfile"]
    assert profile["UserName"] == name
    assert profile["PasswordResetRequired"] is True
    assert PASSWORD not in json.dumps(profile)

    assert cli.ok(
        "iam", "update-login-profile", "--user-name", name, "--no-password-reset-required"
    ) == {}
    got = cli.ok("iam", "get-login-profile", "--user-name", name)["LoginProfile"]
    assert got["PasswordResetRequired"] is False
    assert got["CreateDate"] == profile["CreateDate"]

    cli.fails(
        "DeleteConflict", "Cannot delete entity, must delete login profile first.",
        "iam", "delete-user", "--user-name", name,
    )
    assert cli.ok("iam", "delete-login-profile", "--user-name", name) == {}
    cli.fails(
        "NoSuchEntity", f"Login Profile for User {name} cannot be found.",
        "iam", "get-login-profile", "--user-name", name,
    )
    assert cli.ok("iam", "delete-user", "--user-name", name) == {}
    cli.fails(
        "NoSuchEntity", f"The user with name {name} cannot be found.",
        "iam", "get-user", "--user-name", name,
    )


def test_error_codes_and_messages(cli, name):
    cli.fails(
        "NoSuchEntity", f"The user with name {name} cannot be found.",
        "iam", "create-login-profile", "--user-name", name, "--password", PASSWORD,
    )
    cli.ok("iam", "create-user", "--user-name", name)
    cli.fails(
        "EntityAlreadyExists", f"User with name {name.upper()} already exists.",
        "iam", "create-user", "--user-name", name.upper(),
    )
    cli.fails(
        "PasswordPolicyViolation", "Password should have a minimum length of 8",
        "iam", "create-login-profile", "--user-name", name, "--password", "Ab1!",
    )
    cli.ok("iam", "create-login-profile", "--user-name", name, "--password", PASSWORD)
    cli.fails(
        "EntityAlreadyExists", f"Login Profile for user {name} already exists.",
        "iam", "create-login-profile", "--user-name", name, "--password", PASSWORD,
    )
    cli.fails(
        "ValidationError",
        "1 validation error detected: Value at 'userName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64",
        "iam", "get-user", "--user-name", "x" * 65,
    )
    if cli.model_allows_omitted_user_name:
        cli.fails(
            "ValidationError", "Must specify userName when calling with non-User credentials",
            "iam", "get-login-profile",
        )
    cli.fails(
        "InvalidUserType", None,
        "iam", "change-password", "--old-password", PASSWORD, "--new-password", "Other pass 2!",
    )
    cli.ok("iam", "delete-login-profile", "--user-name", name)
    cli.ok("iam", "delete-user", "--user-name", name)


def test_change_password_with_the_users_own_key(cli, keyed):
    reset_bob(client(keyed), reset_required=True)
    cli.key = BOB_KEY
    cli.fails(
        "InvalidCredentials", "The old password is incorrect.",
        "iam", "change-password", "--old-password", "Wrong pass 1!", "--new-password", "New pass 22!",
    )
    cli.fails(
        "PasswordPolicyViolation", None,
        "iam", "change-password", "--old-password", PASSWORD, "--new-password", PASSWORD,
    )
    assert cli.ok(
        "iam", "change-password", "--old-password", PASSWORD, "--new-password", "New pass 22!"
    ) == {}
    # An omitted user name means the key's own user.
    if cli.model_allows_omitted_user_name:
        profile = cli.ok("iam", "get-login-profile")["LoginProfile"]
    else:
        profile = cli.ok("iam", "get-login-profile", "--user-name", "Bob")["LoginProfile"]
    assert profile["PasswordResetRequired"] is False
    assert cli.ok("iam", "get-user")["User"]["UserName"] == "Bob"


def test_session_credentials_are_refused_as_an_invalid_security_token(cli):
    cli.session_token = "FwoGZXIvYXdzEJr//////////x"
    cli.fails(
        "InvalidClientTokenId", "The security token included in the request is invalid.",
        "iam", "list-users",
    )


def test_account_password_policy(cli):
    try:
        assert cli.ok("iam", "update-account-password-policy") == {}
        policy = cli.ok("iam", "get-account-password-policy")["PasswordPolicy"]
        assert policy == {
            "AllowUsersToChangePassword": False,
            "ExpirePasswords": False,
            "MinimumPasswordLength": 6,
            "RequireLowercaseCharacters": False,
            "RequireNumbers": False,
            "RequireSymbols": False,
            "RequireUppercaseCharacters": False,
        }
        cli.ok(
            "iam", "update-account-password-policy", "--minimum-password-length", "10",
            "--require-symbols", "--max-password-age", "60", "--password-reuse-prevention", "3",
            "--hard-expiry",
        )
        policy = cli.ok("iam", "get-account-password-policy")["PasswordPolicy"]
        assert policy["MaxPasswordAge"] == 60
        assert policy["PasswordReusePrevention"] == 3
        assert policy["HardExpiry"] is True
        assert policy["ExpirePasswords"] is True
        cli.fails(
            "ValidationError",
            "3 validation errors detected: Value at 'minimumPasswordLength' failed to satisfy "
            "constraint: Member must have value less than or equal to 128; Value at "
            "'passwordReusePrevention' failed to satisfy constraint: Member must have value less "
            "than or equal to 24; Value at 'maxPasswordAge' failed to satisfy constraint: Member "
            "must have value less than or equal to 1095",
            "iam", "update-account-password-policy", "--minimum-password-length", "129",
            "--password-reuse-prevention", "25", "--max-password-age", "1096",
        )
    finally:
        cli.run("iam", "delete-account-password-policy")
    cli.fails(
        "NoSuchEntity", "The Password Policy with domain name 123456789012 cannot be found.",
        "iam", "get-account-password-policy",
    )
    cli.fails(
        "NoSuchEntity", "The account policy with name PasswordPolicy cannot be found.",
        "iam", "delete-account-password-policy",
    )


def test_cli_input_json_and_generate_cli_skeleton(cli, name):
    skeleton = cli.run("iam", "create-login-profile", "--generate-cli-skeleton", endpoint=False)
    assert skeleton.returncode == 0, skeleton.stderr
    assert {"UserName", "Password", "PasswordResetRequired"} <= set(json.loads(skeleton.stdout))

    cli.ok("iam", "create-user", "--cli-input-json", json.dumps({"UserName": name}))
    request = {"UserName": name, "Password": PASSWORD, "PasswordResetRequired": True}
    profile = cli.ok("iam", "create-login-profile", "--cli-input-json", json.dumps(request))
    assert profile["LoginProfile"]["PasswordResetRequired"] is True
    cli.ok("iam", "delete-login-profile", "--user-name", name)
    cli.ok("iam", "delete-user", "--user-name", name)


def test_authentication_and_scope_failures(cli):
    cli.secret = "not-the-secret"
    cli.fails("SignatureDoesNotMatch", None, "iam", "list-users")
    cli.key, cli.secret = "AKIAUNKNOWN000000000", "x"
    cli.fails(
        "InvalidClientTokenId", "The security token included in the request is invalid.",
        "iam", "list-users",
    )
    cli.fails("MissingAuthenticationToken", None, "iam", "list-users", "--no-sign-request")
    cli.key, cli.secret = READ_KEY, SECRET
    assert "Users" in cli.ok("iam", "list-users")
    cli.fails("AccessDenied", None, "iam", "create-user", "--user-name", "nope")
