#!/usr/bin/env bash
# Validates deploy/ offline, failing on any problem:
#  1. every manifest against the Kubernetes 1.30 OpenAPI schemas, strictly (an unknown field is
#     an error), with kubernetes-validate from a pinned venv; a kind it has no schema for (a
#     CRD such as a ServiceMonitor) is an error too, since it would go unchecked;
#  2. deploy/check.py: every --flag and LOGINPROFILED_* variable against the binary's --help,
#     the Pods' user against the Dockerfile's, hardening, grace periods and selectors;
#  3. deploy/selftest.py: both checks, on a scratch copy broken one fault at a time, notice it.
# Usage: deploy/validate.sh [BINARY]   (default: build and use target/debug/loginprofiled)
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VERSION=1.30.0
target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/deploy-venv"
mapfile -t manifests < <(find deploy -name '*.yaml' | sort)

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt

status=0
echo "== kubernetes-validate --strict, Kubernetes $KUBERNETES_VERSION: ${#manifests[@]} files"
# --quiet prints only warnings and failures: any line at all is a problem.
if ! report=$("$venv/bin/kubernetes-validate" --strict --quiet \
        --kubernetes-version "$KUBERNETES_VERSION" "${manifests[@]}" 2>&1) || [[ -n "$report" ]]; then
    echo "$report"
    echo "schema validation FAILED"
    status=1
else
    echo "every manifest is valid"
fi

binary="${1:-}"
if [[ -z "$binary" ]]; then
    cargo build --quiet --locked --bin loginprofiled
    binary="$target_dir/debug/loginprofiled"
fi
echo "== deploy/check.py: flags and variables against $binary --help, user, hardening, selectors"
if "$venv/bin/python" deploy/check.py "$binary" Dockerfile "${manifests[@]}"; then
    echo "manifests, binary and Dockerfile agree"
else
    echo "deploy/check.py FAILED"
    status=1
fi
echo "== deploy/selftest.py: each check notices the fault it is for"
if ! "$venv/bin/python" deploy/selftest.py "$binary" "$KUBERNETES_VERSION"; then
    echo "deploy/selftest.py FAILED"
    status=1
fi
exit "$status"
