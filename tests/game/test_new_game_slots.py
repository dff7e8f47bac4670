"""Every story keeps its own slot in the window: Menu, New game, another world, Begin leaves the
story played before under Continue and Load, with all its scenes."""

from __future__ import annotations

import pygame
from tests.support.game_helpers import click, key, read_to_choices, settle

from engine.saves.store import SaveStore
from game.screens.saves import SavesScreen
from game.screens.title import TitleScreen, WorldPicker


def _play_turns(app, turns: int) -> None:
    for _ in range(turns):
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app, 6)


def _begin(app, world_id: str) -> None:
    """Menu, New game, the world, Begin, Enter on "Who are you?": as a player does it."""
    app.push(TitleScreen(app))
    settle(app, 4)
    menu = app.top
    new_game = next(b for b in menu.menu.buttons if b.label == "New game")
    app.step(click(new_game.rect.center), dt=0.01, present=False)
    settle(app, 4)
    picker = app.top
    assert isinstance(picker, WorldPicker)
    picker._pick([wid for wid, _, _ in picker.worlds].index(world_id))
    app.step(click(picker.begin.rect.center), dt=0.01, present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)    # "Who are you?": as suggested
    settle(app, 8)


def test_a_new_game_leaves_the_story_before_under_continue_and_load(app):
    _begin(app, "lantern_coast")
    first = app.session
    _play_turns(app, 4)
    a_slot, a_scenes, a_turn, a_node = first.slot, len(first.graph), first.turn, first.current
    assert a_turn == 4
    _begin(app, "hollow_orbit")
    second = app.session
    assert second is not first and second.world.id == "hollow_orbit"
    assert second.slot != a_slot
    _play_turns(app, 1)
    second.flush_saves()
    store = SaveStore(app.config.saves_dir)
    listed = {name: meta for meta, name, _ in store.list()}
    assert listed[a_slot].world == "lantern_coast"
    assert listed[a_slot].turn == a_turn and listed[a_slot].scenes == a_scenes
    assert listed[second.slot].world == "hollow_orbit"

    app.close_story()                              # to the title: Continue is the newest story
    app.replace_all(TitleScreen(app))
    settle(app, 4)
    title = app.top
    assert title.latest[0] == second.slot and "Hollow Orbit" in title.menu.buttons[0].label
    assert title.menu.index == 0                   # Continue is highlighted

    app.push(SavesScreen(app, "load"))             # Load lists both, story A with its scenes
    settle(app, 4)
    saves = app.top
    names = [name for _, name, _ in saves.slots]
    assert a_slot in names and second.slot in names
    saves.activate(a_slot)
    settle(app, 8)
    resumed = app.session
    assert resumed.slot == a_slot and resumed.world.id == "lantern_coast"
    assert len(resumed.graph) == a_scenes and resumed.current == a_node


def test_save_names_do_not_skip_numbers(app, tmp_path):
    from tests.support.game_helpers import start
    start(app)
    app.session.save("save 1")
    app.push(SavesScreen(app, "save"))
    settle(app, 4)
    assert app.top.name.text == "save 2"           # not "save 3" (two slots: autosave + save 1)


def test_deleting_a_slot_asks_first_and_undo_brings_it_back(app, tmp_path):
    from tests.support.game_helpers import frame, start
    start(app)
    app.session.save("keepsake")
    app.push(SavesScreen(app, "load"))
    settle(app, 4)
    saves = app.top
    saves.index = [entry for _, entry in saves.cards].index("keepsake")
    store = SaveStore(app.config.saves_dir)
    app.step([key(pygame.K_DELETE)], dt=0.01, present=False)
    assert saves.armed_delete == "keepsake" and store.exists("keepsake")   # asked, not deleted
    frame(app, tmp_path / "asking.png")
    app.step([key(pygame.K_DELETE)], dt=0.01, present=False)
    settle(app, 4)
    assert not store.exists("keepsake")
    assert "keepsake" not in [name for _, name, _ in saves.slots]
    assert saves.undo.enabled
    app.step(click(saves.undo.rect.center), dt=0.01, present=False)
    settle(app, 4)
    assert store.exists("keepsake") and "keepsake" in [name for _, name, _ in saves.slots]
    assert not app.library.can_undo_delete


def test_the_story_being_played_is_not_deleted(app):
    from tests.support.game_helpers import start
    session = start(app)
    session.flush_saves()
    app.push(SavesScreen(app, "load"))
    settle(app, 4)
    saves = app.top
    saves.index = [entry for _, entry in saves.cards].index(session.slot)
    saves.delete_selected()
    saves.delete_selected()
    settle(app, 2)
    assert SaveStore(app.config.saves_dir).exists(session.slot)
    assert any("is open" in t.message for t in app.toasts.items)


def test_quicksaves_belong_to_their_story(app):
    from tests.support.game_helpers import start
    first = start(app, None)
    app.step([key(pygame.K_F5)], dt=0.01, present=False)
    a_slot = first.slot
    _begin(app, "lantern_coast")
    second = app.session
    app.step([key(pygame.K_F9)], dt=0.01, present=False)   # story B has no quicksave yet
    settle(app, 4)
    assert app.session is second
    assert any("No quicksave of this story" in t.message for t in app.toasts.items)
    assert SaveStore(app.config.saves_dir).meta(a_slot).world == "hollow_orbit"
