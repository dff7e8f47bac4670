"""Title, world picker, map, history, saves and settings, driven with synthetic input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pygame
import pytest
from tests.support.game_helpers import click, frame, key, make_app, motion, read_to_choices, settle, start, typed

from engine.config import load_config
from engine.errors import SaveError
from engine.saves.store import SaveStore
from game.screens.history import HistoryScreen
from game.screens.map import MapScreen
from game.screens.saves import SavesScreen
from game.screens.settings import SettingsScreen
from game.screens.title import TitleScreen, WorldPicker


def play_turns(app, turns: int, choice: int = 0) -> None:
    for _ in range(turns):
        read_to_choices(app)
        app.step([key(pygame.K_1 + choice, text=str(choice + 1))], dt=0.01, present=False)
        settle(app, 4)


def test_title_new_game_picks_a_world(app, tmp_path):
    app.replace_all(TitleScreen(app))
    settle(app, 4)
    title = app.top
    labels = [b.label for b in title.menu.buttons]
    assert labels[:2] == ["Continue", "New game"] and not title.menu.buttons[0].enabled
    frame(app, tmp_path / "title.png")
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)     # "New game" is selected
    settle(app, 4)
    picker = app.top
    assert isinstance(picker, WorldPicker)
    titles = [b.label for b in picker.list.buttons]
    assert "Hollow Orbit" in titles
    app.step([key(pygame.K_DOWN), key(pygame.K_UP)], dt=0.01, present=False)
    picker._pick(titles.index("Hollow Orbit"))
    frame(app, tmp_path / "worlds.png")
    app.step(click(picker.begin.rect.center), dt=0.01, present=False)
    assert type(app.top).__name__ == "PlayerScreen"                # "Who are you?"
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app, 8)
    assert app.session is not None and app.session.world.id == "hollow_orbit"
    assert app.screens == [app.story]


def test_broken_world_is_reported_and_others_still_play(config, tmp_path):
    worlds = tmp_path / "worlds"
    (worlds / "broken").mkdir(parents=True)
    (worlds / "broken" / "world.toml").write_text('title = "Broken\n')   # unterminated string
    config = config.with_changes(game={"worlds_dir": str(worlds), "world": "hollow_orbit"})
    app = make_app(config, tmp_path)
    try:
        app.replace_all(TitleScreen(app))
        app.push(WorldPicker(app))
        settle(app, 4)
        picker = app.top
        broken = [i for i, (wid, w, _) in enumerate(picker.worlds) if wid == "broken"][0]
        assert picker.worlds[broken][1] is None
        assert any("broken" in t.message and "world.toml" in t.message for t in app.toasts.items)
        picker._pick(broken)
        assert not picker.begin.enabled
        frame(app, tmp_path / "broken.png")
        playable = [i for i, (_, w, _) in enumerate(picker.worlds) if w is not None][0]
        picker._pick(playable)
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)   # "Who are you?"
        settle(app, 8)
        assert app.session is not None
    finally:
        app.close()


def test_map_shows_the_tree_and_jumps(app, tmp_path):
    session = start(app)
    root = session.current
    play_turns(app, 3)
    read_to_choices(app)
    assert session.scene().parent is not None
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert isinstance(screen, MapScreen)
    view = session.graph.map_view(session.current)
    positions = view.positions
    assert set(positions) == set(screen.positions) and session.current in positions
    assert set(positions) == set(view.visited).union(*view.children.values())
    for node, (depth, _) in positions.items():    # depth is the distance from the root
        assert depth == len(session.graph.path(node)) - 1
    shot = frame(app, tmp_path / "map.png")
    x, y = screen.to_screen(session.current)
    assert shot.get_at((x, y))[:3] == app.theme.palette.accent   # the current path is lit
    # click the first scene: we are back at the beginning, the map closes
    screen.center_on(root)
    pos = screen.to_screen(root)
    app.step([motion(pos)], dt=0.01, present=False)
    app.step(click(pos), dt=0.01, present=False)
    settle(app, 2)
    assert session.current == root and app.top is app.story


def test_map_open_end_takes_that_choice(app):
    session = start(app)
    root = session.current
    read_to_choices(app)
    target = session.choices()[2].id
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    screen.center_on(target)
    app.step(click(screen.to_screen(target)), dt=0.01, present=False)
    settle(app, 4)
    assert session.current == target and session.scene().parent == root


def test_map_keyboard_walk_and_jump(app):
    session = start(app)
    root = session.current
    play_turns(app, 2)
    here = session.current
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert app.top.selected == here
    app.step([key(pygame.K_LEFT), key(pygame.K_LEFT)], dt=0.01, present=False)
    assert app.top.selected == root
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    assert session.current == root and app.top is app.story


def test_history_lists_the_path(app, tmp_path):
    session = start(app)
    play_turns(app, 2)
    app.step([key(pygame.K_h, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert isinstance(screen, HistoryScreen)
    text = "\n".join(line for line, _, _ in screen.lines)
    for node in session.path():
        assert session.scene(node).current.title in text
    chosen = session.scene(session.path()[1]).label
    assert f"You chose: {chosen}"[:40] in text
    assert screen.scroll == screen.max_scroll > 0           # opens at the newest scene
    app.step([key(pygame.K_HOME)], dt=0.01, present=False)
    assert screen.scroll == 0
    frame(app, tmp_path / "history.png")
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    assert app.top is app.story
    assert app.session.slot == session.slot         # the story goes on in its own slot


def test_quicksave_and_quickload(app):
    session = start(app)
    play_turns(app, 2)
    saved_node, saved_turn = session.current, session.turn
    app.step([key(pygame.K_F5)], dt=0.01, present=False)
    assert SaveStore(app.config.saves_dir).exists(f"{session.slot}-quicksave")
    play_turns(app, 2)
    assert session.current != saved_node
    app.step([key(pygame.K_F9)], dt=0.01, present=False)
    settle(app, 8)
    assert app.session is not session
    assert app.session.current == saved_node and app.session.turn == saved_turn
    assert app.top is app.story


def test_save_screen_saves_a_named_slot_and_load_screen_loads_it(app, tmp_path):
    session = start(app)
    play_turns(app, 1)
    node = session.current
    app.step([key(pygame.K_s, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    settle(app, 4)
    screen = app.top
    assert isinstance(screen, SavesScreen) and screen.mode == "save"
    app.step(click(screen.name.rect.center), dt=0.01, present=False)
    assert screen.name.focused
    app.step([key(pygame.K_BACKSPACE)] * 20 + [typed("my story")], dt=0.01, present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app, 6)
    assert SaveStore(app.config.saves_dir).exists("my story")
    names = [name for _, name, _ in screen.slots]
    assert "my story" in names
    assert screen.thumbs["my story"] is not None        # the card shows the saved picture
    frame(app, tmp_path / "saves.png")
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    play_turns(app, 2)
    app.step([key(pygame.K_l, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    settle(app, 6)
    screen = app.top
    card = next(rect for rect, name in screen.cards if name == "my story")
    app.step(click(card.center), dt=0.01, present=False)
    settle(app, 8)
    assert app.session.current == node and app.top is app.story
    assert SaveStore(app.config.saves_dir).thumbnail_path("my story") is not None


def test_failed_save_is_a_toast_and_play_goes_on(app, monkeypatch):
    session = start(app)

    def broken(*args, **kwargs):
        raise SaveError("The disk holding saves is full (test).")

    monkeypatch.setattr(session, "save", broken)
    app.step([key(pygame.K_F5)], dt=0.01, present=False)
    assert any("disk" in t.message and t.kind == "error" for t in app.toasts.items)
    assert app.running and app.top is app.story
    play_turns(app, 1)
    assert session.turn == 1


def test_settings_change_and_are_kept(app, tmp_path):
    start(app)
    read_to_choices(app)
    small = app.theme.font("text").get_height()
    app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert isinstance(screen, SettingsScreen)
    app.step([key(pygame.K_DOWN), key(pygame.K_RIGHT), key(pygame.K_RIGHT)], dt=0.01, present=False)
    assert app.config.display.font_size == 28
    assert app.theme.font("text").get_height() > small
    app.step([key(pygame.K_UP), key(pygame.K_LEFT)], dt=0.01, present=False)   # slower text
    assert app.config.display.text_speed == 40
    app.step([key(pygame.K_DOWN), key(pygame.K_DOWN), key(pygame.K_RETURN)], dt=0.01, present=False)
    assert app.config.display.high_contrast and app.theme.high_contrast
    app.step(click(screen.row_rects["auto_advance"].center), dt=0.01, present=False)
    assert app.config.display.auto_advance
    frame(app, tmp_path / "settings.png")
    saved = tomllib.loads((tmp_path / "user.toml").read_text())["display"]
    assert saved == {"font_size": 28, "text_speed": 40, "high_contrast": True, "auto_advance": True}
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    assert app.top is app.story
    assert app.story.choices_visible      # bigger text re-wrapped, and the reader kept their place


def test_auto_advance_turns_pages(script_app):
    app = script_app
    start(app)
    app.set_display(auto_advance=True, text_speed=0)
    assert len(app.story.box.pages) >= 2
    for _ in range(200):
        app.step([], dt=0.1, present=False)
    assert app.story.box.at_end and app.story.choices_visible


def test_auto_advance_pace_is_a_setting_that_is_kept(app, tmp_path):
    start(app)
    read_to_choices(app)
    app.step([key(pygame.K_o, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert isinstance(screen, SettingsScreen)
    row = screen.rows.index("auto_advance_speed")
    assert screen.value_text("auto_advance_speed") == "normal (\u00d71)"
    app.step([key(pygame.K_DOWN)] * row + [key(pygame.K_RIGHT)], dt=0.01, present=False)
    assert app.config.display.auto_advance_speed == 1.5
    app.step([key(pygame.K_LEFT), key(pygame.K_LEFT)], dt=0.01, present=False)
    assert app.config.display.auto_advance_speed == 0.75
    app.step(click(screen.arrows["auto_advance_speed"][1].rect.center), dt=0.01, present=False)
    assert app.config.display.auto_advance_speed == 1.0
    for _ in range(8):                                       # never past the fastest pace
        app.step(click(screen.arrows["auto_advance_speed"][1].rect.center), dt=0.01, present=False)
    assert app.config.display.auto_advance_speed == 3.0
    frame(app, tmp_path / "settings_pace.png")
    saved = tomllib.loads((tmp_path / "user.toml").read_text())["display"]
    assert saved == {"auto_advance_speed": 3.0}
    assert load_config(tmp_path / "user.toml").display.auto_advance_speed == 3.0   # remembered


def test_auto_advance_waits_as_long_as_its_pace_says(script_app):
    app = script_app
    start(app)
    app.set_display(auto_advance=True, text_speed=0, auto_advance_speed=1.0)
    app.step([], dt=0.01, present=False)
    story = app.story
    assert story.box.page_done and not story.box.at_end
    normal = story.auto_delay()
    app.set_display(auto_advance_speed=2.0)
    assert story.auto_delay() == pytest.approx(normal / 2)
    page = story.box.page
    story.auto_timer = 0.0
    app.step([], dt=normal / 2 * 0.9, present=False)
    assert story.box.page == page                            # not yet
    app.step([], dt=normal / 2 * 0.2, present=False)
    assert story.box.page == page + 1                        # twice as fast as the normal pace


def test_escape_opens_the_game_menu_over_the_story(app, tmp_path):
    start(app)
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    menu = app.top
    assert isinstance(menu, TitleScreen) and menu.in_game
    assert menu.menu.buttons[0].label == "Return to the story"
    frame(app, tmp_path / "menu.png")
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    assert app.top is app.story
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    quit_button = next(b for b in app.top.menu.buttons if b.label == "Quit")
    app.step(click(quit_button.rect.center), dt=0.01, present=False)
    assert not app.running


def test_map_hides_prefetched_scenes_behind_open_ends(app):
    session = start(app)
    read_to_choices(app)
    ahead = [c for c in session.choices() if c.status == "ready"]
    assert ahead, "prefetch should have told the scenes behind the choices"
    visited = session.graph.explored(session.current)
    assert session.current in visited and not any(c.id in visited for c in ahead)
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert all(c.id in screen.positions for c in session.choices())   # drawn, as open ends
    assert not any(grandchild in screen.positions
                   for c in ahead for grandchild in session.graph.g.successors(c.id))


def test_failed_load_keeps_the_story_being_played(app):
    session = start(app)
    play_turns(app, 1)
    app.step([key(pygame.K_F5)], dt=0.01, present=False)
    slot = SaveStore(app.config.saves_dir).slot_dir(f"{session.slot}-quicksave")
    for path in slot.iterdir():
        if path.name.startswith("story.json") or path.name == "journal.jsonl":
            path.write_text("{ not json")
    app.step([key(pygame.K_F9)], dt=0.01, present=False)
    settle(app, 6)
    assert app.session is session and app.top is app.story and not app.loading
    assert any(t.kind == "error" and "quicksave" in t.message for t in app.toasts.items)
    play_turns(app, 1)
    assert session.turn == 2


def test_unknown_world_in_config_is_a_message_on_the_title(config, tmp_path):
    app = make_app(config.with_changes(game={"world": "no_such_world"}), tmp_path)
    try:
        app.new_game()
        settle(app, 4)
        assert app.session is None and isinstance(app.top, TitleScreen)
        assert any("no_such_world" in t.message for t in app.toasts.items)
        frame(app, tmp_path / "no-world.png")
    finally:
        app.close()


def test_continue_without_saves_says_so(app):
    app.load_game(None)
    settle(app, 4)
    assert app.session is None and isinstance(app.top, TitleScreen)
    assert any("No saved story" in t.message for t in app.toasts.items)


def test_map_shows_visited_scenes_even_after_a_load(app, tmp_path):
    session = start(app)
    root = session.current
    read_to_choices(app)
    app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
    settle(app)
    first = session.current
    read_to_choices(app)
    first_ahead = [c.id for c in session.graph.children(first) if c.status == "ready"]
    assert first_ahead, "prefetch should have told the scenes behind the first scene's choices"
    while session.current != root:               # back through the pages, then the scene
        app.step([key(pygame.K_z, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        settle(app, 2)
    read_to_choices(app)
    app.step([key(pygame.K_2, text="2")], dt=0.01, present=False)
    settle(app)
    second = session.current
    assert session.scene(second).parent == root
    visited = session.graph.explored(session.current)
    assert {root, first, second} <= visited                # the branch left behind counts
    assert not set(first_ahead) & visited                  # told ahead, never seen: open ends
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    assert set(first_ahead) <= set(screen.positions)
    graph = session.graph.g
    assert not any(g in screen.positions for c in first_ahead for g in graph.successors(c))
    screen.center_on(root)
    shot = frame(app, tmp_path / "map-visited.png")
    pal = app.theme.palette
    assert shot.get_at(screen.to_screen(second))[:3] == pal.accent       # the current path, lit
    assert shot.get_at(screen.to_screen(first))[:3] == pal.map_node      # visited, off the path
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    app.step([key(pygame.K_F5)], dt=0.01, present=False)
    app.step([key(pygame.K_F9)], dt=0.01, present=False)
    settle(app, 8)
    loaded = app.session
    assert loaded is not session and loaded.current == second
    explored = loaded.graph.explored(loaded.current)
    assert {root, first, second} <= explored and not set(first_ahead) & explored


def copy_world(world_dir: Path) -> Path:
    """A copy of the shipped Hollow Orbit world to change in a test."""
    import shutil
    shutil.copytree(Path(__file__).resolve().parents[3] / "assets" / "worlds" / "hollow_orbit",
                    world_dir)
    return world_dir


def open_picker(config, tmp_path, world_dir: Path):
    """The game started with `--world world_dir`, on the new-game world picker."""
    app = make_app(config.with_changes(game={"world": str(world_dir)}), tmp_path)
    app.replace_all(TitleScreen(app))
    app.push(WorldPicker(app))
    settle(app, 4)
    return app, app.top


def test_a_world_folder_given_by_path_is_offered_first(config, tmp_path):
    world_dir = copy_world(tmp_path / "my_world")
    app, picker = open_picker(config, tmp_path, world_dir)
    try:
        assert picker.worlds[picker.index][0] == str(world_dir)
        assert picker.list.buttons[picker.index].label == f"Hollow Orbit ({world_dir})"
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)   # "Who are you?"
        settle(app, 8)
        assert app.session is not None and app.session.world.root == world_dir.resolve()
    finally:
        app.close()


def test_a_world_with_its_own_pictures_shows_them_on_the_picker_and_in_the_story(config, tmp_path):
    from PIL import Image

    from game.screens.title import request_cover
    world_dir = copy_world(tmp_path / "painted_world")
    (world_dir / "images").mkdir()
    Image.new("RGB", (160, 90), (230, 20, 200)).save(world_dir / "images" / "cover.png")
    world_toml = world_dir / "world.toml"
    world_toml.write_text("\n".join('cover = "images/cover.png"' if line.startswith("cover =")
                                    else line for line in world_toml.read_text().splitlines()))
    start = tomllib.loads(world_toml.read_text())["start"]
    for story in (world_dir / "storylets").glob("*.toml"):     # the first scene names it too
        text = story.read_text()
        at = text.find(f'id = "{start}"')
        if at >= 0:
            line_start = text.index("\nimage = ", at) + 1
            line_end = text.index("\n", line_start)
            story.write_text(text[:line_start] + 'image = "images/cover.png"' + text[line_end:])
    app, picker = open_picker(config, tmp_path, world_dir)
    try:
        world = picker.worlds[picker.index][1]
        assert world.problems == []
        assert request_cover(app, world) is not None
        frame(app, tmp_path / "picker.png")
        shot = pygame.image.load(str(tmp_path / "picker.png"))
        assert all(abs(a - b) <= 6 for a, b in zip(shot.get_at(picker.cover_rect.center)[:3],
                                                   (230, 20, 200)))
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
        app.step([key(pygame.K_RETURN)], dt=0.01, present=False)   # "Who are you?"
        settle(app, 8)
        assert app.session.shipped_picture() == "images/cover.png"
        settle(app, 60, dt=0.05)                                # past the crossfade
        shot = frame(app, tmp_path / "story.png")
        r, g, b, *_ = shot.get_at((60, 300))                    # the picture, not a painted one
        assert abs(r - 230) < 12 and g < 40 and abs(b - 200) < 12, (r, g, b)
    finally:
        app.close()


def test_map_labels_are_clickable_and_any_versions_open_end_can_be_taken(script_app, tmp_path):
    app = script_app
    session = start(app)
    root = session.current
    read_to_choices(app)
    first_telling = [c.id for c in session.choices()]
    app.step([key(pygame.K_r, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)   # a 2nd telling
    settle(app)
    assert session.scene().active == 1 and first_telling[1] not in [c.id for c in session.choices()]
    app.step([key(pygame.K_m, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    screen = app.top
    target = first_telling[1]
    screen.center_on(target)
    frame(app, tmp_path / "map.png")
    assert screen.version_mark(target) == "v1 \u00b7 "            # which telling offered it
    assert screen.version_mark(session.choices()[0].id) == "v2 \u00b7 "
    label = screen._labels[target]
    dot = screen.to_screen(target)
    spot = (label.right - 6, label.centery)                        # the label's far end
    assert (spot[0] - dot[0]) ** 2 + (spot[1] - dot[1]) ** 2 > (app.theme.px(14) * 2) ** 2
    app.step([motion(spot)], dt=0.01, present=False)
    assert screen.hover == target
    app.step(click(spot), dt=0.01, present=False)
    settle(app, 4)
    assert app.top is app.story and session.current == target
    assert session.scene(root).active == 0                         # its telling is shown again


def test_title_highlights_continue_when_a_story_can_be_continued(app):
    start(app)
    app.close_story()
    title = app.replace_all(TitleScreen(app))
    settle(app, 4)
    selected = title.menu.buttons[title.menu.index]
    assert selected.label.startswith("Continue") and selected.enabled


OVERLAYS = {"settings": SettingsScreen, "map": MapScreen, "history": HistoryScreen,
            "menu": TitleScreen, "load": lambda app: SavesScreen(app, "load")}


def _green(shot, rect) -> int:
    """Pixels of the story's picture (FakePainter's green) inside rect."""
    from tests.support.game_helpers import IMAGE_COLOUR
    count = 0
    for y in range(rect.top, rect.bottom, 3):
        for x in range(rect.left, rect.right, 3):
            r, g, b, *_ = shot.get_at((x, y))
            if abs(r - IMAGE_COLOUR[0]) < 30 and abs(g - IMAGE_COLOUR[1]) < 30 and g > 100:
                count += 1
    return count


def _no_overlap(rects, window) -> None:
    for i, a in enumerate(rects):
        assert window.contains(a), (a, window)
        for b in rects[i + 1:]:
            assert not a.colliderect(b), (a, b)


@pytest.mark.parametrize("size,points", [((1280, 720), 16), ((1280, 720), 40), ((640, 400), 16),
                                         ((640, 400), 40)])
def test_overlays_are_opaque_and_layouts_hold(config, tmp_path, size, points):
    from game.screens.status import StatusScreen
    app = make_app(config.with_changes(game={"world": "lantern_coast"},
                                       display={"width": size[0], "height": size[1],
                                                "font_size": points}), tmp_path)
    try:
        assert app.surface.get_size() == size
        start(app)
        play_turns(app, 1)
        read_to_choices(app)
        window = app.surface.get_rect()
        story = app.story
        shot = frame(app, tmp_path / "story.png")
        assert _green(shot, window) > 100                      # the picture is on screen
        _no_overlap([b.rect for b in story.choices.buttons] + [story.action.rect], window)
        assert all(b.rect.bottom <= story.box_rect.top for b in story.choices.buttons)
        assert story.action.rect.bottom <= story.box_rect.top
        _no_overlap([b.rect for b in story.quick.buttons], story.box_rect)
        assert max(b.rect.top for b in story.quick.buttons) >= story.text_rect.bottom
        for name, make in OVERLAYS.items():                    # full-window overlays: opaque
            screen = app.push(make(app))
            settle(app, 3)
            shot = frame(app, tmp_path / f"{name}.png")
            cards = [rect for rect, _ in getattr(screen, "cards", [])]   # thumbnails are green
            area = window if not cards else pygame.Rect(0, 0, size[0], min(r.top for r in cards))
            assert _green(shot, area) == 0, name
            buttons = [b.rect for b in getattr(getattr(screen, "menu", None), "buttons", [])]
            buttons += [getattr(screen, n).rect for n in ("close", "prev", "next")
                        if hasattr(screen, n)]
            _no_overlap(buttons, window)
            app.pop()
        for make in (HistoryScreen, StatusScreen):             # panels: opaque, in the window
            screen = app.push(make(app))
            shot = frame(app, tmp_path / "panel.png")
            assert window.contains(screen.rect) and _green(shot, screen.rect) == 0
            app.pop()
    finally:
        app.close()
