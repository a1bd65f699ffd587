"""signing's readers and refusals, called directly: SSH wire-format strings, the public
half an OpenSSH private key file stores, key files and `.pub` files, git's signing
config, and each one-line FatalError word for word.
"""
from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import signing
from agentops_hooks.evidence.signing import PublicKey
from agentops_hooks.evidence.signing import SigningKey

BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
END = "-----END OPENSSH PRIVATE KEY-----"
SETUP = "git config --global gpg.format ssh; git config --global user.signingkey ~/.ssh/id_ed25519.pub"
UNSUPPORTED = ("which verdicts cannot be signed with (use ed25519, ed25519-sk, ecdsa or rsa)")


def s(data: bytes) -> bytes:
    """One SSH wire-format string."""
    return struct.pack(">I", len(data)) + data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dss_line() -> str:
    """A public key line of a type verdicts are not signed with; its blob names that type."""
    return "ssh-dss " + b64(s(b"ssh-dss") + s(b"p" * 20) + s(b"q" * 8))


def armored(data: bytes, newline: str = "\n") -> str:
    """`data` as an OpenSSH private key file: base64 wrapped at 70 columns."""
    body = b64(data)
    return newline.join([BEGIN, *(body[i:i + 70] for i in range(0, len(body), 70)), END]) + newline


def private_data(blob: bytes, *, count: bytes = struct.pack(">I", 1)) -> bytes:
    """An unencrypted openssh-key-v1 structure holding the public key `blob`."""
    return (b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b"") + count + s(blob)
            + s(b"private part"))


@pytest.fixture
def riley(keys: dict[str, Path]) -> tuple[str, PublicKey]:
    """Riley's private key file's text and the public key from riley.pub."""
    kind, blob = (keys["riley"].parent / "riley.pub").read_text().split()[:2]
    return keys["riley"].read_text(), PublicKey(kind, blob)


# --- SSH wire-format strings -------------------------------------------------------

@pytest.mark.parametrize(("data", "pos", "got"), [
    (s(b"abc"), 0, (b"abc", 7)),                        # the string ends the data
    (s(b"abc") + b"more", 0, (b"abc", 7)),
    (b"\0\0\0\0", 0, (b"", 4)),                         # an empty string, last in the data
    (s(b"ab") + s(b""), 6, (b"", 10)),
    (b"\0\0\0", 0, None),                               # shorter than a length
    (s(b"ab"), 6, None),
    (s(b"abc")[:-1], 0, None),                          # cut short
    (b"\xff\xff\xff\xff" + b"x" * 8, 0, None),          # a length of 2**32-1, not -1
    (b"\x80\0\0\0" + b"x" * 8, 0, None),
])
def test_a_wire_string_is_read_whole_or_not_at_all(data: bytes, pos: int,
                                                     got: tuple[bytes, int] | None) -> None:
    assert signing._string(data, pos) == got


# --- the public half of an OpenSSH private key -------------------------------------

def test_the_public_half_of_a_key_ssh_keygen_made(riley: tuple[str, PublicKey]) -> None:
    text, public = riley
    assert signing._private_key_public_half(text) == public


def _lines(t: str) -> list[str]:
    return t.splitlines()


SHAPES = {  # a private key file ssh-keygen wrote, reshaped
    "as written": lambda t: t,
    "text after the END line": lambda t: t + "riley's key, kept in a vault\n",
    "a blank line in the body": lambda t: t.replace("\n", "\n\n", 2).replace("\n\n", "\n", 1),
    "the body indented": lambda t: "\n".join([_lines(t)[0], *("  " + ln for ln in _lines(t)[1:-1]),
                                               _lines(t)[-1]]) + "\n",
    "the body on one line": lambda t: "\n".join([_lines(t)[0], "".join(_lines(t)[1:-1]),
                                                  _lines(t)[-1]]) + "\n",
    "CRLF line endings": lambda t: t.replace("\n", "\r\n"),
    "CRLF only after the END line": lambda t: t[:-1] + "\r\n",
    "no newline after the END line": lambda t: t.rstrip("\n"),
    "text after END on its line": lambda t: t.rstrip("\n") + " riley\n",
    "the END line indented": lambda t: t.replace("\n-----END", "\n -----END"),
    "a space after BEGIN": lambda t: t.replace("KEY-----\n", "KEY----- \n", 1),
    "a blank line before it": lambda t: "\n" + t,
    "text before it": lambda t: "riley's key:\n" + t,
    "no BEGIN line, text in its place": lambda t: "riley's key:\n" + t.split("\n", 1)[1],
    "no BEGIN line": lambda t: t.split("\n", 1)[1],
    "no END line": lambda t: t.replace(END, ""),
    "an RSA END line": lambda t: t.replace(END, END.replace("OPENSSH", "RSA")),
    "a character outside base64": lambda t: t.replace(BEGIN + "\n", BEGIN + "\n*"),
    "a dash in the body": lambda t: t.replace(BEGIN + "\n", BEGIN + "\n-"),
    "the body cut short": lambda t: "\n".join(_lines(t)[:2] + [END]) + "\n",
    "empty": lambda t: "",
    "the key twice": lambda t: t + t,
}


READ = {"as written", "text after the END line", "a blank line in the body", "the body indented",
        "the body on one line", "the key twice"}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_public_half_is_read_where_ssh_keygen_reads_the_key(
    riley: tuple[str, PublicKey], tmp_path: Path, shape: str,
) -> None:
    """The public half is read from a file exactly when ssh-keygen reads the key from it
    (CRLF line endings, text before the key or on its END line: ssh-keygen refuses)."""
    text, public = riley
    path = tmp_path / "id"
    path.write_bytes(SHAPES[shape](text).encode())
    path.chmod(0o600)
    keygen = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True,
                            check=False)
    assert (keygen.returncode == 0) is (shape in READ), keygen.stderr
    got = signing._private_key_public_half(SHAPES[shape](text))
    assert got == (public if keygen.returncode == 0 else None), keygen.stderr
    if keygen.returncode == 0:
        assert keygen.stdout.split()[:2] == str(public).split()


KEY = s(b"ssh-ed25519") + s(b"k" * 32)


@pytest.mark.parametrize("data", [
    b"not-openssh-key\0" + b"\0" * 40,                  # another magic
    b"openssh-key-v1\0",                                # nothing after it
    b"openssh-key-v1\0" + b"\0\0\0\xffnone",            # the cipher cut short
    b"openssh-key-v1\0" + s(b"none") + b"\0\0\0\x09none",  # the kdf cut short
    b"openssh-key-v1\0" + s(b"none") + s(b"none") + b"\0\0",  # the kdf options cut short
    b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b""),   # no number of keys
    b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b"") + b"\0\0\0",
    b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b"") + b"\0\0\0\1",  # no key
    b"openssh-key-v1\0" + s(b"none") + s(b"none") + s(b"") + b"\0\0\0\1" + b"\0\0\0\x40ab",
    private_data(b"\0\0"),                              # a key blob too short to name a type
    private_data(b"\0\0\0\x20ssh-ed25519"),             # its type cut short
    private_data(KEY, count=struct.pack(">I", 2)),      # ssh-keygen reads files of one key
    private_data(KEY, count=struct.pack(">I", 0)),
    private_data(KEY + b"junk"),                        # the public key is not whole
    private_data(s(b"ssh-ed25519") + s(b"k" * 31)),
])
def test_no_public_half_from_a_structure_cut_short(data: bytes) -> None:
    assert signing._private_key_public_half(armored(data)) is None


def test_the_public_half_of_a_built_key_and_its_type_outside_ascii() -> None:
    """The blob is given back as it is stored; a type outside ASCII is read with
    replacement characters (a type check then refuses it, not a crash)."""
    assert signing._private_key_public_half(armored(private_data(KEY))) == \
        PublicKey("ssh-ed25519", b64(KEY))
    odd = s(b"ssh-\xffkey") + s(b"k" * 32)
    assert signing._private_key_public_half(armored(private_data(odd))) == \
        PublicKey("ssh-\ufffdkey", b64(odd))


# --- public_key_of -----------------------------------------------------------------

@pytest.mark.parametrize("beside", [None, "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"])
def test_the_public_key_from_the_pub_file_beside_the_key(
    riley: tuple[str, PublicKey], tmp_path: Path, beside: str | None,
) -> None:
    """A key file that is missing, or not one the public half can be read from: the
    `.pub` beside it names the key."""
    _, public = riley
    if beside is not None:
        (tmp_path / "id").write_text(beside)
    (tmp_path / "id.pub").write_text(f"{public} riley@example.com\n")
    assert signing.public_key_of(SigningKey(str(tmp_path / "id"))) == public
    assert signing.public_key_of(SigningKey(str(tmp_path / "other"))) is None


def test_a_key_file_with_bytes_that_are_not_utf8(riley: tuple[str, PublicKey], tmp_path: Path) -> None:
    """A comment in Latin-1 does not stop the key being read."""
    _, public = riley
    (tmp_path / "id.pub").write_bytes(f"{public} ".encode() + "Rïley\n".encode("latin-1"))
    assert signing.public_key_of(SigningKey(str(tmp_path / "id.pub"))) == public
    assert signing.read_public_key_file(tmp_path / "id.pub") == public


def test_a_literal_key_is_read_from_the_value_not_a_file(riley: tuple[str, PublicKey]) -> None:
    _, public = riley
    assert signing.public_key_of(SigningKey(str(public), literal=True)) == public
    assert signing.public_key_of(SigningKey("not a key", literal=True)) is None
    cut = f"{public.kind} {b64(base64.b64decode(public.blob)[:-1])}"
    assert signing.public_key_of(SigningKey(cut, literal=True)) is None


def test_a_pub_file_with_more_than_its_key_gives_no_key(riley: tuple[str, PublicKey],
                                                         tmp_path: Path) -> None:
    """Not a key ssh-keygen reads, so not the public half of the signing key either."""
    _, public = riley
    (tmp_path / "id.pub").write_text(f"{public.kind} {b64(base64.b64decode(public.blob) + s(b'x'))}\n")
    assert signing.public_key_of(SigningKey(str(tmp_path / "id"))) is None
    assert signing.public_key_of(SigningKey(str(tmp_path / "id.pub"))) is None


def test_key_files_are_read_as_utf8_in_any_locale(tmp_path: Path) -> None:
    """Under the C locale (ASCII), a key whose type is not ASCII is still read as UTF-8:
    its type is named, as it is in a UTF-8 locale."""
    kind = "ssh-é"
    path = tmp_path / "odd.pub"
    path.write_text(f"{kind} {b64(s(kind.encode()) + s(b'k' * 32))} riley\n", encoding="utf-8")
    program = (
        "import sys\n"
        "from agentops_hooks.errors import FatalError\n"
        "from agentops_hooks.evidence import signing\n"
        "print(signing.public_key_of(signing.SigningKey(sys.argv[1])).kind.encode('unicode_escape').decode())\n"
        "try:\n"
        "    signing.read_public_key_file(sys.argv[1])\n"
        "except FatalError as exc:\n"
        "    print(str(exc).encode('unicode_escape').decode())\n"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", program, str(path)], capture_output=True, text=True,
                         env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "ssh-\\xe9", f"the SSH key {path} is of type ssh-\\xe9, {UNSUPPORTED}"]


# --- read_public_key_file ----------------------------------------------------------

def test_a_pub_file_s_first_line_is_its_key(riley: tuple[str, PublicKey], tmp_path: Path) -> None:
    _, public = riley
    path = tmp_path / "riley.pub"
    path.write_text(f"\n  {public} riley@example.com\nssh-rsa AAAA\n")
    assert signing.read_public_key_file(path) == public
    assert signing.read_public_key_file(str(path)) == public


@pytest.mark.parametrize("content", ["", "\n \n", "riley", "riley@example.com ssh-ed25519 AAAA\n"])
def test_a_file_that_is_not_a_public_key(tmp_path: Path, content: str) -> None:
    path = tmp_path / "riley.pub"
    path.write_text(content)
    with pytest.raises(FatalError) as err:
        signing.read_public_key_file(path)
    assert str(err.value) == (f"{path} is not an SSH public key (expected "
                              "`ssh-ed25519 AAAA... comment`, as in a .pub file)")


def test_a_public_key_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(FatalError) as err:
        signing.read_public_key_file(tmp_path / "missing.pub")
    assert str(err.value) == f"cannot read the public key {tmp_path / 'missing.pub'}: No such file or directory"
    with pytest.raises(FatalError) as err:
        signing.read_public_key_file(tmp_path)
    assert str(err.value) == f"cannot read the public key {tmp_path}: Is a directory"


def test_a_public_key_file_of_an_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "dsa.pub"
    path.write_text(dss_line() + " old@example.com\n")
    with pytest.raises(FatalError) as err:
        signing.read_public_key_file(path)
    assert str(err.value) == f"the SSH key {path} is of type ssh-dss, {UNSUPPORTED}"


@pytest.mark.parametrize("kind", signing.SUPPORTED_TYPES)
def test_every_supported_type_is_accepted(kind: str) -> None:
    key = PublicKey(kind, b64(s(kind.encode())))
    assert signing.require_supported(key, "here") is key


# --- from_git_config ---------------------------------------------------------------

@pytest.mark.parametrize(("config", "key"), [
    ({"gpg.format": "ssh", "user.signingkey": "/keys/id_ed25519"},
     SigningKey("/keys/id_ed25519", program="ssh-keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": " /keys/id ", "gpg.ssh.program": " /bin/keygen "},
     SigningKey("/keys/id", program="/bin/keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": "/keys/id", "gpg.ssh.program": "  "},
     SigningKey("/keys/id", program="ssh-keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": "key::ssh-ed25519 AAAA riley"},
     SigningKey("ssh-ed25519 AAAA riley", literal=True, program="ssh-keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": "key:: ssh-ed25519 AAAA", "gpg.ssh.program": "/bin/keygen"},
     SigningKey("ssh-ed25519 AAAA", literal=True, program="/bin/keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": "ssh-ed25519 AAAA"},   # git's older literal form
     SigningKey("ssh-ed25519 AAAA", literal=True, program="ssh-keygen", source="user.signingkey")),
    ({"gpg.format": "ssh", "user.signingkey": "SSH-ed25519 AAAA"},
     SigningKey("SSH-ed25519 AAAA", program="ssh-keygen", source="user.signingkey")),
])
def test_the_key_git_commit_s_would_sign_with(config: dict[str, str], key: SigningKey) -> None:
    assert signing.from_git_config(config) == key


def test_a_signing_key_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    got = signing.from_git_config({"gpg.format": "ssh", "user.signingkey": "~/.ssh/id"})
    assert got == SigningKey(str(tmp_path / ".ssh/id"), source="user.signingkey")


@pytest.mark.parametrize(("config", "message"), [
    ({}, "git signs with openpgp (gpg.format), and verdicts are signed with SSH keys: "
         f"set git up for SSH signing ({SETUP})"),
    ({"user.signingkey": "/keys/id"}, "git signs with openpgp (gpg.format), and verdicts are "
                                      f"signed with SSH keys: set git up for SSH signing ({SETUP})"),
    ({"gpg.format": "x509"}, "git signs with x509 (gpg.format), and verdicts are signed with SSH "
                             f"keys: set git up for SSH signing ({SETUP})"),
    ({"gpg.format": "ssh"}, f"git has no signing key (user.signingkey is not set): {SETUP}"),
    ({"gpg.format": "ssh", "user.signingkey": "  "},
     f"git has no signing key (user.signingkey is not set): {SETUP}"),
])
def test_git_not_set_up_to_sign_with_ssh(config: dict[str, str], message: str) -> None:
    with pytest.raises(FatalError) as err:
        signing.from_git_config(config)
    assert str(err.value) == message


# --- sign_with: refused before ssh-keygen runs -------------------------------------

def _refusal(key: SigningKey) -> str:
    with pytest.raises(FatalError) as err:
        signing.sign_with(b"payload", key)
    return str(err.value)


@pytest.mark.parametrize(("value", "shown"), [
    ("not a key at all, but a long sentence of words", "'not a key at all, but a long sentence of'"),
    ("ssh-ed25519", "'ssh-ed25519'"),
    ("ssh-ed25519 " + b64(s(b"ssh-ed25519") + s(b"k" * 31)), "'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH2tr'"),
    ("", "''"),
])
def test_a_literal_that_is_not_a_key(value: str, shown: str) -> None:
    """The value is shown, cut at 40 characters."""
    assert _refusal(SigningKey(value, literal=True, source="user.signingkey")) == \
        f"user.signingkey holds {shown}, which is not an SSH public key"


def test_a_key_of_an_unsupported_type_is_named_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "old.pub"
    path.write_text(dss_line() + "\n")
    assert _refusal(SigningKey(str(path), source="user.signingkey")) == \
        f"the SSH key {path} (user.signingkey) is of type ssh-dss, {UNSUPPORTED}"
    assert _refusal(SigningKey(str(path))) == \
        f"the SSH key {path} (--sign-key) is of type ssh-dss, {UNSUPPORTED}"
    assert _refusal(SigningKey(dss_line(), literal=True, source="user.signingkey")) == \
        f"the SSH key in user.signingkey is of type ssh-dss, {UNSUPPORTED}"


# --- sign_with: what ssh-keygen is run with ----------------------------------------

def test_a_literal_key_signs_with_gpg_ssh_program(riley: tuple[str, PublicKey], tmp_path: Path) -> None:
    _, public = riley
    program = str(tmp_path / "no-such-keygen")
    assert _refusal(SigningKey(str(public), literal=True, program=program)) == \
        f"{program} is not installed (needed for verdict signatures)"
    assert _refusal(SigningKey(str(tmp_path / "id"), program=program)) == \
        f"cannot sign the verdict: SSH key {tmp_path / 'id'} does not exist"


def test_a_literal_key_the_agent_lacks_is_named_by_where_it_is(
    riley: tuple[str, PublicKey], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ssh-keygen fails for want of an agent; the message names the key by its setting."""
    _, public = riley
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    message = _refusal(SigningKey(str(public), literal=True, source="user.signingkey"))
    assert message.startswith("cannot sign the verdict with SSH key in user.signingkey: ssh-keygen said: ")
    assert message.endswith(" (the key must be loaded into ssh-agent: ssh-add)")


# --- a .pub file holds a whole key: what ssh-keygen -l accepts ----------------------

KEYGEN_TYPES = [("ed25519", []), ("ecdsa", ["-b", "256"]), ("ecdsa", ["-b", "384"]),
                ("ecdsa", ["-b", "521"]), ("rsa", ["-b", "1024"])]


@pytest.fixture(scope="module")
def made_keys(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, bytes]]:
    """A public key of each type ssh-keygen makes without hardware: its type and blob."""
    d = tmp_path_factory.mktemp("types")
    made = []
    for n, (kind, bits) in enumerate(KEYGEN_TYPES):
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *bits, "-N", "", "-f", str(d / str(n))],
                       check=True)
        name, blob = (d / f"{n}.pub").read_text().split()[:2]
        made.append((name, base64.b64decode(blob)))
    return made


def _fields(raw: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(raw):
        got = signing._string(raw, pos)
        assert got is not None
        out.append(got[0])
        pos = got[1]
    return out


def _join(fields: list[bytes]) -> bytes:
    return b"".join(s(f) for f in fields)


def _ecdsa(f: list[bytes], curve: bytes | None = None, first: bytes | None = None) -> list[bytes]:
    """An ECDSA key's fields with another curve name or another first byte of its point."""
    if b"ecdsa" not in f[0]:
        return f
    return [f[0], curve or f[1], (first or f[2][:1]) + f[2][1:], *f[3:]]


MUTILATIONS = {  # each a blob from the blob ssh-keygen wrote
    "whole": lambda raw: raw,
    "junk after it": lambda raw: raw + s(b"junk"),
    "a byte after it": lambda raw: raw + b"\0",
    "bytes after it": lambda raw: raw + b"\0\0",
    "its last byte missing": lambda raw: raw[:-1],
    "its last field missing": lambda raw: _join(_fields(raw)[:-1]),
    "only its type": lambda raw: s(_fields(raw)[0]),
    "its key cut short": lambda raw: _join([*_fields(raw)[:-1], _fields(raw)[-1][:-1]]),
    "its key longer": lambda raw: _join([*_fields(raw)[:-1], _fields(raw)[-1] + b"\0"]),
    "a curve that is none": lambda raw: _join(_ecdsa(_fields(raw), curve=b"nistp999")),
    "the curve of another size": lambda raw: _join(_ecdsa(_fields(raw), curve=b"nistp384")),
    "a compressed point": lambda raw: _join(_ecdsa(_fields(raw), first=b"\2")),
}


@pytest.mark.parametrize("mutilation", MUTILATIONS)
def test_a_pub_file_is_read_when_ssh_keygen_reads_it(
    made_keys: list[tuple[str, bytes]], tmp_path: Path, mutilation: str,
) -> None:
    """A key cut short, with more after it, or not on its curve is refused, as ssh-keygen
    refuses it, before `judges add` writes a line ssh-keygen would skip as invalid."""
    refused = set()
    for n, (kind, raw) in enumerate(made_keys):
        blob = MUTILATIONS[mutilation](raw)
        path = tmp_path / f"{n}.pub"
        path.write_text(f"{kind} {b64(blob)} someone\n")
        keygen = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, check=False)
        try:
            got: PublicKey | None = signing.read_public_key_file(path)
        except FatalError as exc:
            assert str(exc) == (f"{path} is not an SSH public key (expected "
                                "`ssh-ed25519 AAAA... comment`, as in a .pub file)")
            got = None
        assert (got is not None) is (keygen.returncode == 0), (kind, mutilation, keygen.stderr)
        if got is None:
            refused.add(kind)
        else:
            assert got == PublicKey(kind, b64(blob))
    assert bool(refused) is (mutilation != "whole"), refused  # each shape is refused for some


@pytest.mark.parametrize(("kind", "fields"), [
    ("sk-ssh-ed25519@openssh.com", [b"k" * 32, b"ssh:"]),
    ("sk-ecdsa-sha2-nistp256@openssh.com", [b"nistp256", b"\4" + b"q" * 64, b"ssh:"]),
])
def test_a_security_key_s_pub_file(tmp_path: Path, kind: str, fields: list[bytes]) -> None:
    """Security keys (FIDO) carry the application after the key."""
    path = tmp_path / "sk.pub"
    for shape, read in ((fields, True), (fields[:-1], False), ([*fields, b"x"], False)):
        blob = b64(s(kind.encode()) + b"".join(s(f) for f in shape))
        path.write_text(f"{kind} {blob}\n")
        if read:
            assert signing.read_public_key_file(path) == PublicKey(kind, blob)
        else:
            with pytest.raises(FatalError, match="is not an SSH public key"):
                signing.read_public_key_file(path)


@pytest.mark.parametrize(("modulus", "read"), [
    (b"\0\x80" + b"\0" * 127, True),                   # 2**1023: 1024 bits
    (b"\x7f" + b"\xff" * 127, False),                   # 2**1023 - 1: 1023 bits
    (b"\0\xc1" + b"\x23" * 255, True),                 # 2048 bits
])
def test_an_rsa_key_of_1024_bits_or_more(tmp_path: Path, modulus: bytes, read: bool) -> None:
    """As ssh-keygen, an RSA key shorter than 1024 bits is not read."""
    blob = b64(s(b"ssh-rsa") + s(b"\1\0\1") + s(modulus))
    path = tmp_path / "rsa.pub"
    path.write_text(f"ssh-rsa {blob}\n")
    keygen = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, check=False)
    assert (keygen.returncode == 0) is read, keygen.stderr
    if read:
        assert signing.read_public_key_file(path) == PublicKey("ssh-rsa", blob)
    else:
        with pytest.raises(FatalError, match="is not an SSH public key"):
            signing.read_public_key_file(path)
