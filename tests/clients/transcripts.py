"""The docs' transcripts: `same_shape` compares what a command prints now with what a ```console
block of the docs shows (docs_examples.py finds and runs the blocks): text lines word for word
(codes, messages, `list`, `describe`), JSON by its keys and values, except values that differ on
every run (user ids, timestamps, tokens and their digests, the size and date `ls -l` shows), which
need only have the same form.
"""

import json
import re

VOLATILE = [
    re.compile(r"AIDA[A-Z0-9]{17}"),  # user ids
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"),  # timestamps
]
# A line of the server's log (text format).
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z +(TRACE|DEBUG|INFO|WARN|ERROR) ")
# The same in text lines, with what stands for them when two lines are compared.
VOLATILE_TEXT = [
    (re.compile(r"AIDA[A-Z0-9]{17}"), "<user id>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])"), "<random hex>"),  # tokens, their SHA-256 digests
    # `ls -l`: mode and name stay; links, owner, size and date vary.
    (re.compile(r"^([-dlrwxsStT]{10}) +\d+ +\S+ +\S+ +\d+ +\w{3} +\d+ +[\d:]+ "), r"\1 <ls -l> "),
]


def _text(line):
    for pattern, stand_in in VOLATILE_TEXT:
        line = pattern.sub(stand_in, line)
    return line.rstrip()


def _json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _same_value(expected, actual, where, problems):
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(expected) != set(actual):
            problems.append(f"{where}: keys {sorted(actual) if isinstance(actual, dict) else actual!r}"
                            f", the docs show {sorted(expected)}")
            return
        for key in expected:
            _same_value(expected[key], actual[key], f"{where}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            problems.append(f"{where}: {actual!r}, the docs show {expected!r}")
            return
        for n, (e, a) in enumerate(zip(expected, actual)):
            _same_value(e, a, f"{where}[{n}]", problems)
    elif isinstance(expected, str) and any(p.fullmatch(expected) for p in VOLATILE):
        if not (isinstance(actual, str) and any(p.fullmatch(actual) for p in VOLATILE
                                                if p.fullmatch(expected))):
            problems.append(f"{where}: {actual!r} is not of the form of {expected!r}")
    elif expected != actual:
        problems.append(f"{where}: {actual!r}, the docs show {expected!r}")


def same_shape(expected, actual):
    """What differs between the docs' output and the real one (empty when they agree)."""
    problems = []
    expected_json = _json(expected)
    if expected_json is not None:
        actual_json = _json(actual)
        if actual_json is None:
            return [f"the docs show JSON, the command printed:\n{actual}"]
        _same_value(expected_json, actual_json, "$", problems)
        return problems
    want, got = expected.rstrip().splitlines(), actual.rstrip().splitlines()
    if len(want) != len(got):
        return [f"{len(got)} lines printed, the docs show {len(want)}:\n{actual}"]
    # The server's log lines come from its log-writer thread, so where they fall among the lines
    # printed directly may vary from run to run: each kind is compared in its own order.
    want = [l for l in want if not LOG_LINE.match(l)] + [l for l in want if LOG_LINE.match(l)]
    got = [l for l in got if not LOG_LINE.match(l)] + [l for l in got if LOG_LINE.match(l)]
    for n, (w, g) in enumerate(zip(want, got), 1):
        brace = w.find("{")
        if brace >= 0 and _json(w[brace:]) is not None:
            if g[:brace] != w[:brace] or _json(g[brace:]) is None:
                problems.append(f"line {n}: {g!r}, the docs show {w!r}")
            else:
                _same_value(_json(w[brace:]), _json(g[brace:]), f"line {n}", problems)
        elif _text(w) != _text(g):
            problems.append(f"line {n}: {g!r}, the docs show {w!r}")
    return problems
