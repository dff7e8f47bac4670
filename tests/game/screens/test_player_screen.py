""""Who are you?" on New game, the profile on the status panel (and its Edit), and the portrait
on save slots: driven with synthetic input, as a player does it."""

from __future__ import annotations

import pygame
import pytest
from PIL import Image

from game.screens.player import APPLIES_LATER, PlayerScreen
from game.screens.saves import SavesScreen
from game.screens.status import StatusScreen, status_rows
from game.screens.title import TitleScreen, WorldPicker
from tests.support.game_helpers import ScriptNarrator, frame, key, make_app, motion, read_to_choices, settle, typed

PORTRAIT_COLOUR = (220, 30, 30)


class RecordingNarrator(ScriptNarrator):
    """Numbered scenes that speak to "you" (so the player is in frame), keeping every request."""

    def __init__(self):
        super().__init__(words=12)
        self.requests = []

    def narrate(self, request, on_token=None):
        self.requests.append(request)
        draft = super().narrate(request, on_token)
        return draft.model_copy(update={"narration": "You wait. " + draft.narration,
                                        "image_prompt": f"you at place {request.node}"})


@pytest.fixture
def narrator():
    return RecordingNarrator()


@pytest.fixture
def app(config, tmp_path, narrator):
    game = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                    narrator=narrator)
    yield game
    game.close()


def open_profile(app) -> PlayerScreen:
    """Title, New game, the world (Hollow Orbit), Begin: the "Who are you?" screen."""
    app.replace_all(TitleScreen(app))
    app.push(WorldPicker(app))
    settle(app, 4)
    picker = app.top
    picker._pick([wid for wid, _, _ in picker.worlds].index("hollow_orbit"))
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    assert isinstance(app.top, PlayerScreen)
    return app.top


def retype(app, text: str) -> None:
    """Empty the focused field with Backspace and type text into it."""
    screen = app.top
    field = screen.fields[screen.focused]
    app.step([key(pygame.K_END)] + [key(pygame.K_BACKSPACE)] * len(field.text) + [typed(text)],
             dt=0.01, present=False)


def tab(app, times: int = 1) -> None:
    app.step([key(pygame.K_TAB)] * times, dt=0.01, present=False)


def small_png(path, colour=PORTRAIT_COLOUR):
    Image.new("RGB", (48, 64), colour).save(path)
    return path


def test_who_are_you_starts_the_story_with_the_typed_profile(app, narrator, tmp_path):
    screen = open_profile(app)
    world = screen.world
    assert screen.focused == "name"
    assert screen.fields["name"].text == world.spec.player.name          # the world suggests
    assert screen.fields["look"].text == world.spec.player.look and world.spec.player.look
    frame(app, tmp_path / "profile.png")
    retype(app, "Mira Okafor")
    tab(app)
    assert screen.focused == "pronouns"
    retype(app, "she/her")
    tab(app)
    retype(app, "short silver hair, a red scarf")
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app, 8)
    session = app.session
    assert session is not None and session.world.id == "hollow_orbit"
    assert app.screens == [app.story]
    player = session.player()
    assert (player.name, player.pronouns, player.look) == ("Mira Okafor", "she/her",
                                                           "short silver hair, a red scarf")
    assert narrator.requests[0].player.name == "Mira Okafor"               # the narrator's
    assert "Mira Okafor, short silver hair, a red scarf" in session.image_prompt()   # the picture's


def test_tab_wraps_and_escape_goes_back_to_the_world_picker(app):
    screen = open_profile(app)
    tab(app, 4)
    assert screen.focused == "name"
    app.step([key(pygame.K_TAB, mod=pygame.KMOD_SHIFT)], dt=0.01, present=False)
    assert screen.focused == "portrait"
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    assert isinstance(app.top, WorldPicker)
    settle(app, 4)
    assert app.session is None


def test_the_command_line_profile_fills_the_fields(config, tmp_path):
    app = make_app(config, tmp_path, player={"name": "Kit", "look": "tall"})
    try:
        screen = open_profile(app)
        assert screen.fields["name"].text == "Kit" and screen.fields["look"].text == "tall"
    finally:
        app.close()


def _begin_as(app, name: str, portrait: str = "") -> None:
    open_profile(app)
    retype(app, name)
    if portrait:
        tab(app, 3)
        app.step([typed(portrait)], dt=0.01, present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app, 8)


def test_the_status_panel_shows_the_profile_and_edit_changes_it(app, narrator, tmp_path):
    _begin_as(app, "Mira")
    read_to_choices(app)
    status = app.push(StatusScreen(app))
    assert ("You", "Mira (she/her)") in status_rows(app.session)   # pronouns: the world's
    assert status.portrait() is None and status.portrait_rect.width == 0
    frame(app, tmp_path / "status.png")
    app.step([key(pygame.K_e, text="e")], dt=0.01, present=False)
    edit = app.top
    assert isinstance(edit, PlayerScreen) and edit.edit
    assert edit.fields["name"].text == "Mira"
    retype(app, "Ada")
    tab(app)
    retype(app, "they/them")
    frame(app, tmp_path / "edit.png")
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    assert app.top is status
    assert any(t.message == APPLIES_LATER for t in app.toasts.items)
    assert ("You", "Ada (they/them)") in status_rows(app.session)
    assert app.session.player().name == "Ada"
    app.step(click_at(status.edit.rect.center), dt=0.01, present=False)     # the button too
    assert isinstance(app.top, PlayerScreen)
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    assert app.top is status
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    read_to_choices(app)
    app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
    settle(app, 6)
    assert narrator.requests[-1].player.name == "Ada"      # the next scene is told to Ada


def click_at(pos):
    from tests.support.game_helpers import click
    return click(pos)


def test_a_portrait_shows_on_the_status_panel_and_the_save_slot(app, tmp_path):
    picture = small_png(tmp_path / "me.png")
    _begin_as(app, "Mira", str(picture))
    session = app.session
    assert session.player().portrait and session.portrait() is not None
    assert not [t for t in app.toasts.items if t.kind == "error"]
    read_to_choices(app)
    app.step([key(pygame.K_i, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)   # Status
    status = app.top
    assert isinstance(status, StatusScreen)
    shot = frame(app, tmp_path / "status-portrait.png")
    rect = status.portrait_rect
    assert rect.width > 20 and status.rect.contains(rect)
    assert not rect.colliderect(status.edit.rect)
    r, g, b, *_ = shot.get_at(rect.center)
    assert r > 180 and g < 70 and b < 70, (r, g, b)
    app.pop()
    session.save("with face")
    saves = app.push(SavesScreen(app, "load"))
    settle(app, 6)
    app.step([motion((1, 1))], dt=0.01, present=False)     # an event: the frame is drawn
    assert saves.portraits.get("with face") is not None
    shot = frame(app, tmp_path / "saves.png")
    card = next(rect for rect, name in saves.cards if name == "with face")
    pad = app.theme.px(12)
    thumb = pygame.Rect(card.x + pad, card.y + pad, (card.height - 2 * pad) * 16 // 9,
                        card.height - 2 * pad)
    where = saves.portrait_rect(thumb, "with face")
    assert where is not None and thumb.contains(where)
    r, g, b, *_ = shot.get_at(where.center)
    assert r > 180 and g < 70 and b < 70, (r, g, b)


def test_a_broken_portrait_is_a_toast_naming_it_and_the_story_starts(app, tmp_path):
    broken = tmp_path / "not-a-picture.png"
    broken.write_text("hello")
    _begin_as(app, "Mira", str(broken))
    assert app.session is not None and app.screens == [app.story]
    assert app.session.player().name == "Mira" and not app.session.player().portrait
    errors = [t.message for t in app.toasts.items if t.kind == "error"]
    assert any("not-a-picture.png" in message for message in errors), errors


@pytest.mark.parametrize("size", [(1280, 720), (640, 400)])
def test_profile_and_status_layouts_hold(config, tmp_path, size):
    app = make_app(config.with_changes(game={"world": "hollow_orbit"},
                                       display={"width": size[0], "height": size[1],
                                                "font_size": 40}), tmp_path)
    try:
        window = app.surface.get_rect()
        screen = open_profile(app)
        frame(app, tmp_path / "profile.png")
        rects = [f.rect for f in screen.fields.values()] + list(screen.label_rects.values())
        rects += [b.rect for b in screen.buttons if b.rect.width]
        _no_overlap(rects, window)
        app.step([typed("x" * 10)], dt=0.01, present=False)
        picture = small_png(tmp_path / "me.png")
        tab(app, 3)
        app.step([typed(str(picture)), key(pygame.K_RETURN)], dt=0.01, present=False)
        settle(app, 8)
        read_to_choices(app)
        status = app.push(StatusScreen(app))
        frame(app, tmp_path / "status.png")
        assert window.contains(status.rect)
        for rect in (status.portrait_rect, status.edit.rect):
            assert rect.width and status.rect.contains(rect)
        assert not status.portrait_rect.colliderect(status.edit.rect)
        app.step([key(pygame.K_e, text="e")], dt=0.01, present=False)
        edit = app.top
        frame(app, tmp_path / "edit.png")
        rects = [f.rect for f in edit.fields.values()] + list(edit.label_rects.values())
        rects += [b.rect for b in edit.buttons]
        _no_overlap(rects, window)
    finally:
        app.close()


def _no_overlap(rects, window) -> None:
    for i, a in enumerate(rects):
        assert window.contains(a), (a, window)
        for b in rects[i + 1:]:
            assert not a.colliderect(b), (a, b)


def test_a_portrait_chosen_in_edit_is_read_off_the_frame_and_applied(app, tmp_path):
    _begin_as(app, "Mira")
    read_to_choices(app)
    status = app.push(StatusScreen(app))
    app.step([key(pygame.K_e, text="e")], dt=0.01, present=False)
    assert isinstance(app.top, PlayerScreen)
    tab(app, 3)
    app.step([typed(str(small_png(tmp_path / "me.png")))], dt=0.01, present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    assert app.top is status
    settle(app, 4)                                  # the background job lands
    assert app.session.player().portrait and app.session.portrait() is not None
    broken = tmp_path / "broken.png"
    broken.write_text("hello")
    app.step([key(pygame.K_e, text="e")], dt=0.01, present=False)
    tab(app, 3)
    app.step([typed(str(broken))], dt=0.01, present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app, 4)
    errors = [t.message for t in app.toasts.items if t.kind == "error"]
    assert any("broken.png" in message for message in errors), errors
    assert not app.session.player().portrait          # the story goes on without one
