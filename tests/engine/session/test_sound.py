"""The Session's sound part: which music and lines each scene gets, from the cache on the way
back, read while a narrator still streams, and off until a front end asks."""

from __future__ import annotations

import threading
import time

import pytest

import engine.session.sound as session_sound
from engine.audio.music import make_composer, track_key
from engine.audio.voices import lines, make_voice, voice_key
from engine.events import EventKind
from engine.session.core import Session
from engine.session.jobs import InlineRunner, ThreadedRunner
from engine.story.graph import GENERATING, READY
from engine.story.schema import ChoiceDraft, SceneDraft

pytest.importorskip("espeakng_loader", reason="the voice reads with espeak-ng from its wheel")


@pytest.fixture(autouse=True)
def short_music(monkeypatch):
    monkeypatch.setattr(session_sound, "MUSIC_SECONDS", 6.0)


def sound_config(config, **audio):
    return config.with_changes(game={"painter": "none"},
                               audio={"read_aloud": True, **audio})


def keys_of(session, node):
    spec = session.world.spec
    voices = {c.name: c.voice for c in spec.characters if c.voice}
    voice = make_voice("espeak")
    return [voice_key(voice, line.text, line.voice)
            for line in lines(session.scene(node).current.narration, spec.audio.narrator_voice,
                              voices)]


def test_sound_is_off_until_a_front_end_turns_it_on(config):
    session = Session.new(sound_config(config), runner=InlineRunner(), slot="quiet")
    try:
        events = session.wait()
        assert session.heard == {} and not any(e.kind in ("music", "voice") for e in events)
        session.enable_sound()
        events = session.poll()
        node = session.current
        assert [e.kind for e in events if e.kind == "music"] == ["music"]
        assert session.heard[node]["voice"] == keys_of(session, node)
        version = session.scene(node).current
        place = session.graph.state_after(node).location
        assert session.heard[node]["music"] == track_key(
            session.world, session.sound.music_mood(node, version.mood), place,
            make_composer("procedural"), seconds=6.0, player=session.player().template_context())
        cues = [e.payload for e in events if e.kind == EventKind.VOICE]
        assert [c.index for c in cues] == list(range(len(cues))) and cues[-1].last
        assert all(open(c.path, "rb").read(4) == b"RIFF" for c in cues)
    finally:
        session.close()


def test_going_back_replays_the_scenes_sound_from_the_cache(config, monkeypatch):
    session = Session.new(sound_config(config), runner=InlineRunner(), slot="back")
    try:
        session.wait()
        session.enable_sound()
        first = session.current
        session.poll()
        session.choose(0)
        session.wait()
        made = []
        from engine.audio.music.procedural import ProceduralComposer
        from engine.audio.voices.espeak import EspeakVoice
        monkeypatch.setattr(ProceduralComposer, "compose",
                            lambda self, *a, **k: made.append("music"))
        monkeypatch.setattr(EspeakVoice, "speak", lambda self, *a, **k: made.append("voice"))
        session.back()
        events = session.poll()
        voiced = [e.payload.key for e in events if e.kind == EventKind.VOICE]
        assert voiced == keys_of(session, first) and made == []    # all from the cache
    finally:
        session.close()


class Streamer:
    """Streams a scene sentence by sentence, and holds after the second until released."""

    id, model = "streamer", "streamer-1"

    def __init__(self):
        self.release = threading.Event()

    def narrate(self, request, on_token=None):
        text = ("The tide turns over the black rocks. A bell rings somewhere under the water. "
                "Maren lifts her lantern and waits. Nothing answers her.")
        cut = text.index("Maren")
        if on_token:
            for word in text[:cut].split(" "):
                on_token(word + " ")
            self.release.wait(30)
            for word in text[cut:].split(" "):
                on_token(word + " ")
        return SceneDraft(title=f"Tide {request.node}", narration=text,
                          choices=[ChoiceDraft(label=f"Go on {n}", intent="explore")
                                   for n in "AB"],
                          image_prompt="rocks", mood="eerie")


def test_sentences_are_read_while_the_narrator_is_still_streaming(config):
    streamer = Streamer()
    session = Session.new(sound_config(config), narrator=streamer, runner=ThreadedRunner(),
                          slot="stream")
    try:
        session.enable_sound()
        node = session.current
        voiced, deadline = [], time.monotonic() + 30
        while len(voiced) < 1 and time.monotonic() < deadline:
            voiced += [e.payload.text for e in session.poll() if e.kind == EventKind.VOICE]
            time.sleep(0.02)
        # the first sentence is read while the scene is still being told (the last one that
        # streamed may go on, so only finished ones are read)
        assert session.scene(node).status == GENERATING
        assert voiced[0] == "The tide turns over the black rocks."
        streamer.release.set()
        while (session.scene(node).status != READY or session.sound._voice_jobs) \
                and time.monotonic() < deadline:
            voiced += [e.payload.text for e in session.poll() if e.kind == EventKind.VOICE]
            time.sleep(0.02)
        voiced += [e.payload.text for e in session.poll() if e.kind == EventKind.VOICE]
        assert voiced == [line.text for line in lines(session.scene(node).current.narration)]
    finally:
        streamer.release.set()
        session.close()


def test_the_music_follows_the_players_tone_where_the_scenes_mood_leaves_room(config):
    session = Session.new(sound_config(config), runner=InlineRunner(), slot="tone")
    try:
        session.wait()
        node = session.current
        for line in ("You useless idiots, get out of my way!", "Shut up or I'll smash it!",
                     "I hate this stinking island and every liar on it!"):
            session.act(line)
            session.wait()
        node = session.current
        assert session.player_tone() == "angry"
        assert session.sound.music_mood(node, "calm") == "tense"          # open: the tone's
        assert session.sound.music_mood(node, "mysterious") == "tense"
        assert session.sound.music_mood(node, "melancholy") == "melancholy"   # the scene's own
        session.set_player_model(False)
        assert session.sound.music_mood(node, "calm") == "calm"           # off: the scene's
    finally:
        session.close()
