"""Fixtures: freshly started loginprofiled servers and real AWS clients pointed at them.

Two servers per session: `keyed` has a tokens file with access keys (SigV4 required), `open`
has none and serves loopback callers unsigned, as the seed's plain GET form expects.
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import boto3
import pytest
from botocore.config import Config

ADMIN_KEY = "AKIAADMINEXAMPLE0001"
BOB_KEY = "AKIABOBEXAMPLE000002"
READ_KEY = "AKIAREADEXAMPLE00003"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
BOB = "Bob"

TOKENS = f"""
[[access_key]]
access_key_id = "{ADMIN_KEY}"
secret_access_key = "{SECRET}"
scopes = ["admin"]
name = "ops"

[[access_key]]
access_key_id = "{BOB_KEY}"
secret_access_key = "{SECRET}"
scopes = ["signin"]
user = "{BOB}"

[[access_key]]
access_key_id = "{READ_KEY}"
secret_access_key = "{SECRET}"
scopes = ["read"]
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `loginprofiled serve` process with a temporary data directory."""

    def __init__(self, tokens, tls=(), extra=()):
        """`tls`: extra flags such as `--tls-cert F --tls-key F`; the Query API is then HTTPS.
        `extra`: more flags (`--mfa-key-file F`, say)."""
        self.dir = tempfile.mkdtemp(prefix="lpd-compat-")
        self.grpc_port, self.http_port = free_port(), free_port()
        args = [
            os.environ["LOGINPROFILED_BIN"], "serve",
            "--listen", f"127.0.0.1:{self.grpc_port}",
            "--http-listen", f"127.0.0.1:{self.http_port}",
            "--data-dir", os.path.join(self.dir, "data"),
            "--argon2-memory-kib", "1024", "--argon2-iterations", "1",
            "--log-format", "json",
            *tls,
            *extra,
        ]
        if tokens:
            path = os.path.join(self.dir, "tokens.toml")
            with open(path, "w") as f:
                f.write(tokens)
            os.chmod(path, 0o600)
            args += ["--tokens-file", path]
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = (f"https://localhost:{self.http_port}" if tls
                    else f"http://127.0.0.1:{self.http_port}")
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.process.poll() is None, self.logs()
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("loginprofiled did not start:\n" + self.logs())

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def keyed():
    server = Server(TOKENS)
    yield server
    server.stop()


def mfa_key_file(directory):
    """A key file for MFA seeds holding one key from `loginprofiled mfa generate-key`."""
    key = subprocess.run([os.environ["LOGINPROFILED_BIN"], "mfa", "generate-key"],
                         capture_output=True, text=True, check=True).stdout
    path = os.path.join(directory, "mfa.keys")
    with open(path, "w") as f:
        f.write(key)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="session")
def mfa_server(tmp_path_factory):
    """A server like `keyed` that can also seal MFA seeds (--mfa-key-file)."""
    keys = mfa_key_file(str(tmp_path_factory.mktemp("mfa-keys")))
    server = Server(TOKENS, extra=("--mfa-key-file", keys))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def open_server():
    server = Server(None)
    yield server
    server.stop()


def client(server, key=ADMIN_KEY, secret=SECRET, region="us-east-1"):
    return boto3.client(
        "iam",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def iam(keyed):
    return client(keyed)


@pytest.fixture
def name():
    """A fresh user name per test, so tests share one server without clashing."""
    return "u-" + uuid.uuid4().hex[:12]


class Cli:
    """Runs one aws CLI (v1 or v2) against a server with a given access key."""

    def __init__(self, binary, version, server, tmp_path):
        self.binary, self.version, self.server = binary, version, server
        self.tmp_path = tmp_path
        self.key, self.secret = ADMIN_KEY, SECRET
        self.session_token = None
        # CLI v1 exits 255 on a service error, v2 exits 254.
        self.service_error_exit = 255 if version == 1 else 254
        # Debian's CLI v2 (2.9.19) bundles the IAM model from before 2024-11, in which
        # Get/Create/DeleteLoginProfile still require --user-name; v1 1.45 has the newer model.
        self.model_allows_omitted_user_name = version == 1

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_CONFIG_FILE": str(self.tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.tmp_path / "no-credentials"),
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
        })
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def run(self, *args, endpoint=True):
        cmd = [self.binary, *args, "--output", "json"]
        if endpoint:
            cmd += ["--endpoint-url", self.server.url]
        return subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=60)

    def ok(self, *args):
        result = self.run(*args)
        assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stderr}"
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def fails(self, code, message, *args):
        """Asserts a service error: the exit code of this CLI version, the IAM code and message."""
        result = self.run(*args)
        assert result.returncode == self.service_error_exit, (
            f"{args}: exit {result.returncode}\n{result.stderr}"
        )
        assert f"An error occurred ({code})" in result.stderr, result.stderr
        if message is not None:
            assert result.stderr.strip().endswith(f": {message}"), result.stderr
        return result.stderr


@pytest.fixture(params=[1, 2], ids=["cli-v1", "cli-v2"])
def cli(request, keyed, tmp_path):
    binary = os.environ["AWS_CLI_V1"] if request.param == 1 else os.environ["AWS_CLI_V2"]
    return Cli(binary, request.param, keyed, tmp_path)


@pytest.fixture(params=[1, 2], ids=["cli-v1", "cli-v2"])
def mfa_cli(request, mfa_server, tmp_path):
    """Each aws CLI against the server with an MFA key file."""
    binary = os.environ["AWS_CLI_V1"] if request.param == 1 else os.environ["AWS_CLI_V2"]
    return Cli(binary, request.param, mfa_server, tmp_path)
