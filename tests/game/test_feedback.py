"""What the game tells the player: the prompt inspector, notices and errors as toasts, world
problems, and a narrator that fails (with the built-in narrator offered, never a silent switch)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pygame
from tests.support.game_helpers import (BrokenPainter, FailingNarrator, PromptNarrator, ScriptNarrator, click, frame,
                     key, make_app, read_to_choices, settle, start, wheel)

from engine.errors import NarratorError, SaveError
from engine.story.graph import FAILED, READY
from engine.worlds.loading import load_world
from game.screens.prompt import STORYLET_MESSAGE, PromptScreen, hard_wrap
from game.screens.settings import SettingsScreen
from game.ui.toasts import Toasts

WORLDS = Path(__file__).resolve().parents[2] / "assets" / "worlds"


def _bright(surface, rect, threshold=200) -> int:
    return sum(1 for y in range(rect.top, rect.bottom, 3) for x in range(rect.left, rect.right, 3)
               if min(surface.get_at((x, y))[:3]) >= threshold)


def _messages(app, kind=None) -> list[str]:
    shown = app.toasts.items + list(app.toasts.waiting)
    return [t.message for t in shown if kind is None or t.kind == kind]


# -- the prompt inspector ---------------------------------------------------------------------
def test_p_shows_the_exact_prompt_and_its_tokens_and_scrolls(config, tmp_path):
    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=PromptNarrator())
    try:
        session = start(app)
        app.step([key(pygame.K_p, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        screen = app.top
        assert isinstance(screen, PromptScreen)
        sent = session.prompt_for()["prompt"]
        assert screen.entry["prompt"] == sent
        assert "1000 tokens" in screen._summary()        # node 0: 1000 + 0
        assert "    indented   spacing   kept" in screen.lines     # whitespace as sent
        assert "" in screen.lines and "    (tab)" in screen.lines
        width = screen.inner.width
        font = screen._font()
        assert all(font.size(line)[0] <= width for line in screen.lines)
        assert "".join(line for line in screen.lines if line.startswith("x")) == "x" * 900
        shot = frame(app, tmp_path / "prompt.png")
        assert _bright(shot, screen.inner) > 100            # the prompt is drawn
        # scrolling: wheel, arrows, Page Down / Up, End, Home
        assert screen.max_scroll > 0 and screen.scroll == 0
        app.step([wheel(-1)], dt=0.01, present=False)
        after_wheel = screen.scroll
        assert after_wheel > 0
        app.step([key(pygame.K_DOWN)], dt=0.01, present=False)
        assert screen.scroll > after_wheel
        app.step([key(pygame.K_PAGEDOWN)], dt=0.01, present=False)
        paged = screen.scroll
        app.step([key(pygame.K_PAGEUP)], dt=0.01, present=False)
        assert screen.scroll < paged
        app.step([key(pygame.K_END)], dt=0.01, present=False)
        assert screen.scroll == screen.max_scroll
        app.step([key(pygame.K_HOME)], dt=0.01, present=False)
        assert screen.scroll == 0
        app.step([key(pygame.K_p, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert app.top is app.story
        # the next scene's prompt, and Esc closes too
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app)
        app.step([key(pygame.K_p, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert f"{1000 + session.current} tokens" in app.top._summary()
        assert f"Scene {session.current}." in "\n".join(app.top.lines)
        app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
        assert app.top is app.story
    finally:
        app.close()


def test_a_stale_llm_prompt_is_not_labelled_storylets(config, tmp_path):
    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=PromptNarrator())
    try:
        session = start(app)
        read_to_choices(app)
        session.switch_narrator("storylets")          # then the scene is told again by it
        session.regenerate()
        settle(app)
        scene = session.scene()
        assert scene.current.author.startswith("storylets") and len(scene.versions) == 2
        app.step([key(pygame.K_p, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        summary = app.top._summary()
        assert "narrator: fakellm:fake-llm-v1 (version 1;" in summary
        assert "narrator: storylets" not in summary
    finally:
        app.close()


def test_storylet_narrator_says_there_is_no_prompt(app, tmp_path):
    start(app)
    read_to_choices(app)
    quick = next(b for b in app.story.quick.buttons if b.label == "Prompt")
    app.step(click(quick.rect.center), dt=0.01, present=False)
    screen = app.top
    assert isinstance(screen, PromptScreen) and screen.entry is None
    assert screen.message == STORYLET_MESSAGE
    assert "there is no prompt" in " ".join(screen.lines)
    frame(app, tmp_path / "no-prompt.png")
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    # Settings moved to O (and the menu); P no longer opens them
    app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert isinstance(app.top, SettingsScreen)
    app.step([key(pygame.K_p, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert isinstance(app.top, SettingsScreen)
    app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert app.top is app.story


def test_hard_wrap_keeps_every_character():
    pygame.font.init()
    font = pygame.font.Font(None, 20)
    text = "a  b\n\n\tc\n" + "word " * 60 + "\n" + "y" * 300
    lines = hard_wrap(text, font, 200)
    assert all(font.size(line)[0] <= 200 for line in lines)
    assert lines[:4] == ["a  b", "", "    c", lines[3]] and lines[3].startswith("word ")
    assert "".join(line for line in lines if "word" in line) == "word " * 60   # cut after spaces
    assert "".join(line for line in lines if line.startswith("y")) == "y" * 300


# -- notices and errors -----------------------------------------------------------------------
def test_every_message_is_shown_once_and_none_is_lost():
    toasts = Toasts()
    for i in range(7):
        toasts.push(f"message {i}", "error" if i % 2 else "notice")
    toasts.push("message 1", "error")                      # a repeat: not shown twice
    assert len(toasts.items) == Toasts.LIMIT and len(toasts.all_messages) == 7
    seen = set()
    for _ in range(200):
        seen.update(t.message for t in toasts.items)
        toasts.update(0.25)
    assert seen == {f"message {i}" for i in range(7)} and not toasts.items


def _frames_until(app, clock, condition, frames=40):
    """Play frames, the world watcher's clock a scan interval on each, until `condition`."""
    from engine.worlds.watch import POLL_INTERVAL_S
    for _ in range(frames):
        clock[0] += POLL_INTERVAL_S
        app.step([], dt=0.05, present=False)
        if condition():
            return True
    return False


def _write(path, text: str, mode: str = "w") -> None:
    """Write (or append to) a file and move its modification time a second forward, so the
    watcher sees the change without waiting for the file system's clock to tick."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    with path.open(mode) as handle:
        handle.write(text)
    after = path.stat()
    os.utime(path, ns=(after.st_atime_ns, max(after.st_mtime_ns, before) + 1_000_000_000))


def test_hot_reload_and_a_broken_edit_are_toasts(config, tmp_path, monkeypatch):
    import functools
    from engine.worlds import watch
    clock = [0.0]                     # the world watcher's clock, moved by _frames_until
    monkeypatch.setattr(watch, "WorldWatcher",
                        functools.partial(watch.WorldWatcher, clock=lambda: clock[0]))
    world_dir = tmp_path / "w"
    shutil.copytree(WORLDS / "hollow_orbit", world_dir)
    app = make_app(config, tmp_path)
    try:
        session = start(app, load_world(world_dir))
        read_to_choices(app)
        app.toasts.items.clear()
        storylets = world_dir / "storylets" / "bridge_airlock.toml"
        _write(storylets, storylets.read_text().replace('title = "The Bridge"',
                                                        'title = "The Green Bridge"'))
        assert _frames_until(app, clock,
                             lambda: any("World reloaded" in m for m in _messages(app)))
        assert session.world.storylets["arrive_bridge"].spec.title == "The Green Bridge"
        # a storylet file broken: its storylets are left out, and every goto to them is a
        # problem too; a few are shown, then how many more
        app.toasts.items.clear()
        _write(world_dir / "storylets" / "reactor.toml", "[[storylet]] id = oops\n", mode="a")
        assert _frames_until(app, clock,
                             lambda: any(m.startswith("...and") for m in _messages(app)))
        problems = [m for m in _messages(app, "error") if m.startswith("World problem")]
        assert len(problems) == 3 and "storylets/reactor.toml" in problems[0]
        assert len(session.world.problems) > 3
        assert any(m.startswith(f"...and {len(session.world.problems) - 3} more world problems")
                   for m in _messages(app))
        assert any(m.startswith("World reloaded") for m in _messages(app))
        assert len(_messages(app)) == 5
        _write(world_dir / "world.toml", 'title = "Broken\n')      # unterminated string
        assert _frames_until(app, clock, lambda: any("World not reloaded" in m
                                                     for m in _messages(app, "error")))
        assert session.world.storylets["arrive_bridge"].spec.title == "The Green Bridge"
        assert app.running
    finally:
        app.close()


def test_autosave_and_painter_failures_are_toasts_once(config, tmp_path, monkeypatch):
    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   painter=BrokenPainter())
    try:
        session = start(app)
        painter_errors = [m for m in _messages(app, "error") if "painter failed" in m]
        assert len(painter_errors) == 1 and "out of memory" in painter_errors[0]

        def full(*args, **kwargs):
            raise SaveError("The disk holding saves is full (test).")

        monkeypatch.setattr(session.store, "append", full)
        monkeypatch.setattr(session.store, "write_snapshot", full)
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        session.flush_saves()
        settle(app, 4)
        assert any("Autosave failed" in m and "disk" in m for m in _messages(app, "error"))
        # the next scene's picture failed too: the same message is not shown twice
        assert len([m for m in _messages(app) if "painter failed" in m]) == 1
        assert app.running and session.scene().status == READY
    finally:
        app.close()


def test_world_problems_are_shown_when_a_story_starts(config, tmp_path):
    world_dir = tmp_path / "w"
    shutil.copytree(WORLDS / "hollow_orbit", world_dir)
    for i in range(5):
        (world_dir / "storylets" / f"zz_bad{i}.toml").write_text('[[storylet]]\nid = "bad\n')
    app = make_app(config, tmp_path)
    try:
        start(app, load_world(world_dir))
        problems = [m for m in _messages(app, "error") if m.startswith("World problem")]
        assert len(problems) == 3
        assert all(m.startswith("World problem (left out until fixed): storylets/zz_bad")
                   for m in problems)
        assert any(m.startswith("...and 2 more world problems") for m in _messages(app))
        assert app.session.scene().status == READY      # the rest of the world plays
    finally:
        app.close()


# -- a narrator that fails --------------------------------------------------------------------
def test_failed_narrator_explains_and_offers_the_builtin_narrator(config, tmp_path):
    narrator = FailingNarrator()
    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=narrator)
    try:
        session = start(app)
        scene = session.scene()
        assert scene.status == FAILED
        assert "did not answer" in app.story.box.text and "broken narrator" in app.story.box.text
        labels = [b.label for b in app.story.choices.buttons]
        assert labels == ["Try again", "Use the built-in narrator"]   # no way back from the start
        assert app.story.choices_visible
        shot = frame(app, tmp_path / "failed.png")
        assert _bright(shot, app.story.text_rect) > 50      # the reason is in the text box
        app.step([key(pygame.K_r, text="r")], dt=0.01, present=False)   # R: try again
        settle(app)
        assert session.scene().status == FAILED and session.narrator is narrator
        button = app.story.choices.buttons[1]
        app.step(click(button.rect.center), dt=0.01, present=False)
        settle(app)
        assert session.narrator.id == "storylets" and app.narrator is session.narrator
        assert session.scene().status == READY
        assert any("storylets narrator tells the story" in m for m in _messages(app))
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app)
        assert session.scene().status == READY and session.turn == 1
    finally:
        app.close()


def test_failure_later_in_the_story_goes_back_with_keys(config, tmp_path):
    class FailsAfterTheOpening(ScriptNarrator):
        def narrate(self, request, on_token=None):
            if request.node != 0:
                raise NarratorError("the model server went away (test)")
            return super().narrate(request, on_token)

    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=FailsAfterTheOpening())
    try:
        session = start(app)
        root = session.current
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app)
        assert session.scene().status == FAILED
        labels = [b.label for b in app.story.choices.buttons]
        assert labels == ["Try again", "Go back", "Use the built-in narrator"]
        app.step([key(pygame.K_z, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        settle(app, 2)
        assert session.current == root
        read_to_choices(app)
        app.step([key(pygame.K_2, text="2")], dt=0.01, present=False)
        settle(app)
        assert session.scene().status == FAILED
        app.step([wheel(1)], dt=0.01, present=False)       # wheel up goes back too
        settle(app, 2)
        assert session.current == root
        read_to_choices(app)
        app.step([key(pygame.K_3, text="3")], dt=0.01, present=False)
        settle(app)
        app.step([key(pygame.K_n, text="n")], dt=0.01, present=False)   # N: built-in narrator
        settle(app)
        assert session.narrator.id == "storylets" and session.scene().status == READY
    finally:
        app.close()
