"""The judge's signing key, found the way `git commit -S` finds it, and SSH public keys.

git signs with SSH when `gpg.format = ssh`: `user.signingkey` names a key file
(a private key, or a public key whose private half is in ssh-agent) or holds
the public key itself (`key::ssh-ed25519 AAAA...`, signed through the agent),
and `gpg.ssh.program` is the ssh-keygen to run. A judge who signs commits has
set all of it up already. Public keys are read here without running anything:
an allowed-signers line, a `.pub` file, or the public half every OpenSSH
private key file stores unencrypted.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agentops_hooks.errors import FatalError

SUPPORTED_TYPES = (
    "ssh-ed25519", "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-rsa",
)
"""Key types a verdict may be signed with (not DSA: OpenSSH has retired it)."""
_LITERAL = "key::"
_PRIVATE_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_PRIVATE_END = "-----END OPENSSH PRIVATE KEY-----"
_MAGIC = b"openssh-key-v1\0"
_FIELDS = {
    "ssh-ed25519": 1, "sk-ssh-ed25519@openssh.com": 2,
    "ecdsa-sha2-nistp256": 2, "ecdsa-sha2-nistp384": 2, "ecdsa-sha2-nistp521": 2,
    "sk-ecdsa-sha2-nistp256@openssh.com": 3, "ssh-rsa": 2,
}
"""How many wire strings follow the type name in a public key blob of each supported type."""
HOW_TO_SET_UP = ("git config --global gpg.format ssh; "
                 "git config --global user.signingkey ~/.ssh/id_ed25519.pub")


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: its type and its base64 blob."""

    kind: str
    blob: str

    @property
    def fingerprint(self) -> str:
        """`SHA256:...`, as `ssh-keygen -l` prints it."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def __str__(self) -> str:
        return f"{self.kind} {self.blob}"


@dataclass(frozen=True)
class SigningKey:
    """What `ssh-keygen -Y sign` is given: a key file, or a public key to sign with
    through ssh-agent, and the program git would run."""

    key: str
    """A key file path, or (`literal`) the public key itself."""
    literal: bool = False
    program: str = "ssh-keygen"
    source: str = "--sign-key"
    """Where it came from, for messages."""


def read_blob(text: str) -> PublicKey | None:
    """`TYPE BASE64 [comment]` as a public key, or None when it is not one."""
    parts = text.split()
    if len(parts) < 2:
        return None
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    inner = _string(raw, 0)
    if inner is None or inner[0] != parts[0].encode():
        return None  # the blob must say it is the type its line names
    return PublicKey(parts[0], parts[1])


def _string(data: bytes, pos: int) -> tuple[bytes, int] | None:
    """One SSH wire-format string at `pos`, and the position after it."""
    if pos + 4 > len(data):
        return None
    (size,) = struct.unpack(">I", data[pos:pos + 4])
    end = pos + 4 + size
    return (data[pos + 4:end], end) if end <= len(data) else None


def _complete(key: PublicKey) -> bool:
    """Whether the blob holds what a key of its type holds and nothing more, as ssh-keygen
    requires: an ed25519 key of 32 bytes, an ECDSA point of its type's curve, an RSA
    modulus of 1024 bits or more. A type not in _FIELDS is left to the type check."""
    raw = base64.b64decode(key.blob)
    fields: list[bytes] = []
    pos = 0
    while pos < len(raw):
        got = _string(raw, pos)
        if got is None:
            return False
        fields.append(got[0])
        pos = got[1]
    if key.kind not in _FIELDS:
        return True
    if len(fields) != 1 + _FIELDS[key.kind]:
        return False
    if "ed25519" in key.kind:
        return len(fields[1]) == 32
    if "ecdsa" in key.kind:  # the curve, then the point uncompressed: 04 x y
        curve = key.kind.split("@")[0].rsplit("-", 1)[1]
        size = (int(curve.removeprefix("nistp")) + 7) // 8
        return fields[1] == curve.encode() and fields[2][:1] == b"\4" and len(fields[2]) == 1 + 2 * size
    return int.from_bytes(fields[2], "big") >= 1 << 1023  # RSA: e, then n of 1024 bits or more


def _private_key_public_half(text: str) -> PublicKey | None:
    """The public key an OpenSSH private key file stores in the clear, found where
    ssh-keygen finds it: the file starts with the BEGIN line, the base64 (its whitespace
    aside) runs to the END line, each of the two ending in a bare LF (so a file with CRLF
    line endings holds no key, as ssh-keygen says), and what follows is not read."""
    begin, end = _PRIVATE_BEGIN + "\n", "\n" + _PRIVATE_END + "\n"
    stop = text.find(end, len(begin))
    if not text.startswith(begin) or stop < 0:
        return None
    try:
        data = base64.b64decode("".join(text[len(begin):stop].split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(_MAGIC):
        return None
    pos: int | None = len(_MAGIC)
    for _ in range(3):  # cipher, kdf, kdf options
        got = _string(data, pos) if pos is not None else None
        pos = got[1] if got else None
    if pos is None or data[pos:pos + 4] != b"\0\0\0\1":  # the number of keys: one
        return None
    blob = _string(data, pos + 4)
    kind = _string(blob[0], 0) if blob else None
    if blob is None or kind is None:
        return None
    key = PublicKey(kind[0].decode("ascii", "replace"), base64.b64encode(blob[0]).decode())
    return key if _complete(key) else None


def _whole_key(text: str) -> PublicKey | None:
    """:func:`read_blob`'s key, when its blob is all of a key ssh-keygen can read."""
    key = read_blob(text)
    return key if key is not None and _complete(key) else None


def public_key_of(key: SigningKey) -> PublicKey | None:
    """The public half of a signing key, when it can be read without its passphrase."""
    if key.literal:
        return _whole_key(key.key)
    for candidate in (key.key, key.key + ".pub"):
        try:
            text = Path(candidate).read_text("utf-8", errors="replace")
        except OSError:
            continue
        found = _whole_key(text) or _private_key_public_half(text)
        if found is not None:
            return found
    return None


def read_public_key_file(path: str | os.PathLike[str]) -> PublicKey:
    """A `.pub` file's key; FatalError with one line when it holds none."""
    try:
        text = Path(path).read_text("utf-8", errors="replace")
    except OSError as exc:
        raise FatalError(f"cannot read the public key {os.fspath(path)}: "
                         f"{exc.strerror or exc}") from None
    key = _whole_key(text.strip().splitlines()[0] if text.strip() else "")
    if key is None:
        raise FatalError(f"{os.fspath(path)} is not an SSH public key (expected "
                         "`ssh-ed25519 AAAA... comment`, as in a .pub file)")
    return require_supported(key, os.fspath(path))


def require_supported(key: PublicKey, where: str) -> PublicKey:
    """The key, if verdicts may be signed with its type; else a one-line FatalError."""
    if key.kind not in SUPPORTED_TYPES:
        raise FatalError(f"the SSH key {where} is of type {key.kind}, which verdicts cannot be "
                         "signed with (use ed25519, ed25519-sk, ecdsa or rsa)")
    return key


def from_git_config(config: Mapping[str, str]) -> SigningKey:
    """The key `git commit -S` would sign with (config: lower-cased variable -> value).

    FatalError, saying how to set it up, when git is not set up to sign with SSH.
    """
    fmt = config.get("gpg.format", "openpgp")
    if fmt != "ssh":
        raise FatalError(f"git signs with {fmt} (gpg.format), and verdicts are signed with "
                         f"SSH keys: set git up for SSH signing ({HOW_TO_SET_UP})")
    value = config.get("user.signingkey", "").strip()
    if not value:
        raise FatalError("git has no signing key (user.signingkey is not set): "
                         f"{HOW_TO_SET_UP}")
    program = config.get("gpg.ssh.program", "").strip() or "ssh-keygen"
    if value.startswith((_LITERAL, "ssh-")):
        literal = value.removeprefix(_LITERAL)
        return SigningKey(literal.strip(), literal=True, program=program, source="user.signingkey")
    return SigningKey(os.path.expanduser(value), program=program, source="user.signingkey")


def sign_with(payload: bytes, key: SigningKey) -> str:
    """Sign a verdict's payload with the key; the one-line signature.

    FatalError, one line, for a key of a type verdicts are not signed with, and
    for everything :func:`signatures.sign` refuses (missing, unreadable, a
    passphrase no agent supplies).
    """
    from agentops_hooks.evidence import signatures

    public = public_key_of(key)
    if key.literal and public is None:
        raise FatalError(f"{key.source} holds {key.key[:40]!r}, which is not an SSH public key")
    if public is not None:
        require_supported(public, f"{key.key} ({key.source})" if not key.literal
                          else f"in {key.source}")
    if key.literal:
        return signatures.sign(payload, f"in {key.source}", program=key.program,
                               agent_key=key.key)
    return signatures.sign(payload, key.key, program=key.program)
