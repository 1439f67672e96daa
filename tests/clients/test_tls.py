"""TLS and mutual TLS with real clients: grpcurl 1.8.6 with -cacert (and -cert/-key), grpcio
with ssl_channel_credentials; clients that cannot complete a handshake fail alone while the
server keeps serving; certificate callers from the tokens file; the plaintext health port."""

import hashlib
import json
import time

import grpc
import pytest

from conftest import Server, free_port, grpcurl
from pki import Pki, read
from test_grpcurl import SERVICES

SIGNIN_SPIFFE = "spiffe://cluster.local/ns/app/sa/signin"
ADMIN_TOKEN = "lpd_clients-test-admin-token"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def tls_server(pki):
    server = Server("tcp", "--tls-cert", pki.server_cert, "--tls-key", pki.server_key)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mtls_server(pki, tmp_path_factory):
    """Mutual TLS, a tokens file naming the signin certificate (scope read) and an admin bearer
    token, and the plaintext health port."""
    tokens = tmp_path_factory.mktemp("tokens") / "tokens.toml"
    tokens.write_text(
        "[[token]]\nname = \"ops\"\n"
        f"sha256 = \"{hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()}\"\nscopes = [\"admin\"]\n"
        f"[[certificate]]\nname = \"signin-frontend\"\nsubject = \"{SIGNIN_SPIFFE}\"\n"
        "scopes = [\"read\"]\n")
    health = f"127.0.0.1:{free_port()}"
    server = Server("tcp", "--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                    "--tls-client-ca", pki.ca, "--tokens-file", str(tokens),
                    "--health-listen", health)
    server.health_addr = health
    yield server
    server.stop()


def test_grpcurl_with_the_ca_lists_every_service_over_tls(tls_server, pki):
    code, printed = grpcurl("-cacert", pki.ca, tls_server.addr, "list")
    assert code == 0, printed
    assert printed.splitlines() == SERVICES


def test_grpcurl_refuses_a_server_it_cannot_verify(tls_server):
    code, printed = grpcurl(tls_server.addr, "list")
    assert code != 0
    assert "certificate signed by unknown authority" in printed, printed


def test_plaintext_grpcurl_on_the_tls_port_fails_and_the_server_keeps_serving(tls_server, pki):
    code, printed = grpcurl("-plaintext", "-max-time", "5", tls_server.addr, "list")
    assert code != 0, printed
    code, printed = grpcurl("-cacert", pki.ca, tls_server.addr, "list")
    assert code == 0, printed


def test_grpcurl_under_mutual_tls_calls_with_its_certificate_scopes(mtls_server, pki):
    cert, key = pki.client("signin", SIGNIN_SPIFFE)
    mtls = ["-cacert", pki.ca, "-cert", cert, "-key", key, mtls_server.addr]
    code, printed = grpcurl(*mtls, "iam.loginprofile.v1.UserService/ListUsers")
    assert code == 0, printed
    code, printed = grpcurl("-d", '{"user_name":"Bob"}', *mtls,
                            "iam.loginprofile.v1.UserService/CreateUser")
    assert code != 0
    assert "  Code: PermissionDenied\n" in printed, printed
    assert "Caller signin-frontend is not authorized to perform CreateUser." in printed, printed
    # The access log names the certificate caller, on the refused call too.
    # Lines reach the file from the server's log-writer thread: poll for it, briefly.
    deadline = time.monotonic() + 5
    while True:
        denied = [line for line in mtls_server.logs().splitlines()
                  if "grpc call" in line and 'method="CreateUser"' in line]
        if denied or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert denied and 'caller="signin-frontend"' in denied[-1], mtls_server.logs()
    assert ' code=PermissionDenied ' in denied[-1], denied


def test_grpcurl_without_a_client_certificate_fails_under_mutual_tls_and_the_server_keeps_serving(
        mtls_server, pki):
    code, printed = grpcurl("-cacert", pki.ca, "-max-time", "5", mtls_server.addr, "list")
    assert code != 0, printed
    cert, key = pki.client("signin", SIGNIN_SPIFFE)
    code, printed = grpcurl("-cacert", pki.ca, "-cert", cert, "-key", key,
                            mtls_server.addr, "grpc.health.v1.Health/Check")
    assert code == 0 and json.loads(printed) == {"status": "SERVING"}, printed


def test_the_health_port_answers_plaintext_probes_and_nothing_else(mtls_server, pb):
    """As kubelet's gRPC probe calls it: plaintext, no reflection, grpc.health.v1.Health/Check."""
    messages, stubs = pb
    with grpc.insecure_channel(mtls_server.health_addr) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=None, response_deserializer=None)
        # HealthCheckRequest{} is empty; HealthCheckResponse{status: SERVING} is field 1 = 1.
        assert check(b"", timeout=10) == b"\x08\x01"
        with pytest.raises(grpc.RpcError) as failed:
            stubs.UserServiceStub(channel).ListUsers(messages.ListUsersRequest(), timeout=10)
    assert failed.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_grpcio_calls_over_tls_with_ssl_channel_credentials(tls_server, pki, pb, name):
    messages, stubs = pb
    credentials = grpc.ssl_channel_credentials(root_certificates=read(pki.ca))
    with grpc.secure_channel(tls_server.addr, credentials) as channel:
        users = stubs.UserServiceStub(channel)
        created = users.CreateUser(messages.CreateUserRequest(user_name=name), timeout=10).user
        assert created.user_name == name


def test_grpcio_under_mutual_tls_a_certificate_or_a_token_decides(mtls_server, pki, pb):
    messages, stubs = pb
    ca = read(pki.ca)

    with grpc.secure_channel(mtls_server.addr, grpc.ssl_channel_credentials(ca)) as channel:
        with pytest.raises(grpc.RpcError) as failed:
            stubs.UserServiceStub(channel).ListUsers(messages.ListUsersRequest(), timeout=10)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE

    cert, key = pki.client("signin-grpcio", SIGNIN_SPIFFE)
    signin = grpc.ssl_channel_credentials(ca, private_key=read(key), certificate_chain=read(cert))
    with grpc.secure_channel(mtls_server.addr, signin) as channel:
        stubs.UserServiceStub(channel).ListUsers(messages.ListUsersRequest(), timeout=10)

    # A certificate the tokens file does not name: the bearer token decides.
    cert, key = pki.client("unnamed", "unnamed.internal")
    unnamed = grpc.ssl_channel_credentials(ca, private_key=read(key), certificate_chain=read(cert))
    with grpc.secure_channel(mtls_server.addr, unnamed) as channel:
        users = stubs.UserServiceStub(channel)
        with pytest.raises(grpc.RpcError) as failed:
            users.ListUsers(messages.ListUsersRequest(), timeout=10)
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
        users.ListUsers(messages.ListUsersRequest(), timeout=10,
                        metadata=[("authorization", f"Bearer {ADMIN_TOKEN}")])
