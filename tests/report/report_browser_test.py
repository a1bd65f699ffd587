"""The HTML report's charts as a real browser draws them: headless Chromium's DOM
and a screenshot (skipped, saying so, where no Chromium is installed)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GitRepo
from conftest import agent_message
from report_test import adopt

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium installed (apt-get install chromium): the HTML "
                            "report's charts are not checked in a browser")
ADMITTED, BYPASSED, HUMAN, BASELINE = (0x2D, 0xA4, 0x4E), (0xCF, 0x22, 0x2E), (0xAF, 0xB8, 0xC1), (0x1F, 0x6F, 0xEB)
VERDICT = 'Verdict: PASS judge="Riley Reviewer <riley@example.com>" patch={}'


def at(day: str) -> dict[str, str]:
    return {"GIT_AUTHOR_DATE": f"{day}T12:00:00Z", "GIT_COMMITTER_DATE": f"{day}T12:00:00Z"}


def agentops(repo: GitRepo, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env=repo.env, capture_output=True, text=True, check=True).stdout


def staged_patch_id(repo: GitRepo) -> str:
    diff = repo.git("diff-index", "--cached", "-p", "-M", "--full-index", "--text", "HEAD").stdout
    return repo.git("patch-id", "--verbatim", input=diff).stdout.decode().split()[0]


@pytest.fixture
def page(repo: GitRepo, tmp_path: Path) -> Path:
    """Fifteen months of history: the hooks adopted, agent commits with a PASS and
    without, human ones, and ratchet baselines, one of them a reversal."""
    repo.write(".agentops.toml", '[ratchet.metrics.coverage]\ncommand = "cat coverage.txt"\n'
                                 'direction = "higher"\n')
    repo.stage(".agentops.toml", repo.root.joinpath(".agentops.toml").read_text())
    repo.stage("coverage.txt", "80\n")
    repo.commit("base", env=at("2024-11-04"))
    agentops(repo, "ratchet", "record")
    adopt(repo, at("2024-11-05"))
    days = ["2024-12-02", "2025-01-13", "2025-03-03", "2025-05-12", "2025-08-04", "2025-11-10",
            "2026-01-19"]
    for i, day in enumerate(days):
        for j in range(i % 3 + 1):
            repo.stage("app.py", f"v = {i}.{j}\n")
            repo.commit(agent_message(f"work {i}.{j}", VERDICT.format(staged_patch_id(repo))), env=at(day))
        repo.stage("notes.txt", f"{i}\n")
        repo.commit(f"human {i}", env=at(day))
        if i in (2, 4):
            repo.stage("app.py", f"risky = {i}\n")
            repo.commit(agent_message(f"unjudged {i}"), "--no-verify", env=at(day))
    for value, day, why in ((84, "2025-03-03", ""), (79, "2025-08-04", "coverage: flaky tests removed"),
                            (86, "2026-01-19", "")):
        repo.stage("coverage.txt", f"{value}\n")
        trailer = f"\n\nRatchet-Reversal: {why}\n" if why else "\n"
        repo.commit(f"coverage {value}{trailer}", env=at(day))
        agentops(repo, "ratchet", "record")
    out = tmp_path / "report.html"
    agentops(repo, "report", "HEAD", "--format", "html", "--output", str(out))
    return out


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    assert BROWSER is not None
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True)


def test_the_browser_builds_the_charts_with_their_tick_labels(page: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    charts = dom.split('<svg ')[1:]
    assert len(charts) == 2  # commits per month; the coverage baselines
    x_ticks = [re.findall(r'<text class="tick x"[^>]*>([^<]*)</text>', c) for c in charts]
    assert x_ticks[0] == ["Nov 2024", "Jan 2025", "Mar", "May", "Jul", "Sep", "Nov", "Jan 2026"]
    assert x_ticks[1] == x_ticks[0][1:]  # from the first commit's day, not its month
    assert all(re.findall(r'<text class="tick y"[^>]*>[0-9.]+</text>', c) for c in charts)
    assert "<h2>Commits per month</h2>" in dom
    assert dom.count('<g class="reversal">') == 1
    assert "ratchet reversal of coverage at" in dom and "flaky tests removed" in dom
    assert not re.search(r"<title>[^<]*[0-9a-f]{40}", dom)


def close(pixel: tuple[int, ...], colour: tuple[int, int, int], slack: int = 10) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour))


def test_the_screenshot_shows_the_bars_and_the_lines(page: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1000,2200", "--hide-scrollbars",
             page.as_uri())
    image = Image.open(shot).convert("RGB")
    counts = {name: 0 for name in ("admitted", "bypassed", "human", "baseline")}
    for n, pixel in image.getcolors(maxcolors=1 << 20) or []:
        assert isinstance(pixel, tuple)
        for name, colour in (("admitted", ADMITTED), ("bypassed", BYPASSED), ("human", HUMAN),
                             ("baseline", BASELINE)):
            if close(pixel, colour):
                counts[name] += n
    # More than a legend square of each (13 x 13 pixels): the bars and the line are drawn.
    assert all(count > 400 for count in counts.values()), counts
    assert len(image.getcolors(maxcolors=1 << 20) or []) > 50  # not a blank page
