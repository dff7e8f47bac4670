"""Voices: backends that read narration aloud, behind one small protocol, picked by a spec string.

`make_voice(spec)` builds one: "espeak" (the embedded default, espeak-ng from its wheel;
"espeak:<voice>" changes its default voice), "transformers:<hub id or folder>" (any
text-to-speech model transformers' pipeline loads) or "none" (no reading aloud). A voice has
`id` and `model` (both part of every clip key) and `speak(text, voice="") -> Clip`.

What the game calls, from a background job, never the frame loop:
- `lines(text, narrator_voice, character_voices)` (engine.audio.voices.reading): a scene's
  narration as lines, each with the voice that reads it; with complete=False while the text
  still streams in, only the lines that the finished text will have too, so reading can start
  before the narrator is done;
- `voice_key(voice, text, voice_name)`: which clip a line is, without speaking (cheap); a scene
  version's audio is the list of its lines' keys, so rollback replays from the cache at once;
- `speak_cached(voice, cache, text, voice_name)`: the clip's file in a ClipCache, spoken first
  if it is not there yet.

Nothing heavy is imported here: espeak-ng loads on the first speak(), torch and transformers
only when a transformers voice loads its model.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.audio.clips import Clip
from engine.audio.voices.cached import line_keys, speak_cached, voice_key
from engine.audio.voices.reading import Line, lines, sentences
from engine.errors import AudioError

SPEC_FORMS = '"espeak", "espeak:<voice>", "transformers:<hub id or folder>" or "none"'


@runtime_checkable
class Voice(Protocol):
    """Anything that reads text aloud: an id and model (both part of every clip key) and speak()."""

    id: str             # backend name, e.g. "espeak"
    model: str          # model id or version; a new value means new clips
    default_voice: str  # what voice "" means (part of the clip key, so "" and it share clips)
    speed: float        # speaking-rate factor, 1.0 normal
    seed: int           # seed of stochastic models (0 for deterministic ones)
    speaks: bool        # False only for the "none" voice

    def speak(self, text: str, voice: str = "") -> Clip:
        """text read aloud in voice ("" = the backend's default), as a mono clip.

        Same inputs, the same speech. Raises AudioError (a missing backend or model, an unknown
        voice) with a message a player can act on.
        """
        ...


def make_voice(spec: str, **options) -> Voice:
    """Build a voice from a spec such as "espeak", "espeak:de", "transformers:facebook/mms-tts-eng"
    or "none".

    options: speed (all voices; 1.0 normal), and for transformers voices seed, device, dtype
    (see engine.audio.voices.hf.TransformersVoice). Nothing is loaded until the first speak().

    Raises:
        AudioError: the spec is unknown or names no model, or an option is wrong.
    """
    text = (spec or "").strip()
    kind, _, rest = text.partition(":")
    kind, rest = kind.strip().lower(), rest.strip()
    try:
        if kind == "espeak":
            from engine.audio.voices.espeak import EspeakVoice  # noqa: PLC0415
            return EspeakVoice(rest, **options)
        if kind == "none" and not rest:
            from engine.audio.voices.none import NoneVoice  # noqa: PLC0415
            return NoneVoice()
        if kind == "transformers":
            if not rest:
                raise AudioError(f'Voice spec "{text}" names no model: use "transformers:<hub id '
                                 f'or folder>", e.g. "transformers:facebook/mms-tts-eng".')
            from engine.audio.voices.hf import TransformersVoice  # noqa: PLC0415
            return TransformersVoice(rest, **options)
    except TypeError as err:
        raise AudioError(f'Voice "{text}" does not take that option ({err}).') from None
    raise AudioError(f'Unknown voice "{text}": use {SPEC_FORMS}.')


def voice_from_config(config) -> Voice:
    """The voice a Config asks for ([audio] voice)."""
    return make_voice(config.audio.voice)


__all__ = ["AudioError", "Line", "Voice", "line_keys", "lines", "make_voice", "sentences",
           "speak_cached", "voice_from_config", "voice_key"]
