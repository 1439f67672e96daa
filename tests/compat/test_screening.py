"""Screening over the Query API, with the real aws CLI and boto3: common passwords and the user
name are refused on all three ways a password is set, with DESIGN's messages."""

import pytest

from conftest import BOB, BOB_KEY, client
from helpers import PASSWORD, reset_bob

BLOCKLIST = ("The password is too common or has appeared in a data breach. Choose a different "
             "password: several unrelated words are easy to remember and hard to guess.")
CONTEXT = ("The password must not be based on the user name or the account ID. Choose a "
           "different password.")


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_boto3_gets_the_screening_refusals(iam, keyed, name):
    iam.create_user(UserName=name)
    for password, message in [("Password1", BLOCKLIST), ("Qwerty123", BLOCKLIST),
                              (f"{name}2024!", CONTEXT)]:
        with pytest.raises(iam.exceptions.PasswordPolicyViolationException) as e:
            iam.create_login_profile(UserName=name, Password=password)
        assert error_of(e) == ("PasswordPolicyViolation", message, 400)
    iam.create_login_profile(UserName=name, Password=PASSWORD)
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException) as e:
        iam.update_login_profile(UserName=name, Password="Welcome1")
    assert error_of(e) == ("PasswordPolicyViolation", BLOCKLIST, 400)

    reset_bob(client(keyed))
    bob = client(keyed, key=BOB_KEY)
    with pytest.raises(bob.exceptions.PasswordPolicyViolationException) as e:
        bob.change_password(OldPassword=PASSWORD, NewPassword="Passw0rd")
    assert error_of(e) == ("PasswordPolicyViolation", BLOCKLIST, 400)
    bob.change_password(OldPassword=PASSWORD, NewPassword="Ferret-Quilt-Anvil-9")
    reset_bob(client(keyed))


def test_the_aws_cli_gets_the_screening_refusals(cli, name):
    cli.ok("iam", "create-user", "--user-name", name)
    cli.fails("PasswordPolicyViolation", BLOCKLIST,
              "iam", "create-login-profile", "--user-name", name, "--password", "Welcome1")
    cli.fails("PasswordPolicyViolation", CONTEXT,
              "iam", "create-login-profile", "--user-name", name, "--password", f"!{name.upper()}99")
    cli.ok("iam", "create-login-profile", "--user-name", name, "--password", PASSWORD)
    cli.fails("PasswordPolicyViolation", BLOCKLIST,
              "iam", "update-login-profile", "--user-name", name, "--password", "Passw0rd")
