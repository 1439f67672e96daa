"""Hashes made by the real implementations other systems use (argon2-cffi, Python bcrypt,
Django's make_password, passlib, hashlib, `openssl passwd`, `mkpasswd`), brought in over gRPC
(ImportLoginProfile, with the real grpcurl) and through `loginprofiled import`, on the embedded
store and on PostgreSQL: the right password signs in (and upgrades the hash), a wrong one is
refused, and both still hold after a restart. Before anyone signs in, `export` writes every
imported hash back verbatim."""

import base64
import hashlib
import json
import os
import subprocess
import uuid

import argon2
import bcrypt
import pytest
from argon2.low_level import Type, hash_secret
from passlib import hash as passlib_hash

from conftest import Server, grpcurl

PASSWORD = "Imported-Passw0rd!"
WRONG = "Imported-Passw0rd?"
DATABASE_URL = os.environ.get(
    "LOGINPROFILED_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def django_hash(algorithm, iterations=20000):
    from django.conf import settings
    if not settings.configured:
        settings.configure(PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        ])
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher
    hasher = {"pbkdf2_sha256": PBKDF2PasswordHasher, "pbkdf2_sha1": PBKDF2SHA1PasswordHasher}
    hasher = hasher[algorithm]()
    return hasher.encode(PASSWORD, hasher.salt(), iterations=iterations)


def phc_pbkdf2(digest, iterations=20000):
    """The PHC spelling (`$pbkdf2-sha256$i=N,l=L$salt$hash`), computed by hashlib."""
    salt = os.urandom(16)
    out = hashlib.pbkdf2_hmac(digest, PASSWORD.encode(), salt, iterations)
    b64 = lambda raw: base64.b64encode(raw).decode().rstrip("=")
    return f"$pbkdf2-{digest}$i={iterations},l={len(out)}${b64(salt)}${b64(out)}"


def command(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def hashes():
    """One hash of PASSWORD per supported spelling, each made by an independent implementation;
    PBKDF2 with 20,000 iterations so that the unoptimised test build checks them quickly."""
    made = {
        "argon2id (argon2-cffi)": argon2.PasswordHasher(
            memory_cost=19456, time_cost=2, parallelism=1).hash(PASSWORD),
        "argon2i (argon2-cffi)": hash_secret(
            PASSWORD.encode(), os.urandom(16), 2, 8192, 1, 32, Type.I).decode(),
        "argon2d (argon2-cffi)": hash_secret(
            PASSWORD.encode(), os.urandom(16), 1, 8192, 2, 32, Type.D).decode(),
        "bcrypt $2b$ (bcrypt)": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(10)).decode(),
        "bcrypt $2a$ (bcrypt)": bcrypt.hashpw(
            PASSWORD.encode(), bcrypt.gensalt(10, prefix=b"2a")).decode(),
        "pbkdf2_sha256 (Django)": django_hash("pbkdf2_sha256"),
        "pbkdf2_sha1 (Django)": django_hash("pbkdf2_sha1"),
        "pbkdf2-sha256 (passlib)": passlib_hash.pbkdf2_sha256.using(rounds=20000).hash(PASSWORD),
        "pbkdf2-sha512 (passlib)": passlib_hash.pbkdf2_sha512.using(rounds=20000).hash(PASSWORD),
        "pbkdf2 sha1 (passlib)": passlib_hash.pbkdf2_sha1.using(rounds=20000).hash(PASSWORD),
        "pbkdf2-sha256 PHC (hashlib)": phc_pbkdf2("sha256"),
        "pbkdf2-sha512 PHC (hashlib)": phc_pbkdf2("sha512"),
        "pbkdf2-sha1 PHC (hashlib)": phc_pbkdf2("sha1"),
        "scrypt (passlib)": passlib_hash.scrypt.using(rounds=14, block_size=8).hash(PASSWORD),
        "sha512-crypt (openssl passwd -6)": command("openssl", "passwd", "-6", PASSWORD),
        "sha256-crypt (openssl passwd -5)": command("openssl", "passwd", "-5", PASSWORD),
        "md5-crypt (openssl passwd -1)": command("openssl", "passwd", "-1", PASSWORD),
        "sha512-crypt rounds= (mkpasswd)": command(
            "mkpasswd", "-m", "sha-512", "-R", "20000", PASSWORD),
        "sha256-crypt rounds= (mkpasswd)": command(
            "mkpasswd", "-m", "sha-256", "-R", "20000", PASSWORD),
    }
    return list(made.items())


HASHES = hashes()


def psql(sql):
    admin = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True,
                   capture_output=True)


@pytest.fixture(params=["sled", "postgres"])
def store_args(request):
    """The serve/import flags of a fresh store of each kind."""
    if request.param == "sled":
        yield []
        return
    name = "lp_import_" + uuid.uuid4().hex[:12]
    psql(f"CREATE DATABASE {name}")
    yield ["--database-url", DATABASE_URL.rsplit("/", 1)[0] + "/" + name]
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def call(server, method, body):
    return grpcurl("-plaintext", "-d", json.dumps(body), *server.grpcurl_address,
                   f"iam.loginprofile.v1.{method}")


def verify(server, user, password):
    code, printed = call(server, "LoginProfileService/VerifyPassword",
                         {"user_name": user, "password": password})
    assert code == 0, printed
    return json.loads(printed)


def assert_every_user_signs_in(server, names):
    for (label, _), user in zip(HASHES, names):
        assert verify(server, user, WRONG)["result"] == "VERIFY_RESULT_INVALID_CREDENTIALS", label
        for _ in range(2):  # the first upgrades the hash, the second checks the new one
            answer = verify(server, user, PASSWORD)
            assert answer["result"] == "VERIFY_RESULT_OK", (label, answer)
            assert not answer.get("passwordResetRequired"), (label, answer)


def test_every_format_imported_over_grpc_signs_in_before_and_after_a_restart(store_args):
    first = server = Server("tcp", *store_args)
    try:
        names = [f"grpc-{i}" for i in range(len(HASHES))]
        for (label, made), user in zip(HASHES, names):
            code, printed = call(server, "UserService/CreateUser", {"user_name": user})
            assert code == 0, printed
            code, printed = call(server, "LoginProfileService/ImportLoginProfile",
                                 {"user_name": user, "password_hash": made})
            assert code == 0, (label, printed)
            assert json.loads(printed)["loginProfile"]["userName"] == user
            assert made not in printed
        assert_every_user_signs_in(server, names)
        first.process.terminate()
        first.process.wait(timeout=30)
        server = Server("tcp", *store_args, data_dir=first.data_dir)
        assert_every_user_signs_in(server, names)
        assert PASSWORD not in server.logs()
        assert not any(made in server.logs() for _, made in HASHES)
    finally:
        server.stop()
        first.stop()


def import_file(names):
    lines = [{"type": "header", "format": "loginprofiled-export", "version": 2}]
    for i, ((_, made), user) in enumerate(zip(HASHES, names)):
        lines.append({"type": "user", "user_name": user, "user_id": f"AIDA{i:017d}",
                      "path": "/", "create_date_ms": 1700000000000, "tags": []})
        lines.append({"type": "profile", "user_name": user, "password_hash": made,
                      "previous_hashes": [], "password_reset_required": False,
                      "create_date_ms": 1700000000000, "password_set_ms": 1700000000000,
                      "version": 0})
    body = "".join(json.dumps(line) + "\n" for line in lines)
    # The trailer: the counts and the SHA-256 of every line before it, as export writes it.
    end = {"type": "end", "users": len(names), "profiles": len(names), "policy": False,
           "sha256": hashlib.sha256(body.encode()).hexdigest()}
    return body + json.dumps(end) + "\n"


def test_every_format_imported_from_a_file_exports_verbatim_and_signs_in(store_args, tmp_path):
    names = [f"file-{i}" for i in range(len(HASHES))]
    data = tmp_path / "data"
    target = store_args or ["--data-dir", str(data)]
    source = tmp_path / "users.jsonl"
    source.write_text(import_file(names))
    binary = os.environ["LOGINPROFILED_BIN"]
    imported = subprocess.run([binary, "import", *target, "--input", str(source)],
                              capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    exported = subprocess.run([binary, "export", *target], capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    profiles = {line["user_name"]: line["password_hash"]
                for line in map(json.loads, exported.stdout.splitlines())
                if line["type"] == "profile"}
    assert [profiles[user] for user in names] == [made for _, made in HASHES]

    server = Server("tcp", *store_args, data_dir=None if store_args else str(data))
    try:
        assert_every_user_signs_in(server, names)
    finally:
        server.stop()


def test_a_hash_past_its_bounds_fails_the_whole_import_naming_its_line(tmp_path):
    names = [f"file-{i}" for i in range(len(HASHES))]
    lines = import_file(names).splitlines()
    hostile = "$2b$31$" + bcrypt.gensalt(4).decode()[7:] + "A" * 31
    profile = json.loads(lines[4])
    profile["password_hash"] = hostile
    lines[4] = json.dumps(profile)
    source = tmp_path / "users.jsonl"
    source.write_text("\n".join(lines) + "\n")
    data = tmp_path / "data"
    imported = subprocess.run(
        [os.environ["LOGINPROFILED_BIN"], "import", "--data-dir", str(data), "--input",
         str(source)], capture_output=True, text=True)
    assert imported.returncode != 0
    assert "line 5: " in imported.stderr, imported.stderr
    assert "cost is outside the supported bounds" in imported.stderr, imported.stderr
    assert hostile not in imported.stderr
    assert not data.exists()
