"""IAM virtual MFA devices through the Query API with the real aws CLI (v1 and v2) and boto3:
create-virtual-mfa-device with both bootstrap methods (the QR code read by zxing-cpp), enable,
list, resync, deactivate and delete, with codes made by pyotp, and IAM's error codes."""

import io
import time
import urllib.parse
import uuid

import pyotp
import pytest
import zxingcpp
from botocore.exceptions import ClientError
from PIL import Image

from conftest import BOB_KEY, READ_KEY, client

ACCOUNT = "123456789012"
INVALID_CODE = "Authentication code for device is not valid."


def settled():
    """The time now, or at the start of the next 30 s step when fewer than 5 s of this one are
    left, so that codes computed now are checked in the step they were made for."""
    now = time.time()
    if now % 30 > 25:
        time.sleep(30.2 - now % 30)
        now = time.time()
    return now


def wrong_code(totp, t):
    near = {totp.at(t + 30 * k) for k in range(-25, 26)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1000000, 7919)) if c not in near)


def qr_text(png):
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), png[:16]
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [f.format for f in found] == [zxingcpp.BarcodeFormat.QRCode], found
    return found[0].text


def secret_of(uri, device_name, issuer="loginprofiled"):
    """The secret of an otpauth URI, after checking the rest of it."""
    parts = urllib.parse.urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp"), uri
    assert urllib.parse.unquote(parts.path) == f"/{issuer}:{device_name}@{ACCOUNT}", uri
    query = urllib.parse.parse_qs(parts.query)
    assert set(query) == {"secret", "issuer"} and query["issuer"] == [issuer], uri
    return query["secret"][0]


def error_of(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def device_name():
    return "mfa-" + uuid.uuid4().hex[:12]


# --- The aws CLI -----------------------------------------------------------------------------


def test_cli_device_life_with_a_qr_code(mfa_cli, name, device_name):
    cli = mfa_cli
    cli.ok("iam", "create-user", "--user-name", name)
    png = cli.tmp_path / "qr.png"
    created = cli.ok("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", device_name,
                     "--path", "/team/", "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/team/{device_name}"
    assert created == {"VirtualMFADevice": {"SerialNumber": serial}}, created
    seed = secret_of(qr_text(png.read_bytes()), device_name)
    assert len(seed) == 32
    totp = pyotp.TOTP(seed)
    device = ["--user-name", name, "--serial-number", serial]

    unassigned = cli.ok("iam", "list-virtual-mfa-devices", "--assignment-status", "Unassigned")
    assert {"SerialNumber": serial} in unassigned["VirtualMFADevices"], unassigned

    t = settled()
    wrong = wrong_code(totp, t)
    cli.fails("InvalidAuthenticationCode", INVALID_CODE,
              "iam", "enable-mfa-device", *device,
              "--authentication-code1", wrong, "--authentication-code2", totp.at(t))
    assert cli.ok("iam", "enable-mfa-device", *device, "--authentication-code1", totp.at(t - 30),
                  "--authentication-code2", totp.at(t)) == {}
    cli.fails("EntityAlreadyExists", None,
              "iam", "enable-mfa-device", *device, "--authentication-code1", totp.at(t + 30),
              "--authentication-code2", totp.at(t + 60))

    listed = cli.ok("iam", "list-mfa-devices", "--user-name", name)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [(name, serial)], listed
    assert listed[0]["EnableDate"].endswith(("Z", "+00:00"))
    assigned = cli.ok("iam", "list-virtual-mfa-devices", "--assignment-status", "Assigned")
    mine = [d for d in assigned["VirtualMFADevices"] if d["SerialNumber"] == serial]
    assert len(mine) == 1, assigned
    assert mine[0]["User"]["UserName"] == name
    assert mine[0]["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{name}"
    assert set(mine[0]) == {"SerialNumber", "User", "EnableDate"}, mine
    every = cli.ok("iam", "list-virtual-mfa-devices")["VirtualMFADevices"]
    assert serial in [d["SerialNumber"] for d in every]

    cli.fails("InvalidAuthenticationCode", INVALID_CODE,
              "iam", "resync-mfa-device", *device,
              "--authentication-code1", wrong, "--authentication-code2", wrong)
    assert cli.ok("iam", "resync-mfa-device", *device, "--authentication-code1", totp.at(t + 30),
                  "--authentication-code2", totp.at(t + 60)) == {}
    # Resync's codes are used up.
    cli.fails("InvalidAuthenticationCode", INVALID_CODE,
              "iam", "resync-mfa-device", *device, "--authentication-code1", totp.at(t + 30),
              "--authentication-code2", totp.at(t + 60))

    cli.fails("DeleteConflict", "Cannot delete entity, must deactivate MFA device first.",
              "iam", "delete-virtual-mfa-device", "--serial-number", serial)
    cli.fails("DeleteConflict", "Cannot delete entity, must delete MFA device first.",
              "iam", "delete-user", "--user-name", name)
    assert cli.ok("iam", "deactivate-mfa-device", *device) == {}
    cli.fails("NoSuchEntity", None, "iam", "deactivate-mfa-device", *device)
    assert cli.ok("iam", "list-mfa-devices", "--user-name", name)["MFADevices"] == []
    assert cli.ok("iam", "delete-virtual-mfa-device", "--serial-number", serial) == {}
    cli.fails("NoSuchEntity", None, "iam", "delete-virtual-mfa-device", "--serial-number", serial)
    cli.ok("iam", "delete-user", "--user-name", name)


def test_cli_base32_seed_and_errors(mfa_cli, name, device_name):
    cli = mfa_cli
    seed_file = cli.tmp_path / "seed.txt"
    created = cli.ok("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", device_name,
                     "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")
    serial = created["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/{device_name}"
    seed = seed_file.read_text()
    assert len(seed) == 32 and pyotp.TOTP(seed).now().isdigit(), seed
    cli.fails("EntityAlreadyExists", None,
              "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", device_name.upper(),
              "--outfile", str(cli.tmp_path / "again.png"), "--bootstrap-method", "QRCodePNG")
    totp = pyotp.TOTP(seed)
    t = settled()
    cli.fails("NoSuchEntity", None, "iam", "enable-mfa-device", "--user-name", name,
              "--serial-number", serial, "--authentication-code1", totp.at(t - 30),
              "--authentication-code2", totp.at(t))
    cli.fails("NoSuchEntity", None, "iam", "delete-virtual-mfa-device",
              "--serial-number", f"arn:aws:iam::{ACCOUNT}:mfa/nothing-{device_name}")
    cli.fails("NoSuchEntity", None, "iam", "list-mfa-devices", "--user-name", name)
    cli.fails("ValidationError", None, "iam", "list-virtual-mfa-devices",
              "--assignment-status", "Everything")
    assert cli.ok("iam", "delete-virtual-mfa-device", "--serial-number", serial) == {}


def test_cli_lists_every_page(mfa_cli, name):
    cli = mfa_cli
    names = [f"page-{name}-{i}" for i in range(3)]
    for device_name in names:
        cli.ok("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", device_name,
               "--outfile", str(cli.tmp_path / f"{device_name}.png"),
               "--bootstrap-method", "QRCodePNG")
    try:
        # One device a page: the CLI follows the markers to the end.
        every = cli.ok("iam", "list-virtual-mfa-devices", "--page-size", "1")["VirtualMFADevices"]
        serials = [d["SerialNumber"] for d in every]
        for device_name in names:
            assert serials.count(f"arn:aws:iam::{ACCOUNT}:mfa/{device_name}") == 1, serials
        first = cli.ok("iam", "list-virtual-mfa-devices", "--max-items", "1")
        assert len(first["VirtualMFADevices"]) == 1 and first.get("NextToken"), first
    finally:
        for device_name in names:
            cli.ok("iam", "delete-virtual-mfa-device",
                   "--serial-number", f"arn:aws:iam::{ACCOUNT}:mfa/{device_name}")


# --- boto3 -----------------------------------------------------------------------------------


def test_boto3_device_life_with_modelled_exceptions(mfa_server, name, device_name):
    iam = client(mfa_server)
    iam.create_user(UserName=name)
    created = iam.create_virtual_mfa_device(
        VirtualMFADeviceName=device_name, Tags=[{"Key": "team", "Value": "signin"}]
    )["VirtualMFADevice"]
    serial = created["SerialNumber"]
    seed = created["Base32StringSeed"].decode()
    assert secret_of(qr_text(created["QRCodePNG"]), device_name) == seed
    totp = pyotp.TOTP(seed)
    t = settled()
    with pytest.raises(iam.exceptions.InvalidAuthenticationCodeException) as e:
        iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                              AuthenticationCode1=totp.at(t), AuthenticationCode2=totp.at(t))
    assert error_of(e) == ("InvalidAuthenticationCode", INVALID_CODE, 403)
    iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=totp.at(t - 30), AuthenticationCode2=totp.at(t))
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as e:
        iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                              AuthenticationCode1=totp.at(t + 30), AuthenticationCode2=totp.at(t + 60))
    assert error_of(e)[2] == 409

    devices = iam.list_mfa_devices(UserName=name)
    assert [(d["UserName"], d["SerialNumber"]) for d in devices["MFADevices"]] == [(name, serial)]
    assert devices["MFADevices"][0]["EnableDate"].tzinfo is not None
    assert devices["IsTruncated"] is False
    assigned = [d for d in iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")
                ["VirtualMFADevices"] if d["SerialNumber"] == serial]
    assert assigned[0]["User"]["UserName"] == name and "EnableDate" in assigned[0], assigned
    assert "Base32StringSeed" not in assigned[0] and "QRCodePNG" not in assigned[0]
    assert assigned[0].get("Tags") == [{"Key": "team", "Value": "signin"}], assigned

    iam.resync_mfa_device(UserName=name, SerialNumber=serial,
                          AuthenticationCode1=totp.at(t + 60), AuthenticationCode2=totp.at(t + 90))
    with pytest.raises(iam.exceptions.DeleteConflictException) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(e) == ("DeleteConflict",
                           "Cannot delete entity, must deactivate MFA device first.", 409)
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName=name)
    iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    assert error_of(e)[2] == 404
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=name)


def test_boto3_paginators_and_the_ninth_device(mfa_server, name):
    iam = client(mfa_server)
    iam.create_user(UserName=name)
    devices = []
    for i in range(9):
        created = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"n{i}-{name}")
        devices.append((created["VirtualMFADevice"]["SerialNumber"],
                        pyotp.TOTP(created["VirtualMFADevice"]["Base32StringSeed"].decode())))
    for serial, totp in devices[:8]:
        t = settled()
        iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                              AuthenticationCode1=totp.at(t - 30), AuthenticationCode2=totp.at(t))
    serial, totp = devices[8]
    t = settled()
    with pytest.raises(iam.exceptions.LimitExceededException) as e:
        iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                              AuthenticationCode1=totp.at(t - 30), AuthenticationCode2=totp.at(t))
    assert error_of(e)[2] == 409

    pages = list(iam.get_paginator("list_mfa_devices").paginate(
        UserName=name, PaginationConfig={"PageSize": 3}))
    assert [len(p["MFADevices"]) for p in pages] == [3, 3, 2], pages
    assert sorted(d["SerialNumber"] for p in pages for d in p["MFADevices"]) == \
        sorted(s for s, _ in devices[:8])

    pages = list(iam.get_paginator("list_virtual_mfa_devices").paginate(
        AssignmentStatus="Unassigned", PaginationConfig={"PageSize": 1}))
    unassigned = [d["SerialNumber"] for p in pages for d in p["VirtualMFADevices"]]
    assert unassigned.count(serial) == 1, unassigned
    assert not set(unassigned) & {s for s, _ in devices[:8]}
    pages = list(iam.get_paginator("list_virtual_mfa_devices").paginate(
        AssignmentStatus="Assigned", PaginationConfig={"PageSize": 2}))
    mine = [d for p in pages for d in p["VirtualMFADevices"]
            if d.get("User", {}).get("UserName") == name]
    assert len(mine) == 8, pages
    assert all(len(p["VirtualMFADevices"]) <= 2 for p in pages)

    for serial, _ in devices[:8]:
        iam.deactivate_mfa_device(UserName=name, SerialNumber=serial)
    for serial, _ in devices:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    iam.delete_user(UserName=name)


def test_scopes_admin_manages_read_lists_signin_neither(mfa_server):
    reader = client(mfa_server, READ_KEY)
    reader.list_virtual_mfa_devices()
    for key in (READ_KEY, BOB_KEY):
        with pytest.raises(ClientError) as e:
            client(mfa_server, key).create_virtual_mfa_device(VirtualMFADeviceName="nope")
        assert error_of(e)[0::2] == ("AccessDenied", 403)


def test_without_a_key_file_create_fails_naming_the_flag_and_lists_work(keyed):
    iam = client(keyed)
    with pytest.raises(ClientError) as e:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="no-key")
    code, message, status = error_of(e)
    assert (code, status) == ("ServiceFailure", 500), e.value.response
    assert "--mfa-key-file" in message, message
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
