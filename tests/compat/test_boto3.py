"""boto3 against loginprofiled's Query API: modelled exceptions, statuses, SigV4 variants."""

import datetime
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ADMIN_KEY, BOB, BOB_KEY, READ_KEY, SECRET, client
from helpers import PASSWORD, reset_bob


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_lifecycle_with_modelled_exceptions(iam, name):
    user = iam.create_user(UserName=name)["User"]
    assert user["Path"] == "/"
    assert user["CreateDate"].tzinfo is not None
    profile = iam.create_login_profile(UserName=name, Password=PASSWORD)["LoginProfile"]
    assert profile == {
        "UserName": name,
        "CreateDate": profile["CreateDate"],
        "PasswordResetRequired": False,
    }
    iam.update_login_profile(UserName=name, Password="Another one 2!", PasswordResetRequired=True)
    assert iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"] is True

    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    assert error_of(e) == ("EntityAlreadyExists", f"Login Profile for user {name} already exists.", 409)
    with pytest.raises(iam.exceptions.DeleteConflictException) as e:
        iam.delete_user(UserName=name)
    assert error_of(e)[2] == 409
    with pytest.raises(iam.exceptions.PasswordPolicyViolationException) as e:
        iam.update_login_profile(UserName=name, Password="alllowercase")
    assert error_of(e)[0::2] == ("PasswordPolicyViolation", 400)
    assert "alllowercase" not in error_of(e)[1]

    iam.delete_login_profile(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.delete_login_profile(UserName=name)
    assert error_of(e) == ("NoSuchEntity", f"Login Profile for User {name} cannot be found.", 404)
    iam.delete_user(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_user(UserName=name)
    assert error_of(e) == ("NoSuchEntity", f"The user with name {name} cannot be found.", 404)
    assert e.value.response["ResponseMetadata"]["RequestId"]


def test_list_users_paginates(iam, name):
    names = [f"{name}-{i}" for i in range(5)]
    for n in names:
        iam.create_user(UserName=n, Path="/pager/")
    seen = []
    for page in iam.get_paginator("list_users").paginate(PathPrefix="/pager/", PaginationConfig={"PageSize": 2}):
        seen += [u["UserName"] for u in page["Users"]]
    assert seen == names
    for n in names:
        iam.delete_user(UserName=n)


def test_change_password_is_for_the_keys_own_user(keyed, iam):
    reset_bob(iam)
    bob = client(keyed, BOB_KEY)
    with pytest.raises(ClientError) as e:
        bob.change_password(OldPassword="Wrong pass 1!", NewPassword="New pass 33!")
    assert error_of(e) == ("InvalidCredentials", "The old password is incorrect.", 403)
    bob.change_password(OldPassword=PASSWORD, NewPassword="New pass 33!")
    assert bob.get_user()["User"]["UserName"] == BOB
    with pytest.raises(iam.exceptions.InvalidUserTypeException) as e:
        iam.change_password(OldPassword="New pass 33!", NewPassword="New pass 44!")
    assert error_of(e)[0::2] == ("InvalidUserType", 400)
    with pytest.raises(ClientError) as e:
        iam.get_login_profile()
    assert error_of(e) == (
        "ValidationError", "Must specify userName when calling with non-User credentials", 400,
    )


def test_password_policy_fields_and_not_found(iam):
    try:
        iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True)
        policy = iam.get_account_password_policy()["PasswordPolicy"]
        assert policy["MinimumPasswordLength"] == 12
        assert policy["RequireNumbers"] is True
        assert "MaxPasswordAge" not in policy and "HardExpiry" not in policy
    finally:
        iam.delete_account_password_policy()
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_account_password_policy()
    assert error_of(e)[2] == 404


def test_signature_failures_and_scopes(keyed):
    with pytest.raises(ClientError) as e:
        client(keyed, ADMIN_KEY, "wrong-secret").list_users()
    assert error_of(e)[0::2] == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as e:
        client(keyed, "AKIANOBODY0000000000").list_users()
    assert error_of(e) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    reader = client(keyed, READ_KEY, region="ap-southeast-2")
    reader.list_users()
    with pytest.raises(ClientError) as e:
        reader.delete_user(UserName="anyone")
    assert error_of(e)[0::2] == ("AccessDenied", 403)


def signed(keyed, body, when, headers=None, send_body=None):
    """A POST of `body` signed by botocore at `when`, with `headers` added before signing;
    `send_body` replaces the body after signing."""
    request = AWSRequest(
        method="POST", url=keyed.url + "/", data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})},
    )
    with mock.patch.object(botocore.auth.datetime, "datetime", wraps=datetime.datetime) as dt:
        dt.utcnow.return_value = when.replace(tzinfo=None)
        dt.now.return_value = when
        botocore.auth.SigV4Auth(Credentials(ADMIN_KEY, SECRET), "iam", "us-east-1").add_auth(request)
    sent = (send_body if send_body is not None else body).encode()
    return urllib.request.Request(request.url, data=sent, headers=dict(request.headers), method="POST")


def fetch(request):
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_more_than_fifteen_minutes_of_skew_is_request_expired(keyed):
    now = datetime.datetime.now(datetime.timezone.utc)
    status, body = fetch(signed(keyed, "Action=ListUsers&Version=2010-05-08", now - datetime.timedelta(minutes=20)))
    assert status == 400 and "<Code>RequestExpired</Code>" in body, body
    status, body = fetch(signed(keyed, "Action=ListUsers&Version=2010-05-08", now - datetime.timedelta(minutes=5)))
    assert status == 200, body


def test_botocore_signing_with_the_date_header_is_accepted(keyed, name):
    # botocore signs with the Date header (RFC 2822, "-0000") instead of X-Amz-Date when the
    # request already has one.
    now = datetime.datetime.now(datetime.timezone.utc)
    request = signed(keyed, f"Action=CreateUser&UserName={name}", now, headers={"Date": "x"})
    headers = {k.lower(): v for k, v in request.header_items()}
    assert "x-amz-date" not in headers and headers["date"].endswith(" -0000"), headers
    assert "date;" in headers["authorization"], headers
    status, body = fetch(request)
    assert status == 200, body
    client(keyed).delete_user(UserName=name)
    stale = signed(keyed, "Action=ListUsers", now - datetime.timedelta(minutes=20), headers={"Date": "x"})
    status, body = fetch(stale)
    assert status == 400 and "<Code>RequestExpired</Code>" in body, body


def test_an_unsigned_payload_is_refused_so_a_swapped_body_never_runs(keyed, iam, name):
    now = datetime.datetime.now(datetime.timezone.utc)
    unsigned = {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    for sent in [f"Action=CreateUser&UserName={name}", "Action=ListUsers"]:
        request = signed(keyed, "Action=ListUsers", now, headers=unsigned, send_body=sent)
        status, body = fetch(request)
        assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, body
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=name)


def test_session_credentials_are_an_invalid_security_token(keyed):
    iam = boto3.client(
        "iam", endpoint_url=keyed.url, region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY, aws_secret_access_key=SECRET, aws_session_token="FwoGZXIvYXdzEJr//////////x",
    )
    with pytest.raises(ClientError) as e:
        iam.list_users()
    assert error_of(e) == ("InvalidClientTokenId", "The security token included in the request is invalid.", 403)
    url = iam.generate_presigned_url("list_users", Params={}, ExpiresIn=60, HttpMethod="GET")
    assert "X-Amz-Security-Token=" in url
    status, body = fetch(urllib.request.Request(url))
    assert status == 403 and "<Code>InvalidClientTokenId</Code>" in body, body


def test_presigned_urls_work_with_the_method_they_were_signed_for(keyed):
    iam = client(keyed)
    url = iam.generate_presigned_url(
        "list_users", Params={"PathPrefix": "/"}, ExpiresIn=60, HttpMethod="GET"
    )
    status, body = fetch(urllib.request.Request(url))
    assert status == 200, body
    assert "<ListUsersResult>" in body
    # botocore presigns query-protocol operations as POST by default (body moved to the URL).
    url = iam.generate_presigned_url("list_users", ExpiresIn=60)
    status, body = fetch(urllib.request.Request(url, data=b"", method="POST"))
    assert status == 200, body
    status, body = fetch(urllib.request.Request(url, method="GET"))
    assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in body, body


def test_common_errors_for_actions_and_versions(open_server):
    cases = [
        ("/?Version=2010-05-08", "MissingAction"),
        ("/?Action=AttachUserPolicy", "InvalidAction"),
        ("/?Action=ListUsers&Version=2099-01-01", "InvalidAction"),
    ]
    for target, code in cases:
        status, body = fetch(urllib.request.Request(open_server.url + target))
        assert status == 400 and f"<Code>{code}</Code>" in body, (target, body)
