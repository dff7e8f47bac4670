"""The story screen, driven one frame at a time: picture, narration, choices, rollback, retelling."""

from __future__ import annotations

import threading

import pygame
from helpers import (IMAGE_COLOUR, FailingNarrator, FakePainter, click, frame, key, make_app, motion,
                     read_to_choices, settle, start, typed, wheel)

from engine.graph import READY
from engine.jobs import ThreadedRunner


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
    app.step([key(pygame.K_r, text="r")], dt=0.01, present=False)
    settle(app)
    scene = session.scene()
    assert len(scene.versions) == 2 and scene.active == 1
    app.step([key(pygame.K_LEFTBRACKET, text="[")], dt=0.01, present=False)
    assert session.scene().active == 0
    app.step([key(pygame.K_RIGHTBRACKET, text="]")], dt=0.01, present=False)
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
            from helpers import ScriptNarrator
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


def test_an_ending_offers_a_way_back(config, tmp_path):
    from engine.schema import SceneDraft
    from helpers import ScriptNarrator

    class EndingNarrator(ScriptNarrator):
        def narrate(self, request, on_token=None):
            if request.node == 0:
                return super().narrate(request, on_token)
            return SceneDraft(title="The End", narration="The light goes out.", ending=True)

    app = make_app(config.with_changes(game={"world": "hollow_orbit"}), tmp_path,
                   narrator=EndingNarrator())
    try:
        session = start(app)
        read_to_choices(app)
        app.step([key(pygame.K_1, text="1")], dt=0.01, present=False)
        settle(app)
        read_to_choices(app)
        assert session.ended and not app.story._wants_field()
        labels = [b.label for b in app.story.choices.buttons]
        assert labels[0].startswith("Go back")
        frame(app, tmp_path / "ending.png")
        app.step(click(app.story.choices.buttons[0].rect.center), dt=0.01, present=False)
        settle(app, 2)
        assert session.current == session.graph.root and not session.ended
    finally:
        app.close()
