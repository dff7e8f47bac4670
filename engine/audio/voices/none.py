"""The "none" voice: `[audio] voice = "none"`, the narration is not read aloud.

It exists so that every caller can rely on a voice being present; callers check `speaks` (or
`id == "none"`) and schedule nothing. Asked to speak anyway, it refuses with an AudioError that
says how to turn a voice on. It must stay trivial: no imports beyond the clip type.
"""

from __future__ import annotations

from engine.audio.clips import Clip
from engine.errors import AudioError


class NoneVoice:
    """No voice: speaks nothing; speak() is an error that says how to choose a voice."""

    id = "none"
    model = "none"
    default_voice = ""
    speed = 1.0
    seed = 0
    speaks = False   # the other voices have speaks = True

    def speak(self, text: str, voice: str = "") -> Clip:
        """Always raises AudioError: this voice is off."""
        raise AudioError('The voice is off ([audio] voice = "none"). Set [audio] voice = '
                         '"espeak" (built in) or "transformers:<model>" to hear the narration.')
