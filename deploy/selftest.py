"""Breaks deploy/ on purpose, one fault at a time in a scratch copy, and checks that validate.sh's
two checks notice each one with the message that names it. A fault that goes unnoticed fails.

Usage: selftest.py BINARY KUBERNETES_VERSION   (run from the repository's root, by validate.sh)
"""

import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

# (what is broken, file, text, replacement, what the report must then contain)
FAULTS = [
    ("a misspelt flag", "sled/statefulset.yaml", "--hash-concurrency=2", "--hash-concurency=2",
     "flag --hash-concurency is not in `loginprofiled serve --help`"),
    ("a misspelt variable", "postgres/deployment.yaml", "name: LOGINPROFILED_DATABASE_URL",
     "name: LOGINPROFILED_DATABASE_URI", "LOGINPROFILED_DATABASE_URI"),
    ("an unknown field", "sled/statefulset.yaml", "readOnlyRootFilesystem: true",
     "readOnlyRootFilesystm: true", "'readOnlyRootFilesystm' was unexpected"),
    ("a wrong type", "postgres/deployment.yaml", "replicas: 3", 'replicas: "3"',
     "spec.replicas: '3' is not of type"),
    ("a kind without a schema", "sled/service.yaml", "kind: Service", "kind: ServiceMonitr",
     "Couldn't find schema for kind ServiceMonitr"),
    ("a writable root filesystem", "sidecar/deployment.yaml", "readOnlyRootFilesystem: true",
     "readOnlyRootFilesystem: false", "readOnlyRootFilesystem must be true"),
    ("a short termination grace period", "sled/statefulset.yaml",
     "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 12",
     "terminationGracePeriodSeconds 12 must exceed"),
    ("a misspelt port name", "postgres/service.yaml", "targetPort: grpc", "targetPort: grcp",
     "port 'grcp' is no container port"),
    ("a budget that selects nothing", "postgres/pdb.yaml",
     "      app.kubernetes.io/instance: loginprofiled-pg\n",
     "      app.kubernetes.io/instance: loginprofiled-gp\n", "its selector matches no Pod template"),
    ("another user in the image", "../Dockerfile", "USER 10001:10001", "USER 10002:10001",
     "is not the image's USER 10002"),
]


def report(scratch, binary, version):
    """Everything both checks print for the scratch copy."""
    manifests = sorted(str(p) for p in (scratch / "deploy").rglob("*.yaml"))
    venv_bin = pathlib.Path(sys.executable).parent
    schema = subprocess.run(
        [venv_bin / "kubernetes-validate", "--strict", "--quiet",
         "--kubernetes-version", version, *manifests],
        capture_output=True, text=True, check=False,
    )
    check = subprocess.run(
        [sys.executable, HERE / "check.py", binary, scratch / "Dockerfile", *manifests],
        capture_output=True, text=True, check=False,
    )
    return schema.stdout + schema.stderr + check.stdout + check.stderr


def main(binary, version):
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = pathlib.Path(tmp)
        shutil.copytree(ROOT / "deploy", scratch / "deploy")
        shutil.copy(ROOT / "Dockerfile", scratch / "Dockerfile")
        baseline = report(scratch, binary, version)
        for what, name, text, broken, expected in FAULTS:
            path = scratch / "deploy" / name
            original = path.read_text()
            assert text in original, f"selftest: {text!r} is no longer in {name}"
            path.write_text(original.replace(text, broken, 1))
            found = report(scratch, binary, version)
            path.write_text(original)
            noticed = expected in found and expected not in baseline
            print(f"{'noticed' if noticed else 'MISSED '}: {what} ({name})")
            failures += not noticed
    print(f"{len(FAULTS) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
