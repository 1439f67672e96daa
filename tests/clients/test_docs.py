"""The README's grpcurl examples (its ```console blocks of grpcurl commands), run top to bottom
as printed against fresh servers (one on loopback TCP for the 127.0.0.1:50051 examples, one on a
Unix socket for the sidecar ones, one with mutual TLS for the -cacert ones), each printing what
the README shows (see transcripts.py for what "the same" means)."""

import os
import shlex
import tempfile

from conftest import ROOT, Server, grpcurl
from pki import Pki
from transcripts import console_blocks, same_shape

README_ADDRESS = "127.0.0.1:50051"
README_SOCKET = "/var/run/loginprofiled/grpc.sock"
README_TLS_ADDRESS = "localhost:50051"
README_SPIFFE = "spiffe://cluster.local/ns/app/sa/signin"


def mutual_tls_server(directory):
    """The README's mutual TLS setup: its CA, server and signin certificates (made afresh) and
    its tokens file; returns the server and the README's file names mapped to the real ones."""
    pki = Pki(directory, ca_name="ca")
    cert, key = pki.client("signin", README_SPIFFE)
    tokens = os.path.join(directory, "tokens.toml")
    with open(tokens, "w") as f:
        f.write(f'[[certificate]]\nname = "signin-frontend"\nsubject = "{README_SPIFFE}"\n'
                'scopes = ["signin"]\n')
    server = Server("tcp", "--tls-cert", pki.server_cert, "--tls-key", pki.server_key,
                    "--tls-client-ca", pki.ca, "--tokens-file", tokens)
    files = {"ca.pem": pki.ca, "signin.crt": cert, "signin.key": key,
             README_TLS_ADDRESS: "localhost:" + server.addr.rsplit(":", 1)[1]}
    return server, files


def readme_blocks():
    """The README's ```console blocks made of grpcurl commands (other tools' transcripts, which
    may need a setup of their own, are left to their own tests)."""
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = console_blocks(f.read())
    return [steps for steps in blocks
            if all(command.startswith("grpcurl ") for command, _ in steps)]


def test_the_readme_has_grpcurl_transcripts_over_tcp_and_a_unix_socket():
    # A README edit that breaks the extraction must not leave this suite checking nothing.
    commands = [command for steps in readme_blocks() for command, _ in steps]
    assert len(commands) >= 15, commands
    assert any(README_SOCKET in command for command in commands), commands
    assert any("-cacert" in command for command in commands), commands


def test_the_readme_grpcurl_examples_print_what_the_readme_shows():
    pki_dir = tempfile.mkdtemp(prefix="lpd-readme-pki-")
    servers = {"tcp": Server("tcp"), "unix": Server("unix")}
    servers["tls"], tls_files = mutual_tls_server(pki_dir)
    problems = []
    try:
        for steps in readme_blocks():
            for command, expected in steps:
                args = shlex.split(command)[1:]
                if "-cacert" in args:
                    args = [tls_files.get(a, a) for a in args]
                elif "-unix" in args:
                    server = servers["unix"]
                    args = [server.socket if a == README_SOCKET else a for a in args]
                else:
                    server = servers["tcp"]
                    args = [server.addr if a == README_ADDRESS else a for a in args]
                _, printed = grpcurl(*args)
                for problem in same_shape(expected, printed):
                    problems.append(f"$ {command}\n  {problem}")
    finally:
        for server in servers.values():
            server.stop()
    assert not problems, "\n".join(problems)
