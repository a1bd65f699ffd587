"""Every sample in the docs is what the tool prints: the documented commands run in a
throwaway repository and their output is compared with the page.

A page's samples are ```console blocks. `$ ` lines are commands (a line ending in
`\\` goes on, and so does a here-document, to its delimiter); the lines under one
are its output, stdout and stderr as a terminal shows them. A block's commands run
in one `bash` in the repository's root, as typed in one terminal: variables and `$?`
carry on (`$?` into the next block too). Variants of the opening line:

- ```console one-command: one command, every line under it its output, `$ ` lines
  included (a transcript such as `agentops demo` prints);
- ````console (four backticks): output that holds ``` lines;
- ```console not-run: not run; its output was written by hand from a real run,
  before this test, and waits for a scene.

What a reader need not see sets the scene in an HTML comment before a block, run as
a bash script that must succeed (`agentops explain` leaves these comments out):

    <!-- sample-setup
    echo 'x = 1' > x.py && git add x.py
    -->

`<!-- sample-file PATH -->` before a fenced block writes the block's text to PATH,
so the config or script a page shows is the one that runs.

One repository serves a whole page, its blocks run in order; `<!-- sample-setup new`
starts a fresh one. It is printed as `/tmp/doc/repo` (the real temporary directory
is replaced), under an isolated HOME whose git identity is Hana Human
<hana@example.com>, with commit dates fixed at 2026-11-21T11:30:00Z.

Normalised before comparing, because it varies from run to run, and only that: the
temporary directories (and the random suffixes `mkdtemp` gives), dates and
timestamps, SSH key fingerprints and signatures, durations in seconds (`1.2s`: how
long a judge or a test ran), the path of the Python agentops runs on; and trailing blanks are dropped
(editors drop them). Object ids do not vary, since the commit dates are fixed,
except where a tree holds a fresh SSH key or a notes commit is dated by the clock:
there the setup says `<!-- sample-setup ids-vary`, and from then on hex ids of 7 or
more digits are compared by where they recur, not by value (an id printed twice
must be the same id twice).

`python -m pytest tests/docs_samples_test.py --update` rewrites the samples from a
real run (only the blocks whose output changed); read the diff before committing.
"""
from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from conftest import isolated_env

ROOT = Path(__file__).parents[1]
PAGES = sorted(p for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
               if "```console" in p.read_text(encoding="utf-8"))  # ````console too
SHOWN_ROOT = "/tmp/doc"
"""What the throwaway directory is printed as in the docs."""
class Step(NamedTuple):
    kind: str
    """"setup", "new" (setup in a fresh repository), either with "+ids" (object ids
    vary from here on), "file PATH" (write the block to PATH), "console", "console
    one-command" or "console not-run"."""
    start: int
    """The index of the block's first body line in the page's lines."""
    end: int
    """One past its last body line."""
    body: list[str]


def steps(lines: list[str]) -> list[Step]:
    """The setup comments and console blocks of a page, in order."""
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("<!-- sample-file "):
            start = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            end = lines.index(re.match(r"`+", lines[start]).group(), start + 1)  # type: ignore[union-attr]
            out.append(Step(f"file {line.split()[2]}", start + 1, end, lines[start + 1:end]))
            i = end
        elif line.startswith("<!-- sample-setup"):
            end = lines.index("-->", i)
            options = line.split()[2:]
            kind = "new" if "new" in options else "setup"
            if "ids-vary" in options:
                kind += "+ids"
            out.append(Step(kind, i + 1, end, lines[i + 1:end]))
            i = end
        elif (fence := re.match(r"(`{3,})console\b", line)):
            end = lines.index(fence.group(1), i + 1)  # ````console holds ``` lines
            words = line.split()[1:]
            kind = ("console not-run" if "not-run" in words else
                    "console one-command" if "one-command" in words else "console")
            out.append(Step(kind, i + 1, end, lines[i + 1:end]))
            i = end
        i += 1
    return out


def commands(body: list[str], one: bool = False) -> list[tuple[str, list[str]]]:
    """A console block as (command, the output lines documented under it); `one`:
    the block holds one command, whose output may have `$ ` lines of its own."""
    out: list[tuple[str, list[str]]] = []
    pending: list[str] = []
    for line in body:
        if one and out and not pending:
            out[-1][1].append(line)
            continue
        if pending:
            pending.append(line)
        elif line.startswith("$ "):
            pending = [line[2:]]
        else:
            assert out, f"output before any command: {line!r}"
            out[-1][1].append(line)
            continue
        heredoc = re.search(r"<<-?'?(\w+)'?", pending[0])
        if heredoc and (len(pending) == 1 or pending[-1] != heredoc.group(1)):
            continue  # a here-document goes on to its delimiter
        if not pending[-1].endswith("\\"):
            out.append(("\n".join(pending), []))
            pending = []
    return out


class Sandbox:
    """One throwaway repository and the environment its commands run in."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.count = 0
        self.status = 0

    def fresh(self) -> None:
        self.count += 1
        self.tmp = self.base / f"t{self.count}"
        home, tmp, self.repo = self.tmp / "home", self.tmp / "tmp", self.tmp / "repo"
        for d in (home / ".ssh", tmp, self.repo):
            d.mkdir(parents=True)
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Hana Human\n\temail = hana@example.com\n"
            "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", encoding="utf-8")
        self.env = {**isolated_env(home), "TMPDIR": str(tmp), "COLUMNS": "100",
                    "PYTHONDONTWRITEBYTECODE": "1",  # the same pages whatever the caller's setting
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin",
                    "GIT_AUTHOR_DATE": "2026-11-21T11:30:00Z",
                    "GIT_COMMITTER_DATE": "2026-11-21T11:30:00Z"}
        subprocess.run(["git", "init", "-q"], cwd=self.repo, env=self.env, check=True)

    def setup(self, script: str) -> None:
        """Run a setup script; it must succeed."""
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=self.repo, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        assert proc.returncode == 0, f"sample setup failed ({proc.returncode}):\n{script}\n{proc.stdout}"

    def block(self, commands: list[str]) -> list[str]:
        """Run a console block's commands in one bash, as typed in one terminal (shell
        variables and `$?` carry on); each command's output."""
        marker = f"--- end of command {os.getpid()} ---"
        script = f"(exit {self.status})\n" + "".join(
            f"{command}\n__status=$?; echo; echo \"{marker} $__status\"; (exit $__status)\n"
            for command in commands)
        proc = subprocess.run(["bash", "-c", script], cwd=self.repo, env=self.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        chunks = proc.stdout.replace(str(self.tmp), SHOWN_ROOT).split(f"{marker} ")
        assert len(chunks) == len(commands) + 1, f"a command ended the shell:\n{proc.stdout}"
        self.status = int(chunks[-1].split()[0])
        return [chunk.split("\n", 1)[1] if i else chunk for i, chunk in enumerate(chunks[:-1])]


_VARYING = [
    (re.compile(r"(/tmp/doc/tmp/[\w.-]*?)[a-z0-9_]{8}(?![\w.-])"), r"\1XXXXXXXX"),  # mkdtemp's suffix
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d\b"), "<date>"),
    (re.compile(r"SHA256:[A-Za-z0-9+/]{43}"), "SHA256:<fingerprint>"),
    (re.compile(r"U1NIU0lH[A-Za-z0-9+/=]+"), "<signature>"),
    (re.compile(r"\b\d+\.\d+s\b"), "<seconds>s"),  # how long a judge or a test ran
    (re.compile(r"/\S+/bin/python3?(?=\s)"), "<python>"),  # the interpreter agentops runs on
]
_HEX_ID = re.compile(r"\b[0-9a-f]{7,64}\b")


def _id(word: str) -> bool:
    """A hex word that is an id, not an English word ("added", "decade", "beef")."""
    return bool(re.search(r"\d", word))


def normalise(text: str, ids_vary: bool = False) -> str:
    """`text` with what varies between runs replaced; with `ids_vary`, object ids
    numbered by first appearance."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    for pattern, replacement in _VARYING:
        text = pattern.sub(replacement, text)
    if not ids_vary:
        return text
    seen: dict[str, str] = {}
    return _HEX_ID.sub(lambda m: seen.setdefault(m.group(), f"<id{len(seen) + 1}>")
                       if _id(m.group()) else m.group(), text)


def run_page(page: Path, base: Path) -> tuple[list[str], list[str]]:
    """The page's lines, and the same lines with every sample's output from a real run."""
    lines = page.read_text(encoding="utf-8").split("\n")
    new = list(lines)
    sandbox = Sandbox(base)
    sandbox.fresh()
    offset, ids_vary = 0, False
    for step in steps(lines):
        if step.kind.startswith("new"):
            sandbox.fresh()
        if step.kind == "console not-run":
            continue
        if step.kind.startswith("file "):
            target = sandbox.repo / step.kind[len("file "):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(step.body) + "\n", encoding="utf-8")
            continue
        if not step.kind.startswith("console"):
            ids_vary |= step.kind.endswith("+ids")
            sandbox.setup("\n".join(step.body))
            continue
        body: list[str] = []
        typed = [command for command, _ in commands(step.body, step.kind.endswith("one-command"))]
        for command, printed in zip(typed, sandbox.block(typed)):
            body += [f"$ {line}" if i == 0 else line for i, line in enumerate(command.split("\n"))]
            printed = printed.rstrip("\n")
            body += [line.rstrip() for line in printed.split("\n")] if printed else []
        if normalise("\n".join(body), ids_vary) != normalise("\n".join(step.body), ids_vary):
            new[step.start + offset:step.end + offset] = body
            offset += len(body) - (step.end - step.start)
    return lines, new


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "page" in metafunc.fixturenames:
        metafunc.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])


def test_samples_are_real_output(page: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    old, new = run_page(page, tmp_path)
    if request.config.getoption("--update"):
        page.write_text("\n".join(new), encoding="utf-8")
        return
    diff = "\n".join(difflib.unified_diff(old, new, "documented", "printed now", lineterm="", n=1))
    assert old == new, (f"{page.relative_to(ROOT)}: samples differ from what the tool prints "
                        f"(python -m pytest tests/docs_samples_test.py --update rewrites them):\n{diff}")


def test_every_console_block_is_run_or_says_it_is_not() -> None:
    """A console block this test cannot see (indented, in a list) is marked not-run,
    so that no sample is left unchecked without saying so."""
    unseen = [f"{page.relative_to(ROOT)}:{n}" for page in PAGES
              for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
              if re.match(r"\s+`{3,}console", line) and "not-run" not in line]
    assert not unseen


def test_normalising_keeps_what_does_not_vary() -> None:
    a = "patch 62897b2dc32f0bc1a2f73a159a7225dd106a4cc9 on 79c624d0131b, again 79c624d0131b, added"
    b = "patch 0000000000000000000000000000000000000001 on 1111111aaaaa, again 1111111aaaaa, added"
    assert normalise(a) != normalise(b)
    assert normalise(a, ids_vary=True) == normalise(b, ids_vary=True)
    assert normalise(a, True) != normalise(b.replace("again 1111111aaaaa", "again 2222222bbbbb"), True)
    assert normalise("2 findings in 0.3 s") == "2 findings in 0.3 s"
    assert normalise("recorded 2026-11-21T11:31:18Z") == normalise("recorded 2027-01-02T00:00:00Z")
