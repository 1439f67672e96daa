"""IAM virtual MFA devices with real clients: the whole life of a device driven by the real
grpcurl through reflection (no proto files) and by grpcio's generated stubs; its QR code read by
a real decoder (zxing-cpp) and its otpauth URI parsed by pyotp; its codes made by independent
TOTP implementations (pyotp, and Debian's oathtool). Then what the service writes: no seed, in
base32, raw or hex, in the embedded store's files, a PostgreSQL dump, the trace log, the audit
file, the metrics or `export`; a server with the wrong key refuses to start and says why; key
rotation with `mfa rotate-keys` keeps the devices working under the new key alone; two replicas
on one database accept a code once."""

import base64
import concurrent.futures
import io
import json
import os
import re
import stat
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import grpc
import pyotp
import pytest
import zxingcpp
from PIL import Image

from conftest import Server, free_port, grpcurl

BIN = os.environ.get("LOGINPROFILED_BIN", "loginprofiled")
ACCOUNT = "123456789012"
PASSWORD = "Str0ng!Passw0rd"
DATABASE_URL = os.environ.get(
    "LOGINPROFILED_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
INVALID_CODE = "Authentication code for device is not valid."


# --- Keys, calls and codes -------------------------------------------------------------------


def generate_key():
    done = subprocess.run([BIN, "mfa", "generate-key"], capture_output=True, text=True, check=True)
    line = done.stdout.strip()
    assert len(base64.b64decode(line, validate=True)) == 32, line
    return line


def write_key_file(path, *keys):
    """A key file as the docs show it: a comment, then one key a line (the first encrypts)."""
    with open(path, "w") as f:
        f.write("# loginprofiled MFA seed keys: the first encrypts, all decrypt\n")
        for key in keys:
            f.write(key + "\n")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return str(path)


def call(server, method, body):
    """(exit code, output) of the real grpcurl calling iam.loginprofile.v1.`method`."""
    return grpcurl("-plaintext", "-d", json.dumps(body), *server.grpcurl_address,
                   f"iam.loginprofile.v1.{method}")


def ok(server, method, body):
    code, printed = call(server, method, body)
    assert code == 0, f"{method} {body}: {printed}"
    return json.loads(printed)


def error_details(printed):
    return [json.loads(line.split("\t", 1)[1]) for line in printed.splitlines()
            if line.startswith("  ") and ")\t{" in line]


def fails(server, method, body, status, reason, message=None):
    """Asserts a gRPC error with its status code, ErrorInfo reason and (if given) message."""
    code, printed = call(server, method, body)
    assert code != 0, f"{method} {body} succeeded: {printed}"
    assert f"  Code: {status}\n" in printed, printed
    reasons = [d.get("reason") for d in error_details(printed)
               if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert reasons == [reason], printed
    if message is not None:
        assert f"  Message: {message}\n" in printed, printed
    return printed


def verify(server, user, password=PASSWORD, code=None):
    body = {"user_name": user, "password": password}
    if code is not None:
        body["mfa_code"] = code
    return ok(server, "LoginProfileService/VerifyPassword", body)["result"]


def settled():
    """The time now, or at the start of the next 30 s step when fewer than 5 s of this one are
    left, so that the codes a test computes are checked in the step it computed them for."""
    now = time.time()
    if now % 30 > 25:
        time.sleep(30.2 - now % 30)
        now = time.time()
    return now


def oathtool_codes(seed, at, count):
    """`count` consecutive codes from the step of `at`, made by Debian's oathtool."""
    done = subprocess.run(
        ["oathtool", "--totp", "--base32", f"--now=@{int(at)}", f"--window={count - 1}", seed],
        capture_output=True, text=True, check=True)
    return done.stdout.split()


def wrong_code(totp, t):
    """A six-digit code that no step near `t` has."""
    near = {totp.at(t + 30 * k) for k in range(-25, 26)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1000000, 7919)) if c not in near)


def decode_qr(png):
    """The text of the one QR code in a PNG, read by zxing-cpp."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), png[:16]
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode, found[0].format
    return found[0].text


def create_device(server, device_name, path=None):
    """CreateVirtualMFADevice: (serial number, base32 seed, otpauth URI of the QR code)."""
    body = {"virtual_mfa_device_name": device_name}
    if path:
        body["path"] = path
    device = ok(server, "MFADeviceService/CreateVirtualMFADevice", body)["virtualMfaDevice"]
    seed = base64.b64decode(device["base32StringSeed"]).decode()
    uri = decode_qr(base64.b64decode(device["qrCodePng"]))
    return device["serialNumber"], seed, uri


def enable(server, user, serial, seed):
    """Enables with the codes of the previous and the current step (so that the next step's
    code is fresh for a sign-in right after); returns the time they were made for."""
    t = settled()
    totp = pyotp.TOTP(seed)
    ok(server, "MFADeviceService/EnableMFADevice", {
        "user_name": user, "serial_number": serial,
        "authentication_code_1": totp.at(t - 30), "authentication_code_2": totp.at(t)})
    return t


def new_user(server, name, profile=True):
    ok(server, "UserService/CreateUser", {"user_name": name})
    if profile:
        ok(server, "LoginProfileService/CreateLoginProfile", {"user_name": name, "password": PASSWORD})


def key_server(tmp_path, *extra, **kw):
    keys = write_key_file(tmp_path / "mfa.keys", generate_key())
    return Server("tcp", "--mfa-key-file", keys, *extra, **kw), keys


@pytest.fixture(scope="module")
def mfa_server(tmp_path_factory):
    server, _ = key_server(tmp_path_factory.mktemp("mfa-keys"), "--lockout-threshold", "0")
    yield server
    server.stop()


# --- The life of a device over grpcurl -------------------------------------------------------


def test_reflection_describes_the_mfa_service(mfa_server):
    code, printed = grpcurl("-plaintext", *mfa_server.grpcurl_address,
                            "describe", "iam.loginprofile.v1.MFADeviceService")
    assert code == 0, printed
    for method in ("CreateVirtualMFADevice", "EnableMFADevice", "ResyncMFADevice",
                   "DeactivateMFADevice", "DeleteVirtualMFADevice", "ListMFADevices",
                   "ListVirtualMFADevices"):
        assert f"rpc {method} ( .iam.loginprofile.v1.{method}Request )" in printed, printed
    code, printed = grpcurl("-plaintext", *mfa_server.grpcurl_address,
                            "describe", "iam.loginprofile.v1.VerifyPasswordRequest")
    assert code == 0, printed
    assert "optional string mfa_code = 3;" in printed, printed


def test_create_returns_a_seed_and_a_qr_code_of_its_otpauth_uri(mfa_server, name):
    device_name = "phone-" + name
    serial, seed, uri = create_device(mfa_server, device_name, path="/eng/")
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/eng/{device_name}"
    # 20 random bytes, base32 without padding.
    assert re.fullmatch(r"[A-Z2-7]{32}", seed), seed
    assert len(base64.b32decode(seed)) == 20
    # The label is issuer:name@account, the name without its path.
    assert uri == (f"otpauth://totp/loginprofiled:{device_name}@{ACCOUNT}"
                   f"?secret={seed}&issuer=loginprofiled"), uri
    parsed = urllib.parse.urlsplit(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert urllib.parse.parse_qs(parsed.query) == {"secret": [seed], "issuer": ["loginprofiled"]}
    # What an authenticator app built on pyotp makes of it.
    totp = pyotp.parse_uri(uri)
    assert (totp.secret, totp.issuer, totp.name) == (seed, "loginprofiled", f"{device_name}@{ACCOUNT}")
    assert (totp.digits, totp.interval, totp.digest().name) == (6, 30, "sha1")
    # Two independent implementations agree on the codes of the seed.
    t = settled()
    assert oathtool_codes(seed, t, 3) == [pyotp.TOTP(seed).at(t + 30 * k) for k in range(3)]
    # The seed and QR code are shown once: no list shows them again.
    listed = ok(mfa_server, "MFADeviceService/ListVirtualMFADevices",
                {"assignment_status": "ASSIGNMENT_STATUS_UNASSIGNED"})["virtualMfaDevices"]
    mine = [d for d in listed if d["serialNumber"] == serial]
    assert mine == [{"serialNumber": serial}], mine
    ok(mfa_server, "MFADeviceService/DeleteVirtualMFADevice", {"serial_number": serial})


def test_the_issuer_flag_names_the_issuer_percent_encoded(tmp_path, name):
    server, _ = key_server(tmp_path, "--mfa-issuer", "Example Corp")
    try:
        _, seed, uri = create_device(server, name)
    finally:
        server.stop()
    assert uri == (f"otpauth://totp/Example%20Corp:{name}@{ACCOUNT}"
                   f"?secret={seed}&issuer=Example%20Corp"), uri
    assert pyotp.parse_uri(uri).issuer == "Example Corp"


def test_the_whole_life_of_a_device_with_grpcurl(mfa_server, name):
    new_user(mfa_server, name)
    serial, seed, _ = create_device(mfa_server, "dev-" + name)
    totp = pyotp.TOTP(seed)
    device = {"user_name": name, "serial_number": serial}
    # Unassigned, the device asks nothing at sign-in.
    assert verify(mfa_server, name) == "VERIFY_RESULT_OK"
    assert ok(mfa_server, "MFADeviceService/ListMFADevices", {"user_name": name}) == {}

    # Enable: wrong codes, codes that are not consecutive, codes two steps away: all refused.
    t = settled()
    wrong = wrong_code(totp, t)
    for first, second in [(wrong, totp.at(t + 30)), (totp.at(t), totp.at(t)),
                          (totp.at(t), totp.at(t + 60)), (totp.at(t - 90), totp.at(t - 60)),
                          (totp.at(t + 60), totp.at(t + 90))]:
        fails(mfa_server, "MFADeviceService/EnableMFADevice",
              {**device, "authentication_code_1": first, "authentication_code_2": second},
              "PermissionDenied", "InvalidAuthenticationCode", INVALID_CODE)
    fails(mfa_server, "MFADeviceService/EnableMFADevice",
          {**device, "authentication_code_1": "12345", "authentication_code_2": totp.at(t)},
          "InvalidArgument", "ValidationError")
    # Two consecutive codes (the previous step's and this one's), made by oathtool.
    first, second = oathtool_codes(seed, t - 30, 2)
    ok(mfa_server, "MFADeviceService/EnableMFADevice",
       {**device, "authentication_code_1": first, "authentication_code_2": second})
    fails(mfa_server, "MFADeviceService/EnableMFADevice",
          {**device, "authentication_code_1": totp.at(t + 60), "authentication_code_2": totp.at(t + 90)},
          "AlreadyExists", "EntityAlreadyExists")

    listed = ok(mfa_server, "MFADeviceService/ListMFADevices", {"user_name": name})["mfaDevices"]
    assert [(d["userName"], d["serialNumber"]) for d in listed] == [(name, serial)]
    assigned = ok(mfa_server, "MFADeviceService/ListVirtualMFADevices",
                  {"assignment_status": "ASSIGNMENT_STATUS_ASSIGNED"})["virtualMfaDevices"]
    mine = [d for d in assigned if d["serialNumber"] == serial]
    assert len(mine) == 1 and mine[0]["user"]["userName"] == name, assigned
    assert set(mine[0]) == {"serialNumber", "user", "enableDate"}, mine
    unassigned = ok(mfa_server, "MFADeviceService/ListVirtualMFADevices",
                    {"assignment_status": "ASSIGNMENT_STATUS_UNASSIGNED"})
    assert serial not in json.dumps(unassigned)

    # Sign-in: the password first, then the code.
    assert verify(mfa_server, name) == "VERIFY_RESULT_MFA_REQUIRED"
    assert verify(mfa_server, name, code="") == "VERIFY_RESULT_MFA_REQUIRED"
    assert verify(mfa_server, name, "Wrong!Passw0rd", totp.at(t + 30)) == \
        "VERIFY_RESULT_INVALID_CREDENTIALS"
    # Enable's codes are used up; a code two steps ahead is outside the window.
    assert verify(mfa_server, name, code=second) == "VERIFY_RESULT_INVALID_CREDENTIALS"
    assert verify(mfa_server, name, code=totp.at(t + 60)) == "VERIFY_RESULT_INVALID_CREDENTIALS"
    fails(mfa_server, "LoginProfileService/VerifyPassword",
          {"user_name": name, "password": PASSWORD, "mfa_code": "12a456"},
          "InvalidArgument", "ValidationError")
    # The next step's code (which the wrong password did not use up) signs in, once.
    fresh = totp.at(t + 30)
    assert verify(mfa_server, name, code=fresh) == "VERIFY_RESULT_OK"
    assert verify(mfa_server, name, code=fresh) == "VERIFY_RESULT_INVALID_CREDENTIALS"

    # Resync: wrong codes refused; codes from a clock 5 steps ahead store that drift, which
    # sign-in then applies.
    fails(mfa_server, "MFADeviceService/ResyncMFADevice",
          {**device, "authentication_code_1": wrong, "authentication_code_2": wrong},
          "PermissionDenied", "InvalidAuthenticationCode", INVALID_CODE)
    ok(mfa_server, "MFADeviceService/ResyncMFADevice",
       {**device, "authentication_code_1": totp.at(t + 150), "authentication_code_2": totp.at(t + 180)})
    assert verify(mfa_server, name, code=totp.at(t + 210)) == "VERIFY_RESULT_OK"

    # An assigned device cannot be deleted; deactivated, it can, and sign-in asks no code.
    fails(mfa_server, "MFADeviceService/DeleteVirtualMFADevice", {"serial_number": serial},
          "FailedPrecondition", "DeleteConflict",
          "Cannot delete entity, must deactivate MFA device first.")
    ok(mfa_server, "MFADeviceService/DeactivateMFADevice", device)
    fails(mfa_server, "MFADeviceService/DeactivateMFADevice", device, "NotFound", "NoSuchEntity")
    assert verify(mfa_server, name) == "VERIFY_RESULT_OK"
    assert ok(mfa_server, "MFADeviceService/ListMFADevices", {"user_name": name}) == {}
    ok(mfa_server, "MFADeviceService/DeleteVirtualMFADevice", {"serial_number": serial})
    fails(mfa_server, "MFADeviceService/DeleteVirtualMFADevice", {"serial_number": serial},
          "NotFound", "NoSuchEntity")
    listed = ok(mfa_server, "MFADeviceService/ListVirtualMFADevices", {})
    assert serial not in json.dumps(listed)


def test_device_names_are_unique_and_a_user_with_a_device_cannot_be_deleted(mfa_server, name):
    new_user(mfa_server, name, profile=False)
    serial, seed, _ = create_device(mfa_server, "d-" + name)
    fails(mfa_server, "MFADeviceService/CreateVirtualMFADevice",
          {"virtual_mfa_device_name": "D-" + name.upper(), "path": "/other/"},
          "AlreadyExists", "EntityAlreadyExists")
    enable(mfa_server, name, serial, seed)
    fails(mfa_server, "UserService/DeleteUser", {"user_name": name},
          "FailedPrecondition", "DeleteConflict", "Cannot delete entity, must delete MFA device first.")
    ok(mfa_server, "MFADeviceService/DeactivateMFADevice", {"user_name": name, "serial_number": serial})
    ok(mfa_server, "UserService/DeleteUser", {"user_name": name})
    ok(mfa_server, "MFADeviceService/DeleteVirtualMFADevice", {"serial_number": serial})


def test_eight_devices_a_user_and_a_code_from_any_of_them(mfa_server, name):
    new_user(mfa_server, name)
    devices = [create_device(mfa_server, f"m{i}-{name}")[:2] for i in range(9)]
    for serial, seed in devices[:8]:
        t = enable(mfa_server, name, serial, seed)
    serial, seed = devices[8]
    totp = pyotp.TOTP(seed)
    fails(mfa_server, "MFADeviceService/EnableMFADevice",
          {"user_name": name, "serial_number": serial,
           "authentication_code_1": totp.at(t - 30), "authentication_code_2": totp.at(t)},
          "ResourceExhausted", "LimitExceeded")
    listed = ok(mfa_server, "MFADeviceService/ListMFADevices", {"user_name": name, "max_items": 5})
    assert len(listed["mfaDevices"]) == 5 and listed["isTruncated"], listed
    rest = ok(mfa_server, "MFADeviceService/ListMFADevices",
              {"user_name": name, "marker": listed["marker"]})
    assert len(rest["mfaDevices"]) == 3 and not rest.get("isTruncated"), rest
    # Any enabled device's code signs in.
    third_serial, third_seed = devices[2]
    assert verify(mfa_server, name, code=pyotp.TOTP(third_seed).at(t + 30)) == "VERIFY_RESULT_OK"


def test_wrong_codes_count_toward_lockout_and_mfa_required_does_not(tmp_path, name):
    server, _ = key_server(tmp_path, "--lockout-threshold", "3", "--lockout-base", "10m")
    try:
        new_user(server, name)
        serial, seed, _ = create_device(server, name)
        t = enable(server, name, serial, seed)
        totp = pyotp.TOTP(seed)
        for _ in range(5):
            assert verify(server, name) == "VERIFY_RESULT_MFA_REQUIRED"
        # A wrong code, a code already used (Enable's) and one outside the window.
        for wrong in (wrong_code(totp, t), totp.at(t), totp.at(t + 90)):
            assert verify(server, name, code=wrong) == "VERIFY_RESULT_INVALID_CREDENTIALS"
        # Locked now: even the right password with a fresh code is refused.
        assert verify(server, name, code=totp.at(t + 30)) == "VERIFY_RESULT_LOCKED"
    finally:
        server.stop()


def test_grpcio_stubs_create_and_sign_in_with_a_code(mfa_server, pb, name):
    messages, stubs = pb
    new_user(mfa_server, name)
    with grpc.insecure_channel(mfa_server.target) as channel:
        mfa = stubs.MFADeviceServiceStub(channel)
        device = mfa.CreateVirtualMFADevice(
            messages.CreateVirtualMFADeviceRequest(virtual_mfa_device_name=name), timeout=10
        ).virtual_mfa_device
        seed = device.base32_string_seed.decode()
        assert f"secret={seed}&" in decode_qr(device.qr_code_png)
        totp = pyotp.TOTP(seed)
        t = settled()
        mfa.EnableMFADevice(messages.EnableMFADeviceRequest(
            user_name=name, serial_number=device.serial_number,
            authentication_code_1=totp.at(t - 30), authentication_code_2=totp.at(t)), timeout=10)
        profiles = stubs.LoginProfileServiceStub(channel)
        request = messages.VerifyPasswordRequest(user_name=name, password=PASSWORD)
        assert not request.HasField("mfa_code")
        assert profiles.VerifyPassword(request, timeout=10).result == \
            messages.VERIFY_RESULT_MFA_REQUIRED
        request.mfa_code = totp.at(t + 30)
        assert profiles.VerifyPassword(request, timeout=10).result == messages.VERIFY_RESULT_OK
        assert profiles.VerifyPassword(request, timeout=10).result == \
            messages.VERIFY_RESULT_INVALID_CREDENTIALS
        with pytest.raises(grpc.RpcError) as failed:
            mfa.ResyncMFADevice(messages.ResyncMFADeviceRequest(
                user_name=name, serial_number=device.serial_number,
                authentication_code_1="000000", authentication_code_2="000000"), timeout=10)
    assert failed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert failed.value.details() == INVALID_CODE


# --- No seed in clear anywhere the service writes ----------------------------------------------


def device_life(server, name):
    """A user with two devices: one enabled, used, resynced (it stays), and one enabled,
    deactivated and deleted. Returns both seeds."""
    new_user(server, name)
    seeds = []
    for device_name in (f"kept-{name}", f"gone-{name}"):
        serial, seed, _ = create_device(server, device_name)
        seeds.append(seed)
        totp = pyotp.TOTP(seed)
        t = enable(server, name, serial, seed)
        assert verify(server, name) == "VERIFY_RESULT_MFA_REQUIRED"
        assert verify(server, name, code=totp.at(t + 30)) == "VERIFY_RESULT_OK"
        assert verify(server, name, code=totp.at(t + 30)) == "VERIFY_RESULT_INVALID_CREDENTIALS"
        ok(server, "MFADeviceService/ResyncMFADevice", {
            "user_name": name, "serial_number": serial,
            "authentication_code_1": totp.at(t + 60), "authentication_code_2": totp.at(t + 90)})
        ok(server, "MFADeviceService/ListVirtualMFADevices", {})
        ok(server, "MFADeviceService/ListMFADevices", {"user_name": name})
    ok(server, "MFADeviceService/DeactivateMFADevice",
       {"user_name": name, "serial_number": f"arn:aws:iam::{ACCOUNT}:mfa/gone-{name}"})
    ok(server, "MFADeviceService/DeleteVirtualMFADevice",
       {"serial_number": f"arn:aws:iam::{ACCOUNT}:mfa/gone-{name}"})
    return seeds


def forms(seed):
    """What would give a seed away: its base32 text, its raw bytes and their hex."""
    raw = base64.b32decode(seed)
    return {"base32": seed.encode(), "base32 lower": seed.lower().encode(), "raw": raw,
            "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()}


def assert_no_seed(seeds, where, blob):
    for seed in seeds:
        for form, needle in forms(seed).items():
            assert needle not in blob, f"the seed ({form}) is in {where}"


def files_under(directory):
    for folder, _, files in os.walk(directory):
        for f in files:
            path = os.path.join(folder, f)
            with open(path, "rb") as handle:
                yield path, handle.read()


def test_no_seed_in_the_data_directory_logs_audit_metrics_or_export(tmp_path, name):
    metrics = f"127.0.0.1:{free_port()}"
    audit = tmp_path / "audit.log"
    server, _ = key_server(tmp_path, "--audit-log", str(audit), "--metrics-listen", metrics,
                           env={"RUST_LOG": "trace"})
    try:
        seeds = device_life(server, name)
        scraped = urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10).read()
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
        exported = subprocess.run([BIN, "export", "--data-dir", server.data_dir],
                                  capture_output=True, check=True).stdout
        logs = server.logs().encode()
        stored = list(files_under(server.data_dir))
    finally:
        server.stop()
    # The searches search something: the trace log is long, the audit trail and metrics name
    # the devices' events, the export holds the kept device, sealed.
    assert len(logs) > 10000 and b"TRACE" in logs
    audit_lines = [json.loads(line) for line in audit.read_text().splitlines()]
    events = [line["event"] for line in audit_lines]
    for event in ("mfa_device_created", "mfa_device_enabled", "mfa_device_resynced",
                  "mfa_device_deactivated", "mfa_device_deleted", "sign_in_mfa_required"):
        assert event in events, events
    assert any(line.get("serial_number") == f"arn:aws:iam::{ACCOUNT}:mfa/kept-{name}"
               for line in audit_lines), audit_lines
    assert b'loginprofiled_mfa_device_events_total{event="enabled"} 2' in scraped, scraped
    assert b'loginprofiled_verify_total{result="mfa_required"} 2' in scraped, scraped
    assert f"kept-{name}".encode() in exported
    assert stored and sum(len(data) for _, data in stored) > 0
    assert_no_seed(seeds, "the trace log", logs)
    assert_no_seed(seeds, "the audit file", audit.read_bytes())
    assert_no_seed(seeds, "the metrics", scraped)
    assert_no_seed(seeds, "export's output", exported)
    for path, data in stored:
        assert_no_seed(seeds, path, data)


def psql(*args, database=DATABASE_URL):
    return subprocess.run(["psql", database, "-v", "ON_ERROR_STOP=1", "-Atq", *args],
                          capture_output=True, check=True).stdout


@pytest.fixture
def schema():
    """A throwaway schema in the test database, dropped after the test."""
    name = "lp_mfa_" + uuid.uuid4().hex[:12]
    yield name
    psql("-c", f"DROP SCHEMA IF EXISTS {name} CASCADE")


def test_no_seed_in_postgresql_and_two_replicas_accept_a_code_once(tmp_path, schema, name):
    store = ["--database-url", DATABASE_URL, "--database-schema", schema]
    first, keys = key_server(tmp_path, *store, env={"RUST_LOG": "trace"})
    second = Server("tcp", *store, "--mfa-key-file", keys)
    try:
        seeds = device_life(first, name)
        # The same fresh code sent to both replicas at once: exactly one accepts it.
        user = "r-" + name
        new_user(first, user)
        serial, seed, _ = create_device(first, user)
        t = enable(second, user, serial, seed)
        code = pyotp.TOTP(seed).at(t + 30)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda s: verify(s, user, code=code), [first, second] * 4))
        assert sorted(results).count("VERIFY_RESULT_OK") == 1, results
        seeds.append(seed)
        dump = subprocess.run(["pg_dump", "--data-only", "-n", schema, DATABASE_URL],
                              capture_output=True, check=True).stdout
        tables = psql("-c", f"SELECT table_name FROM information_schema.tables "
                            f"WHERE table_schema = '{schema}'").decode().split()
        copied = b"".join(psql("-c", f"COPY {schema}.{table} TO STDOUT") for table in tables)
        exported = subprocess.run([BIN, "export", *store], capture_output=True, check=True).stdout
        logs = (first.logs() + second.logs()).encode()
    finally:
        second.stop()
        first.stop()
    assert f"kept-{name}".encode() in dump and f"kept-{name}".encode() in copied
    assert_no_seed(seeds, "pg_dump's output", dump)
    # (COPY's text form writes bytea as \\x and hex, which the hex forms catch.)
    assert_no_seed(seeds, "the tables' COPY", copied)
    assert_no_seed(seeds, "export's output", exported)
    assert_no_seed(seeds, "the trace logs", logs)


# --- Keys: the wrong key, no key, rotation -----------------------------------------------------


def serve_exit(data_dir, *extra):
    """Starts serve on a stopped store and returns (exit status, output): it must not start."""
    done = subprocess.run(
        [BIN, "serve", "--listen", f"127.0.0.1:{free_port()}", "--http-listen", "off",
         "--data-dir", data_dir, *extra], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def test_a_server_with_the_wrong_key_or_none_refuses_the_store_and_says_why(tmp_path, name):
    server, keys = key_server(tmp_path)
    try:
        new_user(server, name)
        serial, seed, _ = create_device(server, name)
        enable(server, name, serial, seed)
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
        other = write_key_file(tmp_path / "other.keys", generate_key())
        status, printed = serve_exit(server.data_dir, "--mfa-key-file", other)
        assert status == 2, printed
        assert other in printed and "MFA" in printed, printed
        status, printed = serve_exit(server.data_dir)
        assert status == 2, printed
        assert "--mfa-key-file" in printed, printed
        assert_no_seed([seed], "the refusal", printed.encode())
    finally:
        server.stop()


def test_rotation_keeps_every_device_working_under_the_new_key_alone(tmp_path, name):
    server, keys = key_server(tmp_path)
    try:
        new_user(server, name)
        devices = [create_device(server, f"{i}-{name}")[:2] for i in range(2)]
        enable(server, name, *devices[0])  # one enabled, one unassigned
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
        with open(keys) as f:
            old = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        new = generate_key()
        write_key_file(keys, new, *old)
        done = subprocess.run([BIN, "mfa", "rotate-keys", "--mfa-key-file", keys,
                               "--data-dir", server.data_dir], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "2 MFA seed(s) re-encrypted" in done.stdout + done.stderr, done
        done = subprocess.run([BIN, "mfa", "rotate-keys", "--mfa-key-file", keys,
                               "--data-dir", server.data_dir], capture_output=True, text=True)
        assert "0 MFA seed(s) re-encrypted" in done.stdout + done.stderr, done
        new_only = write_key_file(tmp_path / "new.keys", new)
        rotated = Server("tcp", "--mfa-key-file", new_only, data_dir=server.data_dir)
        try:
            (serial, seed), (other_serial, other_seed) = devices
            t = settled()
            assert verify(rotated, name, code=pyotp.TOTP(seed).at(t + 30)) == "VERIFY_RESULT_OK"
            other = pyotp.TOTP(other_seed)
            ok(rotated, "MFADeviceService/EnableMFADevice", {
                "user_name": name, "serial_number": other_serial,
                "authentication_code_1": other.at(t - 30), "authentication_code_2": other.at(t)})
            assert verify(rotated, name, code=other.at(t + 30)) == "VERIFY_RESULT_OK"
        finally:
            rotated.stop()
        # The old key alone opens nothing any more.
        status, printed = serve_exit(server.data_dir, "--mfa-key-file",
                                     write_key_file(tmp_path / "old.keys", *old))
        assert status == 2, printed
    finally:
        server.stop()


def test_a_starting_server_reseals_seeds_under_the_first_key(tmp_path, name):
    metrics = f"127.0.0.1:{free_port()}"
    server, keys = key_server(tmp_path)
    try:
        new_user(server, name)
        serial, seed, _ = create_device(server, name)
        enable(server, name, serial, seed)
        server.process.terminate()
        assert server.process.wait(timeout=30) == 0
        with open(keys) as f:
            old = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        new = generate_key()
        write_key_file(keys, new, *old)
        restarted = Server("tcp", "--mfa-key-file", keys, "--metrics-listen", metrics,
                           data_dir=server.data_dir)
        try:
            deadline = time.time() + 20
            while True:
                scraped = urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10).read()
                if b"loginprofiled_mfa_seeds_resealed_total 1" in scraped:
                    break
                assert time.time() < deadline, scraped.decode()
                time.sleep(0.2)
        finally:
            restarted.stop()
        new_only = write_key_file(tmp_path / "new.keys", new)
        rotated = Server("tcp", "--mfa-key-file", new_only, data_dir=server.data_dir)
        try:
            t = settled()
            assert verify(rotated, name, code=pyotp.TOTP(seed).at(t + 30)) == "VERIFY_RESULT_OK"
        finally:
            rotated.stop()
    finally:
        server.stop()
