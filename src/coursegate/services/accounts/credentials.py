"""Generated credentials: passwords, SSH key pairs and client certificates.

Secrets are made here, mailed to the student, and never stored: passwords are kept as argon2id
hashes, SSH keys and certificates by their public halves only.

* **Passwords** are 16 characters drawn with :mod:`secrets` from 56 unambiguous letters and
  digits (about 93 bits). Because nobody chose them, guessing one is hopeless however fast the
  hash, so a generated password is hashed with light argon2id parameters
  (``t=1, m=4 MiB, p=1``): assigning 500 accounts takes seconds, not minutes. On the
  student's first sign-in the sign-in service rehashes it with the full parameters, and every
  password a person chooses gets the full parameters from the start.
* **Randomised** passwords (a wipe, an account generated ahead) are not a hash of anything: the
  stored value is a random marker no password matches.
* **SSH keys** are Ed25519 (fast to make, accepted everywhere OpenSSH runs).
* **Client certificates** are ECDSA P-256 keys signed by the site's class-account certificate
  authority, which is made on first use and kept in ``<data dir>/accounts-ca/ca.pem`` (mode
  0600). A dry run uses a throw-away authority so it writes nothing.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coursegate.store.db import private_dir

PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O, 1/l/I: a student types it from an email."""
PASSWORD_LENGTH = 16
GENERATED_TIME_COST, GENERATED_MEMORY_KIB, GENERATED_PARALLELISM = 1, 4096, 1
"""Light argon2id parameters for generated passwords (see the module's docstring)."""
_GENERATED_HASHER = PasswordHasher(
    time_cost=GENERATED_TIME_COST,
    memory_cost=GENERATED_MEMORY_KIB,
    parallelism=GENERATED_PARALLELISM,
)
UNUSABLE_PREFIX = "!randomised:"
CERT_DAYS = 400
CA_DAYS = 3650


def generate_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def hash_generated_password(password: str) -> str:
    """An argon2id hash with light parameters, for a generated (high-entropy) password only."""
    return _GENERATED_HASHER.hash(password)


def randomised_password_hash() -> str:
    """A stored value that no password matches (the password is "randomised")."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(24)


# -- SSH --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SshKeyPair:
    private_openssh: str
    public_line: str
    fingerprint: str


def ssh_fingerprint(public_line: str) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key line."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def ssh_keypair(comment: str) -> SshKeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = f"{public.decode()} {comment}"
    return SshKeyPair(private, line, ssh_fingerprint(line))


PUBLIC_KEY_MAX_BYTES = 16 * 1024
"""The longest public key line accepted (an RSA key of 16384 bits is about 2.8 KiB)."""
RSA_MIN_BITS = 2048
ACCEPTED_KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
"""The OpenSSH public key types staff may register (DSA is gone from OpenSSH; certificates and
other types are not keys of a person)."""
_ACCEPTED_SENTENCE = (
    "give an ssh-ed25519 key (best), an ecdsa-sha2-nistp256/384/521 key, an ssh-rsa key of "
    f"{RSA_MIN_BITS} bits or more, or a security key (sk-ssh-ed25519@openssh.com, "
    "sk-ecdsa-sha2-nistp256@openssh.com)"
)
_PRIVATE_MARKERS = ("PRIVATE KEY", "PuTTY-User-Key-File", "Private-Lines:")


def check_public_key(text: str) -> tuple[str, str]:
    """A public key line someone uploads: ``(normalised line, fingerprint)``; ValueError with
    the reason when it is not one OpenSSH public key line of an accepted type (see
    :data:`ACCEPTED_KEY_TYPES`), is longer than :data:`PUBLIC_KEY_MAX_BYTES`, holds control
    characters, is a private key pasted by mistake, or is an RSA key under
    :data:`RSA_MIN_BITS` bits. No reason ever repeats the text (it may be a private key)."""
    if any(marker in text for marker in _PRIVATE_MARKERS):
        raise ValueError(
            "this is a private key, which must never leave your computer: give the public "
            "key instead, the one line of the .pub file next to it (e.g. ~/.ssh/id_ed25519.pub); "
            "as it was sent here, consider making a new key pair (ssh-keygen -t ed25519)"
        )
    if len(text.encode("utf-8", "surrogatepass")) > PUBLIC_KEY_MAX_BYTES:
        raise ValueError(
            f"the public key is longer than {PUBLIC_KEY_MAX_BYTES // 1024} KiB; a public key "
            "is one line of the .pub file (ssh-ed25519 AAAA... comment)"
        )
    stripped = text.strip()
    if not stripped:
        raise ValueError("the public key is empty")
    if stripped.startswith(("---- BEGIN SSH2 PUBLIC KEY", "-----BEGIN")):
        raise ValueError(
            "this is a PEM or RFC 4716 key, not an OpenSSH public key line; convert it with "
            "ssh-keygen -i -f FILE (or give the .pub file OpenSSH made)"
        )
    for position, char in enumerate(stripped):
        if char in "\r\n":
            raise ValueError(
                "the public key spans several lines; give one key, on one line (the .pub "
                "file's only line)"
            )
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            raise ValueError(
                "the public key holds a control or formatting character "
                f"(U+{ord(char):04X}) at character {position + 1}; give the .pub file's line "
                "as it is"
            )
    line = " ".join(stripped.split())
    parts = line.split(" ", 2)
    if len(parts) < 2:
        raise ValueError("a public key line reads 'ssh-ed25519 AAAA... comment'")
    kind, blob = parts[0], parts[1]
    if kind == "ssh-dss":
        raise ValueError(
            f"DSA keys (ssh-dss) are no longer accepted by OpenSSH; {_ACCEPTED_SENTENCE}"
        )
    if kind not in ACCEPTED_KEY_TYPES:
        shown = kind if len(kind) <= 40 else kind[:40] + "..."
        raise ValueError(f"{shown!r} is not a key type accepted here; {_ACCEPTED_SENTENCE}")
    try:
        key = serialization.load_ssh_public_key(f"{kind} {blob}".encode())
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(
            f"not an OpenSSH public key: the part after {kind} is not a valid {kind} key "
            "(copy the whole line of the .pub file)"
        ) from None
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < RSA_MIN_BITS:
        raise ValueError(
            f"this RSA key has {key.key_size} bits, too few to be safe; give an RSA key of "
            f"{RSA_MIN_BITS} bits or more, or better an ssh-ed25519 key (ssh-keygen -t ed25519)"
        )
    return line, ssh_fingerprint(line)


# -- client certificates ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClientCert:
    cert_pem: str
    key_pem: str
    fingerprint: str
    """SHA-256 of the certificate (DER), hex."""


class CertificateAuthority:
    """The site's class-account certificate authority (an ECDSA P-256 key and its
    self-signed certificate)."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert

    @staticmethod
    def create(at: datetime, name: str = "coursegate class accounts CA") -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(at - timedelta(hours=1))
            .not_valid_after(at + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return CertificateAuthority(key, cert)

    def pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ) + self.cert.public_bytes(serialization.Encoding.PEM)

    @staticmethod
    def from_pem(data: bytes) -> CertificateAuthority:
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the class-account CA key is not an EC key")
        return CertificateAuthority(key, x509.load_pem_x509_certificate(data))

    @staticmethod
    def load_or_create(directory: Path, at: datetime) -> CertificateAuthority:
        """The authority kept in ``directory/ca.pem``, made (once, even with several processes
        racing: the file appears atomically) when missing."""
        path = directory / "ca.pem"
        if path.exists():
            return CertificateAuthority.from_pem(path.read_bytes())
        private_dir(directory)
        made = CertificateAuthority.create(at)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ca-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, made.pem())
            os.fsync(fd)
            os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
        return CertificateAuthority.from_pem(path.read_bytes())

    def issue(self, uid: str, at: datetime, *, email: str | None = None) -> ClientCert:
        """A client certificate for ``uid`` valid from ``at`` for :data:`CERT_DAYS` days."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, uid),
                        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "class accounts"),
                    ]
                )
            )
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(at - timedelta(minutes=5))
            .not_valid_after(at + timedelta(days=CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        )
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
            )
        cert = builder.sign(self.key, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return ClientCert(
            cert.public_bytes(serialization.Encoding.PEM).decode(),
            key_pem,
            cert.fingerprint(hashes.SHA256()).hex(),
        )


@dataclass(frozen=True)
class Issued:
    """A new set of credentials for one account."""

    ssh: SshKeyPair
    cert: ClientCert


class Issuer:
    """Makes SSH keys and certificates with the site's authority (loaded once, lazily)."""

    def __init__(self, ca_dir: Path | None, *, dry_run: bool = False) -> None:
        self.ca_dir = ca_dir
        self.dry_run = dry_run
        self._ca: CertificateAuthority | None = None

    def authority(self, at: datetime) -> CertificateAuthority:
        if self._ca is None:
            if self.ca_dir is None or (self.dry_run and not (self.ca_dir / "ca.pem").exists()):
                self._ca = CertificateAuthority.create(at, "coursegate throw-away CA")
            else:
                self._ca = CertificateAuthority.load_or_create(self.ca_dir, at)
        return self._ca

    def issue(self, uid: str, at: datetime, *, email: str | None = None) -> Issued:
        return Issued(ssh_keypair(uid), self.authority(at).issue(uid, at, email=email))


__all__ = [
    "ACCEPTED_KEY_TYPES",
    "PUBLIC_KEY_MAX_BYTES",
    "RSA_MIN_BITS",
    "CertificateAuthority",
    "ClientCert",
    "Issued",
    "Issuer",
    "SshKeyPair",
    "check_public_key",
    "generate_password",
    "hash_generated_password",
    "randomised_password_hash",
    "ssh_fingerprint",
    "ssh_keypair",
]
