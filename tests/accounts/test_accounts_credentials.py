"""Generated credentials: passwords, SSH keys, the certificate authority and client
certificates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from coursegate.services.accounts import credentials
from coursegate.services.accounts.credentials import CertificateAuthority, Issuer

AT = datetime(2024, 1, 25, tzinfo=UTC)


def test_generated_passwords_are_long_random_and_unambiguous() -> None:
    made = {credentials.generate_password() for _ in range(200)}
    assert len(made) == 200
    for p in made:
        assert len(p) == 16 and set(p) <= set(credentials.PASSWORD_ALPHABET)
        assert not set(p) & set("0O1lI")


def test_a_light_hash_verifies_and_asks_for_a_rehash() -> None:
    hashed = credentials.hash_generated_password("correct horse battery")
    full = PasswordHasher()
    assert full.verify(hashed, "correct horse battery")
    assert full.check_needs_rehash(hashed)
    randomised = credentials.randomised_password_hash()
    assert randomised.startswith("!randomised:")
    assert randomised != credentials.randomised_password_hash()


def test_public_keys_are_checked() -> None:
    pair = credentials.ssh_keypair("sc558aa")
    line, fingerprint = credentials.check_public_key(pair.public_line + "\n")
    assert line == pair.public_line and fingerprint == pair.fingerprint
    assert fingerprint.startswith("SHA256:") and "=" not in fingerprint
    for bad, why in (
        ("", "empty"),
        ("ssh-ed25519", "reads"),
        ("ssh-ed25519 AAAAnotakey", "not an OpenSSH public key"),
        (pair.private_openssh, "private key"),
    ):
        with pytest.raises(ValueError, match=why):
            credentials.check_public_key(bad)


def test_the_authority_is_made_once_even_by_racing_processes(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: CertificateAuthority.load_or_create(tmp_path, AT), range(8)))
    fingerprints = {ca.cert.fingerprint(hashes.SHA256()) for ca in made}
    assert len(fingerprints) == 1
    assert (tmp_path / "ca.pem").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["ca.pem"]


def test_client_certificates_are_for_client_authentication(tmp_path: Path) -> None:
    issued = Issuer(tmp_path).issue("sc558aa", AT, email="sc558aa@users.example.edu")
    cert = x509.load_pem_x509_certificate(issued.cert.cert_pem.encode())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["sc558aa@users.example.edu"]
    assert cert.not_valid_before_utc < AT < cert.not_valid_after_utc
    ca = CertificateAuthority.from_pem((tmp_path / "ca.pem").read_bytes())
    cert.verify_directly_issued_by(ca.cert)


def test_a_dry_run_issuer_writes_nothing(tmp_path: Path) -> None:
    Issuer(tmp_path / "ca", dry_run=True).issue("sc558aa", AT)
    assert not (tmp_path / "ca").exists()
