"""Checks of deploy/ that a schema cannot make: the manifests against the binary and the Dockerfile.

Usage: check.py BINARY DOCKERFILE MANIFEST...

- Every --flag in the arguments of a loginprofiled container, and every LOGINPROFILED_* name
  anywhere in the manifests, is one the binary's `SUBCOMMAND --help` lists (so manifests and
  binary cannot drift apart).
- Every Pod runs as the Dockerfile's numeric USER, hardened: runAsNonRoot,
  readOnlyRootFilesystem, allowPrivilegeEscalation false, capabilities drop ALL, seccomp
  RuntimeDefault, no service account token, resource requests and limits.
- terminationGracePeriodSeconds exceeds --drain-delay + --grace-period.
- Each workload's selector matches its own Pod template; each Service, PodDisruptionBudget and
  NetworkPolicy selects some Pod of its directory, and the ports they name by name exist there.

Prints every problem found, and exits 1 if there is any.
"""

import pathlib
import re
import subprocess
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "Job"}
ENV_NAME = re.compile(r"\bLOGINPROFILED_[A-Z0-9_]+\b")
# In clap's --help: an option's line, and the variable it reads (`[env: NAME=value]`, or
# `[env: NAME]` when the value is hidden, as the database URL's is).
HELP_FLAG = re.compile(r"^\s+(?:-[A-Za-z], )?(--[a-z0-9][a-z0-9-]*)", re.MULTILINE)
HELP_ENV = re.compile(r"\[env: (LOGINPROFILED_[A-Z0-9_]+)[=\]]")
# A loginprofiled duration as these manifests write them: whole seconds or minutes.
DURATION = re.compile(r"^(\d+)(s|m)$")


class Problems(list):
    def __init__(self):
        super().__init__()
        # What the binary lacks, for the summary: flags, variables, subcommands.
        self.missing = set()

    def add(self, where, what, missing=None):
        self.append(f"{where}: {what}")
        if missing:
            self.missing.add(missing)


def help_of(binary, subcommand, cache={}):
    """The flags and variables `BINARY SUBCOMMAND --help` lists, or None if it fails."""
    if subcommand not in cache:
        done = subprocess.run(
            [binary, subcommand, "--help"], capture_output=True, text=True, check=False
        )
        cache[subcommand] = (
            (set(HELP_FLAG.findall(done.stdout)), set(HELP_ENV.findall(done.stdout)))
            if done.returncode == 0
            else None
        )
    return cache[subcommand]


def dockerfile_user(path):
    users = re.findall(r"^USER\s+(\S+)", pathlib.Path(path).read_text(), re.MULTILINE)
    if not users:
        return None, None
    uid, _, gid = users[-1].partition(":")
    return uid, gid or None


def pod_spec(doc):
    return doc["spec"]["template"]["spec"] if doc.get("kind") in WORKLOADS else None


def containers(spec):
    return spec.get("initContainers", []) + spec.get("containers", [])


def is_loginprofiled(container):
    """The container runs the loginprofiled image (whatever command it runs)."""
    return "loginprofiled" in container.get("image", "")


def runs_loginprofiled(container):
    """The container runs the loginprofiled binary: the image's entrypoint, or named."""
    command = container.get("command")
    return is_loginprofiled(container) and (
        not command or pathlib.PurePath(command[0]).name == "loginprofiled"
    )


def subcommand_and_flags(container):
    words = container.get("command", [])[1:] + container.get("args", [])
    subcommand = next((w for w in words if not w.startswith("-")), "serve")
    flags = {}
    for word in words:
        if word.startswith("--"):
            name, _, value = word.partition("=")
            flags[name] = value
    return subcommand, flags


def seconds(raw):
    match = DURATION.match(raw or "0s")
    if not match:
        return None
    return int(match[1]) * (60 if match[2] == "m" else 1)


def check_flags(where, container, binary, problems):
    subcommand, flags = subcommand_and_flags(container)
    known = help_of(binary, subcommand)
    if known is None:
        problems.add(
            where,
            f"`loginprofiled {subcommand} --help` failed: no such subcommand",
            f"subcommand {subcommand}",
        )
        return
    known_flags, known_envs = known
    for flag in flags:
        if flag not in known_flags:
            problems.add(where, f"flag {flag} is not in `loginprofiled {subcommand} --help`", flag)
    for env in container.get("env", []):
        name = env["name"]
        if name.startswith("LOGINPROFILED_") and name not in known_envs:
            problems.add(
                where, f"variable {name} is not in `loginprofiled {subcommand} --help`", name
            )


def check_hardening(where, spec, uid, gid, problems):
    if spec.get("automountServiceAccountToken") is not False:
        problems.add(where, "automountServiceAccountToken must be false")
    pod = spec.get("securityContext", {})
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.add(where, "the Pod's seccompProfile must be RuntimeDefault")
    for c in containers(spec):
        at = f"{where} container {c['name']}"
        sc = {**pod, **c.get("securityContext", {})}
        if sc.get("runAsNonRoot") is not True:
            problems.add(at, "runAsNonRoot must be true")
        if is_loginprofiled(c):
            if str(sc.get("runAsUser")) != uid:
                problems.add(at, f"runAsUser {sc.get('runAsUser')} is not the image's USER {uid}")
            if gid is not None and str(sc.get("runAsGroup")) != gid:
                problems.add(at, f"runAsGroup {sc.get('runAsGroup')} is not the image's group {gid}")
        elif not isinstance(sc.get("runAsUser"), int):
            problems.add(at, "runAsUser must be a number")
        own = c.get("securityContext", {})
        if own.get("readOnlyRootFilesystem") is not True:
            problems.add(at, "readOnlyRootFilesystem must be true")
        if own.get("allowPrivilegeEscalation") is not False:
            problems.add(at, "allowPrivilegeEscalation must be false")
        if own.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.add(at, "capabilities must drop ALL")
        if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.add(at, "seccompProfile must be RuntimeDefault")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if what not in res.get(kind, {}):
                    problems.add(at, f"resources.{kind}.{what} is missing")


def check_grace(where, spec, problems):
    budget = spec.get("terminationGracePeriodSeconds", 30)
    for c in containers(spec):
        if not runs_loginprofiled(c):
            continue
        subcommand, flags = subcommand_and_flags(c)
        if subcommand != "serve":
            continue
        drain = seconds(flags.get("--drain-delay", "0s"))
        grace = seconds(flags.get("--grace-period", "10s"))
        if drain is None or grace is None:
            problems.add(where, "--drain-delay/--grace-period: write them as Ns or Nm")
        elif drain + grace >= budget:
            problems.add(
                where,
                f"terminationGracePeriodSeconds {budget} must exceed --drain-delay {drain}s"
                f" + --grace-period {grace}s",
            )


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_selectors(where, doc, pods, problems):
    kind = doc["kind"]
    if kind in WORKLOADS:
        selector = doc["spec"].get("selector", {}).get("matchLabels")
        labels = doc["spec"]["template"]["metadata"].get("labels", {})
        if selector is not None and not selects(selector, labels):
            problems.add(where, "spec.selector does not match the Pod template's labels")
        return
    if kind == "Service":
        selector, ports = doc["spec"].get("selector", {}), [
            p.get("targetPort") for p in doc["spec"].get("ports", [])
        ]
    elif kind == "PodDisruptionBudget":
        selector, ports = doc["spec"]["selector"].get("matchLabels", {}), []
    elif kind == "NetworkPolicy":
        selector = doc["spec"]["podSelector"].get("matchLabels", {})
        ports = [
            p.get("port")
            for rule in doc["spec"].get("ingress", [])
            for p in rule.get("ports", [])
        ]
    else:
        return
    chosen = [(labels, names) for labels, names in pods if selects(selector, labels)]
    if not chosen:
        problems.add(where, "its selector matches no Pod template in this directory")
        return
    for port in ports:
        if isinstance(port, str) and not any(port in names for _, names in chosen):
            problems.add(where, f"port {port!r} is no container port of the Pods it selects")


def main(binary, dockerfile, paths):
    problems = Problems()
    uid, gid = dockerfile_user(dockerfile)
    if uid is None or not uid.isdigit():
        problems.add(dockerfile, f"USER must be numeric (deploy/ runs it as a uid), found {uid}")
    # A variable named outside a container's env (a comment, a ConfigMap) must still exist.
    anywhere = set()
    for sub in ("serve", "migrate"):
        anywhere |= (help_of(binary, sub) or (set(), set()))[1]
    by_dir = {}
    for path in paths:
        text = pathlib.Path(path).read_text()
        docs = [doc for doc in yaml.safe_load_all(text) if doc]
        # Those in a container's env are checked against its own subcommand below.
        in_env = {
            env["name"]
            for doc in docs
            if pod_spec(doc)
            for c in containers(pod_spec(doc))
            for env in c.get("env", [])
        }
        for name in sorted(set(ENV_NAME.findall(text)) - anywhere - in_env):
            problems.add(path, f"{name} is in no `loginprofiled serve|migrate --help`", name)
        by_dir.setdefault(pathlib.Path(path).parent, []).extend((path, doc) for doc in docs)
    for docs in by_dir.values():
        pods = []
        for path, doc in docs:
            spec = pod_spec(doc)
            if spec is None:
                continue
            where = f"{path} {doc['kind']}/{doc['metadata']['name']}"
            labels = doc["spec"]["template"]["metadata"].get("labels", {})
            names = {p["name"] for c in containers(spec) for p in c.get("ports", [])}
            pods.append((labels, names))
            for c in containers(spec):
                if runs_loginprofiled(c):
                    check_flags(f"{where} container {c['name']}", c, binary, problems)
            check_hardening(where, spec, uid, gid, problems)
            check_grace(where, spec, problems)
        for path, doc in docs:
            check_selectors(f"{path} {doc['kind']}/{doc['metadata']['name']}", doc, pods, problems)
    for problem in problems:
        print(f"PROBLEM {problem}")
    if problems.missing:
        print(f"MISSING from {binary}: {', '.join(sorted(problems.missing))}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
