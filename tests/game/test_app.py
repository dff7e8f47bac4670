"""The app as a whole: smoke runs with a screenshot, scaling to 4K, no side effects at import."""

from __future__ import annotations

import subprocess
import sys

import pygame
import pytest
from helpers import FakePainter, frame, settle, start

from game.app import run_window
from game.render import TextCache
from game.textbox import TextBox, paginate


def test_import_has_no_side_effects():
    code = ("import os, pygame, game.app, game.render, game.widgets, game.theme, game.toasts, "
            "game.window, game.screens.story, game.screens.map, game.screens.title, "
            "game.screens.saves, game.screens.settings, game.screens.history, game.screens.prompt; "
            "assert not pygame.display.get_init(); assert not pygame.font.get_init(); "
            "assert os.environ.get('SDL_VIDEO_X11_WMCLASS') != 'Dreamreel'; "
            "from engine import compute; assert compute._reserved == 0")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(_root()))


def _root():
    from pathlib import Path
    return Path(__file__).resolve().parents[2]


def test_frames_and_screenshot_exit_zero(config, tmp_path):
    shot = tmp_path / "shots" / "last.png"
    code = run_window(config.with_changes(game={"world": "hollow_orbit"}), frames=20,
                      screenshot=shot, painter=FakePainter())
    assert code == 0
    image = pygame.image.load(str(shot))
    assert image.get_size() == (1280, 720)


def test_cli_play_frames_screenshot(config, tmp_path):
    from game.cli import main
    shot = tmp_path / "cli.png"
    code = main(["play", "--world", "hollow_orbit", "--painter", "none", "--frames", "10",
                 "--screenshot", str(shot), "--saves-dir", str(tmp_path / "saves")])
    assert code == 0 and shot.exists()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160), (1024, 768)])
def test_layout_scales_and_stays_readable(app, tmp_path, size):
    start(app)
    pygame.display.set_mode(size, pygame.RESIZABLE)
    app.step([pygame.event.Event(pygame.VIDEORESIZE, size=size, w=size[0], h=size[1])],
             dt=0.01, present=False)
    settle(app, 30, dt=0.1)
    assert app.theme.size == size
    story = app.story
    assert story.box_rect.bottom <= size[1] and story.box_rect.right <= size[0]
    assert story.box_rect.left >= 0
    text_height = app.theme.font("text").get_height()
    assert text_height >= 0.026 * min(size[1], size[0] * 9 / 16)    # readable at every size
    shot = frame(app, tmp_path / f"{size[0]}.png")
    assert shot.get_size() == size
    assert app.image.current.get_size() == size    # the picture was scaled to the new window
    for button in story.choices.buttons:
        assert button.rect.bottom < story.box_rect.top


def test_fullscreen_toggle_keeps_playing(app):
    start(app)
    app.step([pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F11, mod=0, unicode="", scancode=0)],
             dt=0.01, present=False)
    assert app.config.display.fullscreen
    settle(app, 3)
    app.set_display(fullscreen=False)
    settle(app, 3)
    assert app.surface.get_size() == (1280, 720)


def test_wrap_and_pages():
    pygame.font.init()
    font = pygame.font.Font(None, 20)
    cache = TextCache()
    lines = cache.wrap(font, "alpha beta gamma delta\n\nepsilon " + "x" * 200, 150)
    assert "" in lines and all(font.size(line)[0] <= 150 for line in lines)
    pages = paginate(["a", "b", "", "c", "d", "e", "", "f"], 4)
    assert pages == [["a", "b"], ["c", "d", "e"], ["f"]]
    assert paginate(["a", "", "b", "", "c"], 5) == [["a", "", "b", "", "c"]]
    assert paginate(["a", "b", "c", "d", "e"], 2) == [["a", "b"], ["c", "d"], ["e"]]


def test_text_box_keeps_its_place_when_re_wrapped():
    pygame.font.init()
    small, large = pygame.font.Font(None, 18), pygame.font.Font(None, 30)
    cache = TextCache()
    text = "\n\n".join(" ".join(f"w{p}x{i}" for i in range(40)) for p in range(4))
    box = TextBox()
    box.set_text(text)
    box.layout(pygame.Rect(0, 0, 300, 80), small, 20, cache)
    box.finish()
    assert box.at_end
    box.layout(pygame.Rect(0, 0, 300, 80), large, 32, cache)     # bigger text: still at the end
    assert box.at_end and len(box.pages) > 1
    place = box.page
    box.set_text(text + " and then more words arrive")         # a stream grows: same place,
    box.layout(pygame.Rect(0, 0, 300, 80), large, 32, cache)   # with more to read after it
    assert box.page == place and not box.at_end
    while box.advance():
        box.update(10, 20)
    assert box.at_end and box.pages[-1][-1].endswith("arrive")
    box.set_text("a different scene")                           # new text starts at the top
    box.layout(pygame.Rect(0, 0, 300, 80), large, 32, cache)
    assert box.page == 0 and box.shown == 0
    box.update(0.5, 20)
    mid = box.shown
    box.layout(pygame.Rect(0, 0, 500, 80), small, 20, cache)     # mid-typing: same character
    assert box.shown == mid and not box.page_done
