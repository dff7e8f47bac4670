"""The soak (bench/soak.py) on every shipped world: 2,000 lines of play mixing choices, saves,
loads, rollbacks, retellings, versions and hostile free text, in a process of its own. No line
may hang (each has a watchdog) or break the Session's invariants; the thread count stays flat
and RSS grows by less than 20 MB after the warm-up (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.worlds.loading import BUILTIN_WORLDS

# Plays in a process of its own for minutes: `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORLDS = sorted(p.name for p in BUILTIN_WORLDS.iterdir() if (p / "world.toml").is_file())


def soak(world: str, lines: int, painter: str = "none") -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "soak.py"), "--world", world, "--lines",
           str(lines), "--painter", painter, "--hang", "60"]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900,
                            env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("world", WORLDS)
def test_two_thousand_lines_of_play_neither_hang_nor_leak(world):
    report = soak(world, 2000)
    assert report["invariants_broken"] == [] and report["tracebacks"] == 0
    assert report["scenes_shown"] > 1000 and report["autosaved"]
    assert report["end"]["threads"] <= report["start"]["threads"]
    assert report["threads_after_close"] == 1          # close() ended every thread it started
    if sys.platform.startswith("linux"):
        assert report["rss_growth_mb"] < 20, report


def test_play_with_pictures_neither_hangs_nor_breaks_the_invariants():
    report = soak(WORLDS[0], 300, painter="procedural")
    assert report["invariants_broken"] == [] and report["tracebacks"] == 0
    assert report["end"]["threads"] <= report["start"]["threads"]
