"""The app as a whole: smoke runs with a screenshot, scaling to 4K, no side effects at import."""

from __future__ import annotations

import subprocess
import sys

import pygame
import pytest
from tests.support.game_helpers import FakePainter, frame, settle, start

from game.launch import run_window
from game.ui.render import TextCache
from game.ui.textbox import TextBox, paginate


def test_import_has_no_side_effects():
    code = ("import os, pygame, game.app, game.ui.render, game.ui.widgets, game.ui.theme, game.ui.toasts, "
            "game.window, game.launch, game.screens.base, game.screens.story, game.screens.map, "
            "game.screens.title, game.screens.saves, game.screens.settings, game.screens.history, "
            "game.screens.prompt, game.screens.status, game.screens.story_input, game.ui.fonts; "
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
    from game.cli.main import main
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


def _lit(surface) -> int:
    return sum(1 for x in range(surface.get_width()) for y in range(surface.get_height())
               if surface.get_at((x, y))[3] > 128)


def test_characters_the_font_lacks_come_from_the_fallback_chain(app):
    from game.ui.fonts import ASSETS_FONTS, Coverage, FontChain
    serif = Coverage((ASSETS_FONTS / "DejaVuSerif.ttf").read_bytes())
    sans_file = ASSETS_FONTS / "DejaVuSans.ttf"
    sans = Coverage(sans_file.read_bytes())
    assert "a" in serif and "\u4f60" not in serif          # the cmap is read, not guessed
    char = next(chr(c) for c in range(0x2190, 0x2C00) if chr(c) not in serif and chr(c) in sans)
    theme = app.theme
    theme.glyphs = FontChain([sans_file])                 # a chain whose fallback has it
    font = theme.font("text", 31)                         # a size not made before: registered
    text = TextCache(chain=theme.glyphs)
    assert theme.glyphs.runs(font, f"ab{char}c") == [(-1, "ab"), (0, char), (-1, "c")]
    drawn = text.render(font, char, (255, 255, 255))
    own = pygame.font.Font(str(sans_file), theme.glyphs.pixels(font))
    wanted = own.render(char, True, (255, 255, 255))
    assert abs(_lit(drawn) - _lit(wanted)) <= max(3, _lit(wanted) // 10)   # the real glyph
    assert _lit(drawn) != _lit(font.render(char, True, (255, 255, 255)))  # not the empty box
    assert text.width(font, f"ab{char}") == text.width(font, "ab") + wanted.get_width()


def test_system_cjk_and_emoji_fonts_are_found_by_name(tmp_path):
    from game.ui.fonts import ASSETS_FONTS, find_system_fonts
    data = (ASSETS_FONTS / "DejaVuSans.ttf").read_bytes()
    folder = tmp_path / "fonts" / "opentype" / "noto"
    folder.mkdir(parents=True)
    for name in ("NotoSansCJK-Bold.ttc", "NotoSansCJK-Regular.ttc", "NotoColorEmoji.ttf",
                 "Unrelated.ttf"):
        (folder / name).write_bytes(data)
    found = [p.name for p in find_system_fonts([tmp_path / "fonts", tmp_path / "missing"])]
    assert found == ["NotoSansCJK-Regular.ttc", "NotoColorEmoji.ttf"]


def test_cjk_and_emoji_are_drawn_when_the_system_has_the_fonts(app, tmp_path):
    chain = app.theme.glyphs
    kinds = {"\u4f60": "cjk", "\U0001F642": "emoji"}
    covered = {char for char in kinds if any(char in cover for _, cover in chain.fallbacks)}
    if not covered:
        pytest.skip("no CJK or emoji font installed (fonts-noto-cjk, fonts-noto-color-emoji)")
    font = app.theme.font("text")
    for char in covered:
        runs = chain.runs(font, f"I say {char}")
        assert runs[-1][0] >= 0 and runs[-1][1] == char
        image = app.text.render(font, f"I say {char}", (255, 255, 255))
        assert image.get_height() == font.get_height()     # an emoji bitmap is scaled to the line
        box = font.render(char, True, (255, 255, 255))
        plain = app.text.render(font, "I say ", (255, 255, 255))
        glyph = image.subsurface((plain.get_width(), 0, image.get_width() - plain.get_width(),
                                  image.get_height()))
        assert _lit(glyph) != _lit(box)


def test_pages_break_between_sentences():
    from game.ui.textbox import paginate_text, sentences
    pygame.font.init()
    font = pygame.font.Font(None, 20)
    cache = TextCache()
    said = [f"Sentence number {i} says {'more ' * (i % 4)}and ends here{'!' if i % 3 else '.'}"
            for i in range(24)]
    said[5] = "\u201cA quoted line ends inside its quote.\u201d"
    paragraph = " ".join(said)
    assert sentences(paragraph) == said
    text = paragraph + "\n\nA short second paragraph."
    for width, lines in ((240, 4), (300, 3), (420, 5)):
        pages = paginate_text(cache, font, text, width, lines)
        assert all(1 <= len(page) <= lines for page in pages)
        for page in pages:
            assert page[-1].rstrip().endswith((".", "!", "\u201d"))   # never mid-sentence
        words = " ".join(line for page in pages for line in page if line).split()
        assert words == text.split()                                  # nothing lost or doubled
    # a single sentence taller than the box is the one thing cut between lines
    long = "word " * 200 + "end."
    pages = paginate_text(cache, font, long, 200, 3)
    assert len(pages) > 2 and all(len(page) <= 3 for page in pages)
