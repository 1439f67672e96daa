"""Fixtures: freshly started loginprofiled servers, on a Unix socket or on loopback TCP, for the
real gRPC clients (grpcurl, grpcio, @grpc/grpc-js), and the stubs grpcio calls them with.
run.sh sets the environment."""

import importlib
import os
import shutil
import socket
import subprocess
import tempfile
import sys
import time
import uuid

import pytest
from grpc_tools import protoc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTO_ROOT = os.path.join(ROOT, "proto")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `loginprofiled serve` process with a temporary data directory.

    `transport` is "unix" (a socket in the temporary directory) or "tcp" (a free loopback port).
    The store is a sled directory in the temporary directory, or `data_dir` (to start again on
    the data of a stopped server), or the database `extra` names with `--database-url`.
    `env` adds to the environment it runs in (RUST_LOG, say).
    """

    def __init__(self, transport, *extra, argon2_memory_kib=1024, argon2_iterations=1,
                 data_dir=None, env=None):
        self.transport = transport
        self.dir = tempfile.mkdtemp(prefix="lpd-clients-")
        if transport == "unix":
            self.socket = os.path.join(self.dir, "grpc.sock")
            listen = f"unix:{self.socket}"
            self.target = listen  # the gRPC target name of grpcio and grpc-js
            self.grpcurl_address = ["-unix", self.socket]
        else:
            self.addr = f"127.0.0.1:{free_port()}"
            listen = self.addr
            self.target = self.addr
            self.grpcurl_address = [self.addr]
        self.data_dir = data_dir or os.path.join(self.dir, "data")
        store = [] if "--database-url" in extra else ["--data-dir", self.data_dir]
        args = [
            os.environ["LOGINPROFILED_BIN"], "serve",
            "--listen", listen,
            "--http-listen", "off",
            *store,
            "--argon2-memory-kib", str(argon2_memory_kib),
            "--argon2-iterations", str(argon2_iterations),
            *extra,
        ]
        self.log = open(os.path.join(self.dir, "server.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                        env={**os.environ, **(env or {})})
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.process.poll() is None, self.logs()
            if self.accepts():
                return
            time.sleep(0.05)
        raise RuntimeError("loginprofiled did not start:\n" + self.logs())

    def accepts(self):
        try:
            if self.transport == "unix":
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.socket)
            else:
                host, port = self.addr.rsplit(":", 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            return True
        except OSError:
            return False

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.dir, "server.log")) as f:
            return f.read()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def unix_server():
    server = Server("unix")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tcp_server():
    server = Server("tcp")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["unix", "tcp"])
def server(request):
    """The same test over a Unix socket and over TCP."""
    server = Server(request.param)
    yield server
    server.stop()


@pytest.fixture
def name():
    """A fresh user name per test, so tests share one server without clashing."""
    return "u-" + uuid.uuid4().hex[:12]


def grpcurl(*args, stdin=None):
    """Runs the real grpcurl 1.8.6; returns (exit code, stdout and stderr together)."""
    result = subprocess.run(
        [os.environ["GRPCURL"], *args],
        input=stdin, capture_output=True, text=True, timeout=60,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """The messages and stubs of iam.loginprofile.v1, generated as a Python user would."""
    out = tmp_path_factory.mktemp("stubs")
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main([
        "protoc", f"-I{PROTO_ROOT}", f"-I{well_known}",
        f"--python_out={out}", f"--grpc_python_out={out}",
        "iam/loginprofile/v1/loginprofile.proto",
    ])
    assert status == 0
    sys.path.insert(0, str(out))
    messages = importlib.import_module("iam.loginprofile.v1.loginprofile_pb2")
    stubs = importlib.import_module("iam.loginprofile.v1.loginprofile_pb2_grpc")
    return messages, stubs


def pytest_terminal_summary(terminalreporter):
    """Lists, on every run, the docs' blocks that start a command and are marked as not run."""
    import docs_examples

    examples, _ = docs_examples.collect()
    not_run = [e for e in examples if e.not_run]
    terminalreporter.section(f"docs: {len(not_run)} example block(s) not run in CI")
    for example in not_run:
        terminalreporter.write_line(f"{example.where()}: {example.not_run}")
