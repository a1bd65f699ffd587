"""Gate IV's secret detection over the added lines of a real history.

    python tests/perf/secrets_real.py /path/to/repo [RANGE]          # counts by kind
    python tests/perf/secrets_real.py /path/to/repo [RANGE] --show   # and every finding

Every non-merge commit of RANGE (default HEAD) is diffed as the gate diffs it
(as text, renames followed) and its added lines go through `secrets_in`, the
function the gate calls. `--show` prints each finding with its line, for a
person to judge: it shows the text the gate never shows, so keep its output
to yourself. A measurement, not a test: results go to docs/secrets.md.
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hooks"))
from agentops_hooks.gates.privilege import SECRET_HINTS
from agentops_hooks.gates.privilege import secrets_in

DIFF = ["diff-tree", "--stdin", "-p", "--root", "--text", "--no-color", "--no-ext-diff",
        "--no-textconv", "-M", "--full-index", "--always"]
_HINT_BYTES = tuple(h.encode() for h in SECRET_HINTS)
SKIPPED: list[str] = []
"""Commits whose patch git could not read (a snapshot missing a large blob)."""


def _write(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except BrokenPipeError:  # git died on a missing object: the caller goes on
        pass


def commits(repo: str, rng: str) -> collections.abc.Iterator[tuple[str, bytes]]:
    """(commit id, its patch) for every non-merge commit of the range, streamed.

    One diff-tree reads them all; when it dies on an object the clone lacks, the
    commit it was on is skipped and another diff-tree goes on from the next one.
    """
    ids = subprocess.run(["git", "-C", repo, "rev-list", "--no-merges", rng],
                         capture_output=True, text=True, check=True).stdout.split()
    position = 0
    while position < len(ids):
        start = position
        proc = subprocess.Popen(["git", "-C", repo, *DIFF], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdin is not None and proc.stdout is not None
        feed = "".join(i + "\n" for i in ids[position:]).encode()
        threading.Thread(target=_write, args=(proc.stdin, feed), daemon=True).start()
        commit, lines = "", list[bytes]()
        for line in proc.stdout:
            if position < len(ids) and len(line) in (41, 65) and line[:-1] == ids[position].encode():
                if commit:
                    yield commit, b"".join(lines)
                commit, lines = ids[position], []
                position += 1
            else:
                lines.append(line)
        if proc.wait() == 0:
            if commit:
                yield commit, b"".join(lines)
            return
        if position == start:  # it died before the first commit's header
            commit, position = ids[position], position + 1
        SKIPPED.append(commit)  # its patch may be incomplete: leave it out


def detect_secrets_findings(patch: str) -> list[tuple[str, int, str]]:
    """(path, line number, kind) of what detect-secrets' default plugins and
    filters find in a patch's added lines (its own `scan_diff`)."""
    from detect_secrets.core.scan import scan_diff

    return [(s.filename, s.line_number, s.type) for s in scan_diff(patch)]


def findings(repo: str, rng: str, detector: str = "agentops") -> collections.abc.Iterator[tuple[str, str, int, str, str]]:
    """(commit, path, line number, kind, the line) of every secret the detector reports."""
    if detector == "detect-secrets":
        from detect_secrets.settings import default_settings
        from detect_secrets.settings import get_filters

        with default_settings() as settings:
            # Its one filter that opens the file on disk: a patch's files are not there.
            settings.disable_filters("detect_secrets.filters.common.is_invalid_file")
            get_filters.cache_clear()
            yield from _findings(repo, rng, detector)
    else:
        yield from _findings(repo, rng, detector)


def _findings(repo: str, rng: str, detector: str) -> collections.abc.Iterator[tuple[str, str, int, str, str]]:
    from unidiff.patch import PatchSet

    for commit, raw in commits(repo, rng):
        lowered = raw.lower()
        if not any(h in lowered for h in _HINT_BYTES):
            continue
        text = raw.decode("utf-8", "replace")
        patch = PatchSet(text)
        added = {(patched.path, line.target_line_no): line.value.rstrip("\r\n")
                 for patched in patch for hunk in patched for line in hunk if line.is_added}
        if detector == "detect-secrets":
            for path, number, kind in detect_secrets_findings(text):
                yield commit, path, number, kind, added.get((path, number), "")
            continue
        for patched in patch:
            if patched.is_binary_file:
                continue
            for number, kind in secrets_in(patched):
                yield commit, patched.path, number, kind, added.get((patched.path, number), "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo")
    parser.add_argument("range", nargs="?", default="HEAD")
    parser.add_argument("--show", action="store_true", help="print every finding with its line")
    parser.add_argument("--detector", choices=("agentops", "detect-secrets"), default="agentops",
                        help="gate IV's own detectors, or detect-secrets' on the same patches")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    kinds: collections.Counter[str] = collections.Counter()
    for commit, path, number, kind, line in findings(args.repo, args.range, args.detector):
        kinds[kind] += 1
        if args.show:
            print(f"{commit[:10]} {path}:{number} ({kind})\t{line.strip()[:200]}")
    count = subprocess.run(["git", "-C", args.repo, "rev-list", "--count", "--no-merges", args.range],
                           capture_output=True, text=True, check=True).stdout.strip()
    print(f"{args.repo} {args.range}: {count} commits ({len(SKIPPED)} unreadable, skipped), "
          f"{sum(kinds.values())} findings "
          f"in {time.perf_counter() - start:.1f} s")
    for kind, n in kinds.most_common():
        print(f"  {n:5}  {kind}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
