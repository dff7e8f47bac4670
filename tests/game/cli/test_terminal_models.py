"""Acceptance runs of terminal play with the LLM narrators: a tiny random-weight model through
the real from_pretrained path, and an OpenAI-compatible server on 127.0.0.1."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Starts the game in a process of its own: `pytest -m "not slow"` leaves it out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

LINES = ["1", "2", "I search the shore for footprints", "1", ":back", "2", ":regen", "3",
         "ask about the bell", "1"] * 3


def _play(saves: Path, narrator: str, lines=LINES, timeout=400):
    cmd = [sys.executable, "-m", "game.cli.main", "play", "--text", "--saves-dir", str(saves),
           "--painter", "none", "--seed", "4", "--narrator", narrator]
    env = {**os.environ, "DREAMREEL_CONFIG": "/nonexistent", "HF_HUB_OFFLINE": "1",
           "DREAMREEL_TORCH_THREADS": "1"}
    return subprocess.run(cmd, input="\n".join(lines) + "\n", capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=env)


def _check(result):
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in out + result.stderr
    assert "narrator failed" not in out
    assert out.count("\n== ") >= 25          # a valid scene for every turn that made one
    return out


def test_thirty_turns_with_a_tiny_local_model(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("llguidance")
    from tests.support.llm_fixtures import build_tiny_lm
    model = build_tiny_lm(tmp_path / "tiny-lm")
    out = _check(_play(tmp_path / "saves", f"transformers:{model}"))
    assert out.count("  1. ") >= 25           # constrained scenes always offer choices


def test_thirty_turns_against_an_openai_compatible_server(tmp_path):
    from tests.support.fake_openai_server import FakeOpenAI
    with FakeOpenAI() as server:
        out = _check(_play(tmp_path / "saves", f"openai:tiny-model@{server.url}", timeout=200))
        assert len(server.requests) >= 30
    assert "The Bell Tolls" in out
