#!/usr/bin/env bash
# The Query API compatibility suite: the real aws CLI (v1 from PyPI, v2 from Debian's awscli
# package) and boto3 against freshly started loginprofiled servers. Non-interactive; run from
# anywhere: `bash tests/compat/run.sh`. Extra arguments go to pytest.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${COMPAT_VENV:-$target/compat-venv}"

echo "==> building loginprofiled"
cargo build --quiet --locked --manifest-path "$root/Cargo.toml" --bin loginprofiled
export LOGINPROFILED_BIN="$target/debug/loginprofiled"

echo "==> python venv with pinned boto3, aws CLI v1 and pytest ($venv)"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$root/tests/compat/requirements.txt"
export AWS_CLI_V1="$venv/bin/aws"

echo "==> aws CLI v2 (Debian's awscli package)"
if [ ! -x /usr/bin/aws ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
    else
        sudo -n apt-get update -qq
        sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
    fi
fi
export AWS_CLI_V2=/usr/bin/aws
"$AWS_CLI_V1" --version
"$AWS_CLI_V2" --version

echo "==> oathtool (Debian), which the MFA chapter's examples make codes with"
if ! command -v oathtool >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq oathtool >/dev/null
    else
        sudo -n apt-get update -qq
        sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq oathtool >/dev/null
    fi
fi
oathtool --version | head -n 1

echo "==> pytest"
cd "$root/tests/compat"
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
