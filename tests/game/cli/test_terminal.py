"""Terminal play as a player or a script uses it: a real `dreamreel play --text` process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.saves.store import story_slot_base

ROOT = Path(__file__).resolve().parents[3]


def run(saves: Path, lines: list[str] | bytes, *extra: str, timeout: float = 120):
    data = lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode()
    cmd = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(saves),
           "--painter", "none", *extra]
    return subprocess.run(cmd, input=data, capture_output=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})


SCRIPT = []
for turn in range(50):
    SCRIPT.append([str(1 + turn % 3), "1", "look for footprints in the sand", ":back", "2",
                   ":regen", "ask the keeper about the ships", "3", "1", "2"][turn % 10])


@pytest.mark.slow   # the game in a process of its own
def test_fifty_scripted_turns_replay_identically(tmp_path):
    first = run(tmp_path / "a", SCRIPT, "--seed", "42")
    second = run(tmp_path / "b", SCRIPT, "--seed", "42")
    assert first.returncode == 0, first.stderr.decode()
    assert second.returncode == 0
    out = first.stdout.decode()
    assert out.count("== ") >= 45          # a scene printed for (almost) every turn
    assert "Traceback" not in out + first.stderr.decode()
    assert first.stdout == second.stdout
    assert "Autosaved" in out


@pytest.mark.slow   # the game in a process of its own
def test_continue_resumes_at_the_same_scene(tmp_path):
    first = run(tmp_path, ["1", "2", "1", ":state"], "--seed", "5")
    last_title = [l for l in first.stdout.decode().splitlines() if l.startswith("== ")][-1]
    resumed = run(tmp_path, [], "--continue")
    assert resumed.returncode == 0
    titles = [l for l in resumed.stdout.decode().splitlines() if l.startswith("== ")]
    assert titles[0] == last_title


@pytest.mark.slow   # the game in a process of its own
def test_garbage_and_huge_input_lines_do_not_crash(tmp_path):
    junk = b"\xff\xfe\x00garbage\n" + b"9" * 50_000 + b"\n" + b":nonsense\n99\n\x1b[2J\n1\n"
    result = run(tmp_path, junk, "--seed", "1")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Traceback" not in out + result.stderr.decode()
    assert "Unknown command" in out and "There is no choice 99" in out


@pytest.mark.slow   # the game in a process of its own
def test_save_and_load_commands(tmp_path):
    result = run(tmp_path, ["1", ":save mine", "2", ":load mine", ":load ../../etc"], "--seed", "9")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Saved to slot 'mine'" in out and "Loaded slot 'mine'" in out
    assert "not a usable slot name" in out
    listing = subprocess.run([sys.executable, "-m", "game.cli.main", "saves", "list", "--saves-dir",
                              str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert "mine" in listing.stdout and story_slot_base("lantern_coast") in listing.stdout


@pytest.mark.slow   # the game in a process of its own
def test_sigkill_mid_play_loses_at_most_the_turn_in_flight(tmp_path):
    cmd = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(tmp_path),
           "--painter", "none", "--seed", "8"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
    titles = []
    for choice in ["1", "2", "1"]:
        proc.stdin.write(f"{choice}\n".encode())
        proc.stdin.flush()
    deadline = time.time() + 60
    seen = 0
    while seen < 4 and time.time() < deadline:   # the opening scene + three turns
        line = proc.stdout.readline().decode()
        if line.startswith("== "):
            titles.append(line)
            seen += 1
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()
    resumed = run(tmp_path, [], "--continue")
    assert resumed.returncode == 0
    first = [l for l in resumed.stdout.decode().splitlines() if l.startswith("== ")][0]
    assert first + "\n" == titles[-1]


@pytest.mark.slow   # the game in a process of its own
def test_a_reader_that_leaves_early_ends_play_quietly_and_the_story_is_saved(tmp_path):
    """`dreamreel play --text < script | head`: the pipe closes mid-story."""
    cmd = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(tmp_path),
           "--painter", "none", "--seed", "3"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
    proc.stdout.readline()                      # read one line, then go away like `head -1`
    proc.stdout.close()
    _, err = proc.communicate(("\n".join(["1", "2", "1"] * 10) + "\n").encode(), timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    listing = subprocess.run([sys.executable, "-m", "game.cli.main", "saves", "list", "--saves-dir",
                              str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert story_slot_base("lantern_coast") in listing.stdout


# -- hardening (issue 11) ------------------------------------------------------------------------
import io                                                    # noqa: E402
import shutil                                                # noqa: E402

from engine.errors import SaveError                          # noqa: E402
from engine.session.jobs import InlineRunner                         # noqa: E402
from engine.session.core import Session                           # noqa: E402
from engine.worlds.watch import WorldWatcher                        # noqa: E402
from engine.worlds.loading import BUILTIN_WORLDS                     # noqa: E402
from game.cli.terminal import play_text                          # noqa: E402


class ScriptedInput(io.StringIO):
    """Input lines with things that happen before some of them are read (a file edited, the
    disk filling up), as they would while a player types."""

    def __init__(self, lines, before=None):
        super().__init__("\n".join(lines) + "\n")
        self.before = before or {}
        self.count = 0

    def readline(self, size=-1):
        action = self.before.get(self.count)
        if action is not None:
            action()
        self.count += 1
        return super().readline(size)


def _play(config, lines, before=None, **session_options):
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                          **session_options)
    out = io.StringIO()
    assert play_text(session, ScriptedInput(lines, before), out) == 0
    return session, out.getvalue()


def test_hot_reload_problems_reach_the_terminal(config, tmp_path):
    """Finding 4: hot-reload notices were made by the engine and dropped by the terminal."""
    world = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", world)
    config = config.with_changes(game={"world": str(world)})
    watchers = []
    real_init = WorldWatcher.__init__

    def instant(self, world, interval=0.0, settle=False, **kwargs):   # no throttle in a test
        real_init(self, world, interval=0.0, settle=False)
        watchers.append(self)

    storylet = sorted((world / "storylets").glob("*.toml"))[0]
    breaks = {2: lambda: storylet.write_text("this is = not [valid TOML\n"),
              4: lambda: (world / "world.toml").write_text('title = "Broken\n')}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorldWatcher, "__init__", instant)
        _, out = _play(config, ["1", "2", "1", "2", "1", "2"], breaks)
    assert watchers
    assert f"{storylet.name}, line 1" in out and "is not valid TOML" in out
    assert "World not reloaded, still playing the last good version" in out
    assert "Traceback" not in out


def test_every_kind_of_autosave_failure_is_told_once_and_so_is_the_recovery(config, tmp_path):
    """Finding 4: 26 scenes were shown after the disk filled, and only 2 'Autosave failed'."""
    trouble = {"now": None}
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner())
    real_append, real_snapshot = session.store.append, session.store.write_snapshot

    def append(*args, **kwargs):
        if trouble["now"]:
            raise SaveError(trouble["now"])
        return real_append(*args, **kwargs)

    def snapshot(*args, **kwargs):
        if trouble["now"]:
            raise SaveError(trouble["now"])
        return real_snapshot(*args, **kwargs)

    session.store.append, session.store.write_snapshot = append, snapshot

    def set_trouble(message):
        def change():
            session.flush_saves()      # the turns before the change were written without it
            trouble.update(now=message)
        return change

    lines = ["1", "2", "1", "2", "1", "2", "1", "2", "1", "2", "1", "2"]
    before = {2: set_trouble("The disk holding saves is full (test)."),
              6: set_trouble("saves is not writable (test)."),
              9: set_trouble(None)}
    out = io.StringIO()
    play_text(session, ScriptedInput(lines, before), out)
    text = out.getvalue()
    assert text.count("! Autosave failed: The disk holding saves is full (test).") == 1, text
    assert text.count("! Autosave failed: saves is not writable (test).") == 1, text
    assert text.count("Autosave works again") == 1, text
    assert text.index("full (test)") < text.index("not writable (test)") < \
        text.index("works again")
    assert f"(Autosaved to slot '{session.slot}'.)" in text
    resumed = Session.resume(session.config, session.slot, runner=InlineRunner(), slot="other")
    assert resumed.current == session.current and len(resumed.graph) == len(session.graph)


def test_unicode_digits_are_not_choices_and_crash_nothing(config):
    """Finding 6: '²', '①' and ':alt ²' crashed terminal play (isdigit() is true for them)."""
    session, out = _play(config, ["²", ":back", "①", ":back", ":alt ²", ":alt ３", "٣", "1"])
    assert "Traceback" not in out
    assert out.count("Give a version number") == 2
    assert session.turn >= 4            # '²', '①' and '٣' were taken as the player's own words
    assert session.scene().status == "ready"


def test_a_closed_story_autosaves_nothing_more_and_frees_its_slot(config):
    session, out = _play(config, ["1"])
    assert f"(Autosaved to slot '{session.slot}'.)" in out
    assert session.store.holder(session.slot) is None
    assert session.autosave() is False and session.poll() == []


def _titles(result) -> list[str]:
    return [line for line in result.stdout.decode().splitlines() if line.startswith("== ")]


@pytest.mark.slow   # the game in a process of its own
def test_continue_with_slot_autosave_resumes_the_autosave(tmp_path):
    """Finding 9: `--continue --slot autosave` loaded the newest other slot and autosaved over
    the autosave story."""
    first = run(tmp_path, ["1", "2"], "--seed", "5", "--slot", "autosave")  # an older slot
    other = run(tmp_path, ["2", "1", "1"], "--seed", "6", "--slot", "later")  # newer
    assert first.returncode == 0 and other.returncode == 0
    resumed = run(tmp_path, [], "--continue", "--slot", "autosave")
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert _titles(resumed)[0] == _titles(first)[-1]
    later = run(tmp_path, [], "--continue", "--slot", "later")   # the other story is untouched
    assert _titles(later)[0] == _titles(other)[-1]


@pytest.mark.slow   # the game in a process of its own
def test_bad_flags_are_refused_before_play_starts(tmp_path):
    """Findings 7 and 8: a seed over 64 bits was taken (and then nothing could be saved); a
    missing --config FILE was silently ignored."""
    huge = run(tmp_path, ["1"], "--seed", str(2**70))
    assert huge.returncode == 2 and b"is not a seed" in huge.stderr
    assert not (tmp_path / "slots").exists() or not any((tmp_path / "slots").iterdir())
    most = run(tmp_path, ["1"], "--seed", str(2**63 - 1))
    slot = story_slot_base("lantern_coast")
    assert most.returncode == 0 and f"(Autosaved to slot '{slot}'.)".encode() in most.stdout
    cmd = [sys.executable, "-m", "game.cli.main", "--config", str(tmp_path / "nope.toml"),
           "saves", "list", "--saves-dir", str(tmp_path)]
    missing = subprocess.run(cmd, capture_output=True, cwd=ROOT, timeout=60)
    assert missing.returncode == 2
    assert b"nope.toml: no such config file" in missing.stderr


@pytest.mark.slow   # the game in a process of its own
def test_a_new_story_is_not_started_over_a_saved_one(tmp_path):
    first = run(tmp_path, ["1", "2"], "--seed", "5", "--slot", "mine")
    assert first.returncode == 0
    again = run(tmp_path, ["1"], "--seed", "6", "--slot", "mine")
    assert again.returncode == 2
    assert b"Slot 'mine' already holds a story (The Lantern Coast, turn 2)" in again.stderr
    assert b"--continue --slot mine" in again.stderr
    resumed = run(tmp_path, [], "--continue", "--slot", "mine")
    assert _titles(resumed)[0] == _titles(first)[-1]
    fresh = run(tmp_path, ["1"], "--seed", "6")          # no --slot: a slot of its own
    assert fresh.returncode == 0
    listing = subprocess.run([sys.executable, "-m", "game.cli.main", "saves", "list", "--saves-dir",
                              str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert "mine" in listing.stdout and story_slot_base("lantern_coast") in listing.stdout
    assert "The Lantern Coast" in listing.stdout
