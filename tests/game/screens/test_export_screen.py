"""Exporting from the window: E (or the quick menu) opens the export screen, a pick starts the
export in the background, play goes on, and a toast says where the file went."""

from __future__ import annotations

import pygame

from game.screens.export import ExportScreen
from tests.support.game_helpers import key, read_to_choices, settle, start


def toasts(app) -> list[str]:
    return [toast.message for toast in list(app.toasts.items) + list(app.toasts.waiting)]


def test_a_book_is_made_from_the_story_being_played(app):
    session = start(app)
    read_to_choices(app)
    session.choose(0)
    settle(app)
    app.step([key(pygame.K_e, text="e")], dt=1 / 60, present=False)
    assert isinstance(app.top, ExportScreen)
    app.step([key(pygame.K_2, text="2")], dt=1 / 60, present=False)
    settle(app, 4)
    folder = app.library.exports_dir
    html, epub = folder / f"{session.slot}.html", folder / f"{session.slot}.epub"
    assert html.is_file() and epub.is_file()
    assert session.scene().title in html.read_text(encoding="utf-8")
    assert any(text.startswith("Book saved:") for text in toasts(app)), toasts(app)
    assert app.exports.task is None
    app.step([key(pygame.K_ESCAPE)], dt=1 / 60, present=False)
    assert not isinstance(app.top, ExportScreen)


def test_a_cancelled_export_writes_nothing(app):
    session = start(app)
    app.exports.start("twee")
    assert app.exports.running
    app.exports.cancel()
    settle(app, 4)
    assert not (app.library.exports_dir / f"{session.slot}.twee").exists()
    assert any("cancelled; nothing was written" in text for text in toasts(app)), toasts(app)
    assert not app.exports.running


def test_without_a_story_there_is_nothing_to_export(app):
    app.exports.start("film")
    assert not app.exports.running
    assert any("nothing to export" in text for text in toasts(app))
