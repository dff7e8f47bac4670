"""The window itself: its name and class, a core kept for the frame loop, a remembered size."""

from __future__ import annotations

import os
import tomllib
import warnings

import pygame
from tests.support.game_helpers import make_app, settle, start

import game.app
from engine import compute
from engine.config import load_config
from game.window import MIN_WINDOW, SAVE_AFTER, SizeMemory


def _resize(app, size, dt=0.1):
    pygame.display.set_mode(size, pygame.RESIZABLE)
    app.step([pygame.event.Event(pygame.VIDEORESIZE, size=size, w=size[0], h=size[1])], dt=dt,
             present=False)


def test_opening_the_window_keeps_a_core_for_it(config, tmp_path, monkeypatch):
    monkeypatch.delenv("DREAMREEL_TORCH_THREADS", raising=False)
    monkeypatch.setattr(compute, "_reserved", 0)
    monkeypatch.setattr(compute.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert compute.torch_threads() == 4
    app = make_app(config, tmp_path)
    try:
        assert compute._reserved == 1 and compute.torch_threads() == 3
    finally:
        app.close()


def test_window_is_named_dreamreel(config, tmp_path, monkeypatch):
    app = make_app(config, tmp_path)
    try:
        assert pygame.display.get_caption()[0] == "Dreamreel"
        assert os.environ["SDL_VIDEO_X11_WMCLASS"] == "Dreamreel"
        assert os.environ["SDL_VIDEO_WAYLAND_WMCLASS"] == "Dreamreel"
    finally:
        app.close()
    monkeypatch.setenv("SDL_VIDEO_X11_WMCLASS", "PlayersOwnClass")   # the player's choice stays
    app = make_app(config, tmp_path)
    try:
        assert os.environ["SDL_VIDEO_X11_WMCLASS"] == "PlayersOwnClass"
    finally:
        app.close()


def test_a_resized_window_is_remembered_once_it_is_still(app, tmp_path, monkeypatch):
    writes = []
    real = game.app.save_user_settings

    def counting(changes, path=None):
        writes.append(changes)
        return real(changes, path)

    monkeypatch.setattr(game.app, "save_user_settings", counting)
    start(app)
    for width in range(900, 1100, 20):          # a drag: many sizes, a tenth of a second apart
        _resize(app, (width, 700))
    assert writes == []                         # nothing written while the size moves
    settle(app, int(SAVE_AFTER / 0.1) - 2, dt=0.1)
    assert writes == []
    settle(app, 4, dt=0.1)
    assert writes == [{"display": {"width": 1080, "height": 700}}]
    assert app.config.display.width == 1080 and app.config.display.height == 700
    saved = tomllib.loads((tmp_path / "user.toml").read_text())["display"]
    assert saved == {"width": 1080, "height": 700}
    assert load_config(user_file=tmp_path / "user.toml").display.width == 1080   # next start
    settle(app, 20, dt=0.1)
    assert len(writes) == 1                     # and only once
    # fullscreen sizes are not remembered; back in a window, the remembered size returns
    app.set_display(fullscreen=True)
    _resize(app, (1920, 1080))
    settle(app, 20, dt=0.1)
    app.set_display(fullscreen=False)
    settle(app, 20, dt=0.1)
    assert app.surface.get_size() == (1080, 700)
    assert all("width" not in w["display"] or w["display"]["width"] == 1080 for w in writes)


def test_a_size_not_yet_saved_is_saved_on_quit(app, tmp_path):
    start(app)
    _resize(app, (1000, 640))
    app.close()
    assert tomllib.loads((tmp_path / "user.toml").read_text())["display"] == {
        "width": 1000, "height": 640}


def test_size_memory_clamps_and_ignores_the_saved_size():
    memory = SizeMemory((1280, 720), after=1.0)
    memory.note((100, 50), 0.0)                 # smaller than the window can be
    assert memory.due(0.5) is None and memory.due(1.0) == MIN_WINDOW
    memory.note(MIN_WINDOW, 2.0)                # back to what is saved: nothing to do
    assert memory.due(10.0) is None
    memory.note((800, 600), 3.0)
    memory.note((810, 600), 3.9)                # still moving: the clock starts again
    assert memory.due(4.5) is None and memory.due(4.9) == (810, 600)


def test_the_window_has_a_minimum_size(config, tmp_path):
    app = make_app(config.with_changes(display={"width": 420, "height": 300}), tmp_path)
    try:
        assert app.surface.get_size() == MIN_WINDOW           # a smaller config opens at it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            window = pygame.Window.from_display_module()
        assert tuple(window.minimum_size) == MIN_WINDOW       # and the window manager is told
        _resize(app, (500, 300))                               # a manager that ignores it
        settle(app, 2)
        assert app.surface.get_size() == MIN_WINDOW and app.theme.size == MIN_WINDOW
    finally:
        app.close()


def test_without_a_display_the_hint_names_a_command_that_runs(config, tmp_path, monkeypatch,
                                                              capsys):
    from game.launch import run_window, text_mode_hint
    script = tmp_path / ".venv" / "bin" / "dreamreel"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(script), "play"])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))       # `dreamreel` is not on PATH
    hint = text_mode_hint()
    assert ".venv/bin/dreamreel play --text" in hint and "make play ARGS=--text" in hint
    assert run_window(config) == 2                               # the dummy driver: no display
    assert ".venv/bin/dreamreel play --text" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(script.parent))               # on PATH: the plain command
    assert text_mode_hint().startswith("Play in the terminal instead: dreamreel play --text")
