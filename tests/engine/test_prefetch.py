"""Prefetch: the scenes behind the visible choices are told (and painted) while the player reads;
choosing one shows it at once; moving on cancels prefetch that is no longer wanted."""

import threading
import time

from engine.graph import READY
from engine.jobs import InlineRunner, ThreadedRunner
from engine.narrators.storylets import StoryletNarrator
from engine.session import Session


def test_choices_are_told_ahead_and_appear_at_once(config):
    session = Session.new(config, runner=InlineRunner())
    session.wait()
    while not session.runner.idle:                   # prefetch runs (inline): tell, then paint
        session.poll()
    children = session.choices()
    assert children and all(c.status == READY for c in children)
    assert all(c.current.image_key for c in children)  # painted ahead too
    session.choose(0)
    assert not session.waiting                        # no narration needed: shown at once
    assert session.image() is not None or session.scene().current.image_key


def test_prefetch_off_tells_nothing_ahead(config):
    session = Session.new(config.with_changes(prefetch={"enabled": False}, game={"painter": "none"}),
                          runner=InlineRunner())
    session.wait()
    session.poll()
    assert all(c.status != READY for c in session.choices())


class SlowNarrator(StoryletNarrator):
    """The storylet narrator, streaming slowly like a language model."""

    def __init__(self):
        super().__init__()
        self.started = []
        self.lock = threading.Lock()

    def narrate(self, request, on_token=None):
        with self.lock:
            self.started.append(request.node)
        draft = super().narrate(request)
        for _ in range(40):
            time.sleep(0.01)
            if on_token:
                on_token(" .")
        return draft


def test_choosing_promotes_the_chosen_prefetch_and_cancels_the_rest(config):
    narrator = SlowNarrator()
    runner = ThreadedRunner()
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=narrator,
                          runner=runner)
    session.wait(timeout=30)
    siblings = [c.id for c in session.choices()]
    time.sleep(0.05)                                  # prefetch has started on the first child
    session.choose(len(siblings) - 1)                 # pick the last: still queued or running
    chosen = session.current
    session.wait(timeout=30)
    assert session.scene().status == READY and session.current == chosen
    time.sleep(0.3)
    session.poll()
    stale = [n for n in siblings if n != chosen]
    told_stale = [n for n in stale if session.graph.scene(n).status == READY]
    # the chosen scene jumped the queue: at most the one sibling already running was finished
    assert len(told_stale) <= 1
    assert all(session.graph.scene(n).status in ("stub", READY) for n in stale)
    runner.shutdown()


def test_coming_back_to_a_scene_whose_prefetch_was_dropped_still_tells_it(config):
    runner = ThreadedRunner()
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=SlowNarrator(),
                          runner=runner)
    session.wait(timeout=30)
    session.choose(0)
    session.wait(timeout=30)              # at A; A's choices are being prefetched (slowly)
    a = session.current
    session.back()                        # A's prefetch is now stale and cancelled
    session.jump(a)                       # ... and the player comes straight back
    session.choose(0)                     # the chosen scene's job may be the cancelled one
    session.wait(timeout=30)
    assert session.scene().status == READY
    runner.shutdown()
