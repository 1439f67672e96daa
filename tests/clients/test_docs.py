"""The examples in README.md and docs/ (docs_examples.py finds them): every block that starts a
command is run here, in tests/compat (the aws CLI), by .ci/run itself, or marked as not run, and
the ones this suite runs print what the docs show (transcripts.py says what "the same" means).

- grpcurl blocks run top to bottom as one session per document, against fresh servers: one on
  loopback TCP for the 127.0.0.1:50051 examples, one on a Unix socket for the sidecar ones, one
  with mutual TLS for the -cacert ones;
- the other blocks this suite runs name their setup (SETUPS below) and run in a bash session in a
  scratch directory, with `loginprofiled` and `grpcurl` on PATH.
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import time

import pytest

import docs_examples as docs
from conftest import Server, grpcurl
from pki import Pki
from transcripts import same_shape

DOCS_ADDRESS = "127.0.0.1:50051"
DOCS_SOCKET = "/var/run/loginprofiled/grpc.sock"
DOCS_TLS_ADDRESS = "localhost:50051"
DOCS_SPIFFE = "spiffe://cluster.local/ns/app/sa/signin"


def mutual_tls_server(directory):
    """The TLS chapter's mutual TLS setup: its CA, server and signin certificates (made afresh)
    and its tokens file; returns the server and the chapter's file names mapped to the real ones."""
    pki = Pki(directory, ca_name="ca")
    cert, key = pki.client("signin", DOCS_SPIFFE)
    tokens = os.path.join(directory, "tokens.toml")
    with open(tokens, "w") as f:
        f.write(f'[[certificate]]\nname = "signin-frontend"\nsubject = "{DOCS_SPIFFE}"\n'
                'scopes = ["signin"]\n')
    server = Server("tcp", "--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                    "--tls-client-ca", pki.ca, "--tokens-file", tokens)
    files = {"ca.pem": pki.ca, "signin.crt": cert, "signin.key": key,
             DOCS_TLS_ADDRESS: "localhost:" + server.addr.rsplit(":", 1)[1]}
    return server, files


def grpcurl_documents():
    paths = []
    for example in docs.with_setup({"grpcurl"}):
        if example.path not in paths:
            paths.append(example.path)
    return paths


def test_every_block_that_starts_a_command_is_run_or_marked():
    examples, problems = docs.collect()
    assert len(examples) >= 30, f"only {len(examples)} command blocks found: is the scan broken?"
    assert not problems, "\n".join(problems)


def test_this_suite_sets_up_exactly_the_setups_it_claims():
    assert set(SETUPS) | {"grpcurl"} == docs.CLIENTS_SETUPS


def test_the_docs_have_grpcurl_transcripts_over_tcp_a_unix_socket_and_mutual_tls():
    # A docs edit that breaks the extraction must not leave this suite checking nothing.
    commands = [c for e in docs.with_setup({"grpcurl"}) for c in e.commands()]
    assert len(commands) >= 15, commands
    assert any(DOCS_SOCKET in command for command in commands), commands
    assert any("-cacert" in command for command in commands), commands


@pytest.mark.parametrize("path", grpcurl_documents())
def test_the_grpcurl_examples_print_what_the_docs_show(path, tmp_path):
    servers = {"tcp": Server("tcp"), "unix": Server("unix")}
    problems = []
    try:
        for example in docs.with_setup({"grpcurl"}):
            if example.path != path:
                continue
            for command, expected in example.steps():
                args = shlex.split(command)[1:]
                if "-cacert" in args:
                    if "tls" not in servers:
                        servers["tls"], tls_files = mutual_tls_server(str(tmp_path))
                    args = [tls_files.get(a, a) for a in args]
                elif "-unix" in args:
                    args = [servers["unix"].socket if a == DOCS_SOCKET else a for a in args]
                else:
                    args = [servers["tcp"].addr if a == DOCS_ADDRESS else a for a in args]
                _, printed = grpcurl(*args)
                for problem in same_shape(expected, printed):
                    problems.append(f"{example.where()}: $ {command}\n  {problem}")
    finally:
        for server in servers.values():
            server.stop()
    assert not problems, "\n".join(problems)


# --- Setups: each prepares the scratch directory a block runs in. ------------------------------


def pki_files(workdir, example, substitute):
    """Certificates under the TLS chapter's names (ca.pem, server.crt/.key, signin.crt/.key, a
    client certificate of another key) and empty.pem, a file with no certificate in it."""
    pki = Pki(workdir, ca_name="ca")
    pki.client("signin", DOCS_SPIFFE)
    open(os.path.join(workdir, "empty.pem"), "w").close()


def sled_store(workdir, example, substitute):
    """./data: a stopped embedded store with two users (alice with a login profile, bob) and a
    password policy, made through a real server."""
    sock = os.path.join(workdir, "setup.sock")
    with open(os.path.join(workdir, "setup.log"), "w") as log:
        server = subprocess.Popen(
            [os.environ["LOGINPROFILED_BIN"], "serve", "--listen", f"unix:{sock}",
             "--http-listen", "off", "--data-dir", os.path.join(workdir, "data"),
             "--argon2-memory-kib", "1024", "--argon2-iterations", "1"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(sock)
                break
            except OSError:
                assert server.poll() is None and time.time() < deadline, "the setup server died"
                time.sleep(0.05)
        for method, body in [
            ("UserService/CreateUser", {"user_name": "alice"}),
            ("UserService/CreateUser", {"user_name": "bob"}),
            ("AccountPasswordPolicyService/UpdateAccountPasswordPolicy",
             {"minimum_password_length": 12}),
            ("LoginProfileService/CreateLoginProfile",
             {"user_name": "alice", "password": "Str0ng!Passw0rd"}),
        ]:
            code, out = grpcurl("-plaintext", "-unix", "-d", json.dumps(body), sock,
                                f"iam.loginprofile.v1.{method}")
            assert code == 0, out
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0


def postgres(workdir, example, substitute):
    """Empty databases under the block's names (made on LOGINPROFILED_TEST_DATABASE_URL's server,
    dropped after the block)."""
    docs.create_databases(substitute.databases(example))


def postgres_newer(workdir, example, substitute):
    """Databases migrated by a binary newer than this one: migrated, plus the version after
    this binary's last."""
    for name in substitute.databases(example):
        docs.create_databases([name])
        done = subprocess.run([os.environ["LOGINPROFILED_BIN"], "migrate", "--database-url",
                               docs.database_base() + name], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        docs.psql(name, "INSERT INTO loginprofiled._sqlx_migrations "
                        "(version, description, success, checksum, execution_time) "
                        "SELECT max(version) + 1, 'from a newer binary', true, '\\x00', 0 "
                        "FROM loginprofiled._sqlx_migrations")


def mfa(workdir, example, substitute):
    """The MFA chapter's server at the docs' 127.0.0.1:50051: a fresh store and a key file
    (./mfa.keys). The block makes codes with oathtool from the clock, so it starts with at least
    20 s left in the current 30 s step: its codes are checked in the step they were made for.
    Returns what stops the server."""
    keys = os.path.join(workdir, "mfa.keys")
    with open(keys, "w") as f:
        f.write(subprocess.run([os.environ["LOGINPROFILED_BIN"], "mfa", "generate-key"],
                               capture_output=True, text=True, check=True).stdout)
    os.chmod(keys, 0o600)
    server = Server("tcp", "--mfa-key-file", keys)
    substitute.ports[int(DOCS_ADDRESS.rsplit(":", 1)[1])] = int(server.addr.rsplit(":", 1)[1])
    if time.time() % 30 > 10:
        time.sleep(30.2 - time.time() % 30)
    return server.stop


SETUPS = {
    "loginprofiled": pki_files,
    "mfa": mfa,
    "sled-store": sled_store,
    "postgres": postgres,
    "postgres-newer": postgres_newer,
}


@pytest.mark.parametrize("example", docs.with_setup(set(SETUPS)), ids=lambda e: e.where())
def test_the_example_prints_what_the_docs_show(example):
    uses_postgres = example.setup.startswith("postgres")
    if uses_postgres and not docs.postgres_available():
        pytest.skip("PostgreSQL does not answer at LOGINPROFILED_TEST_DATABASE_URL (or the "
                    "default): SKIPPED the example, loudly; CI sets the variable")
    workdir = docs.scratch("lpd-docs-")
    substitute = docs.Substitutions(example, databases=uses_postgres)
    databases = substitute.databases(example) if uses_postgres else []
    stop = None
    try:
        stop = SETUPS[example.setup](workdir, example, substitute)
        env = dict(os.environ)
        env["PATH"] = docs.bin_dir(workdir, {"loginprofiled": os.environ["LOGINPROFILED_BIN"],
                                             "grpcurl": os.environ["GRPCURL"]}) + ":" + env["PATH"]
        env.pop("RUST_LOG", None)
        shell = docs.Shell(workdir, env)
        try:
            problems = docs.run_steps(example, shell, substitute, same_shape)
        finally:
            shell.close()
    finally:
        if stop:
            stop()
        if databases:
            docs.drop_databases(databases)
        docs.remove(workdir)
    assert not problems, "\n".join(problems)
