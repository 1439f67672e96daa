"""The docs' aws CLI examples (tests/clients/docs_examples.py finds them), each run in the setup
its comment names (SETUPS below) in a bash session in a scratch directory, with the real aws CLI
and `loginprofiled` on PATH, printing what the docs show (tests/clients/transcripts.py)."""

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from conftest import Server, mfa_key_file

# One finder, runner and comparison for both suites, and one certificate generator.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "clients"))
import docs_examples as docs  # noqa: E402
from pki import Pki  # noqa: E402
from transcripts import same_shape  # noqa: E402

# The access key the Query API chapter puts in its tokens file.
DOCS_KEY = "AKIALOGINPROFILED001"
DOCS_SECRET = "a-long-random-secret"
DOCS_TOKENS = f"""[[access_key]]
access_key_id = "{DOCS_KEY}"
secret_access_key = "{DOCS_SECRET}"
scopes = ["admin"]
name = "ops"
"""


class Setup:
    """What a block runs with: the aws CLI version, its environment, the ports of the servers
    made for it (by the docs' port), and whether it uses PostgreSQL."""

    def __init__(self, cli, keyed=True, postgres=False):
        self.cli, self.keyed, self.postgres = cli, keyed, postgres
        self.ports, self.env, self.servers = {}, {}, []


def write_tokens(workdir):
    path = os.path.join(workdir, "tokens.toml")
    with open(path, "w") as f:
        f.write(DOCS_TOKENS)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def aws_open(workdir, setup):
    """The README's first calls: the quick start's server, no tokens file, unsigned calls."""
    server = Server(None)
    setup.servers.append(server)
    setup.ports[8080] = server.http_port


def aws_tls(workdir, setup):
    """The TLS chapter's run: HTTPS with the chapter's access key; ca.pem in the directory."""
    pki = Pki(workdir, ca_name="ca")
    server = Server(DOCS_TOKENS, tls=("--tls-cert", pki.server_cert, "--tls-key", pki.server_key))
    setup.servers.append(server)
    setup.ports[8443] = server.http_port


def aws_profile(workdir, setup):
    """The Query API chapter's profile, in ~/.aws/credentials and ~/.aws/config as it shows them,
    pointing at a server with its access key."""
    server = Server(DOCS_TOKENS)
    setup.servers.append(server)
    os.makedirs(os.path.join(workdir, ".aws"))
    with open(os.path.join(workdir, ".aws", "credentials"), "w") as f:
        f.write(f"[loginprofiled]\naws_access_key_id = {DOCS_KEY}\n"
                f"aws_secret_access_key = {DOCS_SECRET}\n")
    with open(os.path.join(workdir, ".aws", "config"), "w") as f:
        f.write(f"[profile loginprofiled]\nregion = us-east-1\n"
                f"endpoint_url = http://127.0.0.1:{server.http_port}\n")
    setup.env["HOME"] = workdir
    setup.ports[8080] = server.http_port


def aws_mfa(workdir, setup):
    """The MFA chapter's run: a server with the chapter's access key and an MFA key file. The
    block makes codes with oathtool from the clock, so it starts with at least 20 s left in the
    current 30 s step: its codes are checked in the step they were made for."""
    server = Server(DOCS_TOKENS, extra=("--mfa-key-file", mfa_key_file(workdir)))
    setup.servers.append(server)
    setup.ports[8080] = server.http_port
    if time.time() % 30 > 10:
        time.sleep(30.2 - time.time() % 30)


def replicas(workdir, setup):
    """tokens.toml with the access key; the databases are made for the block."""
    write_tokens(workdir)


def sled_to_postgres(workdir, setup):
    """./data: a stopped embedded store with a policy, bob (a path, a tag, a login profile whose
    password was changed once) and carol, made through the Query API of a real server."""
    write_tokens(workdir)
    port = docs.free_port()
    with open(os.path.join(workdir, "setup.log"), "w") as log:
        server = subprocess.Popen(
            [os.environ["LOGINPROFILED_BIN"], "serve", "--listen", f"127.0.0.1:{docs.free_port()}",
             "--http-listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(workdir, "data"),
             "--argon2-memory-kib", "1024", "--argon2-iterations", "1"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, "the setup server died"
                time.sleep(0.05)
        for params in [
            {"Action": "UpdateAccountPasswordPolicy", "MinimumPasswordLength": "12"},
            {"Action": "CreateUser", "UserName": "bob", "Path": "/ops/",
             "Tags.member.1.Key": "team", "Tags.member.1.Value": "ops"},
            {"Action": "CreateLoginProfile", "UserName": "bob", "Password": "Str0ng!Passw0rd"},
            {"Action": "ChangePassword", "UserName": "bob", "OldPassword": "Str0ng!Passw0rd",
             "NewPassword": "N3w-and-l0nger"},
            {"Action": "CreateUser", "UserName": "carol"},
        ]:
            url = f"http://127.0.0.1:{port}/?" + urllib.parse.urlencode(params)
            with urllib.request.urlopen(url, timeout=30) as reply:
                assert reply.status == 200, params
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0


# name: (what it makes, the aws CLI version, PostgreSQL). The docs' runs are the pinned CLI v1's
# (its JSON keeps the server's dates as sent; Debian's v2 2.9.19 rewrites them as +00:00, and
# ignores endpoint_url in a profile, which came in v2.13).
SETUPS = {
    "aws": (aws_open, 1, False),
    "aws-tls": (aws_tls, 1, False),
    "aws-profile": (aws_profile, 1, False),
    "aws-mfa": (aws_mfa, 1, False),
    "replicas": (replicas, 1, True),
    "sled-to-postgres": (sled_to_postgres, 1, True),
}


def test_this_suite_sets_up_exactly_the_setups_it_claims():
    assert set(SETUPS) == docs.COMPAT_SETUPS
    assert len(docs.with_setup(set(SETUPS))) >= 5


@pytest.mark.parametrize("example", docs.with_setup(set(SETUPS)), ids=lambda e: e.where())
def test_the_aws_example_prints_what_the_docs_show(example):
    make, cli, uses_postgres = SETUPS[example.setup]
    if uses_postgres and not docs.postgres_available():
        pytest.skip("PostgreSQL does not answer at LOGINPROFILED_TEST_DATABASE_URL (or the "
                    "default): SKIPPED the example, loudly; CI sets the variable")
    workdir = docs.scratch("lpd-docs-")
    setup = Setup(cli)
    databases = []
    shell = None
    try:
        make(workdir, setup)
        substitute = docs.Substitutions(example, ports=setup.ports, map_ports=True,
                                        databases=uses_postgres)
        if uses_postgres:
            databases = substitute.databases(example)
            docs.create_databases(databases)
        binary = os.environ["AWS_CLI_V1"] if cli == 1 else os.environ["AWS_CLI_V2"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"})
        if example.setup == "aws-profile":
            env.update(setup.env)
        else:
            env.update({"AWS_CONFIG_FILE": os.path.join(workdir, "no-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(workdir, "no-credentials")})
            if example.setup != "aws":
                env.update({"AWS_ACCESS_KEY_ID": DOCS_KEY, "AWS_SECRET_ACCESS_KEY": DOCS_SECRET,
                            "AWS_DEFAULT_REGION": "us-east-1"})
        env.pop("RUST_LOG", None)
        env["PATH"] = docs.bin_dir(workdir, {"loginprofiled": os.environ["LOGINPROFILED_BIN"],
                                             "aws": binary}) + ":" + env["PATH"]
        shell = docs.Shell(workdir, env)
        problems = docs.run_steps(example, shell, substitute, same_shape)
    finally:
        if shell:
            shell.close()
        for server in setup.servers:
            server.stop()
        if databases:
            docs.drop_databases(databases)
        docs.remove(workdir)
    assert not problems, "\n".join(problems)
