"""Prefetch: the scenes behind the visible choices are told (and painted) while the player reads;
choosing one shows it at once; moving on cancels prefetch that is no longer wanted."""

import threading
import time

from engine.story.graph import GENERATING, READY, STUB
from engine.session.jobs import (NARRATE_CURRENT, PAINT_CURRENT, PREFETCH_NARRATE, InlineRunner,
                         ThreadedRunner)
from engine.narrators.storylets import StoryletNarrator
from engine.session.core import Session
from engine.session.narration import likeliest_first, prefetch_breadth


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


# -- the current scene never waits behind prefetch -------------------------------------------
class HeldNarrator(StoryletNarrator):
    """Streams like a language model and logs what it does. Scenes other than the opening and
    those in `free` stream until `release` is set, so a scene that had to wait behind one of
    them would never be told: the tests need no clock."""

    def __init__(self):
        super().__init__()
        self.log: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.streaming = threading.Event()     # a held scene is streaming
        self.free: set[int] = set()

    def _note(self, what, node):
        with self.lock:
            self.log.append((what, node))

    def narrate(self, request, on_token=None):
        node = request.node
        self._note("start", node)
        draft = super().narrate(request)
        held = not request.action.opening and node not in self.free
        count = 0
        while (held and not self.release.is_set()) or count < 5:
            if held:
                self.streaming.set()
            self.release.wait(0.005)
            self._note("token", node)
            on_token(" .")
            count += 1
        self._note("end", node)
        return draft


def _told(session, nodes, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.poll()
        if all(session.graph.scene(n).status == READY for n in nodes):
            return True
        session.runner.wait(0.02)
    return False


def _settle(session, timeout=30.0):
    """Poll until no job is queued, running or unreported (the timeout only guards a hang)."""
    deadline = time.monotonic() + timeout
    while not session.runner.idle and time.monotonic() < deadline:
        session.poll()
        session.runner.wait(0.02)
    session.poll()
    return session.runner.idle


def test_choosing_promotes_the_chosen_prefetch_and_cancels_the_rest(config):
    narrator = HeldNarrator()
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=narrator,
                          runner=ThreadedRunner())
    try:
        session.wait(timeout=30)
        siblings = [c.id for c in session.choices()]
        assert len(siblings) >= 3
        assert narrator.streaming.wait(10)             # one scene ahead is being told, held
        with narrator.lock:
            busy = narrator.log[-1][1]
        chosen = next(n for n in reversed(siblings) if n != busy)   # queued behind it
        assert session.graph.scene(chosen).status == GENERATING   # its prefetch is in hand
        narrator.free.add(chosen)
        session.choose(siblings.index(chosen))
        session.wait(timeout=30)                       # told while `busy` is still held
        assert session.current == chosen and session.scene().status == READY
        narrator.release.set()                         # whatever is still alive may finish now
        assert _settle(session)
        with narrator.lock:
            log = list(narrator.log)
        assert log.count(("start", chosen)) == 1       # the prefetch itself was promoted
        stale = [n for n in siblings if n != chosen]
        assert [session.graph.scene(n).status for n in stale] == [STUB] * len(stale)
        assert ("end", busy) not in log                # the running one stopped mid-stream
        queued = [n for n in stale if n != busy]
        assert queued and not any(("start", n) in log for n in queued)   # the rest never ran
        assert session.check_invariants() == []
    finally:
        narrator.release.set()
        session.close()


def test_retelling_the_current_scene_preempts_prefetch_which_resumes_after(config):
    narrator = HeldNarrator()
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=narrator,
                          runner=ThreadedRunner())
    try:
        session.wait(timeout=30)
        root = session.current
        first_choices = [c.id for c in session.choices()]
        assert narrator.streaming.wait(10)             # the scenes ahead are being told
        session.regenerate()
        session.wait(timeout=30)                       # told while prefetch is still held
        assert session.scene().status == READY and len(session.scene().versions) == 2
        with narrator.lock:
            log = list(narrator.log)
        begin = max(i for i, e in enumerate(log) if e == ("start", root))
        end = max(i for i, e in enumerate(log) if e == ("end", root))
        assert all(node == root for _, node in log[begin:end])   # nothing else ran meanwhile
        stopped = log[begin - 1][1]                    # the prefetch that handed over
        assert stopped in first_choices
        narrator.release.set()
        assert _told(session, first_choices)
        with narrator.lock:
            resumed = narrator.log.index(("start", stopped), begin)
        assert resumed > end                           # it ran again after the retelling
    finally:
        narrator.release.set()
        session.close()


def test_choosing_an_untold_choice_stops_prefetch_at_once(config):
    narrator = HeldNarrator()
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=narrator,
                          runner=ThreadedRunner())
    try:
        session.wait(timeout=30)
        choices = [c.id for c in session.choices()]
        assert narrator.streaming.wait(10)
        with narrator.lock:
            busy = narrator.log[-1][1]                 # the prefetch being told now
        other = next(n for n in choices if n != busy)
        narrator.free.add(other)
        session.choose(choices.index(other))
        session.wait(timeout=30)                       # never waits for the held prefetch
        assert session.current == other and session.scene().status == READY
        with narrator.lock:
            log = list(narrator.log)
        began = log.index(("start", other))
        assert ("token", busy) not in log[began:]      # the stale prefetch stopped for good
    finally:
        narrator.release.set()
        session.close()


def test_urgent_work_is_not_stuck_behind_busy_workers():
    """One worker paints the current picture, the other waits to prefetch: a scene the player
    asks for then has no worker. The painting hands over at its next step."""
    runner = ThreadedRunner(workers=2)
    release = threading.Event()
    started = threading.Event()

    def held(job):
        started.set()
        while not release.is_set():
            job.emit("progress", 0.5)
            release.wait(0.005)
        return "held"

    try:
        runner.submit(held, PREFETCH_NARRATE, "narrate", key="ahead")
        assert started.wait(10)
        started.clear()
        runner.submit(held, PAINT_CURRENT, "paint", key="picture")
        assert started.wait(10)                        # the painting holds the device now
        urgent = runner.submit(lambda job: "told", NARRATE_CURRENT, "narrate", key="chosen")
        deadline = time.monotonic() + 30
        while urgent.status != "done" and time.monotonic() < deadline:
            runner.poll()
            runner.wait(0.02)
        assert urgent.status == "done" and not release.is_set()
    finally:
        release.set()
        runner.shutdown()


# -- how much to tell ahead ------------------------------------------------------------------
class _Model:
    def __init__(self, id="transformers", device=None):
        self.id, self.model = id, "m"
        if device is not None:
            self._device = device


def test_prefetch_breadth_follows_the_device_and_the_measured_speed():
    assert prefetch_breadth(StoryletNarrator(), 4, None) == 4          # instant
    assert prefetch_breadth(StoryletNarrator(), 0, None) == 0          # prefetch breadth 0
    assert prefetch_breadth(_Model(device="cuda"), 4, 30.0) == 4       # a GPU
    assert prefetch_breadth(_Model(device="cuda:0"), 3, None) == 3
    assert prefetch_breadth(_Model(device="mps"), 4, None) == 4
    assert prefetch_breadth(_Model(device="cpu"), 4, None) == 1        # not measured yet
    assert prefetch_breadth(_Model(device="cpu"), 4, 30.0) == 1        # slow: the likeliest
    assert prefetch_breadth(_Model(device="cpu"), 4, 4.0) == 2
    assert prefetch_breadth(_Model(device="cpu"), 4, 2.0) == 4
    assert prefetch_breadth(_Model(device="cpu"), 2, 0.5) == 2         # breadth is the bound
    assert prefetch_breadth(_Model("openai"), 4, None) == 1            # a server: measured
    assert prefetch_breadth(_Model("openai"), 4, 1.0) == 4
    assert prefetch_breadth(_Model(), 4, None) == 1                    # not loaded yet


def test_the_likeliest_choice_follows_the_players_habits():
    from collections import Counter
    from engine.story.graph import Scene
    choices = [Scene(id=i, parent=0, intent=intent)
               for i, intent in enumerate(("explore", "talk", "fight", "talk"))]
    assert [c.id for c in likeliest_first(choices, Counter())] == [0, 1, 2, 3]
    habits = Counter({"talk": 3, "fight": 1})
    assert [c.id for c in likeliest_first(choices, habits)] == [1, 3, 2, 0]


class _ClockedModel:
    """A model narrator on some device whose every scene takes `seconds` of a fake clock."""

    id, model = "transformers", "clocked"

    def __init__(self, clock, seconds, device="cpu"):
        self.clock, self.seconds, self._device = clock, seconds, device
        self.nodes = []

    def narrate(self, request, on_token=None):
        from engine.story.schema import ChoiceDraft, SceneDraft
        self.nodes.append(request.node)
        self.clock[0] += self.seconds
        return SceneDraft(title="A scene", narration="The tide turns. " * 10,
                          choices=[ChoiceDraft(label=f"Way {w}", intent=intent)
                                   for w, intent in (("north", "travel"), ("to talk", "talk"),
                                                     ("to fight", "fight"))])


def _ahead(session):
    while not session.runner.idle:
        session.poll()
    return [c for c in session.choices() if c.status == READY]


def test_a_slow_cpu_model_tells_only_the_likeliest_choice_ahead(config, monkeypatch):
    from engine.session import narration as session_narration
    clock = [0.0]
    monkeypatch.setattr(session_narration, "monotonic", lambda: clock[0])
    model = _ClockedModel(clock, seconds=30.0)
    session = Session.new(config.with_changes(game={"painter": "none"}), narrator=model,
                          runner=InlineRunner())
    session.wait()                                   # the authored opening: nothing measured
    ahead = _ahead(session)
    assert len(ahead) == 1 and ahead[0].id == session.choices()[0].id
    session.choose(0)
    session.wait()
    talk = next(i for i, c in enumerate(session.choices()) if c.intent == "talk")
    session.choose(talk)                             # a scene the model told (30 s each)
    session.wait()
    session.choose(talk)
    session.wait()
    ahead = _ahead(session)
    assert [c.intent for c in ahead] == ["talk"]    # the player's habit, told alone


def test_a_fast_or_gpu_model_tells_every_choice_ahead(config, monkeypatch):
    from engine.session import narration as session_narration
    clock = [0.0]
    monkeypatch.setattr(session_narration, "monotonic", lambda: clock[0])
    for model in (_ClockedModel(clock, seconds=30.0, device="cuda"),
                  _ClockedModel(clock, seconds=1.0)):
        session = Session.new(config.with_changes(game={"painter": "none"}), narrator=model,
                              runner=InlineRunner(), slot=f"s{model.seconds}")
        session.wait()
        _ahead(session)
        session.choose(0)
        session.wait()                               # now measured
        assert len(_ahead(session)) == len(session.choices()) == 3
