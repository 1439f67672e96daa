"""The examples in README.md and docs/: every code block that starts a command, found, classified
and run the same way by both client suites (tests/clients for grpcurl and `loginprofiled`
subcommands, tests/compat for the aws CLI).

A block starts a command when it is a ```console block (`$ ` lines, each followed by what it
printed) or a ```sh block (commands only), or when an unlabelled block's first line is one (which
is a problem: label it). How it runs is said by an HTML comment on the line just before it:

    <!-- example: SETUP -->                the setup it runs in (see the SETUPS sets below)
    <!-- example not run: REASON -->       it cannot run in CI, and why (listed on every run)

A console block made only of grpcurl commands needs no comment: it runs in its document's
grpcurl session. Anything else without a comment fails the check.
"""

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Setups each suite implements; each suite checks that it implements exactly its set.
CLIENTS_SETUPS = {"grpcurl", "loginprofiled", "mfa", "sled-store", "postgres", "postgres-newer"}
COMPAT_SETUPS = {"aws", "aws-tls", "aws-profile", "aws-mfa", "replicas", "sled-to-postgres"}
# Commands .ci/run runs itself: the check only makes sure it still does.
CI = "ci"

SHELL_INFOS = {"sh", "bash", "shell"}
COMMAND_START = re.compile(
    r"^(\$ |loginprofiled |target/|cargo |grpcurl |aws |curl |kubectl |docker |psql |bash )")
MARKER = re.compile(r"^\s*<!--\s*example(?P<not_run> not run)?:\s*(?P<arg>.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\S*)")


@dataclass
class Example:
    path: str
    line: int  # of the opening fence
    info: str
    lines: list
    setup: str = None
    not_run: str = None

    def where(self):
        return f"{self.path}:{self.line}"

    def steps(self):
        """[(command, expected output)]: `$ ` lines for console blocks, every command of a sh
        block (with None as its output). A trailing backslash continues a command."""
        if self.info in SHELL_INFOS:
            steps, lines, i = [], [l.strip() for l in self.lines], 0
            while i < len(lines):
                command = lines[i]
                while command.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    command = command[:-1].rstrip() + " " + lines[i]
                i += 1
                if command and not command.startswith("#"):
                    steps.append((command, None))
            return steps
        steps, lines, i = [], self.lines, 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("$ "):
                raise ValueError(f"{self.where()}: output before any command: {line!r}")
            command = line[2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1].rstrip() + " " + lines[i].strip()
            i += 1
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i])
                i += 1
            steps.append((command, "\n".join(output)))
        return steps

    def commands(self):
        return [command for command, _ in self.steps()]


def documents():
    """README.md and every .md file under docs/, as paths relative to the root."""
    paths = ["README.md"]
    for directory, _, files in os.walk(os.path.join(ROOT, "docs")):
        paths += [os.path.relpath(os.path.join(directory, f), ROOT)
                  for f in files if f.endswith(".md")]
    return sorted(paths)


def scan(path):
    """(examples, problems) of one document: its blocks that start a command."""
    with open(os.path.join(ROOT, path)) as f:
        lines = f.read().splitlines()
    examples, problems = [], []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            marker = MARKER.match(lines[i])
            if marker and not (i + 1 < len(lines) and FENCE.match(lines[i + 1])):
                problems.append(f"{path}:{i + 1}: an example comment not followed by a code block")
            i += 1
            continue
        indent, fence, info = opening.groups()
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$",
                                              lines[j]):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        marker = MARKER.match(lines[i - 1]) if i > 0 else None
        example = Example(path, i + 1, info, body)
        starts_command = info == "console" or info in SHELL_INFOS
        if not info and body and COMMAND_START.match(body[0]):
            problems.append(f"{example.where()}: a block that starts a command has no language: "
                            "label it console (with `$ ` lines and their output) or sh")
        elif starts_command:
            if marker and marker.group("not_run"):
                example.not_run = marker.group("arg")
                if not example.not_run:
                    problems.append(f"{example.where()}: `example not run` needs a reason")
            elif marker:
                example.setup = marker.group("arg")
            elif info == "console" and all(c.startswith("grpcurl ") for c in example.commands()):
                example.setup = "grpcurl"
            else:
                problems.append(f"{example.where()}: a block that starts a command, neither run "
                                "(<!-- example: SETUP -->) nor marked "
                                "(<!-- example not run: REASON -->)")
            known = CLIENTS_SETUPS | COMPAT_SETUPS | {CI}
            if example.setup is not None and example.setup not in known:
                problems.append(f"{example.where()}: no setup named {example.setup!r} "
                                f"(known: {', '.join(sorted(known))})")
            try:
                example.steps()
            except ValueError as e:
                problems.append(str(e))
            examples.append(example)
        elif marker:
            problems.append(f"{example.where()}: an example comment before a block that starts "
                            "no command")
        i = j + 1
    return examples, problems


def collect():
    """(examples, problems) of every document."""
    examples, problems = [], []
    for path in documents():
        found, wrong = scan(path)
        examples += found
        problems += wrong
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = {line.strip() for line in f}
    for example in examples:
        if example.setup == CI:
            for command in example.commands():
                if command not in ci:
                    problems.append(f"{example.where()}: `{command}` is marked as run by .ci/run, "
                                    "which does not run it")
    return examples, problems


def with_setup(names):
    examples, _ = collect()
    return [e for e in examples if e.setup in names]


# --- Running a block -----------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Shell:
    """One bash session: the commands of a block run in it in turn, as typed at a prompt, with
    stdout and stderr together. Background jobs (`&`) are killed with it."""

    def __init__(self, cwd, env):
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.chunks = queue.Queue()
        self.buffer = b""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            self.chunks.put(chunk)
            if not chunk:
                return

    def run(self, command, timeout=120):
        """(what it printed, its exit status)."""
        marker = f"__lpd_docs_{uuid.uuid4().hex}__"
        self.proc.stdin.write(f"{command}\nprintf '\\n{marker} %s\\n' \"$?\"\n".encode())
        self.proc.stdin.flush()
        end = re.compile(rb"\n" + marker.encode() + rb" (\d+)\n")
        deadline = time.time() + timeout
        while not (found := end.search(self.buffer)):
            try:
                chunk = self.chunks.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                chunk = None
            if not chunk or time.time() > deadline:
                raise RuntimeError(f"`{command}` did not finish in {timeout} s; printed:\n"
                                   + self.buffer.decode(errors="replace"))
            self.buffer += chunk
        output = self.buffer[:found.start()].decode(errors="replace")
        self.buffer = self.buffer[found.end():]
        return output, int(found.group(1))

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def wait_for_listeners(command, timeout=30):
    """After `loginprofiled serve ... &`: waits until its TCP addresses accept connections."""
    addresses = re.findall(r"--(?:listen|http-listen)[ =](\d+\.\d+\.\d+\.\d+):(\d+)", command)
    deadline = time.time() + timeout
    for host, port in addresses:
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError(f"nothing listens on {host}:{port} after `{command}`")
                time.sleep(0.05)


class Substitutions:
    """The block's addresses and database names mapped to real ones for this run, applied alike
    to commands and to the output they are expected to print."""

    PORT = re.compile(r"(?<![@\d])(127\.0\.0\.1|localhost):(\d{4,5})\b")
    DATABASE = re.compile(r"\blp_[0-9a-f]{12}(?![0-9a-f])")

    def __init__(self, example, ports=None, map_ports=False, databases=False):
        self.ports = dict(ports or {})
        self.names = {}
        text = "\n".join(example.commands())
        if map_ports:
            for _, port in self.PORT.findall(text):
                self.ports.setdefault(int(port), free_port())
        if databases:
            for name in set(self.DATABASE.findall(text)):
                self.names[name] = "lp_docs_" + uuid.uuid4().hex[:12]
        self.base = database_base()

    def __call__(self, text):
        if text is None:
            return None
        text = self.PORT.sub(
            lambda m: f"{m.group(1)}:{self.ports.get(int(m.group(2)), m.group(2))}", text)
        for name, real in self.names.items():
            text = text.replace(name, real)
        return text.replace("postgres://postgres@127.0.0.1:5432/", self.base)

    def databases(self, example):
        """Every database name the block's commands use, after mapping (`lp_docs_..._moved`)."""
        text = self("\n".join(example.commands()))
        return sorted(set(re.findall(r"\blp_docs_[0-9a-f]{12}\w*", text)))


def run_steps(example, shell, substitute, compare):
    """Runs a block's commands in `shell`; returns what differs from the block."""
    problems = []
    for command, expected in example.steps():
        real = substitute(command)
        printed, status = shell.run(real)
        if real.rstrip().endswith("&") and "loginprofiled serve" in real:
            wait_for_listeners(real)
        if expected is None:
            if status != 0:
                problems.append(f"{example.where()}: $ {command}\n  exit status {status}:\n{printed}")
            continue
        for problem in compare(substitute(expected), printed):
            problems.append(f"{example.where()}: $ {command}\n  {problem}")
    return problems


def bin_dir(directory, programs):
    """A directory for PATH with each program (name -> path) linked into it."""
    path = os.path.join(directory, "bin")
    os.makedirs(path, exist_ok=True)
    for name, target in programs.items():
        os.symlink(target, os.path.join(path, name))
    return path


# --- PostgreSQL ------------------------------------------------------------------------------


def database_base():
    """`postgres://USER@HOST:PORT/` of LOGINPROFILED_TEST_DATABASE_URL (or the default)."""
    url = os.environ.get("LOGINPROFILED_TEST_DATABASE_URL",
                         "postgres://postgres@127.0.0.1:5432/test")
    return url.rsplit("/", 1)[0] + "/"


def postgres_available():
    """Whether PostgreSQL answers; where it does not and the variable is not set, the caller
    skips loudly (as the cargo tests do); with the variable set, it fails."""
    url = database_base() + "postgres"
    done = subprocess.run(["psql", url, "-Atc", "select 1"], capture_output=True, text=True)
    if done.returncode == 0:
        return True
    if os.environ.get("LOGINPROFILED_TEST_DATABASE_URL"):
        raise RuntimeError(f"PostgreSQL at {url} does not answer:\n{done.stderr}")
    return False


def psql(database, sql):
    done = subprocess.run(["psql", database_base() + database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"psql {database}: {sql}\n{done.stderr}"
    return done.stdout


def create_databases(names):
    for name in names:
        psql("postgres", f'CREATE DATABASE "{name}"')


def drop_databases(names):
    for name in names:
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch(prefix):
    directory = os.path.realpath(__import__("tempfile").mkdtemp(prefix=prefix))
    return directory


def remove(directory):
    shutil.rmtree(directory, ignore_errors=True)
