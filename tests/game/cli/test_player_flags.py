"""`dreamreel play --player-name/--pronouns/--player-look/--portrait` start a story with that
profile; a broken portrait is a clear message naming the file, and play goes on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from engine.config import load_config
from engine.session.core import Session
from engine.session.jobs import InlineRunner

ROOT = Path(__file__).resolve().parents[3]


def play(saves: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(saves),
           "--painter", "none", "--slot", "me", "--seed", "5", *extra]
    return subprocess.run(cmd, input=b"1\n", capture_output=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "DREAMREEL_CONFIG": "/nonexistent"})


def resumed(saves: Path):
    config = load_config(use_user_file=False).with_changes(game={"saves_dir": str(saves),
                                                                 "painter": "none"})
    return Session.resume(config, "me", runner=InlineRunner(), read_only=True)


def test_the_profile_flags_start_a_story_with_that_player(tmp_path):
    portrait = tmp_path / "me.png"
    Image.new("RGB", (50, 70), (30, 60, 200)).save(portrait)
    done = play(tmp_path / "saves", "--player-name", "Mira", "--pronouns", "she/her",
                "--player-look", "tall, a crimson cloak", "--portrait", str(portrait))
    assert done.returncode == 0, done.stderr.decode()
    session = resumed(tmp_path / "saves")
    try:
        hero = session.player()
        assert (hero.name, hero.pronouns, hero.look) == ("Mira", "she/her", "tall, a crimson cloak")
        assert session.portrait() is not None and session.portrait().size == (50, 70)
    finally:
        session.close()


def test_a_broken_portrait_is_named_and_play_goes_on(tmp_path):
    broken = tmp_path / "face.webp"
    broken.write_bytes(b"RIFF0000WEBPVP8 nonsense")
    done = play(tmp_path / "saves", "--player-name", "Mira", "--portrait", str(broken))
    assert done.returncode == 0, done.stderr.decode()
    output = (done.stdout + done.stderr).decode()
    assert "face.webp" in output and "without a portrait" in output
    session = resumed(tmp_path / "saves")
    try:
        assert session.player().name == "Mira" and session.portrait() is None
    finally:
        session.close()
