#!/usr/bin/env python3
"""Regenerates src/screening/builtin.blf, the built-in password blocklist, from pinned packages.

The lists (each package's own licence applies to its list):
  - Django 5.2.19 (PyPI `django`, BSD-3-Clause): django/contrib/auth/common-passwords.txt.gz,
    the 20,000 most common passwords (Royce Williams' list, as Django ships it).
  - zxcvbn 4.5.0 (PyPI `zxcvbn`, MIT): every frequency list in zxcvbn/frequency_lists.py:
    passwords (30,000), english_wikipedia, female_names, male_names, surnames, us_tv_and_film.

Entries are compared without regard to case, so the union is counted lower-cased: 100,802.
The wheels are downloaded with pip (from PyPI only) and checked against the SHA-256 below; the
compiled file is then built with `loginprofiled blocklist build`, which is deterministic, so a
run reproduces the committed file byte for byte (tests check its entries and SHA-256).

Usage: python3 scripts/build-blocklist.py [--loginprofiled PATH]   (from the repository root)
"""

import argparse
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile

WHEELS = {
    "django==5.2.19": (
        "django-5.2.19-py3-none-any.whl",
        "5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00",
    ),
    "zxcvbn==4.5.0": (
        "zxcvbn-4.5.0-py2.py3-none-any.whl",
        "2b6eed621612ce6d65e6e4c7455b966acee87d0280e257956b1f06ccc66bd5ff",
    ),
}
OUTPUT = "src/screening/builtin.blf"


def download(spec, directory):
    name, sha256 = WHEELS[spec]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         "--only-binary=:all:", "-d", directory, spec],
        check=True,
    )
    path = os.path.join(directory, name)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != sha256:
        sys.exit(f"{name}: SHA-256 {digest}, expected {sha256}")
    return zipfile.ZipFile(path)


def django_passwords(wheel):
    data = wheel.read("django/contrib/auth/common-passwords.txt.gz")
    return [line.strip() for line in gzip.decompress(data).decode().splitlines()]


def zxcvbn_words(wheel):
    source = wheel.read("zxcvbn/frequency_lists.py").decode()
    scope = {}
    exec(compile(source, "frequency_lists.py", "exec"), scope)  # a literal dict of lists
    return [word for words in scope["FREQUENCY_LISTS"].values() for word in words]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loginprofiled", default=None,
                        help="the binary to compile with (default: cargo run --release)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        entries = django_passwords(download("django==5.2.19", tmp))
        entries += zxcvbn_words(download("zxcvbn==4.5.0", tmp))
        entries = [e for e in entries if e and "\n" not in e and "\r" not in e]
        print(f"{len(entries)} entries, {len({e.lower() for e in entries})} distinct without regard to case")
        listing = os.path.join(tmp, "builtin.txt")
        with io.open(listing, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(e + "\n" for e in entries))
        command = ([args.loginprofiled] if args.loginprofiled else
                   ["cargo", "run", "--release", "--quiet", "--bin", "loginprofiled", "--"])
        subprocess.run(command + ["blocklist", "build", "--input", listing, "--output", OUTPUT,
                                  "--fingerprint-bits", "32"],
                       check=True)
    with open(OUTPUT, "rb") as f:
        print(f"{OUTPUT}: SHA-256 {hashlib.sha256(f.read()).hexdigest()}")


if __name__ == "__main__":
    main()
