"""The README's grpcurl transcripts: every ```console block is a sequence of `$ grpcurl ...`
commands (a trailing backslash continues a command), each followed by what it printed.

`same_shape` compares what a command prints now with what the README shows: text lines word for
word (codes, messages, `list`, `describe`), JSON by its keys and values, except values that differ
on every run (user ids, timestamps), which need only have the same form.
"""

import json
import re

FENCE = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)
VOLATILE = [
    re.compile(r"AIDA[A-Z0-9]{17}"),  # user ids
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"),  # timestamps
]


def console_blocks(markdown):
    """[[(command, expected output), ...], ...], one list per ```console block."""
    blocks = []
    for body in FENCE.findall(markdown):
        steps = []
        lines = body.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("$ "):
                raise ValueError(f"output before any command in a console block: {line!r}")
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
        blocks.append(steps)
    return blocks


def _json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _same_value(expected, actual, where, problems):
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(expected) != set(actual):
            problems.append(f"{where}: keys {sorted(actual) if isinstance(actual, dict) else actual!r}"
                            f", README shows {sorted(expected)}")
            return
        for key in expected:
            _same_value(expected[key], actual[key], f"{where}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            problems.append(f"{where}: {actual!r}, README shows {expected!r}")
            return
        for n, (e, a) in enumerate(zip(expected, actual)):
            _same_value(e, a, f"{where}[{n}]", problems)
    elif isinstance(expected, str) and any(p.fullmatch(expected) for p in VOLATILE):
        if not (isinstance(actual, str) and any(p.fullmatch(actual) for p in VOLATILE
                                                if p.fullmatch(expected))):
            problems.append(f"{where}: {actual!r} is not of the form of {expected!r}")
    elif expected != actual:
        problems.append(f"{where}: {actual!r}, README shows {expected!r}")


def same_shape(expected, actual):
    """What differs between the README's output and the real one (empty when they agree)."""
    problems = []
    expected_json = _json(expected)
    if expected_json is not None:
        actual_json = _json(actual)
        if actual_json is None:
            return [f"README shows JSON, grpcurl printed:\n{actual}"]
        _same_value(expected_json, actual_json, "$", problems)
        return problems
    want, got = expected.rstrip().splitlines(), actual.rstrip().splitlines()
    if len(want) != len(got):
        return [f"{len(got)} lines printed, README shows {len(want)}:\n{actual}"]
    for n, (w, g) in enumerate(zip(want, got), 1):
        brace = w.find("{")
        if brace >= 0 and _json(w[brace:]) is not None:
            if g[:brace] != w[:brace] or _json(g[brace:]) is None:
                problems.append(f"line {n}: {g!r}, README shows {w!r}")
            else:
                _same_value(_json(w[brace:]), _json(g[brace:]), f"line {n}", problems)
        elif w.rstrip() != g.rstrip():
            problems.append(f"line {n}: {g!r}, README shows {w!r}")
    return problems
