"""Build a large throwaway repository for benchmarks: agent commits, verdict trailers, notes.

Two `git fast-import` passes: the first writes the commits so their patch-ids
can be computed (a patch-id depends only on the diff), the second writes the
same trees again with messages that carry verdicts bound to those patch-ids.
Every fifth judged agent commit gets its verdict in refs/notes/agentops/verdicts
instead of a trailer. About a thousand commits a second.

Two shapes: `generate` (one line appended to one of 60 files a commit, a
straight line) and `generate_history`, shaped like real history (see there).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
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
    """Create the straight-line repository at `root`; return what it holds."""
    plain = [f"Change {i}\n\n" + (CLAUDE + "\n" if i % 2 else "") for i in range(count)]
    return _judged_repo(root, plain, lambda messages: _stream(count, messages),
                        [i for i in range(count) if i % 2])


def _judged_repo(
    root: Path, plain: list[str], stream: Callable[[list[str]], bytes], agents: list[int],
) -> dict[str, int]:
    """Write the commits `stream` makes of `plain` messages, then again with
    the agents' commits judged (in trailers; every fifth in notes)."""
    count = len(plain)
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "fast-import", "--quiet", "--done", "--export-marks=.git/marks", input=stream(plain))
    marks = dict(line.split() for line in (root / ".git" / "marks").read_text().splitlines())
    commits = [marks[f":{i + 1}"] for i in range(count)]
    listed = dict(line.split(" ", 1) if " " in line else (line, "")
                  for line in _git(root, "rev-list", "--parents", "--all").decode().splitlines())
    first_parent = {c: (listed[c].split() or [None])[0] for c in commits}
    ids = Repo(root).patch_ids([(c, first_parent[c]) for c in commits])
    messages = list(plain)
    in_notes = []
    for n, i in enumerate(agents):
        if n % 5 == 0:
            in_notes.append(i)  # judged in notes instead
        else:
            messages[i] = (plain[i] + f'Verdict: PASS judge="{JUDGE}" patch={ids[commits[i]]}\n'
                           "Verdict-Evidence: pytest passed\n")
    # Start over with the judged messages; trees, hence patch-ids, are the same.
    for ref in _git(root, "for-each-ref", "--format=%(refname)", "refs/heads").decode().split():
        _git(root, "update-ref", "-d", ref)
    _git(root, "fast-import", "--quiet", "--done", "--force", "--export-marks=.git/marks",
         input=stream(messages))
    marks = dict(line.split() for line in (root / ".git" / "marks").read_text().splitlines())
    notes = [b"commit refs/notes/agentops/verdicts\n",
             b"committer agentops <agentops@localhost> 1700000000 +0000\n", _data("verdicts")]
    for i in in_notes:
        record = {"v": 1, "status": "PASS", "judge": JUDGE, "patch_id": ids[commits[i]],
                  "recorded_at": "2026-11-21T10:00:00Z", "source": "note"}
        notes.append(f"N inline {marks[f':{i + 1}']}\n".encode() + _data(json.dumps(record) + "\n"))
    notes.append(b"done\n")
    _git(root, "fast-import", "--quiet", "--done", input=b"".join(notes))
    _git(root, "gc", "-q")
    _git(root, "checkout", "-q", "main")
    return {"commits": count, "agent": len(agents), "verdicts_in_notes": len(in_notes)}


# --- history shaped like a real project's ------------------------------------

HINTED = (  # what real code says near secrets: names, not secrets
    '    api_key = settings.get("api_key")',
    '    token = os.environ.get("GITHUB_TOKEN", "")',
    '    if not password:\n        raise ValueError("password is required")',
    '    secret_name = f"{prefix}_SECRET"',
    '    headers = {"Authorization": f"Bearer {token}"}',
    '    key = (path, mtime)',
)


class _History:
    """The commits of a project's history, made once and written twice by
    `stream`: human merges of topic branches every few commits, changes from a
    line to thousands over nested paths, renames, binary files, and about 30 %
    of commits adding lines with words a secret would hold (key, token, ...)."""

    def __init__(self, count: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.specs: list[tuple[str, list[int], list[bytes], bool]] = []
        """(branch, parent indexes, fast-import file commands, by an agent) a commit."""
        main = {f"src/pkg{d}/core.py": self._lines(40) for d in range(8)}
        main_tip: int | None = None
        topic: dict[str, list[str]] | None = None
        topic_tip = topic_area = None
        topic_left = 0
        while len(self.specs) < count:
            if topic is None and main_tip is not None and self.rng.random() < 0.35:  # a pull request opens
                topic, topic_tip, topic_left = {k: list(v) for k, v in main.items()}, main_tip, self.rng.randint(1, 4)
                topic_area = f"src/pkg{self.rng.randrange(8)}/"
            on_topic = topic is not None and topic_left > 0 and self.rng.random() < 0.6
            if topic is not None and topic_left == 0 and len(self.specs) < count - 1:
                ops = [self._put(p, topic[p]) for p in sorted(topic) if topic[p] != main.get(p)]
                ops += [f"D {p}\n".encode() for p in sorted(main) if p not in topic]
                main = topic
                self.specs.append(("main", [main_tip, topic_tip], ops, False))  # type: ignore[list-item]
                main_tip, topic = len(self.specs) - 1, None
                continue
            files, parent = (topic, topic_tip) if on_topic else (main, main_tip)
            assert files is not None
            area = topic_area if on_topic else None
            avoid = None if on_topic or topic is None else topic_area
            ops = self._change(files, area, avoid)
            self.specs.append(("topic" if on_topic else "main", [] if parent is None else [parent],
                               ops, self.rng.random() < 0.5))
            if on_topic:
                topic_tip, topic_left = len(self.specs) - 1, topic_left - 1
            else:
                main_tip = len(self.specs) - 1

    def _lines(self, n: int) -> list[str]:
        r = self.rng
        out = []
        for _ in range(n):
            k = r.randrange(10_000)
            out.append(r.choice((f"def step_{k}(value):", f"    return value * {k} + {r.randrange(97)}",
                                 f"    # {r.choice(('cache', 'retry', 'parse', 'render'))} item {k}",
                                 f"ITEMS_{k} = [{k}, {k + 1}, {k + 2}]", "")))
        if r.random() < 0.2:
            out.insert(r.randrange(len(out) + 1), r.choice(HINTED))
        return out

    def _put(self, path: str, lines: list[str]) -> bytes:
        return f"M 100644 inline {path}\n".encode() + _data("\n".join(lines) + "\n")

    def _change(self, files: dict[str, list[str]], area: str | None, avoid: str | None) -> list[bytes]:
        r = self.rng
        size = min(5000, max(1, int(r.lognormvariate(2.8, 1.6))))  # median ~16 lines, a few thousands
        pool = [p for p in files if (area is None or p.startswith(area))
                and (avoid is None or not p.startswith(avoid)) and not p.endswith(".bin")]
        roll = r.random()
        if roll < 0.03 and pool:  # a rename, sometimes with an edit
            old = r.choice(pool)
            new = old.replace(".py", f"_{r.randrange(1000)}.py")
            files[new] = files.pop(old)
            ops = [f"R {old} {new}\n".encode()]
            if r.random() < 0.5:
                files[new][0:1] = self._lines(2)
                ops.append(self._put(new, files[new]))
            return ops
        if roll < 0.05:  # a binary file
            path = f"{area or 'assets/'}img_{r.randrange(300)}.bin"
            blob = bytes(r.randrange(256) for _ in range(r.randrange(200, 20_000)))
            files[path] = []
            return [f"M 100644 inline {path}\n".encode() + f"data {len(blob)}\n".encode() + blob + b"\n"]
        if roll < 0.2 or not pool:  # a new file, nested
            depth = r.randint(1, 4)
            path = (area or "src/") + "/".join(f"mod{r.randrange(6)}" for _ in range(depth)) + f"/f{r.randrange(10**6)}.py"
            files[path] = self._lines(size)
            return [self._put(path, files[path])]
        ops = []
        for path in r.sample(pool, min(len(pool), r.randint(1, 3))):
            body = files[path]
            at = r.randrange(len(body) + 1)
            body[at:at + r.randrange(0, 1 + size // 3)] = self._lines(max(1, size // 2))
            if len(body) > 4000:
                del body[:2000]
            ops.append(self._put(path, body))
        return ops

    def stream(self, messages: list[str]) -> bytes:
        out = []
        when = 1_700_000_000
        for i, (branch, parents, ops, _) in enumerate(self.specs):
            who = "Ada Agent <ada@example.com>" if self.specs[i][3] else "Hana Human <hana@example.com>"
            out.append(f"commit refs/heads/{branch}\nmark :{i + 1}\n".encode())
            out.append(f"author {who} {when + i * 60} +0000\ncommitter {who} {when + i * 60} +0000\n".encode())
            out.append(_data(messages[i]))
            if parents:
                out.append(f"from :{parents[0] + 1}\n".encode())
            out += [f"merge :{p + 1}\n".encode() for p in parents[1:]]
            out += ops
        out.append(b"done\n")
        return b"".join(out)


def generate_history(root: Path, count: int, seed: int = 13,
                     root_files: dict[str, str] | None = None) -> dict[str, int]:
    """Create a repository of `count` commits shaped like a real project's at `root`
    (`root_files`, {path: text}, added by its first commit)."""
    history = _History(count, seed)
    for path, content in (root_files or {}).items():
        history.specs[0][2].append(f"M 100644 inline {path}\n".encode() + _data(content))
    plain = []
    for i, (branch, parents, _, agent) in enumerate(history.specs):
        if len(parents) > 1:
            plain.append(f"Merge pull request #{i} from topic\n\nChange {i}\n")
        else:
            plain.append(f"Change {i} on {branch}\n\nWhat it does.\n\n" + (CLAUDE + "\n" if agent else ""))
    agents = [i for i, spec in enumerate(history.specs) if spec[3]]
    info = _judged_repo(root, plain, history.stream, agents)
    info["merges"] = sum(1 for spec in history.specs if len(spec[1]) > 1)
    return info


def generate_in_child(root: Path, count: int, shape: str) -> dict[str, int]:
    """`generate` or `generate_history` in a process of its own: what the history
    holds while it is made must not swell the caller, whose children (the commands
    a benchmark measures) start as copies of it."""
    out = subprocess.run([sys.executable, __file__, str(root), "--commits", str(count), "--shape", shape],
                         capture_output=True, text=True, check=True, env=_env()).stdout
    info: dict[str, int] = json.loads(out)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--shape", choices=("line", "history"), default="line",
                        help="line: one line a commit; history: shaped like a real project's")
    args = parser.parse_args(argv)
    make = generate if args.shape == "line" else generate_history
    print(json.dumps(make(args.path, args.commits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
