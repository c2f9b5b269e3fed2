"""Certificates and keys of a local control plane: a CA, the API server's serving certificate,
the service-account signing key pair, and a static admin token. Created once per state directory.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
from pathlib import Path

from moka_provider.local.paths import StatePaths

_VALIDITY = datetime.timedelta(days=3650)


def ensure_pki(paths: StatePaths) -> None:
    """Create whatever of the PKI is missing (existing files are kept, so tokens stay valid)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    pki = paths.pki
    if not (pki / "ca.crt").exists():
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki / "ca.key", ca_key)
        _write_cert(
            pki / "ca.crt", _certificate("moka-local-ca", ca_key.public_key(), ca_key, None, is_ca=True)
        )
    for name, common_name in (
        ("apiserver", "kube-apiserver"),
        ("kubelet", "moka-local-kubelet"),
        ("apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
    ):
        if not (pki / f"{name}.crt").exists():
            issue_serving_cert(paths, name, common_name)
    if not (pki / "sa.key").exists():
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki / "sa.key", sa_key)
        _write_public_key(pki / "sa.pub", sa_key)
    if not paths.token_file.exists():
        paths.token_file.write_text(f"{secrets.token_urlsafe(32)},moka-admin,moka-admin,system:masters\n")
        paths.token_file.chmod(0o600)


def admin_token(paths: StatePaths) -> str:
    return paths.token_file.read_text().split(",", 1)[0]


def issue_serving_cert(paths: StatePaths, name: str, common_name: str) -> tuple[Path, Path]:
    """A loopback certificate signed by the local CA (``name``.crt / ``name``.key), for serving
    and for client authentication."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca_key = serialization.load_pem_private_key((paths.pki / "ca.key").read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate((paths.pki / "ca.crt").read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _certificate(common_name, key.public_key(), ca_key, ca_cert, is_ca=False)
    _write_key(paths.pki / f"{name}.key", key)
    _write_cert(paths.pki / f"{name}.crt", cert)
    return paths.pki / f"{name}.crt", paths.pki / f"{name}.key"


def _certificate(common_name, public_key, signing_key, issuer_cert, *, is_ca: bool):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


def _write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_public_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _write_cert(path: Path, cert) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
