"""Shared steps of the compatibility tests."""

from conftest import BOB

PASSWORD = "Correct horse 1!"


def reset_bob(iam, password=PASSWORD, reset_required=False):
    """Makes user Bob (the user of Bob's access key) exist with a login profile and `password`."""
    try:
        iam.create_user(UserName=BOB)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    try:
        iam.delete_login_profile(UserName=BOB)
    except iam.exceptions.NoSuchEntityException:
        pass
    iam.create_login_profile(UserName=BOB, Password=password, PasswordResetRequired=reset_required)
