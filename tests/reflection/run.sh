#!/usr/bin/env bash
# Starts the built binary on a free loopback port with a temp data dir and checks the
# reflection surface the way grpcurl uses it (tests/reflection/grpcurl_like.py).
# usage: tests/reflection/run.sh PATH_TO_LOGINPROFILED
set -euo pipefail
binary=${1:?usage: run.sh PATH_TO_LOGINPROFILED}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

venv=${REFLECTION_VENV:-$work/venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --listen "127.0.0.1:$port" --http-listen off --data-dir "$work/data" \
  --argon2-memory-kib 1024 --argon2-iterations 1 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
"$venv/bin/python" "$here/grpcurl_like.py" "127.0.0.1:$port" || { cat "$work/server.log"; exit 1; }
if grep -q -e "Str0ng!Passw0rd" -e '\$argon2' "$work/server.log"; then
  echo "a password or a hash reached the log" >&2
  exit 1
fi
echo "reflection check: 1 passed, 0 failed"
