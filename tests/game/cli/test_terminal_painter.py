"""Acceptance: terminal play with a tiny random diffusers pipeline paints and caches every scene."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Starts the game in a process of its own: `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def test_twenty_turns_fill_the_cache_with_every_scene(tmp_path):
    pytest.importorskip("diffusers")
    from tests.support.tiny_diffusers import save_tiny_pipeline
    model = save_tiny_pipeline(tmp_path / "tiny-sd")
    config = tmp_path / "config.toml"
    config.write_text("[images]\nwidth = 64\nheight = 64\n[prefetch]\nimages = false\n")
    saves = tmp_path / "saves"
    lines = [str(1 + turn % 2) for turn in range(20)]
    result = subprocess.run(
        [sys.executable, "-m", "game.cli.main", "--config", str(config), "play", "--text",
         "--saves-dir", str(saves), "--seed", "2", "--painter", f"diffusers:{model}"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "DREAMREEL_TORCH_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "painter failed" not in result.stdout

    from engine.config import load_config
    from engine.painters.imagecache import ImageCache
    from engine.session.jobs import InlineRunner
    from engine.session.core import Session
    settings = load_config(config).with_changes(game={"saves_dir": str(saves)})
    story = Session.resume(settings, painter=_NoPaint(), runner=InlineRunner())
    visited = [s for s in story.graph.scenes() if s.visited]
    assert len(visited) >= 15
    cache = ImageCache(saves / "cache")
    for scene in visited:
        key = scene.current.image_key
        assert key and cache.get(key) is not None, scene.title
    story.close()


class _NoPaint:
    id, model, steps = "none", "none", 0
