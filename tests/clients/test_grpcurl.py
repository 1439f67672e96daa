"""The real grpcurl 1.8.6, over a Unix socket (it sends the socket path as :authority) and over
TCP: list, describe, a call, and errors with their details decoded through reflection."""

import concurrent.futures
import json

from conftest import Server, grpcurl

SERVICES = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "iam.loginprofile.v1.AccountPasswordPolicyService",
    "iam.loginprofile.v1.LoginProfileService",
    "iam.loginprofile.v1.MFADeviceService",
    "iam.loginprofile.v1.UserService",
]


def call(server, method, body=None):
    data = ["-d", json.dumps(body)] if body is not None else []
    return grpcurl("-plaintext", *data, *server.grpcurl_address, method)


def error_details(printed):
    """The decoded details grpcurl prints under `Details:` ({"@type": ...} per line)."""
    return [json.loads(line.split("\t", 1)[1]) for line in printed.splitlines()
            if line.startswith("  ") and ")\t{" in line]


def test_list_names_every_service(server):
    code, printed = grpcurl("-plaintext", *server.grpcurl_address, "list")
    assert code == 0, printed
    assert printed.splitlines() == SERVICES


def test_describe_shows_the_methods_of_a_service(server):
    code, printed = grpcurl("-plaintext", *server.grpcurl_address,
                            "describe", "iam.loginprofile.v1.UserService")
    assert code == 0, printed
    assert printed.startswith("iam.loginprofile.v1.UserService is a service:"), printed
    for method in ("CreateUser", "GetUser", "DeleteUser", "ListUsers"):
        assert f"rpc {method} ( .iam.loginprofile.v1.{method}Request )" in printed, printed


def test_a_call_answers_in_json(server, name):
    code, printed = call(server, "iam.loginprofile.v1.UserService/CreateUser",
                         {"user_name": name, "path": "/grpcurl/"})
    assert code == 0, printed
    user = json.loads(printed)["user"]
    assert user["userName"] == name
    assert user["arn"] == f"arn:aws:iam::123456789012:user/grpcurl/{name}"
    assert set(user) == {"userName", "userId", "arn", "path", "createDate"}


def test_an_error_prints_its_code_message_and_decoded_error_info(server):
    code, printed = call(server, "iam.loginprofile.v1.LoginProfileService/GetLoginProfile",
                         {"user_name": "nobody"})
    assert code != 0
    assert "  Code: NotFound\n  Message: The user with name nobody cannot be found.\n" in printed
    assert error_details(printed) == [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "domain": "iam.loginprofile.v1",
        "reason": "NoSuchEntity",
    }], printed


def test_invalid_input_prints_decoded_bad_request_field_violations(server):
    code, printed = call(server, "iam.loginprofile.v1.UserService/CreateUser",
                         {"user_name": "", "path": "no-slashes"})
    assert code != 0
    assert "  Code: InvalidArgument\n  Message: 2 validation errors detected: " in printed
    details = {d["@type"].rsplit(".", 1)[1]: d for d in error_details(printed)}
    assert details["ErrorInfo"]["reason"] == "ValidationError", printed
    fields = [v["field"] for v in details["BadRequest"]["fieldViolations"]]
    assert fields == ["userName", "path"], printed


def test_throttling_prints_decoded_retry_info():
    # One hashing thread, no queue and slow hashes: of concurrent sign-ins, all but the one
    # being hashed are refused at once with Throttling and RetryInfo.
    server = Server("unix", "--hash-concurrency", "1", "--hash-queue", "0",
                    argon2_memory_kib=65536, argon2_iterations=16)
    try:
        assert call(server, "iam.loginprofile.v1.UserService/CreateUser", {"user_name": "t"})[0] == 0
        body = {"user_name": "t", "password": "Str0ng!Passw0rd"}
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(
                lambda _: call(server, "iam.loginprofile.v1.LoginProfileService/VerifyPassword", body),
                range(4)))
    finally:
        server.stop()
    throttled = [printed for code, printed in answers if "Code: ResourceExhausted" in printed]
    assert throttled, answers
    details = {d["@type"].rsplit(".", 1)[1]: d for d in error_details(throttled[0])}
    assert details["ErrorInfo"]["reason"] == "Throttling", throttled[0]
    assert details["RetryInfo"]["retryDelay"].endswith("s"), throttled[0]
