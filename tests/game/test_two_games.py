"""Two games on one save slot (issue 11, finding 3): the second is refused with a clear message
and may open a read-only copy or fork the story; the first one's story stays intact; when the
first is killed with SIGKILL, the next game takes its stale lock over. Real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import load_config
from engine.session.jobs import InlineRunner
from engine.saves.store import SaveStore
from engine.session.core import Session

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "DREAMREEL_CONFIG": "/nonexistent"}

# Starts the game in processes of their own: `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow


def command(saves: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(saves),
            "--painter", "none", *extra]


def run(saves: Path, lines: list[str], *extra: str):
    return subprocess.run(command(saves, *extra), input=("\n".join(lines) + "\n").encode(),
                          capture_output=True, cwd=ROOT, timeout=120, env=ENV)


def titles(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("== ")]


class Game:
    """A game process played line by line, its output read as it comes."""

    def __init__(self, saves: Path, *extra: str):
        self.proc = subprocess.Popen(command(saves, *extra), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=ROOT, env=ENV)
        self.titles: list[str] = []

    def play(self, line: str | None, scenes: int) -> None:
        """Send a line (None: none) and read until `scenes` scenes have been shown in all."""
        if line is not None:
            self.proc.stdin.write(f"{line}\n".encode())
            self.proc.stdin.flush()
        while len(self.titles) < scenes:
            out = self.proc.stdout.readline().decode()
            assert out, "the game ended early"
            if out.startswith("== "):
                self.titles.append(out.rstrip("\n"))


def wait_for_turn(saves: Path, slot: str, turn: int) -> None:
    """Until the slot's newest autosave is at `turn` (the saver thread writes it)."""
    store = SaveStore(saves)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if store.meta(slot).turn >= turn:
                return
        except Exception:  # noqa: BLE001 - not written yet
            pass
        time.sleep(0.05)
    raise AssertionError(f"slot {slot} never reached turn {turn}")


def story_path(saves: Path, slot: str) -> tuple[list[str], list[str]]:
    """The titles along a slot's path, and what loading it said."""
    config = load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "painter": "none"})
    session = Session.resume(config, slot, runner=InlineRunner(), read_only=True)
    try:
        return ([f"== {session.graph.scene(n).title} ==" for n in session.path()],
                [str(e.payload) for e in session.poll() if e.is_message])
    finally:
        session.close()


def test_a_second_game_on_a_slot_is_refused_and_a_killed_games_lock_is_taken_over(tmp_path):
    first = Game(tmp_path, "--seed", "4", "--slot", "shared")
    try:
        first.play(None, 1)
        first.play("1", 2)
        first.play("2", 3)
        wait_for_turn(tmp_path, "shared", 2)
        # A second game, new or resumed, is refused and told who holds the slot and what to do.
        new = run(tmp_path, ["1"], "--seed", "9", "--slot", "shared")
        assert new.returncode == 2
        message = new.stderr.decode()
        assert f"Slot 'shared' is open in another Dreamreel (process {first.proc.pid}" in message
        assert "--slot NAME" in message and "Traceback" not in message
        resumed = run(tmp_path, ["1"], "--continue", "--slot", "shared")
        assert resumed.returncode == 2
        assert "--read-only" in resumed.stderr.decode() and "--fork" in resumed.stderr.decode()
        # ... and may open a copy read-only, or fork it into a new slot.
        copy = run(tmp_path, ["1", "1"], "--continue", "--slot", "shared", "--read-only")
        assert copy.returncode == 0, copy.stderr.decode()
        assert titles(copy.stdout.decode())[0] == first.titles[-1]
        assert "(A read-only copy: nothing was autosaved." in copy.stdout.decode()
        fork = run(tmp_path, ["2"], "--continue", "--slot", "shared", "--fork", "mine")
        assert fork.returncode == 0, fork.stderr.decode()
        assert "(Autosaved to slot 'mine'.)" in fork.stdout.decode()
        assert story_path(tmp_path, "mine")[0][:3] == first.titles
        # The first game plays on, its story its own.
        first.play("1", 4)
        wait_for_turn(tmp_path, "shared", 3)
        path, said = story_path(tmp_path, "shared")
        assert path == first.titles, (path, first.titles)
        assert not any("damaged" in m or "cut off" in m for m in said), said
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        first.proc.stdin.close()
        first.proc.stdout.close()
    # Killed: the kernel dropped its lock; the next game takes the slot over and says so.
    after = run(tmp_path, ["1"], "--continue", "--slot", "shared")
    out = after.stdout.decode()
    assert after.returncode == 0, after.stderr.decode()
    assert titles(out)[0] == first.titles[-1]
    assert f"left locked by a game that stopped without closing (process {first.proc.pid})" in out
    assert "Traceback" not in out + after.stderr.decode()
    path, said = story_path(tmp_path, "shared")
    assert path[:4] == first.titles and len(path) == 5
