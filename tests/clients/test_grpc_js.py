"""@grpc/grpc-js on the machine's Node.js, over a Unix socket (`unix:` target) with its own
default authority (localhost) and with the socket path, raw or percent-encoded, set through
`grpc.default_authority`; grpc_js_client.js makes the calls."""

import json
import os
import subprocess
import urllib.parse

import pytest

from conftest import PROTO_ROOT

CLIENT = os.path.join(os.path.dirname(__file__), "grpc_js_client.js")


@pytest.mark.parametrize("authority", ["default", "socket-path", "percent-encoded-path"])
def test_grpc_js_calls_over_a_unix_socket(unix_server, name, authority):
    value = {
        "default": [],
        "socket-path": [unix_server.socket],
        "percent-encoded-path": [urllib.parse.quote(unix_server.socket, safe="")],
    }[authority]
    result = subprocess.run(
        ["node", CLIENT, unix_server.target, PROTO_ROOT, name, *value],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    created = answers["created"]["reply"]["user"]
    assert created["user_name"] == name, answers
    assert created["arn"] == f"arn:aws:iam::123456789012:user/js/{name}", answers
    assert answers["got"]["reply"]["user"]["user_id"] == created["user_id"], answers
    assert answers["missing"]["error"] == {
        "code": 5,  # NOT_FOUND
        "details": "The user with name nobody cannot be found.",
    }, answers
