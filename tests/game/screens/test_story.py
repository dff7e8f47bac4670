"""The story screen, driven one frame at a time: picture, narration, choices, rollback, retelling."""

from __future__ import annotations

import threading

import pygame
from tests.support.game_helpers import (IMAGE_COLOUR, FailingNarrator, FakePainter, click, frame, key, make_app, motion,
                     read_to_choices, settle, start, typed, wheel)

from engine.story.graph import READY
from engine.session.jobs import ThreadedRunner


def _bright_pixels(surface, rect, threshold=200) -> int:
    count = 0
    for y in range(rect.top, rect.bottom, 2):
        for x in range(rect.left, rect.right, 2):
            r, g, b, *_ = surface.get_at((x, y))
            if min(r, g, b) >= threshold:
                count += 1
    return count


def test_story_screen_draws_picture_and_narration(app, tmp_path):
    session = start(app)
    assert session is not None and session.scene().status == READY
    settle(app, 60, dt=0.05)   # let the crossfade and typewriter finish
    shot = frame(app, tmp_path / "story.png")
    # the picture fills the frame: a pixel left of the choices, between title bar and text box
    r, g, b, *_ = shot.get_at((60, 300))
    assert abs(r - IMAGE_COLOUR[0]) < 12 and abs(g - IMAGE_COLOUR[1]) < 12
    # the text box holds light narration text
    assert _bright_pixels(shot, app.story.text_rect) > 150
    assert app.story.box.text.startswith(session.scene().current.narration[:40])


def test_choice_highlights_on_hover(app, tmp_path):
    start(app)
    read_to_choices(app)
    button = app.story.choices.buttons[1]
    app.step([motion((5, 5))], dt=0.01, present=False)
    before = frame(app, tmp_path / "before.png").get_at((button.rect.right - 8, button.rect.centery))
    app.step([motion(button.rect.center)], dt=0.01, present=False)
    assert button.lit
    after = frame(app, tmp_path / "after.png").get_at((button.rect.right - 8, button.rect.centery))
    assert before != after
    assert after[0] > before[0] + 20       # the warm hover fill


def test_choose_with_keys_and_mouse(app):
    session = start(app)
    root = session.current
    read_to_choices(app)
    first_label = session.choices()[0].label
    app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
    settle(app)
    assert session.scene().parent == root and session.scene().label == first_label
    second = session.current
    read_to_choices(app)
    target = session.choices()[1].id
    app.step(click(app.story.choices.buttons[1].rect.center), dt=0.01, present=False)
    settle(app)
    assert session.current == target and session.scene().parent == second
    read_to_choices(app)
    wanted = session.choices()[2].id
    app.step([key(pygame.K_DOWN), key(pygame.K_DOWN), key(pygame.K_DOWN), key(pygame.K_RETURN)],
             dt=0.01, present=False)
    settle(app)
    assert session.current == wanted
    assert session.turn == 3


def test_digit_reveals_then_chooses(app):
    session = start(app)
    root = session.current
    app.step([key(pygame.K_2, text="2")], dt=0.01, present=False)
    assert app.story.box.at_end and session.current == root
    app.step([key(pygame.K_2, text="2")], dt=0.01, present=False)
    settle(app)
    assert session.scene().parent == root


def test_typed_action_makes_a_new_branch(app):
    session = start(app)
    root = session.current
    read_to_choices(app)
    app.step([key(pygame.K_TAB)], dt=0.01, present=False)
    assert app.story.action.focused
    # hotkeys are text while the field has focus
    app.step([typed("look"), key(pygame.K_r, text="r"), typed(" at the frost")], dt=0.01,
             present=False)
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app)
    scene = session.scene()
    assert scene.parent == root and scene.free_text and scene.label == "look at the frost"
    assert len(session.scene(root).versions) == 1   # 'r' did not retell the scene


def test_rollback_steps_through_pages_then_scenes(script_app):
    app = script_app
    session = start(app)
    root = session.current
    read_to_choices(app)
    app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
    settle(app)
    child = session.current
    assert child != root
    read_to_choices(app)
    pages = len(app.story.box.pages)
    assert pages >= 2
    for _ in range(pages - 1):            # back through this scene's pages first
        app.step([wheel(1)], dt=0.01, present=False)
        assert session.current == child
    app.step([key(pygame.K_z, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    settle(app, 2)
    assert session.current == root
    assert app.story.choices_visible          # the scene we came back to shows its choices
    app.step([wheel(1)] * 10, dt=0.01, present=False)
    assert session.current == root            # nothing before the beginning
    assert any("beginning" in t.message for t in app.toasts.items)


def test_regenerate_keeps_versions_and_browses_them(script_app):
    app = script_app
    session = start(app)
    read_to_choices(app)
    app.step([key(pygame.K_r, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)   # choices shown
    settle(app)
    scene = session.scene()
    assert len(scene.versions) == 2 and scene.active == 1
    read_to_choices(app)
    app.step([key(pygame.K_LEFTBRACKET, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert session.scene().active == 0
    app.step([key(pygame.K_RIGHT)], dt=0.01, present=False)     # arrows type nothing
    assert session.scene().active == 1
    # the version arrows are buttons too
    settle(app, 2)
    app.step(click(app.story.versions[0].rect.center), dt=0.01, present=False)
    assert session.scene().active == 0


def test_streamed_text_and_indicators_show_while_working(config, tmp_path):
    """With real threads: text appears as the narrator streams it; the painter shows progress."""
    gate = threading.Event()

    class SlowNarrator:
        id, model = "slow", "slow-v1"

        def narrate(self, request, on_token=None):
            from tests.support.game_helpers import ScriptNarrator
            draft = ScriptNarrator(words=20).narrate(request, None)
            words = draft.narration.split(" ")
            for word in words[:5]:
                on_token(word + " ")
            gate.wait(10)
            for word in words[5:]:
                on_token(word + " ")
            return draft

    app = make_app(config.with_changes(game={"world": "hollow_orbit"}, prefetch={"enabled": False}),
                   tmp_path, narrator=SlowNarrator(), painter=FakePainter(delay=0.6),
                   runner_factory=ThreadedRunner)
    try:
        app.new_game()
        for _ in range(400):
            app.step([], dt=0.05, present=False)
            if app.session is not None and len(app.story.box.text.split()) >= 5:
                break
            app.session.runner.wait(0.01) if app.session else threading.Event().wait(0.01)
        assert app.session.waiting
        assert app.story.box.text.startswith("Scene 0 begins.")
        # the status line shows the narrator's pace: time to the first word, time so far
        status = app.story.status_message()
        assert status.startswith("the story continues") and "first word" in status
        timing = app.session.narration_timing()
        assert timing.first_word_s is not None and timing.finished_at is None
        assert status.endswith(" s") and f"first word {timing.first_word_s:.1f} s" in status
        shot = frame(app, tmp_path / "streaming.png")
        assert _bright_pixels(shot, app.story.text_rect) > 20   # streamed words are drawn
        gate.set()
        for _ in range(400):
            app.step([], dt=0.05, present=False)
            if not app.session.waiting:
                break
            app.session.runner.wait(0.01)
        assert app.session.scene().status == READY
        assert app.story.box.text == app.session.scene().current.narration
        assert app.story.status_message() == "the story continues"   # told: no clock running
        # the painter is at work: a progress bar until the picture arrives, then the picture
        app.step([], dt=0.05, present=False)
        assert app.story._painting_shown and app.image.current is None
        for _ in range(400):
            app.step([], dt=0.05, present=False)
            if app.image.current is not None:
                break
            app.session.runner.wait(0.01)
        app.step([], dt=0.05, present=False)
        assert app.image.key == app.session.scene().current.image_key
        assert not app.story._painting_shown
    finally:
        gate.set()
        app.close()


def test_narrator_failure_is_a_toast_and_play_goes_on(config, tmp_path):
    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=FailingNarrator())
    try:
        start(app)
        assert app.running
        assert any(t.kind == "error" and "did not answer" in t.message for t in app.toasts.items)
        # the story screen offers to try again or go back, and drawing still works
        labels = [b.label for b in app.story.choices.buttons]
        assert "Try again" in labels
        frame(app, tmp_path / "failed.png")
    finally:
        app.close()


def _ending_app(config, tmp_path):
    from engine.story.schema import SceneDraft
    from tests.support.game_helpers import ScriptNarrator

    class EndingNarrator(ScriptNarrator):
        def narrate(self, request, on_token=None):
            if request.node == 0:
                return super().narrate(request, on_token)
            return SceneDraft(title="The Light Goes Out", narration="The light goes out.",
                              ending=True)

    return make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                    narrator=EndingNarrator())


def test_an_ending_shows_a_closing_card_with_ways_on(config, tmp_path):
    from game.screens.title import TitleScreen, WorldPicker
    app = _ending_app(config, tmp_path)
    try:
        session = start(app)
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app)
        read_to_choices(app)
        assert session.ended and not app.story._wants_field()
        assert [b.label for b in app.story.choices.buttons] == ["Back to a choice", "New game",
                                                                "Title"]
        shot = frame(app, tmp_path / "ending.png")
        card = app.story.card_rect
        assert card.height > 0 and card.bottom <= app.story.box_rect.top
        assert _bright_pixels(shot, card, 180) > 40        # its heading, name and scene count
        for button in app.story.choices.buttons:           # the buttons sit inside the card
            assert card.contains(button.rect)
        # plain letters are hotkeys again here (no field): M opens the map
        app.step([key(pygame.K_m, text="m")], dt=0.01, present=False)
        assert type(app.top).__name__ == "MapScreen"
        app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
        app.step(click(app.story.choices.buttons[1].rect.center), dt=0.01, present=False)
        assert isinstance(app.top, WorldPicker)
        app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
        app.step(click(app.story.choices.buttons[0].rect.center), dt=0.01, present=False)
        settle(app, 2)
        assert session.current == session.graph.root and not session.ended
        assert app.story.choices_visible                   # back at the choice that led there
        app.step([wheel(-1)], dt=0.01, present=False)      # and the wheel goes to the ending again
        settle(app, 2)
        assert session.ended
        read_to_choices(app)
        app.step(click(app.story.choices.buttons[2].rect.center), dt=0.01, present=False)
        settle(app, 4)
        assert isinstance(app.top, TitleScreen) and not app.top.in_game and app.session is None
    finally:
        app.close()


def _type(app, text):
    """Type as a keyboard does: a key press, then its text."""
    events = []
    for char in text:
        code = pygame.key.key_code(char) if char != " " else pygame.K_SPACE
        events += [key(code, text=char), typed(char)]
    app.step(events, dt=0.01, present=False)


def test_typing_with_choices_shown_fires_no_hotkey(app):
    session = start(app)
    root = session.current
    read_to_choices(app)
    _type(app, "look")
    _type(app, " run")
    app.step([key(pygame.K_BACKSPACE)], dt=0.01, present=False)
    assert app.top is app.story                       # L did not open Load
    assert len(session.scene(root).versions) == 1     # R did not retell the scene
    assert session.current == root
    assert app.story.action.text == "look ru" and app.story.action.focused
    # a click outside the field, then Backspace: still no rollback, the field is edited
    app.step(click((5, app.story.box_rect.top - 40)), dt=0.01, present=False)
    assert not app.story.action.focused
    app.step([key(pygame.K_BACKSPACE), key(pygame.K_BACKSPACE)], dt=0.01, present=False)
    assert session.current == root and app.story.action.text == "look "
    _type(app, "x")
    assert app.story.action.text == "look x"
    # with a modifier the hotkeys still work
    app.step([key(pygame.K_l, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert type(app.top).__name__ == "SavesScreen"
    app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
    assert app.story.action.text == "look x"


def test_backspace_never_rolls_back(script_app):
    app = script_app
    session = start(app)
    read_to_choices(app)
    app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
    settle(app)
    child = session.current
    app.step([key(pygame.K_BACKSPACE)] * 5, dt=0.01, present=False)   # while reading
    read_to_choices(app)
    app.step([key(pygame.K_BACKSPACE)] * 5, dt=0.01, present=False)   # with choices shown
    assert session.current == child


def test_paste_and_the_length_counter(app, tmp_path):
    session = start(app)
    read_to_choices(app)
    pygame.scrap.put_text("climb the stair\nand listen")
    app.step([key(pygame.K_v, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    field = app.story.action
    assert field.focused and field.text == "climb the stair and listen"
    app.step([key(pygame.K_INSERT, mod=pygame.KMOD_SHIFT)], dt=0.01, present=False)
    assert field.text == "climb the stair and listenclimb the stair and listen"
    assert not field.counting                         # short text: no counter
    pygame.scrap.put_text("word " * 100)              # 500 characters: more than fit
    app.step([key(pygame.K_END), key(pygame.K_v, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
    assert len(field.text) == field.max_chars == 300 and field.refused > 0 and field.counting
    shot = frame(app, tmp_path / "counter.png")
    right = pygame.Rect(field.rect.right - 140, field.rect.y, 130, field.rect.height)
    reds = sum(1 for x in range(right.left, right.right) for y in range(right.top, right.bottom)
               if shot.get_at((x, y))[0] > 200 and shot.get_at((x, y))[1] < 170)
    assert reds > 20                                  # "300 / 300 full", in red
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app)
    assert session.scene().free_text and len(session.scene().label) <= 300


def test_wheel_rolls_forward_along_the_last_path_and_turns_follow(script_app):
    app = script_app
    session = start(app)
    path = [session.current]
    for choice in (2, 1, 3):
        read_to_choices(app)
        app.step([key(pygame.K_0 + choice, text=str(choice))], dt=0.01, present=False)
        settle(app)
        path.append(session.current)
    read_to_choices(app)
    assert app.story.turn == 3
    app.step([key(pygame.K_z, mod=pygame.KMOD_CTRL)] * 12, dt=0.01, present=False)
    settle(app, 2)
    assert session.current == path[0] and app.story.turn == 0     # the turn goes back too
    for expected in path[1:]:
        for _ in range(12):                       # through the pages, then on to the next scene
            app.step([wheel(-1)], dt=0.01, present=False)
            if session.current == expected:
                break
        assert session.current == expected
    assert app.story.turn == 3
    for _ in range(12):
        app.step([wheel(-1)], dt=0.01, present=False)
    assert session.current == path[-1]            # nothing beyond the last scene played


def test_a_typed_action_stays_offered_after_a_rollback(app):
    session = start(app)
    root = session.current
    read_to_choices(app)
    _type(app, "look at the frost")
    app.step([key(pygame.K_RETURN)], dt=0.01, present=False)
    settle(app)
    typed_node = session.current
    assert session.scene().free_text
    app.step([key(pygame.K_z, mod=pygame.KMOD_CTRL)] * 10, dt=0.01, present=False)
    settle(app, 2)
    assert session.current == root
    read_to_choices(app)
    labels = [b.label for b in app.story.choices.buttons]
    assert "\u201clook at the frost\u201d" in labels
    button = app.story.choices.buttons[labels.index("\u201clook at the frost\u201d")]
    app.step(click(button.rect.center), dt=0.01, present=False)
    settle(app, 2)
    assert session.current == typed_node


def test_status_panel_shows_place_items_people_and_visible_facts(config, tmp_path):
    from game.screens.status import StatusScreen, status_rows
    app = make_app(config.with_changes(game={"world": "lantern_coast"}), tmp_path)
    try:
        session = start(app)
        read_to_choices(app)
        _type(app, "i")                                 # with the field offered, I is text
        assert app.top is app.story and app.story.action.text == "i"
        app.step([key(pygame.K_i, mod=pygame.KMOD_CTRL)], dt=0.01, present=False)
        assert isinstance(app.top, StatusScreen)
        rows = dict(status_rows(session))
        state = session.state()
        assert rows["Location"].lower().replace(" ", "_") == state.location
        assert rows["Carrying"] == ", ".join(i.replace("_", " ").capitalize()
                                             for i in state.inventory)
        assert rows["Coins"] == str(state.flag("coin")) and "Clues found" in rows
        assert "maren_trust" not in " ".join(rows)      # facts the world keeps hidden
        shot = frame(app, tmp_path / "status.png")
        assert _bright_pixels(shot, app.top.rect, 200) > 200
        app.step([key(pygame.K_ESCAPE)], dt=0.01, present=False)
        assert app.top is app.story
        status = next(b for b in app.story.quick.buttons if b.label == "Status")
        app.step(click(status.rect.center), dt=0.01, present=False)
        assert isinstance(app.top, StatusScreen)
    finally:
        app.close()


def _accent_pixels(surface, rect, accent) -> int:
    count = 0
    for y in range(rect.top, rect.bottom):
        for x in range(rect.left, rect.right):
            r, g, b, *_ = surface.get_at((x, y))
            if abs(r - accent[0]) + abs(g - accent[1]) + abs(b - accent[2]) < 60:
                count += 1
    return count


def test_auto_advance_shows_a_lasting_badge_with_its_pace(script_app, tmp_path):
    app = script_app
    start(app)
    app.set_display(text_speed=0)
    frame(app, tmp_path / "off.png")
    assert app.story.auto_rect is None and app.story.auto_label() == ""
    app.step([key(pygame.K_a, text="a")], dt=0.01, present=False)
    assert app.config.display.auto_advance
    shot = frame(app, tmp_path / "auto.png")
    badge = app.story.auto_rect
    assert badge is not None and badge.top < app.story.box_rect.top        # in the title bar
    accent = app.theme.palette.accent
    assert _accent_pixels(shot, badge, accent) > 20, "the badge's edge and label are drawn in the accent"
    assert app.story.auto_label() == "auto \u00d71"
    app.set_display(auto_advance_speed=2.0)
    assert app.story.auto_label() == "auto \u00d72"
    for _ in range(200):                                    # the pages turn by themselves ...
        app.step([], dt=0.1, present=False)
        if app.story.choices_visible:
            break
    assert app.story.choices_visible
    shot = frame(app, tmp_path / "auto_choices.png")        # ... and the badge stays while it is on
    assert app.story.auto_rect is not None and _accent_pixels(shot, app.story.auto_rect, accent) > 20
    app.story.toggle_auto()
    frame(app, tmp_path / "auto_off.png")
    assert app.story.auto_rect is None
