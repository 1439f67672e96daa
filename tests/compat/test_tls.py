"""The Query API over HTTPS with the real clients: the aws CLI v1 and v2 with --ca-bundle, boto3
with verify= (and a client certificate under mutual TLS); a client that does not trust the CA,
or has no certificate under mutual TLS, is refused."""

import os
import sys

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from conftest import ADMIN_KEY, SECRET, TOKENS, Cli, Server

# One certificate generator for both suites.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients"))
from pki import Pki  # noqa: E402


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="module")
def https(pki):
    server = Server(TOKENS, tls=("--tls-cert", pki.server_cert, "--tls-key", pki.server_key))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mutual(pki):
    server = Server(TOKENS, tls=("--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                                 "--tls-client-ca", pki.ca))
    yield server
    server.stop()


def boto3_client(server, **kwargs):
    config = kwargs.pop("config", Config())
    return boto3.client(
        "iam", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=ADMIN_KEY, aws_secret_access_key=SECRET,
        config=config.merge(Config(retries={"max_attempts": 1, "mode": "standard"})), **kwargs)


@pytest.mark.parametrize("version", [1, 2], ids=["cli-v1", "cli-v2"])
def test_the_cli_calls_https_with_a_ca_bundle_and_refuses_without_one(
        https, pki, version, name, tmp_path):
    binary = os.environ["AWS_CLI_V1"] if version == 1 else os.environ["AWS_CLI_V2"]
    cli = Cli(binary, version, https, tmp_path)
    user = cli.ok("iam", "create-user", "--user-name", name, "--ca-bundle", pki.ca)["User"]
    assert user["UserName"] == name
    cli.fails("NoSuchEntity", "The user with name nobody cannot be found.",
              "iam", "get-user", "--user-name", "nobody", "--ca-bundle", pki.ca)

    untrusted = cli.run("iam", "get-user", "--user-name", name)
    assert untrusted.returncode != 0
    assert "SSL validation failed" in untrusted.stderr, untrusted.stderr


def test_boto3_calls_https_with_verify_and_refuses_without(https, pki, name):
    iam = boto3_client(https, verify=pki.ca)
    iam.create_user(UserName=name)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    with pytest.raises(botocore.exceptions.SSLError):
        boto3_client(https).get_user(UserName=name)


def test_boto3_under_mutual_tls_needs_a_client_certificate(mutual, pki, name):
    cert, key = pki.client("boto3", "boto3.internal")
    iam = boto3_client(mutual, verify=pki.ca, config=Config(client_cert=(cert, key)))
    iam.create_user(UserName=name)
    with pytest.raises(botocore.exceptions.SSLError):
        boto3_client(mutual, verify=pki.ca).get_user(UserName=name)
    # The refused handshake did not stop the server.
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
