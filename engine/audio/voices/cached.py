"""Spoken lines in the clip cache: which clip a line is (its key), and its file, spoken if need be.

A clip's key hashes everything that changes the sound: the backend's id and model, the words,
the voice name (with "" resolved to the backend's default), the speed and the seed. So the audio
of a scene version is just the list of its lines' keys: rollback, a reloaded save or a second
player of the same story finds the files already there and plays them at once.

These functions run on a background job (speaking takes milliseconds with espeak, longer with a
model); voice_key and line_keys are cheap and may run anywhere. Nothing here plays sound.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.audio.clips import ClipCache, clip_key

if TYPE_CHECKING:  # pragma: no cover
    from engine.audio.voices import Line, Voice

KIND = "voice"


def voice_key(voice: Voice, text: str, voice_name: str = "") -> str:
    """The cache key of text spoken by voice as voice_name, without speaking it."""
    return clip_key(KIND, voice.id, voice.model, text, int(getattr(voice, "seed", 0)),
                    voice=voice_name.strip() or voice.default_voice,
                    speed=round(float(voice.speed), 4))


def line_keys(voice: Voice, lines: list[Line]) -> list[str]:
    """The keys of a scene's lines, in order: the scene version's audio, as a saved story keeps it."""
    return [voice_key(voice, line.text, line.voice) for line in lines]


def speak_cached(voice: Voice, cache: ClipCache, text: str, voice_name: str = "") -> Path:
    """The file of text spoken by voice as voice_name: from the cache, or spoken and stored.

    Raises:
        AudioError: the voice cannot speak (no backend, an unknown voice, the "none" voice), or
            the cache cannot be written.
    """
    key = voice_key(voice, text, voice_name)
    path = cache.get_path(key)
    if path is not None:
        return path
    return cache.put(key, voice.speak(text, voice_name))
