"""Build a large throwaway repository for benchmarks: agent commits, verdict trailers, notes.

Two `git fast-import` passes: the first writes the commits so their patch-ids
can be computed (a patch-id depends only on the diff), the second writes the
same trees again with messages that carry verdicts bound to those patch-ids.
Every fifth judged agent commit gets its verdict in refs/notes/agentops/verdicts
instead of a trailer. About a thousand commits a second.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from agentops_hooks.git import Repo

JUDGE = "Riley Reviewer <riley@example.com>"
CLAUDE = "Co-authored-by: Claude <noreply@anthropic.com>"
FILES = 60


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    return env


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(("git", *args), cwd=root, input=input, capture_output=True,
                          check=True, env=_env()).stdout


def _data(text: str) -> bytes:
    raw = text.encode()
    return f"data {len(raw)}\n".encode() + raw + b"\n"


def _stream(count: int, messages: list[str]) -> bytes:
    """`count` commits on main, each appending a line to one of FILES files."""
    out = [b"feature done\n"]
    lines: dict[int, list[str]] = {}
    when = 1_700_000_000
    for i in range(count):
        f = i % FILES
        lines.setdefault(f, []).append(f"value_{i} = {i * 7 % 1000}")
        author = "Ada Agent <ada@example.com>" if i % 2 else "Hana Human <hana@example.com>"
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n".encode())
        out.append(f"author {author} {when + i} +0000\ncommitter {author} {when + i} +0000\n".encode())
        out.append(_data(messages[i]))
        if i:
            out.append(f"from :{i}\n".encode())
        out.append(f"M 100644 inline src/module_{f}.py\n".encode() + _data("\n".join(lines[f]) + "\n"))
    out.append(b"done\n")
    return b"".join(out)


def generate(root: Path, count: int) -> dict[str, int]:
    """Create the repository at `root`; return what it holds."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    plain = [f"Change {i}\n\n" + (CLAUDE + "\n" if i % 2 else "") for i in range(count)]
    _git(root, "fast-import", "--quiet", "--done", input=_stream(count, plain))
    repo = Repo(root)
    commits = list(reversed(repo.rev_list("main")))
    ids = repo.patch_ids([(c, commits[i - 1] if i else None) for i, c in enumerate(commits)])
    patch = [ids[c] for c in commits]

    messages = []
    in_notes = []
    for i in range(count):
        if i % 2 == 0:
            messages.append(plain[i])
            continue
        verdict = f'Verdict: PASS judge="{JUDGE}" patch={patch[i]}'
        if i % 10 == 1:
            messages.append(plain[i])  # judged in notes instead
            in_notes.append(i)
        else:
            messages.append(plain[i] + verdict + "\nVerdict-Evidence: pytest passed\n")
    # Start over with the judged messages; trees, hence patch-ids, are the same.
    _git(root, "update-ref", "-d", "refs/heads/main")
    _git(root, "fast-import", "--quiet", "--done", "--force", "--export-marks=.git/marks",
         input=_stream(count, messages))
    marks = dict(line.split() for line in (root / ".git" / "marks").read_text().splitlines())
    notes = [b"commit refs/notes/agentops/verdicts\n",
             b"committer agentops <agentops@localhost> 1700000000 +0000\n", _data("verdicts")]
    for i in in_notes:
        record = {"v": 1, "status": "PASS", "judge": JUDGE, "patch_id": patch[i],
                  "recorded_at": "2026-11-21T10:00:00Z", "source": "note"}
        notes.append(f"N inline {marks[f':{i + 1}']}\n".encode() + _data(json.dumps(record) + "\n"))
    notes.append(b"done\n")
    _git(root, "fast-import", "--quiet", "--done", input=b"".join(notes))
    _git(root, "gc", "-q")
    _git(root, "checkout", "-q", "main")
    return {"commits": count, "agent": count // 2, "verdicts_in_notes": len(in_notes)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(json.dumps(generate(args.path, args.commits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
