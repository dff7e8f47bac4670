"""The `espeak` voice: espeak-ng, from the espeakng-loader wheel, through ctypes. The default.

The wheel ships libespeak-ng and its data (about a hundred languages), so the voice works offline
with nothing to download. It is fast: a sentence takes a few milliseconds on one core, far under
the 300 ms in which the first sentence of a scene must be heard.

Voice names are espeak-ng's: a language ("en", "en-us", "en-gb-scotland", "de", "fr", "es",
"ja"...), optionally with a variant after "+" ("en+f3", "de+m2", "en-us+whisper"; the variants are
m1-m7, f1-f5, croak, klatt, whisper...). `espeak_voices()` lists the languages installed.

espeak-ng is one global C library with one current voice, so calls are serialized by a lock and
the library is initialized once, lazily, by the first call that needs it (in synchronous mode:
espeak_Synth returns when the text is spoken, and a callback collects the 16-bit samples). Its
oscillator's phase carries over from one call to the next, so the same text spoken twice may
differ by a few samples; the clip cache is what makes a replay exact. This
module loads nothing at import; a platform the wheel does not support is an AudioError that says
how to play without this voice.
"""

from __future__ import annotations

import ctypes
import threading
from importlib import metadata

import numpy as np

from engine.audio.clips import Clip
from engine.errors import AudioError

DEFAULT_VOICE = "en"              # espeak-ng's British English
DEFAULT_RATE = 175                # espeak-ng's words per minute at speed 1.0
MIN_RATE, MAX_RATE = 80, 450      # what espeak-ng accepts
AUDIO_OUTPUT_SYNCHRONOUS = 2      # espeak_AUDIO_OUTPUT: synthesize in the calling thread
INITIALIZE_DONT_EXIT = 0x8000     # report a failed initialization instead of calling exit()
POS_CHARACTER = 1
CHARS_UTF8 = 0x1
END_PAUSE = 0x1000                # a sentence's closing pause, so clips played in a row breathe
PARAMETER_RATE = 1
EE_OK = 0
ADVICE = 'or set [audio] voice = "none" or "transformers:<model>" in the settings'

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class _VoiceRecord(ctypes.Structure):
    """espeak_VOICE, as espeak_ListVoices returns it."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p),
                ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte),
                ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte),
                ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class _Library:
    """libespeak-ng, loaded and initialized once; every use holds `lock`."""

    lock = threading.Lock()
    _instance: "_Library | None" = None

    def __init__(self):
        try:
            import espeakng_loader  # noqa: PLC0415
            library_path = espeakng_loader.get_library_path()
            data_path = espeakng_loader.get_data_path()
            self.lib = ctypes.CDLL(library_path)
        except (ImportError, OSError, RuntimeError) as err:
            raise AudioError(f"The espeak voice cannot load espeak-ng on this system ({err}). "
                             f"Install it with `pip install espeakng-loader`, {ADVICE}.") from None
        lib = self.lib
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p,
                                     ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceRecord))
        self.rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(),
                                          INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise AudioError(f"espeak-ng did not start (its data at {data_path} may be damaged; "
                             f"reinstall espeakng-loader), {ADVICE}.")
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)    # kept: C holds a pointer to it
        lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> "_Library":
        """The library, initialized; call with `lock` held."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, samples, count, _events) -> int:
        if count > 0 and samples:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0    # 0: go on

    def synthesize(self, text: str, voice: str, rate: int) -> np.ndarray:
        """16-bit samples of text spoken in voice at rate words a minute."""
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != EE_OK:
            raise AudioError(f'espeak-ng has no voice "{voice}". Use a language such as "en", '
                             f'"en-us", "de" or "fr", optionally with a variant ("en+f3"); '
                             f"{len(self.voices())} languages are installed.")
        self.lib.espeak_SetParameter(PARAMETER_RATE, rate, 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        try:
            status = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0,
                                           CHARS_UTF8 | END_PAUSE, None, None)
            chunks = self._chunks
        finally:
            self._chunks = []
        if status != EE_OK:
            raise AudioError(f"espeak-ng failed to speak (error {status}).")
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)

    def voices(self) -> list[str]:
        """The languages of every installed voice, e.g. ["af", "am", ..., "en-us", ...]."""
        found = set()
        table = self.lib.espeak_ListVoices(None)
        index = 0
        while table and table[index]:
            raw = table[index].contents.languages or b""
            # a list of (priority byte, name, NUL); the first name is the voice's language
            name = raw[1:].split(b"\0", 1)[0].decode("utf-8", "replace")
            if name:
                found.add(name)
            index += 1
        return sorted(found)


def espeak_version() -> str:
    """The espeakng-loader wheel's version (part of every clip key: a new wheel, new clips)."""
    try:
        return metadata.version("espeakng-loader")
    except metadata.PackageNotFoundError:
        return "unknown"


def espeak_voices() -> list[str]:
    """The languages espeak-ng can speak here (voice names; add "+f3" etc. for a variant).

    Raises:
        AudioError: espeak-ng cannot be loaded on this system.
    """
    with _Library.lock:
        return _Library.get().voices()


class EspeakVoice:
    """Speaks with espeak-ng; see the module docstring.

    Attributes:
        id: "espeak".
        model: "espeakng-loader <wheel version>" (part of every clip key).
        default_voice: the voice for speak(text, "") ("en" unless made with another).
        speed: 1.0 is espeak-ng's normal 175 words a minute.
        seed: always 0 (espeak-ng is deterministic).
    """

    id = "espeak"
    seed = 0
    speaks = True

    def __init__(self, default_voice: str = "", speed: float = 1.0):
        self.model = f"espeakng-loader {espeak_version()}"
        self.default_voice = default_voice.strip() or DEFAULT_VOICE
        self.speed = float(speed)
        if not self.speed > 0:
            raise AudioError(f"Voice speed must be above 0, not {speed}.")

    def load(self) -> None:
        """Load and initialize espeak-ng now (the first speak() does it otherwise)."""
        with _Library.lock:
            _Library.get()

    def speak(self, text: str, voice: str = "") -> Clip:
        """text spoken in voice ("" = default_voice), mono at espeak-ng's rate (22050 Hz).

        Raises:
            AudioError: espeak-ng cannot load here, or has no such voice.
        """
        rate = int(round(min(MAX_RATE, max(MIN_RATE, DEFAULT_RATE * self.speed))))
        with _Library.lock:
            library = _Library.get()
            if not text.strip():
                return Clip(np.zeros(0, np.float32), library.rate)
            pcm = library.synthesize(text, voice.strip() or self.default_voice, rate)
            sample_rate = library.rate
        return Clip((pcm.astype(np.float32) / 32768.0), sample_rate)
