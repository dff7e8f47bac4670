"""The player model in the window: the status panel says what the game believes about the player,
the Display page of Settings turns it off ("The world reads you"), and the story screen tells the
Session how long the player took to choose."""

from __future__ import annotations

import tomllib

import pygame

from game.screens.settings import SettingsScreen
from game.screens.status import StatusScreen, status_rows
from tests.support.game_helpers import frame, key, make_app, read_to_choices, settle, start


def _take_choice(app, number: int = 1, wait: float = 0.01) -> None:
    read_to_choices(app)
    for _ in range(round(wait / 0.5)):
        app.step([], dt=0.5, present=False)
    app.step([key(pygame.K_0 + number, text=str(number))], dt=0.01, present=False)
    settle(app, 4)


def test_the_story_screen_records_how_long_the_player_took(config, tmp_path):
    app = make_app(config, tmp_path)
    try:
        session = start(app)
        _take_choice(app, wait=6.0)
        assert 6000 <= session.scene().pace_ms <= 6500
        _take_choice(app, wait=1.0)
        assert 1000 <= session.scene().pace_ms <= 1500
    finally:
        app.close()


def test_the_status_panel_shows_what_the_game_believes(config, tmp_path):
    app = make_app(config.with_changes(game={"world": "lantern_coast"}), tmp_path)
    try:
        session = start(app)
        for _ in range(4):
            _take_choice(app, wait=1.0)
        app.story._act("Out of my way, you stupid fool.")
        settle(app, 4)
        rows = dict(status_rows(session))
        assert rows["Right now"] == "you seem angry"
        assert {"Bold or cautious", "Kind or ruthless", "Curious or direct",
                "Talkative or quiet"} <= rows.keys()
        assert rows["Kind or ruthless"] == session.player_profile().tendency("kind").said \
            or rows["Kind or ruthless"] == "not clear yet"
        app.step([key(pygame.K_i, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert isinstance(app.top, StatusScreen)
        texts = " ".join(text for text, _, _ in app.top.lines)
        assert "The world reads you" in texts and "you seem angry" in texts
        frame(app, tmp_path / "status_player.png")
    finally:
        app.close()


def test_the_world_reads_you_is_a_display_setting_that_turns_it_off(config, tmp_path):
    app = make_app(config, tmp_path)
    try:
        session = start(app)
        _take_choice(app)
        assert session.reads_player and session.player_profile() is not None
        app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        screen = app.top
        assert isinstance(screen, SettingsScreen) and "player_model" in screen.rows
        assert screen.names["player_model"] == "The world reads you"
        assert screen.value_text("player_model") == "on"
        row = screen.rows.index("player_model")
        app.step([key(pygame.K_DOWN)] * row + [key(pygame.K_RETURN)], dt=0.01, present=False)
        assert screen.value_text("player_model") == "off"
        assert not app.config.game.player_model and not session.reads_player
        frame(app, tmp_path / "settings_player_model.png")
        saved = tomllib.loads((tmp_path / "user.toml").read_text())
        assert saved == {"game": {"player_model": False}}
        app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
        rows = dict(status_rows(session))
        assert rows["The world reads you"].startswith("off")
        assert "Right now" not in rows
        app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        app.top.change("player_model", 1)                       # and on again
        assert session.reads_player and app.config.game.player_model
    finally:
        app.close()
