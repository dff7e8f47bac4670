"""Fixtures for the game tests: an App on the dummy display with inline (deterministic) runners."""

from __future__ import annotations

import pytest

from tests.support.game_helpers import ScriptNarrator, make_app


@pytest.fixture(autouse=True)
def _window_leaves_no_trace(monkeypatch):
    """Opening a window names it (environment) and reserves a core: undo both after each test."""
    from engine import compute
    for name in ("SDL_VIDEO_X11_WMCLASS", "SDL_VIDEO_WAYLAND_WMCLASS", "SDL_APP_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(compute, "_reserved", compute._reserved)


@pytest.fixture
def app(config, tmp_path):
    """The game with the storylet narrator, a flat-colour painter and inline runners."""
    game = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path)
    yield game
    game.close()


@pytest.fixture
def script_app(config, tmp_path):
    """The game with a scripted narrator (numbered scenes, three choices each)."""
    game = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                    narrator=ScriptNarrator())
    yield game
    game.close()
