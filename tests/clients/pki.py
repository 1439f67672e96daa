"""A throwaway PKI made per test run with `cryptography` (no key is ever committed): a CA, a
server certificate for localhost / 127.0.0.1, and client certificates whose SAN is a URI (a
SPIFFE ID) or a DNS name. Also used by tests/compat."""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


class Pki:
    """Files in `directory`: ca.pem, server.crt/.key, and client certificates on demand."""

    def __init__(self, directory, ca_name="test-ca"):
        self.dir = directory
        now = datetime.datetime.now(datetime.timezone.utc)
        self._not_before = now - datetime.timedelta(minutes=5)
        self._not_after = now + datetime.timedelta(days=1)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._ca_name = _name(ca_name)
        self._ca = (
            x509.CertificateBuilder()
            .subject_name(self._ca_name).issuer_name(self._ca_name)
            .public_key(self._ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before).not_valid_after(self._not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca = _write(os.path.join(directory, f"{ca_name}.pem"),
                         self._ca.public_bytes(serialization.Encoding.PEM))
        self.server_cert, self.server_key = self.issue(
            "server", "loginprofiled",
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
            ExtendedKeyUsageOID.SERVER_AUTH)

    def client(self, file, san):
        """A client certificate whose one SAN is `san` (a URI if it has "://", else a DNS name);
        returns the (cert, key) paths."""
        general = x509.UniformResourceIdentifier(san) if "://" in san else x509.DNSName(san)
        return self.issue(file, file, [general], ExtendedKeyUsageOID.CLIENT_AUTH)

    def issue(self, file, cn, sans, usage):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(self._ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before).not_valid_after(self._not_after)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        cert_path = _write(os.path.join(self.dir, f"{file}.crt"),
                           cert.public_bytes(serialization.Encoding.PEM))
        key_path = _write(os.path.join(self.dir, f"{file}.key"), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cert_path, key_path


def read(path):
    with open(path, "rb") as f:
        return f.read()
