"""Agent detection against hand-labelled commits of real repositories.

    python tests/perf/detection_sample.py            # recall and precision on the fixture
    python tests/perf/detection_sample.py --misses   # and every commit detection gets wrong
    python tests/perf/detection_sample.py --draw OWNER/NAME=GITDIR[:RANGE] ...  # a new sample
    python tests/perf/detection_sample.py --history OWNER/NAME=GITDIR[:RANGE] ...  # whole histories

The fixture (tests/fixtures/detection_sample.json) holds each commit's
identities, message, source repository, commit id and label. Detection runs
as a range check runs it (`detect_agent` on the author, the committer, the
trailers git reads and the whole message). `--draw` draws 90 commits a
repository (seed 13) from local clones and prints them as JSON, unlabelled;
`--history` counts the agent commits of whole ranges.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

from agentops_hooks.authorship import AgentSignal
from agentops_hooks.authorship import Identity
from agentops_hooks.authorship import detect_agent
from agentops_hooks.trailers import parse

FIXTURE = Path(__file__).parents[1] / "fixtures" / "detection_sample.json"


def detect(entry: dict[str, str]) -> list[AgentSignal]:
    """Detection on one fixture commit, as a range check does it."""
    message = entry["message"]
    return detect_agent(Identity.parse(entry["author"]), Identity.parse(entry["committer"]),
                        parse(message), message=message)


def score(path: Path = FIXTURE) -> tuple[Counter[str], list[tuple[dict[str, str], list[AgentSignal]]]]:
    """Counts of tp/fp/fn/tn (overall and per repository), and the commits detection gets wrong."""
    counts: Counter[str] = Counter()
    wrong = []
    for entry in json.loads(path.read_text(encoding="utf-8"))["commits"]:
        signals = detect(entry)
        truth = entry["label"] == "agent"
        kind = ("t" if bool(signals) == truth else "f") + ("p" if signals else "n")
        counts[kind] += 1
        counts[f"{entry['repo']} {kind}"] += 1
        if kind in ("fp", "fn"):
            wrong.append((entry, signals))
    return counts, wrong


def recall(c: Counter[str], prefix: str = "") -> float:
    return c[prefix + "tp"] / max(1, c[prefix + "tp"] + c[prefix + "fn"])


def precision(c: Counter[str], prefix: str = "") -> float:
    return c[prefix + "tp"] / max(1, c[prefix + "tp"] + c[prefix + "fp"])


def draw(sources: list[str], per_repo: int = 90, seed: int = 13) -> list[dict[str, str]]:
    """`per_repo` random commits of each OWNER/NAME=GITDIR[:RANGE], unlabelled."""
    rng = random.Random(seed)
    out = []
    for source in sources:
        name, _, where = source.partition("=")
        gitdir, _, revs = where.partition(":")
        ids = subprocess.run(["git", "-C", gitdir, "rev-list", revs or "HEAD"],
                             capture_output=True, text=True, check=True).stdout.split()
        for commit in sorted(rng.sample(ids, per_repo), key=ids.index):
            raw = subprocess.run(["git", "-C", gitdir, "cat-file", "commit", commit],
                                 capture_output=True, check=True).stdout
            head, _, message = raw.partition(b"\n\n")
            who: dict[str, str] = {}
            for line in head.decode("utf-8", "replace").split("\n"):
                key, _, value = line.partition(" ")
                if key in ("author", "committer"):
                    who.setdefault(key, value.rsplit(" ", 2)[0])
            out.append({"repo": name, "commit": commit, "author": who.get("author", ""),
                        "committer": who.get("committer", ""),
                        "message": message.decode("utf-8", "replace"), "label": ""})
    return out


def history(source: str) -> tuple[int, int]:
    """(commits, agent commits) of OWNER/NAME=GITDIR[:RANGE], detected as in `detect`."""
    _, _, where = source.partition("=")
    gitdir, _, revs = where.partition(":")
    out = subprocess.run(["git", "-C", gitdir, "log", "--format=%an <%ae>%x00%cn <%ce>%x00%B%x01",
                          revs or "HEAD"], capture_output=True, check=True).stdout
    commits = agents = 0
    for record in out.decode("utf-8", "replace").split("\x01"):
        if record.strip():
            author, committer, message = record.lstrip("\n").split("\x00", 2)
            commits += 1
            agents += bool(detect({"author": author, "committer": committer, "message": message}))
    return commits, agents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="print every commit detection gets wrong")
    parser.add_argument("--draw", nargs="+", metavar="OWNER/NAME=GITDIR[:RANGE]")
    parser.add_argument("--history", nargs="+", metavar="OWNER/NAME=GITDIR[:RANGE]")
    args = parser.parse_args(argv)
    if args.history:
        for source in args.history:
            commits, agents = history(source)
            print(f"{source.partition('=')[0]:28s} {commits:7,d} commits {agents:7,d} by agents")
        return 0
    if args.draw:
        json.dump(draw(args.draw), sys.stdout, indent=1, ensure_ascii=False)
        return 0
    counts, wrong = score()
    repos = sorted({k.rsplit(" ", 1)[0] for k in counts if " " in k})
    print(f"{'repository':28s} {'commits':>7s} {'agent':>6s} {'tp':>4s} {'fp':>4s} {'fn':>4s} "
          f"{'recall':>7s} {'precision':>9s}")
    for prefix in [*(r + " " for r in repos), ""]:
        total = sum(counts[prefix + k] for k in ("tp", "fp", "fn", "tn"))
        agents = counts[prefix + "tp"] + counts[prefix + "fn"]
        print(f"{(prefix.strip() or 'all'):28s} {total:7d} {agents:6d} {counts[prefix + 'tp']:4d} "
              f"{counts[prefix + 'fp']:4d} {counts[prefix + 'fn']:4d} {recall(counts, prefix):7.1%} "
              f"{precision(counts, prefix):9.1%}")
    if args.misses:
        for entry, signals in wrong:
            print(f"\n{entry['repo']} {entry['commit'][:12]} labelled {entry['label']}: "
                  f"{entry.get('why', '')}")
            print(f"  author {entry['author']} / committer {entry['committer']}")
            print("  " + entry["message"].strip().split("\n")[0][:100])
            for s in signals:
                print(f"  detected {s.agent}: {s.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
