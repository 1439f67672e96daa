"""The README's grpcurl examples (its ```console blocks of grpcurl commands), run top to bottom
as printed against fresh servers (one on loopback TCP for the 127.0.0.1:50051 examples, one on a
Unix socket for the sidecar ones), each printing what the README shows (see transcripts.py for
what "the same" means)."""

import os
import shlex

from conftest import ROOT, Server, grpcurl
from transcripts import console_blocks, same_shape

README_ADDRESS = "127.0.0.1:50051"
README_SOCKET = "/var/run/loginprofiled/grpc.sock"


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


def test_the_readme_grpcurl_examples_print_what_the_readme_shows():
    servers = {"tcp": Server("tcp"), "unix": Server("unix")}
    problems = []
    try:
        for steps in readme_blocks():
            for command, expected in steps:
                args = shlex.split(command)[1:]
                if "-unix" in args:
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
