"""The seed's plain GET form with curl, against a local server with no tokens file."""

import subprocess

from helpers import PASSWORD


def curl(*args):
    result = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_seed_get_form(open_server, name):
    base = open_server.url
    status, body = curl(f"{base}/?Action=CreateUser&UserName={name}")
    assert status == 200, body
    status, body = curl(
        f"{base}/?Action=CreateLoginProfile&UserName={name}"
        "&Password=Correct+horse%201!&PasswordResetRequired=true"
    )
    assert status == 200, body
    assert "<PasswordResetRequired>true</PasswordResetRequired>" in body
    assert "horse" not in body
    # `+` and `%20` decode alike: the password set above is "Correct horse 1!".
    assert PASSWORD == "Correct horse 1!"
    status, body = curl(
        "-X", "POST", "--data",
        f"Action=ChangePassword&UserName={name}&OldPassword=Correct%20horse+1!&NewPassword=New+pass+1!",
        f"{base}/",
    )
    assert status == 200, body
    status, body = curl(f"{base}/?Action=GetLoginProfile&UserName={name}")
    assert status == 200 and "<PasswordResetRequired>false</PasswordResetRequired>" in body, body
    status, body = curl("-i", f"{base}/?Action=GetLoginProfile&UserName=nobody-{name}")
    assert status == 404, body
    assert "content-type: text/xml" in body.lower() and "x-amzn-requestid:" in body.lower()
    assert f"<Message>The user with name nobody-{name} cannot be found.</Message>" in body


def test_curl_aws_sigv4(keyed):
    status, body = curl(
        "--aws-sigv4", "aws:amz:us-east-1:iam", "--user", "AKIAADMINEXAMPLE0001:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        f"{keyed.url}/?Action=ListUsers&Version=2010-05-08",
    )
    assert status == 200, body
    assert "<ListUsersResponse" in body


def test_size_limits(open_server):
    status, body = curl(f"{open_server.url}/?Action=ListUsers&Pad={'x' * 17000}")
    assert status == 414 and "<Code>RequestURITooLong</Code>" in body, body
    status, body = curl("-X", "POST", "--data-binary", "Action=ListUsers&Pad=" + "x" * 70000, f"{open_server.url}/")
    assert status == 413 and "<Code>RequestEntityTooLarge</Code>" in body, body
    status, body = curl(f"{open_server.url}/?Action=ListUsers")
    assert status == 200, body
