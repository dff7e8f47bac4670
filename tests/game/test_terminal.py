"""Terminal play as a player or a script uses it: a real `dreamreel play --text` process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(saves: Path, lines: list[str] | bytes, *extra: str, timeout: float = 120):
    data = lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode()
    cmd = [sys.executable, "-m", "game.cli", "play", "--text", "--saves-dir", str(saves),
           "--painter", "none", *extra]
    return subprocess.run(cmd, input=data, capture_output=True, cwd=ROOT, timeout=timeout,
                          env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})


SCRIPT = []
for turn in range(50):
    SCRIPT.append([str(1 + turn % 3), "1", "look for footprints in the sand", ":back", "2",
                   ":regen", "ask the keeper about the ships", "3", "1", "2"][turn % 10])


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


def test_continue_resumes_at_the_same_scene(tmp_path):
    first = run(tmp_path, ["1", "2", "1", ":state"], "--seed", "5")
    last_title = [l for l in first.stdout.decode().splitlines() if l.startswith("== ")][-1]
    resumed = run(tmp_path, [], "--continue")
    assert resumed.returncode == 0
    titles = [l for l in resumed.stdout.decode().splitlines() if l.startswith("== ")]
    assert titles[0] == last_title


def test_garbage_and_huge_input_lines_do_not_crash(tmp_path):
    junk = b"\xff\xfe\x00garbage\n" + b"9" * 50_000 + b"\n" + b":nonsense\n99\n\x1b[2J\n1\n"
    result = run(tmp_path, junk, "--seed", "1")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert "Traceback" not in out + result.stderr.decode()
    assert "Unknown command" in out and "There is no choice 99" in out


def test_save_and_load_commands(tmp_path):
    result = run(tmp_path, ["1", ":save mine", "2", ":load mine", ":load ../../etc"], "--seed", "9")
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Saved to slot 'mine'" in out and "Loaded slot 'mine'" in out
    assert "not a usable slot name" in out
    listing = subprocess.run([sys.executable, "-m", "game.cli", "saves", "list", "--saves-dir",
                              str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert "mine" in listing.stdout and "autosave" in listing.stdout


def test_sigkill_mid_play_loses_at_most_the_turn_in_flight(tmp_path):
    cmd = [sys.executable, "-m", "game.cli", "play", "--text", "--saves-dir", str(tmp_path),
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
    resumed = run(tmp_path, [], "--continue")
    assert resumed.returncode == 0
    first = [l for l in resumed.stdout.decode().splitlines() if l.startswith("== ")][0]
    assert first + "\n" == titles[-1]


def test_a_reader_that_leaves_early_ends_play_quietly_and_the_story_is_saved(tmp_path):
    """`dreamreel play --text < script | head`: the pipe closes mid-story."""
    cmd = [sys.executable, "-m", "game.cli", "play", "--text", "--saves-dir", str(tmp_path),
           "--painter", "none", "--seed", "3"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT,
                            env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})
    proc.stdout.readline()                      # read one line, then go away like `head -1`
    proc.stdout.close()
    _, err = proc.communicate(("\n".join(["1", "2", "1"] * 10) + "\n").encode(), timeout=120)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    listing = subprocess.run([sys.executable, "-m", "game.cli", "saves", "list", "--saves-dir",
                              str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert "autosave" in listing.stdout
