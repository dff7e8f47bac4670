"""The mixer: the story's music, the narration voice and small effects, through pygame.mixer.

Channels: two for music (a new mood cross-fades from one to the other, starting on a bar line of
the playing loop where the music says how long a bar is), one for the voice and one for effects.
The music ducks under the voice. Volumes and mute come from the [audio] settings, and U mutes and
unmutes (App.toggle_mute). Sounds arrive as the Session's MUSIC and VOICE events (SoundCue:
a file in the clip cache, or a world's own track); files are read off the frame loop (App.background)
and only started here, so no frame waits on the disk. A scene's voice lines play in order, each
as soon as it and the one before are ready, and stop when the player moves on; the music goes on.

With no audio device (or SDL_AUDIODRIVER=dummy, as in tests) the mixer says so once and the game
plays silently, or plays into the dummy device: everything else works the same. `played` records
what started, per scene, so a headless run can check what a player would have heard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pygame

from engine.config import AudioSettings
from engine.events import EventKind, SoundCue

RATE = 44100
CROSSFADE_MS = 3000        # a change of mood: the old music fades out as the new one fades in
LONGEST_WAIT = 4.0         # seconds: never wait longer than this for a bar line
DUCK = 0.35                # the music's level while the voice speaks
DUCK_RATE = 4.0            # how fast the music ducks and comes back (level per second)
MUSIC_CHANNELS, VOICE_CHANNEL, EFFECTS_CHANNEL = (0, 1), 2, 3


@dataclass(frozen=True)
class Played:
    """One sound the mixer started: the scene it belongs to, "music" or "voice", its key, and
    its mood (music) or words and line number (voice)."""

    node: int | None
    kind: str
    key: str
    mood: str = ""
    text: str = ""
    index: int = 0


class Mixer:
    """Plays a story's sound. Call open() once the window is up, on_session_events() with the
    Session's events, scene_changed() when the player moves, and update(dt) every frame."""

    def __init__(self, settings: AudioSettings,
                 background: Callable[[Callable[[], Any], Callable[[Any], None],
                                       Callable[[BaseException], None]], None],
                 notice: Callable[[str], None] = lambda message: None):
        self.settings = settings
        self.available = False
        self.played: list[Played] = []
        self._background = background
        self._notice = notice
        self._music: list[pygame.mixer.Channel] = []
        self._voice: pygame.mixer.Channel | None = None
        self._effects: pygame.mixer.Channel | None = None
        self._playing: SoundCue | None = None      # the music that plays (or fades in)
        self._on = 0                                # which music channel it plays on
        self._started = 0.0                         # when it started, on the mixer's clock
        self._wanted: SoundCue | None = None        # the music the current scene asked for
        self._loaded: dict[str, Any] = {}           # key -> pygame Sound, the last few
        self._pending: tuple[float, SoundCue] | None = None   # a cross-fade waiting for a bar
        self._pending_node: int | None = None
        self._on_channel: list[Any] = [None, None]  # the Sound each music channel plays
        self._node: int | None = None               # the scene whose voice plays
        self._lines: dict[int, tuple[SoundCue, Any]] = {}     # its lines that are ready
        self._next_line = 0
        self._duck = 1.0
        self._effect_sounds: dict[str, Any] = {}
        self.clock = 0.0

    # -- setting up -------------------------------------------------------------------------
    def open(self) -> bool:
        """Start pygame's mixer. False (and a notice) when there is no audio device."""
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(RATE, -16, 2, 1024)
            pygame.mixer.set_num_channels(max(8, pygame.mixer.get_num_channels()))
            pygame.mixer.set_reserved(4)
        except pygame.error as err:
            self._notice(f"No audio device ({err}): the game plays silently. Check your sound "
                         f"settings, or set [audio] music and voice to \"none\".")
            return False
        self._music = [pygame.mixer.Channel(number) for number in MUSIC_CHANNELS]
        self._voice = pygame.mixer.Channel(VOICE_CHANNEL)
        self._effects = pygame.mixer.Channel(EFFECTS_CHANNEL)
        self.available = True
        self._apply_volumes()
        return True

    def close(self) -> None:
        """Stop every sound and the mixer. Safe to call twice."""
        if self.available and pygame.mixer.get_init():
            pygame.mixer.stop()
            pygame.mixer.quit()
        self.available = False
        self._loaded.clear()

    def set_settings(self, settings: AudioSettings) -> None:
        """New volumes, mute or read-aloud: they apply at once."""
        self.settings = settings
        if not settings.read_aloud:
            self._stop_voice()
        self._apply_volumes()

    # -- what the story says ----------------------------------------------------------------
    def scene_changed(self, node: int | None) -> None:
        """The player is now at `node`: the voice of another scene stops."""
        if node != self._node:
            self._stop_voice()
            self._node = node

    def on_session_events(self, events, current: int | None) -> None:
        """Take the MUSIC and VOICE cues for the current scene (others are ignored)."""
        self.scene_changed(current)
        for event in events:
            cue = event.payload
            if event.node != current or not isinstance(cue, SoundCue):
                continue
            if event.kind == EventKind.MUSIC:
                self._want_music(cue, event.node)
            elif event.kind == EventKind.VOICE and self.settings.read_aloud:
                self._load(cue, lambda sound, cue=cue, node=event.node: self._line_ready(
                    node, cue, sound))

    def _want_music(self, cue: SoundCue, node: int | None) -> None:
        self._wanted = cue
        if self._playing is not None and self._playing.key == cue.key:
            self._pending = None
            return
        self._load(cue, lambda sound: self._music_ready(cue, sound, node))

    def _load(self, cue: SoundCue, then: Callable[[Any], None]) -> None:
        if not self.available:
            return
        sound = self._loaded.get(cue.key)
        if sound is not None:
            then(sound)
            return

        def loaded(sound) -> None:
            self._loaded[cue.key] = sound
            while len(self._loaded) > 24:
                self._loaded.pop(next(iter(self._loaded)))
            then(sound)

        self._background(lambda: pygame.mixer.Sound(cue.path), loaded,
                         lambda err: self._notice(f"Could not play {cue.path}: {err}"))

    def _music_ready(self, cue: SoundCue, sound, node: int | None) -> None:
        if self._wanted is None or self._wanted.key != cue.key or not self.available:
            return                                  # the player moved on meanwhile
        at = self.clock
        if self._playing is not None and self._playing.bar_seconds > 0:
            bar = self._playing.bar_seconds
            wait = bar - (self.clock - self._started) % bar
            if wait <= LONGEST_WAIT:
                at = self.clock + wait
        self._pending = (at, cue)
        self._pending_node = node
        self._start_pending()

    def _start_pending(self) -> None:
        if self._pending is None or self._pending[0] > self.clock:
            return
        _, cue = self._pending
        self._pending = None
        sound = self._loaded.get(cue.key)
        if sound is None:
            return
        fade = CROSSFADE_MS if self._playing is not None else 1000
        old = self._music[self._on]
        if self._playing is not None:
            old.fadeout(CROSSFADE_MS)
            self._on = 1 - self._on
        channel = self._music[self._on]
        self._on_channel[self._on] = sound
        channel.play(sound, loops=-1 if cue.loop else 0, fade_ms=fade)
        self._playing, self._started = cue, self.clock
        self._apply_volumes()
        self.played.append(Played(self._pending_node, "music", cue.key, mood=cue.mood))

    def _line_ready(self, node: int | None, cue: SoundCue, sound) -> None:
        if node != self._node or not self.settings.read_aloud:
            return
        if cue.index == 0 and (self._next_line or 0 in self._lines):
            self._stop_voice()       # another version of the scene (told again, or browsed)
        self._lines[cue.index] = (cue, sound)
        self._next_voice()

    def _next_voice(self) -> None:
        if self._voice is None or self._voice.get_busy():
            return
        ready = self._lines.pop(self._next_line, None)
        if ready is None:
            return
        cue, sound = ready
        self._voice.play(sound)
        self._next_line += 1
        self.played.append(Played(self._node, "voice", cue.key, text=cue.text, index=cue.index))

    def _stop_voice(self) -> None:
        if self._voice is not None:
            self._voice.stop()
        self._lines.clear()
        self._next_line = 0

    def effect(self, name: str) -> None:
        """Play one of the game's small effects on the effects channel: "choose" (a soft page
        turn when a choice or an action is taken) or "rewind" (a short falling sweep)."""
        if self._effects is None:
            return
        sound = self._effect_sounds.get(name)
        if sound is None:
            sound = self._effect_sounds[name] = pygame.mixer.Sound(buffer=_effect(name))
            sound.set_volume(0.5)
        self._effects.play(sound)
        self.played.append(Played(self._node, "effect", name))

    # -- every frame ------------------------------------------------------------------------
    def update(self, dt: float) -> None:
        """Start what is due (a cross-fade on its bar line, the next voice line) and move the
        music's level toward where the voice wants it."""
        self.clock += dt
        if not self.available:
            return
        self._start_pending()
        self._next_voice()
        speaking = self._voice is not None and self._voice.get_busy()
        target = DUCK if speaking else 1.0
        if self._duck != target:
            step = DUCK_RATE * dt
            self._duck = max(target, self._duck - step) if self._duck > target else min(
                target, self._duck + step)
            self._apply_volumes()

    @property
    def speaking(self) -> bool:
        """True while a voice line plays."""
        return self.available and self._voice is not None and self._voice.get_busy()

    @property
    def music_level(self) -> float:
        """The music channel's volume now (0..1): the setting, ducked under the voice, muted."""
        settings = self.settings
        return 0.0 if settings.muted else settings.music_volume * self._duck

    def _apply_volumes(self) -> None:
        if not self.available:
            return
        muted = self.settings.muted
        for sound in self._on_channel:     # the Sound's own volume: the channel's is the fade's
            if sound is not None:
                sound.set_volume(self.music_level)
        self._voice.set_volume(0.0 if muted else self.settings.voice_volume)
        self._effects.set_volume(0.0 if muted else self.settings.effects_volume)


def _effect(name: str, rate: int = RATE) -> bytes:
    """An effect's samples (16-bit stereo at the mixer's rate), made here: a page turn is a
    soft band of noise swelling and fading in a tenth of a second; a rewind, a falling sweep."""
    rng = np.random.default_rng(7)
    if name == "rewind":
        count = int(0.18 * rate)
        t = np.arange(count) / rate
        freq = 900.0 * np.exp(-t * 9.0) + 180.0
        wave = np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.sin(np.pi * t / t[-1]) * 0.25
    else:
        count = int(0.12 * rate)
        noise = rng.standard_normal(count)
        smooth = np.convolve(noise, np.ones(24) / 24, mode="same")       # soften: a paper rustle
        wave = smooth * np.sin(np.pi * np.arange(count) / count) ** 2 * 0.6
    pcm = (np.clip(wave, -1, 1) * 32767).astype("<i2")
    return np.repeat(pcm[:, None], 2, axis=1).tobytes()
