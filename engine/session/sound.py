"""The Session's sound: the music for each scene's mood and the voice that reads its narration.

A part of engine.session.core.Session, holding its own state. It is off until a front end that
can play sound turns it on (`Session.sound.enable()`: the window does, the terminal and the
tools do not), so a story played without speakers never composes a note. Once on, it follows
the player: each poll() it looks at the current scene and, when that changed, asks for the
music of its mood and place and for each line of its narration, read aloud sentence by
sentence (also while a language model is still streaming it: every finished sentence is read as
soon as it is written). The work runs on a runner of its own (one worker, so the voice never
waits behind a painting) and lands in the clip cache on disk (engine.audio.clips), keyed by
content: going back to a scene replays its sound from the cache at once.

What is ready reaches the front end as MUSIC and VOICE events carrying a SoundCue (a file to
play); `heard` records, per scene, the music and the lines it was given. No pygame here: the
front end's mixer plays the files.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from engine.audio.clips import ClipCache
from engine.errors import DreamreelError, JobCancelled
from engine.events import EventKind, SessionEvent, SoundCue
from engine.session.jobs import DONE, FAILED as JOB_FAILED, InlineRunner, Job, ThreadedRunner
from engine.story.graph import GENERATING, READY

# The music follows the player's tone where the scene leaves room: a calm or mysterious scene
# (its mood open) plays the mood of how the player seems right now; every other mood is the
# scene's own and wins (a tense scene stays tense, however cheerful the player).
OPEN_MOODS = ("calm", "mysterious")
TONE_MOODS = {"angry": "tense", "afraid": "eerie", "sad": "melancholy", "happy": "bright"}
MUSIC_SECONDS = 32.0     # a loop's length: engine.audio.music.DEFAULT_SECONDS, as the film asks for
AUDIO_CACHE_MB = 512


class Sound:
    """Sound for a Session: which music plays and which lines are read, made in the background."""

    def __init__(self, session):
        self.session = weakref.proxy(session)   # no cycle: a dropped story is freed at once
        audio = session.config.audio
        self.settings = audio
        self.enabled = False
        self.cache = ClipCache(session.config.saves_dir / "cache" / "audio",
                               max_bytes=AUDIO_CACHE_MB << 20)
        self.runner = None
        self.heard: dict[int, dict[str, Any]] = {}   # scene -> {"music", "mood", "voice": [...]}
        self._threaded = isinstance(session.runner, ThreadedRunner)
        self._makers_lock = threading.Lock()
        self._composer = None
        self._voice = None
        self._broken: set[str] = set()          # "music" / "voice" that failed: not asked again
        self._problems: set[str] = set()        # a world track's problems, told once each
        self._shown: tuple | None = None        # (scene, version, versions) sound was made for
        self._music_job: Job | None = None
        self._music_key = ""
        self._voice_jobs: list[Job] = []
        self._lines: list[str] = []             # the current scene's lines asked for so far
        self._streamed: int | None = None       # the scene whose stream is being read
        self._stream_seen = -1                  # how much of it was looked at

    # -- switching ---------------------------------------------------------------------------
    def enable(self, on: bool = True) -> None:
        """Start (or stop) making sound for the scenes the player reaches."""
        if on and self.runner is None:
            # two workers: one takes anything, the other only voice lines (priority 0), so a
            # line is never queued behind a piece of music being composed
            self.runner = ThreadedRunner(workers=2, urgent_below=1) if self._threaded \
                else InlineRunner()
        self.enabled = on
        if not on:
            self._cancel_voice()
            self._shown = None

    def set_settings(self, settings) -> None:
        """New [audio] settings (read aloud on or off, another music or voice backend)."""
        old, self.settings = self.settings, settings
        if (old.music, old.voice) != (settings.music, settings.voice):
            with self._makers_lock:
                self._composer = self._voice = None
            self._broken.clear()
        if not settings.read_aloud:
            self._cancel_voice()
        self._shown = None           # make the current scene's sound again, as now set

    # -- following the player ---------------------------------------------------------------
    def follow(self) -> None:
        """Ask for the current scene's sound if it changed (poll() calls it every frame)."""
        if not self.enabled or self.session.closed:
            return
        node = self.session.current
        scene = self.session.scene(node)
        if scene.status == READY and scene.current is not None:
            shown = (node, scene.active, len(scene.versions))
            if shown != self._shown:
                self._arrive(node, shown)
        elif scene.status == GENERATING and self.settings.read_aloud and "voice" not in self._broken:
            self._read_stream(node)

    def _arrive(self, node: int, shown: tuple) -> None:
        version = self.session.scene(node).current
        continuing = self._streamed == node
        self._shown, self._streamed = shown, None
        if self.settings.read_aloud and "voice" not in self._broken \
                and self.settings.voice != "none":
            wanted = self._lines_of(version.narration)
            if not continuing or wanted[:len(self._lines)] != self._lines:
                self._cancel_voice()
            for index in range(len(self._lines), len(wanted)):
                self._ask_line(node, index, wanted[index], last=index == len(wanted) - 1)
        else:
            self._cancel_voice()
        if "music" not in self._broken and self.settings.music != "none":
            try:
                self._ask_music(node, self.music_mood(node, version.mood))
            except DreamreelError as err:     # a bad [audio] music setting: say so, once
                self._broken.add("music")
                self.session._notice(EventKind.ERROR, f"Music is off for this game: {err}", node)

    def music_mood(self, node: int, mood: str) -> str:
        """The mood the scene's music plays: the scene's own, or, where the scene's mood is
        open (OPEN_MOODS) and the player model is on, the mood of the player's tone then."""
        if mood not in OPEN_MOODS:
            return mood
        profile = self.session.player_profile(node)
        return TONE_MOODS.get(profile.tone, mood) if profile is not None else mood

    def _read_stream(self, node: int) -> None:
        from engine.audio.voices import sentences
        if self._streamed != node:
            self._cancel_voice()
            self._streamed, self._shown, self._stream_seen = node, None, -1
        text = self.session.stream_text(node)
        if len(text) == self._stream_seen:
            return                   # nothing new streamed since the last frame
        self._stream_seen = len(text)
        if self._character_voices():
            # a quote may yet be given to a name in the next sentence: lines() holds back
            wanted = self._lines_of(text, complete=False)
        else:
            finished = sentences(text)[:-1]     # the last sentence may go on
            wanted = self._lines_of(" ".join(finished)) if finished else []
        if wanted[:len(self._lines)] != self._lines:
            return                   # the stream restarted (requeued): wait for the scene
        for index in range(len(self._lines), len(wanted)):
            self._ask_line(node, index, wanted[index], last=False)

    def _character_voices(self) -> dict[str, str]:
        return {c.name: c.voice for c in self.session.world.spec.characters if c.voice}

    def _lines_of(self, text: str, complete: bool = True) -> list:
        """The narration as lines to read, each in its voice (the world's narrator's, or a
        voiced character's for their quoted speech)."""
        from engine.audio.voices import lines
        return lines(text, self.session.world.spec.audio.narrator_voice,
                     self._character_voices(), complete=complete)

    # -- music -------------------------------------------------------------------------------
    def _ask_music(self, node: int, mood: str) -> None:
        from engine.audio.music import music_request, track_key
        world = self.session.world
        place = self.session.graph.state_after(node).location
        composer = self._make_composer()
        player = self.session.player().template_context()
        key = track_key(world, mood, place, composer, seconds=MUSIC_SECONDS, player=player)
        record = self.heard.setdefault(node, {"music": "", "mood": mood, "voice": []})
        if key is None:
            return                   # no music: no composer and no track of the world's
        if key == self._music_key:
            if self._music_job is None:
                record.update(music=key, mood=mood)
            return                   # the same music goes on playing (or is on its way)
        if self._music_job is not None:
            self._music_job.cancel()
        self._music_key = key
        bar = 0.0
        if hasattr(composer, "bar_seconds") and not key.startswith("world:"):
            bar = composer.bar_seconds(music_request(world, mood, place, seconds=MUSIC_SECONDS,
                                                     prompt=False)[0])

        def work(job: Job):
            from engine.audio.music import music_for
            track = music_for(world, mood, place, composer=composer, cache=self.cache,
                              seconds=MUSIC_SECONDS, on_progress=lambda f: job.check(),
                              player=player)
            if track is None:
                raise JobCancelled()
            return track, SoundCue(str(track.path), track.key, mood=track.mood, loop=True,
                                   bar_seconds=bar)

        self._music_job = self.runner.submit(work, 1, "music", key=node)

    def _make_composer(self):
        with self._makers_lock:
            if self._composer is None:
                from engine.audio.music import make_composer
                self._composer = make_composer(self.settings.music)
            return self._composer

    # -- voice -------------------------------------------------------------------------------
    def _ask_line(self, node: int, index: int, line, last: bool) -> None:
        self._lines.append(line)

        def work(job: Job):
            from engine.audio.voices import speak_cached, voice_key
            voice = self._make_voice()
            path = speak_cached(voice, self.cache, line.text, line.voice)
            return SoundCue(str(path), voice_key(voice, line.text, line.voice), text=line.text,
                            index=index, last=last)

        self._voice_jobs.append(self.runner.submit(work, 0, "voice", key=node))

    def _make_voice(self):
        with self._makers_lock:
            if self._voice is None:
                from engine.audio.voices import make_voice
                self._voice = make_voice(self.settings.voice)
            return self._voice

    def _cancel_voice(self) -> None:
        for job in self._voice_jobs:
            job.cancel()
        self._voice_jobs = []
        self._lines = []

    # -- results -----------------------------------------------------------------------------
    def poll(self) -> list[SessionEvent]:
        """What the sound runner finished: MUSIC and VOICE events, and errors (once a kind)."""
        if self.runner is None:
            return []
        out = []
        for event in self.runner.poll():
            job, node = event.job, event.job.key
            if job.kind == "music" and job is self._music_job and event.kind in (
                    DONE, JOB_FAILED, "cancelled"):
                self._music_job = None
            if job.kind == "voice" and event.kind in (DONE, JOB_FAILED, "cancelled") \
                    and job in self._voice_jobs:
                self._voice_jobs.remove(job)
            if event.kind == JOB_FAILED:
                if job.kind not in self._broken:
                    self._broken.add(job.kind)
                    what = "Music" if job.kind == "music" else "The voice"
                    setting = "music" if job.kind == "music" else "voice"
                    out.append(self.session._notice(
                        EventKind.ERROR, f"{what} is off for this game: {event.payload} "
                        f"(check [audio] {setting} in your settings).", node))
                continue
            if event.kind != DONE:
                continue
            record = self.heard.setdefault(node, {"music": "", "mood": "", "voice": []})
            if job.kind == "music":
                track, cue = event.payload
                if track.problem and track.problem not in self._problems:
                    self._problems.add(track.problem)
                    out.append(self.session._notice(EventKind.ERROR, track.problem, node))
                record.update(music=cue.key, mood=cue.mood)
                out.append(SessionEvent(EventKind.MUSIC, node, cue))
            else:
                cue = event.payload
                if cue.index == 0:           # the scene (or this version of it) read afresh
                    record["voice"] = []
                record["voice"].append(cue.key)
                out.append(SessionEvent(EventKind.VOICE, node, cue))
        return out

    def close(self) -> None:
        """Stop the sound runner."""
        if self.runner is not None:
            self.runner.shutdown()
            self.runner = None
        self.enabled = False
