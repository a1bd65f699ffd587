"""SSH signatures over verdicts, so an agent cannot forge a judge's PASS.

A judge signs a canonical payload (status, judge, patch-id) with
``ssh-keygen -Y sign -n agentops-verdict``; the signature travels as one line
in a ``Verdict-Signature`` trailer.  :func:`verify` checks it with
``ssh-keygen -Y verify`` against the *content* of an allowed-signers file that
the caller read from a git tree (never the work tree, which an agent can edit).

ssh-keygen does all the cryptography and all the allowed-signers matching
(principal patterns, ``namespaces=``, ``valid-after``/``valid-before``); this
module only shapes its input and reads its verdict.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agentops_hooks.authorship import Identity
from agentops_hooks.errors import FatalError

__all__ = [
    "NAMESPACE",
    "SIGNATURE_KEY",
    "Check",
    "armor",
    "payload",
    "sign",
    "verify",
]

NAMESPACE = "agentops-verdict"
SIGNATURE_KEY = "Verdict-Signature"

_PAYLOAD_HEADER = "agentops-verdict v1"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
_WRAP = 70  # ssh-keygen wraps the armored base64 at 70 columns
_MAGIC = b"SSHSIG"  # every SSH signature blob starts with this preamble
_TIMEOUT = 30
_PROMPT = re.compile(r"^Enter passphrase[^:]*:\s*")
_GOOD = f'Good "{NAMESPACE}" signature for '


@dataclass(frozen=True)
class Check:
    """The outcome of :func:`verify`: ``ok`` and a one-line reason either way."""

    ok: bool
    reason: str


def payload(
    status: str, judge: Identity, patch_id: str, more: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The canonical bytes a judge signs for one verdict.

    ``b"agentops-verdict v1\\nstatus=PASS\\njudge=Name <email>\\npatch=<id>\\n"``,
    the judge written as ``str(Identity)``, status and patch-id exactly as given,
    then one ``key=value`` line for each of ``more`` in order (what a verdict
    carries beyond those: the range it covers, its evidence, the session).
    A field holding a line break would make the payload ambiguous (one field
    could forge the next), so it raises ValueError.
    """
    fields = [("status", status), ("judge", str(judge)), ("patch", patch_id), *more]
    for name, value in fields:
        if "\n" in value or "\r" in value:
            raise ValueError(f"the verdict's {name} holds a line break: {value!r}")
    text = f"{_PAYLOAD_HEADER}\n" + "".join(f"{name}={value}\n" for name, value in fields)
    return text.encode("utf-8")


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # Never run an askpass program; together with no controlling terminal
    # (start_new_session) and stdin from /dev/null ssh-keygen cannot prompt.
    env["SSH_ASKPASS_REQUIRE"] = "never"
    return env


def _run(argv: list[str], stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    """Run ssh-keygen without a terminal; FatalError if it cannot be run at all."""
    try:
        return subprocess.run(
            argv,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            env=_environment(),
            start_new_session=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise FatalError(f"{argv[0]} is not installed (needed for verdict signatures)") from None
    except PermissionError as exc:
        raise FatalError(f"cannot run ssh-keygen: {exc.strerror or exc}") from None


def _said(stderr: bytes, *, drop: tuple[str, ...] = ()) -> str:
    """ssh-keygen's diagnostics as one line, without prompts and banners."""
    lines = []
    for raw in stderr.decode("utf-8", errors="replace").splitlines():
        line = _PROMPT.sub("", raw.strip()).strip()
        if not line or set(line) <= {"@"} or line.startswith("@"):
            continue
        if line in drop:
            continue
        lines.append(line.rstrip("."))
    return "; ".join(lines)


def _unarmor(text: str) -> str | None:
    """The one-line base64 body of ssh-keygen's armored output, or None."""
    lines = [line.strip() for line in text.splitlines()]
    try:
        start = lines.index(_BEGIN)
        end = lines.index(_END, start + 1)
    except ValueError:
        return None
    body = "".join(lines[start + 1:end])
    return body or None


def sign(
    payload: bytes, key_path: str | os.PathLike[str], *, program: str = "ssh-keygen",
    agent_key: str | None = None,
) -> str:
    """Sign ``payload`` with an SSH private key; the signature as one base64 line.

    The line is the armored signature's body with the BEGIN/END lines and all
    newlines removed (:func:`armor` restores the armored form).  Raises
    FatalError with a one-line message naming the key for a missing or
    unreadable key, a key whose passphrase no agent can supply (ssh-keygen is
    never allowed to prompt), or a missing ssh-keygen.  ``program`` is the
    ssh-keygen to run (git's ``gpg.ssh.program``); ``agent_key``, a public key
    whose private half ssh-agent holds, signs through the agent (``-U``), as
    git does for a ``key::`` signing key (``key_path`` then only names it).
    """
    key = os.fspath(key_path)
    if agent_key is None:
        if not key:
            raise FatalError("cannot sign the verdict: no SSH key path given")
        if not os.path.exists(key):
            raise FatalError(f"cannot sign the verdict: SSH key {key} does not exist")
        if os.path.isdir(key):
            raise FatalError(f"cannot sign the verdict: SSH key {key} is a directory")
    try:
        # payload goes through a file rather than stdin: stdin stays /dev/null
        # so a passphrase prompt reads EOF instead of the payload.
        with tempfile.TemporaryDirectory(prefix="agentops-sign-") as tmp:
            argv = [program, "-Y", "sign", "-f", key, "-n", NAMESPACE]
            if agent_key is not None:
                public = Path(tmp) / "key.pub"
                public.write_text(agent_key + "\n", encoding="ascii", errors="replace")
                argv = [program, "-Y", "sign", "-U", "-f", str(public), "-n", NAMESPACE]
            data = Path(tmp) / "payload"
            data.write_bytes(payload)
            proc = _run([*argv, str(data)], None)
            sig_file = Path(tmp) / "payload.sig"
            armored = sig_file.read_text("ascii", errors="replace") if sig_file.is_file() else ""
    except subprocess.TimeoutExpired:
        raise FatalError(
            f"cannot sign the verdict with SSH key {key}: ssh-keygen did not finish in {_TIMEOUT}s",
        ) from None
    except OSError as exc:
        raise FatalError(
            f"cannot sign the verdict with SSH key {key}: {exc.strerror or exc}",
        ) from None
    if proc.returncode != 0:
        said = _said(proc.stderr) or f"exit status {proc.returncode}"
        if agent_key is not None and ("agent" in said or "No such file" in said):
            said += " (the key must be loaded into ssh-agent: ssh-add)"
        elif "No such file or directory" in said and os.path.isfile(key):
            said += " (the file is not a key ssh-keygen can read)"
        elif "passphrase" in said:
            said += " (a key with a passphrase must be loaded into ssh-agent)"
        raise FatalError(f"cannot sign the verdict with SSH key {key}: ssh-keygen said: {said}")
    one_line = _unarmor(armored)
    if one_line is None:
        raise FatalError(
            f"cannot sign the verdict with SSH key {key}: ssh-keygen wrote no signature",
        )
    return one_line


def armor(one_line: str) -> bytes:
    """The armored signature ssh-keygen reads, from the one-line form.

    ``-----BEGIN SSH SIGNATURE-----``, the base64 wrapped at 70 columns,
    ``-----END SSH SIGNATURE-----``, each line ending in a newline: byte for
    byte what ``ssh-keygen -Y sign`` writes.
    """
    body = "".join(one_line.split())
    lines = [_BEGIN, *(body[i:i + _WRAP] for i in range(0, len(body), _WRAP)), _END]
    return ("\n".join(lines) + "\n").encode("ascii", errors="replace")


def _signature_problem(one_line: str) -> str | None:
    """Why the one-line signature cannot be an SSH signature, or None."""
    body = one_line.strip()
    if not body:
        return "the signature is empty"
    if any(ch.isspace() for ch in body):
        return "the signature holds whitespace (it must be one base64 line)"
    if "-----" in body:
        return "the signature is armored; expected the one-line base64 body"
    try:
        blob = base64.b64decode(body.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return "the signature is not valid base64"
    if not blob.startswith(_MAGIC):
        return "the signature is not an SSH signature"
    return None


def verify(
    payload: bytes,
    one_line_signature: str,
    principal: str,
    allowed_signers: bytes | None,
) -> Check:
    """Check a one-line signature over ``payload`` by ``principal``'s key.

    ``allowed_signers`` is the content of an allowed-signers file (read by the
    caller from a git tree); ``principal`` is the judge's email, matched by
    ssh-keygen exactly as it matches any principal (patterns in the file
    apply; the match is case-sensitive).  Never raises for bad input, only
    FatalError when ssh-keygen is missing.
    """
    if allowed_signers is None:
        return Check(False, "no allowed signers file")
    if not allowed_signers.strip():
        return Check(False, "no allowed signers: the allowed signers file is empty")
    if not principal or not principal.strip():
        return Check(False, "no principal (judge email) to verify the signature for")
    if "\0" in principal or principal != principal.strip() or "\n" in principal:
        return Check(False, f"principal {principal!r} is not a usable email")
    problem = _signature_problem(one_line_signature)
    if problem is not None:
        return Check(False, problem)
    failed = f"signature does not verify for {principal} in namespace {NAMESPACE}"
    try:
        with tempfile.TemporaryDirectory(prefix="agentops-verify-") as tmp:
            signers = Path(tmp) / "allowed_signers"
            signers.write_bytes(allowed_signers)
            sig = Path(tmp) / "verdict.sig"
            sig.write_bytes(armor(one_line_signature.strip()))
            argv = [
                "ssh-keygen", "-Y", "verify",
                "-f", str(signers), "-I", principal, "-n", NAMESPACE, "-s", str(sig),
            ]
            proc = _run(argv, payload)
            said = _said(proc.stderr, drop=("Could not verify signature.",))
            said = said.replace(str(signers), "allowed_signers").replace(str(sig), "signature")
    except subprocess.TimeoutExpired:
        return Check(False, f"{failed}: ssh-keygen did not finish in {_TIMEOUT}s")
    except OSError as exc:
        return Check(False, f"{failed}: cannot prepare the check ({exc.strerror or exc})")
    out = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode == 0 and out.startswith(f"{_GOOD}{principal} with "):
        return Check(True, f"verified by {principal}'s key")
    if said:
        return Check(False, f"{failed} (ssh-keygen: {said})")
    return Check(False, failed)
