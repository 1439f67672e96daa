"""Runs last (files run in name order): the servers' access logs, after every other test."""

import json


def access_lines(server):
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    return [l["fields"] for l in lines if l.get("fields", {}).get("message") == "query api call"]


def test_access_logs_have_one_line_per_request_and_no_secrets(keyed, open_server):
    for server in (keyed, open_server):
        logs = server.logs()
        assert access_lines(server)
        for secret in ("horse", "New pass", "Another one", "Wrong pass", "Password=", "Action=", "wJalrXUtnFEMI"):
            assert secret not in logs, f"{secret!r} in the log:\n{logs}"
    lines = access_lines(keyed)
    assert {"action", "status", "code", "latency_ms", "caller", "request_id"} <= set(lines[0])
    assert any(l["action"] == "ListUsers" and l["status"] == 200 and l["caller"] == "ops" for l in lines)
    assert any(l["code"] == "SignatureDoesNotMatch" and l["status"] == 403 for l in lines)
