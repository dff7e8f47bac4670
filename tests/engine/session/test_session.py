"""The Session drives a real story: storylet narrator, inline runner, real saves."""

import pytest

from engine.errors import DreamreelError
from engine.story.graph import READY
from engine.session.jobs import InlineRunner
from engine.narrators.storylets import StoryletNarrator
from engine.story.schema import ChoiceDraft, Effects, SceneDraft
from engine.session.core import Session


@pytest.fixture
def session(config):
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner())
    session.wait()
    return session


def test_a_new_game_opens_on_the_worlds_start(session):
    scene = session.scene()
    assert scene.status == READY
    assert scene.current.source == session.world.start
    assert 2 <= len(session.choices()) <= 4


def test_choosing_moves_forward_and_back_rolls_back(session):
    root = session.current
    first_label = session.choices()[0].label
    session.choose(0)
    session.wait()
    assert session.scene().parent == root
    assert session.scene().label == first_label
    assert session.turn == 1
    assert session.back()
    assert session.current == root
    assert not session.back()


def test_free_text_becomes_a_new_branch(session):
    root = session.current
    scene = session.act("I ask the old keeper about the bell")
    session.wait()
    assert scene.free_text and scene.parent == root
    assert session.scene().status == READY
    assert scene.id not in [c.id for c in session.graph.choices(root)]


def test_regenerate_keeps_the_old_version(session):
    session.choose(0)
    session.wait()
    node = session.current
    old = session.scene().current.narration
    session.regenerate()
    session.wait()
    scene = session.scene()
    assert len(scene.versions) == 2 and scene.active == 1
    assert scene.versions[0].narration == old
    session.select_version(0)
    assert session.scene().current.narration == old
    assert session.current == node


def test_jump_only_to_told_scenes(config):
    session = Session.new(config.with_changes(game={"painter": "none"}, prefetch={"enabled": False}),
                          runner=InlineRunner())
    session.wait()
    root = session.current
    session.choose(0)
    session.wait()
    stub = session.choices()[0]
    with pytest.raises(DreamreelError):
        session.jump(stub.id)
    session.jump(root)
    assert session.current == root


def test_same_seed_same_story(config):
    def play():
        s = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                        slot="x")
        s.wait()
        titles = []
        for turn in range(12):
            if s.ended:
                s.back()
            s.choose(turn % len(s.choices()))
            s.wait()
            titles.append(s.scene().current.narration)
        return titles

    assert play() == play()


def test_autosave_resumes_where_it_stopped(config, session):
    for _ in range(5):
        if session.ended:
            session.back()
        session.choose(1 if len(session.choices()) > 1 else 0)
        session.wait()
    where, text = session.current, session.scene().current.narration
    session.flush_saves()
    resumed = Session.resume(session.config, runner=InlineRunner())
    resumed.wait()
    assert resumed.current == where
    assert resumed.scene().current.narration == text
    assert len(resumed.graph) == len(session.graph)
    assert resumed.state() == session.state()


def test_named_save_and_load(session):
    session.choose(0)
    session.wait()
    session.save("chapter one")
    where = session.current
    session.back()
    session.flush_saves()
    loaded = Session.resume(session.config, "chapter one", runner=InlineRunner())
    assert loaded.current == where
    assert [m.name for m, _, _ in loaded.store.list() if m] .count("chapter one") == 1


def test_a_failing_narrator_marks_the_scene_and_play_goes_on(config):
    class Broken:
        id, model = "broken", "x"

        def narrate(self, request, on_token=None):
            raise RuntimeError("out of memory")

    from engine.narrators.storylets import StoryletNarrator
    session = Session.new(config.with_changes(game={"painter": "none"}, prefetch={"enabled": False}),
                          runner=InlineRunner())
    session.wait()
    session.narrator = Broken()
    session.choose(0)
    events = session.wait()
    assert session.scene().status == "failed"
    assert any(e.kind == "error" and "out of memory" in e.payload for e in events)
    session.narrator = StoryletNarrator()
    session.regenerate()
    session.wait()
    assert session.scene().status == READY


def test_characters_keep_their_recorded_appearance(config):
    session = Session.new(config, runner=InlineRunner())
    session.wait()
    for turn in range(30):
        if session.state().present:
            break
        if session.ended:
            session.back()
        session.choose(turn % len(session.choices()))
        session.wait()
    present = session.state().present
    assert present, "no character appeared in 30 turns"
    sheet = session.world.characters[present[0]]
    assert sheet.appearance in session.image_prompt()
    assert session.characters[present[0]].startswith(sheet.name)
    session.flush_saves()
    resumed = Session.resume(session.config, runner=InlineRunner())
    assert resumed.characters == session.characters
    assert resumed.image_prompt() == session.image_prompt()


def test_characters_the_story_invents_get_a_stable_seeded_appearance(config, session):
    from engine.story.appearance import appearance_for
    first = appearance_for(session.world, "stranger_on_the_quay", 5)
    assert first == appearance_for(session.world, "stranger_on_the_quay", 5)
    assert "Stranger On The Quay" in first


def test_a_damaged_autosave_falls_back_to_its_newest_backup(config):
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner())
    session.wait()
    for turn in range(70):                      # enough autosaves to compact once
        if session.ended:
            session.back()
        session.choose(turn % len(session.choices()))
        session.wait()
    session.flush_saves()
    folder = session.store.slot_dir(session.slot)
    assert (folder / "story.json.1").exists()
    (folder / "story.json").write_bytes(b"{\"format\": \"dreamreel-sa")   # damaged
    session.flush_saves()
    resumed = Session.resume(session.config, runner=InlineRunner())
    events = resumed.wait()
    assert resumed.graph.scene(resumed.current).status == READY
    assert any("backup" in e.payload for e in events if e.is_message)
    assert len(resumed.graph) > 10              # the story survived, not a new game


def test_editing_the_world_while_playing_changes_the_next_scene(config, tmp_path, monkeypatch):
    import functools
    import os
    import shutil
    from engine.worlds import watch
    from engine.worlds.loading import BUILTIN_WORLDS
    now = [0.0]                                       # the watcher's clock: no sleeping
    monkeypatch.setattr(watch, "WorldWatcher",
                        functools.partial(watch.WorldWatcher, clock=lambda: now[0]))

    def edit(path, text):                             # a newer modification time, explicitly
        before = path.stat().st_mtime_ns
        path.write_text(text)
        after = path.stat()
        os.utime(path, ns=(after.st_atime_ns, max(after.st_mtime_ns, before) + 1_000_000_000))

    def polls_until(wanted, limit=10):               # the watcher scans once per interval
        events = []
        for _ in range(limit):
            now[0] += watch.POLL_INTERVAL_S
            events += session.poll()
            if any(wanted(e) for e in events):
                break
        return events

    world_dir = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", world_dir)
    session = Session.new(config.with_changes(game={"world": str(world_dir), "painter": "none"}),
                          runner=InlineRunner())
    session.wait()
    session.poll()                                    # the next scenes are prefetched (told)
    assert session.choices()[0].status == READY
    start = session.world.storylets[session.world.start]
    target = start.spec.choices[0].goto
    story = world_dir / session.world.storylets[target].file
    text = story.read_text()
    edit(story, text.replace(f'id = "{target}"\ntitle = "',
                             f'id = "{target}"\ntitle = "Edited: ', 1))
    events = polls_until(lambda e: e.kind == "notice")
    assert any(e.kind == "notice" and "reloaded" in e.payload.lower() for e in events)
    session.choose(0)
    session.wait()
    assert session.scene().current.title.startswith("Edited: ")
    edit(story, "[[storylet]]\nid = \"broken\n")      # a broken edit keeps the last good world
    events = polls_until(lambda e: "last good version" in str(e.payload))
    assert any("last good version" in str(e.payload) for e in events)
    assert target in session.world.storylets


def test_retelling_picks_another_storylet_when_one_fits(session):
    session.choose(0)
    session.wait()
    first = session.scene().current.source
    session.regenerate()
    session.wait()
    assert session.scene().current.source != first


def test_long_stories_give_narrators_a_summary_and_a_bounded_recent_window(config):
    seen = []

    class Recorder(StoryletNarrator):
        def narrate(self, request, on_token=None):
            seen.append(request)
            return super().narrate(request, on_token)

    session = Session.new(config.with_changes(game={"painter": "none"}, prefetch={"enabled": False}),
                          narrator=Recorder(), runner=InlineRunner())
    session.wait()
    for turn in range(30):
        if session.ended:
            session.back()
        session.choose(turn % len(session.choices()))
        session.wait()
    last = seen[-1]
    assert 6 <= len(last.recent) <= 13
    assert last.summary and last.recent[0].title not in last.summary.splitlines()[-1:]
    summaries = [r.summary for r in seen[-6:]]
    assert len(set(summaries)) <= 2            # the summary moves only every 8 scenes


# -- language model narrators: the authored opening, effects checked, timings ------------------
class FakeModel:
    """Stands in for a language model narrator (its id is one): tells numbered scenes with the
    effects it is given and records which scenes it was asked for."""

    id, model = "transformers", "fake-lm"

    def __init__(self, effects=None):
        self.effects = effects or Effects()
        self.nodes = []

    def narrate(self, request, on_token=None):
        self.nodes.append(request.node)
        request.extras["prompt"] = f"prompt for scene {request.node}"
        text = f"Scene {request.node}, as a model tells it. " * 4
        if on_token:
            for word in text.split(" "):
                on_token(word + " ")
        return SceneDraft(title=f"Scene {request.node}", narration=text.strip(),
                          choices=[ChoiceDraft(label="Walk on along the quay", intent="travel"),
                                   ChoiceDraft(label="Ask Maren about the bell", intent="talk")],
                          effects=self.effects)


def _model_session(config, narrator, **changes):
    changes = {"game": {"painter": "none"}, "prefetch": {"enabled": False}, **changes}
    return Session.new(config.with_changes(**changes), narrator=narrator, runner=InlineRunner())


def test_a_language_model_opens_with_the_worlds_authored_opening(config):
    model = FakeModel()
    session = _model_session(config, model)
    session.wait()
    opening = session.scene()
    assert model.nodes == []                         # the model never wrote the opening
    assert opening.current.source == session.world.start
    assert opening.current.author.startswith("storylets:")
    assert session.prompt_for() is None              # no prompt: nothing was asked of a model
    authored = opening.current.narration
    session.choose(0)
    session.wait()
    assert model.nodes == [session.current]          # the model tells the story from there
    assert session.scene().current.author == "transformers:fake-lm"
    session.back()
    session.regenerate()                             # another telling: the model's own
    session.wait()
    assert model.nodes[-1] == opening.id and len(opening.versions) == 2
    assert opening.current.author == "transformers:fake-lm"
    session.select_version(0)                        # the authored opening is kept
    assert session.scene().current.narration == authored


def test_worlds_without_a_start_and_other_narrators_tell_their_own_opening(config, tmp_path):
    import shutil
    from engine.worlds.loading import BUILTIN_WORLDS
    world_dir = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", world_dir)
    toml = world_dir / "world.toml"
    toml.write_text(toml.read_text().replace('start = "arrival"\n', ""))
    model = FakeModel()
    session = _model_session(config, model, game={"painter": "none", "world": str(world_dir)})
    session.wait()
    assert model.nodes == [session.current]
    assert session.scene().current.author == "transformers:fake-lm"

    class Scripted(FakeModel):                       # not a language model: tells its opening
        id = "script"

    scripted = Scripted()
    session = _model_session(config, scripted)
    session.wait()
    assert scripted.nodes == [session.current]


def test_a_models_effects_are_checked_against_the_world(config):
    junk = Effects(adjust={"rebel: ": 2038141759605623, "maren_trust": 40}, set_flags={"": ""},
                   characters_enter=["You", "Maren Holt"], location="Atlantis")
    session = _model_session(config, FakeModel(effects=junk))
    session.wait()
    before = session.state()
    session.choose(0)
    session.wait()
    state = session.state()
    assert state.present == before.present + ("maren",)
    assert state.location == before.location
    assert state.flag("maren_trust") == before.flag("maren_trust") + 3
    assert not any(name.startswith("rebel") or not name for name in state.flags)
    recorded = session.scene().current.effects     # what is saved is what was applied
    assert recorded == {"adjust": {"maren_trust": 3}, "characters_enter": ["maren"]}
    notes = session.prompt_for()["effects_dropped"]
    assert any("rebel" in n for n in notes) and any("Atlantis" in n for n in notes)


def test_narration_timings_are_noted_as_the_words_arrive(config, monkeypatch):
    import threading
    from engine.session import narration as session_narration
    from engine.session.jobs import ThreadedRunner

    now = [100.0]
    monkeypatch.setattr(session_narration, "monotonic", lambda: now[0])
    gate = threading.Event()

    class Gated(FakeModel):
        id = "script"

        def narrate(self, request, on_token=None):
            on_token("Once ")
            gate.wait(10)
            return super().narrate(request, on_token)

    runner = ThreadedRunner()
    session = Session.new(config.with_changes(game={"painter": "none"},
                                              prefetch={"enabled": False}),
                          narrator=Gated(), runner=runner)
    try:
        now[0] = 101.25                               # the first word arrives 1.25 s later
        for _ in range(500):
            if session.poll() or session.stream_text():
                break
            runner.wait(0.01)
        timing = session.narration_timing()
        assert timing.first_word_s == 1.25 and timing.finished_at is None
        assert session.narration_timing() is timing  # reading it changes nothing
        assert timing.describe(now=103.0) == "first word 1.2 s · 3.0 s"
        now[0] = 106.3
        gate.set()
        session.wait(timeout=30)
        timing = session.narration_timing()
        assert timing.scene_s() == pytest.approx(6.3)
        assert timing.describe() == "first word 1.2 s · 6.3 s"
    finally:
        gate.set()
        runner.shutdown()


# -- hardening: never hang, never leak, never stitch (issue 11) -------------------------------
class HeldPrefetch(StoryletNarrator):
    """The storylet narrator, but every scene after the opening is held until released (it
    yields between waits, so it can be cancelled): prefetch is 'generating' while held."""

    def __init__(self):
        super().__init__()
        import threading
        self.release = threading.Event()

    def narrate(self, request, on_token=None):
        while request.node != 0 and not self.release.wait(0.01):
            if on_token:
                on_token("")
        return super().narrate(request, on_token)


def _steps_checked(session):
    problems = session.check_invariants()
    assert problems == [], problems


def test_a_save_taken_while_prefetch_narrates_loads_and_every_choice_is_told(config):
    """Finding 1: scenes saved as 'generating' stranded the player after a load."""
    import json
    from engine.session.jobs import ThreadedRunner
    cfg = config.with_changes(game={"painter": "none"})
    held = HeldPrefetch()
    session = Session.new(cfg, narrator=held, runner=ThreadedRunner(), slot="first")
    session.wait(timeout=30)
    assert session.scene().status == READY
    waiting = [c.id for c in session.choices() if c.status == "generating"]
    assert waiting, "prefetch should be narrating the choices"
    session.save("s")
    folder = session.store.slot_dir("s")
    session.close()
    held.release.set()
    story = json.loads((folder / "story.json").read_text())
    assert all(s.get("status") != "generating" for s in story["scenes"])   # never saved as such
    # A save written before this fix holds them as 'generating': they must load as stubs.
    for scene in story["scenes"]:
        if scene["id"] in waiting:
            scene["status"] = "generating"
    (folder / "story.json").write_text(json.dumps(story))
    for index in range(len(waiting)):
        resumed = Session.resume(cfg, "s", runner=ThreadedRunner(), slot=f"again{index}")
        try:
            _steps_checked(resumed)
            resumed.choose(index)
            _steps_checked(resumed)
            resumed.wait(timeout=10)
            assert resumed.scene().status == READY, "the choice was never told (a hang)"
            _steps_checked(resumed)
            resumed.back()
            resumed.regenerate()
            resumed.wait(timeout=10)
            _steps_checked(resumed)
        finally:
            resumed.close()


def test_taking_a_scene_that_nothing_tells_starts_its_telling(session):
    """Finding 1: a 'generating' scene whose job was lost is told when taken (and :regen tells
    the current one), instead of a wait that spins for ten minutes."""
    target = session.choices()[0]
    target.status = "generating"              # as if its job were lost
    session.narration.tellings.pop(target.id, None)
    assert session.check_invariants()          # the check sees the stranded scene
    session.choose(0)
    session.wait(timeout=5)
    assert session.scene().status == READY
    assert session.check_invariants() == []
    session.scene().status = "generating"      # the current scene, stranded
    session.regenerate()
    session.wait(timeout=5)
    assert session.scene().status == READY and len(session.scene().versions) == 2


def _open_fds() -> int:
    import os
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_a_hundred_loads_leave_no_threads_or_open_files_behind(config):
    """Finding 2: every :load leaked the saver thread (and the story it held)."""
    import threading
    from engine.session.jobs import ThreadedRunner
    cfg = config.with_changes(game={"painter": "none"})
    session = Session.new(cfg, runner=ThreadedRunner())
    session.wait(timeout=30)
    session.choose(0)
    session.wait(timeout=30)
    session.save("s")

    def load_again(old):
        new = Session.resume(cfg, "s", runner=ThreadedRunner(), slot=old.slot)
        new.wait(timeout=30)
        old.close()
        return new

    def savers() -> int:      # other tests' stories may still be open in this process
        return [t.name for t in threading.enumerate()].count("dreamreel-saver")

    session = load_again(session)               # warm-up: everything is made once
    threads, fds, saver_threads = threading.active_count(), _open_fds(), savers()
    for _ in range(100):
        session = load_again(session)
        assert session.scene().status == READY
    names = [t.name for t in threading.enumerate()]
    assert savers() <= saver_threads, names
    assert threading.active_count() <= threads, names
    assert _open_fds() <= fds
    runner = session.runner
    session.close()
    assert not session.saving.saver_alive
    assert not any(thread.is_alive() for thread in runner._threads)


def test_a_failed_save_says_so_and_leaves_the_slot_as_it_was(session, monkeypatch):
    """Finding 5: a :save on a full disk left a fake damaged slot and a temp file behind."""
    import os
    from engine.errors import SaveError
    session.save("kept")
    before = session.store.read("kept").snapshot["scenes"]
    session.choose(0)
    session.wait()
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    session.flush_saves()
    monkeypatch.setattr(os, "fsync", full)
    for name in ("kept", "brand new"):
        with pytest.raises(SaveError, match="full"):
            session.save(name)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert not session.store.slot_dir("brand new").exists()
    assert [name for _, name, _ in session.store.list()].count("brand new") == 0
    assert all(problem == "" for _, _, problem in session.store.list())
    folder = session.store.slot_dir("kept")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
    assert session.store.read("kept").snapshot["scenes"] == before


def test_a_story_seed_past_64_bits_is_kept_in_range_and_saves(config):
    """Finding 7: a seed over 64 bits was taken, and then no save could ever be written."""
    from engine.errors import ConfigError
    with pytest.raises(ConfigError, match="seed"):
        config.with_changes(game={"seed": 2**70})
    from engine.story.seeds import SEED_MAX
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                          seed=2**70)
    session.wait()
    assert 0 < session.seed <= SEED_MAX
    assert session.flush_saves()
    session.save("big")
    same = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                       seed=2**70, slot="other")
    assert same.seed == session.seed                 # hashed the same way every time
    assert Session.resume(session.config, "big", runner=InlineRunner(),
                          slot="third").seed == session.seed


def test_an_interrupted_save_is_recovered_and_called_what_it_was(session):
    """Finding 12: a crash during the snapshot rotation recovered the story but said
    'story.json was damaged'."""
    import os
    session.choose(0)
    session.wait()
    session.save("s")
    session.choose(0)
    session.wait()
    where = session.current
    session.save("s")                     # a second save: story.json.1 exists
    folder = session.store.slot_dir("s")
    data = (folder / "story.json").read_bytes()
    # Kill the save between its renames: story.json already moved to the backup, the new
    # snapshot written in full beside it.
    os.replace(folder / "story.json", folder / "story.json.1")
    os.replace(folder / "journal.jsonl", folder / "journal.jsonl.1")
    (folder / ".story.json.new").write_bytes(data)
    resumed = Session.resume(session.config, "s", runner=InlineRunner(), slot="other")
    events = resumed.poll()
    messages = [e.payload for e in events if e.is_message]
    assert resumed.current == where
    assert any("interrupted save" in m for m in messages), messages
    assert not any("damaged" in m for m in messages), messages
    assert not any(e.kind == "error" for e in events)


def test_a_saves_world_is_found_only_inside_the_worlds_folders(config, tmp_path):
    """Finding 12: a save whose world.path points outside the worlds folder was loaded from
    there."""
    import shutil
    from engine.errors import SaveError
    from engine.worlds.loading import BUILTIN_WORLDS, load_world
    outside = tmp_path / "elsewhere" / "faraway"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", outside)
    cfg = config.with_changes(game={"painter": "none"})
    session = Session.new(cfg, world=load_world(outside), runner=InlineRunner())
    session.wait()
    session.save("far")
    with pytest.raises(SaveError, match="outside the worlds folders"):
        Session.resume(cfg, "far", runner=InlineRunner(), slot="x")
    # The folder the player names (--world) is trusted, and so is the installed worlds folder.
    chosen = cfg.with_changes(game={"world": str(outside)})
    assert Session.resume(chosen, "far", runner=InlineRunner(), slot="y").world.id == "faraway"
    shutil.copytree(outside, cfg.worlds_dir / "faraway")
    assert Session.resume(cfg, "far", runner=InlineRunner(), slot="z").world.root == \
        (cfg.worlds_dir / "faraway").resolve()
